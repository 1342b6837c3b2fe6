/* NetFlow v9 and IPFIX decoding (decode/netflow.c): hand-built datagrams
 * for templates, options, sampling, withdrawal, restarts, sequence gaps,
 * variable-length and enterprise fields and damage, then the flow
 * captures of ../shared/data read in place. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decode/flow.h"
#include "decode/packet.h"
#include "input/pcapfile.h"
#include "flowcap.h"
#include "lib/cursor.h"
#include "harness.h"
#include "pktbuild.h"

#define MAXREC 4096

static struct dr_record got[MAXREC];
static unsigned ngot;

static void sink(void *ctx, const struct dr_record *r)
{
	(void)ctx;
	if (ngot < MAXREC)
		got[ngot] = *r;
	ngot++;
}

static const uint8_t EXPORTER_A[DR_AKEY] = {4, 192, 0, 2, 1};
static const uint8_t EXPORTER_B[DR_AKEY] = {4, 192, 0, 2, 2};

static struct dr_flow_decoder F;

/* With DR_NETFLOW_CORPUS=DIR, the datagrams the tests build are saved as
 * seeds for the fuzzers: DIR/netflow/N one datagram each, DIR/flowseq/T
 * those of test T in fuzz_flowseq's framing (exporter, length, octets). */
static unsigned seeds, seq_test;

static void start(uint32_t templates, uint32_t lifetime)
{
	struct dr_flow_config cfg;
	dr_flow_config_defaults(&cfg);
	if (templates)
		cfg.templates = templates;
	if (lifetime)
		cfg.template_lifetime = lifetime;
	ngot = 0;
	seq_test++;
	CHECK_EQ(dr_flow_init(&F, &cfg, NULL, sink, NULL), 0);
}


static void save_seed(const uint8_t *exporter, const struct pb *p)
{
	const char *dir = getenv("DR_NETFLOW_CORPUS");
	char path[4096];
	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/netflow/seed-%03u", dir, ++seeds);
	FILE *fp = fopen(path, "wb");
	if (fp) {
		fwrite(p->b, 1, p->n, fp);
		fclose(fp);
	}
	snprintf(path, sizeof(path), "%s/flowseq/seed-%02u", dir, seq_test);
	fp = fopen(path, "ab");
	if (fp) {
		uint8_t head[3] = {exporter == EXPORTER_A ? 0 : 1, (uint8_t)(p->n >> 8), (uint8_t)p->n};
		fwrite(head, 1, 3, fp);
		fwrite(p->b, 1, p->n, fp);
		fclose(fp);
	}
}

static void feed_from(const uint8_t *exporter, const struct pb *p)
{
	save_seed(exporter, p);
	struct dr_flow_origin o = {.addr = exporter, .port = 2055, .ts_sec = 1700000000, .frame = 1};
	dr_flow_datagram(&F, &o, p->b, p->n);
}

static void feed(const struct pb *p)
{
	feed_from(EXPORTER_A, p);
}

/* Builders. A set is opened with set_begin and closed with set_end,
 * which writes its length (and pads it to 4 when asked). */
static void v9_header(struct pb *p, uint32_t uptime, uint32_t secs, uint32_t seq, uint32_t source)
{
	p->n = 0;
	pb_u16(p, 9);
	pb_u16(p, 0);
	pb_u32(p, uptime);
	pb_u32(p, secs);
	pb_u32(p, seq);
	pb_u32(p, source);
}

static void ipfix_header(struct pb *p, uint32_t secs, uint32_t seq, uint32_t domain)
{
	p->n = 0;
	pb_u16(p, 10);
	pb_u16(p, 0);
	pb_u32(p, secs);
	pb_u32(p, seq);
	pb_u32(p, domain);
}

static void ipfix_end(struct pb *p)
{
	pb_set16(p, 2, (unsigned)p->n);
}

static size_t set_begin(struct pb *p, unsigned id)
{
	size_t at = p->n;
	pb_u16(p, id);
	pb_u16(p, 0);
	return at;
}

static void set_end(struct pb *p, size_t at, int pad)
{
	while (pad && (p->n - at) % 4)
		pb_u8(p, 0);
	pb_set16(p, at + 2, (unsigned)(p->n - at));
}

/* The template most tests use: IPv4 5-tuple, counters, interfaces and
 * sysUpTime first/last (34 octets a record). */
static const uint16_t T4[][2] = {
	{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {2, 4}, {1, 4}, {10, 2}, {14, 2},
	{22, 4}, {21, 4}, {61, 1},
};
#define T4_N (sizeof(T4) / sizeof(T4[0]))

static void template_t4(struct pb *p, unsigned set, unsigned id)
{
	size_t s = set_begin(p, set);
	pb_u16(p, id);
	pb_u16(p, T4_N);
	for (unsigned i = 0; i < T4_N; i++) {
		pb_u16(p, T4[i][0]);
		pb_u16(p, T4[i][1]);
	}
	set_end(p, s, 0);
}

static void record_t4(struct pb *p, unsigned last_octet, uint16_t sport, uint32_t packets,
		      uint32_t bytes, uint32_t first, uint32_t last)
{
	static const uint8_t src[4] = {198, 51, 100, 7};
	uint8_t dst[4] = {203, 0, 113, (uint8_t)last_octet};
	pb_mem(p, src, 4);
	pb_mem(p, dst, 4);
	pb_u16(p, sport);
	pb_u16(p, 53);
	pb_u8(p, 17);
	pb_u32(p, packets);
	pb_u32(p, bytes);
	pb_u16(p, 3);
	pb_u16(p, 4);
	pb_u32(p, first);
	pb_u32(p, last);
	pb_u8(p, last_octet & 1);	/* flowDirection: even ingress, odd egress */
}

static void data_t4(struct pb *p, unsigned id, unsigned n)
{
	size_t s = set_begin(p, id);
	for (unsigned i = 0; i < n; i++)
		record_t4(p, 10 + i, (uint16_t)(40000 + i), 5, 500, 1000, 3000);
	set_end(p, s, 1);
}

/* NetFlow v9: a template and data in one datagram, several flowsets, then
 * data alone; every field as sent, times from the header's uptime. */
static void test_v9_template_data(void)
{
	struct pb p;
	start(0, 0);
	v9_header(&p, 10000, 1700000000, 1, 7);
	template_t4(&p, 0, 256);
	data_t4(&p, 256, 2);
	feed(&p);
	CHECK_EQ(F.stats.netflow9, 1);
	CHECK_EQ(F.stats.templates, 1);
	CHECK_EQ(ngot, 2);
	const struct dr_record *r = &got[0];
	CHECK_EQ(r->kind, DR_KIND_FLOW);
	CHECK_EQ(r->family, 4);
	CHECK(memcmp(r->src, (uint8_t[]){198, 51, 100, 7}, 4) == 0);
	CHECK(memcmp(r->dst, (uint8_t[]){203, 0, 113, 10}, 4) == 0);
	CHECK_EQ(got[1].dst[3], 11);
	CHECK_EQ(r->direction, DR_DIR_INGRESS);
	CHECK_EQ(got[1].direction, DR_DIR_EGRESS);
	CHECK_EQ(r->sport, 40000);
	CHECK_EQ(r->dport, 53);
	CHECK_EQ(r->proto, 17);
	CHECK_EQ(r->packets, 5);
	CHECK_EQ(r->bytes, 500);
	CHECK_EQ(r->in_if, 3);
	CHECK_EQ(r->out_if, 4);
	CHECK_EQ(r->sampling, 1);
	/* export at 1700000000.000 with uptime 10 s: first at uptime 1 s */
	CHECK_EQ(r->ts_sec, 1700000000 - 9);
	CHECK_EQ(r->ts_nsec, 0);
	CHECK_EQ(r->end_sec, 1700000000 - 7);
	CHECK_EQ(r->fragmented, 0);
	CHECK(memcmp(r->exporter, EXPORTER_A, DR_AKEY) == 0);

	v9_header(&p, 11000, 1700000001, 2, 7);
	data_t4(&p, 256, 3);
	feed(&p);
	CHECK_EQ(ngot, 5);
	CHECK_EQ(F.stats.seq_gaps, 0);
	CHECK_EQ(F.stats.bad_datagram, 0);
	CHECK_EQ(F.stats.no_template, 0);
	CHECK_EQ(F.stats.records, 5);
	dr_flow_fini(&F);
}

/* A data set before its template is counted and skipped; the template's
 * own flowset after it in the same datagram still counts, and the next
 * data are read. Another exporter, or another source ID, has templates
 * of its own. */
static void test_v9_data_before_template(void)
{
	struct pb p;
	start(0, 0);
	v9_header(&p, 10000, 1700000000, 1, 7);
	data_t4(&p, 256, 2);
	size_t data_len = p.n - 20;
	template_t4(&p, 0, 256);
	feed(&p);
	CHECK_EQ(ngot, 0);
	CHECK_EQ(F.stats.no_template, 1);
	CHECK_EQ(F.stats.no_template_octets, data_len);
	CHECK_EQ(F.stats.templates, 1);

	v9_header(&p, 10100, 1700000000, 2, 7);
	data_t4(&p, 256, 1);
	feed(&p);
	CHECK_EQ(ngot, 1);
	feed_from(EXPORTER_B, &p);
	CHECK_EQ(ngot, 1);
	CHECK_EQ(F.stats.no_template, 2);
	v9_header(&p, 10100, 1700000000, 3, 8);
	data_t4(&p, 256, 1);
	feed(&p);
	CHECK_EQ(ngot, 1);
	CHECK_EQ(F.stats.no_template, 3);
	dr_flow_fini(&F);
}

/* Options data (v9 flowset 1, scope System) give the exporter's rate;
 * data records that name a sampler get that sampler's rate instead. */
static void test_v9_sampling(void)
{
	struct pb p;
	start(0, 0);
	v9_header(&p, 10000, 1700000000, 1, 0);
	size_t s = set_begin(&p, 1);
	pb_u16(&p, 300);
	pb_u16(&p, 4);		/* scope: System, 4 octets */
	pb_u16(&p, 8);		/* options: sampler ID, interval */
	pb_u16(&p, 1);
	pb_u16(&p, 4);
	pb_u16(&p, 48);
	pb_u16(&p, 2);
	pb_u16(&p, 34);
	pb_u16(&p, 4);
	set_end(&p, s, 1);
	/* a template whose records name a sampler */
	s = set_begin(&p, 0);
	pb_u16(&p, 257);
	pb_u16(&p, 5);
	pb_u16(&p, 8); pb_u16(&p, 4);
	pb_u16(&p, 12); pb_u16(&p, 4);
	pb_u16(&p, 2); pb_u16(&p, 4);
	pb_u16(&p, 1); pb_u16(&p, 4);
	pb_u16(&p, 48); pb_u16(&p, 1);
	set_end(&p, s, 0);
	template_t4(&p, 0, 256);
	/* options data: the whole exporter samples 1 in 100 (no sampler ID
	 * given... as ID 0 is a real sampler, the first record names 0 and a
	 * second record with a sampler of its own) */
	s = set_begin(&p, 300);
	pb_u32(&p, 0);
	pb_u16(&p, 2);
	pb_u32(&p, 1000);
	pb_u32(&p, 0);
	pb_u16(&p, 3);
	pb_u32(&p, 10);
	set_end(&p, s, 1);
	feed(&p);
	CHECK_EQ(F.stats.options_templates, 1);
	CHECK_EQ(F.stats.templates, 2);
	CHECK_EQ(F.stats.options_records, 2);

	v9_header(&p, 10100, 1700000000, 2, 0);
	s = set_begin(&p, 257);
	for (unsigned sampler = 2; sampler <= 4; sampler++) {
		pb_mem(&p, (uint8_t[]){10, 0, 0, 1, 10, 0, 0, 2}, 8);
		pb_u32(&p, 3);
		pb_u32(&p, 300);
		pb_u8(&p, sampler);
	}
	set_end(&p, s, 1);
	feed(&p);
	CHECK_EQ(ngot, 3);
	CHECK_EQ(got[0].sampling, 1000);
	CHECK_EQ(got[0].packets, 3000);
	CHECK_EQ(got[0].bytes, 300000);
	CHECK_EQ(got[1].sampling, 10);
	CHECK_EQ(got[1].packets, 30);
	/* sampler 4 was never described, and the exporter has no rate of
	 * its own: flow.sampling (1) */
	CHECK_EQ(got[2].sampling, 1);
	CHECK_EQ(got[2].packets, 3);

	/* options data without a sampler ID: the exporter's rate */
	v9_header(&p, 10200, 1700000000, 3, 0);
	s = set_begin(&p, 1);
	pb_u16(&p, 301);
	pb_u16(&p, 4);
	pb_u16(&p, 8);
	pb_u16(&p, 1); pb_u16(&p, 4);
	pb_u16(&p, 34); pb_u16(&p, 4);
	pb_u16(&p, 35); pb_u16(&p, 4);
	set_end(&p, s, 1);
	s = set_begin(&p, 301);
	pb_u32(&p, 0);
	pb_u32(&p, 64);
	pb_u32(&p, 2);
	set_end(&p, s, 1);
	data_t4(&p, 256, 1);
	feed(&p);
	CHECK_EQ(ngot, 4);
	CHECK_EQ(got[3].sampling, 64);
	CHECK_EQ(got[3].packets, 5 * 64);
	CHECK_EQ(got[3].bytes, 500 * 64);
	CHECK_EQ(F.stats.unsampled, 1);
	dr_flow_fini(&F);
}

/* A rebooted exporter (uptime back to near zero) loses its templates:
 * data after the reboot wait for the template again. */
static void test_v9_restart(void)
{
	struct pb p;
	start(0, 0);
	v9_header(&p, 5000000, 1700000000, 100, 1);
	template_t4(&p, 0, 256);
	data_t4(&p, 256, 1);
	feed(&p);
	CHECK_EQ(ngot, 1);
	/* the sequence goes on, the uptime went back */
	v9_header(&p, 2000, 1700000100, 101, 1);
	data_t4(&p, 256, 1);
	feed(&p);
	CHECK_EQ(F.stats.exporter_restarts, 1);
	CHECK_EQ(ngot, 1);
	CHECK_EQ(F.stats.no_template, 1);
	/* a datagram a little late is not a reboot */
	v9_header(&p, 2500, 1700000100, 102, 1);
	template_t4(&p, 0, 256);
	feed(&p);
	v9_header(&p, 2400, 1700000100, 103, 1);
	data_t4(&p, 256, 1);
	feed(&p);
	CHECK_EQ(F.stats.exporter_restarts, 1);
	CHECK_EQ(ngot, 2);
	/* a sequence number far behind is a restart too */
	v9_header(&p, 3000, 1700000101, 5, 1);
	data_t4(&p, 256, 1);
	feed(&p);
	CHECK_EQ(F.stats.exporter_restarts, 2);
	CHECK_EQ(ngot, 2);
	dr_flow_fini(&F);
}

/* NetFlow v9 numbers datagrams, IPFIX data records. */
static void test_sequence_gaps(void)
{
	struct pb p;
	start(0, 0);
	v9_header(&p, 10000, 1700000000, 10, 0);
	template_t4(&p, 0, 256);
	feed(&p);
	v9_header(&p, 10001, 1700000000, 13, 0);
	feed(&p);
	CHECK_EQ(F.stats.seq_gaps, 1);
	CHECK_EQ(F.stats.seq_lost_datagrams, 2);
	v9_header(&p, 10002, 1700000000, 12, 0);	/* late */
	feed(&p);
	CHECK_EQ(F.stats.seq_reordered, 1);
	CHECK_EQ(F.stats.seq_gaps, 1);

	ipfix_header(&p, 1700000000, 500, 3);
	template_t4(&p, 2, 256);
	data_t4(&p, 256, 3);
	ipfix_end(&p);
	feed(&p);
	ipfix_header(&p, 1700000000, 503, 3);	/* 500 + 3 records */
	data_t4(&p, 256, 2);
	ipfix_end(&p);
	feed(&p);
	CHECK_EQ(F.stats.seq_gaps, 1);
	ipfix_header(&p, 1700000000, 510, 3);	/* 505 expected: 5 lost */
	data_t4(&p, 256, 1);
	ipfix_end(&p);
	feed(&p);
	CHECK_EQ(F.stats.seq_gaps, 2);
	CHECK_EQ(F.stats.seq_lost_records, 5);
	CHECK_EQ(ngot, 6);
	dr_flow_fini(&F);
}

/* IPFIX: IPv6, an enterprise field and variable-length fields (short and
 * long form) skipped by their lengths, millisecond and NTP times, total
 * counters when the delta ones are absent, physical interfaces. */
static void test_ipfix_fields(void)
{
	struct pb p;
	start(0, 0);
	ipfix_header(&p, 1700000000, 0, 9);
	size_t s = set_begin(&p, 2);
	pb_u16(&p, 400);
	pb_u16(&p, 11);
	pb_u16(&p, 27); pb_u16(&p, 16);
	pb_u16(&p, 28); pb_u16(&p, 16);
	pb_u16(&p, 0x8000 | 7); pb_u16(&p, 2); pb_u32(&p, 29305);	/* enterprise: not a port */
	pb_u16(&p, 11); pb_u16(&p, 2);
	pb_u16(&p, 82); pb_u16(&p, 65535);	/* interfaceName, variable */
	pb_u16(&p, 4); pb_u16(&p, 1);
	pb_u16(&p, 86); pb_u16(&p, 8);
	pb_u16(&p, 85); pb_u16(&p, 8);
	pb_u16(&p, 0x8000 | 1); pb_u16(&p, 65535); pb_u32(&p, 9);	/* enterprise, variable */
	pb_u16(&p, 152); pb_u16(&p, 8);
	pb_u16(&p, 157); pb_u16(&p, 8);
	set_end(&p, s, 0);
	s = set_begin(&p, 2);
	pb_u16(&p, 401);
	pb_u16(&p, 3);
	pb_u16(&p, 8); pb_u16(&p, 4);
	pb_u16(&p, 12); pb_u16(&p, 4);
	pb_u16(&p, 252); pb_u16(&p, 4);
	set_end(&p, s, 0);
	s = set_begin(&p, 400);
	uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}, b6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
	pb_mem(&p, a6, 16);
	pb_mem(&p, b6, 16);
	pb_u16(&p, 9999);
	pb_u16(&p, 53);
	pb_u8(&p, 4);
	pb_mem(&p, "eth0", 4);
	pb_u8(&p, 17);
	pb_u32(&p, 0); pb_u32(&p, 7);
	pb_u32(&p, 0); pb_u32(&p, 700);
	pb_u8(&p, 255);		/* long form: 300 octets */
	pb_u16(&p, 300);
	for (unsigned i = 0; i < 300; i++)
		pb_u8(&p, 0xee);
	pb_u32(&p, 0); pb_u32(&p, 0);	/* start, ms: see below */
	size_t start_at = p.n - 8;
	/* end: NTP 1700000002.5 */
	pb_u32(&p, (uint32_t)(1700000002u + 2208988800u));
	pb_u32(&p, 0x80000000u);
	set_end(&p, s, 1);
	uint64_t ms = 1700000001250ull;
	for (unsigned i = 0; i < 8; i++)
		p.b[start_at + i] = (uint8_t)(ms >> (56 - 8 * i));
	s = set_begin(&p, 401);
	pb_mem(&p, (uint8_t[]){192, 0, 2, 9, 192, 0, 2, 10}, 8);
	pb_u32(&p, 77);
	set_end(&p, s, 1);
	ipfix_end(&p);
	feed(&p);
	CHECK_EQ(F.stats.templates, 2);
	CHECK_EQ(F.stats.records_bad, 0);
	CHECK_EQ(F.stats.bad_datagram, 0);
	CHECK_EQ(ngot, 2);
	const struct dr_record *r = &got[0];
	CHECK_EQ(r->family, 6);
	CHECK(memcmp(r->src, a6, 16) == 0);
	CHECK(memcmp(r->dst, b6, 16) == 0);
	CHECK_EQ(r->sport, 0);	/* the enterprise field was not IE 7 */
	CHECK_EQ(r->dport, 53);
	CHECK_EQ(r->proto, 17);
	CHECK_EQ(r->packets, 7);
	CHECK_EQ(r->bytes, 700);
	CHECK_EQ(r->ts_sec, 1700000001);
	CHECK_EQ(r->ts_nsec, 250000000);
	CHECK_EQ(r->end_sec, 1700000002);
	CHECK_EQ(r->end_nsec, 500000000);
	/* no time at all: the export time */
	CHECK_EQ(got[1].family, 4);
	CHECK_EQ(got[1].in_if, 77);
	CHECK_EQ(got[1].ts_sec, 1700000000);
	CHECK_EQ(got[1].end_sec, 1700000000);
	dr_flow_fini(&F);
}

/* IPFIX withdrawal: one template (field count 0), then all of a set's
 * (template ID = set ID); data after it have no template. */
static void test_ipfix_withdrawal(void)
{
	struct pb p;
	start(0, 0);
	ipfix_header(&p, 1700000000, 0, 1);
	template_t4(&p, 2, 256);
	template_t4(&p, 2, 257);
	template_t4(&p, 2, 258);
	data_t4(&p, 257, 1);
	ipfix_end(&p);
	feed(&p);
	CHECK_EQ(F.stats.templates, 3);
	CHECK_EQ(ngot, 1);

	ipfix_header(&p, 1700000001, 1, 1);
	size_t s = set_begin(&p, 2);
	pb_u16(&p, 257);
	pb_u16(&p, 0);
	set_end(&p, s, 0);
	data_t4(&p, 257, 1);
	data_t4(&p, 256, 1);
	ipfix_end(&p);
	feed(&p);
	CHECK_EQ(F.stats.template_withdrawn, 1);
	CHECK_EQ(F.stats.no_template, 1);
	CHECK_EQ(ngot, 2);

	ipfix_header(&p, 1700000002, 2, 1);
	s = set_begin(&p, 2);
	pb_u16(&p, 2);
	pb_u16(&p, 0);
	set_end(&p, s, 0);
	data_t4(&p, 256, 1);
	data_t4(&p, 258, 1);
	ipfix_end(&p);
	feed(&p);
	CHECK_EQ(F.stats.template_withdrawn, 3);
	CHECK_EQ(F.stats.no_template, 3);
	CHECK_EQ(ngot, 2);
	dr_flow_fini(&F);
}

/* IPFIX options (set 3): samplingPacketInterval/Space give the rate
 * (interval + space) / interval; systemInitTimeMilliseconds places the
 * sysUpTime times. */
static void test_ipfix_options(void)
{
	struct pb p;
	start(0, 0);
	ipfix_header(&p, 1700000000, 0, 5);
	size_t s = set_begin(&p, 3);
	pb_u16(&p, 260);
	pb_u16(&p, 4);
	pb_u16(&p, 1);		/* scope: observationDomainId */
	pb_u16(&p, 149); pb_u16(&p, 4);
	pb_u16(&p, 305); pb_u16(&p, 4);
	pb_u16(&p, 306); pb_u16(&p, 4);
	pb_u16(&p, 160); pb_u16(&p, 8);
	set_end(&p, s, 1);
	template_t4(&p, 2, 256);
	s = set_begin(&p, 260);
	pb_u32(&p, 5);
	pb_u32(&p, 1);
	pb_u32(&p, 99);
	uint64_t init = 1699999000000ull;	/* uptime 0 at 1699999000.000 */
	pb_u32(&p, (uint32_t)(init >> 32));
	pb_u32(&p, (uint32_t)init);
	set_end(&p, s, 1);
	data_t4(&p, 256, 1);
	ipfix_end(&p);
	feed(&p);
	CHECK_EQ(F.stats.options_templates, 1);
	CHECK_EQ(F.stats.options_records, 1);
	CHECK_EQ(ngot, 1);
	CHECK_EQ(got[0].sampling, 100);
	CHECK_EQ(got[0].packets, 500);
	CHECK_EQ(got[0].bytes, 50000);
	CHECK_EQ(got[0].ts_sec, 1699999001);
	CHECK_EQ(got[0].end_sec, 1699999003);

	/* another domain knows no init time: the flow ends at export */
	ipfix_header(&p, 1700000000, 0, 6);
	template_t4(&p, 2, 256);
	data_t4(&p, 256, 1);
	ipfix_end(&p);
	feed(&p);
	CHECK_EQ(ngot, 2);
	CHECK_EQ(got[1].end_sec, 1700000000);
	CHECK_EQ(got[1].ts_sec, 1700000000 - 2);
	CHECK_EQ(got[1].sampling, 1);
	dr_flow_fini(&F);
}

/* A template not sent again within its lifetime (export time) expires; a
 * full table gives up the template refreshed longest ago. */
static void test_lifetime_and_eviction(void)
{
	struct pb p;
	start(2, 60);
	ipfix_header(&p, 1700000000, 0, 1);
	template_t4(&p, 2, 256);
	template_t4(&p, 2, 257);
	ipfix_end(&p);
	feed(&p);
	ipfix_header(&p, 1700000030, 0, 1);
	template_t4(&p, 2, 256);	/* refreshed: 257 is now the oldest */
	template_t4(&p, 2, 258);	/* the table is full: 257 goes */
	data_t4(&p, 257, 1);
	data_t4(&p, 256, 1);
	data_t4(&p, 258, 1);
	ipfix_end(&p);
	feed(&p);
	CHECK_EQ(F.stats.template_evicted, 1);
	CHECK_EQ(F.stats.no_template, 1);
	CHECK_EQ(ngot, 2);
	ipfix_header(&p, 1700000080, 2, 1);	/* 256 sent 50 s ago: alive */
	data_t4(&p, 256, 1);
	ipfix_end(&p);
	feed(&p);
	CHECK_EQ(ngot, 3);
	CHECK_EQ(F.stats.template_expired, 0);
	ipfix_header(&p, 1700000091, 3, 1);	/* 61 s: expired */
	data_t4(&p, 256, 1);
	ipfix_end(&p);
	feed(&p);
	CHECK_EQ(ngot, 3);
	CHECK_EQ(F.stats.template_expired, 1);
	CHECK_EQ(F.stats.no_template, 2);
	/* the memory: what the parameter declares per entry */
	struct dr_flow_config cfg;
	size_t mem[2];
	for (unsigned k = 0; k < 2; k++) {
		struct dr_flow_decoder g;
		dr_flow_config_defaults(&cfg);
		cfg.templates = k ? 8192 : 1024;
		CHECK_EQ(dr_flow_init(&g, &cfg, NULL, sink, NULL), 0);
		mem[k] = dr_flow_mem(&g);
		dr_flow_fini(&g);
	}
	double per = (double)(mem[1] - mem[0]) / (8192 - 1024);
	double declared = (double)dr_flow_params[DR_FLOW_TEMPLATES].entry_octets;
	CHECK(per <= declared);
	CHECK(per >= declared / 2);
	dr_flow_fini(&F);
}

/* Damage: cut headers, set lengths below 4 or past the end, templates
 * that are too long or cut, records cut in a variable-length field,
 * records without addresses, and fragments. */
static void test_damage(void)
{
	struct pb p;
	start(0, 0);
	v9_header(&p, 1, 1700000000, 0, 0);
	p.n = 19;	/* header cut short */
	feed(&p);
	CHECK_EQ(F.stats.bad_datagram, 1);
	ipfix_header(&p, 1700000000, 0, 0);
	pb_set16(&p, 2, 12);	/* length below the header */
	feed(&p);
	CHECK_EQ(F.stats.bad_datagram, 2);

	/* a set of length 2 */
	v9_header(&p, 1, 1700000000, 1, 0);
	template_t4(&p, 0, 256);
	pb_u16(&p, 256);
	pb_u16(&p, 2);
	pb_u32(&p, 0);
	feed(&p);
	CHECK_EQ(F.stats.bad_datagram, 3);
	CHECK_EQ(F.stats.templates, 1);
	/* a data set longer than the datagram: the records there are read */
	v9_header(&p, 2, 1700000000, 2, 0);
	data_t4(&p, 256, 2);
	pb_set16(&p, 22, 4 + 34 * 4);
	feed(&p);
	CHECK_EQ(F.stats.bad_datagram, 4);
	CHECK_EQ(ngot, 2);
	/* zero padding after the last flowset is not damage */
	v9_header(&p, 3, 1700000000, 3, 0);
	data_t4(&p, 256, 1);
	for (unsigned i = 0; i < 700; i++)
		pb_u8(&p, 0);
	feed(&p);
	CHECK_EQ(F.stats.bad_datagram, 4);
	CHECK_EQ(ngot, 3);

	/* a template of 129 fields, one cut short, one with ID below 256 */
	ipfix_header(&p, 1700000000, 0, 0);
	size_t s = set_begin(&p, 2);
	pb_u16(&p, 500);
	pb_u16(&p, DR_NETFLOW_FIELDS + 1);
	for (unsigned i = 0; i < DR_NETFLOW_FIELDS + 1; i++) {
		pb_u16(&p, 1);
		pb_u16(&p, 4);
	}
	pb_u16(&p, 100);
	pb_u16(&p, 1);
	pb_u16(&p, 8);
	pb_u16(&p, 4);
	set_end(&p, s, 0);
	s = set_begin(&p, 2);
	pb_u16(&p, 501);
	pb_u16(&p, 3);
	pb_u16(&p, 8);
	pb_u16(&p, 4);
	set_end(&p, s, 0);
	ipfix_end(&p);
	feed(&p);
	CHECK_EQ(F.stats.template_bad, 3);
	CHECK_EQ(F.stats.templates, 1);

	/* a variable-length field past its set; a record with no address */
	ipfix_header(&p, 1700000000, 0, 0);
	s = set_begin(&p, 2);
	pb_u16(&p, 502);
	pb_u16(&p, 2);
	pb_u16(&p, 4); pb_u16(&p, 1);
	pb_u16(&p, 82); pb_u16(&p, 65535);
	pb_u16(&p, 503);
	pb_u16(&p, 2);
	pb_u16(&p, 8); pb_u16(&p, 4);
	pb_u16(&p, 88); pb_u16(&p, 2);
	set_end(&p, s, 0);
	s = set_begin(&p, 502);
	pb_u8(&p, 6);
	pb_u8(&p, 0);		/* empty name: a record without address */
	pb_u8(&p, 17);
	pb_u8(&p, 50);		/* 50 octets claimed, 2 there */
	pb_u16(&p, 0);
	set_end(&p, s, 0);
	s = set_begin(&p, 503);
	pb_mem(&p, (uint8_t[]){10, 1, 1, 1}, 4);
	pb_u16(&p, 185);	/* fragment offset 185 (1480 octets) */
	set_end(&p, s, 0);
	ipfix_end(&p);
	feed(&p);
	CHECK_EQ(F.stats.records_other, 1);
	CHECK_EQ(F.stats.records_bad, 1);
	CHECK_EQ(ngot, 4);
	CHECK_EQ(got[3].fragmented, 1);
	CHECK_EQ(got[3].dst[0], 0);
	/* reserved set IDs are skipped; a v9 template with no fields is bad */
	v9_header(&p, 4, 1700000000, 4, 0);
	s = set_begin(&p, 77);
	pb_u32(&p, 1);
	set_end(&p, s, 0);
	s = set_begin(&p, 0);
	pb_u16(&p, 600);
	pb_u16(&p, 0);
	set_end(&p, s, 0);
	feed(&p);
	CHECK_EQ(F.stats.template_bad, 4);
	CHECK_EQ(F.stats.bad_datagram, 4);
	dr_flow_fini(&F);
}

/* The flow captures of ../shared/data, read in place: pcaps through the
 * packet decoder (every UDP port a flow port), raw datagrams (.dat) one
 * message at a time. */

struct flow_file {
	const char *path;	/* under ../shared/data */
	unsigned records;	/* flow records decoded */
	unsigned no_template;	/* data sets before their template */
	const char *first;	/* read before it, into the same decoder (its
				 * templates), its records not counted */
};

static const struct flow_file flow_files[] = {
#include "netflow_expect.h"
};

static struct dr_flow_stats shared_stats;

static unsigned read_pcap(const char *path)
{
	static uint8_t ports[8192], flow_ports[8192];
	struct flowcap run;
	memset(flow_ports, 0xff, sizeof(flow_ports));
	ngot = 0;
	if (flowcap_read(path, ports, flow_ports, sink, NULL, &run) < 0)
		return 0;
	shared_stats = run.flow;
	return ngot;
}

/* Raw export messages back to back: an IPFIX message says its length; a
 * NetFlow v9 datagram ends where the next header (version 9, not a
 * flowset ID) begins, or at the end. */
static void feed_raw(const char *path)
{
	static uint8_t buf[1 << 20];
	FILE *fp = fopen(path, "rb");
	CHECK(fp != NULL);
	if (!fp)
		return;
	size_t n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	for (size_t at = 0; at + 4 <= n;) {
		size_t len = n - at;
		unsigned version = dr_get16(buf + at);
		if (version == 10 && dr_get16(buf + at + 2) >= 16 && (size_t)dr_get16(buf + at + 2) < len) {
			len = dr_get16(buf + at + 2);
		} else if (version == 9) {
			size_t q = at + 20;
			while (q + 4 <= n && dr_get16(buf + q) != 9 && dr_get16(buf + q + 2) >= 4)
				q += dr_get16(buf + q + 2);
			if (q < n)
				len = q - at;
		}
		struct dr_flow_origin o = {.addr = EXPORTER_A, .port = 2055, .ts_sec = 0};
		dr_flow_datagram(&F, &o, buf + at, len);
		at += len;
	}
}

static unsigned read_raw(const char *path, const char *first)
{
	start(0, 0);
	if (first) {
		feed_raw(first);
		memset(&F.stats, 0, sizeof(F.stats));
		ngot = 0;
	}
	feed_raw(path);
	shared_stats = F.stats;
	dr_flow_fini(&F);
	return ngot;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void test_shared_captures(void)
{
	const char *shared = getenv("DR_SHARED");
	char path[4096];
	if (!shared) {
		printf("SKIP DR_SHARED is not set: the shared flow captures were not read\n");
		return;
	}
	snprintf(path, sizeof(path), "%s/data", shared);
	if (access(path, R_OK) != 0) {
		printf("SKIP %s is absent: the shared flow captures were not read\n", path);
		return;
	}
	unsigned files = 0, total = 0;
	for (size_t i = 0; i < sizeof(flow_files) / sizeof(flow_files[0]); i++) {
		const struct flow_file *ff = &flow_files[i];
		snprintf(path, sizeof(path), "%s/data/%s", shared, ff->path);
		int pcap = has_suffix(path, ".pcap") || has_suffix(path, ".pcapng");
		char first[4096];
		if (ff->first)
			snprintf(first, sizeof(first), "%s/data/%s", shared, ff->first);
		unsigned n = pcap ? read_pcap(path) : read_raw(path, ff->first ? first : NULL);
		if (getenv("DR_NETFLOW_LIST"))	/* the table's lines, for a new capture */
			printf("\t{\"%s\", %u, %llu%s%s%s},\n", ff->path, n,
			       (unsigned long long)shared_stats.no_template, ff->first ? ", \"" : ", NULL",
			       ff->first ? ff->first : "", ff->first ? "\"" : "");
		if (n != ff->records || shared_stats.no_template != ff->no_template)
			fprintf(stderr, "  %s: %u records (expected %u), %llu sets before their "
				"template (expected %u)\n", ff->path, n, ff->records,
				(unsigned long long)shared_stats.no_template, ff->no_template);
		CHECK_EQ(n, ff->records);
		CHECK_EQ(shared_stats.no_template, ff->no_template);
		files++;
		total += n;
	}
	printf("read %u flow captures of ../shared/data: %u flow records\n", files, total);

	/* a first record of each protocol, field by field as tshark shows
	 * it: NetFlow v9 times from sysUptime (export 1502190458, uptime
	 * 33.259 s, first and last at 6.504 s) */
	snprintf(path, sizeof(path), "%s/data/graylog-plugin-netflow/nprobe-netflow9-3.pcap", shared);
	CHECK(read_pcap(path) > 0);
	const struct dr_record *r = &got[0];
	CHECK(memcmp(r->src, (uint8_t[]){172, 17, 0, 2}, 4) == 0);
	CHECK(memcmp(r->dst, (uint8_t[]){192, 168, 65, 1}, 4) == 0);
	CHECK_EQ(r->sport, 49666);
	CHECK_EQ(r->dport, 53);
	CHECK_EQ(r->proto, 17);
	CHECK_EQ(r->packets, 2);
	CHECK_EQ(r->bytes, 114);
	CHECK_EQ(r->ts_sec, 1502190431);
	CHECK_EQ(r->ts_nsec, 245000000);
	CHECK_EQ(r->end_sec, 1502190431);
	/* IPFIX, IPv4 and IPv6 fields in one template, ms times, the
	 * physical ingress interface, and options data sampling 1 packet in
	 * 1 + 999 */
	snprintf(path, sizeof(path), "%s/data/akvorado/netflow__testdata__physicalinterfaces.pcap",
		 shared);
	CHECK(read_pcap(path) > 0);
	CHECK_EQ(r->family, 4);
	CHECK(memcmp(r->src, (uint8_t[]){147, 53, 240, 75}, 4) == 0);
	CHECK(memcmp(r->dst, (uint8_t[]){212, 82, 101, 24}, 4) == 0);
	CHECK_EQ(r->sport, 55629);
	CHECK_EQ(r->dport, 993);
	CHECK_EQ(r->proto, 6);
	CHECK_EQ(r->sampling, 1000);
	CHECK_EQ(r->packets, 3000);
	CHECK_EQ(r->bytes, 4506000);
	CHECK_EQ(r->in_if, 1342177291);
	CHECK_EQ(r->out_if, 0);
	CHECK_EQ(r->ts_sec, 1737739081);
	CHECK_EQ(r->ts_nsec, 621000000);
}

int main(void)
{
	RUN(test_v9_template_data);
	RUN(test_v9_data_before_template);
	RUN(test_v9_sampling);
	RUN(test_v9_restart);
	RUN(test_sequence_gaps);
	RUN(test_ipfix_fields);
	RUN(test_ipfix_withdrawal);
	RUN(test_ipfix_options);
	RUN(test_lifetime_and_eviction);
	RUN(test_damage);
	RUN(test_shared_captures);
	TEST_MAIN_END();
}
