/* Unit tests of the detection engine and each detector, driven by
 * hand-built records whose timestamps are the only clock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "decode/packet.h"
#include "detect/engine.h"
#include "lib/topk.h"
#include "harness.h"
#include "engine_harness.h"
#include "core/where.h"

static uint8_t ports[8192];

struct rec_spec {
	double ts;
	const char *src, *dst;
	uint16_t sport, dport;
	int qr, rcode, qtype, malformed, frag, ttl;
	const char *qname;
	uint32_t len;
	uint32_t sampling;	/* a sampled header (sFlow) standing for this many */
};

static void feed(struct dr_engine *e, const struct rec_spec *s)
{
	struct dr_record r;
	static uint8_t payload[4096];
	harness_message(&r, s->ts, s->src, s->dst, s->sport, s->dport, s->ttl ? s->ttl : 64, payload,
			s->len ? s->len : 40);
	r.fragmented = (uint8_t)s->frag;
	r.dns.flags = (uint16_t)((s->qr ? 0x8000 : 0) | (s->rcode & 0xf) | 0x0100);
	r.dns.rcode_ext = (uint16_t)s->rcode;
	r.dns.malformed = (uint8_t)s->malformed;
	if (s->qname && !s->malformed)
		harness_question(&r, s->qname, (unsigned)s->qtype);
	if (s->sampling) {	/* as src/decode/sflow.c makes it */
		r.sampling = s->sampling;
		r.packets = s->sampling;
		r.bytes = (uint64_t)r.ip_len * s->sampling;
		r.exporter[0] = 4;
		memcpy(r.exporter + 1, "\xc0\x00\x02\xc8", 4);
	}
	dr_engine_record(e, &r);
}

static void start(struct dr_engine *e, const char *const *sets)
{
	char err[256];
	memset(ports, 0, sizeof(ports));
	dr_port_set(ports, 53);
	dr_engine_defaults(e);
	CHECK_EQ(harness_subscribe(e), 0);
	for (; sets && *sets; sets++)
		CHECK_EQ(dr_engine_set(e, *sets, err, sizeof(err)), 0);
}

static void go(struct dr_engine *e)
{
	CHECK_EQ(dr_engine_start(e, ports), 0);
}

static unsigned count(const struct dr_engine *e, const char *type, const char *key)
{
	unsigned n = 0;
	(void)e;
	for (unsigned i = 0; i < LOG.n; i++)
		n += strcmp(LOG.a[i].type, type) == 0 && (!key || strcmp(LOG.a[i].key, key) == 0);
	return n;
}

/* `pps` junk packets a second from src to dst:53 over [t0, t0 + secs). */
static void junk(struct dr_engine *e, const char *src, const char *dst, double t0, int secs, int pps)
{
	for (int s = 0; s < secs; s++)
		for (int i = 0; i < pps; i++) {
			struct rec_spec r = {.ts = t0 + s + (double)i / pps, .src = src, .dst = dst,
					     .sport = 4444, .dport = 53, .malformed = DR_MAL_NOT_DNS,
					     .len = 512};
			feed(e, &r);
		}
}

static void test_flood_stop_restart(void)
{
	struct dr_engine e;
	start(&e, NULL);
	go(&e);
	junk(&e, "10.9.9.9", "192.0.2.1", 1000, 5, 3000);
	junk(&e, "10.9.9.9", "192.0.2.1", 1030, 5, 3000);	/* 25 s quiet: same attack */
	junk(&e, "10.9.9.9", "192.0.2.1", 1200, 5, 3000);	/* 165 s quiet: a new one */
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(LOG.n, 2);
	CHECK_EQ(count(&e, "flood", "10.9.9.9"), 2);
	const struct dr_alert *a = &LOG.a[0];
	CHECK(a->start >= 1000 && a->start < 1003);	/* fires in its 2nd second */
	CHECK(a->end > 1034 && a->end < 1035);
	CHECK(a->packets >= 3000 * 8);
	CHECK(a->peak_pps >= 2999);
	CHECK(strstr(alert_text(0), "\"payload\":\"not DNS (junk payloads)\"") != NULL);
	CHECK(LOG.a[1].start >= 1200);
	dr_engine_fini(&e);
}

/* A key evicted from a full table, coming back, is still one attack.
 * Space-Saving protects heavy keys: with 8 entries, each newcomer takes
 * the lightest one's count plus one, so the floor rises by one every 8
 * newcomers; 100,000 sources lift it to 12,500, past the 9,000 packets
 * of the first burst, which is then evicted. */
static void test_flood_eviction(void)
{
	static const char *const sets[] = {"flood.sources=8", "flood.targets=8", NULL};
	struct dr_engine e;
	start(&e, sets);
	go(&e);
	junk(&e, "10.9.9.9", "192.0.2.1", 1000, 3, 3000);
	char src[32];
	for (int i = 0; i < 100000; i++) {
		snprintf(src, sizeof(src), "172.%d.%d.%d", 16 + i / 62500, i / 250 % 250, i % 250 + 1);
		/* twice each, at 10,000 packets a second to one target (not
		 * a flood of it): the doorkeeper admits a key seen before */
		struct rec_spec r = {.ts = 1004 + i / 5000.0, .src = src, .dst = "192.0.2.2",
				     .sport = 1, .dport = 53, .qname = "a.example", .qtype = 1};
		feed(&e, &r);
		feed(&e, &r);
	}
	unsigned flood = 0;
	for (unsigned i = 0; i < e.n; i++)
		if (strcmp(dr_detectors[i]->name, "flood") == 0)
			flood = i;
	/* the detector's own table: struct flood starts with its sources */
	const struct dr_topk *sources = e.state[flood];
	CHECK(sources->evictions > 90000);
	int present = 0;
	uint8_t key[5] = {4, 10, 9, 9, 9};
	for (uint32_t i = 0; i < sources->used; i++)
		present |= sources->key_len[i] == 5 && memcmp(dr_topk_key(sources, i), key, 5) == 0;
	CHECK(!present);	/* evicted indeed */
	junk(&e, "10.9.9.9", "192.0.2.1", 1030, 3, 3000);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(count(&e, "flood", "10.9.9.9"), 1);
	CHECK_EQ(LOG.n, 1);
	if (LOG.n)
		CHECK(LOG.a[0].end > 1032);	/* the second burst joined it */
	dr_engine_fini(&e);
}

/* A client the server answers is not a flood, however busy. */
static void test_flood_answered_is_not(void)
{
	struct dr_engine e;
	start(&e, NULL);
	go(&e);
	for (int i = 0; i < 5 * 3000; i++) {
		double t = 1000 + i / 3000.0;
		struct rec_spec q = {.ts = t, .src = "10.64.0.1", .dst = "10.0.0.53", .sport = 1000,
				     .dport = 53, .qname = "www.example.com", .qtype = 1};
		struct rec_spec r = {.ts = t + 0.0001, .src = "10.0.0.53", .dst = "10.64.0.1",
				     .sport = 53, .dport = 1000, .qr = 1, .qname = "www.example.com",
				     .qtype = 1, .len = 80};
		feed(&e, &q);
		feed(&e, &r);
	}
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(LOG.n, 0);
	dr_engine_fini(&e);
}

static void bounce(struct dr_engine *e, double t0, int secs, int pps, int errors)
{
	for (int i = 0; i < secs * pps; i++) {
		double t = t0 + (double)i / pps;
		struct rec_spec in = {.ts = t, .src = "203.0.113.9", .dst = "192.0.2.53",
				      .sport = 22772, .dport = 53, .ttl = 52,
				      .malformed = errors ? DR_MAL_NOT_DNS : 0,
				      .qname = errors ? NULL : "example.com", .qtype = 1};
		struct rec_spec out = {.ts = t + 0.0003, .src = "192.0.2.53", .dst = "203.0.113.9",
				       .sport = 53, .dport = 22772, .qr = 1, .rcode = errors ? 1 : 0,
				       .qname = errors ? NULL : "example.com", .qtype = 1};
		feed(e, &in);
		feed(e, &out);
	}
}

static void test_loop(void)
{
	struct dr_engine e;
	start(&e, NULL);
	go(&e);
	bounce(&e, 1000, 6, 200, 1);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(count(&e, "loop", "203.0.113.9"), 1);
	CHECK_EQ(LOG.n, 1);	/* not a flood: it is answered */
	if (LOG.n) {
		const char *ev = alert_text(0);
		CHECK(strstr(ev, "\"peer_port\":22772") != NULL);
		CHECK(strstr(ev, "\"rcode\":\"FORMERR\"") != NULL);
		CHECK(strstr(ev, "\"ttl_constant\":true") != NULL);
		CHECK(LOG.a[0].start < 1003);	/* third second at the latest */
	}
	dr_engine_fini(&e);

	/* The same rates of ordinary questions and answers: no loop. */
	start(&e, NULL);
	go(&e);
	bounce(&e, 1000, 6, 200, 0);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(LOG.n, 0);
	dr_engine_fini(&e);
}

static void responses(struct dr_engine *e, const char *victim, double t0, int secs, int pps,
		      int reflectors, int with_queries, uint32_t size)
{
	char src[32];
	for (int i = 0; i < secs * pps; i++) {
		double t = t0 + (double)i / pps;
		snprintf(src, sizeof(src), "198.51.100.%d", i % reflectors + 1);
		if (with_queries) {
			struct rec_spec q = {.ts = t, .src = victim, .dst = src, .sport = 5000,
					     .dport = 53, .qname = "example.org", .qtype = 48};
			feed(e, &q);
		}
		struct rec_spec r = {.ts = t + 0.001, .src = src, .dst = victim, .sport = 53,
				     .dport = 5000, .qr = 1, .qname = "example.org", .qtype = 48,
				     .len = size, .frag = size > 1472};
		feed(e, &r);
	}
}

static void test_amplification(void)
{
	struct dr_engine e;
	start(&e, NULL);
	go(&e);
	responses(&e, "10.10.10.10", 1000, 5, 50, 20, 0, 3000);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(count(&e, "amplification", "10.10.10.10"), 1);
	CHECK_EQ(LOG.n, 1);
	if (LOG.n) {
		CHECK(strstr(alert_text(0), "\"reflectors\":20") != NULL);
		CHECK(strstr(alert_text(0), "\"fragment_share\":1.0") != NULL);
	}
	dr_engine_fini(&e);

	/* A resolver receiving large DNSSEC answers it asked for: fine. */
	start(&e, NULL);
	go(&e);
	responses(&e, "10.0.0.53", 1000, 5, 50, 20, 1, 3000);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(LOG.n, 0);
	dr_engine_fini(&e);
}

static void answers_sampled(struct dr_engine *e, const char *server, double t0, int secs, int pps,
			    int same, uint32_t size, uint32_t sampling)
{
	char dst[32], name[64];
	for (int i = 0; i < secs * pps; i++) {
		double t = t0 + (double)i / pps;
		snprintf(dst, sizeof(dst), same ? "198.18.0.10" : "198.18.%d.%d", i % 200, i % 7 + 1);
		snprintf(name, sizeof(name), same ? "." : "n%d.example.com", i);
		struct rec_spec q = {.ts = t, .src = dst, .dst = server, .sport = 3074, .dport = 53,
				     .qname = name, .qtype = same ? 255 : 1, .len = 28,
				     .sampling = sampling};
		struct rec_spec r = {.ts = t + 0.0004, .src = server, .dst = dst, .sport = 53,
				     .dport = 3074, .qr = 1, .qname = name, .qtype = same ? 255 : 1,
				     .len = size, .sampling = sampling};
		feed(e, &q);
		feed(e, &r);
	}
}

static void answers(struct dr_engine *e, const char *server, double t0, int secs, int pps,
		    int same, uint32_t size)
{
	answers_sampled(e, server, t0, secs, pps, same, size, 0);
}

static void test_reflection(void)
{
	char err[256];
	struct dr_engine e;

	/* By role: a local host that is no resolver answers outsiders. */
	start(&e, NULL);
	CHECK_EQ(dr_roles_add_local(&e.roles, "10.0.0.0/8", err, sizeof(err)), 0);
	go(&e);
	answers(&e, "10.1.1.1", 1000, 6, 20, 0, 90);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(count(&e, "reflection", "10.1.1.1"), 1);
	if (LOG.n)
		CHECK(strstr(alert_text(0), "\"rule\":\"local non-resolver\"") != NULL);
	dr_engine_fini(&e);

	/* The same host declared a resolver, ordinary answers: fine. */
	start(&e, NULL);
	dr_roles_add_local(&e.roles, "10.0.0.0/8", err, sizeof(err));
	CHECK_EQ(dr_roles_add_resolver(&e.roles, "10.1.1.1", err, sizeof(err)), 0);
	go(&e);
	answers(&e, "10.1.1.1", 1000, 6, 20, 0, 90);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(LOG.n, 0);
	dr_engine_fini(&e);

	/* An allowed server still, when the pattern is unmistakable: the
	 * same large answer to the same destination over and over. */
	start(&e, NULL);
	dr_roles_add_resolver(&e.roles, "10.1.1.1", err, sizeof(err));
	go(&e);
	answers(&e, "10.1.1.1", 1000, 6, 20, 1, 1200);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(count(&e, "reflection", "10.1.1.1"), 1);
	if (LOG.n) {
		CHECK(strstr(alert_text(0), "\"rule\":\"repeated large answers\"") != NULL);
		CHECK(strstr(alert_text(0), "\"amplification_factor\":42.9") != NULL);
		CHECK(strstr(alert_text(0), "198.18.0.10") != NULL);
	}
	dr_engine_fini(&e);
}

/* The same cases from sFlow's sampled headers, each standing for 10
 * messages: every share the rules judge (recursion, the same question to
 * the same destination) must be what the samples show, not the samples
 * counted once against responses counted ten times. */
static void test_reflection_sampled(void)
{
	char err[256];
	struct dr_engine e;

	start(&e, NULL);
	CHECK_EQ(dr_roles_add_local(&e.roles, "10.0.0.0/8", err, sizeof(err)), 0);
	go(&e);
	answers_sampled(&e, "10.1.1.1", 1000, 6, 20, 0, 90, 10);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(count(&e, "reflection", "10.1.1.1"), 1);
	if (LOG.n) {
		CHECK(strstr(alert_text(0), "\"rule\":\"local non-resolver\"") != NULL);
		CHECK(strstr(alert_text(0), "\"sampling\":10") != NULL);
	}
	dr_engine_fini(&e);

	/* Declared a resolver, ordinary answers: still fine. */
	start(&e, NULL);
	dr_roles_add_local(&e.roles, "10.0.0.0/8", err, sizeof(err));
	CHECK_EQ(dr_roles_add_resolver(&e.roles, "10.1.1.1", err, sizeof(err)), 0);
	go(&e);
	answers_sampled(&e, "10.1.1.1", 1000, 6, 20, 0, 90, 10);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(LOG.n, 0);
	dr_engine_fini(&e);

	start(&e, NULL);
	dr_roles_add_resolver(&e.roles, "10.1.1.1", err, sizeof(err));
	go(&e);
	answers_sampled(&e, "10.1.1.1", 1000, 6, 20, 1, 1200, 10);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(count(&e, "reflection", "10.1.1.1"), 1);
	if (LOG.n) {
		CHECK(strstr(alert_text(0), "\"rule\":\"repeated large answers\"") != NULL);
		CHECK(strstr(alert_text(0), "\"responses_per_s\":200") != NULL);
	}
	dr_engine_fini(&e);

	/* One sampled large answer a second, each to another destination: a
	 * single header standing for 10 answers is no "over and over". */
	start(&e, NULL);
	go(&e);
	answers_sampled(&e, "198.51.100.26", 1000, 6, 1, 0, 1200, 10);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(LOG.n, 0);
	dr_engine_fini(&e);
}

enum name_kind { RANDOM, DNSBL, CDN };

static void names(struct dr_engine *e, double t0, int secs, int pps, enum name_kind kind, int rcode)
{
	char name[128];
	for (int i = 0; i < secs * pps; i++) {
		double t = t0 + (double)i / pps;
		unsigned x = (unsigned)i * 2654435761u;
		unsigned a = x % 256, b = x / 256 % 256, c = x / 65536 % 256, d = x >> 24;
		if (kind == RANDOM)
			snprintf(name, sizeof(name), "x%02x%02x%02x%02xq.victim.example.com", a, b, c, d);
		else if (kind == DNSBL)
			snprintf(name, sizeof(name), "%u.%u.%u.%u.zen.dnsbl.example", a, b, c, d);
		else
			snprintf(name, sizeof(name), "e%02x%02x%02x%02x.cdn.example.net", a, b, c, d);
		struct rec_spec q = {.ts = t, .src = "198.51.100.7", .dst = "192.0.2.53", .sport = 999,
				     .dport = 53, .qname = name, .qtype = 1};
		struct rec_spec r = {.ts = t + 0.0005, .src = "192.0.2.53", .dst = "198.51.100.7",
				     .sport = 53, .dport = 999, .qr = 1, .rcode = rcode, .qname = name,
				     .qtype = 1};
		feed(e, &q);
		feed(e, &r);
	}
}

static void test_random_subdomain(void)
{
	struct dr_engine e;
	start(&e, NULL);
	go(&e);
	names(&e, 1000, 5, 300, RANDOM, 3);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(count(&e, "random_subdomain", "example.com"), 1);
	if (LOG.n) {
		const char *ev = alert_text(0);
		CHECK(strstr(ev, "\"nxdomain_share\":1.0") != NULL);
		CHECK(strstr(ev, "\"label_length\":{\"mode\":10") != NULL);
		CHECK(strstr(ev, "\"alphabet\":\"a-z0-9\"") != NULL);
		CHECK(strstr(ev, "198.51.100.0/24") != NULL);
	}
	dr_engine_fini(&e);

	/* DNSBL look-ups: unique, NXDOMAIN, but reversed addresses. */
	start(&e, NULL);
	go(&e);
	names(&e, 1000, 5, 300, DNSBL, 3);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(LOG.n, 0);
	dr_engine_fini(&e);

	/* CDN-style unique names that resolve. */
	start(&e, NULL);
	go(&e);
	names(&e, 1000, 5, 300, CDN, 0);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(LOG.n, 0);
	dr_engine_fini(&e);
}

static void test_config(void)
{
	struct dr_engine e;
	char err[512];
	dr_engine_defaults(&e);
	CHECK_EQ(dr_engine_set(&e, "flood.source_pps=100", err, sizeof(err)), 0);
	CHECK_EQ(dr_engine_set(&e, "nope.x=1", err, sizeof(err)), -1);
	CHECK(strstr(err, "no detector 'nope'") != NULL);
	CHECK_EQ(dr_engine_set(&e, "flood.nope=1", err, sizeof(err)), -1);
	CHECK(strstr(err, "no threshold 'nope'") != NULL);
	CHECK_EQ(dr_engine_set(&e, "flood.source_pps=fast", err, sizeof(err)), -1);
	CHECK_EQ(dr_engine_set(&e, "flood.source_pps", err, sizeof(err)), -1);

	char path[] = "/tmp/dr_conf_XXXXXX";
	int fd = mkstemp(path);
	static const char conf[] = "# roles\nlocal = 10.0.0.0/8\nresolver = 10.0.0.53\n"
				   "loop.min_pps = 7 # comment\nflood.enabled = 0\n";
	CHECK_EQ(write(fd, conf, sizeof(conf) - 1), (long long)sizeof(conf) - 1);
	close(fd);
	CHECK_EQ(dr_engine_load_config(&e, path, NULL, NULL, NULL, err, sizeof(err)), 0);
	CHECK_EQ(e.roles.nlocal, 1);
	CHECK_EQ(e.roles.nresolvers, 1);
	unsigned loop = 0, flood = 0;
	for (unsigned i = 0; i < e.n; i++) {
		if (strcmp(dr_detectors[i]->name, "loop") == 0)
			loop = i;
		if (strcmp(dr_detectors[i]->name, "flood") == 0)
			flood = i;
	}
	CHECK(e.values[loop][0] == 7);
	CHECK_EQ(e.enabled[flood], 0);
	fd = open(path, O_WRONLY | O_TRUNC);
	static const char bad[] = "local = 10.0.0.0/8\nresolver = not-an-address\n";
	CHECK_EQ(write(fd, bad, sizeof(bad) - 1), (long long)sizeof(bad) - 1);
	close(fd);
	CHECK_EQ(dr_engine_load_config(&e, path, NULL, NULL, NULL, err, sizeof(err)), -1);
	CHECK(strstr(err, ":2: --resolver 'not-an-address'") != NULL);
	unlink(path);
}

/* Captures from several queues are slightly out of order: a record a
 * little late joins the second being counted, it does not reset it. */
static void test_late_records(void)
{
	struct dr_engine e;
	start(&e, NULL);
	go(&e);
	for (int i = 0; i < 5 * 3000; i++) {
		double t = 1000 + i / 3000.0;
		if (i % 10 == 5 && t >= 1001)
			t -= 0.9;	/* from another queue, stamped earlier */
		struct rec_spec r = {.ts = t, .src = "10.9.9.9", .dst = "192.0.2.1",
				     .sport = 4444, .dport = 53, .malformed = DR_MAL_NOT_DNS,
				     .len = 512};
		feed(&e, &r);
	}
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(count(&e, "flood", "10.9.9.9"), 1);
	if (LOG.n) {
		CHECK(LOG.a[0].start < 1002.1);
		CHECK(LOG.a[0].packets >= 4 * 2900);	/* seconds 2 to 5, nothing lost */
	}
	dr_engine_fini(&e);
}

/* Ticks come from record time: a long silence closes windows without
 * ticking through every second of it. */
static void test_time_gap(void)
{
	struct dr_engine e;
	start(&e, NULL);
	go(&e);
	junk(&e, "10.9.9.9", "192.0.2.1", 1000, 3, 3000);
	junk(&e, "10.9.9.9", "192.0.2.1", 1000000, 3, 3000);	/* 11 days later */
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(count(&e, "flood", "10.9.9.9"), 2);
	dr_engine_fini(&e);
}

int main(void)
{
	RUN(test_flood_stop_restart);
	RUN(test_flood_eviction);
	RUN(test_flood_answered_is_not);
	RUN(test_loop);
	RUN(test_amplification);
	RUN(test_reflection);
	RUN(test_reflection_sampled);
	RUN(test_random_subdomain);
	RUN(test_config);
	RUN(test_time_gap);
	RUN(test_late_records);
	TEST_MAIN_END();
}
