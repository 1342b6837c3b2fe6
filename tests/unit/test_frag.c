/* Unit tests of IP fragment reassembly: both IP versions through the
 * decoder, reordering, overlap, timeout, eviction and the memory cap. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/frag.h"
#include "decode/packet.h"
#include "harness.h"
#include "pktbuild.h"

static const uint8_t v4a[4] = {203, 0, 113, 9}, v4b[4] = {10, 10, 10, 10};
static const uint8_t v6a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 9};
static const uint8_t v6b[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 10};

struct seen {
	unsigned n;
	struct dr_record last;
	uint64_t frame;
};

static void sink(void *ctx, const struct dr_record *r)
{
	struct seen *s = ctx;
	s->n++;
	s->last = *r;
}

/* A large DNS response (an amplification answer): question + one TXT RR
 * with rdlen bytes of data. */
static size_t big_response(uint8_t *out, size_t rdlen)
{
	size_t n = pb_dns_query(out, 0xabcd, "amp.example", 16);
	out[2] = 0x81;
	out[3] = 0x80;
	out[7] = 1;	/* ancount */
	uint8_t *p = out + n;
	*p++ = 0xc0; *p++ = 12; *p++ = 0; *p++ = 16; *p++ = 0; *p++ = 1;
	*p++ = 0; *p++ = 0; *p++ = 1; *p++ = 0;
	*p++ = (uint8_t)(rdlen >> 8); *p++ = (uint8_t)rdlen;
	for (size_t i = 0; i < rdlen; i++)
		*p++ = (uint8_t)('a' + i % 26);
	return (size_t)(p - out);
}

static uint8_t ports[8192];

static void setup(struct dr_decoder *d, struct seen *s, unsigned sets, size_t cap)
{
	struct dr_decode_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	dr_port_set(ports, 53);
	cfg.dns_ports = ports;
	cfg.frag.sets = sets;
	cfg.frag.mem_cap = cap;
	cfg.frag.timeout_ms = 30000;
	memset(s, 0, sizeof(*s));
	CHECK_EQ(dr_decoder_init(d, &cfg, sink, s), 0);
}

static void feed(struct dr_decoder *d, const struct pb *p, uint64_t frame, int64_t sec)
{
	struct dr_packet pkt = {.data = p->b, .caplen = (uint32_t)p->n,
				.wirelen = (uint32_t)p->n, .link = DR_LINK_RAW,
				.ts_sec = sec, .frame = frame};
	dr_decoder_packet(d, &pkt);
}

/* Splits UDP(payload) into IPv4 fragments of `chunk` octets and returns
 * them in frags[] (order as given by `order`). */
static unsigned v4_fragments(struct pb *frags, unsigned id, const uint8_t *dns, size_t dn,
			     size_t chunk)
{
	static uint8_t l4[70000];
	size_t n = 0;
	l4[n++] = 0; l4[n++] = 53; l4[n++] = 0x9c; l4[n++] = 0x40;
	l4[n++] = (uint8_t)((8 + dn) >> 8); l4[n++] = (uint8_t)(8 + dn);
	l4[n++] = 0; l4[n++] = 0;
	memcpy(l4 + n, dns, dn);
	n += dn;
	unsigned count = 0;
	for (size_t off = 0; off < n; off += chunk, count++) {
		size_t len = n - off < chunk ? n - off : chunk;
		int more = off + len < n;
		struct pb *p = &frags[count];
		p->n = 0;
		size_t ip = pb_ipv4(p, v4a, v4b, 17, id, (more ? 0x2000 : 0) | (unsigned)(off / 8), 57);
		pb_mem(p, l4 + off, len);
		pb_ipv4_done(p, ip);
	}
	return count;
}

static struct pb frags[64];

static void test_ipv4_in_order_and_reversed(void)
{
	struct dr_decoder d;
	struct seen s;
	uint8_t dns[4000];
	size_t dn = big_response(dns, 3000);
	setup(&d, &s, 64, 1 << 20);
	unsigned n = v4_fragments(frags, 77, dns, dn, 1480);
	CHECK_EQ(n, 3);
	for (unsigned i = 0; i < n; i++)
		feed(&d, &frags[i], i + 1, 100);
	CHECK_EQ(s.n, 1);
	CHECK_EQ(s.last.fragmented, 1);
	CHECK_EQ(s.last.frame, 3);	/* the frame that completed it */
	CHECK_EQ(s.last.ip_ttl, 57);
	CHECK_EQ(s.last.payload_len, dn);
	CHECK_EQ(s.last.dns.malformed, DR_MAL_NONE);
	CHECK_EQ(s.last.dns.ancount, 1);
	CHECK_EQ(s.last.sport, 53);

	/* Last fragment first, then the rest backwards. */
	n = v4_fragments(frags, 78, dns, dn, 800);
	for (unsigned i = n; i-- > 0;)
		feed(&d, &frags[i], 10 + i, 100);
	CHECK_EQ(s.n, 2);
	CHECK_EQ(s.last.dns.malformed, DR_MAL_NONE);
	CHECK_EQ(d.stats.frag_reassembled, 2);
	CHECK_EQ(dr_frag_pending(&d.frag), 0);
	dr_decoder_fini(&d);
}

static void test_ipv4_overlap_and_duplicates(void)
{
	struct dr_decoder d;
	struct seen s;
	uint8_t dns[4000];
	size_t dn = big_response(dns, 2000);
	setup(&d, &s, 64, 1 << 20);
	unsigned n = v4_fragments(frags, 5, dns, dn, 1000);
	feed(&d, &frags[0], 1, 100);
	feed(&d, &frags[0], 2, 100);	/* a duplicate overlaps fully */
	CHECK_EQ(d.stats.frag_overlap, 1);
	for (unsigned i = 1; i < n; i++)
		feed(&d, &frags[i], 3 + i, 100);
	CHECK_EQ(s.n, 1);
	dr_decoder_fini(&d);
}

static void test_ipv4_timeout(void)
{
	struct dr_decoder d;
	struct seen s;
	uint8_t dns[4000];
	size_t dn = big_response(dns, 2000);
	setup(&d, &s, 8, 1 << 20);
	unsigned n = v4_fragments(frags, 9, dns, dn, 1000);
	feed(&d, &frags[0], 1, 100);
	for (unsigned i = 1; i < n; i++)
		feed(&d, &frags[i], 1 + i, 200);	/* 100 s later */
	CHECK_EQ(s.n, 0);
	CHECK_EQ(d.stats.frag_timeout, 1);
	dr_decoder_fini(&d);
	CHECK_EQ(d.stats.frag_unfinished, 1);
}

/* More concurrent sets than the table holds: the oldest goes, nothing
 * grows, and a set that fits still completes. */
static void test_eviction_and_cap(void)
{
	struct dr_decoder d;
	struct seen s;
	uint8_t dns[4000];
	size_t dn = big_response(dns, 2000);
	setup(&d, &s, 8, 1 << 20);
	for (unsigned id = 0; id < 100; id++) {
		v4_fragments(frags, 1000 + id, dns, dn, 1000);
		feed(&d, &frags[0], id + 1, 100);	/* first fragments only */
	}
	CHECK(d.stats.frag_evicted >= 92);
	CHECK(dr_frag_pending(&d.frag) <= 8);
	unsigned n = v4_fragments(frags, 5000, dns, dn, 1000);
	for (unsigned i = 0; i < n; i++)
		feed(&d, &frags[i], 200 + i, 100);
	CHECK_EQ(s.n, 1);
	dr_decoder_fini(&d);

	/* A memory cap smaller than one datagram drops it, counted. */
	setup(&d, &s, 64, 2048);
	n = v4_fragments(frags, 6000, dns, dn, 1000);
	for (unsigned i = 0; i < n; i++)
		feed(&d, &frags[i], i + 1, 100);
	CHECK_EQ(s.n, 0);
	CHECK(d.stats.frag_memory >= 1);
	CHECK(d.frag.table.mem_used <= 2048);
	dr_decoder_fini(&d);
}

static void test_bad_fragments(void)
{
	struct dr_decoder d;
	struct seen s;
	setup(&d, &s, 64, 1 << 20);
	struct pb p = {.n = 0};
	/* A middle fragment whose length is not a multiple of 8. */
	size_t ip = pb_ipv4(&p, v4a, v4b, 17, 1, 0x2000, 64);
	pb_mem(&p, "0123456789", 10);
	pb_ipv4_done(&p, ip);
	feed(&d, &p, 1, 1);
	/* A fragment reaching past 65535 octets. */
	p.n = 0;
	ip = pb_ipv4(&p, v4a, v4b, 17, 2, 0x1fff, 64);
	pb_mem(&p, "0123456789abcdef", 16);
	pb_ipv4_done(&p, ip);
	feed(&d, &p, 2, 1);
	CHECK_EQ(d.stats.frag_bad, 2);
	CHECK_EQ(s.n, 0);
	dr_decoder_fini(&d);
}

static void test_ipv6(void)
{
	struct dr_decoder d;
	struct seen s;
	uint8_t dns[4000];
	size_t dn = big_response(dns, 2500);
	setup(&d, &s, 64, 1 << 20);

	static uint8_t l4[4000];
	size_t n = 0;
	l4[n++] = 0; l4[n++] = 53; l4[n++] = 0x30; l4[n++] = 0x39;
	l4[n++] = (uint8_t)((8 + dn) >> 8); l4[n++] = (uint8_t)(8 + dn);
	l4[n++] = 0; l4[n++] = 0;
	memcpy(l4 + n, dns, dn);
	n += dn;
	struct pb p[3];
	unsigned count = 0;
	for (size_t off = 0; off < n; off += 1232, count++) {
		size_t len = n - off < 1232 ? n - off : 1232;
		int more = off + len < n;
		p[count].n = 0;
		size_t ip = pb_ipv6(&p[count], v6a, v6b, 44, 50);
		pb_u8(&p[count], 17);
		pb_u8(&p[count], 0);
		pb_u16(&p[count], (unsigned)off | (more ? 1 : 0));
		pb_u32(&p[count], 0xfeedf00d);
		pb_mem(&p[count], l4 + off, len);
		pb_ipv6_done(&p[count], ip);
	}
	CHECK_EQ(count, 3);
	feed(&d, &p[1], 1, 5);
	feed(&d, &p[2], 2, 5);
	feed(&d, &p[0], 3, 5);
	CHECK_EQ(s.n, 1);
	CHECK_EQ(s.last.family, 6);
	CHECK_EQ(s.last.fragmented, 1);
	CHECK_EQ(s.last.ip_ttl, 50);
	CHECK_EQ(s.last.sport, 53);
	CHECK_EQ(s.last.dport, 12345);
	CHECK_EQ(s.last.payload_len, dn);
	CHECK_EQ(s.last.dns.malformed, DR_MAL_NONE);
	CHECK_EQ(s.last.frame, 3);
	dr_decoder_fini(&d);
}

int main(void)
{
	RUN(test_ipv4_in_order_and_reversed);
	RUN(test_ipv4_overlap_and_duplicates);
	RUN(test_ipv4_timeout);
	RUN(test_eviction_and_cap);
	RUN(test_bad_fragments);
	RUN(test_ipv6);
	TEST_MAIN_END();
}
