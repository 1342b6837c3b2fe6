/* The store's writer side: the SQLite file and its schema, the queue from
 * the detection thread to the writer thread, alert events, the keys under
 * open alerts whose records are all kept, retention and the size cap. */
#include "store/store.h"

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
#define CHUNK_ROWS 1024
#define BUSY_TIMEOUT_MS 5000
#define KEY_SLOTS 4096		/* > 2 * DR_ALERTS_MAX: probes stay short */

enum batch_type { BATCH_EVENT, BATCH_MINUTE, BATCH_RECORDS };

struct batch {
	enum batch_type type;
	/* BATCH_EVENT: the alert as it stood */
	double ts;
	const char *event, *severity;	/* static strings */
	uint64_t id, packets, bytes;
	double start, end, detected, peak_pps, peak_bps;
	int closed;
	char type_name[32];
	char *key, *json;
	/* BATCH_MINUTE */
	struct dr_store_minute *minute;
	/* BATCH_RECORDS */
	struct dr_store_row *rows;
	uint32_t nrows;
};

/* A host or zone under open alerts (refs of them). */
struct addr_key {
	uint8_t b[DR_AKEY];
	uint32_t len;
	uint64_t hash;
	uint32_t refs;
};

struct zone_key {
	uint8_t wire[DR_NAME_MAX + 1];	/* lower-cased */
	uint32_t len;
	uint32_t refs;
};

struct dr_store {
	char *path;
	sqlite3 *db;
	int lock_fd;
	int64_t run;
	const struct dr_geo *geo;
	char version[64];

	/* the detection thread's */
	double values[DR_STORE_NPARAMS];
	double pending[DR_STORE_NPARAMS];
	int have_pending;
	struct dr_minute m;
	uint64_t alert_kept;		/* this minute */
	uint64_t skipped;		/* not yet in st */
	struct dr_store_row *chunk;
	uint32_t nchunk;
	struct addr_key addrs[DR_ALERTS_MAX];
	uint32_t naddrs;
	uint16_t slots[KEY_SLOTS];	/* index into addrs + 1; 0: empty */
	struct zone_key zones[DR_ALERTS_MAX];
	uint32_t nzones;

	/* shared, under lock */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct batch **queue;
	uint32_t qcap, qhead, qlen;
	int stopping, started;
	pthread_t thread;
	double retention_days, max_mib;
	struct dr_store_stats st;

	/* the writer's (the caller's before start and after close's join) */
	sqlite3_stmt *put_alert, *put_event, *put_agg, *put_record;
};

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

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

static void batch_free(struct batch *b)
{
	if (!b)
		return;
	free(b->key);
	free(b->json);
	dr_store_minute_free(b->minute);
	free(b->rows);
	free(b);
}

/* ------------------------------------------------------------------ */
/* The writer's side: one transaction per batch */

static void note_error(struct dr_store *s, const char *what)
{
	pthread_mutex_lock(&s->lock);
	s->st.write_errors++;
	snprintf(s->st.last_error, sizeof(s->st.last_error), "%s: %s: %s", s->path, what,
		 sqlite3_errmsg(s->db));
	pthread_mutex_unlock(&s->lock);
}

static int exec(struct dr_store *s, const char *sql)
{
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* Runs a prepared statement to its end and resets it. */
static int step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

static int write_event(struct dr_store *s, const struct batch *b)
{
	sqlite3_stmt *a = s->put_alert, *e = s->put_event;
	sqlite3_bind_int64(a, 1, s->run);
	sqlite3_bind_int64(a, 2, (sqlite3_int64)b->id);
	sqlite3_bind_text(a, 3, b->type_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(a, 4, b->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(a, 5, b->closed ? "closed" : "open", -1, SQLITE_STATIC);
	sqlite3_bind_double(a, 6, b->start);
	sqlite3_bind_double(a, 7, b->end);
	sqlite3_bind_double(a, 8, b->detected);
	sqlite3_bind_text(a, 9, b->severity, -1, SQLITE_STATIC);
	sqlite3_bind_int64(a, 10, (sqlite3_int64)b->packets);
	sqlite3_bind_int64(a, 11, (sqlite3_int64)b->bytes);
	sqlite3_bind_double(a, 12, b->peak_pps);
	sqlite3_bind_double(a, 13, b->peak_bps);
	sqlite3_bind_double(a, 14, b->ts);
	sqlite3_bind_text(a, 15, b->json, -1, SQLITE_STATIC);
	if (step(a) < 0)
		return -1;
	sqlite3_bind_double(e, 1, b->ts);
	sqlite3_bind_int64(e, 2, s->run);
	sqlite3_bind_int64(e, 3, (sqlite3_int64)b->id);
	sqlite3_bind_text(e, 4, b->event, -1, SQLITE_STATIC);
	sqlite3_bind_text(e, 5, b->json, -1, SQLITE_STATIC);
	return step(e);
}

static int put_agg(struct dr_store *s, int64_t minute, unsigned dim, const char *key,
		   const struct dr_store_counts *c)
{
	sqlite3_stmt *st = s->put_agg;
	sqlite3_bind_int64(st, 1, minute);
	sqlite3_bind_text(st, 2, dr_store_dim_names[dim], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)c->messages);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)c->packets);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)c->bytes);
	return step(st);
}

static int bind_addr(sqlite3_stmt *st, int col, int family, const uint8_t *addr)
{
	char text[64];
	uint8_t bin[DR_AKEY];
	size_t n = family == 4 ? 4 : 16;
	dr_addr_text(family, addr, text);
	bin[0] = (uint8_t)family;
	memcpy(bin + 1, addr, n);
	sqlite3_bind_text(st, col, text, -1, SQLITE_TRANSIENT);
	return sqlite3_bind_blob(st, col + 1, bin, (int)n + 1, SQLITE_TRANSIENT);
}

static int put_record(struct dr_store *s, const struct dr_store_row *r, double weight)
{
	sqlite3_stmt *st = s->put_record;
	char text[DR_NAME_TEXT_MAX];
	int dns = r->kind == DR_KIND_DNS;
	sqlite3_bind_double(st, 1, r->ts);
	sqlite3_bind_text(st, 2, dns ? "dns" : "flow", -1, SQLITE_STATIC);
	bind_addr(st, 3, r->family, r->src);
	sqlite3_bind_int(st, 5, r->sport);
	bind_addr(st, 6, r->family, r->dst);
	sqlite3_bind_int(st, 8, r->dport);
	sqlite3_bind_int(st, 9, r->proto);
	if (dns) {
		struct dr_dns d = {.flags = r->flags};
		sqlite3_bind_int(st, 10, r->id);
		sqlite3_bind_int(st, 11, (int)dr_dns_qr(&d));
		sqlite3_bind_int(st, 12, (int)dr_dns_opcode(&d));
		sqlite3_bind_int(st, 13, r->rcode);
		sqlite3_bind_int(st, 14, (int)dr_dns_aa(&d));
		sqlite3_bind_int(st, 15, (int)dr_dns_tc(&d));
		sqlite3_bind_int(st, 16, (int)dr_dns_rd(&d));
		sqlite3_bind_int(st, 17, (int)dr_dns_ra(&d));
		if (r->qname_len) {
			dr_name_to_text(r->qname, r->qname_len, text);
			sqlite3_bind_text(st, 18, text, -1, SQLITE_TRANSIENT);
			if (r->zone >= 0 && r->zone < r->qname_len) {
				dr_name_to_text(r->qname_lc + r->zone,
						(size_t)(r->qname_len - r->zone), text);
				sqlite3_bind_text(st, 19, text, -1, SQLITE_TRANSIENT);
			}
			sqlite3_bind_int(st, 20, r->qtype);
			sqlite3_bind_int(st, 21, r->qclass);
		}
		sqlite3_bind_int(st, 22, r->an);
		sqlite3_bind_int(st, 23, r->ns);
		sqlite3_bind_int(st, 24, r->ar);
		if (r->edns) {
			sqlite3_bind_int(st, 26, r->edns_udp);
			sqlite3_bind_int(st, 27, r->edns_do);
		}
		if (r->malformed)
			sqlite3_bind_text(st, 28, dr_malformed_name(r->malformed), -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 25, r->len);
	sqlite3_bind_int64(st, 29, (sqlite3_int64)r->packets);
	sqlite3_bind_int64(st, 30, (sqlite3_int64)r->bytes);
	if (s->geo && s->geo->country) {
		char cc[3];
		dr_geo_country(s->geo, r->family, r->src, cc);
		sqlite3_bind_text(st, 31, cc, -1, SQLITE_TRANSIENT);
	}
	if (s->geo && s->geo->asn) {
		uint32_t asn = dr_geo_asn(s->geo, r->family, r->src, NULL, 0);
		if (asn)
			sqlite3_bind_int64(st, 32, asn);
	}
	sqlite3_bind_text(st, 33, r->why == DR_WHY_ALERT ? "alert" : "sample", -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 34, weight);
	return step(st);
}

struct geo_count {
	char key[16];
	struct dr_store_counts c;
};

static int geo_by_key(const void *pa, const void *pb)
{
	return strcmp(((const struct geo_count *)pa)->key, ((const struct geo_count *)pb)->key);
}

static int geo_by_count(const void *pa, const void *pb)
{
	const struct geo_count *a = pa, *b = pb;
	if (a->c.messages != b->c.messages)
		return a->c.messages > b->c.messages ? -1 : 1;
	return strcmp(a->key, b->key);
}

/* The country or asn dimension from the minute's sources: each source the
 * src table held, looked up; what it did not hold is '(other)'. */
static int geo_rows(struct dr_store *s, const struct dr_store_minute *b, unsigned dim,
		    uint32_t top, uint32_t *rows)
{
	if (!b->nsrcs)
		return 0;
	struct geo_count *g = malloc((size_t)b->nsrcs * sizeof(*g));
	if (!g)
		return -1;
	for (uint32_t i = 0; i < b->nsrcs; i++) {
		const struct dr_store_addr *a = &b->srcs[i];
		if (dim == DR_DIM_COUNTRY) {
			dr_geo_country(s->geo, a->family, a->addr, g[i].key);
			if (strcmp(g[i].key, "--") == 0)
				strcpy(g[i].key, DR_STORE_KEY_NONE);
		} else {
			uint32_t asn = dr_geo_asn(s->geo, a->family, a->addr, NULL, 0);
			if (asn)
				snprintf(g[i].key, sizeof(g[i].key), "%u", asn);
			else
				strcpy(g[i].key, DR_STORE_KEY_NONE);
		}
		g[i].c = a->c;
	}
	qsort(g, b->nsrcs, sizeof(*g), geo_by_key);
	uint32_t n = 0;
	for (uint32_t i = 0; i < b->nsrcs; i++) {
		if (n && strcmp(g[n - 1].key, g[i].key) == 0) {
			g[n - 1].c.messages += g[i].c.messages;
			g[n - 1].c.packets += g[i].c.packets;
			g[n - 1].c.bytes += g[i].c.bytes;
		} else {
			g[n++] = g[i];
		}
	}
	qsort(g, n, sizeof(*g), geo_by_count);
	struct dr_store_counts other = b->total;
	int rc = 0;
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		other.messages -= other.messages >= g[i].c.messages ? g[i].c.messages : other.messages;
		other.packets -= other.packets >= g[i].c.packets ? g[i].c.packets : other.packets;
		other.bytes -= other.bytes >= g[i].c.bytes ? g[i].c.bytes : other.bytes;
		if (i < top || strcmp(g[i].key, DR_STORE_KEY_NONE) == 0) {
			rc = put_agg(s, b->minute, dim, g[i].key, &g[i].c);
			++*rows;
		} else {
			/* below the top: back into the rest */
			other.messages += g[i].c.messages;
			other.packets += g[i].c.packets;
			other.bytes += g[i].c.bytes;
		}
	}
	if (rc == 0 && (other.messages || other.packets || other.bytes)) {
		rc = put_agg(s, b->minute, dim, DR_STORE_KEY_OTHER, &other);
		++*rows;
	}
	free(g);
	return rc;
}

static int write_minute(struct dr_store *s, const struct dr_store_minute *b, uint32_t *rows)
{
	for (uint32_t i = 0; i < b->nrows; i++) {
		const struct dr_store_agg *a = &b->rows[i];
		if (put_agg(s, b->minute, a->dim, b->text + a->key, &a->c) < 0)
			return -1;
		++*rows;
	}
	if (s->geo && s->geo->country && geo_rows(s, b, DR_DIM_COUNTRY, b->top, rows) < 0)
		return -1;
	if (s->geo && s->geo->asn && geo_rows(s, b, DR_DIM_ASN, b->top, rows) < 0)
		return -1;
	for (uint32_t i = 0; i < b->nsamples; i++)
		if (put_record(s, &b->samples[i], b->weight) < 0)
			return -1;
	return 0;
}

static int64_t query_int(struct dr_store *s, const char *sql, int *isnull)
{
	sqlite3_stmt *st;
	int64_t v = 0;
	*isnull = 1;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		v = sqlite3_column_int64(st, 0);
		*isnull = 0;
	}
	sqlite3_finalize(st);
	return v;
}

static int64_t used_bytes(struct dr_store *s)
{
	int isnull;
	int64_t pages = query_int(s, "PRAGMA page_count", &isnull);
	int64_t freel = query_int(s, "PRAGMA freelist_count", &isnull);
	int64_t size = query_int(s, "PRAGMA page_size", &isnull);
	return (pages - freel) * size;
}

static int delete_where(struct dr_store *s, const char *sql, double arg, uint64_t *deleted)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_double(st, 1, arg);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	*deleted += (uint64_t)sqlite3_changes(s->db);
	return rc;
}

/* Once a minute of aggregates has been written (engine time `now`):
 * what is older than the retention goes, then the oldest minutes until the
 * file is back under 90% of its cap, records before aggregates; alerts
 * and their events stay for the retention, an open one for ever. */
static void maintain(struct dr_store *s, int64_t now)
{
	pthread_mutex_lock(&s->lock);
	double days = s->retention_days, mib = s->max_mib;
	pthread_mutex_unlock(&s->lock);
	double cutoff = (double)now - days * 86400.0;
	uint64_t deleted = 0, alerts = 0;
	int rc = exec(s, "BEGIN IMMEDIATE");
	if (rc == 0)
		rc = delete_where(s, "DELETE FROM agg WHERE minute < ?1", cutoff, &deleted);
	if (rc == 0)
		rc = delete_where(s, "DELETE FROM records WHERE ts < ?1", cutoff, &deleted);
	if (rc == 0)
		rc = delete_where(s, "DELETE FROM alerts WHERE state <> 'open' AND end < ?1",
				  cutoff, &alerts);
	if (rc == 0 && alerts) {
		/* an alert's events go with it */
		rc = exec(s, "DELETE FROM events WHERE NOT EXISTS (SELECT 1 FROM alerts"
			  " WHERE alerts.run = events.run AND alerts.id = events.alert)");
		deleted += (uint64_t)sqlite3_changes(s->db);
	}
	deleted += alerts;
	double cap = mib * 1048576.0;
	int shrunk = 0;
	if (rc == 0 && (double)used_bytes(s) > cap) {
		for (int i = 0; rc == 0 && i < 100000 && (double)used_bytes(s) > cap * 0.9; i++) {
			int isnull;
			int64_t oldest = query_int(s, "SELECT CAST(min(ts) AS INTEGER) FROM records",
						   &isnull);
			if (!isnull) {
				rc = delete_where(s, "DELETE FROM records WHERE ts < ?1",
						  (double)(oldest - oldest % 60 + 60), &deleted);
				continue;
			}
			oldest = query_int(s, "SELECT min(minute) FROM agg", &isnull);
			if (isnull)
				break;	/* only alerts left: they are kept */
			rc = delete_where(s, "DELETE FROM agg WHERE minute <= ?1", (double)oldest,
					  &deleted);
		}
		shrunk = 1;
	}
	if (rc == 0)
		rc = exec(s, "COMMIT");
	if (rc < 0) {
		note_error(s, "retention");
		exec(s, "ROLLBACK");
		return;
	}
	if (shrunk || deleted)
		exec(s, "PRAGMA incremental_vacuum");
	if (shrunk)
		exec(s, "PRAGMA wal_checkpoint(TRUNCATE)");
	int isnull;
	int64_t bytes = query_int(s, "PRAGMA page_count", &isnull) *
			query_int(s, "PRAGMA page_size", &isnull);
	pthread_mutex_lock(&s->lock);
	s->st.deleted_rows += deleted;
	s->st.file_bytes = (uint64_t)bytes;
	pthread_mutex_unlock(&s->lock);
}

static void process(struct dr_store *s, struct batch *b)
{
	uint32_t rows = 0;
	int rc = exec(s, "BEGIN IMMEDIATE");
	if (rc == 0) {
		if (b->type == BATCH_EVENT)
			rc = write_event(s, b);
		else if (b->type == BATCH_MINUTE)
			rc = write_minute(s, b->minute, &rows);
		else
			for (uint32_t i = 0; i < b->nrows && rc == 0; i++)
				rc = put_record(s, &b->rows[i], 1.0);
	}
	if (rc == 0)
		rc = exec(s, "COMMIT");
	if (rc < 0) {
		note_error(s, b->type == BATCH_EVENT ? "alert event" : b->type == BATCH_MINUTE
			   ? "minute" : "records");
		exec(s, "ROLLBACK");
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (b->type == BATCH_EVENT) {
		s->st.events++;
	} else if (b->type == BATCH_MINUTE) {
		s->st.minutes++;
		s->st.agg_rows += rows;
		s->st.records += b->minute->nsamples;
	} else {
		s->st.records += b->nrows;
	}
	pthread_mutex_unlock(&s->lock);
	if (b->type == BATCH_MINUTE)
		maintain(s, b->minute->minute + 60);
}

static struct batch *pop(struct dr_store *s)
{
	struct batch *b = s->queue[s->qhead];
	s->qhead = (s->qhead + 1) % s->qcap;
	s->qlen--;
	s->st.queue_depth = s->qlen;
	return b;
}

static void *writer_main(void *arg)
{
	struct dr_store *s = arg;
	for (;;) {
		pthread_mutex_lock(&s->lock);
		while (!s->qlen && !s->stopping)
			pthread_cond_wait(&s->wake, &s->lock);
		if (!s->qlen) {
			pthread_mutex_unlock(&s->lock);
			break;
		}
		struct batch *b = pop(s);
		pthread_mutex_unlock(&s->lock);
		process(s, b);
		batch_free(b);
	}
	return NULL;
}

/* Hands b to the writer; a full queue drops it, counted. Never waits. */
static void enqueue(struct dr_store *s, struct batch *b)
{
	pthread_mutex_lock(&s->lock);
	if (s->qlen == s->qcap) {
		s->st.dropped_batches++;
		if (b->type == BATCH_EVENT)
			s->st.dropped_events++;
		pthread_mutex_unlock(&s->lock);
		batch_free(b);
		return;
	}
	s->queue[(s->qhead + s->qlen) % s->qcap] = b;
	s->qlen++;
	s->st.queue_depth = s->qlen;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
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
	enqueue(s, b);
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
		enqueue(s, b);
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
	b->ts = wall_now();
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
		batch_free(b);
		count_dropped(s, 1);
		return;
	}
	enqueue(s, b);
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
			batch_free(s->queue[(s->qhead + i) % s->qcap]);
	free(s->queue);
	free(s->chunk);
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

/* The file's schema: created on a new file, checked on an old one. */
static int open_schema(struct dr_store *s, char *errbuf, size_t errlen)
{
	int isnull;
	int64_t tables = query_int(s, "SELECT count(*) FROM sqlite_master", &isnull);
	if (tables < 0) {
		fmt_err(errbuf, errlen, "%s: not a dnsradar store (%s)", s->path,
			sqlite3_errmsg(s->db));
		return -1;
	}
	if (tables > 0) {
		int64_t version = query_int(s, "SELECT CAST(value AS INTEGER) FROM meta"
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
	} else if (exec(s, "PRAGMA auto_vacuum = INCREMENTAL") < 0) {
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
	if (exec(s, "PRAGMA synchronous = NORMAL") < 0 ||
	    exec(s, "PRAGMA journal_size_limit = 4194304") < 0 ||
	    exec(s, "BEGIN IMMEDIATE") < 0)
		goto sqlerr;
	if (exec(s, DR_STORE_SCHEMA) < 0 || exec(s, meta) < 0 ||
	    /* what a run that died left open or unfinished */
	    exec(s, "UPDATE alerts SET state = 'interrupted' WHERE state = 'open'") < 0 ||
	    exec(s, "UPDATE runs SET how = 'interrupted' WHERE stopped IS NULL AND how IS NULL") < 0)
		goto rollback;
	sqlite3_stmt *st;
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	if (sqlite3_prepare_v2(s->db, "INSERT INTO runs(started, host, version, pid)"
			       " VALUES(?1, ?2, ?3, ?4)", -1, &st, NULL) != SQLITE_OK)
		goto rollback;
	sqlite3_bind_double(st, 1, wall_now());
	sqlite3_bind_text(st, 2, host, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, s->version, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, getpid());
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto rollback;
	s->run = sqlite3_last_insert_rowid(s->db);
	if (exec(s, "COMMIT") < 0)
		goto rollback;
	return 0;
rollback:
	fmt_err(errbuf, errlen, "%s: %s", s->path, sqlite3_errmsg(s->db));
	exec(s, "ROLLBACK");
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
	if (!s->path || !s->queue ||
	    dr_minute_init(&s->m, (uint32_t)c->values[DR_STORE_TOP],
			   (uint32_t)c->values[DR_STORE_SAMPLE]) < 0) {
		fmt_err(errbuf, errlen, "%s: out of memory for the store's tables", c->path);
		goto fail;
	}
	/* One service per file: a second would mark the first's open alerts
	 * interrupted. The lock goes with the process, kill -9 included. */
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
	if (open_schema(s, errbuf, errlen) < 0)
		goto fail;
	if (prepare(s) < 0) {
		fmt_err(errbuf, errlen, "%s: %s", c->path, sqlite3_errmsg(s->db));
		goto fail;
	}
	int isnull;
	s->st.file_bytes = (uint64_t)(query_int(s, "PRAGMA page_count", &isnull) *
				      query_int(s, "PRAGMA page_size", &isnull));
	*out = s;
	return 0;
fail:
	store_free(s);
	return -1;
}

int dr_store_start(struct dr_store *s, char *errbuf, size_t errlen)
{
	int rc = pthread_create(&s->thread, NULL, writer_main, s);
	if (rc != 0) {
		fmt_err(errbuf, errlen, "%s: cannot start the writer thread: %s", s->path,
			strerror(rc));
		return -1;
	}
	s->started = 1;
	return 0;
}

/* Writes what is queued, on the caller's thread (no writer runs). */
static void drain(struct dr_store *s)
{
	for (;;) {
		pthread_mutex_lock(&s->lock);
		struct batch *b = s->qlen ? pop(s) : NULL;
		pthread_mutex_unlock(&s->lock);
		if (!b)
			return;
		process(s, b);
		batch_free(b);
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
		sqlite3_bind_double(st, 1, wall_now());
		sqlite3_bind_text(st, 2, how ? how : "stopped", -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, s->run);
		if (sqlite3_step(st) != SQLITE_DONE)
			note_error(s, "run");
		sqlite3_finalize(st);
	}
	store_free(s);
}
