/* Names of any octets: the keys a record gets (core/keys) and the
 * random_subdomain detector fed labels that hold binary, high, upper-case
 * octets and dots, under one-label and multi-label suffixes and wildcard
 * rules, several levels below the zone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/keys.h"
#include "decode/packet.h"
#include "detect/engine.h"
#include "engine_harness.h"
#include "harness.h"
#include "report/tables.h"

static uint8_t ports[8192];

/* A record whose question is `qname` (presentation form, \DDD escapes). */
static void make(struct dr_record *r, double ts, int qr, int rcode, const char *qname)
{
	static uint8_t payload[64];
	static const uint8_t client[4] = {198, 51, 100, 7}, server[4] = {192, 0, 2, 53};
	memset(r, 0, sizeof(*r));
	r->ts_sec = (int64_t)ts;
	r->ts_nsec = (uint32_t)((ts - (double)r->ts_sec) * 1e9);
	r->family = 4;
	memcpy(r->src, qr ? server : client, 4);
	memcpy(r->dst, qr ? client : server, 4);
	r->sport = qr ? 53 : 999;
	r->dport = qr ? 999 : 53;
	r->proto = 17;
	r->ip_ttl = 64;
	r->payload_len = 60;
	r->ip_len = r->payload_len + 28;
	r->payload = payload;
	r->dns.flags = (uint16_t)((qr ? 0x8000 : 0) | (rcode & 0xf) | 0x0100);
	r->dns.rcode_ext = (uint16_t)rcode;
	harness_dns_record(r);
	r->dns.has_question = 1;
	int len = dr_name_from_text(qname, r->dns.qname);
	CHECK(len > 0);
	r->dns.qname_len = (uint8_t)(len > 0 ? len : 0);
	r->dns.qtype = 1;
	r->dns.qclass = 1;
}

/* The zone of a record's keys, as text ("-" when none). */
static void zone_text(const struct dr_keys *k, char *out)
{
	if (k->zone < 0)
		snprintf(out, DR_NAME_TEXT_MAX, "-");
	else
		dr_name_to_text(k->qname + k->zone, k->qname_len - (size_t)k->zone, out);
}

/* Upper and mixed case of one name are one name and one zone; octets from
 * 0x80 up are never folded (0xc0 is not 0xe0), yet are in the same zone. */
static void test_keys_case(void)
{
	struct dr_regdom *rd = dr_regdom_new();
	struct dr_record a, b, c, d;
	char za[DR_NAME_TEXT_MAX], zb[DR_NAME_TEXT_MAX];
	make(&a, 1, 0, 0, "\\195\\133BC.EXAMPLE.COM");
	make(&b, 1, 0, 0, "\\195\\133bc.ExAmPlE.cOm");
	make(&c, 1, 0, 0, "\\192x.example.com");
	make(&d, 1, 0, 0, "\\224x.example.com");
	dr_keys_fill(&a, rd);
	dr_keys_fill(&b, rd);
	dr_keys_fill(&c, rd);
	dr_keys_fill(&d, rd);
	CHECK_EQ(a.keys.qname_hash, b.keys.qname_hash);
	CHECK_EQ(a.keys.zone, 5);
	CHECK_EQ(b.keys.zone, 5);
	CHECK_EQ(a.keys.zone_hash, b.keys.zone_hash);
	zone_text(&a.keys, za);
	CHECK_STR(za, "example.com");
	dr_name_to_text(a.keys.qname, a.keys.qname_len, za);
	CHECK_STR(za, "\\195\\133bc.example.com");	/* U+00C5 stays upper case */
	CHECK(c.keys.qname_hash != d.keys.qname_hash);
	CHECK_EQ(c.keys.qname[1], 0xc0);
	CHECK_EQ(d.keys.qname[1], 0xe0);
	CHECK_EQ(c.keys.zone_hash, d.keys.zone_hash);
	CHECK_EQ(c.keys.zone_hash, a.keys.zone_hash);
	/* a dot inside a label is one label: \. is not a label boundary */
	make(&a, 1, 0, 0, "victim\\.co.uk");
	make(&b, 1, 0, 0, "www.victim\\.co.uk");
	dr_keys_fill(&a, rd);
	dr_keys_fill(&b, rd);
	zone_text(&a.keys, za);
	zone_text(&b.keys, zb);
	CHECK_STR(za, "victim\\.co.uk");
	CHECK_STR(zb, "victim\\.co.uk");
	dr_regdom_free(rd);
}

/* One random label of 4 to 12 characters: a-z0-9, upper case when asked,
 * and at least one octet from `odd` (a set of escaped octets). */
static size_t random_label(char *out, unsigned *seed, int upper, const char *const *odd,
			   unsigned nodd)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t o = 0;
	*seed = *seed * 1103515245u + 12345u;
	unsigned n = 4 + (*seed >> 16) % 9, at = (*seed >> 8) % n;
	for (unsigned i = 0; i < n; i++) {
		*seed = *seed * 1103515245u + 12345u;
		unsigned x = *seed >> 16;
		if (i == at) {
			o += (size_t)sprintf(out + o, "%s", odd[x % nodd]);
			continue;
		}
		char ch = alnum[x % 36];
		if (upper && (x & 0x100) && ch >= 'a')
			ch = (char)(ch - 32);
		out[o++] = ch;
	}
	out[o] = 0;
	return o;
}

/* A water-torture attack: `levels` random labels over `zone`, `pps`
 * queries a second for `secs` seconds, each answered NXDOMAIN. Returns
 * the number of alerts of type random_subdomain keyed `key`. */
static unsigned attack(const char *zone, unsigned levels, int upper, const char *const *odd,
		       unsigned nodd, const char *key)
{
	struct dr_engine e;
	struct dr_record q, r;
	char name[DR_NAME_TEXT_MAX], label[64];
	unsigned seed = 7, pps = 300, secs = 5;
	memset(ports, 0, sizeof(ports));
	dr_port_set(ports, 53);
	dr_engine_defaults(&e);
	CHECK_EQ(harness_subscribe(&e), 0);
	CHECK_EQ(dr_engine_start(&e, ports), 0);
	for (unsigned i = 0; i < pps * secs; i++) {
		double t = 1000 + (double)i / pps;
		size_t o = 0;
		for (unsigned l = 0; l < levels; l++) {
			random_label(label, &seed, upper, odd, nodd);
			o += (size_t)snprintf(name + o, sizeof(name) - o, "%s.", label);
		}
		snprintf(name + o, sizeof(name) - o, "%s", zone);
		make(&q, t, 0, 0, name);
		make(&r, t + 0.0005, 1, 3, name);
		dr_engine_record(&e, &q);
		dr_engine_record(&e, &r);
	}
	dr_engine_finish(&e);
	unsigned n = 0;
	for (unsigned i = 0; i < LOG.n; i++) {
		if (strcmp(LOG.a[i].type, "random_subdomain") != 0)
			continue;
		if (strcmp(LOG.a[i].key, key) == 0)
			n++;
		else
			fprintf(stderr, "random_subdomain keyed %s, not %s\n", LOG.a[i].key, key);
	}
	dr_engine_fini(&e);
	return n;
}

static const char *const high[] = {"\\128", "\\195\\169", "\\255", "\\200\\201", "\\160"};
static const char *const binary[] = {"\\000", "\\001", "\\031", "\\032", "\\127", "\\255"};
static const char *const dotted[] = {"\\.", "\\000", "\\195\\133", "\\.\\.", "\\254"};

/* One octet from 0x80 up in each random label: the bug report's case. */
static void test_rsd_high_octets(void)
{
	CHECK_EQ(attack("victim.example", 1, 0, high, 5, "victim.example"), 1);
}

/* Binary labels (NUL, controls, space, DEL) under example.com. */
static void test_rsd_binary(void)
{
	CHECK_EQ(attack("example.com", 1, 0, binary, 6, "example.com"), 1);
}

/* Under co.uk, three random levels deep, mixed case, with dots inside
 * labels; the zone itself in capitals. */
static void test_rsd_couk_deep(void)
{
	CHECK_EQ(attack("ViCtIm.CO.uk", 3, 1, dotted, 5, "victim.co.uk"), 1);
}

/* Two levels below a zone under a wildcard rule (*.ck: foo.ck is public). */
static void test_rsd_wildcard(void)
{
	CHECK_EQ(attack("victim.foo.ck", 2, 1, high, 5, "victim.foo.ck"), 1);
}

/* Keys cut for the text report: whole when short, else head "..." tail
 * within the width, never inside a \DDD or \X escape or a UTF-8 sequence. */
static void test_key_shorten(void)
{
	char out[DR_KEY_SHOWN + 1];
	dr_key_shorten("www.example.com", out, DR_KEY_SHOWN);
	CHECK_STR(out, "www.example.com");
	/* 21 escapes of 4 characters, then the zone */
	char key[256] = "";
	for (int i = 0; i < 21; i++)
		strcat(key, "\\200");
	strcat(key, ".a\\.b.victim.example.co.uk");
	dr_key_shorten(key, out, DR_KEY_SHOWN);
	CHECK(strlen(out) <= DR_KEY_SHOWN);
	CHECK_STR(out, "\\200\\200\\200\\200...\\200\\200\\200.a\\.b.victim.example.co.uk");
	/* exactly the width stays whole; one more is cut */
	memset(key, 'x', 60);
	key[60] = 0;
	dr_key_shorten(key, out, 60);
	CHECK_STR(out, key);
	key[60] = 'y';
	key[61] = 0;
	dr_key_shorten(key, out, 60);
	CHECK_EQ(strlen(out), 60);
	CHECK(strncmp(out + 19, "...", 3) == 0 && out[59] == 'y');
	/* UTF-8 (an AS organisation's name) is cut between characters */
	key[0] = 0;
	for (int i = 0; i < 30; i++)
		strcat(key, "\xc3\xa9");
	dr_key_shorten(key, out, 20);
	CHECK_STR(out, "\xc3\xa9\xc3\xa9...\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
}

int main(void)
{
	RUN(test_key_shorten);
	RUN(test_keys_case);
	RUN(test_rsd_high_octets);
	RUN(test_rsd_binary);
	RUN(test_rsd_couk_deep);
	RUN(test_rsd_wildcard);
	TEST_MAIN_END();
}
