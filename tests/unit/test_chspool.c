/* The ClickHouse sink's writer side without a server: rows into RowBinary
 * batches (checked octet by octet), commit and abort, batches into the
 * spool by rows and by age, the spool's bound (records, then aggregates,
 * oldest first; alert events never), and a restart that reads the spool
 * back, a damaged file set aside. The sender and ClickHouse itself are
 * tests/system/test_clickhouse.py's. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "harness.h"
#include "store/ch_int.h"
#include "store/clickhouse.h"
#include "store/minute.h"
#include "store/query.h"

static char dir[] = "/tmp/dr_chspool_XXXXXX";
static char spool[300];

static void clear_spool(void);

/* A sink on a fresh spool, or (keep) on what the last one left. */
static struct dr_ch *open_ch(double spool_mib, double batch_rows, int keep)
{
	struct dr_ch_config c;
	struct dr_ch *ch = NULL;
	char err[256];
	dr_ch_config_defaults(&c);
	c.url = "http://127.0.0.1:1/?database=dr_test&max_threads=2";
	c.sensor = "unit";
	c.spool = spool;
	c.values[DR_CH_SPOOL_MAX] = spool_mib;
	c.values[DR_CH_BATCH_ROWS] = batch_rows;
	if (!keep)
		clear_spool();
	if (dr_ch_open(&ch, &c, err, sizeof(err)) < 0)
		fprintf(stderr, "open: %s\n", err);
	return ch;
}

static unsigned files(const char *suffix)
{
	DIR *d = opendir(spool);
	unsigned n = 0;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		size_t l = strlen(de->d_name), s = strlen(suffix);
		if (l > s && strcmp(de->d_name + l - s, suffix) == 0)
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

static void clear_spool(void)
{
	DIR *d = opendir(spool);
	struct dirent *de;
	char p[600];
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", spool, de->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
}

/* The one file ending in suffix, its data gunzipped into out. */
static size_t read_batch(const char *suffix, uint8_t *out, size_t cap, char *head, size_t hlen)
{
	DIR *d = opendir(spool);
	struct dirent *de;
	size_t n = 0;
	while (d && (de = readdir(d))) {
		size_t l = strlen(de->d_name), s = strlen(suffix);
		if (l <= s || strcmp(de->d_name + l - s, suffix))
			continue;
		char p[600];
		snprintf(p, sizeof(p), "%s/%s", spool, de->d_name);
		FILE *f = fopen(p, "rb");
		if (!f || !fgets(head, (int)hlen, f)) {
			if (f)
				fclose(f);
			break;
		}
		static uint8_t z[1 << 20];
		size_t zn = fread(z, 1, sizeof(z), f);
		fclose(f);
		z_stream zs = {0};
		inflateInit2(&zs, 15 + 16);
		zs.next_in = z;
		zs.avail_in = (uInt)zn;
		zs.next_out = out;
		zs.avail_out = (uInt)cap;
		inflate(&zs, Z_FINISH);
		n = zs.total_out;
		inflateEnd(&zs);
		break;
	}
	if (d)
		closedir(d);
	return n;
}

static void test_url_and_names(void)
{
	struct dr_ch_config c;
	struct dr_ch *ch = NULL;
	char err[256];
	dr_ch_config_defaults(&c);
	c.spool = spool;
	c.url = "ftp://127.0.0.1/";
	CHECK(dr_ch_open(&ch, &c, err, sizeof(err)) < 0);
	CHECK(strstr(err, "not an http://") != NULL);
	c.url = "http://127.0.0.1:8123/?database=bad-name";
	CHECK(dr_ch_open(&ch, &c, err, sizeof(err)) < 0);
	CHECK(strstr(err, "database \"bad-name\"") != NULL);
	c.url = "http://127.0.0.1:8123/";
	c.sensor = "it's";
	CHECK(dr_ch_open(&ch, &c, err, sizeof(err)) < 0);
	CHECK(strstr(err, "clickhouse.sensor") != NULL);
	c.sensor = "ok";
	c.cluster = "a cluster";
	CHECK(dr_ch_open(&ch, &c, err, sizeof(err)) < 0);
	CHECK(strstr(err, "clickhouse.cluster") != NULL);
	c.cluster = NULL;
	c.sensor = "tab\there";
	CHECK(dr_ch_open(&ch, &c, err, sizeof(err)) < 0);
	c.sensor = "ok";
	CHECK(dr_ch_open(&ch, &c, err, sizeof(err)) == 0);
	dr_ch_close(ch, 0);
	/* the database is taken out, every other parameter passes as given */
	c.url = "http://u@127.0.0.1:8123/?password=a%26b%2Bc&database=d%5F1&max_threads=2";
	CHECK(dr_ch_open(&ch, &c, err, sizeof(err)) == 0);
	if (ch) {
		CHECK_STR(ch->db, "d_1");
		CHECK_STR(ch->base, "http://u@127.0.0.1:8123/?password=a%26b%2bc&max_threads=2&");
		dr_ch_close(ch, 0);
	}
}

/* One aggregate row, octet by octet: DateTime, String (LEB128 length),
 * UInt64 three times, then the batch id. */
static void test_rowbinary(void)
{
	struct dr_ch *ch = open_ch(64, 1000, 0);
	struct dr_store_counts c = {.messages = 3, .packets = 300, .bytes = 0x0102030405};
	uint8_t buf[4096];
	char head[200];
	if (!ch) {
		CHECK(0);
		return;
	}
	clear_spool();
	dr_ch_agg(ch, 1700000040, "qname", "example.com", &c);
	dr_ch_commit(ch);
	dr_ch_tick(ch, 1e12);
	size_t n = read_batch(".agg", buf, sizeof(buf), head, sizeof(head));
	static const uint8_t want[] = {
		0x28, 0xf1, 0x53, 0x65,	/* 1700000040 */
		4, 'u', 'n', 'i', 't',
		5, 'q', 'n', 'a', 'm', 'e',
		11, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm',
		3, 0, 0, 0, 0, 0, 0, 0,
		44, 1, 0, 0, 0, 0, 0, 0,
		5, 4, 3, 2, 1, 0, 0, 0,
	};
	CHECK_EQ(n, sizeof(want) + 8);
	CHECK(n >= sizeof(want) && memcmp(buf, want, sizeof(want)) == 0);
	CHECK(strncmp(head, "dnsradar-clickhouse-batch 1 agg 1 1700000040 1700000040", 55) == 0);
	/* a long key's length takes two LEB128 octets */
	char key[300];
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = 0;
	clear_spool();
	dr_ch_agg(ch, 1700000040, "qname", key, &c);
	dr_ch_commit(ch);
	dr_ch_tick(ch, 1e12);
	n = read_batch(".agg", buf, sizeof(buf), head, sizeof(head));
	CHECK(n > 20 && buf[14] == 'e' && buf[15] == (0x80 | (299 & 0x7f)) && buf[16] == 299 >> 7);
	dr_ch_close(ch, 0);
}

static void record_row(struct dr_ch *ch, double ts)
{
	static const uint8_t bin[5] = {4, 10, 0, 0, 1};
	struct dr_query_record r = {
		.ts = ts, .kind = "dns", .src = "10.0.0.1", .dst = "10.0.0.1", .sport = 53,
		.dport = 1024, .proto = 17, .len = 80, .packets = 1, .bytes = 100, .why = "alert",
		.weight = 1, .has_dns = 1, .qname = "www.example.com", .zone = "example.com",
		.qtype = 1, .qclass = 1,
	};
	dr_ch_record(ch, &r, bin, sizeof(bin), bin, sizeof(bin));
}

static void test_commit_abort_and_batching(void)
{
	struct dr_ch *ch = open_ch(64, 10, 0);
	struct dr_ch_stats st;
	char head[200];
	uint8_t buf[1 << 16];
	if (!ch) {
		CHECK(0);
		return;
	}
	clear_spool();
	/* a transaction SQLite rolled back leaves nothing */
	record_row(ch, 1700000000);
	dr_ch_abort(ch);
	dr_ch_tick(ch, 1e12);
	CHECK_EQ(files(".records"), 0);
	/* ten rows fill a batch at once; the eleventh waits for its age */
	for (int i = 0; i < 11; i++) {
		record_row(ch, 1700000000 + i);
		dr_ch_commit(ch);
	}
	CHECK_EQ(files(".records"), 1);
	size_t n = read_batch(".records", buf, sizeof(buf), head, sizeof(head));
	CHECK(strncmp(head, "dnsradar-clickhouse-batch 1 records 10 1700000000 1700000009", 60)
	      == 0);
	CHECK(n > 0);
	dr_ch_tick(ch, 0);	/* not old yet */
	CHECK_EQ(files(".records"), 1);
	dr_ch_tick(ch, 1e12);
	CHECK_EQ(files(".records"), 2);
	/* a batch is of one day: a row of the next starts another */
	record_row(ch, 1700000000);
	dr_ch_commit(ch);
	record_row(ch, 1700000000 + 86400);
	dr_ch_commit(ch);
	CHECK_EQ(files(".records"), 3);
	dr_ch_stats(ch, &st);
	CHECK_EQ(st.spool_batches, 3);
	dr_ch_close(ch, 0);	/* spools the last */
	CHECK_EQ(files(".records"), 4);
}

static void event_row(struct dr_ch *ch, uint64_t id)
{
	static char json[2048];
	uint64_t x = id * 0x9E3779B97F4A7C15u + 1;
	for (size_t i = 0; i + 1 < sizeof(json); i++) {	/* as good as incompressible */
		x = x * 6364136223846793005u + 1442695040888963407u;
		json[i] = (char)('!' + (x >> 33) % 90);
	}
	dr_ch_event(ch, 1700000000.5, 1, id, "open", "flood", "10.0.0.1", "open", 1700000000,
		    1700000000, 1700000000, "high", 10, 1000, 5, 50, json);
}

static void test_bound(void)
{
	struct dr_ch *ch = open_ch(1, 1000, 0);	/* one MiB */
	struct dr_ch_stats st;
	struct dr_store_counts c = {1, 1, 1};
	char key[64];
	if (!ch) {
		CHECK(0);
		return;
	}
	clear_spool();
	/* aggregates first, then far more records than fit */
	for (int i = 0; i < 20; i++) {
		for (int k = 0; k < 1000; k++) {
			snprintf(key, sizeof(key), "name-%d-%d.example", i, k * 7919 % 100003);
			dr_ch_agg(ch, 1700000040 + 60 * i, "qname", key, &c);
		}
		dr_ch_commit(ch);
	}
	for (int i = 0; i < 400; i++) {
		for (int k = 0; k < 1000; k++)
			record_row(ch, 1700000000 + i + k * 1e-3);
		dr_ch_commit(ch);
		event_row(ch, (uint64_t)i + 1);
		dr_ch_commit(ch);
		dr_ch_tick(ch, 1e12);
	}
	dr_ch_stats(ch, &st);
	CHECK(st.spool_bytes <= 1048576 + st.spool_over);
	CHECK(st.spool_dropped[DR_CH_RECORDS] > 0);
	CHECK_EQ(st.spool_dropped[DR_CH_EVENTS], 0);
	CHECK_EQ(st.spool_dropped_rows[DR_CH_RECORDS], st.spool_dropped[DR_CH_RECORDS] * 1000);
	/* every event batch is there */
	CHECK_EQ(files(".alert_events"), 400);
	unsigned agg_before = files(".agg");
	/* events alone past the cap: aggregates go, then nothing more can */
	for (int i = 0; i < 700; i++) {
		event_row(ch, 1000 + (uint64_t)i);
		dr_ch_commit(ch);
		dr_ch_tick(ch, 1e12);
	}
	dr_ch_stats(ch, &st);
	CHECK_EQ(files(".alert_events"), 1100);
	CHECK(files(".agg") < agg_before || agg_before == 0);
	CHECK_EQ(files(".records"), 0);
	CHECK(st.spool_over > 0);
	dr_ch_close(ch, 0);
}

static void test_restart_reads_the_spool(void)
{
	struct dr_ch *ch = open_ch(64, 1000, 0);
	struct dr_ch_stats st;
	if (!ch) {
		CHECK(0);
		return;
	}
	clear_spool();
	for (int i = 0; i < 5; i++) {
		event_row(ch, (uint64_t)i + 1);
		dr_ch_commit(ch);
		dr_ch_tick(ch, 1e12);
	}
	dr_ch_close(ch, 0);
	CHECK_EQ(files(".alert_events"), 5);
	/* one damaged file: set aside, counted */
	char p[600];
	snprintf(p, sizeof(p), "%s/%020d.alert_events", spool, 7);
	FILE *f = fopen(p, "w");
	if (f) {
		fputs("not a batch\n", f);
		fclose(f);
	}
	ch = open_ch(64, 1000, 1);
	if (!ch) {
		CHECK(0);
		return;
	}
	dr_ch_stats(ch, &st);
	CHECK_EQ(st.spool_batches, 5);
	CHECK_EQ(st.spool_errors, 1);
	CHECK_EQ(files(".damaged"), 1);
	dr_ch_close(ch, 0);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	RUN(test_url_and_names);
	RUN(test_rowbinary);
	RUN(test_commit_abort_and_batching);
	RUN(test_bound);
	RUN(test_restart_reads_the_spool);
	clear_spool();
	rmdir(spool);
	rmdir(dir);
	TEST_MAIN_END();
}
