/* The store's writer side, as the detection thread sees it: the SQLite
 * file and its schema, opened and closed; what a record and an alert event
 * hand over (the minute being gathered, the keys under open alerts whose
 * records are all kept) to the writer thread's queue (writer.c). */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "core/keys.h"
#include "decode/dns.h"
#include "lib/cidr.h"
#include "lib/errors.h"
#include "lib/geo.h"
#include "lib/now.h"
#include "lib/outbuf.h"
#include "report/alerts.h"
#include "store/minute.h"
#include "store/schema.h"

const struct dr_param dr_store_params[DR_STORE_NPARAMS] = {
	[DR_STORE_RETENTION] = {"retention", 30, "days alerts, aggregates and records are kept",
				.kind = DR_PARAM_COUNT, .unit = "days", .min = 1, .max = 36500},
	[DR_STORE_MAX_SIZE] = {"max_size", 1024, "MiB the database file may take; the oldest records, then aggregates, go first",
			       .kind = DR_PARAM_COUNT, .unit = "MiB", .min = 1, .max = 1048576},
	[DR_STORE_TOP] = {"top", 100, "keys kept per dimension per minute (the rest is '(other)')",
			  .kind = DR_PARAM_COUNT, .unit = "keys", .min = 1, .max = 10000},
	[DR_STORE_SAMPLE] = {"sample", 1000, "records a minute kept as a sample of those under no alert",
			     .kind = DR_PARAM_COUNT, .unit = "records", .min = 0, .max = 1000000},
	[DR_STORE_ALERT_RECORDS] = {"alert_records", 100000, "records a minute kept of hosts and zones under an open alert",
				    .kind = DR_PARAM_COUNT, .unit = "records", .min = 0, .max = 100000000},
	[DR_STORE_QUEUE] = {"queue", 256, "batches the writer may fall behind before new ones are dropped (needs a restart)",
			    .kind = DR_PARAM_COUNT, .unit = "batches", .min = 1, .max = 65536},
};

void dr_store_config_defaults(struct dr_store_config *c)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < DR_STORE_NPARAMS; i++)
		c->values[i] = dr_store_params[i].def;
	c->version = DR_VERSION;
}

/* Records under an alert travel to the writer in chunks of this many, and
 * at least once a second (dr_store_advance). */
static void fmt_err(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fmt_err(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (buf && len)
		vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* The detection thread's side */

/* A batch lost before it reached the queue (out of memory) counts as
 * dropped too. */
static void count_dropped(struct dr_store *s, int event)
{
	pthread_mutex_lock(&s->lock);
	s->st.dropped_batches++;
	s->st.dropped_events += event != 0;
	pthread_mutex_unlock(&s->lock);
}

static void hand_chunk(struct dr_store *s)
{
	if (!s->nchunk)
		return;
	struct batch *b = calloc(1, sizeof(*b));
	if (!b) {
		count_dropped(s, 0);
		s->nchunk = 0;
		return;
	}
	b->type = BATCH_RECORDS;
	b->rows = s->chunk;
	b->nrows = s->nchunk;
	s->chunk = NULL;
	s->nchunk = 0;
	dr_store_enqueue(s, b);
}

/* Settings reloaded since the last minute: the minute's tables are sized
 * anew while empty. */
static void apply_pending(struct dr_store *s)
{
	if (!s->have_pending)
		return;
	s->have_pending = 0;
	uint32_t top = (uint32_t)s->pending[DR_STORE_TOP];
	uint32_t sample = (uint32_t)s->pending[DR_STORE_SAMPLE];
	if (top != s->m.top || sample != s->m.sample_cap) {
		struct dr_minute fresh;
		if (dr_minute_init(&fresh, top, sample) < 0) {
			pthread_mutex_lock(&s->lock);
			snprintf(s->st.last_error, sizeof(s->st.last_error),
				 "%s: store.top/store.sample: out of memory; the old values stay",
				 s->path);
			pthread_mutex_unlock(&s->lock);
			return;
		}
		dr_minute_fini(&s->m);
		s->m = fresh;
	}
	memcpy(s->values, s->pending, sizeof(s->values));
}

static void hand_minute(struct dr_store *s)
{
	if (!s->m.active)
		return;
	struct dr_store_minute *mb = dr_minute_take(&s->m);
	struct batch *b = mb ? calloc(1, sizeof(*b)) : NULL;
	s->alert_kept = 0;
	pthread_mutex_lock(&s->lock);
	s->st.records_skipped += s->skipped;
	pthread_mutex_unlock(&s->lock);
	s->skipped = 0;
	if (!b) {
		dr_store_minute_free(mb);
		count_dropped(s, 0);
	} else {
		b->type = BATCH_MINUTE;
		b->minute = mb;
		hand_chunk(s);	/* the minute's records go before its aggregates */
		dr_store_enqueue(s, b);
	}
	apply_pending(s);
}

static inline uint32_t key_slot(uint64_t hash)
{
	return (uint32_t)(hash >> 20) & (KEY_SLOTS - 1);
}

static int addr_find(const struct dr_store *s, const uint8_t *b, uint32_t len, uint64_t hash)
{
	for (uint32_t i = key_slot(hash);; i = (i + 1) & (KEY_SLOTS - 1)) {
		uint16_t v = s->slots[i];
		if (!v)
			return -1;
		const struct addr_key *k = &s->addrs[v - 1];
		if (k->hash == hash && k->len == len && memcmp(k->b, b, len) == 0)
			return v - 1;
	}
}

static void addr_index(struct dr_store *s)
{
	memset(s->slots, 0, sizeof(s->slots));
	for (uint32_t n = 0; n < s->naddrs; n++) {
		uint32_t i = key_slot(s->addrs[n].hash);
		while (s->slots[i])
			i = (i + 1) & (KEY_SLOTS - 1);
		s->slots[i] = (uint16_t)(n + 1);
	}
}

/* An alert's key joins (d = 1) or leaves (d = -1) the keys whose records
 * are all kept: an address, or for random_subdomain a zone. */
static void key_update(struct dr_store *s, const struct dr_alert *a, int d)
{
	uint8_t family, prefix, addr[16];
	if (dr_cidr_parse(a->key, &family, addr, &prefix) == 0 &&
	    prefix == (family == 4 ? 32 : 128)) {
		struct dr_akey k;
		memset(&k, 0, sizeof(k));
		k.b[0] = family;
		memcpy(k.b + 1, addr, family == 4 ? 4 : 16);
		k.len = family == 4 ? 5 : 17;
		k.hash = dr_hash_addr(family, addr);
		int i = addr_find(s, k.b, k.len, k.hash);
		if (d > 0 && i >= 0) {
			s->addrs[i].refs++;
		} else if (d > 0 && s->naddrs < DR_ALERTS_MAX) {
			struct addr_key *n = &s->addrs[s->naddrs++];
			memcpy(n->b, k.b, sizeof(n->b));
			n->len = k.len;
			n->hash = k.hash;
			n->refs = 1;
			addr_index(s);
		} else if (d < 0 && i >= 0 && --s->addrs[i].refs == 0) {
			s->addrs[i] = s->addrs[--s->naddrs];
			addr_index(s);
		}
		return;
	}
	if (!a->type || strcmp(a->type, "random_subdomain") != 0)
		return;
	uint8_t wire[DR_NAME_MAX + 1];
	int len = dr_name_from_text(a->key, wire);
	if (len <= 0)
		return;
	dr_name_lower(wire, (size_t)len);
	for (uint32_t i = 0; i < s->nzones; i++) {
		struct zone_key *z = &s->zones[i];
		if (z->len == (uint32_t)len && memcmp(z->wire, wire, (size_t)len) == 0) {
			if (d > 0)
				z->refs++;
			else if (--z->refs == 0)
				*z = s->zones[--s->nzones];
			return;
		}
	}
	if (d > 0 && s->nzones < DR_ALERTS_MAX) {
		struct zone_key *z = &s->zones[s->nzones++];
		memcpy(z->wire, wire, (size_t)len);
		z->len = (uint32_t)len;
		z->refs = 1;
	}
}

/* Whether the wire name ends with zone at a label boundary. */
static int name_under(const uint8_t *name, uint32_t len, const struct zone_key *z)
{
	if (z->len > len || memcmp(name + len - z->len, z->wire, z->len) != 0)
		return 0;
	uint32_t at = 0, want = len - z->len;
	while (at < want && name[at])
		at += name[at] + 1u;
	return at == want;
}

static int under_alert(const struct dr_store *s, const struct dr_record *r)
{
	const struct dr_keys *k = &r->keys;
	if (s->naddrs && (addr_find(s, k->src.b, k->src.len, k->src.hash) >= 0 ||
			  addr_find(s, k->dst.b, k->dst.len, k->dst.hash) >= 0))
		return 1;
	if (s->nzones && r->kind == DR_KIND_DNS && r->dns.has_question && k->qname_len)
		for (uint32_t i = 0; i < s->nzones; i++)
			if (name_under(k->qname, k->qname_len, &s->zones[i]))
				return 1;
	return 0;
}

void dr_store_record(struct dr_store *s, const struct dr_record *r)
{
	struct dr_record scratch;
	uint8_t payload[DR_PAYLOAD_KEPT];
	if (!r->keys.ready) {
		/* callers fill the keys (the engine does); this is the slow way,
		 * and without registered domains (no zone) */
		dr_record_copy(&scratch, r, payload);
		dr_keys_fill(&scratch, NULL);
		r = &scratch;
	}
	/* a late record (an earlier minute) counts in the minute open now */
	if (!s->m.active) {
		s->m.minute = r->ts_sec - ((r->ts_sec % 60) + 60) % 60;
	} else if (r->ts_sec >= s->m.minute + 60) {
		hand_minute(s);
		s->m.minute = r->ts_sec - ((r->ts_sec % 60) + 60) % 60;
	}
	dr_minute_count(&s->m, r);
	if ((s->naddrs || s->nzones) && under_alert(s, r)) {
		if (s->alert_kept >= (uint64_t)s->values[DR_STORE_ALERT_RECORDS]) {
			s->skipped++;
			return;
		}
		if (!s->chunk) {
			s->chunk = malloc(CHUNK_ROWS * sizeof(*s->chunk));
			if (!s->chunk) {
				s->skipped++;
				return;
			}
		}
		dr_store_row_fill(&s->chunk[s->nchunk++], r, DR_WHY_ALERT);
		s->alert_kept++;
		if (s->nchunk == CHUNK_ROWS)
			hand_chunk(s);
		return;
	}
	dr_minute_sample(&s->m, r);
}

void dr_store_advance(struct dr_store *s, int64_t now)
{
	if (s->m.active && now >= s->m.minute + 60)
		hand_minute(s);
	hand_chunk(s);
	if (s->skipped) {
		pthread_mutex_lock(&s->lock);
		s->st.records_skipped += s->skipped;
		pthread_mutex_unlock(&s->lock);
		s->skipped = 0;
	}
}

void dr_store_event(void *ctx, enum dr_alert_event event, const struct dr_alert *a)
{
	struct dr_store *s = ctx;
	if (event == DR_EVENT_OPEN)
		key_update(s, a, 1);
	else if (event == DR_EVENT_CLOSE)
		key_update(s, a, -1);
	struct batch *b = calloc(1, sizeof(*b));
	char *json = NULL;
	size_t len = 0;
	FILE *fp = b ? open_memstream(&json, &len) : NULL;
	struct dr_out o;
	if (!fp || dr_out_init(&o, fp, 1 << 16) < 0) {
		if (fp)
			fclose(fp);
		free(json);
		free(b);
		count_dropped(s, 1);
		return;
	}
	dr_alert_json(&o, a);
	dr_out_fini(&o);
	fclose(fp);
	b->type = BATCH_EVENT;
	b->json = json;
	b->key = strdup(a->key);
	b->ts = dr_wall_now();
	b->event = dr_alert_event_name(event);
	b->severity = dr_severity_name(a->severity);
	b->id = a->id;
	b->packets = a->packets;
	b->bytes = a->bytes;
	b->start = a->start;
	b->end = a->end;
	b->detected = a->detected;
	b->peak_pps = a->peak_pps;
	b->peak_bps = a->peak_bps;
	b->closed = event == DR_EVENT_CLOSE;
	snprintf(b->type_name, sizeof(b->type_name), "%s", a->type ? a->type : "");
	if (!b->json || !b->key || o.err) {
		dr_store_batch_free(b);
		count_dropped(s, 1);
		return;
	}
	dr_store_enqueue(s, b);
}

int dr_store_reconfigure(struct dr_store *s, const double values[DR_STORE_NPARAMS],
			 char *errbuf, size_t errlen)
{
	/* the queue is allocated once; the rest applies even when it changed */
	double queue = s->values[DR_STORE_QUEUE];
	memcpy(s->pending, values, sizeof(s->pending));
	s->pending[DR_STORE_QUEUE] = queue;
	s->have_pending = 1;
	if (!s->m.active)
		apply_pending(s);
	pthread_mutex_lock(&s->lock);
	s->retention_days = values[DR_STORE_RETENTION];
	s->max_mib = values[DR_STORE_MAX_SIZE];
	pthread_mutex_unlock(&s->lock);
	if (values[DR_STORE_QUEUE] != queue) {
		fmt_err(errbuf, errlen, "store.queue: takes effect at a restart (%.0f until then);"
			" the other store settings are applied", queue);
		return -1;
	}
	return 0;
}

void dr_store_stats(struct dr_store *s, struct dr_store_stats *st)
{
	pthread_mutex_lock(&s->lock);
	*st = s->st;
	pthread_mutex_unlock(&s->lock);
	if (s->ch) {
		st->have_clickhouse = 1;
		dr_ch_stats(s->ch, &st->clickhouse);
	}
}

/* ------------------------------------------------------------------ */
/* Opening and closing */

static void store_free(struct dr_store *s)
{
	sqlite3_finalize(s->put_alert);
	sqlite3_finalize(s->put_event);
	sqlite3_finalize(s->put_agg);
	sqlite3_finalize(s->put_record);
	if (s->db)
		sqlite3_close(s->db);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	if (s->queue)
		for (uint32_t i = 0; i < s->qlen; i++)
			dr_store_batch_free(s->queue[(s->qhead + i) % s->qcap]);
	free(s->queue);
	if (s->equeue)
		for (uint32_t i = 0; i < s->elen; i++)
			dr_store_batch_free(s->equeue[(s->ehead + i) % s->ecap]);
	free(s->equeue);
	free(s->chunk);
	dr_ch_close(s->ch, 0);
	dr_minute_fini(&s->m);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake);
	free(s->path);
	free(s);
}

static int journal_is_wal(void *ctx, int n, char **v, char **names)
{
	(void)names;
	*(int *)ctx = n > 0 && v[0] && strcmp(v[0], "wal") == 0;
	return 0;
}

/* The alerts a run that died left open become 'interrupted' here; in
 * ClickHouse too, by an event of that name. */
static int interrupted_events(struct dr_store *s)
{
	sqlite3_stmt *st;
	if (!s->ch)
		return 0;
	if (sqlite3_prepare_v2(s->db, "SELECT run, id, type, key, start, end, detected, severity,"
			       " packets, bytes, peak_pps, peak_bps, json FROM alerts"
			       " WHERE state = 'open'", -1, &st, NULL) != SQLITE_OK)
		return -1;
	double now = dr_wall_now();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
#define T(i) ((const char *)sqlite3_column_text(st, i))
		dr_ch_event(s->ch, now, sqlite3_column_int64(st, 0),
			    (uint64_t)sqlite3_column_int64(st, 1), "interrupted", T(2), T(3),
			    "interrupted", sqlite3_column_double(st, 4),
			    sqlite3_column_double(st, 5), sqlite3_column_double(st, 6), T(7),
			    (uint64_t)sqlite3_column_int64(st, 8),
			    (uint64_t)sqlite3_column_int64(st, 9), sqlite3_column_double(st, 10),
			    sqlite3_column_double(st, 11), T(12));
#undef T
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The file's schema: created on a new file, checked on an old one. */
static int open_schema(struct dr_store *s, char *errbuf, size_t errlen)
{
	int isnull;
	int64_t tables = dr_store_query_int(s, "SELECT count(*) FROM sqlite_master", &isnull);
	if (tables < 0) {
		fmt_err(errbuf, errlen, "%s: not a dnsradar store (%s)", s->path,
			sqlite3_errmsg(s->db));
		return -1;
	}
	if (tables > 0) {
		int64_t version = dr_store_query_int(s, "SELECT CAST(value AS INTEGER) FROM meta"
					    " WHERE key = 'schema_version'", &isnull);
		if (version < 0 || isnull) {
			fmt_err(errbuf, errlen, "%s: not a dnsradar store (it has tables, but no"
				" schema_version in a meta table)", s->path);
			return -1;
		}
		if (version != DR_STORE_SCHEMA_VERSION) {
			fmt_err(errbuf, errlen, "%s: not a dnsradar store (or a newer schema %lld;"
				" this dnsradar writes schema %d)", s->path, (long long)version,
				DR_STORE_SCHEMA_VERSION);
			return -1;
		}
	} else if (dr_store_exec(s, "PRAGMA auto_vacuum = INCREMENTAL") < 0) {
		/* before the first table, or it cannot be changed without VACUUM */
		goto sqlerr;
	}
	int wal = 0;
	if (sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", journal_is_wal, &wal, NULL) != SQLITE_OK)
		goto sqlerr;
	if (!wal) {
		fmt_err(errbuf, errlen, "%s: the file system does not allow SQLite's WAL journal",
			s->path);
		return -1;
	}
	char meta[128];
	snprintf(meta, sizeof(meta), "INSERT OR IGNORE INTO meta(key, value)"
		 " VALUES('schema_version', '%d');", DR_STORE_SCHEMA_VERSION);
	if (dr_store_exec(s, "PRAGMA synchronous = NORMAL") < 0 ||
	    dr_store_exec(s, "PRAGMA journal_size_limit = 4194304") < 0 ||
	    dr_store_exec(s, "BEGIN IMMEDIATE") < 0)
		goto sqlerr;
	if (dr_store_exec(s, DR_STORE_SCHEMA) < 0 || dr_store_exec(s, meta) < 0 ||
	    /* what a run that died left open or unfinished */
	    interrupted_events(s) < 0 ||
	    dr_store_exec(s, "UPDATE alerts SET state = 'interrupted' WHERE state = 'open'") < 0 ||
	    dr_store_exec(s, "UPDATE runs SET how = 'interrupted' WHERE stopped IS NULL AND how IS NULL") < 0)
		goto rollback;
	sqlite3_stmt *st;
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	if (sqlite3_prepare_v2(s->db, "INSERT INTO runs(started, host, version, pid)"
			       " VALUES(?1, ?2, ?3, ?4)", -1, &st, NULL) != SQLITE_OK)
		goto rollback;
	sqlite3_bind_double(st, 1, dr_wall_now());
	sqlite3_bind_text(st, 2, host, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, s->version, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, getpid());
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto rollback;
	s->run = sqlite3_last_insert_rowid(s->db);
	if (dr_store_exec(s, "COMMIT") < 0)
		goto rollback;
	if (s->ch)
		dr_ch_commit(s->ch);
	return 0;
rollback:
	fmt_err(errbuf, errlen, "%s: %s", s->path, sqlite3_errmsg(s->db));
	dr_store_exec(s, "ROLLBACK");
	if (s->ch)
		dr_ch_abort(s->ch);
	return -1;
sqlerr:
	fmt_err(errbuf, errlen, "%s: %s", s->path, sqlite3_errmsg(s->db));
	return -1;
}

static int prepare(struct dr_store *s)
{
	static const char *const alert_sql =
		"INSERT INTO alerts(run, id, type, key, state, start, end, detected, severity,"
		" packets, bytes, peak_pps, peak_bps, updated, json)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
		" ON CONFLICT(run, id) DO UPDATE SET type = excluded.type, key = excluded.key,"
		" state = excluded.state, start = excluded.start, end = excluded.end,"
		" detected = excluded.detected, severity = excluded.severity,"
		" packets = excluded.packets, bytes = excluded.bytes,"
		" peak_pps = excluded.peak_pps, peak_bps = excluded.peak_bps,"
		" updated = excluded.updated, json = excluded.json";
	static const char *const event_sql =
		"INSERT INTO events(ts, run, alert, event, json) VALUES(?1, ?2, ?3, ?4, ?5)";
	static const char *const agg_sql =
		"INSERT INTO agg(minute, dim, key, messages, packets, bytes)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(minute, dim, key) DO UPDATE SET"
		" messages = messages + excluded.messages, packets = packets + excluded.packets,"
		" bytes = bytes + excluded.bytes";
	static const char *const record_sql =
		"INSERT INTO records(ts, kind, src, src_bin, sport, dst, dst_bin, dport, proto,"
		" id, qr, opcode, rcode, aa, tc, rd, ra, qname, zone, qtype, qclass, an, ns, ar,"
		" len, edns_udp, do, malformed, packets, bytes, country, asn, why, weight)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
		" ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31,"
		" ?32, ?33, ?34)";
	return sqlite3_prepare_v2(s->db, alert_sql, -1, &s->put_alert, NULL) == SQLITE_OK &&
	       sqlite3_prepare_v2(s->db, event_sql, -1, &s->put_event, NULL) == SQLITE_OK &&
	       sqlite3_prepare_v2(s->db, agg_sql, -1, &s->put_agg, NULL) == SQLITE_OK &&
	       sqlite3_prepare_v2(s->db, record_sql, -1, &s->put_record, NULL) == SQLITE_OK
	       ? 0 : -1;
}

int dr_store_open(struct dr_store **out, const struct dr_store_config *c, char *errbuf,
		  size_t errlen)
{
	*out = NULL;
	if (!c->path || !*c->path) {
		fmt_err(errbuf, errlen, "store: no file given");
		return -1;
	}
	struct dr_store *s = calloc(1, sizeof(*s));
	if (!s) {
		fmt_err(errbuf, errlen, "%s: out of memory", c->path);
		return -1;
	}
	s->lock_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	s->path = strdup(c->path);
	s->geo = c->geo;
	snprintf(s->version, sizeof(s->version), "%s", c->version ? c->version : "");
	memcpy(s->values, c->values, sizeof(s->values));
	s->retention_days = c->values[DR_STORE_RETENTION];
	s->max_mib = c->values[DR_STORE_MAX_SIZE];
	s->qcap = (uint32_t)c->values[DR_STORE_QUEUE];
	if (s->qcap < 1)
		s->qcap = 1;
	s->st.queue_cap = s->qcap;
	s->queue = calloc(s->qcap, sizeof(*s->queue));
	s->ecap = EVENT_QUEUE;
	s->equeue = calloc(s->ecap, sizeof(*s->equeue));
	if (!s->path || !s->queue || !s->equeue ||
	    dr_minute_init(&s->m, (uint32_t)c->values[DR_STORE_TOP],
			   (uint32_t)c->values[DR_STORE_SAMPLE]) < 0) {
		fmt_err(errbuf, errlen, "%s: out of memory for the store's tables", c->path);
		goto fail;
	}
	/* One service per file: a second would mark the first's open alerts
	 * interrupted. The lock goes with the dr_store_process, kill -9 included. */
	s->lock_fd = open(c->path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (s->lock_fd < 0) {
		fmt_err(errbuf, errlen, "%s: %s", c->path, strerror(errno));
		goto fail;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		fmt_err(errbuf, errlen, "%s: %s", c->path, errno == EWOULDBLOCK
			? "in use by another dnsradar run" : strerror(errno));
		goto fail;
	}
	if (sqlite3_open_v2(c->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		fmt_err(errbuf, errlen, "%s: %s", c->path, s->db ? sqlite3_errmsg(s->db)
			: "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	if (c->clickhouse && dr_ch_open(&s->ch, c->clickhouse, errbuf, errlen) < 0)
		goto fail;
	s->ch_drain = c->clickhouse_drain;
	if (open_schema(s, errbuf, errlen) < 0)
		goto fail;
	if (prepare(s) < 0) {
		fmt_err(errbuf, errlen, "%s: %s", c->path, sqlite3_errmsg(s->db));
		goto fail;
	}
	int isnull;
	s->st.file_bytes = (uint64_t)(dr_store_query_int(s, "PRAGMA page_count", &isnull) *
				      dr_store_query_int(s, "PRAGMA page_size", &isnull));
	*out = s;
	return 0;
fail:
	store_free(s);
	return -1;
}

int dr_store_start(struct dr_store *s, char *errbuf, size_t errlen)
{
	int rc = pthread_create(&s->thread, NULL, dr_store_writer_main, s);
	if (rc != 0) {
		fmt_err(errbuf, errlen, "%s: cannot start the writer thread: %s", s->path,
			strerror(rc));
		return -1;
	}
	s->started = 1;
	if (s->ch && dr_ch_start(s->ch, errbuf, errlen) < 0)
		return -1;
	return 0;
}

/* Writes what is queued, on the caller's thread (no writer runs). */
static void drain(struct dr_store *s)
{
	for (;;) {
		pthread_mutex_lock(&s->lock);
		struct batch *b = s->qlen || s->elen ? dr_store_pop(s) : NULL;
		pthread_mutex_unlock(&s->lock);
		if (!b)
			return;
		dr_store_process(s, b);
		dr_store_batch_free(b);
	}
}

void dr_store_close(struct dr_store *s, const char *how)
{
	if (!s)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->lock);
		s->stopping = 1;
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
		s->started = 0;
	}
	/* The writer is gone (or never started): what is left is written
	 * here, the queue first, then the minute being gathered, without
	 * dropping any of it for want of room. */
	drain(s);
	hand_chunk(s);
	drain(s);
	hand_minute(s);
	drain(s);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "UPDATE runs SET stopped = ?1, how = ?2 WHERE id = ?3", -1,
			       &st, NULL) == SQLITE_OK) {
		sqlite3_bind_double(st, 1, dr_wall_now());
		sqlite3_bind_text(st, 2, how ? how : "stopped", -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, s->run);
		if (sqlite3_step(st) != SQLITE_DONE)
			dr_store_note_error(s, "run");
		sqlite3_finalize(st);
	}
	dr_ch_close(s->ch, s->ch_drain);
	s->ch = NULL;
	store_free(s);
}
