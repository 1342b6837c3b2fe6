/* Unit tests of the DNS parser: every field, every malformed class, names. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/dns.h"
#include "harness.h"

struct msg {
	uint8_t b[4096];
	size_t n;
};

static void put8(struct msg *m, unsigned v) { m->b[m->n++] = (uint8_t)v; }
static void put16(struct msg *m, unsigned v) { put8(m, v >> 8); put8(m, v & 0xff); }
static void put32(struct msg *m, uint32_t v) { put16(m, v >> 16); put16(m, v & 0xffff); }

static void put_name(struct msg *m, const char *text)
{
	uint8_t wire[DR_NAME_MAX];
	int n = dr_name_from_text(text, wire);
	memcpy(m->b + m->n, wire, (size_t)n);
	m->n += (size_t)n;
}

static void header(struct msg *m, unsigned id, unsigned flags, unsigned qd,
		   unsigned an, unsigned ns, unsigned ar)
{
	m->n = 0;
	put16(m, id);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
}

static void test_query(void)
{
	struct msg m;
	struct dr_dns d;
	header(&m, 0x1234, 0x0100, 1, 0, 0, 0);
	put_name(&m, "www.Example.com");
	put16(&m, 28);
	put16(&m, 1);
	CHECK_EQ(dr_dns_parse(m.b, m.n, &d), DR_MAL_NONE);
	CHECK_EQ(d.id, 0x1234);
	CHECK_EQ(dr_dns_qr(&d), 0);
	CHECK_EQ(dr_dns_rd(&d), 1);
	CHECK_EQ(dr_dns_opcode(&d), 0);
	CHECK_EQ(d.has_question, 1);
	CHECK_EQ(d.qtype, 28);
	CHECK_EQ(d.qclass, 1);
	CHECK_EQ(d.qname_len, 17);
	CHECK_EQ(d.len, m.n);
	char text[DR_NAME_TEXT_MAX];
	dr_name_to_text(d.qname, d.qname_len, text);
	CHECK_STR(text, "www.Example.com");
}

/* A response with compressed names, an answer, and EDNS with options. */
static void test_response_edns(void)
{
	struct msg m;
	struct dr_dns d;
	header(&m, 7, 0x8180 | 3, 1, 1, 0, 1);
	put_name(&m, "example.org");
	put16(&m, 1);
	put16(&m, 1);
	put16(&m, 0xc00c);	/* answer owner: pointer to the question */
	put16(&m, 1);
	put16(&m, 1);
	put32(&m, 300);
	put16(&m, 4);
	put32(&m, 0xc0000201);
	put8(&m, 0);		/* OPT owner: root */
	put16(&m, 41);
	put16(&m, 1232);	/* UDP size */
	put32(&m, 0x01008000);	/* ext rcode 1, version 0, DO */
	put16(&m, 12);
	put16(&m, 10);		/* COOKIE */
	put16(&m, 8);
	put32(&m, 1);
	put32(&m, 2);
	CHECK_EQ(dr_dns_parse(m.b, m.n, &d), DR_MAL_NONE);
	CHECK_EQ(dr_dns_qr(&d), 1);
	CHECK_EQ(dr_dns_ra(&d), 1);
	CHECK_EQ(dr_dns_rcode(&d), 3);
	CHECK_EQ(d.ancount, 1);
	CHECK_EQ(d.arcount, 1);
	CHECK_EQ(d.rr_parsed, 2);
	CHECK_EQ(d.edns, 1);
	CHECK_EQ(d.edns_udp, 1232);
	CHECK_EQ(d.edns_do, 1);
	CHECK_EQ(d.edns_version, 0);
	CHECK_EQ(d.rcode_ext, (1 << 4) | 3);
	CHECK_EQ(d.edns_nopts, 1);
	CHECK_EQ(d.edns_opts[0], 10);
}

/* RFC 1035 allows a pointer to any earlier or later offset. */
static void test_forward_pointer(void)
{
	struct msg m;
	struct dr_dns d;
	header(&m, 1, 0x8000, 1, 1, 0, 0);
	put16(&m, 0xc000 | 30);	/* question name: forward to the answer's rdata */
	put16(&m, 1);
	put16(&m, 1);
	put16(&m, 0xc00c);	/* answer owner -> question (-> rdata) */
	put16(&m, 5);
	put16(&m, 1);
	put32(&m, 60);
	size_t rdlen_at = m.n;
	put16(&m, 0);
	size_t rd = m.n;
	put_name(&m, "fwd.example");
	m.b[rdlen_at + 1] = (uint8_t)(m.n - rd);
	CHECK_EQ(rd, 30);
	CHECK_EQ(dr_dns_parse(m.b, m.n, &d), DR_MAL_NONE);
	char text[DR_NAME_TEXT_MAX];
	dr_name_to_text(d.qname, d.qname_len, text);
	CHECK_STR(text, "fwd.example");
}

static void test_short_header(void)
{
	struct dr_dns d;
	uint8_t b[7] = {0xab, 0xcd, 0x81, 0x80, 0, 1, 0};
	CHECK_EQ(dr_dns_parse(b, sizeof(b), &d), DR_MAL_SHORT_HEADER);
	CHECK_EQ(d.id, 0xabcd);	/* the fields before the cut are given */
	CHECK_EQ(dr_dns_qr(&d), 1);
	CHECK_EQ(d.qdcount, 1);
	CHECK_EQ(d.has_question, 0);
	CHECK_EQ(dr_dns_parse(b, 0, &d), DR_MAL_SHORT_HEADER);
	CHECK_STR(dr_malformed_name(d.malformed), "short_header");
}

static void test_pointer_loop(void)
{
	struct msg m;
	struct dr_dns d;
	header(&m, 1, 0, 1, 0, 0, 0);
	put16(&m, 0xc00c);	/* points at itself */
	put16(&m, 1);
	put16(&m, 1);
	CHECK_EQ(dr_dns_parse(m.b, m.n, &d), DR_MAL_POINTER_LOOP);
	CHECK_EQ(d.id, 1);

	/* A loop through a label: "a" then back to it. */
	header(&m, 2, 0, 1, 0, 0, 0);
	put8(&m, 1);
	put8(&m, 'a');
	put16(&m, 0xc00c);
	CHECK_EQ(dr_dns_parse(m.b, m.n, &d), DR_MAL_POINTER_LOOP);

	/* Two pointers pointing at each other. */
	header(&m, 3, 0, 1, 0, 0, 0);
	put16(&m, 0xc00e);
	put16(&m, 0xc00c);
	CHECK_EQ(dr_dns_parse(m.b, m.n, &d), DR_MAL_POINTER_LOOP);
	CHECK_EQ(d.malformed_at, 12);
}

static void test_bad_pointer(void)
{
	struct msg m;
	struct dr_dns d;
	header(&m, 1, 0, 1, 0, 0, 0);
	put16(&m, 0xc000 | 500);
	put16(&m, 1);
	put16(&m, 1);
	CHECK_EQ(dr_dns_parse(m.b, m.n, &d), DR_MAL_BAD_POINTER);
}

static void test_bad_label(void)
{
	struct msg m;
	struct dr_dns d;
	header(&m, 1, 0, 1, 0, 0, 0);
	put8(&m, 0x41);		/* 01 prefix: extended label type */
	put8(&m, 0);
	put16(&m, 1);
	put16(&m, 1);
	CHECK_EQ(dr_dns_parse(m.b, m.n, &d), DR_MAL_BAD_LABEL);
	header(&m, 1, 0, 1, 0, 0, 0);
	put8(&m, 0x80);		/* 10 prefix: reserved */
	CHECK_EQ(dr_dns_parse(m.b, m.n, &d), DR_MAL_BAD_LABEL);
}

static void test_name_too_long(void)
{
	struct msg m;
	struct dr_dns d;
	header(&m, 1, 0, 1, 0, 0, 0);
	for (int i = 0; i < 5; i++) {	/* 5 * 64 = 320 octets */
		put8(&m, 63);
		for (int j = 0; j < 63; j++)
			put8(&m, 'a');
	}
	put8(&m, 0);
	put16(&m, 1);
	put16(&m, 1);
	CHECK_EQ(dr_dns_parse(m.b, m.n, &d), DR_MAL_NAME_TOO_LONG);

	/* 255 octets exactly is still legal: 3 * 64 + 62 + 1. */
	header(&m, 1, 0, 1, 0, 0, 0);
	for (int i = 0; i < 3; i++) {
		put8(&m, 63);
		for (int j = 0; j < 63; j++)
			put8(&m, 'b');
	}
	put8(&m, 61);
	for (int j = 0; j < 61; j++)
		put8(&m, 'c');
	put8(&m, 0);
	put16(&m, 1);
	put16(&m, 1);
	CHECK_EQ(dr_dns_parse(m.b, m.n, &d), DR_MAL_NONE);
	CHECK_EQ(d.qname_len, 255);
}

static void test_truncated(void)
{
	struct msg m;
	struct dr_dns d;
	/* Counts run past the end: two answers announced, none present. */
	header(&m, 9, 0x8180, 1, 2, 0, 0);
	put_name(&m, "a.example");
	put16(&m, 1);
	put16(&m, 1);
	CHECK_EQ(dr_dns_parse(m.b, m.n, &d), DR_MAL_TRUNCATED);
	CHECK_EQ(d.has_question, 1);	/* what was before the fault is kept */
	CHECK_EQ(d.qtype, 1);
	CHECK_EQ(d.ancount, 2);
	CHECK_EQ(d.malformed_at, m.n);

	/* An RR whose RDLENGTH runs past the end. */
	header(&m, 9, 0x8180, 1, 1, 0, 0);
	put_name(&m, "a.example");
	put16(&m, 1);
	put16(&m, 1);
	put16(&m, 0xc00c);
	put16(&m, 1);
	put16(&m, 1);
	put32(&m, 1);
	put16(&m, 100);
	put32(&m, 0);
	CHECK_EQ(dr_dns_parse(m.b, m.n, &d), DR_MAL_TRUNCATED);

	/* A question cut inside its name. */
	header(&m, 9, 0, 1, 0, 0, 0);
	put8(&m, 10);
	put8(&m, 'x');
	CHECK_EQ(dr_dns_parse(m.b, m.n, &d), DR_MAL_TRUNCATED);
	CHECK_EQ(d.has_question, 0);

	/* A question without its type and class. */
	header(&m, 9, 0, 1, 0, 0, 0);
	put_name(&m, "x");
	put16(&m, 1);
	CHECK_EQ(dr_dns_parse(m.b, m.n, &d), DR_MAL_TRUNCATED);
}

static void test_trailing(void)
{
	struct msg m;
	struct dr_dns d;
	header(&m, 1, 0, 1, 0, 0, 0);
	put_name(&m, "x.example");
	put16(&m, 1);
	put16(&m, 1);
	put32(&m, 0xdeadbeef);
	CHECK_EQ(dr_dns_parse(m.b, m.n, &d), DR_MAL_TRAILING);
	CHECK_EQ(d.has_question, 1);
	CHECK_EQ(d.malformed_at, m.n - 4);
}

static void test_not_dns(void)
{
	struct dr_dns d;
	/* A PHP flood script's payload: the same letter over and over. */
	uint8_t junk[64];
	memset(junk, 'X', sizeof(junk));
	CHECK_EQ(dr_dns_parse(junk, sizeof(junk), &d), DR_MAL_NOT_DNS);
	/* Zeros: a header with no sections and bytes after it. */
	uint8_t zeros[100] = {0};
	CHECK_EQ(dr_dns_parse(zeros, sizeof(zeros), &d), DR_MAL_NOT_DNS);
	/* A TFTP error ("RRQ must be sent first") bounced at port 53. */
	static const uint8_t tftp[] = "\x00\x05\x00\x05RRQ must be sent first";
	CHECK(dr_dns_parse(tftp, sizeof(tftp) - 1, &d) != DR_MAL_NONE);
	/* Just a header is a valid (empty) message. */
	CHECK_EQ(dr_dns_parse(zeros, 12, &d), DR_MAL_NONE);
}

/* QTYPE 0 ("machine pong") is odd but well formed. */
static void test_qtype0(void)
{
	struct msg m;
	struct dr_dns d;
	header(&m, 1, 0, 1, 0, 0, 0);
	put_name(&m, ".");
	put16(&m, 0);
	put16(&m, 1);
	CHECK_EQ(dr_dns_parse(m.b, m.n, &d), DR_MAL_NONE);
	CHECK_EQ(d.qtype, 0);
	char text[DR_NAME_TEXT_MAX];
	dr_name_to_text(d.qname, d.qname_len, text);
	CHECK_STR(text, ".");
}

static void test_presentation(void)
{
	char text[DR_NAME_TEXT_MAX];
	uint8_t wire[DR_NAME_MAX];
	static const uint8_t odd[] = {5, 'a', '.', 'b', ' ', 0xff, 3, '\\', '"', 0, 0};
	dr_name_to_text(odd, sizeof(odd), text);
	CHECK_STR(text, "a\\.b\\032\\255.\\\\\\\"\\000");
	int n = dr_name_from_text(text, wire);
	CHECK_EQ(n, sizeof(odd));
	CHECK(memcmp(wire, odd, sizeof(odd)) == 0);

	CHECK_EQ(dr_name_from_text("example.com.", wire), 13);
	CHECK_EQ(dr_name_from_text("example..com", wire), -1);
	CHECK_EQ(dr_name_from_text("a\\25", wire), -1);
	CHECK_EQ(dr_name_from_text(".", wire), 1);

	uint8_t upper[] = {3, 'W', 'w', 'W', 2, 'I', 'o', 0};
	dr_name_lower(upper, sizeof(upper));
	dr_name_to_text(upper, sizeof(upper), text);
	CHECK_STR(text, "www.io");
}

static void test_mnemonics(void)
{
	CHECK_STR(dr_qtype_name(1), "A");
	CHECK_STR(dr_qtype_name(255), "ANY");
	CHECK(dr_qtype_name(4242) == NULL);
	CHECK_EQ(dr_qtype_parse("aaaa"), 28);
	CHECK_EQ(dr_qtype_parse("TYPE65"), 65);
	CHECK_EQ(dr_qtype_parse("65536"), -1);
	CHECK_EQ(dr_qtype_parse("bogus"), -1);
	CHECK_STR(dr_rcode_name(3), "NXDOMAIN");
	CHECK_EQ(dr_rcode_parse("formerr"), 1);
	CHECK_EQ(dr_rcode_parse("16"), 16);
	CHECK_STR(dr_opcode_name(5), "UPDATE");
}

/* Every prefix of a valid message parses without reading past its end
 * (run under ASan) and reports a fault for every cut but the full one. */
static void test_every_prefix(void)
{
	struct msg m;
	struct dr_dns d;
	header(&m, 7, 0x8180, 1, 1, 0, 1);
	put_name(&m, "example.org");
	put16(&m, 1);
	put16(&m, 1);
	put16(&m, 0xc00c);
	put16(&m, 1);
	put16(&m, 1);
	put32(&m, 300);
	put16(&m, 4);
	put32(&m, 0xc0000201);
	put8(&m, 0);
	put16(&m, 41);
	put16(&m, 4096);
	put32(&m, 0);
	put16(&m, 0);
	for (size_t cut = 0; cut < m.n; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		memcpy(copy, m.b, cut);
		CHECK(dr_dns_parse(copy, cut, &d) != DR_MAL_NONE);
		free(copy);
	}
	CHECK_EQ(dr_dns_parse(m.b, m.n, &d), DR_MAL_NONE);
}

int main(void)
{
	RUN(test_query);
	RUN(test_response_edns);
	RUN(test_forward_pointer);
	RUN(test_short_header);
	RUN(test_pointer_loop);
	RUN(test_bad_pointer);
	RUN(test_bad_label);
	RUN(test_name_too_long);
	RUN(test_truncated);
	RUN(test_trailing);
	RUN(test_not_dns);
	RUN(test_qtype0);
	RUN(test_presentation);
	RUN(test_mnemonics);
	RUN(test_every_prefix);
	TEST_MAIN_END();
}
