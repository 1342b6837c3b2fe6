/* The store's writer thread: one transaction per batch (an alert event,
 * a minute of aggregates and samples, a chunk of records under alerts),
 * then retention and the size cap once a minute. */
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
#include "store/query.h"
#include "store/schema.h"

void dr_store_batch_free(struct batch *b)
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

void dr_store_note_error(struct dr_store *s, const char *what)
{
	pthread_mutex_lock(&s->lock);
	s->st.write_errors++;
	snprintf(s->st.last_error, sizeof(s->st.last_error), "%s: %s: %s", s->path, what,
		 sqlite3_errmsg(s->db));
	pthread_mutex_unlock(&s->lock);
}

int dr_store_exec(struct dr_store *s, const char *sql)
{
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* Runs a prepared statement to its end and resets it. */
static int step_done(sqlite3_stmt *st)
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
	if (step_done(a) < 0)
		return -1;
	sqlite3_bind_double(e, 1, b->ts);
	sqlite3_bind_int64(e, 2, s->run);
	sqlite3_bind_int64(e, 3, (sqlite3_int64)b->id);
	sqlite3_bind_text(e, 4, b->event, -1, SQLITE_STATIC);
	sqlite3_bind_text(e, 5, b->json, -1, SQLITE_STATIC);
	if (step_done(e) < 0)
		return -1;
	if (s->ch)
		dr_ch_event(s->ch, b->ts, s->run, b->id, b->event, b->type_name, b->key,
			    b->closed ? "closed" : "open", b->start, b->end, b->detected,
			    b->severity, b->packets, b->bytes, b->peak_pps, b->peak_bps, b->json);
	return 0;
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
	if (step_done(st) < 0)
		return -1;
	if (s->ch)
		dr_ch_agg(s->ch, minute, dr_store_dim_names[dim], key, c);
	return 0;
}

/* A row as both stores keep it: the columns' values, text made once. */
struct flat {
	struct dr_query_record q;
	char src[64], dst[64], qname[DR_NAME_TEXT_MAX], zone[DR_NAME_TEXT_MAX], cc[3];
	uint8_t src_bin[DR_AKEY], dst_bin[DR_AKEY];
	size_t bin_len;
};

/* The key an address is kept under: its family, then its octets. */
static size_t addr_key(int family, const uint8_t *addr, uint8_t *bin)
{
	size_t n = family == 4 ? 4 : 16;
	bin[0] = (uint8_t)family;
	memcpy(bin + 1, addr, n);
	return n + 1;
}

static void flatten(const struct dr_store *s, const struct dr_store_row *r, double weight,
		    struct flat *f)
{
	struct dr_query_record *q = &f->q;
	memset(q, 0, sizeof(*q));
	q->ts = r->ts;
	q->weight = weight;
	q->kind = r->kind == DR_KIND_DNS ? "dns" : "flow";
	dr_addr_text(r->family, r->src, f->src);
	dr_addr_text(r->family, r->dst, f->dst);
	q->src = f->src;
	q->dst = f->dst;
	f->bin_len = addr_key(r->family, r->src, f->src_bin);
	addr_key(r->family, r->dst, f->dst_bin);
	q->sport = r->sport;
	q->dport = r->dport;
	q->proto = r->proto;
	q->len = (int)r->len;
	q->packets = (int64_t)r->packets;
	q->bytes = (int64_t)r->bytes;
	q->why = r->why == DR_WHY_ALERT ? "alert" : "sample";
	if (r->kind == DR_KIND_DNS) {
		struct dr_dns d = {.flags = r->flags};
		q->has_dns = 1;
		q->id = r->id;
		q->qr = (int)dr_dns_qr(&d);
		q->opcode = (int)dr_dns_opcode(&d);
		q->rcode = r->rcode;
		q->aa = (int)dr_dns_aa(&d);
		q->tc = (int)dr_dns_tc(&d);
		q->rd = (int)dr_dns_rd(&d);
		q->ra = (int)dr_dns_ra(&d);
		if (r->qname_len) {
			dr_name_to_text(r->qname, r->qname_len, f->qname);
			q->qname = f->qname;
			if (r->zone >= 0 && r->zone < r->qname_len) {
				dr_name_to_text(r->qname_lc + r->zone,
						(size_t)(r->qname_len - r->zone), f->zone);
				q->zone = f->zone;
			}
			q->qtype = r->qtype;
			q->qclass = r->qclass;
		}
		q->an = r->an;
		q->ns = r->ns;
		q->ar = r->ar;
		if (r->edns) {
			q->has_edns = 1;
			q->edns_udp = r->edns_udp;
			q->do_bit = r->edns_do;
		}
		if (r->malformed)
			q->malformed = dr_malformed_name(r->malformed);
	}
	if (s->geo && s->geo->country) {
		dr_geo_country(s->geo, r->family, r->src, f->cc);
		q->country = f->cc;
	}
	if (s->geo && s->geo->asn) {
		uint32_t asn = dr_geo_asn(s->geo, r->family, r->src, NULL, 0);
		if (asn) {
			q->asn = asn;
			q->has_asn = 1;
		}
	}
}

static int put_record(struct dr_store *s, const struct dr_store_row *r, double weight)
{
	sqlite3_stmt *st = s->put_record;
	struct flat f;
	const struct dr_query_record *q = &f.q;
	flatten(s, r, weight, &f);
	sqlite3_bind_double(st, 1, q->ts);
	sqlite3_bind_text(st, 2, q->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, q->src, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, f.src_bin, (int)f.bin_len, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, q->sport);
	sqlite3_bind_text(st, 6, q->dst, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 7, f.dst_bin, (int)f.bin_len, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, q->dport);
	sqlite3_bind_int(st, 9, q->proto);
	if (q->has_dns) {
		sqlite3_bind_int(st, 10, q->id);
		sqlite3_bind_int(st, 11, q->qr);
		sqlite3_bind_int(st, 12, q->opcode);
		sqlite3_bind_int(st, 13, q->rcode);
		sqlite3_bind_int(st, 14, q->aa);
		sqlite3_bind_int(st, 15, q->tc);
		sqlite3_bind_int(st, 16, q->rd);
		sqlite3_bind_int(st, 17, q->ra);
		if (q->qname) {
			sqlite3_bind_text(st, 18, q->qname, -1, SQLITE_STATIC);
			if (q->zone)
				sqlite3_bind_text(st, 19, q->zone, -1, SQLITE_STATIC);
			sqlite3_bind_int(st, 20, q->qtype);
			sqlite3_bind_int(st, 21, q->qclass);
		}
		sqlite3_bind_int(st, 22, q->an);
		sqlite3_bind_int(st, 23, q->ns);
		sqlite3_bind_int(st, 24, q->ar);
		if (q->has_edns) {
			sqlite3_bind_int(st, 26, q->edns_udp);
			sqlite3_bind_int(st, 27, q->do_bit);
		}
		if (q->malformed)
			sqlite3_bind_text(st, 28, q->malformed, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 25, q->len);
	sqlite3_bind_int64(st, 29, q->packets);
	sqlite3_bind_int64(st, 30, q->bytes);
	if (q->country)
		sqlite3_bind_text(st, 31, q->country, -1, SQLITE_STATIC);
	if (q->has_asn)
		sqlite3_bind_int64(st, 32, q->asn);
	sqlite3_bind_text(st, 33, q->why, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 34, q->weight);
	if (step_done(st) < 0)
		return -1;
	if (s->ch)
		dr_ch_record(s->ch, q, f.src_bin, f.bin_len, f.dst_bin, f.bin_len);
	return 0;
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

int64_t dr_store_query_int(struct dr_store *s, const char *sql, int *isnull)
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
	int64_t pages = dr_store_query_int(s, "PRAGMA page_count", &isnull);
	int64_t freel = dr_store_query_int(s, "PRAGMA freelist_count", &isnull);
	int64_t size = dr_store_query_int(s, "PRAGMA page_size", &isnull);
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
	int rc = dr_store_exec(s, "BEGIN IMMEDIATE");
	if (rc == 0)
		rc = delete_where(s, "DELETE FROM agg WHERE minute < ?1", cutoff, &deleted);
	if (rc == 0)
		rc = delete_where(s, "DELETE FROM records WHERE ts < ?1", cutoff, &deleted);
	if (rc == 0)
		rc = delete_where(s, "DELETE FROM alerts WHERE state <> 'open' AND end < ?1",
				  cutoff, &alerts);
	if (rc == 0 && alerts) {
		/* an alert's events go with it */
		rc = dr_store_exec(s, "DELETE FROM events WHERE NOT EXISTS (SELECT 1 FROM alerts"
			  " WHERE alerts.run = events.run AND alerts.id = events.alert)");
		deleted += (uint64_t)sqlite3_changes(s->db);
	}
	deleted += alerts;
	double cap = mib * 1048576.0;
	int shrunk = 0;
	if (rc == 0 && (double)used_bytes(s) > cap) {
		for (int i = 0; rc == 0 && i < 100000 && (double)used_bytes(s) > cap * 0.9; i++) {
			int isnull;
			int64_t oldest = dr_store_query_int(s, "SELECT CAST(min(ts) AS INTEGER) FROM records",
						   &isnull);
			if (!isnull) {
				rc = delete_where(s, "DELETE FROM records WHERE ts < ?1",
						  (double)(oldest - oldest % 60 + 60), &deleted);
				continue;
			}
			oldest = dr_store_query_int(s, "SELECT min(minute) FROM agg", &isnull);
			if (isnull)
				break;	/* only alerts left: they are kept */
			rc = delete_where(s, "DELETE FROM agg WHERE minute <= ?1", (double)oldest,
					  &deleted);
		}
		shrunk = 1;
	}
	if (rc == 0)
		rc = dr_store_exec(s, "COMMIT");
	if (rc < 0) {
		dr_store_note_error(s, "retention");
		dr_store_exec(s, "ROLLBACK");
		return;
	}
	if (shrunk || deleted)
		dr_store_exec(s, "PRAGMA incremental_vacuum");
	if (shrunk)
		dr_store_exec(s, "PRAGMA wal_checkpoint(TRUNCATE)");
	int isnull;
	int64_t bytes = dr_store_query_int(s, "PRAGMA page_count", &isnull) *
			dr_store_query_int(s, "PRAGMA page_size", &isnull);
	pthread_mutex_lock(&s->lock);
	s->st.deleted_rows += deleted;
	s->st.file_bytes = (uint64_t)bytes;
	pthread_mutex_unlock(&s->lock);
}

void dr_store_process(struct dr_store *s, struct batch *b)
{
	uint32_t rows = 0;
	int rc = dr_store_exec(s, "BEGIN IMMEDIATE");
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
		rc = dr_store_exec(s, "COMMIT");
	if (s->ch) {
		/* ClickHouse gets what SQLite holds, no more, no less */
		if (rc == 0)
			dr_ch_commit(s->ch);
		else
			dr_ch_abort(s->ch);
	}
	if (rc < 0) {
		dr_store_note_error(s, b->type == BATCH_EVENT ? "alert event" : b->type == BATCH_MINUTE
			   ? "minute" : "records");
		dr_store_exec(s, "ROLLBACK");
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

struct batch *dr_store_pop(struct dr_store *s)
{
	struct batch *b;
	if (s->elen) {	/* events first: an alert is never behind a minute */
		b = s->equeue[s->ehead];
		s->ehead = (s->ehead + 1) % s->ecap;
		s->elen--;
	} else {
		b = s->queue[s->qhead];
		s->qhead = (s->qhead + 1) % s->qcap;
		s->qlen--;
	}
	s->st.queue_depth = s->qlen + s->elen;
	return b;
}

void *dr_store_writer_main(void *arg)
{
	struct dr_store *s = arg;
	for (;;) {
		pthread_mutex_lock(&s->lock);
		while (!s->qlen && !s->elen && !s->stopping) {
			if (!s->ch) {
				pthread_cond_wait(&s->wake, &s->lock);
				continue;
			}
			/* ClickHouse's batches are spooled by age: wake each second */
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			if (pthread_cond_timedwait(&s->wake, &s->lock, &ts) != 0)
				break;
		}
		if (s->ch) {
			pthread_mutex_unlock(&s->lock);
			dr_ch_tick(s->ch, dr_wall_now());
			pthread_mutex_lock(&s->lock);
		}
		if (!s->qlen && !s->elen && !s->stopping) {
			pthread_mutex_unlock(&s->lock);
			continue;
		}
		if (!s->qlen && !s->elen) {
			pthread_mutex_unlock(&s->lock);
			break;
		}
		struct batch *b = dr_store_pop(s);
		pthread_mutex_unlock(&s->lock);
		dr_store_process(s, b);
		dr_store_batch_free(b);
	}
	return NULL;
}

/* Hands b to the writer; a full queue drops it, counted. Never waits. */
void dr_store_enqueue(struct dr_store *s, struct batch *b)
{
	int event = b->type == BATCH_EVENT;
	pthread_mutex_lock(&s->lock);
	if (event ? s->elen == s->ecap : s->qlen == s->qcap) {
		s->st.dropped_batches++;
		if (event)
			s->st.dropped_events++;
		pthread_mutex_unlock(&s->lock);
		dr_store_batch_free(b);
		return;
	}
	if (event)
		s->equeue[(s->ehead + s->elen++) % s->ecap] = b;
	else
		s->queue[(s->qhead + s->qlen++) % s->qcap] = b;
	s->st.queue_depth = s->qlen + s->elen;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}
