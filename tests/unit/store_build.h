/* Builds a store for the reader's tests the way the writer lays it out
 * (schema.h), without the writer: the schema executed, rows inserted. */
#ifndef DR_TEST_STORE_BUILD_H
#define DR_TEST_STORE_BUILD_H

#include <arpa/inet.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/schema.h"

#define T0 1796083200.0	/* 2026-12-01T00:00:00Z, a minute's start */

static void sb_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "store_build: %s: %s\n", sql, msg);
		exit(1);
	}
}

static void sb_alert(sqlite3 *db, int id, const char *type, const char *key, const char *state,
		     double start, double end)
{
	char json[512], sql[1024];
	snprintf(json, sizeof(json), "{\"type\":\"%s\",\"key\":\"%s\",\"start\":%.1f,\"end\":%.1f,"
		 "\"severity\":\"high\",\"packets\":10,\"bytes\":1000,\"peak_pps\":5,"
		 "\"peak_bps\":4000,\"evidence\":{},\"detected\":%.1f}", type, key, start, end,
		 start + 2);
	snprintf(sql, sizeof(sql), "INSERT INTO alerts VALUES(1, %d, '%s', '%s', '%s', %f, %f, %f,"
		 " 'high', 10, 1000, 5, 4000, %f, '%s')", id, type, key, state, start, end,
		 start + 2, end, json);
	sb_exec(db, sql);
}

static void sb_agg(sqlite3 *db, double minute, const char *dim, const char *key, int messages,
		   int packets, int bytes)
{
	char sql[512];
	snprintf(sql, sizeof(sql), "INSERT INTO agg VALUES(%.0f, '%s', '%s', %d, %d, %d)", minute,
		 dim, key, messages, packets, bytes);
	sb_exec(db, sql);
}

/* The key of an address: the family, then its octets. */
static int sb_addr_key(const char *text, uint8_t *key)
{
	if (inet_pton(AF_INET, text, key + 1) == 1) {
		key[0] = 4;
		return 5;
	}
	if (inet_pton(AF_INET6, text, key + 1) == 1) {
		key[0] = 6;
		return 17;
	}
	return -1;
}

/* One DNS message record; qname may be NULL (then qtype is NULL too). */
static void sb_record(sqlite3 *db, double ts, const char *src, int sport, const char *dst,
		      int dport, int qr, int rcode, const char *qname, int qtype, int len,
		      const char *why, double weight)
{
	sqlite3_stmt *st;
	uint8_t skey[17], dkey[17];
	int sl = sb_addr_key(src, skey), dl = sb_addr_key(dst, dkey);
	if (sqlite3_prepare_v2(db, "INSERT INTO records(ts, kind, src, src_bin, sport, dst, dst_bin,"
			       " dport, proto, id, qr, opcode, rcode, aa, tc, rd, ra, qname, zone,"
			       " qtype, qclass, an, ns, ar, len, edns_udp, do, malformed, packets,"
			       " bytes, country, asn, why, weight) VALUES(?, 'dns', ?, ?, ?, ?, ?, ?,"
			       " 17, 4660, ?, 0, ?, 0, 0, 1, 0, ?, NULL, ?, 1, 0, 0, 0, ?, NULL, 0,"
			       " ?, 1, ?, 'NL', 64500, ?, ?)", -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "store_build: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	sqlite3_bind_double(st, 1, ts);
	sqlite3_bind_text(st, 2, src, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, skey, sl, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, sport);
	sqlite3_bind_text(st, 5, dst, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 6, dkey, dl, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, dport);
	sqlite3_bind_int(st, 8, qr);
	sqlite3_bind_int(st, 9, rcode);
	if (qname) {
		sqlite3_bind_text(st, 10, qname, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 11, qtype);
	}
	sqlite3_bind_int(st, 12, len);
	if (qtype == 0 && qname)
		sqlite3_bind_text(st, 13, "qtype0", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 14, len + 28);
	sqlite3_bind_text(st, 15, why, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 16, weight);
	if (sqlite3_step(st) != SQLITE_DONE) {
		fprintf(stderr, "store_build: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	sqlite3_finalize(st);
}

/* The store every reader test uses, at path:
 * alerts: reflection (open, T0+10..T0+100), loop (closed, T0+200..T0+300),
 *   flood (interrupted, T0+3600..T0+3700);
 * agg: minutes T0 and T0+60 with src 192.0.2.1 (10+5), 198.51.100.7
 *   (20+1), (other) 3+0; total 33+6; qtype 1 (A) and 28 (AAAA);
 * records: 192.0.2.1:22772 <-> 203.0.113.53:53 (a loop: FORMERR), names
 *   under example.com, one v6, weighted samples. */
static void sb_build(const char *path)
{
	sqlite3 *db;
	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		exit(1);
	sb_exec(db, "PRAGMA journal_mode=WAL");
	sb_exec(db, DR_STORE_SCHEMA);
	sb_exec(db, "INSERT INTO meta VALUES('schema_version', '1')");
	sb_exec(db, "BEGIN");
	sb_alert(db, 1, "reflection", "192.0.2.1", "open", T0 + 10, T0 + 100);
	sb_alert(db, 2, "loop", "203.0.113.9", "closed", T0 + 200, T0 + 300);
	sb_alert(db, 3, "flood", "198.51.100.7", "interrupted", T0 + 3600, T0 + 3700);
	sb_agg(db, T0, "total", "total", 33, 33, 3300);
	sb_agg(db, T0, "src", "192.0.2.1", 10, 10, 1000);
	sb_agg(db, T0, "src", "198.51.100.7", 20, 20, 2000);
	sb_agg(db, T0, "src", "(other)", 3, 3, 300);
	sb_agg(db, T0, "qtype", "1", 30, 30, 3000);
	sb_agg(db, T0, "qtype", "28", 3, 3, 300);
	sb_agg(db, T0 + 60, "total", "total", 6, 6, 600);
	sb_agg(db, T0 + 60, "src", "192.0.2.1", 5, 5, 500);
	sb_agg(db, T0 + 60, "src", "198.51.100.7", 1, 1, 100);
	sb_agg(db, T0 + 60, "qtype", "1", 6, 6, 600);
	sb_record(db, T0 + 1.5, "192.0.2.1", 22772, "203.0.113.53", 53, 0, 0, "x.example.com", 0,
		  40, "alert", 1);
	sb_record(db, T0 + 1.0, "203.0.113.53", 53, "192.0.2.1", 22772, 1, 1, "x.example.com", 0,
		  40, "alert", 1);
	sb_record(db, T0 + 2.0, "192.0.2.1", 22772, "203.0.113.53", 53, 1, 0, "WWW.Example.COM",
		  1, 52, "alert", 1);
	sb_record(db, T0 + 3.0, "192.0.2.77", 4000, "203.0.113.53", 53, 0, 0, "badexample.com",
		  1, 60, "sample", 10);
	sb_record(db, T0 + 4.0, "2001:db8::1", 5000, "2001:db8::53", 53, 0, 3, "example.com", 28,
		  70, "sample", 10);
	sb_record(db, T0 + 4000, "192.0.2.1", 22772, "203.0.113.53", 53, 0, 0, "late.example.com",
		  1, 40, "sample", 2);
	sb_exec(db, "COMMIT");
	sqlite3_close(db);
}

#endif
