/* The store's writer side against a real SQLite file: the schema and its
 * checks, alert events readable from a second connection, per-minute
 * aggregates that sum to their totals, the caps, retention, the size cap,
 * a full queue, and kill -9 at random moments. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/keys.h"
#include "harness.h"
#include "lib/cidr.h"
#include "lib/geo.h"
#include "store/store.h"

static char dir[] = "/tmp/dr_store_XXXXXX";
static char path[256];
static const int64_t T0 = 1700000040;	/* a minute's start */

static void fresh_path(const char *name)
{
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	char side[300];
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}

static struct dr_store *open_store(struct dr_store_config *c)
{
	char err[512] = "";
	struct dr_store *s = NULL;
	c->path = path;
	if (dr_store_open(&s, c, err, sizeof(err)) < 0) {
		fprintf(stderr, "open: %s\n", err);
		return NULL;
	}
	return s;
}

static sqlite3 *reader(void)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_busy_timeout(db, 5000);
	return db;
}

/* The first column of the first row, as an integer (-1: none or error). */
static long long q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
		return -1;
	}
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static const char *q_text(sqlite3 *db, const char *sql)
{
	static char buf[4096];
	sqlite3_stmt *st;
	buf[0] = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return "(error)";
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(buf, sizeof(buf), "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return buf;
}

/* A DNS message from src:sport to dst:dport at ts, len octets. */
static void dns_record(struct dr_record *r, double ts, const char *src, const char *dst,
		       unsigned sport, unsigned dport, const char *qname, unsigned qtype, int qr,
		       unsigned rcode, uint32_t len)
{
	uint8_t prefix;
	memset(r, 0, sizeof(*r));
	r->kind = DR_KIND_DNS;
	r->ts_sec = (int64_t)ts;
	r->ts_nsec = (uint32_t)((ts - (double)r->ts_sec) * 1e9);
	r->end_sec = r->ts_sec;
	r->end_nsec = r->ts_nsec;
	dr_cidr_parse(src, &r->family, r->src, &prefix);
	dr_cidr_parse(dst, &r->family, r->dst, &prefix);
	r->sport = (uint16_t)sport;
	r->dport = (uint16_t)dport;
	r->proto = 17;
	r->packets = 1;
	r->bytes = len + 28;
	r->ip_len = len + 28;
	r->payload_len = len;
	r->sampling = 1;
	r->dns.flags = (uint16_t)((qr ? 0x8000 : 0) | 0x0100 | (rcode & 0xf));
	r->dns.rcode_ext = (uint16_t)rcode;
	r->dns.len = (uint16_t)len;
	if (qname) {
		r->dns.has_question = 1;
		r->dns.qname_len = (uint8_t)dr_name_from_text(qname, r->dns.qname);
		r->dns.qtype = (uint16_t)qtype;
		r->dns.qclass = 1;
	}
	dr_keys_compute(r, &r->keys, NULL);
	/* the registered domain, as the PSL would give it: the last two labels */
	if (qname && r->keys.qname_len > 1) {
		int labels[128], n = 0;
		for (int at = 0; r->keys.qname[at]; at += r->keys.qname[at] + 1)
			labels[n++] = at;
		r->keys.zone = (int16_t)(n >= 2 ? labels[n - 2] : labels[0]);
		r->keys.zone_hash = dr_hash64(r->keys.qname + r->keys.zone,
					      r->keys.qname_len - (size_t)r->keys.zone);
	}
}

/* A flow record of packets packets and bytes octets, from an exporter. */
static void flow_record(struct dr_record *r, double ts, const char *src, const char *dst,
			uint64_t packets, uint64_t bytes, const char *exporter, int direction)
{
	uint8_t prefix, fam, addr[16];
	dns_record(r, ts, src, dst, 40000, 53, NULL, 0, 0, 0, 0);
	r->kind = DR_KIND_FLOW;
	r->packets = packets;
	r->bytes = bytes;
	r->direction = (uint8_t)direction;
	dr_cidr_parse(exporter, &fam, addr, &prefix);
	r->exporter[0] = fam;
	memcpy(r->exporter + 1, addr, fam == 4 ? 4 : 16);
}

static struct dr_alert make_alert(uint64_t id, const char *type, const char *key, double start,
				  double end)
{
	struct dr_alert a;
	memset(&a, 0, sizeof(a));
	a.id = id;
	a.type = type;
	snprintf(a.key, sizeof(a.key), "%s", key);
	a.start = start;
	a.detected = start + 2;
	a.end = end;
	a.severity = DR_SEV_HIGH;
	a.packets = 1000;
	a.bytes = 64000;
	a.peak_pps = 500;
	a.peak_bps = 256000;
	return a;
}

/* Polls sql on a second connection until it gives want, for at most 10 s
 * (a bound on a hang, not a duration under test). */
static int appears(const char *sql, long long want)
{
	for (int i = 0; i < 1000; i++) {
		sqlite3 *db = reader();
		long long v = db ? q_int(db, sql) : -1;
		sqlite3_close(db);
		if (v == want)
			return 1;
		usleep(10000);
	}
	return 0;
}

static void test_open_checks(void)
{
	struct dr_store_config c;
	dr_store_config_defaults(&c);
	fresh_path("open.db");
	struct dr_store *s = open_store(&c);
	CHECK(s != NULL);
	sqlite3 *db = reader();
	CHECK_STR(q_text(db, "PRAGMA journal_mode"), "wal");
	CHECK_EQ(q_int(db, "PRAGMA auto_vacuum"), 2);	/* incremental */
	CHECK_STR(q_text(db, "SELECT value FROM meta WHERE key = 'schema_version'"), "1");
	CHECK_EQ(q_int(db, "SELECT count(*) FROM runs WHERE stopped IS NULL"), 1);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"), 6);
	sqlite3_close(db);

	/* one service per file */
	char err[512] = "";
	struct dr_store *second = NULL;
	CHECK_EQ(dr_store_open(&second, &c, err, sizeof(err)), -1);
	CHECK(strstr(err, path) && strstr(err, "in use"));
	dr_store_close(s, "stopped");
	db = reader();
	CHECK_STR(q_text(db, "SELECT how FROM runs"), "stopped");
	CHECK_EQ(q_int(db, "SELECT count(*) FROM runs WHERE stopped IS NOT NULL"), 1);
	sqlite3_close(db);

	/* a file that is no database, one of another program, a newer schema */
	fresh_path("text.db");
	FILE *fp = fopen(path, "w");
	fputs("this is not a database, but it is long enough to look at its header.\n", fp);
	fclose(fp);
	CHECK_EQ(dr_store_open(&second, &c, err, sizeof(err)), -1);
	CHECK(strncmp(err, path, strlen(path)) == 0 && strstr(err, "not a dnsradar store"));
	fresh_path("foreign.db");
	sqlite3_open(path, &db);
	sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL);
	sqlite3_close(db);
	CHECK_EQ(dr_store_open(&second, &c, err, sizeof(err)), -1);
	CHECK(strstr(err, "not a dnsradar store") != NULL);
	fresh_path("newer.db");
	sqlite3_open(path, &db);
	sqlite3_exec(db, "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
		     "INSERT INTO meta VALUES('schema_version', '2')", NULL, NULL, NULL);
	sqlite3_close(db);
	CHECK_EQ(dr_store_open(&second, &c, err, sizeof(err)), -1);
	CHECK(strstr(err, "not a dnsradar store (or a newer schema 2") != NULL);
	CHECK(second == NULL);
}

static void test_events_committed(void)
{
	struct dr_store_config c;
	dr_store_config_defaults(&c);
	fresh_path("events.db");
	struct dr_store *s = open_store(&c);
	char err[256];
	CHECK_EQ(dr_store_start(s, err, sizeof(err)), 0);
	struct dr_alert a = make_alert(1, "flood", "192.0.2.7", (double)T0, (double)T0 + 5);
	dr_store_event(s, DR_EVENT_OPEN, &a);
	CHECK(appears("SELECT count(*) FROM events WHERE event = 'open' AND alert = 1", 1));
	CHECK(appears("SELECT count(*) FROM alerts WHERE state = 'open' AND key = '192.0.2.7'", 1));
	a.end += 20;
	a.packets = 5000;
	dr_store_event(s, DR_EVENT_UPDATE, &a);
	dr_store_event(s, DR_EVENT_CLOSE, &a);
	CHECK(appears("SELECT count(*) FROM alerts WHERE state = 'closed' AND packets = 5000", 1));
	CHECK(appears("SELECT count(*) FROM events", 3));
	sqlite3 *db = reader();
	CHECK_STR(q_text(db, "SELECT group_concat(event, ',') FROM (SELECT event FROM events"
			 " ORDER BY rowid)"), "open,update,close");
	const char *json = q_text(db, "SELECT json FROM alerts");
	CHECK(json[0] == '{' && strstr(json, "\"type\":\"flood\"") &&
	      strstr(json, "\"key\":\"192.0.2.7\""));
	CHECK_STR(q_text(db, "SELECT severity FROM alerts"), "high");
	sqlite3_close(db);
	struct dr_store_stats st;
	dr_store_stats(s, &st);
	CHECK_EQ(st.events, 3);
	CHECK_EQ(st.dropped_events, 0);
	dr_store_close(s, "signal SIGTERM");
	db = reader();
	CHECK_STR(q_text(db, "SELECT how FROM runs"), "signal SIGTERM");
	sqlite3_close(db);
}

/* Checks that every dimension of every minute sums to the minute's total,
 * in messages, packets and bytes; returns the minutes checked. */
static int check_sums(sqlite3 *db)
{
	static const char *const measures[] = {"messages", "packets", "bytes"};
	int bad = 0;
	for (int i = 0; i < 3; i++) {
		char sql[512];
		snprintf(sql, sizeof(sql),
			 "SELECT count(*) FROM (SELECT a.minute, a.dim, sum(a.%s) AS s,"
			 " (SELECT t.%s FROM agg t WHERE t.minute = a.minute AND t.dim = 'total') AS total"
			 " FROM agg a GROUP BY a.minute, a.dim) WHERE s <> total", measures[i], measures[i]);
		long long n = q_int(db, sql);
		if (n != 0) {
			fprintf(stderr, "%lld dimensions do not sum to the total in %s\n", n, measures[i]);
			bad++;
		}
	}
	CHECK_EQ(bad, 0);
	return (int)q_int(db, "SELECT count(*) FROM agg WHERE dim = 'total'");
}

static void test_aggregates(void)
{
	struct dr_store_config c;
	dr_store_config_defaults(&c);
	c.values[DR_STORE_TOP] = 5;
	c.values[DR_STORE_SAMPLE] = 50;
	fresh_path("agg.db");
	struct dr_store *s = open_store(&c);
	char err[256];
	CHECK_EQ(dr_store_start(s, err, sizeof(err)), 0);
	struct dr_record r;
	uint64_t heavy = 0, seen = 0;
	/* two minutes: a heavy source among 2,000 others, queries and
	 * responses, names under a few zones, flows from two exporters */
	for (int minute = 0; minute < 2; minute++) {
		for (int i = 0; i < 6000; i++) {
			double ts = (double)(T0 + minute * 60) + i * 0.01;
			char src[32], name[64];
			if (i % 3 == 0) {
				snprintf(src, sizeof(src), "198.51.100.9");
				heavy += minute == 0;
			} else {
				snprintf(src, sizeof(src), "10.%d.%d.1", i % 50, i / 50 % 40);
			}
			snprintf(name, sizeof(name), "h%d.zone%d.example", i, i % 7);
			if (i % 10 == 9)
				flow_record(&r, ts, src, "192.0.2.53", 10, 1500, i % 20 == 9 ? "203.0.113.1"
					    : "203.0.113.2", 1 + i % 2);
			else
				dns_record(&r, ts, src, "192.0.2.53", 1024 + i % 300, 53, name,
					   i % 4 ? 1 : 28, i % 2, i % 5 == 0 ? 3 : 0, 40 + i % 30);
			dr_store_record(s, &r);
			seen++;
		}
		dr_store_advance(s, T0 + minute * 60 + 61);
	}
	struct dr_store_stats st;
	dr_store_stats(s, &st);
	dr_store_close(s, "stopped");
	sqlite3 *db = reader();
	CHECK_EQ(check_sums(db), 2);
	CHECK_EQ(q_int(db, "SELECT messages FROM agg WHERE dim = 'total' AND minute = 1700000040"),
		 5400 + 600 * 10);	/* 5,400 messages and 600 flows of 10 packets */
	CHECK_EQ(q_int(db, "SELECT messages FROM agg WHERE minute = 1700000040 AND dim = 'src'"
		       " AND key = '198.51.100.9'"), 1800 + 200 * 10);
	/* the caps: at most top keys per dimension, besides (other) and (none) */
	CHECK_EQ(q_int(db, "SELECT max(n) FROM (SELECT count(*) AS n FROM agg WHERE key NOT IN"
		       " ('(other)', '(none)') GROUP BY minute, dim)"), 5);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM agg WHERE dim = 'src' AND key = '(other)'"), 2);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM agg WHERE dim = 'qname' AND key = '(none)'"
		       " AND messages = 6000"), 2);	/* the flows' */
	CHECK_EQ(q_int(db, "SELECT count(*) FROM agg WHERE dim = 'qtype' AND key = 'AAAA'"), 2);
	/* the flows' port, then four of the ports tied at 20 messages: the lowest */
	CHECK_STR(q_text(db, "SELECT group_concat(key) FROM (SELECT key FROM agg WHERE minute ="
			 " 1700000040 AND dim = 'sport' AND key <> '(other)' ORDER BY CAST(key AS INTEGER))"),
		  "1024,1025,1026,1027,40000");
	CHECK_EQ(q_int(db, "SELECT messages FROM agg WHERE minute = 1700000040 AND dim = 'rcode'"
		       " AND key = 'NXDOMAIN'"), 600);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM agg WHERE dim = 'zone' AND key LIKE 'zone_.example'"), 10);
	CHECK_EQ(q_int(db, "SELECT packets FROM agg WHERE minute = 1700000040 AND"
		       " dim = 'exporter' AND key = '203.0.113.1'"), 3000);
	CHECK_EQ(q_int(db, "SELECT messages FROM agg WHERE minute = 1700000040 AND"
		       " dim = 'direction' AND key = 'response'"), 2400);
	CHECK_EQ(q_int(db, "SELECT messages FROM agg WHERE minute = 1700000040 AND"
		       " dim = 'kind' AND key = 'flow'"), 6000);
	/* the sample: the cap a minute, weighing all the minute's records */
	CHECK_EQ(q_int(db, "SELECT max(n) FROM (SELECT count(*) AS n FROM records"
		       " GROUP BY CAST(ts / 60 AS INTEGER))"), 50);
	CHECK_EQ(q_int(db, "SELECT CAST(round(sum(weight)) AS INTEGER) FROM records"), (long long)seen);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM records WHERE why <> 'sample'"), 0);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM records WHERE kind = 'dns' AND (qname IS NULL"
		       " OR src_bin IS NULL OR length(src_bin) <> 5)"), 0);
	sqlite3_close(db);
	CHECK_EQ(st.dropped_batches, 0);
	CHECK_EQ(heavy, 2000);
}

static void test_alert_records(void)
{
	struct dr_store_config c;
	dr_store_config_defaults(&c);
	c.values[DR_STORE_ALERT_RECORDS] = 30;
	c.values[DR_STORE_SAMPLE] = 5;
	fresh_path("alertrec.db");
	struct dr_store *s = open_store(&c);
	struct dr_alert host = make_alert(1, "flood", "192.0.2.66", (double)T0, (double)T0);
	struct dr_alert zone = make_alert(2, "random_subdomain", "victim.example", (double)T0,
					  (double)T0);
	dr_store_event(s, DR_EVENT_OPEN, &host);
	dr_store_event(s, DR_EVENT_OPEN, &zone);
	struct dr_record r;
	for (int i = 0; i < 100; i++) {
		double ts = (double)T0 + i * 0.1;
		/* 20 to the host, 10 under the zone (one in upper case), 5
		 * under a name that only ends like it, 65 others */
		if (i < 20)
			dns_record(&r, ts, "10.0.0.1", "192.0.2.66", 5000, 53, "a.test", 1, 0, 0, 40);
		else if (i < 29)
			dns_record(&r, ts, "10.0.0.2", "192.0.2.1", 5000, 53, "x1.victim.example", 1, 0, 0, 40);
		else if (i < 30)
			dns_record(&r, ts, "10.0.0.2", "192.0.2.1", 5000, 53, "Q.VICTIM.example", 1, 0, 0, 40);
		else if (i < 35)
			dns_record(&r, ts, "10.0.0.2", "192.0.2.1", 5000, 53, "notvictim.example", 1, 0, 0, 40);
		else
			dns_record(&r, ts, "10.0.0.3", "192.0.2.1", 5000, 53, "b.test", 1, 0, 0, 40);
		dr_store_record(s, &r);
	}
	/* the next minute: over the cap, then the host's alert closes */
	for (int i = 0; i < 40; i++) {
		dns_record(&r, (double)T0 + 60 + i * 0.1, "192.0.2.66", "10.0.0.1", 53, 5000,
			   "a.test", 1, 1, 0, 80);
		dr_store_record(s, &r);
	}
	dr_store_event(s, DR_EVENT_CLOSE, &host);
	for (int i = 0; i < 10; i++) {
		dns_record(&r, (double)T0 + 70 + i * 0.1, "192.0.2.66", "10.0.0.1", 53, 5000,
			   "a.test", 1, 1, 0, 80);
		dr_store_record(s, &r);
	}
	dr_store_advance(s, T0 + 200);
	dr_store_close(s, "stopped");	/* never started: close writes it all */
	sqlite3 *db = reader();
	CHECK_EQ(q_int(db, "SELECT count(*) FROM records WHERE why = 'alert' AND ts < 1700000100"), 30);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM records WHERE why = 'alert' AND dst = '192.0.2.66'"), 20);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM records WHERE why = 'alert' AND zone = 'victim.example'"), 10);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM records WHERE why = 'alert' AND qname = 'Q.VICTIM.example'"), 1);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM records WHERE why = 'alert' AND qname = 'notvictim.example'"), 0);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM records WHERE why = 'alert' AND weight = 1"), 60);
	/* the second minute: 30 of the 40 before the close; none after */
	CHECK_EQ(q_int(db, "SELECT count(*) FROM records WHERE why = 'alert' AND ts >= 1700000100"), 30);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM records WHERE why = 'sample' AND ts >= 1700000110"), 5);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM records WHERE why = 'sample' AND ts < 1700000100"), 5);
	CHECK_EQ(q_int(db, "SELECT CAST(round(sum(weight)) AS INTEGER) FROM records WHERE why = 'sample'"
		       " AND ts < 1700000100"), 70);
	sqlite3_close(db);
}

static void test_retention(void)
{
	struct dr_store_config c;
	dr_store_config_defaults(&c);
	c.values[DR_STORE_RETENTION] = 1;
	fresh_path("retention.db");
	struct dr_store *s = open_store(&c);
	char err[256];
	CHECK_EQ(dr_store_start(s, err, sizeof(err)), 0);
	struct dr_record r;
	struct dr_alert old = make_alert(1, "flood", "192.0.2.1", (double)T0, (double)T0 + 10);
	struct dr_alert open_one = make_alert(2, "flood", "192.0.2.2", (double)T0, (double)T0 + 10);
	dr_store_event(s, DR_EVENT_OPEN, &old);
	dr_store_event(s, DR_EVENT_CLOSE, &old);
	dr_store_event(s, DR_EVENT_OPEN, &open_one);
	for (int i = 0; i < 10; i++) {
		dns_record(&r, (double)T0 + i, "10.0.0.1", "192.0.2.9", 5000, 53, "a.test", 1, 0, 0, 40);
		dr_store_record(s, &r);
	}
	dr_store_advance(s, T0 + 61);
	CHECK(appears("SELECT count(*) FROM agg WHERE dim = 'total'", 1));
	/* a day and a half later (engine time) */
	int64_t later = T0 + 36 * 3600;
	for (int i = 0; i < 10; i++) {
		dns_record(&r, (double)later + i, "10.0.0.1", "192.0.2.9", 5000, 53, "a.test", 1, 0, 0, 40);
		dr_store_record(s, &r);
	}
	dr_store_advance(s, later + 61);
	CHECK(appears("SELECT count(*) FROM agg WHERE dim = 'total'", 1));
	dr_store_close(s, "stopped");
	sqlite3 *db = reader();
	CHECK_EQ(q_int(db, "SELECT min(minute) FROM agg"), later);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM records WHERE ts < 1700000100"), 0);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM records"), 10);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM alerts"), 1);	/* the open one stays */
	CHECK_EQ(q_int(db, "SELECT id FROM alerts"), 2);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM events WHERE alert = 1"), 0);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM events WHERE alert = 2"), 1);
	sqlite3_close(db);
}

static void test_size_cap(void)
{
	struct dr_store_config c;
	dr_store_config_defaults(&c);
	c.values[DR_STORE_MAX_SIZE] = 1;	/* MiB */
	c.values[DR_STORE_SAMPLE] = 1000;
	fresh_path("size.db");
	struct dr_store *s = open_store(&c);
	char err[256];
	CHECK_EQ(dr_store_start(s, err, sizeof(err)), 0);
	struct dr_record r;
	int minutes = 40;
	for (int m = 0; m < minutes; m++) {
		for (int i = 0; i < 3000; i++) {
			char name[128], src[32];
			snprintf(name, sizeof(name), "a-rather-long-label-%d-%d.www.flood%d.example", m, i, i % 13);
			snprintf(src, sizeof(src), "10.%d.%d.%d", m, i / 250, i % 250);
			dns_record(&r, (double)(T0 + m * 60) + i * 0.02, src, "192.0.2.53", 1024 + i, 53,
				   name, 16, 0, 0, 100);
			dr_store_record(s, &r);
		}
		dr_store_advance(s, T0 + m * 60 + 60);
	}
	struct dr_store_stats st;
	dr_store_close(s, "stopped");
	struct stat sb;
	CHECK_EQ(stat(path, &sb), 0);
	/* one minute's worth may come on top of the cap before it is checked */
	CHECK(sb.st_size <= 1048576 + 300 * 1024);
	if (sb.st_size > 1048576 + 300 * 1024)
		fprintf(stderr, "file: %lld octets\n", (long long)sb.st_size);
	sqlite3 *db = reader();
	/* the newest minute is there, the oldest went first */
	long long newest = T0 + (minutes - 1) * 60;
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM records WHERE ts >= %lld", newest);
	CHECK_EQ(q_int(db, sql), 1000);
	CHECK(q_int(db, "SELECT min(ts) FROM records") > T0 + 60);
	CHECK_EQ(q_int(db, "SELECT max(minute) FROM agg"), newest);
	CHECK_STR(q_text(db, "PRAGMA integrity_check"), "ok");
	sqlite3_close(db);
	(void)st;
}

static void test_queue_overflow(void)
{
	struct dr_store_config c;
	dr_store_config_defaults(&c);
	c.values[DR_STORE_QUEUE] = 2;
	fresh_path("queue.db");
	struct dr_store *s = open_store(&c);
	/* no writer yet. Alert events have a queue of their own, far larger
	 * than store.queue: a burst of them is kept whole */
	for (uint64_t id = 1; id <= 5; id++) {
		struct dr_alert a = make_alert(id, "loop", "192.0.2.5", (double)T0, (double)T0);
		dr_store_event(s, DR_EVENT_OPEN, &a);
	}
	struct dr_store_stats st;
	dr_store_stats(s, &st);
	CHECK_EQ(st.queue_depth, 5);
	CHECK_EQ(st.queue_cap, 2);
	CHECK_EQ(st.dropped_batches, 0);
	CHECK_EQ(st.dropped_events, 0);
	/* minutes fill store.queue; the third is dropped, counted */
	struct dr_record r;
	for (int m = 0; m < 3; m++) {
		dns_record(&r, (double)T0 + m * 60, "10.0.0.1", "192.0.2.9", 5000, 53, "a.test", 1,
			   0, 0, 40);
		dr_store_record(s, &r);
		dr_store_advance(s, T0 + m * 60 + 60);
	}
	dr_store_stats(s, &st);
	CHECK_EQ(st.queue_depth, 7);
	CHECK_EQ(st.dropped_batches, 1);
	CHECK_EQ(st.dropped_events, 0);
	double v[DR_STORE_NPARAMS];
	memcpy(v, c.values, sizeof(v));
	v[DR_STORE_QUEUE] = 10;
	char err[256] = "";
	CHECK_EQ(dr_store_reconfigure(s, v, err, sizeof(err)), -1);
	CHECK(strstr(err, "store.queue") != NULL);
	/* the queue stays as it was, and still full */
	dns_record(&r, (double)T0 + 190, "10.0.0.1", "192.0.2.9", 5000, 53, "a.test", 1, 0, 0, 40);
	dr_store_record(s, &r);
	dr_store_advance(s, T0 + 240);
	dr_store_stats(s, &st);
	CHECK_EQ(st.queue_cap, 2);
	CHECK_EQ(st.dropped_batches, 2);
	dr_store_close(s, "stopped");
	sqlite3 *db = reader();
	CHECK_EQ(q_int(db, "SELECT count(*) FROM events"), 5);
	CHECK_EQ(q_int(db, "SELECT count(DISTINCT minute) FROM agg"), 2);
	sqlite3_close(db);
}

/* Country and AS of the sources, from MaxMind's test databases: the
 * country and asn dimensions and the records' columns. */
static void test_geo(void)
{
	const char *shared = getenv("DR_SHARED");
	char cpath[512], apath[512], err[512];
	snprintf(cpath, sizeof(cpath), "%s/data/maxmind-db/GeoIP2-Country-Test.mmdb",
		 shared ? shared : "../shared");
	snprintf(apath, sizeof(apath), "%s/data/maxmind-db/GeoLite2-ASN-Test.mmdb",
		 shared ? shared : "../shared");
	struct dr_geo geo = {0};
	if (access(cpath, R_OK) != 0 || access(apath, R_OK) != 0) {
		printf("SKIP test_geo: %s or %s is absent\n", cpath, apath);
		return;
	}
	CHECK_EQ(dr_geo_open(&geo, "country", cpath, err, sizeof(err)), 0);
	CHECK_EQ(dr_geo_open(&geo, "asn", apath, err, sizeof(err)), 0);
	struct dr_store_config c;
	dr_store_config_defaults(&c);
	c.geo = &geo;
	fresh_path("geo.db");
	struct dr_store *s = open_store(&c);
	static const struct { const char *src; int n; } from[] = {
		{"81.2.69.150", 30},	/* GB */
		{"89.160.20.135", 20},	/* SE */
		{"1.0.0.5", 10},	/* AS15169 */
		{"10.0.0.1", 5},	/* in neither */
	};
	struct dr_record r;
	double ts = (double)T0;
	for (unsigned f = 0; f < sizeof(from) / sizeof(from[0]); f++)
		for (int i = 0; i < from[f].n; i++) {
			dns_record(&r, ts += 0.1, from[f].src, "192.0.2.53", 1234, 53, "a.test", 1, 0, 0, 40);
			dr_store_record(s, &r);
		}
	dr_store_close(s, "stopped");
	dr_geo_close(&geo);
	sqlite3 *db = reader();
	CHECK_EQ(q_int(db, "SELECT messages FROM agg WHERE dim = 'country' AND key = 'GB'"), 30);
	CHECK_EQ(q_int(db, "SELECT messages FROM agg WHERE dim = 'country' AND key = 'SE'"), 20);
	CHECK_EQ(q_int(db, "SELECT messages FROM agg WHERE dim = 'asn' AND key = '15169'"), 10);
	CHECK(q_int(db, "SELECT messages FROM agg WHERE dim = 'asn' AND key = '(none)'") >= 5);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM records WHERE country = 'GB' AND src = '81.2.69.150'"), 30);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM records WHERE asn = 15169"), 10);
	CHECK_EQ(check_sums(db), 1);
	sqlite3_close(db);
}

/* A full disk, as a file size limit (RLIMIT_FSIZE) in a child: the
 * transactions that do not fit fail and are counted with the reason, the
 * service goes on, and the file stays sound. */
static void test_disk_full(void)
{
	fresh_path("full.db");
	int p[2];
	if (pipe(p) < 0) {
		CHECK(0);
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		struct dr_store_config c;
		dr_store_config_defaults(&c);
		c.values[DR_STORE_SAMPLE] = 5000;
		struct dr_store *s = open_store(&c);
		char err[256];
		if (!s || dr_store_start(s, err, sizeof(err)) < 0)
			_exit(3);
		signal(SIGXFSZ, SIG_IGN);
		struct rlimit lim = {256 * 1024, 256 * 1024};
		setrlimit(RLIMIT_FSIZE, &lim);
		struct dr_record r;
		for (int m = 0; m < 10; m++) {
			for (int i = 0; i < 5000; i++) {
				char name[96];
				snprintf(name, sizeof(name), "label-%d-%d.padding-padding.example", m, i);
				dns_record(&r, (double)(T0 + m * 60) + i * 0.01, "10.0.0.1", "192.0.2.1",
					   1024 + i, 53, name, 1, 0, 0, 60);
				dr_store_record(s, &r);
			}
			dr_store_advance(s, T0 + m * 60 + 60);
		}
		struct dr_alert a = make_alert(1, "flood", "192.0.2.1", (double)T0, (double)T0);
		dr_store_event(s, DR_EVENT_OPEN, &a);
		struct dr_store_stats st;
		for (int w = 0; w < 10000; w++) {
			dr_store_stats(s, &st);
			if (st.events + st.write_errors >= 11)	/* ten minutes and the event */
				break;
			usleep(1000);
		}
		char line[512];
		int n = snprintf(line, sizeof(line), "%llu %llu %s\n",
				 (unsigned long long)st.write_errors, (unsigned long long)st.minutes,
				 st.last_error);
		if (write(p[1], line, (size_t)n) != n)
			_exit(4);
		dr_store_close(s, "stopped");
		_exit(0);
	}
	close(p[1]);
	char buf[1024] = "";
	ssize_t n = 0, got;
	while ((size_t)n < sizeof(buf) - 1 && (got = read(p[0], buf + n, sizeof(buf) - 1 - (size_t)n)) > 0)
		n += got;
	close(p[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	unsigned long long errors = 0, minutes = 0;
	CHECK(sscanf(buf, "%llu %llu", &errors, &minutes) == 2);
	CHECK(errors > 0);
	CHECK(minutes < 10);
	CHECK(strstr(buf, path) != NULL);	/* last_error names the file */
	if (getenv("DR_TEST_VERBOSE"))
		fprintf(stderr, "disk full: %s", buf);
	sqlite3 *db = reader();
	CHECK_STR(q_text(db, "PRAGMA integrity_check"), "ok");
	/* the small transaction after the failed ones went through */
	CHECK_EQ(q_int(db, "SELECT count(*) FROM events"), 1);
	sqlite3_close(db);
}

/* Reloaded caps apply from the next minute; the minute under way keeps
 * the old ones. */
static void test_reconfigure(void)
{
	struct dr_store_config c;
	dr_store_config_defaults(&c);
	c.values[DR_STORE_TOP] = 5;
	c.values[DR_STORE_SAMPLE] = 20;
	fresh_path("reload.db");
	struct dr_store *s = open_store(&c);
	struct dr_record r;
	for (int m = 0; m < 2; m++) {
		for (int i = 0; i < 200; i++) {
			char src[32];
			snprintf(src, sizeof(src), "10.0.%d.%d", m, i % 50);
			dns_record(&r, (double)(T0 + m * 60) + i * 0.1, src, "192.0.2.1", 5000, 53,
				   "a.test", 1, 0, 0, 40);
			dr_store_record(s, &r);
			if (m == 0 && i == 100) {
				double v[DR_STORE_NPARAMS];
				memcpy(v, c.values, sizeof(v));
				v[DR_STORE_TOP] = 2;
				v[DR_STORE_SAMPLE] = 3;
				char err[256];
				CHECK_EQ(dr_store_reconfigure(s, v, err, sizeof(err)), 0);
			}
		}
	}
	dr_store_close(s, "stopped");
	sqlite3 *db = reader();
	CHECK_EQ(q_int(db, "SELECT count(*) FROM agg WHERE minute = 1700000040 AND dim = 'src'"
		       " AND key <> '(other)'"), 5);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM agg WHERE minute = 1700000100 AND dim = 'src'"
		       " AND key <> '(other)'"), 2);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM records WHERE ts < 1700000100"), 20);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM records WHERE ts >= 1700000100"), 3);
	CHECK_EQ(check_sums(db), 2);
	sqlite3_close(db);
}

/* The child of the crash test: writes alert events, records and minutes
 * as fast as it can, and after each event it knows committed (the
 * writer's count has reached it) writes "run id" to fd. */
static void crash_child(int fd, int round)
{
	struct dr_store_config c;
	dr_store_config_defaults(&c);
	c.values[DR_STORE_SAMPLE] = 200;
	c.path = path;
	struct dr_store *s = NULL;
	char err[512];
	if (dr_store_open(&s, &c, err, sizeof(err)) < 0 || dr_store_start(s, err, sizeof(err)) < 0) {
		fprintf(stderr, "child: %s\n", err);
		_exit(3);
	}
	sqlite3 *db = reader();
	long long run = q_int(db, "SELECT max(id) FROM runs");
	sqlite3_close(db);
	struct dr_record r;
	int64_t t = T0 + round * 86400;
	for (uint64_t id = 1; id < 100000; id++) {
		char key[32];
		snprintf(key, sizeof(key), "198.51.%d.%d", (int)(id / 250 % 250), (int)(id % 250));
		struct dr_alert a = make_alert(id, "reflection", key, (double)t, (double)t + 1);
		dr_store_event(s, DR_EVENT_OPEN, &a);
		for (int i = 0; i < 300; i++) {
			char src[32];
			snprintf(src, sizeof(src), "10.0.%d.%d", i % 200, (int)(id % 200));
			dns_record(&r, (double)t + i * 0.05, i % 10 ? src : key, "192.0.2.53", 3000 + i,
				   53, "www.example.com", 1, 0, 0, 50);
			dr_store_record(s, &r);
		}
		t += 20;
		dr_store_advance(s, t);
		struct dr_store_stats st;
		for (int w = 0; w < 5000; w++) {
			dr_store_stats(s, &st);
			if (st.events + st.dropped_events >= id)
				break;
			usleep(1000);
		}
		if (st.events >= id && st.dropped_events == 0) {
			char line[64];
			int n = snprintf(line, sizeof(line), "%lld %llu\n", run, (unsigned long long)id);
			if (write(fd, line, (size_t)n) != n)
				_exit(4);
		}
	}
	_exit(0);
}

static void test_crash(void)
{
	fresh_path("crash.db");
	srand(12345);
	int kills = 0;
	for (int round = 0; round < 5; round++) {
		int p[2];
		if (pipe(p) < 0) {
			CHECK(0);
			return;
		}
		fflush(NULL);
		pid_t pid = fork();
		if (pid == 0) {
			close(p[0]);
			crash_child(p[1], round);
		}
		close(p[1]);
		/* a random moment once the child has committed something */
		struct pollfd pfd = {.fd = p[0], .events = POLLIN};
		CHECK_EQ(poll(&pfd, 1, 20000), 1);
		usleep((useconds_t)(rand() % 300000));
		kill(pid, SIGKILL);
		int status = 0;
		waitpid(pid, &status, 0);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		kills += WIFSIGNALED(status);
		static char buf[1 << 20];
		size_t len = 0;
		ssize_t n;
		while (len < sizeof(buf) - 1 && (n = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0)
			len += (size_t)n;
		close(p[0]);
		buf[len] = 0;
		/* the last whole line: the last event known committed */
		long long run = -1;
		unsigned long long last = 0;
		for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
			long long r0;
			unsigned long long id;
			if (strlen(line) && sscanf(line, "%lld %llu", &r0, &id) == 2 &&
			    line + strlen(line) < buf + len) {
				run = r0;
				last = id;
			}
		}
		sqlite3 *db = reader();
		CHECK(db != NULL);
		CHECK_STR(q_text(db, "PRAGMA integrity_check"), "ok");
		if (run > 0) {
			char sql[256];
			snprintf(sql, sizeof(sql), "SELECT count(DISTINCT alert) FROM events WHERE"
				 " run = %lld AND alert <= %llu", run, last);
			CHECK_EQ(q_int(db, sql), (long long)last);
			snprintf(sql, sizeof(sql), "SELECT count(*) FROM alerts WHERE run = %lld"
				 " AND id <= %llu", run, last);
			CHECK_EQ(q_int(db, sql), (long long)last);
		} else {
			fprintf(stderr, "round %d: no commit reported before the kill\n", round);
		}
		CHECK(last > 0);
		if (getenv("DR_TEST_VERBOSE"))
			fprintf(stderr, "round %d: run %lld, events 1..%llu committed before the kill\n", round, run, last);
		sqlite3_close(db);
	}
	/* a restart on the same file carries on */
	struct dr_store_config c;
	dr_store_config_defaults(&c);
	struct dr_store *s = open_store(&c);
	CHECK(s != NULL);
	if (!s)
		return;
	sqlite3 *db = reader();
	CHECK_EQ(q_int(db, "SELECT count(*) FROM alerts WHERE state = 'open'"), 0);
	CHECK(q_int(db, "SELECT count(*) FROM alerts WHERE state = 'interrupted'") > 0);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM runs WHERE how = 'interrupted'"), kills);
	sqlite3_close(db);
	struct dr_alert a = make_alert(1, "flood", "192.0.2.200", (double)T0, (double)T0);
	dr_store_event(s, DR_EVENT_OPEN, &a);
	dr_store_close(s, "stopped");
	db = reader();
	CHECK_EQ(q_int(db, "SELECT count(*) FROM alerts WHERE key = '192.0.2.200' AND state = 'open'"
		       " AND run = (SELECT max(id) FROM runs)"), 1);
	CHECK_STR(q_text(db, "PRAGMA integrity_check"), "ok");
	sqlite3_close(db);
}

static void cleanup(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_open_checks);
	RUN(test_events_committed);
	RUN(test_aggregates);
	RUN(test_alert_records);
	RUN(test_retention);
	RUN(test_size_cap);
	RUN(test_queue_overflow);
	RUN(test_reconfigure);
	RUN(test_geo);
	RUN(test_disk_full);
	RUN(test_crash);
	cleanup();
	TEST_MAIN_END();
}
