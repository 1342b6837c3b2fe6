/* Precision of the detectors: busy but honest hosts of every kind (an
 * authoritative server answering the world, declared or not, a closed
 * resolver refusing, a resolver querying from port 53, a server answering
 * a scanner) raise nothing, while the abuse that looks like
 * them is still found. Hand-built records; their timestamps are the clock. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode/packet.h"
#include "detect/engine.h"
#include "engine_harness.h"
#include "harness.h"
#include "core/where.h"

static uint8_t ports[8192];

enum { AA = 1, RA = 2, RD = 4 };

struct msg {
	double ts;
	const char *src, *dst;
	uint16_t sport, dport;
	int qr, rcode, qtype, flags, an, ns, malformed, ttl;
	const char *qname;
	uint32_t len;
	const uint8_t *payload;	/* NULL: len zero octets */
};

static void feed(struct dr_engine *e, const struct msg *m)
{
	static uint8_t zeros[4096];
	struct dr_record r;
	harness_message(&r, m->ts, m->src, m->dst, m->sport, m->dport, m->ttl ? m->ttl : 64,
			m->payload ? m->payload : zeros, m->len ? m->len : 40);
	r.dns.flags = (uint16_t)((m->qr ? 0x8000 : 0) | (m->flags & AA ? 0x0400 : 0) |
				 (m->flags & RD ? 0x0100 : 0) | (m->flags & RA ? 0x0080 : 0) |
				 (m->rcode & 0xf));
	r.dns.rcode_ext = (uint16_t)m->rcode;
	r.dns.ancount = (uint16_t)m->an;
	r.dns.nscount = (uint16_t)m->ns;
	r.dns.malformed = (uint8_t)m->malformed;
	if (m->qname && !m->malformed)
		harness_question(&r, m->qname, (unsigned)m->qtype);
	dr_engine_record(e, &r);
}

/* Defaults, then roles "local=CIDR", "resolver=ADDR", "authoritative=ADDR"
 * and thresholds "DETECTOR.PARAM=V", then start. */
static void start(struct dr_engine *e, const char *const *sets)
{
	char err[256];
	memset(ports, 0, sizeof(ports));
	dr_port_set(ports, 53);
	dr_engine_defaults(e);
	CHECK_EQ(harness_subscribe(e), 0);
	for (; sets && *sets; sets++) {
		const char *s = *sets;
		if (strncmp(s, "local=", 6) == 0)
			CHECK_EQ(dr_roles_add_local(&e->roles, s + 6, err, sizeof(err)), 0);
		else if (strncmp(s, "resolver=", 9) == 0)
			CHECK_EQ(dr_roles_add_resolver(&e->roles, s + 9, err, sizeof(err)), 0);
		else if (strncmp(s, "authoritative=", 14) == 0)
			CHECK_EQ(dr_roles_add_authoritative(&e->roles, s + 14, err, sizeof(err)), 0);
		else
			CHECK_EQ(dr_engine_set(e, s, err, sizeof(err)), 0);
	}
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

static void show(const struct dr_engine *e)
{
	(void)e;
	for (unsigned i = 0; i < LOG.n; i++)
		fprintf(stderr, "  alert %s\n", alert_text(i));
}

/* What a server sends: the answers' flags, rcode, sections and size. */
struct answering {
	int flags, rcode, an, ns;
	uint32_t size;
	int names;		/* distinct names asked, cycled; 0: every one new */
	int askers;		/* distinct resolvers asking */
	int heavy;		/* ...of which the first 4 ask this share (percent) */
};

/* `pps` questions a second for secs seconds from outside resolvers to
 * server, each answered as `a` says. */
static void serve(struct dr_engine *e, const char *server, double t0, int secs, int pps,
		  const struct answering *a)
{
	char asker[32], name[64];
	for (int i = 0; i < secs * pps; i++) {
		double t = t0 + (double)i / pps;
		unsigned x = (unsigned)i * 2654435761u;
		int who = (int)(x % 100) < a->heavy ? (int)(x >> 8) % 4 : (int)((x >> 8) % (unsigned)a->askers);
		snprintf(asker, sizeof(asker), "198.51.%d.%d", 100 + who / 200, who % 200 + 1);
		int n = a->names ? i % a->names : i;
		snprintf(name, sizeof(name), "host%d.zone-example.net", n);
		struct msg q = {.ts = t, .src = asker, .dst = server, .sport = (uint16_t)(1024 + x % 60000),
				.dport = 53, .qname = name, .qtype = 1, .len = 44};
		struct msg r = {.ts = t + 0.0003, .src = server, .dst = asker, .sport = 53,
				.dport = q.sport, .qr = 1, .qname = name, .qtype = 1,
				.flags = a->flags, .rcode = a->rcode, .an = a->an, .ns = a->ns,
				.len = a->size};
		feed(e, &q);
		feed(e, &r);
	}
}

/* An authoritative server of the operator's, inside --local and not
 * declared: it answers many different names for the world's resolvers
 * (four of them asking most), AA set, RA clear, about twice the query's
 * size. It is doing its job. Before the rework, any local non-resolver
 * answering outsiders 5 times a second was a reflector. */
static void test_authoritative_undeclared(void)
{
	static const char *const roles[] = {"local=10.0.0.0/8", "resolver=10.0.0.53", NULL};
	struct dr_engine e;
	struct answering auth = {.flags = AA, .an = 1, .size = 96, .askers = 300, .heavy = 70};

	start(&e, roles);
	serve(&e, "10.0.0.81", 1000, 8, 400, &auth);
	/* NXDOMAIN for names that do not exist and referrals to child
	 * zones are its job too */
	struct answering nx = {.flags = AA, .rcode = 3, .ns = 1, .size = 110, .askers = 300};
	serve(&e, "10.0.0.81", 1010, 5, 30, &nx);
	struct answering referral = {.ns = 2, .size = 120, .askers = 300};
	serve(&e, "10.0.0.81", 1020, 5, 100, &referral);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(LOG.n, 0);
	show(&e);
	dr_engine_fini(&e);

	/* A signed zone: answers of 700 octets, 16 times the query, but
	 * spread over many resolvers: still its job. */
	struct answering signed_zone = {.flags = AA, .an = 2, .size = 700, .askers = 300};
	start(&e, roles);
	serve(&e, "10.0.0.81", 1000, 8, 400, &signed_zone);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(LOG.n, 0);
	show(&e);
	dr_engine_fini(&e);

	/* A closed resolver refusing outsiders offers them nothing, even
	 * when they repeat the same few questions (a reflection that fails). */
	struct answering refusing = {.flags = RD, .rcode = 5, .size = 44, .askers = 50, .names = 3};
	start(&e, roles);
	serve(&e, "10.0.0.82", 1000, 8, 50, &refusing);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(LOG.n, 0);
	show(&e);
	dr_engine_fini(&e);

	/* The same host answering with RA set, not authoritative: an open
	 * resolver, the ISP seed, found even without amplification. */
	struct answering open = {.flags = RA | RD, .an = 1, .size = 96, .askers = 300};
	start(&e, roles);
	serve(&e, "10.0.0.81", 1000, 8, 20, &open);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(count(&e, "reflection", "10.0.0.81"), 1);
	if (LOG.n) {
		CHECK(strstr(alert_text(0), "\"rule\":\"local non-resolver\"") != NULL);
		CHECK(strstr(alert_text(0), "\"abuse\":[\"recursion\"]") != NULL);
	}
	dr_engine_fini(&e);

	/* ...and an authoritative-looking host amplifying a few large
	 * answers to a few destinations is not doing its job. */
	struct answering abused = {.flags = AA, .an = 20, .size = 1400, .askers = 4, .names = 2};
	start(&e, roles);
	serve(&e, "10.0.0.81", 1000, 8, 8, &abused);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(count(&e, "reflection", "10.0.0.81"), 1);
	dr_engine_fini(&e);
}

/* An ISP customer's small authoritative server: a handful of answers a
 * second for the names of its zone, to resolvers around the world. */
static void test_customer_authoritative(void)
{
	static const char *const roles[] = {"local=10.0.0.0/8", "resolver=10.0.0.53", NULL};
	struct dr_engine e;
	struct answering auth = {.flags = AA, .an = 1, .size = 80, .askers = 200, .names = 60};
	start(&e, roles);
	serve(&e, "10.3.7.9", 1000, 30, 8, &auth);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(LOG.n, 0);
	show(&e);
	dr_engine_fini(&e);
}

/* Declared with --authoritative: even large answers to a few resolvers
 * (a signed zone whose clients are four big resolvers) are its job;
 * only the unmistakable pattern counts. */
static void test_authoritative_declared(void)
{
	static const char *const roles[] = {"local=10.0.0.0/8", "authoritative=10.0.0.80", NULL};
	struct dr_engine e;
	struct answering busy = {.flags = AA, .an = 2, .size = 900, .askers = 4, .heavy = 100};
	start(&e, roles);
	serve(&e, "10.0.0.80", 1000, 8, 300, &busy);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(LOG.n, 0);
	show(&e);
	dr_engine_fini(&e);

	/* Undeclared, the same traffic is amplified and concentrated. */
	static const char *const undeclared[] = {"local=10.0.0.0/8", NULL};
	start(&e, undeclared);
	serve(&e, "10.0.0.80", 1000, 8, 300, &busy);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(count(&e, "reflection", "10.0.0.80"), 1);
	dr_engine_fini(&e);

	/* The config file's spelling of the role. */
	char err[512], path[] = "/tmp/dr_trust_XXXXXX";
	int fd = mkstemp(path);
	static const char conf[] = "local = 10.0.0.0/8\nauthoritative = 10.0.0.80\n"
				   "authoritative = 2001:db8::53/128\n";
	CHECK_EQ(write(fd, conf, sizeof(conf) - 1), (long long)sizeof(conf) - 1);
	close(fd);
	dr_engine_defaults(&e);
	CHECK_EQ(dr_engine_load_config(&e, path, NULL, NULL, NULL, err, sizeof(err)), 0);
	CHECK_EQ(e.roles.nauthoritative, 2);
	fd = open(path, O_WRONLY | O_TRUNC);
	static const char bad[] = "authoritative = ns1.example\n";
	CHECK_EQ(write(fd, bad, sizeof(bad) - 1), (long long)sizeof(bad) - 1);
	close(fd);
	CHECK_EQ(dr_engine_load_config(&e, path, NULL, NULL, NULL, err, sizeof(err)), -1);
	CHECK(strstr(err, ":1: --authoritative 'ns1.example'") != NULL);
	unlink(path);
}

/* A reflector rotating through several large questions and several
 * victims: no one (question, destination) makes a tenth of its answers,
 * which the old pattern rule needed half of. Found with no roles, and
 * when the abused host is a declared authoritative server. */
static void rotate(struct dr_engine *e, const char *server, double t0, int secs, int pps)
{
	static const char *const questions[] = {".", "isc.org", "zone-example.net", "ripe.net",
						 "example.com", "dnssec-example.org"};
	static const int qtypes[] = {255, 255, 48, 16, 255, 46};
	static const char *const victims[] = {"203.0.113.10", "203.0.113.77", "198.18.5.5",
					      "198.18.9.1", "192.0.2.200"};
	char name[64];
	for (int i = 0; i < secs * pps; i++) {
		double t = t0 + (double)i / pps;
		int k = i % 6, v = (i / 6 + i) % 5;
		snprintf(name, sizeof(name), "%s", questions[k]);
		struct msg q = {.ts = t, .src = victims[v], .dst = server, .sport = 80, .dport = 53,
				.qname = name, .qtype = qtypes[k], .len = 40, .flags = RD};
		struct msg r = {.ts = t + 0.0004, .src = server, .dst = victims[v], .sport = 53,
				.dport = 80, .qr = 1, .qname = name, .qtype = qtypes[k], .flags = AA,
				.an = 12, .len = 1800 + 200 * (uint32_t)k};
		feed(e, &q);
		feed(e, &r);
	}
}

static void test_rotating_reflector(void)
{
	struct dr_engine e;
	start(&e, NULL);
	rotate(&e, "192.0.2.80", 1000, 6, 90);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(count(&e, "reflection", "192.0.2.80"), 1);
	CHECK_EQ(LOG.n, 1);
	if (LOG.n) {
		const char *ev = alert_text(0);
		CHECK(strstr(ev, "\"rule\":\"repeated large answers\"") != NULL);
		CHECK(strstr(ev, "\"abuse\":[\"repeated\",\"amplified\",\"concentrated\"]") != NULL);
		CHECK(strstr(ev, "\"destinations\":5,") != NULL);
		CHECK(LOG.a[0].start < 1003);
	}
	dr_engine_fini(&e);

	static const char *const declared[] = {"local=192.0.2.0/24", "authoritative=192.0.2.80", NULL};
	start(&e, declared);
	rotate(&e, "192.0.2.80", 1000, 6, 90);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(count(&e, "reflection", "192.0.2.80"), 1);
	dr_engine_fini(&e);

	/* The VPS seed: about 20 large answers a second to one victim. */
	start(&e, NULL);
	for (int i = 0; i < 6 * 20; i++) {
		double t = 1000 + i / 20.0;
		struct msg q = {.ts = t, .src = "198.18.0.10", .dst = "192.0.2.9", .sport = 3074,
				.dport = 53, .qname = ".", .qtype = 2, .len = 17};
		struct msg r = {.ts = t + 0.0004, .src = "192.0.2.9", .dst = "198.18.0.10",
				.sport = 53, .dport = 3074, .qr = 1, .qname = ".", .qtype = 2,
				.flags = RA, .an = 13, .len = 500};
		feed(&e, &q);
		feed(&e, &r);
	}
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(count(&e, "reflection", "192.0.2.9"), 1);
	dr_engine_fini(&e);
}

/* A resolver that sends its queries from port 53 (query-source port 53)
 * gets its answers at port 53: 3,000 a second to one authoritative server
 * are an exchange, not a flood by either side. */
static void test_flood_port53_resolver(void)
{
	struct dr_engine e;
	start(&e, NULL);
	char name[64];
	for (int i = 0; i < 5 * 3000; i++) {
		double t = 1000 + i / 3000.0;
		snprintf(name, sizeof(name), "n%d.example.org", i);
		struct msg q = {.ts = t, .src = "10.0.0.53", .dst = "192.0.2.1", .sport = 53,
				.dport = 53, .qname = name, .qtype = 1, .len = 44};
		struct msg r = {.ts = t + 0.0002, .src = "192.0.2.1", .dst = "10.0.0.53", .sport = 53,
				.dport = 53, .qr = 1, .qname = name, .qtype = 1, .flags = AA, .an = 1,
				.len = 80};
		feed(&e, &q);
		feed(&e, &r);
	}
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(LOG.n, 0);
	show(&e);
	dr_engine_fini(&e);

	/* Junk from port 53 to port 53 is still a flood. */
	start(&e, NULL);
	for (int i = 0; i < 5 * 3000; i++) {
		struct msg j = {.ts = 1000 + i / 3000.0, .src = "10.9.9.9", .dst = "192.0.2.1",
				.sport = 53, .dport = 53, .malformed = DR_MAL_NOT_DNS, .len = 512};
		feed(&e, &j);
	}
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(count(&e, "flood", "10.9.9.9"), 1);
	dr_engine_fini(&e);
}

/* A scanner probing an authoritative server from one port with QTYPE 0
 * queries, each with its own ID, answered FORMERR: a server answering a
 * scanner, not a loop. A peer that answers every error with the same
 * packet (the TFTP client of the seed) is one. */
static void probe(struct dr_engine *e, double t0, int secs, int pps, int constant)
{
	uint8_t payload[40] = {0};
	for (int i = 0; i < secs * pps; i++) {
		double t = t0 + (double)i / pps;
		if (!constant) {
			payload[0] = (uint8_t)(i >> 8);
			payload[1] = (uint8_t)i;
		}
		struct msg in = {.ts = t, .src = "203.0.113.50", .dst = "10.0.0.80", .sport = 40000,
				 .dport = 53, .qname = "example.com", .qtype = 0, .ttl = 50,
				 .payload = payload, .len = sizeof(payload)};
		struct msg out = {.ts = t + 0.0003, .src = "10.0.0.80", .dst = "203.0.113.50",
				  .sport = 53, .dport = 40000, .qr = 1, .rcode = i % 3 ? 1 : 5,
				  .qname = "example.com", .qtype = 0};
		feed(e, &in);
		feed(e, &out);
	}
}

static void test_loop_scanner(void)
{
	struct dr_engine e;
	start(&e, NULL);
	probe(&e, 1000, 6, 200, 0);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(LOG.n, 0);
	show(&e);
	dr_engine_fini(&e);

	start(&e, NULL);
	probe(&e, 1000, 6, 200, 1);
	dr_engine_finish(&e);
	dr_alert_log_sort(&LOG);
	CHECK_EQ(count(&e, "loop", "203.0.113.50"), 1);
	dr_engine_fini(&e);
}

int main(void)
{
	RUN(test_authoritative_undeclared);
	RUN(test_customer_authoritative);
	RUN(test_authoritative_declared);
	RUN(test_rotating_reflector);
	RUN(test_flood_port53_resolver);
	RUN(test_loop_scanner);
	TEST_MAIN_END();
}
