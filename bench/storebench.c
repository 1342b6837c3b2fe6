/* The cost of dr_store_record on the detection thread: a synthetic stream
 * of DNS messages and flow records, with the clock advanced every second,
 * into a store whose writer runs on its own thread. Count it with
 *   valgrind --tool=callgrind --toggle-collect=dr_store_record \
 *     --toggle-collect=dr_store_advance build/bench/storebench FILE.db 1000000 \
 *     [flood|mixed] [alerts]
 * (instructions inside them, per record, are the detection thread's cost;
 * "alerts" opens eight host alerts and two zone alerts first; "attack"
 * opens alerts on the flood's three victim zones and keeps every record).
 *
 * With DR_BENCH_CLICKHOUSE=URL the store also batches everything for
 * ClickHouse (bench/clickhouse.py), in two timed phases: first with the
 * server away (port 9), so that every batch is encoded, compressed and
 * spooled beside the SQLite writes; then a sender alone empties that
 * spool into URL, as fast as the server takes it. Each phase's CPU
 * (getrusage) and the second's rows a second are printed. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/keys.h"
#include "store/clickhouse.h"
#include "store/store.h"

#define DISTINCT 65536

static uint64_t rng = 88172645463325252ull;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* Record i of the stream: "mixed" is a few thousand clients asking a few
 * hundred names of 50 zones and their answers, one in ten a flow record;
 * "flood" is a random source and a random name for every record. */
static void make(struct dr_record *r, int flood)
{
	memset(r, 0, sizeof(*r));
	uint32_t x = next();
	int flow = !flood && x % 10 == 9;
	r->kind = flow ? DR_KIND_FLOW : DR_KIND_DNS;
	r->family = 4;
	uint32_t client = flood ? next() : 0x0a000000u | (x >> 8) % 5000;
	uint32_t server = 0xc0000235u;
	int qr = !flood && (x >> 4) & 1;
	uint32_t src = htonl(qr ? server : client), dst = htonl(qr ? client : server);
	memcpy(r->src, &src, 4);
	memcpy(r->dst, &dst, 4);
	r->sport = qr ? 53 : (uint16_t)(1024 + next() % 60000);
	r->dport = qr ? (uint16_t)(1024 + next() % 60000) : 53;
	r->proto = 17;
	r->sampling = 1;
	if (flow) {
		r->packets = 1 + x % 20;
		r->bytes = r->packets * 80;
		r->direction = 1 + x % 2;
		r->exporter[0] = 4;
		r->exporter[4] = (uint8_t)(1 + x % 3);
	} else {
		r->packets = 1;
		r->payload_len = 40 + x % 200;
		r->bytes = r->payload_len + 28;
		r->dns.flags = (uint16_t)((qr ? 0x8000 : 0) | 0x0100 | (qr && x % 7 == 0 ? 3 : 0));
		r->dns.rcode_ext = r->dns.flags & 0xf;
		r->dns.has_question = 1;
		char name[128];
		if (flood)
			snprintf(name, sizeof(name), "%08x.victim%u.example", next(), x % 3);
		else
			snprintf(name, sizeof(name), "host%u.zone%u.example", (x >> 12) % 300, (x >> 20) % 50);
		r->dns.qname_len = (uint8_t)dr_name_from_text(name, r->dns.qname);
		r->dns.qtype = x % 3 ? 1 : 28;
		r->dns.qclass = 1;
	}
	dr_keys_compute(r, &r->keys, NULL);
	if (r->dns.has_question) {
		/* the registered domain: the last two labels */
		uint8_t *q = r->keys.qname;
		int at = 0, prev = 0, prev2 = 0;
		while (q[at]) {
			prev2 = prev;
			prev = at;
			at += q[at] + 1;
		}
		r->keys.zone = (int16_t)prev2;
		r->keys.zone_hash = dr_hash64(q + prev2, (size_t)(r->keys.qname_len - prev2));
	}
}

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The second phase: a sender alone empties the spool into url. */
static int send_spool(const char *url, const char *spool)
{
	struct dr_ch_config chc;
	struct dr_ch *ch;
	struct dr_ch_stats st;
	char err[512];
	dr_ch_config_defaults(&chc);
	chc.url = url;
	chc.sensor = "bench";
	chc.spool = spool;
	if (dr_ch_open(&ch, &chc, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	dr_ch_stats(ch, &st);
	uint64_t batches = st.spool_batches;
	/* the schema first, untimed */
	if (dr_ch_start(ch, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	double t0 = mono(), c0 = cpu_seconds();
	for (;;) {
		usleep(20000);
		dr_ch_stats(ch, &st);
		if (!st.spool_batches || mono() - t0 > 600)
			break;
	}
	double secs = mono() - t0, cpu = cpu_seconds() - c0;
	printf("clickhouse: %llu of %llu batches, %llu rows (%llu octets compressed) in %.2f s:"
	       " %.0f rows/s, %.2f CPU s (%.2f us a row); %llu send errors, %llu found stored\n",
	       (unsigned long long)st.batches_sent, (unsigned long long)batches,
	       (unsigned long long)st.rows_sent, (unsigned long long)st.bytes_sent, secs,
	       (double)st.rows_sent / secs, cpu, cpu * 1e6 / (double)(st.rows_sent ? st.rows_sent : 1),
	       (unsigned long long)st.send_errors, (unsigned long long)st.duplicates);
	dr_ch_close(ch, 0);
	return st.spool_batches ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: storebench FILE.db RECORDS [flood|mixed] [alerts|attack]\n");
		return 2;
	}
	long n = atol(argv[2]);
	int flood = argc > 3 && strcmp(argv[3], "flood") == 0;
	struct dr_record *recs = malloc(DISTINCT * sizeof(*recs));
	if (!recs)
		return 1;
	for (int i = 0; i < DISTINCT; i++)
		make(&recs[i], flood);
	struct dr_store_config c;
	dr_store_config_defaults(&c);
	c.path = argv[1];
	int attack = argc > 4 && strcmp(argv[4], "attack") == 0;
	if (attack) {	/* every record kept, none lost to a full queue */
		c.values[DR_STORE_ALERT_RECORDS] = 1e8;
		c.values[DR_STORE_QUEUE] = 65536;
	}
	const char *url = getenv("DR_BENCH_CLICKHOUSE");
	struct dr_ch_config chc;
	char spool[4096];
	if (url && *url) {
		dr_ch_config_defaults(&chc);
		chc.url = "http://127.0.0.1:9/";	/* away: everything spools */
		chc.sensor = "bench";
		snprintf(spool, sizeof(spool), "%s.spool", argv[1]);
		chc.spool = spool;
		chc.values[DR_CH_BATCH_SECONDS] = 1;
		c.clickhouse = &chc;
		c.clickhouse_drain = 0;
	}
	struct dr_store *s;
	char err[512];
	unlink(argv[1]);
	if (dr_store_open(&s, &c, err, sizeof(err)) < 0 || dr_store_start(s, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if ((argc > 4 && strcmp(argv[4], "alerts") == 0) || attack) {
		for (unsigned i = 0; i < 10; i++) {
			struct dr_alert a;
			memset(&a, 0, sizeof(a));
			a.id = i + 1;
			a.type = i < 8 ? "flood" : "random_subdomain";
			if (attack && i < 3)
				snprintf(a.key, sizeof(a.key), "victim%u.example", i);
			else if (i < 8)
				snprintf(a.key, sizeof(a.key), "10.0.0.%u", 10 + i);
			else
				snprintf(a.key, sizeof(a.key), "zone%u.example", i);
			if (attack && i < 3)
				a.type = "random_subdomain";
			a.severity = DR_SEV_HIGH;
			dr_store_event(s, DR_EVENT_OPEN, &a);
		}
	}
	/* 20,000 records a second of engine time, from a minute's start */
	int64_t t0 = 1700000040, sec = t0;
	for (long i = 0; i < n; i++) {
		struct dr_record *r = &recs[i % DISTINCT];
		int64_t ts = t0 + i / 20000;
		if (ts != sec) {
			dr_store_advance(s, ts);
			sec = ts;
		}
		r->ts_sec = r->end_sec = ts;
		r->ts_nsec = r->end_nsec = (uint32_t)(i % 20000) * 50000;
		dr_store_record(s, r);
	}
	struct dr_store_stats st;
	dr_store_stats(s, &st);
	uint64_t skipped = st.records_skipped, dropped = st.dropped_batches;
	dr_store_close(s, "stopped");
	free(recs);
	printf("%ld records, %llu over the cap of records under alerts, %llu batches the"
	       " writer fell behind on; %.2f CPU s\n", n, (unsigned long long)skipped,
	       (unsigned long long)dropped, cpu_seconds());
	return c.clickhouse ? send_spool(url, spool) : 0;
}
