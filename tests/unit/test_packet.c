/* Unit tests of the packet decoder: link types, VLAN tags, IPv6 extension
 * headers, tunnels, ports, and what it counts when it cannot decode. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/packet.h"
#include "harness.h"
#include "pktbuild.h"

static const uint8_t v4a[4] = {192, 0, 2, 1}, v4b[4] = {198, 51, 100, 7};
static const uint8_t v6a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t v6b[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

struct seen {
	unsigned n;
	struct dr_record last;
	char qname[DR_NAME_TEXT_MAX];
};

static void sink(void *ctx, const struct dr_record *r)
{
	struct seen *s = ctx;
	s->n++;
	s->last = *r;
	if (r->dns.has_question)
		dr_name_to_text(r->dns.qname, r->dns.qname_len, s->qname);
	else
		s->qname[0] = 0;
}

static uint8_t ports[8192];

static void setup(struct dr_decoder *d, struct seen *s)
{
	struct dr_decode_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	memset(ports, 0, sizeof(ports));
	dr_port_set(ports, 53);
	cfg.dns_ports = ports;
	memset(s, 0, sizeof(*s));
	CHECK_EQ(dr_decoder_init(d, &cfg, sink, s), 0);
}

static void feed(struct dr_decoder *d, int link, const struct pb *p, uint64_t frame)
{
	struct dr_packet pkt = {
		.data = p->b, .caplen = (uint32_t)p->n, .wirelen = (uint32_t)p->n,
		.link = link, .ts_sec = 1000, .ts_nsec = 5000, .frame = frame,
	};
	dr_decoder_packet(d, &pkt);
}

/* Appends IPv4/UDP carrying a query for name. */
static void v4_udp_query(struct pb *p, const char *name, unsigned sport, unsigned dport)
{
	uint8_t q[512];
	size_t qn = pb_dns_query(q, 0x4242, name, 1);
	size_t ip = pb_ipv4(p, v4a, v4b, 17, 1, 0, 64);
	pb_udp(p, sport, dport, q, qn);
	pb_ipv4_done(p, ip);
}

static void test_ethernet_ipv4(void)
{
	struct dr_decoder d;
	struct seen s;
	struct pb p = {.n = 0};
	setup(&d, &s);
	pb_eth(&p, 0x0800);
	v4_udp_query(&p, "eth.example", 40000, 53);
	feed(&d, DR_LINK_ETHERNET, &p, 7);
	CHECK_EQ(s.n, 1);
	CHECK_EQ(s.last.frame, 7);
	CHECK_EQ(s.last.family, 4);
	CHECK_EQ(s.last.proto, 17);
	CHECK_EQ(s.last.sport, 40000);
	CHECK_EQ(s.last.dport, 53);
	CHECK_EQ(s.last.ip_ttl, 64);
	CHECK(memcmp(s.last.src, v4a, 4) == 0);
	CHECK(memcmp(s.last.dst, v4b, 4) == 0);
	CHECK_STR(s.qname, "eth.example");
	CHECK_EQ(s.last.dns.id, 0x4242);
	CHECK_EQ(d.stats.dns_messages, 1);
	dr_decoder_fini(&d);
}

/* Ethernet padding after a short IP datagram is not DNS payload. */
static void test_ethernet_padding(void)
{
	struct dr_decoder d;
	struct seen s;
	struct pb p = {.n = 0};
	setup(&d, &s);
	pb_eth(&p, 0x0800);
	v4_udp_query(&p, "a", 1000, 53);
	memset(p.b + p.n, 0xee, 20);
	p.n += 20;
	feed(&d, DR_LINK_ETHERNET, &p, 1);
	CHECK_EQ(s.n, 1);
	CHECK_EQ(s.last.dns.malformed, DR_MAL_NONE);
	dr_decoder_fini(&d);
}

static void test_vlan_qinq(void)
{
	struct dr_decoder d;
	struct seen s;
	struct pb p = {.n = 0};
	setup(&d, &s);
	pb_eth(&p, 0x88a8);
	pb_u16(&p, 100);
	pb_u16(&p, 0x8100);
	pb_u16(&p, 200);
	pb_u16(&p, 0x0800);
	v4_udp_query(&p, "qinq.example", 1000, 53);
	feed(&d, DR_LINK_ETHERNET, &p, 1);
	CHECK_EQ(s.n, 1);
	CHECK_STR(s.qname, "qinq.example");
	dr_decoder_fini(&d);
}

static void test_sll_sll2(void)
{
	struct dr_decoder d;
	struct seen s;
	struct pb p = {.n = 0};
	setup(&d, &s);
	pb_u16(&p, 0);		/* SLL: packet type */
	pb_u16(&p, 1);		/* ARPHRD_ETHER */
	pb_u16(&p, 6);
	pb_mem(&p, "\x02\0\0\0\0\x01\0\0", 8);
	pb_u16(&p, 0x0800);
	v4_udp_query(&p, "sll.example", 1000, 53);
	feed(&d, DR_LINK_LINUX_SLL, &p, 1);
	CHECK_EQ(s.n, 1);
	CHECK_STR(s.qname, "sll.example");

	p.n = 0;
	pb_u16(&p, 0x86dd);	/* SLL2: protocol first */
	pb_u16(&p, 0);
	pb_u32(&p, 3);
	pb_u16(&p, 1);
	pb_u8(&p, 0);
	pb_u8(&p, 6);
	pb_mem(&p, "\x02\0\0\0\0\x01\0\0", 8);
	uint8_t q[512];
	size_t qn = pb_dns_query(q, 9, "sll2.example", 28);
	size_t ip = pb_ipv6(&p, v6a, v6b, 17, 33);
	pb_udp(&p, 5353, 53, q, qn);
	pb_ipv6_done(&p, ip);
	feed(&d, DR_LINK_LINUX_SLL2, &p, 2);
	CHECK_EQ(s.n, 2);
	CHECK_EQ(s.last.family, 6);
	CHECK_EQ(s.last.ip_ttl, 33);
	CHECK(memcmp(s.last.src, v6a, 16) == 0);
	CHECK_STR(s.qname, "sll2.example");
	dr_decoder_fini(&d);
}

static void test_null_loop_raw(void)
{
	struct dr_decoder d;
	struct seen s;
	struct pb p = {.n = 0};
	setup(&d, &s);
	pb_mem(&p, "\x02\0\0\0", 4);	/* AF_INET, little-endian host */
	v4_udp_query(&p, "null.example", 1000, 53);
	feed(&d, DR_LINK_NULL, &p, 1);
	CHECK_EQ(s.n, 1);

	p.n = 0;
	pb_mem(&p, "\0\0\0\x1e", 4);	/* AF_INET6 (Darwin), big-endian host */
	uint8_t q[512];
	size_t qn = pb_dns_query(q, 9, "null6.example", 1);
	size_t ip = pb_ipv6(&p, v6a, v6b, 17, 64);
	pb_udp(&p, 1000, 53, q, qn);
	pb_ipv6_done(&p, ip);
	feed(&d, DR_LINK_NULL, &p, 2);
	CHECK_EQ(s.n, 2);
	CHECK_STR(s.qname, "null6.example");

	p.n = 0;
	pb_mem(&p, "\0\0\0\x02", 4);	/* LOOP: network order */
	v4_udp_query(&p, "loop.example", 1000, 53);
	feed(&d, DR_LINK_LOOP, &p, 3);
	CHECK_EQ(s.n, 3);

	p.n = 0;
	v4_udp_query(&p, "raw.example", 1000, 53);
	feed(&d, DR_LINK_RAW, &p, 4);
	feed(&d, DR_LINK_RAW_LINKTYPE, &p, 5);
	feed(&d, DR_LINK_IPV4, &p, 6);
	CHECK_EQ(s.n, 6);
	CHECK_STR(s.qname, "raw.example");

	p.n = 0;
	pb_mem(&p, "\x07\0\0\0", 4);	/* an unknown family */
	v4_udp_query(&p, "x", 1000, 53);
	feed(&d, DR_LINK_NULL, &p, 7);
	CHECK_EQ(s.n, 6);
	CHECK_EQ(d.stats.not_ip, 1);
	dr_decoder_fini(&d);
}

static void test_ipv6_extension_headers(void)
{
	struct dr_decoder d;
	struct seen s;
	struct pb p = {.n = 0};
	setup(&d, &s);
	pb_eth(&p, 0x86dd);
	size_t ip = pb_ipv6(&p, v6a, v6b, 0, 64);
	/* hop-by-hop (8 octets) -> destination options (16) -> AH (12) -> UDP */
	pb_u8(&p, 60); pb_u8(&p, 0); pb_mem(&p, "\x01\x04\0\0\0\0", 6);
	pb_u8(&p, 51); pb_u8(&p, 1); pb_mem(&p, "\x01\x0c\0\0\0\0\0\0\0\0\0\0\0\0", 14);
	pb_u8(&p, 17); pb_u8(&p, 1); pb_mem(&p, "\0\0\0\0\0\x01\0\0\0\x01", 10);
	uint8_t q[512];
	size_t qn = pb_dns_query(q, 77, "ext.example", 1);
	pb_udp(&p, 1000, 53, q, qn);
	pb_ipv6_done(&p, ip);
	feed(&d, DR_LINK_ETHERNET, &p, 1);
	CHECK_EQ(s.n, 1);
	CHECK_STR(s.qname, "ext.example");
	CHECK_EQ(s.last.dns.id, 77);

	/* An atomic fragment header (offset 0, M clear) is passed through. */
	p.n = 0;
	ip = pb_ipv6(&p, v6a, v6b, 44, 64);
	pb_u8(&p, 17); pb_u8(&p, 0); pb_u16(&p, 0); pb_u32(&p, 99);
	pb_udp(&p, 1000, 53, q, qn);
	pb_ipv6_done(&p, ip);
	feed(&d, DR_LINK_RAW, &p, 2);
	CHECK_EQ(s.n, 2);
	CHECK_EQ(s.last.fragmented, 0);

	/* An extension header running past the end is counted, not read. */
	p.n = 0;
	ip = pb_ipv6(&p, v6a, v6b, 0, 64);
	pb_u8(&p, 17); pb_u8(&p, 200); pb_mem(&p, "\0\0\0\0\0\0", 6);
	pb_ipv6_done(&p, ip);
	feed(&d, DR_LINK_RAW, &p, 3);
	CHECK_EQ(s.n, 2);
	CHECK_EQ(d.stats.ip_bad, 1);
	dr_decoder_fini(&d);
}

static void test_tunnels(void)
{
	struct dr_decoder d;
	struct seen s;
	struct pb p = {.n = 0};
	setup(&d, &s);
	/* DNS in IPv4 in PPP in GREv1 in IPv6. */
	size_t outer = pb_ipv6(&p, v6a, v6b, 47, 64);
	pb_u16(&p, 0x3001);	/* K, S set, version 1 */
	pb_u16(&p, 0x880b);
	pb_u32(&p, 0);		/* payload length + call id */
	pb_u32(&p, 1);		/* sequence */
	pb_u8(&p, 0xff); pb_u8(&p, 0x03); pb_u16(&p, 0x0021);
	v4_udp_query(&p, "gre.example", 1000, 53);
	pb_ipv6_done(&p, outer);
	feed(&d, DR_LINK_RAW, &p, 1);
	CHECK_EQ(s.n, 1);
	CHECK_STR(s.qname, "gre.example");
	CHECK_EQ(s.last.family, 4);
	CHECK_EQ(d.stats.tunnel, 1);

	/* IPv6 in IPv4 (protocol 41). */
	p.n = 0;
	size_t o4 = pb_ipv4(&p, v4a, v4b, 41, 5, 0, 64);
	size_t in6 = pb_ipv6(&p, v6a, v6b, 17, 64);
	uint8_t q[512];
	size_t qn = pb_dns_query(q, 3, "6in4.example", 1);
	pb_udp(&p, 1000, 53, q, qn);
	pb_ipv6_done(&p, in6);
	pb_ipv4_done(&p, o4);
	feed(&d, DR_LINK_RAW, &p, 2);
	CHECK_EQ(s.n, 2);
	CHECK_EQ(s.last.family, 6);
	dr_decoder_fini(&d);
}

/* An IPv4-in-IPv4 tunnel whose outer datagram came in fragments, carrying
 * the first fragment of an inner datagram whose second fragment comes in
 * another tunnel packet: reassembling the inner one reads the outer one's
 * buffer, which must still be there (under ASan, reading it freed failed). */
static void test_fragments_inside_fragments(void)
{
	struct dr_decoder d;
	struct seen s;
	struct pb inner = {.n = 0}, p = {.n = 0};
	setup(&d, &s);
	uint8_t q[512], udp_dns[600];
	size_t qn = pb_dns_query(q, 0x77, "nested.example", 1);
	struct pb u = {.n = 0};
	pb_udp(&u, 1000, 53, q, qn);
	memcpy(udp_dns, u.b, u.n);
	/* inner fragment A: the first 16 octets of UDP + DNS, more to come */
	size_t ia = pb_ipv4(&inner, v4a, v4b, 17, 77, 0x2000, 64);
	pb_mem(&inner, udp_dns, 16);
	pb_ipv4_done(&inner, ia);
	/* it travels in an outer datagram cut in two: 24 octets, then 12 */
	size_t o1 = pb_ipv4(&p, v4b, v4a, 4, 99, 0x2000, 64);
	pb_mem(&p, inner.b, 24);
	pb_ipv4_done(&p, o1);
	feed(&d, DR_LINK_RAW, &p, 1);
	p.n = 0;
	size_t o2 = pb_ipv4(&p, v4b, v4a, 4, 99, 24 / 8, 64);
	pb_mem(&p, inner.b + 24, inner.n - 24);
	pb_ipv4_done(&p, o2);
	feed(&d, DR_LINK_RAW, &p, 2);
	CHECK_EQ(s.n, 0);
	/* inner fragment B, the rest, in a tunnel packet of its own */
	p.n = 0;
	size_t o3 = pb_ipv4(&p, v4b, v4a, 4, 100, 0, 64);
	size_t ib = pb_ipv4(&p, v4a, v4b, 17, 77, 16 / 8, 64);
	pb_mem(&p, udp_dns + 16, u.n - 16);
	pb_ipv4_done(&p, ib);
	pb_ipv4_done(&p, o3);
	feed(&d, DR_LINK_RAW, &p, 3);
	CHECK_EQ(s.n, 1);
	CHECK_STR(s.qname, "nested.example");
	CHECK_EQ(s.last.fragmented, 1);
	dr_decoder_fini(&d);
}

static void test_ports_and_junk(void)
{
	struct dr_decoder d;
	struct seen s;
	struct pb p = {.n = 0};
	setup(&d, &s);
	v4_udp_query(&p, "other.example", 1000, 5353);
	feed(&d, DR_LINK_RAW, &p, 1);
	CHECK_EQ(s.n, 0);
	CHECK_EQ(d.stats.other_port, 1);
	dr_port_set(ports, 5353);	/* --dns-port 5353 */
	feed(&d, DR_LINK_RAW, &p, 2);
	CHECK_EQ(s.n, 1);

	/* Junk to port 53 is a message, marked not_dns. */
	p.n = 0;
	uint8_t junk[200];
	memset(junk, 'X', sizeof(junk));
	size_t ip = pb_ipv4(&p, v4a, v4b, 17, 1, 0, 64);
	pb_udp(&p, 4444, 53, junk, sizeof(junk));
	pb_ipv4_done(&p, ip);
	feed(&d, DR_LINK_RAW, &p, 3);
	CHECK_EQ(s.n, 2);
	CHECK_EQ(s.last.dns.malformed, DR_MAL_NOT_DNS);
	CHECK_EQ(d.stats.dns_malformed, 1);

	/* Non-IP, truncated and unknown link frames are counted. */
	p.n = 0;
	pb_eth(&p, 0x0806);	/* ARP */
	pb_u32(&p, 0);
	feed(&d, DR_LINK_ETHERNET, &p, 4);
	CHECK_EQ(d.stats.not_ip, 1);
	feed(&d, 147, &p, 5);	/* a user DLT */
	CHECK_EQ(d.stats.link_unsupported, 1);
	p.n = 0;
	v4_udp_query(&p, "cut", 1000, 53);
	p.n = 10;
	feed(&d, DR_LINK_RAW, &p, 6);
	CHECK_EQ(d.stats.ip_bad, 1);
	CHECK_EQ(d.stats.frames, 6);
	dr_decoder_fini(&d);
}

/* Every prefix of a frame decodes without reading past it (ASan). */
static void test_every_prefix(void)
{
	struct dr_decoder d;
	struct seen s;
	struct pb p = {.n = 0};
	setup(&d, &s);
	pb_eth(&p, 0x8100);
	pb_u16(&p, 1);
	pb_u16(&p, 0x86dd);
	size_t ip = pb_ipv6(&p, v6a, v6b, 0, 64);
	pb_u8(&p, 17); pb_u8(&p, 0); pb_mem(&p, "\x01\x04\0\0\0\0", 6);
	uint8_t q[512];
	size_t qn = pb_dns_query(q, 77, "prefix.example", 1);
	pb_udp(&p, 1000, 53, q, qn);
	pb_ipv6_done(&p, ip);
	for (size_t cut = 0; cut <= p.n; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		memcpy(copy, p.b, cut);
		struct dr_packet pkt = {.data = copy, .caplen = (uint32_t)cut,
					.wirelen = (uint32_t)p.n, .link = DR_LINK_ETHERNET};
		dr_decoder_packet(&d, &pkt);
		free(copy);
	}
	CHECK(s.n >= 1);
	CHECK_EQ(s.last.dns.malformed, DR_MAL_NONE);
	dr_decoder_fini(&d);
}

int main(void)
{
	RUN(test_ethernet_ipv4);
	RUN(test_ethernet_padding);
	RUN(test_vlan_qinq);
	RUN(test_sll_sll2);
	RUN(test_null_loop_raw);
	RUN(test_ipv6_extension_headers);
	RUN(test_tunnels);
	RUN(test_fragments_inside_fragments);
	RUN(test_ports_and_junk);
	RUN(test_every_prefix);
	TEST_MAIN_END();
}
