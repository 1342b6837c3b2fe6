/* Unit tests of DNS-over-TCP reassembly: several messages per segment,
 * messages spanning segments, retransmissions, gaps, both IP versions. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/packet.h"
#include "decode/tcp.h"
#include "harness.h"
#include "pktbuild.h"

static const uint8_t v4a[4] = {192, 0, 2, 53}, v4b[4] = {192, 0, 2, 99};
static const uint8_t v6a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x53};
static const uint8_t v6b[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x99};

struct seen {
	unsigned n;
	uint16_t ids[64];
	uint64_t frames[64];
	unsigned malformed;
};

static void sink(void *ctx, const struct dr_record *r)
{
	struct seen *s = ctx;
	if (s->n < 64) {
		s->ids[s->n] = r->dns.id;
		s->frames[s->n] = r->frame;
	}
	s->malformed += r->dns.malformed != 0;
	s->n++;
}

static uint8_t ports[8192];

static void setup(struct dr_decoder *d, struct seen *s)
{
	struct dr_decode_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	dr_port_set(ports, 53);
	cfg.dns_ports = ports;
	cfg.tcp.streams = 64;
	memset(s, 0, sizeof(*s));
	CHECK_EQ(dr_decoder_init(d, &cfg, sink, s), 0);
}

/* The stream bytes: `count` length-prefixed queries with ids 1..count. */
static size_t stream(uint8_t *out, unsigned count)
{
	size_t n = 0;
	for (unsigned i = 1; i <= count; i++) {
		size_t m = pb_dns_query(out + n + 2, i, "tcp.example", 1);
		out[n] = (uint8_t)(m >> 8);
		out[n + 1] = (uint8_t)m;
		n += 2 + m;
	}
	return n;
}

static void segment(struct dr_decoder *d, int v6, uint32_t seq, unsigned flags,
		    const uint8_t *data, size_t n, uint64_t frame)
{
	struct pb p = {.n = 0};
	size_t ip = v6 ? pb_ipv6(&p, v6b, v6a, 6, 64) : pb_ipv4(&p, v4b, v4a, 6, 1, 0x4000, 64);
	pb_tcp(&p, 41000, 53, seq, flags, data, n);
	if (v6)
		pb_ipv6_done(&p, ip);
	else
		pb_ipv4_done(&p, ip);
	struct dr_packet pkt = {.data = p.b, .caplen = (uint32_t)p.n, .wirelen = (uint32_t)p.n,
				.link = DR_LINK_RAW, .ts_sec = 10, .frame = frame};
	dr_decoder_packet(d, &pkt);
}

enum { SYN = 0x02, ACK = 0x10, PSH = 0x08, FIN = 0x01, RST = 0x04 };

static void test_several_per_segment(void)
{
	struct dr_decoder d;
	struct seen s;
	uint8_t data[2048];
	size_t n = stream(data, 3);
	setup(&d, &s);
	segment(&d, 0, 999, SYN, NULL, 0, 1);
	segment(&d, 0, 1000, ACK | PSH, data, n, 2);
	CHECK_EQ(s.n, 3);
	CHECK_EQ(s.ids[0], 1);
	CHECK_EQ(s.ids[2], 3);
	CHECK_EQ(s.frames[2], 2);
	CHECK_EQ(s.malformed, 0);
	CHECK_EQ(d.stats.tcp_messages, 3);
	dr_decoder_fini(&d);
}

/* Split the stream at every byte: messages span segments, and a length
 * prefix is itself cut in two. */
static void test_spanning(void)
{
	uint8_t data[2048];
	size_t n = stream(data, 4);
	for (int v6 = 0; v6 <= 1; v6++) {
		for (size_t cut = 1; cut < n; cut++) {
			struct dr_decoder d;
			struct seen s;
			setup(&d, &s);
			segment(&d, v6, 0, SYN, NULL, 0, 1);
			segment(&d, v6, 1, ACK, data, cut, 2);
			segment(&d, v6, 1 + (uint32_t)cut, ACK, data + cut, n - cut, 3);
			CHECK_EQ(s.n, 4);
			CHECK_EQ(s.malformed, 0);
			CHECK_EQ(s.ids[3], 4);
			CHECK_EQ(s.frames[3], 3);
			dr_decoder_fini(&d);
		}
	}
}

static void test_one_byte_segments(void)
{
	struct dr_decoder d;
	struct seen s;
	uint8_t data[2048];
	size_t n = stream(data, 2);
	setup(&d, &s);
	segment(&d, 1, 41, SYN, NULL, 0, 1);
	for (size_t i = 0; i < n; i++)
		segment(&d, 1, 42 + (uint32_t)i, ACK, data + i, 1, 2 + i);
	CHECK_EQ(s.n, 2);
	CHECK_EQ(s.malformed, 0);
	CHECK_EQ(s.frames[1], 1 + n);
	dr_decoder_fini(&d);
}

static void test_retransmission(void)
{
	struct dr_decoder d;
	struct seen s;
	uint8_t data[2048];
	size_t n = stream(data, 2);
	setup(&d, &s);
	segment(&d, 0, 0, SYN, NULL, 0, 1);
	segment(&d, 0, 1, ACK, data, 20, 2);
	segment(&d, 0, 1, ACK, data, 20, 3);		/* exact duplicate */
	segment(&d, 0, 11, ACK, data + 10, n - 10, 4);	/* overlaps by 10 */
	segment(&d, 0, 1, ACK, data, n, 5);		/* all of it again */
	CHECK_EQ(s.n, 2);
	CHECK_EQ(s.malformed, 0);
	dr_decoder_fini(&d);
}

/* A lost segment: the partial message is dropped and counted; the stream
 * picks up again at the next segment that starts a message. */
static void test_gap(void)
{
	struct dr_decoder d;
	struct seen s;
	uint8_t data[2048];
	size_t n = stream(data, 3);
	size_t one = n / 3;
	setup(&d, &s);
	segment(&d, 0, 0, SYN, NULL, 0, 1);
	segment(&d, 0, 1, ACK, data, 5, 2);
	/* data[5..one) is lost */
	segment(&d, 0, 1 + (uint32_t)one, ACK, data + one, n - one, 3);
	CHECK_EQ(s.n, 2);
	CHECK_EQ(s.ids[0], 2);
	CHECK_EQ(d.stats.tcp_gap, 1);
	CHECK_EQ(d.stats.tcp_unfinished, 1);
	dr_decoder_fini(&d);
}

/* Capture started mid-connection: no SYN seen, first segment starts a
 * message. FIN with a half message counts it unfinished. */
static void test_midstream_and_fin(void)
{
	struct dr_decoder d;
	struct seen s;
	uint8_t data[2048];
	size_t n = stream(data, 2);
	setup(&d, &s);
	segment(&d, 0, 5000, ACK, data, n - 3, 1);
	CHECK_EQ(s.n, 1);
	segment(&d, 0, 5000 + (uint32_t)(n - 3), ACK | FIN, NULL, 0, 2);
	CHECK_EQ(d.stats.tcp_unfinished, 1);
	dr_decoder_fini(&d);
}

/* The memory cap bounds buffered partial messages. */
static void test_memory_cap(void)
{
	struct dr_decoder d;
	struct seen s;
	struct dr_decode_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	dr_port_set(ports, 53);
	cfg.dns_ports = ports;
	cfg.tcp.streams = 64;
	cfg.tcp.mem_cap = 1000;
	memset(&s, 0, sizeof(s));
	CHECK_EQ(dr_decoder_init(&d, &cfg, sink, &s), 0);
	uint8_t half[4] = {0x10, 0x00, 0xab, 0xcd};	/* announces 4096 octets */
	segment(&d, 0, 1, ACK, half, sizeof(half), 1);
	CHECK_EQ(d.stats.tcp_memory, 1);
	CHECK(d.tcp.table.mem_used <= 1000);
	dr_decoder_fini(&d);
}

int main(void)
{
	RUN(test_several_per_segment);
	RUN(test_spanning);
	RUN(test_one_byte_segments);
	RUN(test_retransmission);
	RUN(test_gap);
	RUN(test_midstream_and_fin);
	RUN(test_memory_cap);
	TEST_MAIN_END();
}
