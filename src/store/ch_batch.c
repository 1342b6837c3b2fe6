/* The ClickHouse sink's writer side (clickhouse.h): the rows SQLite
 * committed, encoded as RowBinary into one batch per table, and each
 * batch, when full or old enough, compressed into a file of the spool,
 * whose size is bounded (records, then aggregates, oldest first, go to
 * make room; alert events never). */
#include "store/ch_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <zlib.h>

#include "lib/now.h"
#include "store/minute.h"
#include "store/query.h"

const struct dr_param dr_ch_params[DR_CH_NPARAMS] = {
	[DR_CH_BATCH_ROWS] = {"batch_rows", 50000, "rows a batch may hold before it is sent",
			      .kind = DR_PARAM_COUNT, .unit = "rows", .min = 1, .max = 1000000},
	[DR_CH_BATCH_SECONDS] = {"batch_seconds", 5, "seconds a batch gathers rows before it is sent (alert events: at most 1)",
				 .kind = DR_PARAM_SECONDS, .unit = "seconds", .min = 1, .max = 3600},
	[DR_CH_SPOOL_MAX] = {"spool_max", 1024, "MiB the spool may hold while ClickHouse is away; records, then aggregates, oldest first, go to make room",
			     .kind = DR_PARAM_COUNT, .unit = "MiB", .min = 1, .max = 1048576},
	[DR_CH_TIMEOUT] = {"timeout", 30, "seconds an insert or a query may take",
			   .kind = DR_PARAM_SECONDS, .unit = "seconds", .min = 1, .max = 3600},
	[DR_CH_TTL_ALERTS] = {"ttl_alerts", 365, "days alert events are kept",
			      .kind = DR_PARAM_COUNT, .unit = "days", .min = 1, .max = 36500},
	[DR_CH_TTL_AGG] = {"ttl_agg", 30, "days per-minute aggregates are kept",
			   .kind = DR_PARAM_COUNT, .unit = "days", .min = 1, .max = 36500},
	[DR_CH_TTL_HOURLY] = {"ttl_hourly", 730, "days the hourly rollup is kept (whole months go)",
			      .kind = DR_PARAM_COUNT, .unit = "days", .min = 1, .max = 36500},
	[DR_CH_TTL_RECORDS] = {"ttl_records", 7, "days records are kept",
			       .kind = DR_PARAM_COUNT, .unit = "days", .min = 1, .max = 36500},
};

const char *const dr_ch_table_names[DR_CH_NTABLES] = {"alert_events", "agg", "records"};

void dr_ch_config_defaults(struct dr_ch_config *c)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < DR_CH_NPARAMS; i++)
		c->values[i] = dr_ch_params[i].def;
}

uint64_t dr_ch_next_id(uint64_t *last)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	uint64_t now = (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
	*last = now > *last ? now : *last + 1;
	return *last;
}

void dr_ch_entry_path(const struct dr_ch *ch, const struct ch_entry *e, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%020" PRIu64 ".%s", ch->spool, e->id, dr_ch_table_names[e->table]);
}

void dr_ch_note(struct dr_ch *ch, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&ch->lock);
	va_start(ap, fmt);
	vsnprintf(ch->st.last_error, sizeof(ch->st.last_error), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&ch->lock);
}

/* ------------------------------------------------------------------ */
/* RowBinary: integers little-endian, strings after their LEB128 length,
 * a Nullable's value after one octet (1: NULL) */

static void put(struct ch_buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *np = realloc(b->p, cap);
		if (!np) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put_uint(struct ch_buf *b, uint64_t v, unsigned octets)
{
	uint8_t o[8];
	for (unsigned i = 0; i < octets; i++)
		o[i] = (uint8_t)(v >> (8 * i));
	put(b, o, octets);
}

static void put_f64(struct ch_buf *b, double v)
{
	uint64_t u;
	memcpy(&u, &v, sizeof(u));
	put_uint(b, u, 8);
}

static void put_bytes(struct ch_buf *b, const void *p, size_t n)
{
	uint8_t o[10];
	unsigned k = 0;
	uint64_t v = n;
	do {
		o[k] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			o[k] |= 0x80;
		k++;
	} while (v);
	put(b, o, k);
	put(b, p, n);
}

static void put_str(struct ch_buf *b, const char *s)
{
	put_bytes(b, s ? s : "", s ? strlen(s) : 0);
}

static void put_null(struct ch_buf *b, int is_null)
{
	uint8_t o = is_null ? 1 : 0;
	put(b, &o, 1);
}

static void put_nuint(struct ch_buf *b, int have, uint64_t v, unsigned octets)
{
	put_null(b, !have);
	if (have)
		put_uint(b, v, octets);
}

static void put_nstr(struct ch_buf *b, const char *s)
{
	put_null(b, !s);
	if (s)
		put_str(b, s);
}

static void spool_batch(struct dr_ch *ch, enum dr_ch_table t);

/* The batch of table t, started when it has none; its row's time
 * column noted for the check of a resent batch. */
static struct ch_buf *row_start(struct dr_ch *ch, enum dr_ch_table t, int64_t time)
{
	struct ch_open *o = &ch->open[t];
	/* a batch is of one UTC day, so that its insert is one part, stored
	 * whole or not at all */
	if (o->rows == o->mark_rows && o->mark_rows && time / 86400 != o->tmin / 86400)
		spool_batch(ch, t);
	if (!o->id) {
		pthread_mutex_lock(&ch->lock);
		o->id = dr_ch_next_id(&ch->last_id);
		pthread_mutex_unlock(&ch->lock);
		o->started = dr_wall_now();
	}
	if (o->rows == o->mark_rows || time < o->pmin)
		o->pmin = time;
	if (o->rows == o->mark_rows || time > o->pmax)
		o->pmax = time;
	o->rows++;
	return &o->buf;
}

void dr_ch_event(struct dr_ch *ch, double ts, int64_t run, uint64_t id, const char *event,
		 const char *type, const char *key, const char *state, double start, double end,
		 double detected, const char *severity, uint64_t packets, uint64_t bytes,
		 double peak_pps, double peak_bps, const char *json)
{
	struct ch_buf *b = row_start(ch, DR_CH_EVENTS, (int64_t)ts);
	put_uint(b, (uint64_t)ts, 4);
	put_f64(b, ts);
	put_str(b, ch->sensor);
	put_uint(b, (uint64_t)run, 8);
	put_uint(b, id, 8);
	put_str(b, event);
	put_str(b, type);
	put_str(b, key);
	put_str(b, state);
	put_f64(b, start);
	put_f64(b, end);
	put_f64(b, detected);
	put_str(b, severity);
	put_uint(b, packets, 8);
	put_uint(b, bytes, 8);
	put_f64(b, peak_pps);
	put_f64(b, peak_bps);
	put_f64(b, ts);
	put_str(b, json);
	put_uint(b, dr_ch_next_id(&ch->last_version), 8);
	put_uint(b, ch->open[DR_CH_EVENTS].id, 8);
}

void dr_ch_agg(struct dr_ch *ch, int64_t minute, const char *dim, const char *key,
	       const struct dr_store_counts *c)
{
	struct ch_buf *b = row_start(ch, DR_CH_AGG, minute);
	put_uint(b, (uint64_t)minute, 4);
	put_str(b, ch->sensor);
	put_str(b, dim);
	put_str(b, key);
	put_uint(b, c->messages, 8);
	put_uint(b, c->packets, 8);
	put_uint(b, c->bytes, 8);
	put_uint(b, ch->open[DR_CH_AGG].id, 8);
}

void dr_ch_record(struct dr_ch *ch, const struct dr_query_record *r, const uint8_t *src_bin,
		  size_t src_len, const uint8_t *dst_bin, size_t dst_len)
{
	struct ch_buf *b = row_start(ch, DR_CH_RECORDS, (int64_t)r->ts);
	int dns = r->has_dns, q = dns && r->qname;
	put_uint(b, (uint64_t)r->ts, 4);
	put_f64(b, r->ts);
	put_str(b, ch->sensor);
	put_str(b, r->kind);
	put_str(b, r->src);
	put_bytes(b, src_bin, src_len);
	put_uint(b, (uint64_t)r->sport, 2);
	put_str(b, r->dst);
	put_bytes(b, dst_bin, dst_len);
	put_uint(b, (uint64_t)r->dport, 2);
	put_uint(b, (uint64_t)r->proto, 1);
	put_nuint(b, dns, (uint64_t)r->id, 2);
	put_nuint(b, dns, (uint64_t)r->qr, 1);
	put_nuint(b, dns, (uint64_t)r->opcode, 1);
	put_nuint(b, dns, (uint64_t)r->rcode, 2);
	put_nuint(b, dns, (uint64_t)r->aa, 1);
	put_nuint(b, dns, (uint64_t)r->tc, 1);
	put_nuint(b, dns, (uint64_t)r->rd, 1);
	put_nuint(b, dns, (uint64_t)r->ra, 1);
	put_nstr(b, q ? r->qname : NULL);
	put_nstr(b, q ? r->zone : NULL);
	put_nuint(b, q, (uint64_t)r->qtype, 2);
	put_nuint(b, q, (uint64_t)r->qclass, 2);
	put_nuint(b, dns, (uint64_t)r->an, 2);
	put_nuint(b, dns, (uint64_t)r->ns, 2);
	put_nuint(b, dns, (uint64_t)r->ar, 2);
	put_uint(b, (uint64_t)r->len, 4);
	put_nuint(b, r->has_edns, (uint64_t)r->edns_udp, 2);
	put_nuint(b, r->has_edns, (uint64_t)r->do_bit, 1);
	put_nstr(b, r->malformed);
	put_uint(b, (uint64_t)r->packets, 8);
	put_uint(b, (uint64_t)r->bytes, 8);
	put_nstr(b, r->country);
	put_nuint(b, r->has_asn, (uint64_t)r->asn, 4);
	put_str(b, r->why);
	put_f64(b, r->weight);
	put_uint(b, ch->open[DR_CH_RECORDS].id, 8);
}

/* ------------------------------------------------------------------ */
/* The spool */

static int by_id(const void *pa, const void *pb)
{
	const struct ch_entry *a = pa, *b = pb;
	return a->id < b->id ? -1 : a->id > b->id;
}

void dr_ch_entry_remove(struct dr_ch *ch, uint64_t id)
{
	for (size_t i = 0; i < ch->nentries; i++) {
		if (ch->entries[i].id != id)
			continue;
		char path[4096];
		dr_ch_entry_path(ch, &ch->entries[i], path, sizeof(path));
		unlink(path);
		ch->st.spool_bytes -= ch->entries[i].bytes;
		ch->st.spool_batches--;
		uint64_t cap = (uint64_t)(ch->values[DR_CH_SPOOL_MAX] * 1048576.0);
		ch->st.spool_over = ch->st.spool_bytes > cap ? ch->st.spool_bytes - cap : 0;
		memmove(&ch->entries[i], &ch->entries[i + 1],
			(ch->nentries - i - 1) * sizeof(*ch->entries));
		ch->nentries--;
		return;
	}
}

/* Makes room for `need` octets: the oldest records, then the oldest
 * aggregates, never the entry being sent nor an alert event; under lock. */
static void make_room(struct dr_ch *ch, uint64_t need)
{
	uint64_t cap = (uint64_t)(ch->values[DR_CH_SPOOL_MAX] * 1048576.0);
	for (enum dr_ch_table t = DR_CH_RECORDS; t > DR_CH_EVENTS; t--) {
		for (size_t i = 0; i < ch->nentries && ch->st.spool_bytes + need > cap;) {
			struct ch_entry *e = &ch->entries[i];
			if (e->table != t || e->id == ch->sending) {
				i++;
				continue;
			}
			ch->st.spool_dropped[t]++;
			ch->st.spool_dropped_rows[t] += e->rows;
			dr_ch_entry_remove(ch, e->id);
		}
	}
	if (ch->st.spool_bytes + need > cap)
		ch->st.spool_over = ch->st.spool_bytes + need - cap;
	else
		ch->st.spool_over = 0;
}

/* Adds an entry, its file written; under lock. -1 when out of memory. */
static int entry_add(struct dr_ch *ch, const struct ch_entry *e)
{
	if (ch->nentries == ch->entries_cap) {
		size_t cap = ch->entries_cap ? ch->entries_cap * 2 : 256;
		struct ch_entry *n = realloc(ch->entries, cap * sizeof(*n));
		if (!n)
			return -1;
		ch->entries = n;
		ch->entries_cap = cap;
	}
	size_t i = ch->nentries;
	while (i > 0 && ch->entries[i - 1].id > e->id) {
		ch->entries[i] = ch->entries[i - 1];
		i--;
	}
	ch->entries[i] = *e;
	ch->nentries++;
	ch->st.spool_batches++;
	ch->st.spool_bytes += e->bytes;
	return 0;
}

/* gzip of p[0..n) into out (replaced). 0 or -1. */
static int gzip_into(const uint8_t *p, size_t n, struct ch_buf *out)
{
	z_stream z = {0};
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	size_t bound = deflateBound(&z, n) + 64;
	out->len = 0;
	if (bound > out->cap) {
		uint8_t *np = realloc(out->p, bound);
		if (!np) {
			deflateEnd(&z);
			return -1;
		}
		out->p = np;
		out->cap = bound;
	}
	z.next_in = (Bytef *)p;
	z.avail_in = (uInt)n;
	z.next_out = out->p;
	z.avail_out = (uInt)out->cap;
	int rc = deflate(&z, Z_FINISH);
	out->len = z.total_out;
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}

/* The committed rows of table t into a spool file, between transactions
 * (no row is under way). */
static void spool_batch(struct dr_ch *ch, enum dr_ch_table t)
{
	struct ch_open *o = &ch->open[t];
	if (!o->mark_rows)
		return;
	struct ch_entry e = {.id = o->id, .table = t, .rows = o->mark_rows, .tmin = o->tmin,
			     .tmax = o->tmax};
	struct ch_buf z = {0};
	char path[4096], tmp[4200], head[160];
	int ok = 0;
	dr_ch_entry_path(ch, &e, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int hn = snprintf(head, sizeof(head), CH_SPOOL_MAGIC " %s %" PRIu32 " %" PRId64 " %" PRId64
			  "\n", dr_ch_table_names[t], e.rows, e.tmin, e.tmax);
	if (!o->buf.oom && gzip_into(o->buf.p, o->mark, &z) == 0) {
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
		if (fd >= 0) {
			ok = write(fd, head, (size_t)hn) == hn &&
			     write(fd, z.p, z.len) == (ssize_t)z.len;
			ok = close(fd) == 0 && ok && rename(tmp, path) == 0;
			if (!ok)
				unlink(tmp);
		}
	}
	e.bytes = (uint64_t)hn + z.len;
	free(z.p);
	pthread_mutex_lock(&ch->lock);
	if (ok) {
		make_room(ch, e.bytes);
		if (entry_add(ch, &e) < 0) {
			unlink(path);
			ok = 0;
		}
	}
	if (!ok) {
		ch->st.spool_errors++;
		snprintf(ch->st.last_error, sizeof(ch->st.last_error), "%s: cannot spool a batch"
			 " of %" PRIu32 " %s rows: %s", ch->spool, e.rows, dr_ch_table_names[t],
			 o->buf.oom ? "out of memory" : strerror(errno));
	}
	pthread_cond_signal(&ch->wake);
	pthread_mutex_unlock(&ch->lock);
	if (!ok && t == DR_CH_EVENTS && !o->buf.oom)
		return;	/* alert events are kept, and spooled again at the next tick */
	/* called between transactions only: nothing is under way */
	o->buf.len = 0;
	o->buf.oom = 0;
	o->rows = 0;
	o->mark = 0;
	o->mark_rows = 0;
	o->id = 0;
}

void dr_ch_commit(struct dr_ch *ch)
{
	for (int t = 0; t < DR_CH_NTABLES; t++) {
		struct ch_open *o = &ch->open[t];
		if (o->rows == o->mark_rows)
			continue;
		if (!o->mark_rows) {
			o->tmin = o->pmin;
			o->tmax = o->pmax;
		} else {
			o->tmin = o->pmin < o->tmin ? o->pmin : o->tmin;
			o->tmax = o->pmax > o->tmax ? o->pmax : o->tmax;
		}
		o->mark = o->buf.len;
		o->mark_rows = o->rows;
		if (o->mark_rows >= (uint32_t)ch->values[DR_CH_BATCH_ROWS])
			spool_batch(ch, (enum dr_ch_table)t);
	}
}

void dr_ch_abort(struct dr_ch *ch)
{
	for (int t = 0; t < DR_CH_NTABLES; t++) {
		struct ch_open *o = &ch->open[t];
		o->buf.len = o->mark;
		o->rows = o->mark_rows;
		if (!o->rows)
			o->id = 0;
	}
}

void dr_ch_tick(struct dr_ch *ch, double now)
{
	for (int t = 0; t < DR_CH_NTABLES; t++) {
		struct ch_open *o = &ch->open[t];
		/* alert events go at the first tick (the writer ticks each second) */
		double age = t == DR_CH_EVENTS ? 0 : ch->values[DR_CH_BATCH_SECONDS];
		if (o->mark_rows && now - o->started >= age)
			spool_batch(ch, (enum dr_ch_table)t);
	}
}

/* "MAGIC TABLE ROWS TMIN TMAX\n", every number in range. */
static int parse_header(const char *head, const char *table, struct ch_entry *e)
{
	size_t m = strlen(CH_SPOOL_MAGIC), tn = strlen(table);
	if (strncmp(head, CH_SPOOL_MAGIC " ", m + 1) || strncmp(head + m + 1, table, tn) ||
	    head[m + 1 + tn] != ' ')
		return 0;
	const char *p = head + m + 2 + tn;
	char *end;
	int64_t v[3];
	for (int i = 0; i < 3; i++) {
		errno = 0;
		long long x = strtoll(p, &end, 10);
		if (end == p || errno || x < 0 || x > 0xffffffffLL || (*end != ' ' && *end != '\n'))
			return 0;
		v[i] = x;
		p = end + 1;
	}
	if (end[0] != '\n' || !v[0] || v[1] > v[2])
		return 0;
	e->rows = (uint32_t)v[0];
	e->tmin = v[1];
	e->tmax = v[2];
	return 1;
}

/* Reads the entries an earlier run left: SPOOL/ID.TABLE with its header;
 * a file that is not one is left alone, a damaged one set aside. */
static int spool_scan(struct dr_ch *ch, char *errbuf, size_t errlen)
{
	DIR *d = opendir(ch->spool);
	if (!d) {
		snprintf(errbuf, errlen, "clickhouse.spool = %s: %s", ch->spool, strerror(errno));
		return -1;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		char table[32], path[4096], head[160], *dot;
		size_t len = strlen(de->d_name);
		if (len > 4 && !strcmp(de->d_name + len - 4, ".tmp")) {
			/* a batch a run was writing when it died: never spooled */
			snprintf(path, sizeof(path), "%s/%s", ch->spool, de->d_name);
			unlink(path);
			continue;
		}
		errno = 0;
		uint64_t id = strtoull(de->d_name, &dot, 10);
		if (dot - de->d_name != 20 || errno || !id || *dot != '.' ||
		    snprintf(table, sizeof(table), "%s", dot + 1) >= (int)sizeof(table))
			continue;
		struct ch_entry e = {.id = id};
		int t;
		for (t = 0; t < DR_CH_NTABLES && strcmp(table, dr_ch_table_names[t]); t++)
			;
		if (t == DR_CH_NTABLES)
			continue;
		e.table = (enum dr_ch_table)t;
		snprintf(path, sizeof(path), "%s/%s", ch->spool, de->d_name);
		FILE *fp = fopen(path, "rb");
		struct stat sb;
		int good = fp && fstat(fileno(fp), &sb) == 0 && fgets(head, sizeof(head), fp) &&
			   parse_header(head, dr_ch_table_names[t], &e);
		if (fp)
			fclose(fp);
		if (!good) {
			char aside[4200];
			snprintf(aside, sizeof(aside), "%s.damaged", path);
			rename(path, aside);
			ch->st.spool_errors++;
			continue;
		}
		e.bytes = (uint64_t)sb.st_size;
		e.uncertain = 1;	/* the run that spooled it may have sent it */
		if (entry_add(ch, &e) < 0) {
			closedir(d);
			snprintf(errbuf, errlen, "clickhouse.spool = %s: out of memory", ch->spool);
			return -1;
		}
		if (id > ch->last_id)
			ch->last_id = id;
	}
	closedir(d);
	if (ch->nentries)
		qsort(ch->entries, ch->nentries, sizeof(*ch->entries), by_id);
	/* ids and versions rise across runs even when the clock stepped back
	 * and the spool is empty: the last run's last id is the floor */
	char path[4096];
	snprintf(path, sizeof(path), "%s/.last-id", ch->spool);
	FILE *f = fopen(path, "r");
	unsigned long long last = 0;
	if (f) {
		if (fscanf(f, "%20llu", &last) == 1 && last > ch->last_id)
			ch->last_id = last;
		fclose(f);
	}
	ch->last_version = ch->last_id;
	return 0;
}

/* The floor of the next run's ids (see spool_scan). */
static void save_last_id(struct dr_ch *ch)
{
	char path[4096], tmp[4200];
	uint64_t last = ch->last_id > ch->last_version ? ch->last_id : ch->last_version;
	snprintf(path, sizeof(path), "%s/.last-id", ch->spool);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	int ok = fprintf(f, "%" PRIu64 "\n", last) > 0;
	if (fclose(f) == 0 && ok)
		rename(tmp, path);
	else
		unlink(tmp);
}

static int identifier(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (!n || n >= max || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n;
}

/* The URL without its database parameter, which is taken out: the
 * database may not exist before the first start makes it. */
static int parse_url(struct dr_ch *ch, const char *url, char *errbuf, size_t errlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *query = NULL, *full = NULL;
	int ok = 0;
	CURLUcode uc = u ? curl_url_set(u, CURLUPART_URL, url, 0) : CURLUE_OUT_OF_MEMORY;
	if (uc != CURLUE_OK) {
		snprintf(errbuf, errlen, "clickhouse = %s: %s", url, curl_url_strerror(uc));
		goto out;
	}
	curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	if (!scheme || (strcmp(scheme, "http") && strcmp(scheme, "https"))) {
		snprintf(errbuf, errlen, "clickhouse = %s: not an http:// or https:// URL (the"
			 " server's HTTP interface, port 8123 by default)", url);
		goto out;
	}
	snprintf(ch->db, sizeof(ch->db), "dnsradar");
	char rest[2048] = "";
	size_t rn = 0;
	/* the parameters as given, %-escapes kept: only database's value is
	 * read, the others are sent on untouched */
	if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK && query) {
		for (char *save = NULL, *p = strtok_r(query, "&", &save); p;
		     p = strtok_r(NULL, "&", &save)) {
			if (!strncmp(p, "database=", 9)) {
				int n = 0;
				char *name = curl_easy_unescape(NULL, p + 9, 0, &n);
				int ok_name = name && (size_t)n == strlen(name) &&
					      identifier(name, sizeof(ch->db));
				if (ok_name)
					snprintf(ch->db, sizeof(ch->db), "%s", name);
				else
					snprintf(errbuf, errlen, "clickhouse = %s: database \"%s\" is not"
						 " a plain name (letters, digits, _)", url, name ? name : p + 9);
				curl_free(name);
				if (!ok_name)
					goto out;
				continue;
			}
			rn += (size_t)snprintf(rest + rn, rn < sizeof(rest) ? sizeof(rest) - rn : 0,
					       "%s%s", rn ? "&" : "", p);
		}
	}
	if (rn >= sizeof(rest)) {
		snprintf(errbuf, errlen, "clickhouse = %s: the URL is too long", url);
		goto out;
	}
	curl_url_set(u, CURLUPART_QUERY, rn ? rest : NULL, 0);
	curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
	if (curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK) {
		snprintf(errbuf, errlen, "clickhouse = %s: cannot be read back", url);
		goto out;
	}
	size_t n = strlen(full);
	ch->base = malloc(n + 2);
	if (!ch->base) {
		snprintf(errbuf, errlen, "clickhouse: out of memory");
		goto out;
	}
	memcpy(ch->base, full, n);
	ch->base[n] = strchr(full, '?') ? '&' : '?';
	ch->base[n + 1] = 0;
	ok = 1;
out:
	curl_free(scheme);
	curl_free(query);
	curl_free(full);
	curl_url_cleanup(u);
	return ok ? 0 : -1;
}

static void ch_free(struct dr_ch *ch)
{
	for (int t = 0; t < DR_CH_NTABLES; t++)
		free(ch->open[t].buf.p);
	free(ch->entries);
	free(ch->base);
	free(ch->spool);
	pthread_mutex_destroy(&ch->lock);
	pthread_cond_destroy(&ch->wake);
	free(ch);
}

/* The URL, the names and the spool's path into ch; nothing made. */
static int settings(struct dr_ch *ch, const struct dr_ch_config *c, char *errbuf, size_t errlen)
{
	memcpy(ch->values, c->values, sizeof(ch->values));
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(errbuf, errlen, "clickhouse: libcurl cannot start");
		return -1;
	}
	if (!c->url) {
		snprintf(errbuf, errlen, "clickhouse: no URL given");
		return -1;
	}
	if (parse_url(ch, c->url, errbuf, errlen) < 0)
		return -1;
	if (c->sensor && *c->sensor) {
		snprintf(ch->sensor, sizeof(ch->sensor), "%s", c->sensor);
	} else if (gethostname(ch->sensor, sizeof(ch->sensor) - 1) != 0 || !ch->sensor[0]) {
		snprintf(ch->sensor, sizeof(ch->sensor), "sensor");
	}
	int bad = strlen(c->sensor ? c->sensor : "") >= sizeof(ch->sensor);
	for (const unsigned char *p = (const unsigned char *)ch->sensor; *p && !bad; p++)
		bad = *p < 0x20 || *p == 0x7f || *p == '\'' || *p == '"' || *p == '\\';
	if (bad) {
		snprintf(errbuf, errlen, "clickhouse.sensor = %s: at most %zu characters, without"
			 " quotes, backslashes or control characters",
			 c->sensor && *c->sensor ? c->sensor : ch->sensor, sizeof(ch->sensor) - 1);
		return -1;
	}
	if (c->cluster && *c->cluster) {
		if (!identifier(c->cluster, sizeof(ch->cluster))) {
			snprintf(errbuf, errlen, "clickhouse.cluster = %s: not a plain name (letters,"
				 " digits, _)", c->cluster);
			return -1;
		}
		snprintf(ch->cluster, sizeof(ch->cluster), "%s", c->cluster);
	}
	if (!c->spool || !*c->spool) {
		snprintf(errbuf, errlen, "clickhouse.spool: no folder given");
		return -1;
	}
	ch->spool = strdup(c->spool);
	if (!ch->spool) {
		snprintf(errbuf, errlen, "clickhouse: out of memory");
		return -1;
	}
	return 0;
}

static struct dr_ch *ch_new(void)
{
	struct dr_ch *ch = calloc(1, sizeof(*ch));
	if (ch) {
		pthread_mutex_init(&ch->lock, NULL);
		pthread_cond_init(&ch->wake, NULL);
	}
	return ch;
}

int dr_ch_check(const struct dr_ch_config *c, char *errbuf, size_t errlen)
{
	struct dr_ch *ch = ch_new();
	if (!ch) {
		snprintf(errbuf, errlen, "clickhouse: out of memory");
		return -1;
	}
	int rc = settings(ch, c, errbuf, errlen);
	ch_free(ch);
	return rc;
}

int dr_ch_open(struct dr_ch **out, const struct dr_ch_config *c, char *errbuf, size_t errlen)
{
	*out = NULL;
	struct dr_ch *ch = ch_new();
	if (!ch) {
		snprintf(errbuf, errlen, "clickhouse: out of memory");
		return -1;
	}
	if (settings(ch, c, errbuf, errlen) < 0)
		goto fail;
	if (mkdir(ch->spool, 0750) != 0 && errno != EEXIST) {
		snprintf(errbuf, errlen, "clickhouse.spool = %s: %s", ch->spool, strerror(errno));
		goto fail;
	}
	if (spool_scan(ch, errbuf, errlen) < 0)
		goto fail;
	*out = ch;
	return 0;
fail:
	ch_free(ch);
	return -1;
}

int dr_ch_start(struct dr_ch *ch, char *errbuf, size_t errlen)
{
	int rc = pthread_create(&ch->thread, NULL, dr_ch_sender_main, ch);
	if (rc != 0) {
		snprintf(errbuf, errlen, "clickhouse: cannot start the sender thread: %s",
			 strerror(rc));
		return -1;
	}
	ch->started = 1;
	return 0;
}

void dr_ch_stats(struct dr_ch *ch, struct dr_ch_stats *st)
{
	pthread_mutex_lock(&ch->lock);
	*st = ch->st;
	pthread_mutex_unlock(&ch->lock);
}

void dr_ch_close(struct dr_ch *ch, double drain)
{
	if (!ch)
		return;
	dr_ch_abort(ch);
	for (int t = 0; t < DR_CH_NTABLES; t++)
		spool_batch(ch, (enum dr_ch_table)t);
	if (ch->started) {
		pthread_mutex_lock(&ch->lock);
		ch->stopping = 1;
		ch->drain_until = dr_mono_now() + drain;
		pthread_cond_signal(&ch->wake);
		pthread_mutex_unlock(&ch->lock);
		pthread_join(ch->thread, NULL);
	}
	save_last_id(ch);
	ch_free(ch);
}
