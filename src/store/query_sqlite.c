/* The reader's SQLite backend (query_int.h): read-only queries on the
 * service's store file. SQL text comes only from the fixed fragments
 * below; every value a user gave is a bound parameter. */
#include "store/query_int.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decode/dns.h"
#include "store/schema.h"

#define BUSY_TIMEOUT_MS 2000
#define PROGRESS_EVERY 1000	/* VM steps between progress callbacks */
#define SQL_MAX 8192

struct sq {
	struct dr_query base;
	sqlite3 *db;
	char path[512];
	unsigned long steps;	/* progress callbacks of the running query */
};

static int progress(void *arg)
{
	struct sq *q = arg;
	return ++q->steps > DR_QUERY_STEPS_MAX / PROGRESS_EVERY;
}

static void sq_close(struct dr_query *base);

static int sq_open(struct dr_query **qp, const char *path, char *errbuf, size_t errlen)
{
	struct sq *q = calloc(1, sizeof(*q));
	sqlite3_stmt *st = NULL;
	struct stat sb;
	int ok = 0;

	*qp = NULL;
	if (!q) {
		snprintf(errbuf, errlen, "%s: out of memory", path);
		return -1;
	}
	q->base.ops = &dr_query_sqlite;
	snprintf(q->path, sizeof(q->path), "%s", path);
	/* SQLite's own message for a missing file says nothing of why. */
	if (stat(path, &sb) != 0) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(errbuf, errlen, "%s: not a file", path);
		goto out;
	}
	if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(errbuf, errlen, "%s: %s", path, q->db ? sqlite3_errmsg(q->db) : "cannot open");
		goto out;
	}
	sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS);
	sqlite3_progress_handler(q->db, PROGRESS_EVERY, progress, q);
	if (sqlite3_prepare_v2(q->db,
			       "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
			       "('meta', 'alerts', 'events', 'agg', 'records')", -1, &st,
			       NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		snprintf(errbuf, errlen, "%s: not a dnsradar store (%s)", path, sqlite3_errmsg(q->db));
		goto out;
	}
	if (sqlite3_column_int(st, 0) != 5) {
		snprintf(errbuf, errlen, "%s: not a dnsradar store (no alerts, agg and records "
			 "tables)", path);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	/* A newer writer may have changed what the columns mean. */
	if (sqlite3_prepare_v2(q->db, "SELECT value FROM meta WHERE key = 'schema_version'", -1,
			       &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_int(st, 0) > DR_STORE_SCHEMA_VERSION) {
		snprintf(errbuf, errlen, "%s: schema version %d is newer than this dnsradar's (%d)",
			 path, sqlite3_column_int(st, 0), DR_STORE_SCHEMA_VERSION);
		goto out;
	}
	ok = 1;
out:
	sqlite3_finalize(st);
	if (!ok) {
		sq_close(&q->base);
		return -1;
	}
	*qp = &q->base;
	return 0;
}

static void sq_close(struct dr_query *base)
{
	struct sq *q = (struct sq *)base;
	if (!q)
		return;
	sqlite3_close(q->db);
	free(q);
}

/* A statement being put together: fixed SQL fragments, bound values. */
struct sql {
	char text[SQL_MAX];
	size_t len;
	unsigned n;
	struct {
		int kind;	/* 'i' integer, 'd' double, 't' text, 'b' blob */
		int64_t i;
		double d;
		const void *p;
		int len;
	} v[DR_WHERE_MAX * 2 + 16];
	uint8_t blobs[DR_WHERE_MAX * 2][17];
	char names[DR_WHERE_MAX][DR_NAME_TEXT_MAX + 1];
	unsigned nblobs, nnames;
	int by_address;		/* a narrow src/dst condition: use its index */
	int overflow;		/* a fragment did not fit: never run a cut query */
};

static void sql_add(struct sql *s, const char *frag)
{
	size_t n = strlen(frag);
	if (s->len + n < sizeof(s->text)) {
		memcpy(s->text + s->len, frag, n + 1);
		s->len += n;
	} else {
		s->overflow = 1;
	}
}

static void bind_i(struct sql *s, int64_t v)
{
	s->v[s->n].kind = 'i';
	s->v[s->n++].i = v;
}

static void bind_d(struct sql *s, double v)
{
	s->v[s->n].kind = 'd';
	s->v[s->n++].d = v;
}

static void bind_t(struct sql *s, const char *t)
{
	s->v[s->n].kind = 't';
	s->v[s->n++].p = t;
}

static void bind_b(struct sql *s, const void *p, int len)
{
	s->v[s->n].kind = 'b';
	s->v[s->n].p = p;
	s->v[s->n++].len = len;
}

/* The key an address is stored under: family, then its octets. */
static void cidr_bounds(struct sql *s, const struct dr_where_cond *c)
{
	unsigned alen = c->family == 4 ? 4 : 16;
	uint8_t *lo = s->blobs[s->nblobs++], *hi = s->blobs[s->nblobs++];
	lo[0] = hi[0] = c->family;
	for (unsigned i = 0; i < alen; i++) {
		unsigned bits = c->prefix > i * 8 ? c->prefix - i * 8 : 0;
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
		lo[1 + i] = c->addr[i] & mask;
		hi[1 + i] = (uint8_t)(c->addr[i] | (uint8_t)~mask);
	}
	bind_b(s, lo, (int)alen + 1);
	bind_b(s, hi, (int)alen + 1);
}

/* " AND ..." for every --where condition, on the records table. */
static void where_sql(struct sql *s, const struct dr_where *w)
{
	for (unsigned i = 0; w && i < w->n; i++) {
		const struct dr_where_cond *c = &w->cond[i];
		switch (c->field) {
		case DR_W_SRC:
		case DR_W_DST:
			/* one address is an equality, so that the (src_bin, ts)
			 * index gives the rows in time order; a prefix a range */
			if (c->prefix >= (c->family == 4 ? 16 : 48))
				s->by_address = 1;
			if (c->prefix == (c->family == 4 ? 32 : 128)) {
				sql_add(s, c->field == DR_W_SRC ? " AND src_bin = ?" : " AND dst_bin = ?");
				cidr_bounds(s, c);
				s->n--;	/* lo and hi are the same: bind one */
			} else {
				sql_add(s, c->field == DR_W_SRC ? " AND src_bin BETWEEN ? AND ?"
					   : " AND dst_bin BETWEEN ? AND ?");
				cidr_bounds(s, c);
			}
			break;
		case DR_W_SPORT:
			sql_add(s, " AND sport = ?");
			bind_i(s, c->value);
			break;
		case DR_W_DPORT:
			sql_add(s, " AND dport = ?");
			bind_i(s, c->value);
			break;
		case DR_W_QNAME: {
			char *name = s->names[s->nnames++];
			dr_name_to_text(c->name, c->name_len, name);
			if (c->suffix && c->name_len == 1) {	/* *: any name */
				sql_add(s, " AND qname IS NOT NULL");
			} else if (c->suffix) {
				/* the zone itself, or a name ending in ".zone": one
				 * value used three times, numbered explicitly */
				char frag[160];
				unsigned k = s->n + 1;
				snprintf(frag, sizeof(frag), " AND (lower(qname) = ?%u OR substr(lower("
					 "qname), -length(?%u) - 1) = '.' || ?%u)", k, k, k);
				sql_add(s, frag);
				bind_t(s, name);
			} else {
				sql_add(s, " AND lower(qname) = ?");
				bind_t(s, name);
			}
			break;
		}
		case DR_W_QTYPE:
			sql_add(s, " AND qtype = ?");
			bind_i(s, c->value);
			break;
		case DR_W_RCODE:
			sql_add(s, " AND rcode = ?");
			bind_i(s, c->value);
			break;
		case DR_W_QR:
			sql_add(s, " AND qr = ?");
			bind_i(s, c->value);
			break;
		case DR_W_PROTO:
			sql_add(s, " AND proto = ?");
			bind_i(s, c->value);
			break;
		case DR_W_MALFORMED:
			if (c->value == DR_MAL_COUNT) {
				sql_add(s, " AND malformed IS NOT NULL AND malformed <> ''");
			} else if (c->value == DR_MAL_NONE) {
				sql_add(s, " AND (malformed IS NULL OR malformed = '')");
			} else {
				sql_add(s, " AND malformed = ?");
				bind_t(s, dr_malformed_name(c->value));
			}
			break;
		}
	}
}

/* " AND ts >= ? AND ts < ?" after the --where conditions. With a narrow
 * address condition, "+ts" keeps SQLite (which has no statistics on a
 * read-only file) from walking the time index over the whole range and
 * has it take the address index, then sort the few rows it finds. */
static void ts_range_sql(struct sql *s, const struct dr_query_params *p)
{
	sql_add(s, s->by_address ? " AND +ts >= ? AND +ts < ?" : " AND ts >= ? AND ts < ?");
	bind_d(s, p->from);
	bind_d(s, p->to);
}

/* Numbers every bare "?" in the order the values were bound; "?N" (a
 * value used more than once) is kept and counted. */
static void sql_number(struct sql *s)
{
	char out[SQL_MAX + 256];
	size_t o = 0;
	unsigned next = 0;
	size_t i;
	for (i = 0; i < s->len && o + 8 < sizeof(out); i++) {
		if (s->text[i] != '?') {
			out[o++] = s->text[i];
			continue;
		}
		if (s->text[i + 1] >= '0' && s->text[i + 1] <= '9') {
			unsigned num = 0;
			out[o++] = '?';
			while (s->text[i + 1] >= '0' && s->text[i + 1] <= '9') {
				num = num * 10 + (unsigned)(s->text[i + 1] - '0');
				out[o++] = s->text[++i];
			}
			if (num > next)
				next = num;
			continue;
		}
		o += (size_t)snprintf(out + o, sizeof(out) - o, "?%u", ++next);
	}
	if (i < s->len || o >= sizeof(s->text))
		s->overflow = 1;
	out[o] = 0;
	memcpy(s->text, out, o + 1 < sizeof(s->text) ? o + 1 : sizeof(s->text));
	s->text[sizeof(s->text) - 1] = 0;
	s->len = strlen(s->text);
}

static int sql_prepare(struct sq *q, struct sql *s, sqlite3_stmt **st, char *errbuf,
		       size_t errlen)
{
	sql_number(s);
	if (s->overflow) {
		snprintf(errbuf, errlen, "too many conditions for one query");
		return -1;
	}
	if (sqlite3_prepare_v2(q->db, s->text, -1, st, NULL) != SQLITE_OK) {
		snprintf(errbuf, errlen, "%s: %s", q->path, sqlite3_errmsg(q->db));
		return -1;
	}
	for (unsigned i = 0; i < s->n; i++) {
		int k = (int)i + 1, rc;
		switch (s->v[i].kind) {
		case 'i': rc = sqlite3_bind_int64(*st, k, s->v[i].i); break;
		case 'd': rc = sqlite3_bind_double(*st, k, s->v[i].d); break;
		case 't': rc = sqlite3_bind_text(*st, k, s->v[i].p, -1, SQLITE_STATIC); break;
		default: rc = sqlite3_bind_blob(*st, k, s->v[i].p, s->v[i].len, SQLITE_STATIC); break;
		}
		if (rc != SQLITE_OK) {
			snprintf(errbuf, errlen, "%s: %s", q->path, sqlite3_errmsg(q->db));
			sqlite3_finalize(*st);
			*st = NULL;
			return -1;
		}
	}
	q->steps = 0;
	return 0;
}

/* After sqlite3_step stopped: 0 when it ran to the end, else -1. */
static int step_error(struct sq *q, int rc, char *errbuf, size_t errlen)
{
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_INTERRUPT)
		snprintf(errbuf, errlen, "%s: the query was stopped after %u steps; narrow the "
			 "range or add conditions", q->path, DR_QUERY_STEPS_MAX);
	else
		snprintf(errbuf, errlen, "%s: %s", q->path, sqlite3_errmsg(q->db));
	return -1;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static const char *col_text0(sqlite3_stmt *st, int i)
{
	const char *t = col_text(st, i);
	return t ? t : "";
}

static int sq_alerts(struct dr_query *base, const struct dr_query_params *p, dr_query_alert_fn fn,
		    void *ctx, struct dr_query_result *res, char *errbuf, size_t errlen)
{
	struct sq *q = (struct sq *)base;
	struct sql *s = calloc(1, sizeof(*s));
	sqlite3_stmt *st = NULL;
	int ret = -1, rc;

	if (!s) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	sql_add(s, "SELECT type, key, state, severity, start, end, detected, updated, peak_pps,"
		   " peak_bps, packets, bytes, json FROM alerts WHERE end >= ? AND start < ?");
	bind_d(s, p->from);
	bind_d(s, p->to);
	if (p->state != DR_QS_ALL) {
		sql_add(s, " AND state = ?");
		bind_t(s, dr_query_state_names[p->state]);
	}
	if (p->type) {
		sql_add(s, " AND type = ?");
		bind_t(s, p->type);
	}
	sql_add(s, " ORDER BY start, run, id LIMIT ?");
	bind_i(s, (int64_t)p->limit + 1);
	if (sql_prepare(q, s, &st, errbuf, errlen) < 0)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (res->rows == p->limit) {
			res->truncated = 1;
			break;
		}
		struct dr_query_alert a = {
			.type = col_text0(st, 0), .key = col_text0(st, 1), .state = col_text0(st, 2),
			.severity = col_text0(st, 3), .start = sqlite3_column_double(st, 4),
			.end = sqlite3_column_double(st, 5), .detected = sqlite3_column_double(st, 6),
			.updated = sqlite3_column_double(st, 7), .peak_pps = sqlite3_column_double(st, 8),
			.peak_bps = sqlite3_column_double(st, 9),
			.packets = (uint64_t)sqlite3_column_int64(st, 10),
			.bytes = (uint64_t)sqlite3_column_int64(st, 11), .json = col_text0(st, 12),
			.json_len = (size_t)sqlite3_column_bytes(st, 12),
		};
		res->rows++;
		if (fn(ctx, &a))
			break;
	}
	if (step_error(q, rc, errbuf, errlen) < 0)
		goto out;
	ret = 0;
out:
	sqlite3_finalize(st);
	free(s);
	return ret;
}


/* The distinct sources, source prefixes and ASNs of kept records, after
 * their three sums. A prefix is the start of src_bin: the family byte and
 * three octets of IPv4 (a /24, 5 bytes in all) or six of IPv6 (a /48). An
 * ASN of NULL (no database, or not found) or 0 is none. */
#define DISTINCT_SQL ", count(DISTINCT src_bin), count(DISTINCT substr(src_bin, 1," \
	" CASE WHEN length(src_bin) = 5 THEN 4 ELSE 7 END))," \
	" count(DISTINCT CASE WHEN asn <> 0 THEN asn END)"

/* Runs a totals statement: one row of three sums (and with distinct, the
 * three counts of DISTINCT_SQL). */
static int totals(struct sq *q, struct sql *s, int distinct, struct dr_query_result *res,
		  char *errbuf, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	if (sql_prepare(q, s, &st, errbuf, errlen) < 0)
		return -1;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		res->total_messages = sqlite3_column_double(st, 0);
		res->total_packets = sqlite3_column_double(st, 1);
		res->total_bytes = sqlite3_column_double(st, 2);
		if (distinct) {
			res->total_sources = (uint64_t)sqlite3_column_int64(st, 3);
			res->total_prefixes = (uint64_t)sqlite3_column_int64(st, 4);
			res->total_asns = (uint64_t)sqlite3_column_int64(st, 5);
		}
	}
	rc = step_error(q, rc, errbuf, errlen);
	sqlite3_finalize(st);
	return rc;
}

/* Steps through count rows (key, messages, packets, bytes; or minute
 * first for series; top from records: the counts of DISTINCT_SQL after). */
static int count_rows(struct sq *q, struct sql *s, const struct dr_query_params *p,
		      int series, dr_query_count_fn fn, void *ctx, struct dr_query_result *res,
		      char *errbuf, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	char buf[32];
	int rc;
	if (sql_prepare(q, s, &st, errbuf, errlen) < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (res->rows == p->limit) {
			res->truncated = 1;
			break;
		}
		struct dr_query_count c = {
			.messages = sqlite3_column_double(st, 1),
			.packets = sqlite3_column_double(st, 2),
			.bytes = sqlite3_column_double(st, 3),
		};
		if (series) {
			c.minute = sqlite3_column_int64(st, 0);
		} else {
			c.key = dr_query_key_shown(p->dim, col_text0(st, 0), buf, sizeof(buf));
			c.share = res->total_packets > 0 ? c.packets / res->total_packets : 0;
		}
		if (!series && res->sampled) {
			c.has_distinct = 1;
			c.sources = (uint64_t)sqlite3_column_int64(st, 4);
			c.prefixes = (uint64_t)sqlite3_column_int64(st, 5);
			c.asns = (uint64_t)sqlite3_column_int64(st, 6);
		}
		res->rows++;
		if (fn(ctx, &c))
			break;
	}
	rc = step_error(q, rc, errbuf, errlen);
	sqlite3_finalize(st);
	return rc;
}

static int sq_top(struct dr_query *base, const struct dr_query_params *p, dr_query_count_fn fn,
		 void *ctx, struct dr_query_result *res, char *errbuf, size_t errlen)
{
	struct sq *q = (struct sq *)base;
	struct sql *s = calloc(1, sizeof(*s));
	int ret = -1;
	if (!s) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	if (p->where && p->where->n) {
		/* The column name comes from the fixed table, never the user. */
		const char *col = dr_query_record_columns[p->dim];
		res->sampled = 1;
		sql_add(s, "SELECT sum(weight), sum(packets * weight), sum(bytes * weight)"
			   DISTINCT_SQL " FROM records WHERE 1");
		where_sql(s, p->where);
		ts_range_sql(s, p);
		if (totals(q, s, 1, res, errbuf, errlen) < 0)
			goto out;
		memset(s, 0, sizeof(*s));
		sql_add(s, "SELECT ");
		sql_add(s, col);
		sql_add(s, ", sum(weight), sum(packets * weight), sum(bytes * weight)" DISTINCT_SQL
			   " FROM records WHERE 1");
		where_sql(s, p->where);
		ts_range_sql(s, p);
		sql_add(s, " AND ");
		sql_add(s, col);
		sql_add(s, " IS NOT NULL");
		if (p->dim == DR_QD_ASN)
			sql_add(s, " AND asn <> 0");	/* AS 0 is no AS, as in the distinct count */
		sql_add(s, " GROUP BY 1 ORDER BY 3 DESC, 2 DESC, 1 LIMIT ?");
	} else {
		/* Every minute that meets the range counts whole. */
		sql_add(s, "SELECT sum(messages), sum(packets), sum(bytes) FROM agg"
			   " WHERE dim = 'total' AND minute > ? AND minute < ?");
		bind_d(s, p->from - 60);
		bind_d(s, p->to);
		if (totals(q, s, 0, res, errbuf, errlen) < 0)
			goto out;
		memset(s, 0, sizeof(*s));
		sql_add(s, "SELECT key, sum(messages), sum(packets), sum(bytes) FROM agg"
			   " WHERE dim = ? AND minute > ? AND minute < ? AND key <> '(other)'"
			   " GROUP BY key ORDER BY 3 DESC, 2 DESC, key LIMIT ?");
		bind_t(s, dr_query_dim_names[p->dim]);
		bind_d(s, p->from - 60);
		bind_d(s, p->to);
	}
	bind_i(s, (int64_t)p->limit + 1);
	ret = count_rows(q, s, p, 0, fn, ctx, res, errbuf, errlen);
out:
	free(s);
	return ret;
}

static int sq_series(struct dr_query *base, const struct dr_query_params *p, dr_query_count_fn fn,
		    void *ctx, struct dr_query_result *res, char *errbuf, size_t errlen)
{
	struct sq *q = (struct sq *)base;
	struct sql *s = calloc(1, sizeof(*s));
	int ret;
	if (!s) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	sql_add(s, "SELECT minute, sum(messages), sum(packets), sum(bytes) FROM agg"
		   " WHERE dim = ? AND minute > ? AND minute < ?");
	bind_t(s, dr_query_dim_names[p->dim]);
	bind_d(s, p->from - 60);
	bind_d(s, p->to);
	if (p->key) {
		sql_add(s, " AND key = ?");
		bind_t(s, p->key);
	}
	sql_add(s, " GROUP BY minute ORDER BY minute LIMIT ?");
	bind_i(s, (int64_t)p->limit + 1);
	ret = count_rows(q, s, p, 1, fn, ctx, res, errbuf, errlen);
	free(s);
	return ret;
}

static int col_int(sqlite3_stmt *st, int i, int *have)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return 0;
	if (have)
		*have = 1;
	return sqlite3_column_int(st, i);
}

static int sq_records(struct dr_query *base, const struct dr_query_params *p,
		     dr_query_record_fn fn, void *ctx, struct dr_query_result *res,
		     char *errbuf, size_t errlen)
{
	struct sq *q = (struct sq *)base;
	struct sql *s = calloc(1, sizeof(*s));
	sqlite3_stmt *st = NULL;
	int ret = -1, rc;
	if (!s) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	sql_add(s, "SELECT ts, kind, src, sport, dst, dport, proto, id, qr, opcode, rcode, aa, tc,"
		   " rd, ra, qname, zone, qtype, qclass, an, ns, ar, len, edns_udp, do, malformed,"
		   " packets, bytes, country, asn, why, weight FROM records WHERE 1");
	where_sql(s, p->where);
	ts_range_sql(s, p);
	sql_add(s, " ORDER BY ts LIMIT ?");
	bind_i(s, (int64_t)p->limit + 1);
	if (sql_prepare(q, s, &st, errbuf, errlen) < 0)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (res->rows == p->limit) {
			res->truncated = 1;
			break;
		}
		struct dr_query_record r = {
			.ts = sqlite3_column_double(st, 0), .kind = col_text0(st, 1),
			.src = col_text0(st, 2), .sport = sqlite3_column_int(st, 3),
			.dst = col_text0(st, 4), .dport = sqlite3_column_int(st, 5),
			.proto = sqlite3_column_int(st, 6),
			.qname = col_text(st, 15), .zone = col_text(st, 16),
			.len = sqlite3_column_int(st, 22), .malformed = col_text(st, 25),
			.packets = sqlite3_column_int64(st, 26), .bytes = sqlite3_column_int64(st, 27),
			.country = col_text(st, 28), .why = col_text0(st, 30),
			.weight = sqlite3_column_double(st, 31),
		};
		if (r.malformed && !*r.malformed)
			r.malformed = NULL;
		r.id = col_int(st, 7, &r.has_dns);
		r.qr = col_int(st, 8, NULL);
		r.opcode = col_int(st, 9, NULL);
		r.rcode = col_int(st, 10, NULL);
		r.aa = col_int(st, 11, NULL);
		r.tc = col_int(st, 12, NULL);
		r.rd = col_int(st, 13, NULL);
		r.ra = col_int(st, 14, NULL);
		r.qtype = col_int(st, 17, NULL);
		r.qclass = col_int(st, 18, NULL);
		r.an = col_int(st, 19, NULL);
		r.ns = col_int(st, 20, NULL);
		r.ar = col_int(st, 21, NULL);
		r.edns_udp = col_int(st, 23, &r.has_edns);
		r.do_bit = col_int(st, 24, NULL);
		r.asn = sqlite3_column_int64(st, 29);
		r.has_asn = sqlite3_column_type(st, 29) != SQLITE_NULL;
		res->rows++;
		if (fn(ctx, &r))
			break;
	}
	if (step_error(q, rc, errbuf, errlen) < 0)
		goto out;
	ret = 0;
out:
	sqlite3_finalize(st);
	free(s);
	return ret;
}

/* Any path is a file: this backend is tried last. */
static int sq_claims(const char *path)
{
	(void)path;
	return 1;
}

/* A file may appear after the check (the service makes it): any path. */
static int sq_check(const char *path, char *errbuf, size_t errlen)
{
	(void)path;
	(void)errbuf;
	(void)errlen;
	return 0;
}

const struct dr_query_ops dr_query_sqlite = {
	.name = "SQLite", .claims = sq_claims, .check = sq_check, .open = sq_open, .close = sq_close,
	.alerts = sq_alerts, .top = sq_top, .series = sq_series, .records = sq_records,
};
