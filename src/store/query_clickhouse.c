/* The reader's ClickHouse backend (query_int.h): the queries of
 * query_sqlite.c on the tables of ch_schema.h, sent over the HTTP
 * interface with libcurl and read back as TabSeparated, row by row,
 * through a line buffer with a hard cap. The path is
 * clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE (the HTTP port).
 *
 * 18.16 has no bound parameters: every value is a literal quoted by
 * ch_sql.c. Each request carries its own limits as settings in the URL
 * (rows read, seconds), the bound SQLite's step budget gives there. */
#include "store/query_int.h"

#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/dns.h"
#include "store/ch_answer.h"
#include "store/ch_schema.h"
#include "store/ch_sql.h"

#define CH_PREFIX DR_QUERY_CLICKHOUSE_PREFIX
#define CH_DEFAULT_PORT "8123"
#define CH_SQL_MAX 16384
#define CH_CONNECT_MS 5000L
/* What one query may cost the server, as settings of the request: a
 * longer or larger query is stopped by ClickHouse with code 158 or 159. */
#define CH_QUERY_SECONDS 60
#define CH_ROWS_MAX 1000000000ull

struct chq {
	struct dr_query base;
	CURL *curl;
	char name[512];		/* clickhouse://HOST:PORT/DB, for messages (no password) */
	char url[640];		/* http://HOST:PORT/?settings */
	char user[128], password[256];
	char db[128];
	/* the tables read, database-qualified: the Distributed *_all ones
	 * when the database has them */
	char alert_events[200], agg[200], records[200];
};

/* The answer being read, and the query's connection for its status. */
struct answer {
	struct dr_ch_answer a;
	struct chq *q;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct answer *w = arg;
	if (!w->a.status)
		curl_easy_getinfo(w->q->curl, CURLINFO_RESPONSE_CODE, &w->a.status);
	return dr_ch_answer_take(&w->a, data, size * nmemb);
}

/* Sends s; every row of its answer (ncols fields) to fn. 0, or -1 with
 * "clickhouse://...: reason" in errbuf. */
static int ch_run(struct chq *q, const struct dr_ch_sql *s, unsigned ncols, row_fn fn, void *ctx,
		  char *errbuf, size_t errlen)
{
	struct answer w = {.a = {.ncols = ncols, .fn = fn, .ctx = ctx}, .q = q};
	struct dr_ch_answer *a = &w.a;
	char cerr[CURL_ERROR_SIZE] = "";
	int ret = -1;

	if (s->overflow) {
		snprintf(errbuf, errlen, "too many conditions for one query");
		return -1;
	}
	curl_easy_reset(q->curl);
	curl_easy_setopt(q->curl, CURLOPT_URL, q->url);
	curl_easy_setopt(q->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(q->curl, CURLOPT_POSTFIELDS, s->text);
	curl_easy_setopt(q->curl, CURLOPT_POSTFIELDSIZE, (long)s->len);
	curl_easy_setopt(q->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(q->curl, CURLOPT_WRITEDATA, &w);
	curl_easy_setopt(q->curl, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(q->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(q->curl, CURLOPT_CONNECTTIMEOUT_MS, CH_CONNECT_MS);
	curl_easy_setopt(q->curl, CURLOPT_TIMEOUT, (long)CH_QUERY_SECONDS + 15L);
	curl_easy_setopt(q->curl, CURLOPT_ACCEPT_ENCODING, "");
	if (q->user[0]) {
		curl_easy_setopt(q->curl, CURLOPT_USERNAME, q->user);
		curl_easy_setopt(q->curl, CURLOPT_PASSWORD, q->password);
	}
	CURLcode rc = curl_easy_perform(q->curl);
	if (a->stopped) {
		ret = 0;
		goto out;
	}
	if (a->bad) {
		snprintf(errbuf, errlen, "%s: %s", q->name, a->err);
		goto out;
	}
	if (rc != CURLE_OK) {
		/* no answer at all, or one that broke off */
		snprintf(errbuf, errlen, "%s: %s: %s", q->name,
			 a->status ? "the answer broke off" : "cannot reach ClickHouse",
			 cerr[0] ? cerr : curl_easy_strerror(rc));
		goto out;
	}
	if (!a->status)
		curl_easy_getinfo(q->curl, CURLINFO_RESPONSE_CODE, &a->status);
	if (a->status != 200) {
		dr_ch_server_message(a->err);
		/* what the user can do about the two the reader causes */
		const char *hint = "";
		if (strncmp(a->err, "Code: 158,", 10) == 0 || strncmp(a->err, "Code: 159,", 10) == 0)
			hint = "; narrow the range or add conditions";
		else if (strncmp(a->err, "Code: 164,", 10) == 0)
			hint = "; the reader sets its limits per query: give its user a profile "
			       "with readonly = 2, not 1";
		snprintf(errbuf, errlen, "%s: %s%s", q->name,
			 a->err[0] ? a->err : "an HTTP error without a message", hint);
		goto out;
	}
	if (a->len) {
		snprintf(errbuf, errlen, "%s: the answer ends inside a row", q->name);
		goto out;
	}
	ret = 0;
out:
	dr_ch_answer_free(a);
	return ret;
}

static double num(const char *f)
{
	return f ? strtod(f, NULL) : 0;
}

static int64_t inum(const char *f)
{
	return f ? strtoll(f, NULL, 10) : 0;
}

/* --- opening ------------------------------------------------------- */

static int ch_claims(const char *path)
{
	return strncmp(path, CH_PREFIX, strlen(CH_PREFIX)) == 0;
}

static void ch_close(struct dr_query *base)
{
	struct chq *q = (struct chq *)base;
	if (!q)
		return;
	if (q->curl)
		curl_easy_cleanup(q->curl);
	free(q);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A user or password of the URL, %XX undone (so that '@', ':' and '/'
 * can be in them); 0, or -1 when it does not fit or a %XX is bad. */
static int unescape(char *out, size_t cap, const char *p, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '%') {
			int hi = i + 2 < n ? hexval(p[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(p[i + 2]) : -1;
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = c;
	}
	out[o] = 0;
	return 0;
}

/* The '@' that ends USER[:PASSWORD] in the n characters at p, or NULL. */
static const char *last_at(const char *p, size_t n)
{
	while (n--)
		if (p[n] == '@')
			return p + n;
	return NULL;
}

/* The path as messages show it: the password, if any, as ***. */
static void redact(char *out, size_t cap, const char *path)
{
	const char *p = path + strlen(CH_PREFIX);
	const char *slash = strchr(p, '/');
	const char *at = last_at(p, slash ? (size_t)(slash - p) : strlen(p));
	const char *colon = at ? memchr(p, ':', (size_t)(at - p)) : NULL;
	if (colon)
		snprintf(out, cap, "%.*s:***%s", (int)(colon - path), path, at);
	else
		snprintf(out, cap, "%s", path);
}

/* Splits the path into its parts; 0, or -1 with the reason. */
static int parse_url(struct chq *q, const char *path, char *errbuf, size_t errlen)
{
	const char *p = path + strlen(CH_PREFIX);
	const char *slash = strchr(p, '/');
	const char *at = last_at(p, slash ? (size_t)(slash - p) : strlen(p));
	char host[256], shown[512];
	redact(shown, sizeof(shown), path);
	path = shown;
	if (!slash || !slash[1]) {
		snprintf(errbuf, errlen, "%s: give the database: clickhouse://HOST:PORT/DATABASE",
			 path);
		return -1;
	}
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		size_t ulen = (size_t)((colon ? colon : at) - p);
		size_t plen = colon ? (size_t)(at - colon - 1) : 0;
		if (ulen == 0 || unescape(q->user, sizeof(q->user), p, ulen) < 0 ||
		    unescape(q->password, sizeof(q->password), colon ? colon + 1 : at, plen) < 0) {
			snprintf(errbuf, errlen, "%s: the user or password before '@' is empty, too "
				 "long or badly %%-escaped", path);
			return -1;
		}
		p = at + 1;
	}
	size_t hlen = (size_t)(slash - p);
	if (hlen == 0 || hlen >= sizeof(host) - 8) {
		snprintf(errbuf, errlen, "%s: give the host: clickhouse://HOST:PORT/DATABASE", path);
		return -1;
	}
	memcpy(host, p, hlen);
	host[hlen] = 0;
	if (strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
	    hlen) {
		snprintf(errbuf, errlen, "%s: '%s' is not a HOST or HOST:PORT", path, host);
		return -1;
	}
	/* a port is what follows the last ':' outside brackets */
	const char *close = strrchr(host, ']');
	const char *colon = strrchr(close ? close : host, ':');
	if (!colon && host[0] != '[' && strchr(host, ':')) {
		snprintf(errbuf, errlen, "%s: an IPv6 host goes in brackets: [::1]:8123", path);
		return -1;
	}
	const char *db = slash + 1;
	size_t dlen = strlen(db);
	if (dlen >= sizeof(q->db) ||
	    strspn(db, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != dlen) {
		snprintf(errbuf, errlen, "%s: the database '%s' is not a name (letters, digits, _)",
			 path, db);
		return -1;
	}
	memcpy(q->db, db, dlen + 1);
	snprintf(q->name, sizeof(q->name), CH_PREFIX "%s%s%s/%s", host, colon ? "" : ":",
		 colon ? "" : CH_DEFAULT_PORT, db);
	snprintf(q->url, sizeof(q->url), "http://%s%s%s/?max_execution_time=%d"
		 "&timeout_overflow_mode=throw&max_rows_to_read=%llu&read_overflow_mode=throw"
		 "&wait_end_of_query=1", host, colon ? "" : ":", colon ? "" : CH_DEFAULT_PORT,
		 CH_QUERY_SECONDS, CH_ROWS_MAX);
	return 0;
}

static int ch_check(const char *path, char *errbuf, size_t errlen)
{
	struct chq q;
	memset(&q, 0, sizeof(q));
	return parse_url(&q, path, errbuf, errlen);
}

struct tables {
	int local[4], all[4];	/* alert_events, agg, records, migrations */
};

static const char *const table_names[4] = {"alert_events", "agg", "records", "migrations"};

static int on_table(void *ctx, char **f, const size_t *len, unsigned n)
{
	struct tables *t = ctx;
	(void)n;
	for (int i = 0; i < 4; i++) {
		size_t tl = strlen(table_names[i]);
		if (len[0] == tl && memcmp(f[0], table_names[i], tl) == 0)
			t->local[i] = 1;
		else if (len[0] == tl + 4 && memcmp(f[0], table_names[i], tl) == 0 &&
			 memcmp(f[0] + tl, "_all", 4) == 0)
			t->all[i] = 1;
	}
	return 0;
}

static int on_version(void *ctx, char **f, const size_t *len, unsigned n)
{
	(void)len;
	(void)n;
	*(int64_t *)ctx = inum(f[0]);
	return 0;
}

static void table_name(struct chq *q, char *out, size_t cap, const char *table)
{
	char buf[200];
	struct dr_ch_sql s;
	dr_ch_sql_init(&s, buf, sizeof(buf));
	dr_ch_sql_ident(&s, q->db);
	dr_ch_sql_add(&s, ".");
	dr_ch_sql_ident(&s, table);
	snprintf(out, cap, "%s", s.overflow ? "" : buf);
}

static int ch_open(struct dr_query **qp, const char *path, char *errbuf, size_t errlen)
{
	struct chq *q = calloc(1, sizeof(*q));
	struct tables t = {{0}, {0}};
	char buf[1024];
	struct dr_ch_sql s;
	int ok = 0;

	if (!q) {
		snprintf(errbuf, errlen, "%s: out of memory", path);
		return -1;
	}
	q->base.ops = &dr_query_clickhouse;
	if (parse_url(q, path, errbuf, errlen) < 0)
		goto out;
	pthread_once(&curl_once, curl_init);
	if (curl_init_result != CURLE_OK || !(q->curl = curl_easy_init())) {
		snprintf(errbuf, errlen, "%s: cannot start libcurl", q->name);
		goto out;
	}
	dr_ch_sql_init(&s, buf, sizeof(buf));
	dr_ch_sql_add(&s, "SELECT name FROM system.tables WHERE database = ");
	dr_ch_sql_str(&s, q->db, strlen(q->db));
	dr_ch_sql_add(&s, " FORMAT TabSeparated");
	if (ch_run(q, &s, 1, on_table, &t, errbuf, errlen) < 0)
		goto out;
	if (!t.local[0] || !t.local[1] || !t.local[2]) {
		snprintf(errbuf, errlen, "%s: not a dnsradar store (no alert_events, agg and "
			 "records tables)", q->name);
		goto out;
	}
	if (t.local[3]) {
		int64_t version = 0;
		dr_ch_sql_init(&s, buf, sizeof(buf));
		dr_ch_sql_add(&s, "SELECT max(version) FROM ");
		dr_ch_sql_ident(&s, q->db);
		dr_ch_sql_add(&s, ".migrations FORMAT TabSeparated");
		if (ch_run(q, &s, 1, on_version, &version, errbuf, errlen) < 0)
			goto out;
		if (version > DR_CH_SCHEMA_VERSION) {
			snprintf(errbuf, errlen, "%s: schema version %lld is newer than this "
				 "dnsradar's (%d)", q->name, (long long)version, DR_CH_SCHEMA_VERSION);
			goto out;
		}
	}
	/* a cluster's Distributed tables see every sensor's shard */
	char name[40];
	snprintf(name, sizeof(name), "%s", t.all[0] ? "alert_events_all" : "alert_events");
	table_name(q, q->alert_events, sizeof(q->alert_events), name);
	snprintf(name, sizeof(name), "%s", t.all[1] ? "agg_all" : "agg");
	table_name(q, q->agg, sizeof(q->agg), name);
	snprintf(name, sizeof(name), "%s", t.all[2] ? "records_all" : "records");
	table_name(q, q->records, sizeof(q->records), name);
	ok = 1;
out:
	if (!ok) {
		ch_close(&q->base);
		return -1;
	}
	*qp = &q->base;
	return 0;
}

/* --- the queries --------------------------------------------------- */

struct sqlbuf {
	struct dr_ch_sql s;
	char text[CH_SQL_MAX];
	char name[DR_NAME_TEXT_MAX + 1];
};

static struct sqlbuf *sqlbuf_new(char *errbuf, size_t errlen)
{
	struct sqlbuf *b = malloc(sizeof(*b));
	if (!b) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	dr_ch_sql_init(&b->s, b->text, sizeof(b->text));
	return b;
}

/* " AND col >= toDateTime(lo) AND col <= toDateTime(hi)", within
 * DateTime's range; " AND 0" when nothing is left. */
static void time_bounds(struct dr_ch_sql *s, const char *col, double lo, double hi)
{
	if (lo < 0)
		lo = 0;
	if (hi > 4294967295.0)
		hi = 4294967295.0;
	if (hi < lo) {
		dr_ch_sql_add(s, " AND 0");
		return;
	}
	dr_ch_sql_add(s, " AND ");
	dr_ch_sql_add(s, col);
	dr_ch_sql_add(s, " >= toDateTime(");
	dr_ch_sql_int(s, (int64_t)lo);
	dr_ch_sql_add(s, ") AND ");
	dr_ch_sql_add(s, col);
	dr_ch_sql_add(s, " <= toDateTime(");
	dr_ch_sql_int(s, (int64_t)hi);
	dr_ch_sql_add(s, ")");
}

/* The minute column of agg meeting the range as SQLite's "minute > from -
 * 60 AND minute < to" does, in whole seconds a DateTime holds. */
static void minute_range(struct dr_ch_sql *s, const struct dr_query_params *p)
{
	time_bounds(s, "minute", floor(p->from - 60) + 1, ceil(p->to) - 1);
}

/* ts in [from, to); the time column (ts's second) narrowed too, with a
 * second to spare, so that ClickHouse reads only the days and granules
 * of the range. */
static void ts_range(struct dr_ch_sql *s, const struct dr_query_params *p)
{
	dr_ch_sql_add(s, " AND ts >= ");
	dr_ch_sql_double(s, p->from);
	dr_ch_sql_add(s, " AND ts < ");
	dr_ch_sql_double(s, p->to);
	time_bounds(s, "time", floor(p->from) - 1, floor(p->to) + 1);
}

/* A CIDR as the range of keys (family octet, then the address). */
static void cidr_bounds(const struct dr_where_cond *c, uint8_t *lo, uint8_t *hi, size_t *len)
{
	unsigned alen = c->family == 4 ? 4 : 16;
	lo[0] = hi[0] = c->family;
	for (unsigned i = 0; i < alen; i++) {
		unsigned bits = c->prefix > i * 8 ? c->prefix - i * 8 : 0;
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
		lo[1 + i] = c->addr[i] & mask;
		hi[1 + i] = (uint8_t)(c->addr[i] | (uint8_t)~mask);
	}
	*len = alen + 1;
}

static void int_cond(struct dr_ch_sql *s, const char *frag, int64_t v)
{
	dr_ch_sql_add(s, frag);
	dr_ch_sql_int(s, v);
}

/* " AND ..." for every --where condition, on the records table: the
 * conditions of query_sqlite.c's where_sql, the same meaning on the same
 * columns (a String compares bytewise, as SQLite's BLOB). */
static void where_sql(struct sqlbuf *b, const struct dr_where *w)
{
	struct dr_ch_sql *s = &b->s;
	for (unsigned i = 0; w && i < w->n; i++) {
		const struct dr_where_cond *c = &w->cond[i];
		switch (c->field) {
		case DR_W_SRC:
		case DR_W_DST: {
			uint8_t lo[17], hi[17];
			size_t len;
			const char *col = c->field == DR_W_SRC ? "src_bin" : "dst_bin";
			cidr_bounds(c, lo, hi, &len);
			dr_ch_sql_add(s, " AND ");
			dr_ch_sql_add(s, col);
			if (c->prefix == (c->family == 4 ? 32 : 128)) {
				dr_ch_sql_add(s, " = ");
				dr_ch_sql_str(s, lo, len);
			} else {
				dr_ch_sql_add(s, " >= ");
				dr_ch_sql_str(s, lo, len);
				dr_ch_sql_add(s, " AND ");
				dr_ch_sql_add(s, col);
				dr_ch_sql_add(s, " <= ");
				dr_ch_sql_str(s, hi, len);
			}
			break;
		}
		case DR_W_SPORT: int_cond(s, " AND sport = ", c->value); break;
		case DR_W_DPORT: int_cond(s, " AND dport = ", c->value); break;
		case DR_W_QNAME: {
			size_t n = dr_name_to_text(c->name, c->name_len, b->name);
			if (c->suffix && c->name_len == 1) {	/* *: any name */
				dr_ch_sql_add(s, " AND qname IS NOT NULL");
			} else if (c->suffix) {
				/* the zone itself, or a name ending in ".zone" */
				char dotted[DR_NAME_TEXT_MAX + 2];
				dotted[0] = '.';
				memcpy(dotted + 1, b->name, n);
				dr_ch_sql_add(s, " AND (lower(qname) = ");
				dr_ch_sql_str(s, b->name, n);
				dr_ch_sql_add(s, " OR endsWith(lower(qname), ");
				dr_ch_sql_str(s, dotted, n + 1);
				dr_ch_sql_add(s, "))");
			} else {
				dr_ch_sql_add(s, " AND lower(qname) = ");
				dr_ch_sql_str(s, b->name, n);
			}
			break;
		}
		case DR_W_QTYPE: int_cond(s, " AND qtype = ", c->value); break;
		case DR_W_RCODE: int_cond(s, " AND rcode = ", c->value); break;
		case DR_W_QR: int_cond(s, " AND qr = ", c->value); break;
		case DR_W_PROTO: int_cond(s, " AND proto = ", c->value); break;
		case DR_W_MALFORMED:
			if (c->value == DR_MAL_COUNT) {
				dr_ch_sql_add(s, " AND malformed IS NOT NULL AND malformed != ''");
			} else if (c->value == DR_MAL_NONE) {
				dr_ch_sql_add(s, " AND (malformed IS NULL OR malformed = '')");
			} else {
				const char *m = dr_malformed_name(c->value);
				dr_ch_sql_add(s, " AND malformed = ");
				dr_ch_sql_str(s, m, strlen(m));
			}
			break;
		}
	}
}

/* " AND sensor = '...'" when one sensor's rows are asked for. */
static void sensor_sql(struct dr_ch_sql *s, const struct dr_query_params *p)
{
	if (!p->sensor)
		return;
	dr_ch_sql_add(s, " AND sensor = ");
	dr_ch_sql_str(s, p->sensor, strlen(p->sensor));
}

static void limit_sql(struct dr_ch_sql *s, const struct dr_query_params *p)
{
	dr_ch_sql_add(s, " LIMIT ");
	dr_ch_sql_int(s, (int64_t)p->limit + 1);
	dr_ch_sql_add(s, " FORMAT TabSeparated");
}

struct rows {
	const struct dr_query_params *p;
	struct dr_query_result *res;
	void *fn;
	void *ctx;
	int series;
};

static int on_alert(void *ctx, char **f, const size_t *len, unsigned n)
{
	struct rows *r = ctx;
	(void)n;
	if (r->res->rows == r->p->limit) {
		r->res->truncated = 1;
		return 1;
	}
	struct dr_query_alert a = {
		.type = f[0] ? f[0] : "", .key = f[1] ? f[1] : "", .state = f[2] ? f[2] : "",
		.severity = f[3] ? f[3] : "", .start = num(f[4]), .end = num(f[5]),
		.detected = num(f[6]), .updated = num(f[7]), .peak_pps = num(f[8]),
		.peak_bps = num(f[9]), .packets = (uint64_t)strtoull(f[10] ? f[10] : "0", NULL, 10),
		.bytes = (uint64_t)strtoull(f[11] ? f[11] : "0", NULL, 10),
		.json = f[12] ? f[12] : "", .json_len = f[12] ? len[12] : 0,
	};
	r->res->rows++;
	return ((dr_query_alert_fn)r->fn)(r->ctx, &a);
}

static int ch_alerts(struct dr_query *base, const struct dr_query_params *p, dr_query_alert_fn fn,
		     void *ctx, struct dr_query_result *res, char *errbuf, size_t errlen)
{
	struct chq *q = (struct chq *)base;
	struct sqlbuf *b = sqlbuf_new(errbuf, errlen);
	struct rows r = {.p = p, .res = res, .fn = (void *)fn, .ctx = ctx};
	if (!b)
		return -1;
	struct dr_ch_sql *s = &b->s;
	/* An alert is (sensor, run, id); its state now is its event of the
	 * highest version. The range and the state are of that state, so
	 * they are tested after argMax, never on the events. */
	dr_ch_sql_add(s, "SELECT a_type, a_key, a_state, a_severity, a_start, a_end, a_detected,"
			 " a_updated, a_peak_pps, a_peak_bps, a_packets, a_bytes, a_json FROM"
			 " (SELECT sensor AS a_sensor, run AS a_run, id AS a_id,"
			 " argMax(type, version) AS a_type, argMax(key, version) AS a_key,"
			 " argMax(state, version) AS a_state, argMax(severity, version) AS a_severity,"
			 " argMax(start, version) AS a_start, argMax(end, version) AS a_end,"
			 " argMax(detected, version) AS a_detected,"
			 " argMax(updated, version) AS a_updated,"
			 " argMax(peak_pps, version) AS a_peak_pps,"
			 " argMax(peak_bps, version) AS a_peak_bps,"
			 " argMax(packets, version) AS a_packets, argMax(bytes, version) AS a_bytes,"
			 " argMax(json, version) AS a_json FROM ");
	dr_ch_sql_add(s, q->alert_events);
	dr_ch_sql_add(s, " WHERE 1");
	sensor_sql(s, p);
	dr_ch_sql_add(s, " GROUP BY sensor, run, id) WHERE a_end >= ");
	dr_ch_sql_double(s, p->from);
	dr_ch_sql_add(s, " AND a_start < ");
	dr_ch_sql_double(s, p->to);
	if (p->state != DR_QS_ALL) {
		const char *st = dr_query_state_names[p->state];
		dr_ch_sql_add(s, " AND a_state = ");
		dr_ch_sql_str(s, st, strlen(st));
	}
	if (p->type) {
		dr_ch_sql_add(s, " AND a_type = ");
		dr_ch_sql_str(s, p->type, strlen(p->type));
	}
	dr_ch_sql_add(s, " ORDER BY a_start, a_sensor, a_run, a_id");
	limit_sql(s, p);
	int ret = ch_run(q, s, 13, on_alert, &r, errbuf, errlen);
	free(b);
	return ret;
}

/* The distinct sources, source prefixes (/24, /48: the family octet and
 * three or six of the address) and ASNs (not NULL, not 0) of kept
 * records, as query_sqlite.c's DISTINCT_SQL counts them. */
#define DISTINCT_SQL ", uniqExact(src_bin), uniqExact(substring(src_bin, 1," \
	" if(length(src_bin) = 5, 4, 7))), uniqExactIf(assumeNotNull(asn), ifNull(asn, 0) != 0)"

struct totals {
	struct dr_query_result *res;
	int distinct;
};

static int on_totals(void *ctx, char **f, const size_t *len, unsigned n)
{
	struct totals *t = ctx;
	(void)len;
	(void)n;
	t->res->total_messages = num(f[0]);
	t->res->total_packets = num(f[1]);
	t->res->total_bytes = num(f[2]);
	if (t->distinct) {
		t->res->total_sources = (uint64_t)inum(f[3]);
		t->res->total_prefixes = (uint64_t)inum(f[4]);
		t->res->total_asns = (uint64_t)inum(f[5]);
	}
	return 0;
}

static int on_count(void *ctx, char **f, const size_t *len, unsigned n)
{
	struct rows *r = ctx;
	char buf[32];
	(void)len;
	(void)n;
	if (r->res->rows == r->p->limit) {
		r->res->truncated = 1;
		return 1;
	}
	struct dr_query_count c = {
		.messages = num(f[1]), .packets = num(f[2]), .bytes = num(f[3]),
	};
	if (r->series) {
		c.minute = inum(f[0]);
	} else {
		c.key = dr_query_key_shown(r->p->dim, f[0] ? f[0] : "", buf, sizeof(buf));
		c.share = r->res->total_packets > 0 ? c.packets / r->res->total_packets : 0;
	}
	if (!r->series && r->res->sampled) {
		c.has_distinct = 1;
		c.sources = (uint64_t)inum(f[4]);
		c.prefixes = (uint64_t)inum(f[5]);
		c.asns = (uint64_t)inum(f[6]);
	}
	r->res->rows++;
	return ((dr_query_count_fn)r->fn)(r->ctx, &c);
}

static int ch_top(struct dr_query *base, const struct dr_query_params *p, dr_query_count_fn fn,
		  void *ctx, struct dr_query_result *res, char *errbuf, size_t errlen)
{
	struct chq *q = (struct chq *)base;
	struct sqlbuf *b = sqlbuf_new(errbuf, errlen);
	struct rows r = {.p = p, .res = res, .fn = (void *)fn, .ctx = ctx};
	struct totals t = {.res = res};
	int ret = -1;
	if (!b)
		return -1;
	struct dr_ch_sql *s = &b->s;
	if (p->where && p->where->n) {
		/* The column name comes from the fixed table, never the user. */
		const char *col = dr_query_record_columns[p->dim];
		res->sampled = t.distinct = 1;
		dr_ch_sql_add(s, "SELECT sum(weight), sum(packets * weight), sum(bytes * weight)"
				 DISTINCT_SQL " FROM ");
		dr_ch_sql_add(s, q->records);
		dr_ch_sql_add(s, " WHERE 1");
		where_sql(b, p->where);
		ts_range(s, p);
		sensor_sql(s, p);
		dr_ch_sql_add(s, " FORMAT TabSeparated");
		if (ch_run(q, s, 6, on_totals, &t, errbuf, errlen) < 0)
			goto out;
		dr_ch_sql_init(s, b->text, sizeof(b->text));
		dr_ch_sql_add(s, "SELECT ");
		dr_ch_sql_add(s, col);
		dr_ch_sql_add(s, " AS dr_k, sum(weight) AS dr_m, sum(packets * weight) AS dr_p,"
				 " sum(bytes * weight) AS dr_b" DISTINCT_SQL " FROM ");
		dr_ch_sql_add(s, q->records);
		dr_ch_sql_add(s, " WHERE 1");
		where_sql(b, p->where);
		ts_range(s, p);
		sensor_sql(s, p);
		dr_ch_sql_add(s, " AND ");
		dr_ch_sql_add(s, col);
		dr_ch_sql_add(s, " IS NOT NULL");
		if (p->dim == DR_QD_ASN)
			dr_ch_sql_add(s, " AND asn != 0");	/* AS 0 is no AS */
		dr_ch_sql_add(s, " GROUP BY dr_k ORDER BY dr_p DESC, dr_m DESC, dr_k");
		limit_sql(s, p);
		ret = ch_run(q, s, 7, on_count, &r, errbuf, errlen);
	} else {
		/* Every minute that meets the range counts whole. */
		dr_ch_sql_add(s, "SELECT sum(messages), sum(packets), sum(bytes) FROM ");
		dr_ch_sql_add(s, q->agg);
		dr_ch_sql_add(s, " WHERE dim = 'total'");
		minute_range(s, p);
		sensor_sql(s, p);
		dr_ch_sql_add(s, " FORMAT TabSeparated");
		if (ch_run(q, s, 3, on_totals, &t, errbuf, errlen) < 0)
			goto out;
		const char *dim = dr_query_dim_names[p->dim];
		dr_ch_sql_init(s, b->text, sizeof(b->text));
		dr_ch_sql_add(s, "SELECT key, sum(messages) AS dr_m, sum(packets) AS dr_p,"
				 " sum(bytes) AS dr_b FROM ");
		dr_ch_sql_add(s, q->agg);
		dr_ch_sql_add(s, " WHERE dim = ");
		dr_ch_sql_str(s, dim, strlen(dim));
		minute_range(s, p);
		sensor_sql(s, p);
		dr_ch_sql_add(s, " AND key != '(other)' GROUP BY key ORDER BY dr_p DESC, dr_m DESC,"
				 " key");
		limit_sql(s, p);
		ret = ch_run(q, s, 4, on_count, &r, errbuf, errlen);
	}
out:
	free(b);
	return ret;
}

static int ch_series(struct dr_query *base, const struct dr_query_params *p, dr_query_count_fn fn,
		     void *ctx, struct dr_query_result *res, char *errbuf, size_t errlen)
{
	struct chq *q = (struct chq *)base;
	struct sqlbuf *b = sqlbuf_new(errbuf, errlen);
	struct rows r = {.p = p, .res = res, .fn = (void *)fn, .ctx = ctx, .series = 1};
	if (!b)
		return -1;
	struct dr_ch_sql *s = &b->s;
	const char *dim = dr_query_dim_names[p->dim];
	dr_ch_sql_add(s, "SELECT toUInt32(minute) AS dr_minute, sum(messages), sum(packets),"
			 " sum(bytes) FROM ");
	dr_ch_sql_add(s, q->agg);
	dr_ch_sql_add(s, " WHERE dim = ");
	dr_ch_sql_str(s, dim, strlen(dim));
	minute_range(s, p);
	sensor_sql(s, p);
	if (p->key) {
		dr_ch_sql_add(s, " AND key = ");
		dr_ch_sql_str(s, p->key, strlen(p->key));
	}
	dr_ch_sql_add(s, " GROUP BY dr_minute ORDER BY dr_minute");
	limit_sql(s, p);
	int ret = ch_run(q, s, 4, on_count, &r, errbuf, errlen);
	free(b);
	return ret;
}

static int opt_int(const char *f, int *have)
{
	if (!f)
		return 0;
	if (have)
		*have = 1;
	return (int)strtol(f, NULL, 10);
}

static int on_record(void *ctx, char **f, const size_t *len, unsigned n)
{
	struct rows *rw = ctx;
	(void)len;
	(void)n;
	if (rw->res->rows == rw->p->limit) {
		rw->res->truncated = 1;
		return 1;
	}
	struct dr_query_record r = {
		.ts = num(f[0]), .kind = f[1] ? f[1] : "", .src = f[2] ? f[2] : "",
		.sport = opt_int(f[3], NULL), .dst = f[4] ? f[4] : "",
		.dport = opt_int(f[5], NULL), .proto = opt_int(f[6], NULL),
		.qname = f[15], .zone = f[16], .len = opt_int(f[22], NULL), .malformed = f[25],
		.packets = inum(f[26]), .bytes = inum(f[27]), .country = f[28],
		.why = f[30] ? f[30] : "", .weight = num(f[31]),
	};
	if (r.malformed && !*r.malformed)
		r.malformed = NULL;
	r.id = opt_int(f[7], &r.has_dns);
	r.qr = opt_int(f[8], NULL);
	r.opcode = opt_int(f[9], NULL);
	r.rcode = opt_int(f[10], NULL);
	r.aa = opt_int(f[11], NULL);
	r.tc = opt_int(f[12], NULL);
	r.rd = opt_int(f[13], NULL);
	r.ra = opt_int(f[14], NULL);
	r.qtype = opt_int(f[17], NULL);
	r.qclass = opt_int(f[18], NULL);
	r.an = opt_int(f[19], NULL);
	r.ns = opt_int(f[20], NULL);
	r.ar = opt_int(f[21], NULL);
	r.edns_udp = opt_int(f[23], &r.has_edns);
	r.do_bit = opt_int(f[24], NULL);
	r.asn = inum(f[29]);
	r.has_asn = f[29] != NULL;
	rw->res->rows++;
	return ((dr_query_record_fn)rw->fn)(rw->ctx, &r);
}

static int ch_records(struct dr_query *base, const struct dr_query_params *p,
		      dr_query_record_fn fn, void *ctx, struct dr_query_result *res,
		      char *errbuf, size_t errlen)
{
	struct chq *q = (struct chq *)base;
	struct sqlbuf *b = sqlbuf_new(errbuf, errlen);
	struct rows r = {.p = p, .res = res, .fn = (void *)fn, .ctx = ctx};
	if (!b)
		return -1;
	struct dr_ch_sql *s = &b->s;
	dr_ch_sql_add(s, "SELECT ts, kind, src, sport, dst, dport, proto, id, qr, opcode, rcode, aa,"
			 " tc, rd, ra, qname, zone, qtype, qclass, an, ns, ar, len, edns_udp, do,"
			 " malformed, packets, bytes, country, asn, why, weight FROM ");
	dr_ch_sql_add(s, q->records);
	dr_ch_sql_add(s, " WHERE 1");
	where_sql(b, p->where);
	ts_range(s, p);
	sensor_sql(s, p);
	dr_ch_sql_add(s, " ORDER BY ts");
	limit_sql(s, p);
	int ret = ch_run(q, s, 32, on_record, &r, errbuf, errlen);
	free(b);
	return ret;
}

const struct dr_query_ops dr_query_clickhouse = {
	.name = "ClickHouse", .sensors = 1, .claims = ch_claims, .check = ch_check, .open = ch_open, .close = ch_close,
	.alerts = ch_alerts, .top = ch_top, .series = ch_series, .records = ch_records,
};
