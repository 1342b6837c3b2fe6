/* The ClickHouse sink's sender thread (clickhouse.h): the schema made
 * (every statement idempotent, so that it runs at each start and from
 * many sensors at once), day partitions past their table's time dropped
 * (Debian's 18.16 has no TTL clause), then the spool sent in order, alert
 * events first, over the HTTP interface. A batch whose attempt failed
 * may have been stored (the answer was lost, or a view after the insert
 * failed): before it is sent again, its rows are looked for by batch id. */
#include "store/ch_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#include "lib/now.h"
#include "store/ch_answer.h"
#include "store/ch_schema.h"

#define ANSWER_MAX (1u << 20)	/* octets of an answer kept; ours are small */

static const char *const table_columns[DR_CH_NTABLES] = {
	DR_CH_EVENT_COLUMNS, DR_CH_AGG_COLUMNS, DR_CH_RECORD_COLUMNS,
};
static const char *const time_columns[DR_CH_NTABLES] = {"time", "minute", "time"};

/* ClickHouse's codes for data it cannot take: sent again, it fails again. */
static const int data_errors[] = {6, 16, 26, 27, 33, 53, 117, 354};

static size_t on_answer(char *p, size_t size, size_t n, void *arg)
{
	struct ch_buf *b = arg;
	size_t len = size * n, room = ANSWER_MAX - b->len;
	size_t take = len < room ? len : room;
	if (b->len + take + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + take + 1)
			cap *= 2;
		uint8_t *np = realloc(b->p, cap);
		if (!np)
			return 0;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, take);
	b->len += take;
	b->p[b->len] = 0;
	return len;
}

/* Stops a request under way once the service stops and the drain is
 * over: a close never waits on ClickHouse past it. */
static int past_drain(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		      curl_off_t ulnow)
{
	struct dr_ch *ch = arg;
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	pthread_mutex_lock(&ch->lock);
	int stop = ch->stopping && dr_mono_now() >= ch->drain_until;
	pthread_mutex_unlock(&ch->lock);
	return stop;
}

/* One request: `sql` in the URL with `body` as its data (an insert, its
 * query id qid), or as the body itself when body is NULL. 0 when
 * ClickHouse said 200; its error code (1 when it gave none) with its
 * first line in err; -1 when no answer came. The answer is in ans,
 * NUL-terminated. */
static int request(struct dr_ch *ch, CURL *curl, const char *sql, const void *body, size_t len,
		   const char *qid, struct ch_buf *ans, char *err, size_t errlen)
{
	char *url = NULL;
	struct curl_slist *h = NULL;
	int ret = -1;
	ans->len = 0;
	if (ans->p)
		ans->p[0] = 0;
	if (body) {
		char *q = curl_easy_escape(curl, sql, 0);
		size_t n = strlen(ch->base) + strlen(q ? q : "") + strlen(qid ? qid : "") + 32;
		url = q ? malloc(n) : NULL;
		if (url)
			snprintf(url, n, "%s%s%s%squery=%s", ch->base, qid ? "query_id=" : "",
				 qid ? qid : "", qid ? "&" : "", q);
		curl_free(q);
		h = curl_slist_append(h, "Content-Encoding: gzip");
	} else {
		url = strdup(ch->base);
		body = sql;
		len = strlen(sql);
	}
	h = curl_slist_append(h, "Content-Type: application/octet-stream");
	h = curl_slist_append(h, "Expect:");	/* no 100-continue round trip */
	if (!url || !h) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	long secs = (long)ch->values[DR_CH_TIMEOUT];
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, secs);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, secs < 5 ? secs : 5L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "dnsradar");
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, ans);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, past_drain);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, ch);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	/* An insert goes on a connection of its own: on a reused one that
	 * dies before an answer, libcurl sends the request again by itself
	 * (it takes the connection for one the server had closed), and a
	 * batch whose answer a proxy cut would be stored twice, unseen. */
	curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, qid ? 1L : 0L);
	CURLcode rc = curl_easy_perform(curl);
	long status = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s", curl_easy_strerror(rc));
		goto out;
	}
	if (status == 200) {
		ret = 0;
		goto out;
	}
	const char *text = ans->p ? (const char *)ans->p : "";
	const char *code = strstr(text, "Code: ");
	ret = code ? atoi(code + 6) : 0;
	if (ret <= 0)
		ret = 1;
	if (ans->p)
		dr_ch_server_message((char *)ans->p);
	snprintf(err, errlen, "HTTP %ld: %.300s", status, text);
out:
	curl_slist_free_all(h);
	free(url);
	return ret;
}

/* tmpl with {db} and {cluster} replaced. */
static int expand(const struct dr_ch *ch, const char *tmpl, char *out, size_t len)
{
	size_t o = 0;
	for (const char *p = tmpl; *p;) {
		const char *with = NULL;
		if (!strncmp(p, "{db}", 4)) {
			with = ch->db;
			p += 4;
		} else if (!strncmp(p, "{cluster}", 9)) {
			with = ch->cluster;
			p += 9;
		}
		if (with) {
			size_t n = strlen(with);
			if (o + n >= len)
				return -1;
			memcpy(out + o, with, n);
			o += n;
		} else {
			if (o + 1 >= len)
				return -1;
			out[o++] = *p++;
		}
	}
	out[o] = 0;
	return 0;
}

/* One statement of ours; "already exists" (another sensor was quicker)
 * is success. */
static int statement(struct dr_ch *ch, CURL *curl, const char *tmpl, struct ch_buf *ans,
		     char *err, size_t errlen)
{
	char sql[4096];
	if (expand(ch, tmpl, sql, sizeof(sql)) < 0) {
		snprintf(err, errlen, "a statement is too long");
		return -1;
	}
	int rc = request(ch, curl, sql, NULL, 0, NULL, ans, err, errlen);
	return rc == 0 || rc == 57 || rc == 82 ? 0 : -1;
}

/* n numbers, tab-separated, then a newline: the whole answer. 0 or -1
 * (an empty answer, or text that is not numbers, from a proxy, say). */
static int answer_ints(const struct ch_buf *ans, int64_t *v, int n)
{
	const char *p = ans->p ? (const char *)ans->p : "";
	for (int i = 0; i < n; i++) {
		char *end;
		errno = 0;
		v[i] = strtoll(p, &end, 10);
		if (end == p || errno || *end != (i + 1 < n ? '\t' : '\n'))
			return -1;
		p = end + 1;
	}
	return *p ? -1 : 0;
}

static int answer_int(const struct ch_buf *ans, int64_t *v, char *err, size_t errlen)
{
	if (answer_ints(ans, v, 1) == 0)
		return 0;
	snprintf(err, errlen, "an answer that is not a number: \"%.60s\"",
		 ans->p ? (const char *)ans->p : "");
	return -1;
}

static int migrate(struct dr_ch *ch, CURL *curl, struct ch_buf *ans, char *err, size_t errlen)
{
	char sql[512];
	for (size_t i = 0; i < sizeof(dr_ch_schema) / sizeof(*dr_ch_schema); i++)
		if (statement(ch, curl, dr_ch_schema[i], ans, err, errlen) < 0)
			return -1;
	for (size_t i = 0; ch->cluster[0] &&
	     i < sizeof(dr_ch_schema_cluster) / sizeof(*dr_ch_schema_cluster); i++)
		if (statement(ch, curl, dr_ch_schema_cluster[i], ans, err, errlen) < 0)
			return -1;
	snprintf(sql, sizeof(sql), "SELECT max(version) FROM %s.migrations", ch->db);
	int64_t v;
	if (request(ch, curl, sql, NULL, 0, NULL, ans, err, errlen) != 0 ||
	    answer_int(ans, &v, err, errlen) < 0)
		return -1;
	if (v > DR_CH_SCHEMA_VERSION) {
		snprintf(err, errlen, "database %s has schema %" PRId64 ", newer than this"
			 " dnsradar's (%d): upgrade the sensor", ch->db, v, DR_CH_SCHEMA_VERSION);
		return -1;
	}
	snprintf(sql, sizeof(sql), "SELECT count() FROM %s.migrations WHERE version = %d AND"
		 " sensor = '%s'", ch->db, DR_CH_SCHEMA_VERSION, ch->sensor);
	if (request(ch, curl, sql, NULL, 0, NULL, ans, err, errlen) != 0 ||
	    answer_int(ans, &v, err, errlen) < 0)
		return -1;
	if (v == 0) {
		snprintf(sql, sizeof(sql), "INSERT INTO %s.migrations VALUES (%d, '%s', now())",
			 ch->db, DR_CH_SCHEMA_VERSION, ch->sensor);
		if (request(ch, curl, sql, NULL, 0, NULL, ans, err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* The first second after a partition: YYYYMMDD or (monthly) YYYYMM. */
static int64_t partition_end(const char *p, int monthly)
{
	char *end;
	long v = strtol(p, &end, 10);
	if (end == p || (*end && *end != '\n'))
		return -1;
	struct tm tm = {0};
	if (monthly) {
		tm.tm_year = (int)(v / 100) - 1900;
		tm.tm_mon = (int)(v % 100);	/* the next month's first day */
		tm.tm_mday = 1;
	} else {
		tm.tm_year = (int)(v / 10000) - 1900;
		tm.tm_mon = (int)(v / 100 % 100) - 1;
		tm.tm_mday = (int)(v % 100) + 1;
	}
	return (int64_t)timegm(&tm);
}

/* Drops the day (or month) partitions wholly older than their table's
 * time: the TTL of 18.16, which has no TTL clause. */
static int retention(struct dr_ch *ch, CURL *curl, struct ch_buf *ans, char *err, size_t errlen)
{
	static const struct {
		const char *table;
		int ttl, monthly;
	} tables[] = {
		{"alert_events", DR_CH_TTL_ALERTS, 0}, {"agg", DR_CH_TTL_AGG, 0},
		{"agg_1h", DR_CH_TTL_HOURLY, 1}, {"records", DR_CH_TTL_RECORDS, 0},
	};
	char sql[2048], parts[64][16];
	double now = dr_wall_now();
	for (size_t i = 0; i < sizeof(tables) / sizeof(*tables); i++) {
		double cutoff = now - ch->values[tables[i].ttl] * 86400.0;
		snprintf(sql, sizeof(sql), "SELECT DISTINCT partition FROM system.parts WHERE"
			 " database = '%s' AND table = '%s' AND active ORDER BY partition LIMIT 64",
			 ch->db, tables[i].table);
		if (request(ch, curl, sql, NULL, 0, NULL, ans, err, errlen) != 0)
			return -1;
		unsigned n = 0;
		for (char *save = NULL, *line = strtok_r((char *)ans->p, "\n", &save);
		     line && n < 64; line = strtok_r(NULL, "\n", &save))
			if (strlen(line) < sizeof(parts[0]))
				snprintf(parts[n++], sizeof(parts[0]), "%s", line);
		for (unsigned k = 0; k < n; k++) {
			pthread_mutex_lock(&ch->lock);
			int stopping = ch->stopping;
			pthread_mutex_unlock(&ch->lock);
			if (stopping)
				return 0;
			int64_t end = partition_end(parts[k], tables[i].monthly);
			if (end < 0 || (double)end > cutoff)
				continue;
			snprintf(sql, sizeof(sql), "ALTER TABLE %s.%s DROP PARTITION %s", ch->db,
				 tables[i].table, parts[k]);
			if (request(ch, curl, sql, NULL, 0, NULL, ans, err, errlen) != 0)
				return -1;
			pthread_mutex_lock(&ch->lock);
			ch->st.partitions_dropped++;
			pthread_mutex_unlock(&ch->lock);
		}
	}
	return 0;
}

/* The entry to send next: alert events first, then by id; under lock. */
static const struct ch_entry *next_entry(const struct dr_ch *ch)
{
	for (size_t i = 0; i < ch->nentries; i++)
		if (ch->entries[i].table == DR_CH_EVENTS)
			return &ch->entries[i];
	return ch->nentries ? &ch->entries[0] : NULL;
}

static struct ch_entry *find_entry(struct dr_ch *ch, uint64_t id)
{
	for (size_t i = 0; i < ch->nentries; i++)
		if (ch->entries[i].id == id)
			return &ch->entries[i];
	return NULL;
}

/* The spooled batch's data, after its header line: 0; -1 when it cannot
 * be read now (errno); -2 when the file is damaged (no data after its
 * header). */
static int read_batch(const struct dr_ch *ch, const struct ch_entry *e, struct ch_buf *b)
{
	char path[4096];
	dr_ch_entry_path(ch, e, path, sizeof(path));
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return -1;
	int c, ok = 0, damaged = 1;
	while ((c = getc(fp)) != EOF && c != '\n')
		;
	if (c == '\n') {
		b->len = 0;
		ok = 1;
		for (;;) {
			if (b->cap - b->len < 65536) {
				size_t cap = b->cap ? b->cap * 2 : 1 << 20;
				uint8_t *np = realloc(b->p, cap);
				if (!np) {
					ok = 0;
					break;
				}
				b->p = np;
				b->cap = cap;
			}
			size_t n = fread(b->p + b->len, 1, b->cap - b->len, fp);
			b->len += n;
			if (n == 0) {
				damaged = !ferror(fp) && b->len == 0;
				ok = !ferror(fp) && b->len > 0;
				break;
			}
		}
		if (!ok && !damaged && !errno)
			errno = ENOMEM;
	}
	int saved = errno;
	fclose(fp);
	errno = saved;
	return ok ? 0 : damaged ? -2 : -1;
}

static int is_data_error(int code)
{
	for (size_t i = 0; i < sizeof(data_errors) / sizeof(*data_errors); i++)
		if (code == data_errors[i])
			return 1;
	return 0;
}

/* Sends the next batch. 1: it is done with (sent, found stored, or set
 * aside); 0: nothing to send; -1: it failed and stays. */
static int send_one(struct dr_ch *ch, CURL *curl, struct ch_buf *data, struct ch_buf *ans)
{
	char sql[1024], err[400];
	int rc;
	pthread_mutex_lock(&ch->lock);
	const struct ch_entry *ne = next_entry(ch);
	struct ch_entry e = ne ? *ne : (struct ch_entry){0};
	ch->sending = e.id;
	pthread_mutex_unlock(&ch->lock);
	if (!e.id)
		return 0;
	const char *table = dr_ch_table_names[e.table];
	char qid[160];
	snprintf(qid, sizeof(qid), "dnsradar-%s-%s-%" PRIu64, ch->sensor, table, e.id);
	int got = read_batch(ch, &e, data);
	if (got == -1 && errno != ENOENT) {
		snprintf(err, sizeof(err), "the spooled batch cannot be read now: %s",
			 strerror(errno));
		rc = -1;
		goto failed;
	}
	if (got < 0) {	/* gone, or damaged: set aside, counted */
		pthread_mutex_lock(&ch->lock);
		ch->st.spool_errors++;
		char path[4096], aside[4200];
		dr_ch_entry_path(ch, &e, path, sizeof(path));
		snprintf(aside, sizeof(aside), "%s.damaged", path);
		rename(path, aside);
		snprintf(ch->st.last_error, sizeof(ch->st.last_error), "%s: batch %" PRIu64
			 " (%s) is %s; skipped", ch->spool, e.id, table,
			 got == -2 ? "damaged (set aside as .damaged)" : "gone");
		dr_ch_entry_remove(ch, e.id);
		ch->sending = 0;
		pthread_mutex_unlock(&ch->lock);
		return 1;
	}
	if (e.uncertain) {
		/* the insert sent before may still run (a timeout): wait for it
		 * to end, then count its rows */
		int64_t v[2];
		snprintf(sql, sizeof(sql), "SELECT (SELECT count() FROM system.processes WHERE"
			 " query_id = '%s'), count() FROM %s.%s WHERE sensor = '%s' AND batch = %"
			 PRIu64 " AND %s >= toDateTime(%" PRId64 ") AND %s <= toDateTime(%" PRId64
			 ")", qid, ch->db, table, ch->sensor, e.id, time_columns[e.table], e.tmin,
			 time_columns[e.table], e.tmax);
		rc = request(ch, curl, sql, NULL, 0, NULL, ans, err, sizeof(err));
		if (rc != 0)
			goto failed;
		if (answer_ints(ans, v, 2) < 0 || v[0] > 0) {
			snprintf(err, sizeof(err), v[0] > 0 ? "the insert sent before is still running"
				 : "the check of a batch sent before gave no count");
			rc = 1;
			goto failed;
		}
		if (v[1] >= (int64_t)e.rows) {
			pthread_mutex_lock(&ch->lock);
			ch->st.duplicates++;
			ch->st.connected = 1;
			dr_ch_entry_remove(ch, e.id);
			ch->sending = 0;
			pthread_mutex_unlock(&ch->lock);
			return 1;
		}
		if (v[1] > 0) {
			/* a part of it (two day partitions, one stored): its rows go,
			 * then it is sent whole; a mutation leaves later parts alone */
			snprintf(sql, sizeof(sql), "ALTER TABLE %s.%s DELETE WHERE sensor = '%s' AND"
				 " batch = %" PRIu64, ch->db, table, ch->sensor, e.id);
			rc = request(ch, curl, sql, NULL, 0, NULL, ans, err, sizeof(err));
			if (rc != 0)
				goto failed;
		}
	}
	snprintf(sql, sizeof(sql), "INSERT INTO %s.%s (%s) FORMAT RowBinary", ch->db, table,
		 table_columns[e.table]);
	rc = request(ch, curl, sql, data->p, data->len, qid, ans, err, sizeof(err));
	if (rc == 0) {
		pthread_mutex_lock(&ch->lock);
		ch->st.batches_sent++;
		ch->st.rows_sent += e.rows;
		ch->st.bytes_sent += data->len;
		ch->st.connected = 1;
		dr_ch_entry_remove(ch, e.id);
		ch->sending = 0;
		pthread_mutex_unlock(&ch->lock);
		return 1;
	}
failed:
	pthread_mutex_lock(&ch->lock);
	ch->st.send_errors++;
	ch->st.connected = rc > 0;
	snprintf(ch->st.last_error, sizeof(ch->st.last_error), "clickhouse: %s batch %" PRIu64
		 ": %.200s", table, e.id, err);
	struct ch_entry *live = rc == -1 && got == -1 ? NULL : find_entry(ch, e.id);
	if (live) {
		live->uncertain = 1;
		if (is_data_error(rc) && ++live->refusals >= CH_REJECT_AFTER) {
			char path[4096], aside[4200];
			dr_ch_entry_path(ch, live, path, sizeof(path));
			snprintf(aside, sizeof(aside), "%s.rejected", path);
			rename(path, aside);
			ch->st.rejected++;
			dr_ch_entry_remove(ch, e.id);
		}
	}
	if (rc == 60 || rc == 81)	/* a table or the database went away */
		ch->st.migrated = 0;
	ch->sending = 0;
	pthread_mutex_unlock(&ch->lock);
	return -1;
}

static void wait_until(struct dr_ch *ch, double when)
{
	double secs = when - dr_mono_now();
	if (secs <= 0)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	double whole = (double)(int64_t)secs;
	ts.tv_sec += (time_t)whole;
	ts.tv_nsec += (long)((secs - whole) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&ch->wake, &ch->lock, &ts);
}

void *dr_ch_sender_main(void *arg)
{
	struct dr_ch *ch = arg;
	CURL *curl = curl_easy_init();
	struct ch_buf data = {0}, ans = {0};
	double backoff = 0, next_try = 0, next_retention = 0;
	char err[400];
	if (!curl) {
		dr_ch_note(ch, "clickhouse: libcurl cannot start; nothing is sent, the spool"
			   " keeps every batch");
		return NULL;
	}
	pthread_mutex_lock(&ch->lock);
	for (;;) {
		double now = dr_mono_now();
		if (ch->stopping && (now >= ch->drain_until || (ch->st.migrated && !ch->nentries)))
			break;
		double until = next_try;
		if (ch->st.migrated && !ch->nentries && next_retention > until)
			until = next_retention;
		if (ch->stopping && until > ch->drain_until)
			until = ch->drain_until;
		if (now < until) {
			wait_until(ch, until);
			continue;
		}
		int migrated = ch->st.migrated, stopping = ch->stopping;
		pthread_mutex_unlock(&ch->lock);
		int rc;
		if (!migrated) {
			rc = migrate(ch, curl, &ans, err, sizeof(err)) == 0 ? 1 : -1;
			if (rc > 0)
				next_retention = 0;
		} else if (now >= next_retention && !stopping) {
			rc = retention(ch, curl, &ans, err, sizeof(err)) == 0 ? 1 : -1;
			next_retention = now + CH_RETENTION_EVERY;
		} else {
			rc = send_one(ch, curl, &data, &ans);
			err[0] = 0;
		}
		pthread_mutex_lock(&ch->lock);
		if (!migrated && rc > 0)
			ch->st.migrated = 1;
		if (rc < 0 && err[0]) {
			ch->st.connected = 0;
			snprintf(ch->st.last_error, sizeof(ch->st.last_error), "clickhouse: %s: %s",
				 migrated ? "retention" : "schema", err);
		}
		if (rc < 0) {
			backoff = backoff ? backoff * 2 : 0.25;
			if (backoff > CH_BACKOFF_MAX)
				backoff = CH_BACKOFF_MAX;
			next_try = dr_mono_now() + backoff;
		} else {
			backoff = 0;
			next_try = 0;
		}
	}
	pthread_mutex_unlock(&ch->lock);
	free(data.p);
	free(ans.p);
	curl_easy_cleanup(curl);
	return NULL;
}
