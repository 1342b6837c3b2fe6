/* The cost of dr_store_record on the detection thread: a synthetic stream
 * of DNS messages and flow records, with the clock advanced every second,
 * into a store whose writer runs on its own thread. Count it with
 *   valgrind --tool=callgrind --toggle-collect=dr_store_record \
 *     --toggle-collect=dr_store_advance build/bench/storebench FILE.db 1000000 \
 *     [flood|mixed] [alerts]
 * (instructions inside them, per record, are the detection thread's cost;
 * "alerts" opens eight host alerts and two zone alerts first). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/keys.h"
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

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: storebench FILE.db RECORDS [flood|mixed]\n");
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
	struct dr_store *s;
	char err[512];
	unlink(argv[1]);
	if (dr_store_open(&s, &c, err, sizeof(err)) < 0 || dr_store_start(s, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (argc > 4 && strcmp(argv[4], "alerts") == 0) {
		for (unsigned i = 0; i < 10; i++) {
			struct dr_alert a;
			memset(&a, 0, sizeof(a));
			a.id = i + 1;
			a.type = i < 8 ? "flood" : "random_subdomain";
			if (i < 8)
				snprintf(a.key, sizeof(a.key), "10.0.0.%u", 10 + i);
			else
				snprintf(a.key, sizeof(a.key), "zone%u.example", i);
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
	dr_store_close(s, "stopped");
	free(recs);
	printf("%ld records, %llu over the cap of records under alerts\n", n,
	       (unsigned long long)st.records_skipped);
	return 0;
}
