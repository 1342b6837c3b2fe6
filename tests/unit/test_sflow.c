/* sFlow v5 decoder tests: hand-built datagrams (agents, compact and
 * expanded samples, sampled DNS headers, fragments, counters, unknown
 * formats, damage, sequence loss) and the sFlow files of ../shared/data. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "sflow_build.h"

#include "decode/flow.h"
#include "decode/packet.h"
#include "input/pcapfile.h"
#include "flowcap.h"

#define MAX_SEEN 64

struct seen_record {
	struct dr_record r;		/* payload not kept */
	char qname[DR_NAME_TEXT_MAX];
};

struct seen {
	unsigned n;
	struct seen_record a[MAX_SEEN];
};

static struct seen SEEN;

static void sink(void *ctx, const struct dr_record *r)
{
	struct seen *s = ctx;
	if (s->n == MAX_SEEN)
		return;
	struct seen_record *k = &s->a[s->n++];
	memcpy(&k->r, r, sizeof(*r));
	k->r.payload = NULL;
	k->qname[0] = 0;
	if (r->kind == DR_KIND_DNS && r->dns.has_question)
		dr_name_to_text(r->dns.qname, r->dns.qname_len, k->qname);
}

static uint8_t PORTS[8192];
static const uint8_t SENDER[DR_AKEY] = {4, 192, 0, 2, 99};
static const uint8_t AGENT4[4] = {10, 0, 0, 1};
static const uint8_t AGENT6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 7};
static const uint8_t CLIENT[4] = {198, 51, 100, 10};
static const uint8_t SERVER[4] = {203, 0, 113, 53};

static void setup(struct dr_flow_decoder *f)
{
	struct dr_flow_config cfg;
	dr_flow_config_defaults(&cfg);
	dr_port_set(PORTS, 53);
	memset(&SEEN, 0, sizeof(SEEN));
	CHECK_EQ(dr_flow_init(f, &cfg, PORTS, sink, &SEEN), 0);
}

/* With DR_SFLOW_SEEDS=DIR, every datagram the tests build is also
 * written to DIR: the fuzz target's seeds (fuzz/corpus/sflow). */
static void write_seed(const struct pb *p)
{
	static unsigned n;
	const char *dir = getenv("DR_SFLOW_SEEDS");
	char path[4096];
	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/built-%03u", dir, n++);
	FILE *fp = fopen(path, "wb");
	if (fp) {
		fwrite(p->b, 1, p->n, fp);
		fclose(fp);
	}
}

static void feed_origin(struct dr_flow_decoder *f, const uint8_t *b, size_t n, int64_t sec)
{
	struct dr_flow_origin o = {
		.addr = SENDER, .port = 50000, .ts_sec = sec, .ts_nsec = 500000000u,
		.frame = 7, .file = 0,
	};
	dr_flow_datagram(f, &o, b, n);
}

static void feed_at(struct dr_flow_decoder *f, const struct pb *p, int64_t sec)
{
	write_seed(p);
	feed_origin(f, p->b, p->n, sec);
}

static void feed(struct dr_flow_decoder *f, const struct pb *p)
{
	feed_at(f, p, 1700000000);
}

static const struct sf_sample SAMPLE = {
	.seq = 100, .source_type = 0, .source_index = 3, .rate = 512, .pool = 51200,
	.drops = 0, .in_format = 0, .in_value = 3, .out_format = 0, .out_value = 7,
	.nrecords = 1,
};

/* One compact flow sample whose raw header is an Ethernet frame of a DNS
 * query from CLIENT to SERVER. Returns the query's IP length. */
static size_t dns_query_datagram(struct pb *p, uint32_t seq, const char *name, unsigned qtype)
{
	struct pb frame = {.n = 0};
	uint8_t q[300];
	size_t qn = pb_dns_query(q, 0x1234, name, qtype);
	sf_eth_udp4(&frame, CLIENT, SERVER, 40000, 53, q, qn);
	p->n = 0;
	sf_datagram(p, 0, AGENT4, 0, seq, 100000 + seq, 1);
	size_t at = sf_open(p, 1);
	sf_flow_fields(p, 0, &SAMPLE);
	/* frame length counts the FCS, which the agent stripped */
	sf_raw_header(p, 1, (uint32_t)frame.n + 4, 4, frame.b, (uint32_t)frame.n);
	sf_close(p, at);
	return frame.n - 14;
}

static void test_dns_query_ipv4_agent(void)
{
	struct dr_flow_decoder f;
	struct pb p;
	setup(&f);
	size_t ip_len = dns_query_datagram(&p, 1, "www.example.com", 28);
	feed(&f, &p);
	CHECK_EQ(f.stats.sflow, 1);
	CHECK_EQ(f.stats.sflow_flow_samples, 1);
	CHECK_EQ(f.stats.sflow_headers, 1);
	CHECK_EQ(f.stats.bad_datagram, 0);
	CHECK_EQ(SEEN.n, 1);
	const struct dr_record *r = &SEEN.a[0].r;
	CHECK_EQ(r->kind, DR_KIND_DNS);
	CHECK_STR(SEEN.a[0].qname, "www.example.com");
	CHECK_EQ(r->dns.qtype, 28);
	CHECK_EQ(r->dns.malformed, DR_MAL_NONE);
	CHECK_EQ(r->sampling, 512);
	CHECK_EQ(r->packets, 512);
	CHECK_EQ(r->ip_len, ip_len);
	CHECK_EQ(r->bytes, ip_len * 512);
	CHECK_EQ(r->wire_len, ip_len + 14);	/* the frame less its FCS */
	CHECK_EQ(dr_record_messages(r), 512);
	CHECK_EQ(r->family, 4);
	CHECK(memcmp(r->src, CLIENT, 4) == 0);
	CHECK(memcmp(r->dst, SERVER, 4) == 0);
	CHECK_EQ(r->sport, 40000);
	CHECK_EQ(r->dport, 53);
	CHECK_EQ(r->in_if, 3);
	CHECK_EQ(r->out_if, 7);
	CHECK_EQ(r->ts_sec, 1700000000);
	CHECK_EQ(r->ts_nsec, 500000000u);
	CHECK_EQ(r->end_sec, 1700000000);
	CHECK_EQ(r->frame, 7);
	/* the agent named in the datagram, not the UDP sender */
	const uint8_t agent_key[DR_AKEY] = {4, 10, 0, 0, 1};
	CHECK(memcmp(r->exporter, agent_key, DR_AKEY) == 0);
	dr_flow_fini(&f);
}

/* A DNS response of about 1,200 octets: one TXT answer. */
static size_t big_response(uint8_t *out)
{
	size_t n = pb_dns_query(out, 0x4321, "big.example.org", 16);
	out[2] = 0x81;
	out[3] = 0x80;
	out[7] = 1;		/* ANCOUNT */
	uint8_t *p = out + n;
	*p++ = 0xc0; *p++ = 12;	/* the question's name */
	*p++ = 0; *p++ = 16; *p++ = 0; *p++ = 1;
	*p++ = 0; *p++ = 0; *p++ = 0x0e; *p++ = 0x10;
	unsigned rdlen = 5 * 240;
	*p++ = (uint8_t)(rdlen >> 8); *p++ = (uint8_t)rdlen;
	for (int i = 0; i < 5; i++) {
		*p++ = 239;
		memset(p, 'a' + i, 239);
		p += 239;
	}
	return (size_t)(p - out);
}

static void test_expanded_ipv6_agent_truncated_response(void)
{
	struct dr_flow_decoder f;
	struct pb p = {.n = 0}, frame = {.n = 0};
	uint8_t resp[1400];
	setup(&f);
	size_t rn = big_response(resp);
	sf_eth_udp4(&frame, SERVER, CLIENT, 53, 40000, resp, rn);
	sf_datagram(&p, 1, AGENT6, 2, 1, 5000, 1);
	size_t at = sf_open(&p, 3);
	struct sf_sample s = SAMPLE;
	s.source_type = 2;
	s.source_index = 0x1234567;	/* wider than a compact index */
	s.rate = 2048;
	s.in_value = 0x7fffffff;	/* an expanded ifIndex may use 32 bits */
	s.out_format = 2;		/* several interfaces: none named */
	s.out_value = 3;
	sf_flow_fields(&p, 1, &s);
	sf_raw_header(&p, 1, (uint32_t)frame.n + 4, 4, frame.b, 128);	/* cut at 128 */
	sf_close(&p, at);
	feed(&f, &p);
	CHECK_EQ(f.stats.sflow_flow_samples, 1);
	CHECK_EQ(f.stats.bad_datagram, 0);
	CHECK_EQ(f.stats.records_bad, 0);
	CHECK_EQ(SEEN.n, 1);
	const struct dr_record *r = &SEEN.a[0].r;
	CHECK_EQ(r->kind, DR_KIND_DNS);
	CHECK_EQ(r->dns.malformed, DR_MAL_NONE);	/* cut by the sampler */
	CHECK_EQ(dr_dns_qr(&r->dns), 1);
	CHECK_EQ(r->dns.ancount, 1);
	CHECK_EQ(r->dns.qtype, 16);
	CHECK_STR(SEEN.a[0].qname, "big.example.org");
	CHECK_EQ(r->payload_len, rn);		/* the message's length */
	CHECK_EQ(r->payload_caplen, 128 - 14 - 20 - 8);	/* what was sampled */
	CHECK_EQ(r->ip_len, rn + 28);		/* from the IP header */
	CHECK_EQ(r->bytes, (rn + 28) * 2048);
	CHECK_EQ(r->packets, 2048);
	CHECK_EQ(r->in_if, 0x7fffffff);
	CHECK_EQ(r->out_if, 0);
	uint8_t agent_key[DR_AKEY] = {6};
	memcpy(agent_key + 1, AGENT6, 16);
	CHECK(memcmp(r->exporter, agent_key, DR_AKEY) == 0);
	dr_flow_fini(&f);
}

static void test_later_fragment(void)
{
	struct dr_flow_decoder f;
	struct pb p = {.n = 0}, frame = {.n = 0};
	uint8_t body[600];
	setup(&f);
	memset(body, 0x5a, sizeof(body));
	pb_eth(&frame, 0x0800);
	size_t ip = pb_ipv4(&frame, SERVER, CLIENT, 17, 99, 185, 64);	/* offset 1480 */
	pb_mem(&frame, body, sizeof(body));
	pb_ipv4_done(&frame, ip);
	sf_datagram(&p, 0, AGENT4, 0, 1, 1000, 1);
	size_t at = sf_open(&p, 1);
	sf_flow_fields(&p, 0, &SAMPLE);
	sf_raw_header(&p, 1, (uint32_t)frame.n + 4, 4, frame.b, 128);
	sf_close(&p, at);
	feed(&f, &p);
	CHECK_EQ(SEEN.n, 1);
	const struct dr_record *r = &SEEN.a[0].r;
	CHECK_EQ(r->kind, DR_KIND_FLOW);
	CHECK_EQ(r->fragmented, 1);
	CHECK_EQ(r->sport, 0);
	CHECK_EQ(r->dport, 0);
	CHECK_EQ(r->proto, 17);
	CHECK_EQ(r->sampling, 512);
	CHECK_EQ(r->packets, 512);
	CHECK_EQ(r->bytes, (uint64_t)(20 + sizeof(body)) * 512);
	CHECK_EQ(r->in_if, 3);
	CHECK(memcmp(r->src, SERVER, 4) == 0);
	CHECK_EQ(f.stats.records, 1);
	dr_flow_fini(&f);
}

/* Counter samples, other formats and enterprises, IPv4/IPv6 data records,
 * and a sample with both a raw header and an IPv4 data record. */
static void test_sample_kinds(void)
{
	struct dr_flow_decoder f;
	struct pb p = {.n = 0}, frame = {.n = 0};
	uint8_t q[300];
	setup(&f);
	sf_datagram(&p, 0, AGENT4, 0, 1, 1000, 7);
	size_t at = sf_open(&p, 2);		/* counter sample */
	pb_u32(&p, 1); pb_u32(&p, 3); pb_u32(&p, 0);
	sf_close(&p, at);
	at = sf_open(&p, 4);			/* expanded counter sample */
	pb_u32(&p, 1); pb_u32(&p, 0); pb_u32(&p, 3); pb_u32(&p, 0);
	sf_close(&p, at);
	at = sf_open(&p, 4413u << 12 | 1);	/* another enterprise's */
	pb_u32(&p, 0xdeadbeef);
	sf_close(&p, at);
	at = sf_open(&p, 5);			/* a discarded-packet event */
	pb_u32(&p, 1);
	sf_close(&p, at);

	/* IPv4 data, after an extended switch record */
	struct sf_sample s = SAMPLE;
	s.nrecords = 2;
	s.rate = 100;
	at = sf_open(&p, 1);
	sf_flow_fields(&p, 0, &s);
	size_t ext = sf_open(&p, 1001);
	pb_u32(&p, 10); pb_u32(&p, 0); pb_u32(&p, 20); pb_u32(&p, 0);
	sf_close(&p, ext);
	sf_ip_data(&p, 0, 1500, 17, SERVER, CLIENT, 53, 40000);
	sf_close(&p, at);

	/* IPv6 data */
	s.seq++;
	s.nrecords = 1;
	at = sf_open(&p, 1);
	sf_flow_fields(&p, 0, &s);
	sf_ip_data(&p, 1, 90, 17, AGENT6, AGENT6, 1234, 53);
	sf_close(&p, at);

	/* a raw header and the same packet's IPv4 data: one record */
	s.seq++;
	s.nrecords = 2;
	size_t qn = pb_dns_query(q, 7, "once.example", 1);
	sf_eth_udp4(&frame, CLIENT, SERVER, 40001, 53, q, qn);
	at = sf_open(&p, 1);
	sf_flow_fields(&p, 0, &s);
	sf_ip_data(&p, 0, (uint32_t)(frame.n - 14), 17, CLIENT, SERVER, 40001, 53);
	sf_raw_header(&p, 1, (uint32_t)frame.n + 4, 4, frame.b, (uint32_t)frame.n);
	sf_close(&p, at);
	feed(&f, &p);

	CHECK_EQ(f.stats.sflow_counter_samples, 2);
	CHECK_EQ(f.stats.sflow_other_samples, 2);
	CHECK_EQ(f.stats.sflow_flow_samples, 3);
	CHECK_EQ(f.stats.sflow_headers, 1);
	CHECK_EQ(f.stats.bad_datagram, 0);
	CHECK_EQ(SEEN.n, 3);
	const struct dr_record *r = &SEEN.a[0].r;
	CHECK_EQ(r->kind, DR_KIND_FLOW);
	CHECK_EQ(r->family, 4);
	CHECK_EQ(r->proto, 17);
	CHECK_EQ(r->sport, 53);
	CHECK_EQ(r->dport, 40000);
	CHECK_EQ(r->packets, 100);
	CHECK_EQ(r->bytes, 150000);
	CHECK_EQ(r->sampling, 100);
	CHECK(memcmp(r->src, SERVER, 4) == 0);
	r = &SEEN.a[1].r;
	CHECK_EQ(r->kind, DR_KIND_FLOW);
	CHECK_EQ(r->family, 6);
	CHECK_EQ(r->dport, 53);
	CHECK_EQ(r->bytes, 9000);
	CHECK(memcmp(r->dst, AGENT6, 16) == 0);
	r = &SEEN.a[2].r;
	CHECK_EQ(r->kind, DR_KIND_DNS);
	CHECK_STR(SEEN.a[2].qname, "once.example");
	CHECK_EQ(f.stats.records, 2);	/* the two flow records */

	/* a header protocol we do not read (MPLS): the IPv4 data stands */
	p.n = 0;
	s.seq++;
	sf_datagram(&p, 0, AGENT4, 0, 2, 2000, 1);
	at = sf_open(&p, 1);
	sf_flow_fields(&p, 0, &s);
	sf_raw_header(&p, 13, 200, 4, frame.b, 64);
	sf_ip_data(&p, 0, 196, 6, CLIENT, SERVER, 40002, 53);
	sf_close(&p, at);
	feed(&f, &p);
	CHECK_EQ(f.stats.records_other, 1);
	CHECK_EQ(SEEN.n, 4);
	CHECK_EQ(SEEN.a[3].r.kind, DR_KIND_FLOW);
	CHECK_EQ(SEEN.a[3].r.proto, 6);
	CHECK_EQ(SEEN.a[3].r.bytes, 19600);
	dr_flow_fini(&f);
}

static void test_damage(void)
{
	struct dr_flow_decoder f;
	struct pb p, good;
	setup(&f);

	/* more samples claimed than sent: the first still counts */
	dns_query_datagram(&p, 1, "a.example", 1);
	pb_set32(&p, 24, 3);
	feed(&f, &p);
	CHECK_EQ(f.stats.bad_datagram, 1);
	CHECK_EQ(SEEN.n, 1);

	/* a sample longer than the datagram */
	dns_query_datagram(&p, 2, "a.example", 1);
	pb_set32(&p, 32, 5000);
	feed(&f, &p);
	CHECK_EQ(f.stats.bad_datagram, 2);
	CHECK_EQ(SEEN.n, 1);

	/* a flow record longer than its sample */
	dns_query_datagram(&p, 3, "a.example", 1);
	pb_set32(&p, 36 + 32 + 4, 4000);
	feed(&f, &p);
	CHECK_EQ(f.stats.records_bad, 1);
	CHECK_EQ(f.stats.bad_datagram, 3);
	CHECK_EQ(SEEN.n, 1);

	/* a header longer than its record */
	dns_query_datagram(&p, 4, "a.example", 1);
	pb_set32(&p, 36 + 32 + 8 + 12, 4000);
	feed(&f, &p);
	CHECK_EQ(f.stats.records_bad, 2);
	CHECK_EQ(f.stats.bad_datagram, 3);	/* the record alone was damaged */
	CHECK_EQ(SEEN.n, 1);

	/* an agent address of no known type */
	dns_query_datagram(&p, 5, "a.example", 1);
	pb_set32(&p, 4, 7);
	feed(&f, &p);
	CHECK_EQ(f.stats.bad_datagram, 4);
	CHECK_EQ(SEEN.n, 1);

	/* every prefix of a good datagram: counted, never past its end */
	dns_query_datagram(&good, 6, "prefix.example", 1);
	uint64_t bad_before = f.stats.bad_datagram;
	for (size_t n = 4; n < good.n; n++) {
		uint8_t *copy = malloc(n);
		memcpy(copy, good.b, n);
		struct dr_flow_origin o = {.addr = SENDER, .ts_sec = 1700000000};
		dr_flow_datagram(&f, &o, copy, n);
		free(copy);
	}
	CHECK_EQ(f.stats.bad_datagram - bad_before, good.n - 4);
	CHECK_EQ(SEEN.n, 1);	/* a cut header is never decoded */
	dr_flow_fini(&f);
}

/* A datagram of one compact flow sample (IPv4 data, rate given) from
 * agent AGENT4 / sub_agent. */
static void seq_datagram(struct pb *p, uint32_t sub_agent, uint32_t seq, uint32_t uptime,
			 uint32_t sample_seq, uint32_t rate, uint32_t pool, uint32_t drops)
{
	struct sf_sample s = SAMPLE;
	s.seq = sample_seq;
	s.rate = rate;
	s.pool = pool;
	s.drops = drops;
	p->n = 0;
	sf_datagram(p, 0, AGENT4, sub_agent, seq, uptime, 1);
	size_t at = sf_open(p, 1);
	sf_flow_fields(p, 0, &s);
	sf_ip_data(p, 0, 100, 17, CLIENT, SERVER, 1000, 53);
	sf_close(p, at);
}

static void test_sequences_and_drops(void)
{
	struct dr_flow_decoder f;
	struct pb p;
	setup(&f);
	seq_datagram(&p, 0, 10, 1010000, 100, 512, 1000, 5);
	feed(&f, &p);
	seq_datagram(&p, 0, 11, 1011000, 101, 512, 1512, 5);
	feed(&f, &p);
	CHECK_EQ(f.stats.seq_gaps, 0);
	CHECK_EQ(f.stats.sflow_pool_lost, 0);
	CHECK_EQ(f.stats.sflow_drops, 0);
	/* two datagrams and two samples lost, four packets dropped */
	seq_datagram(&p, 0, 14, 1014000, 104, 512, 3048, 9);
	feed(&f, &p);
	CHECK_EQ(f.stats.seq_gaps, 1);
	CHECK_EQ(f.stats.seq_lost_datagrams, 2);
	CHECK_EQ(f.stats.sflow_pool_lost, 2);
	CHECK_EQ(f.stats.sflow_drops, 4);
	CHECK_EQ(f.stats.seq_lost_records, 0);
	/* a late one: reordered, no restart, no new loss */
	seq_datagram(&p, 0, 13, 1013000, 103, 512, 2536, 8);
	feed(&f, &p);
	CHECK_EQ(f.stats.seq_reordered, 1);
	CHECK_EQ(f.stats.exporter_restarts, 0);
	CHECK_EQ(f.stats.sflow_pool_lost, 2);
	CHECK_EQ(f.stats.sflow_drops, 4);
	/* a sample without a rate: the effective one from the pool, 512 */
	seq_datagram(&p, 0, 15, 1015000, 105, 0, 3560, 9);
	feed(&f, &p);
	CHECK_EQ(SEEN.a[SEEN.n - 1].r.sampling, 512);
	CHECK_EQ(SEEN.a[SEEN.n - 1].r.packets, 512);
	CHECK_EQ(f.stats.unsampled, 0);
	/* another sub-agent has numbers of its own */
	seq_datagram(&p, 1, 500, 1015000, 7, 10, 70, 0);
	feed(&f, &p);
	CHECK_EQ(f.stats.seq_gaps, 1);
	CHECK_EQ(f.stats.exporter_restarts, 0);
	/* the agent restarts: uptime and sequence start again */
	seq_datagram(&p, 0, 1, 300, 1, 512, 512, 0);
	feed(&f, &p);
	CHECK_EQ(f.stats.exporter_restarts, 1);
	CHECK_EQ(f.stats.seq_gaps, 1);
	CHECK_EQ(f.stats.sflow_pool_lost, 2);
	seq_datagram(&p, 0, 2, 1300, 2, 512, 1024, 3);
	feed(&f, &p);
	CHECK_EQ(f.stats.seq_gaps, 1);
	CHECK_EQ(f.stats.sflow_drops, 7);
	/* uptime back although the sequence went on: a restart too */
	seq_datagram(&p, 0, 3, 100, 3, 512, 1536, 3);
	feed(&f, &p);
	CHECK_EQ(f.stats.exporter_restarts, 2);
	/* uptime wrapping past 2^32 ms, in sequence: not a restart */
	seq_datagram(&p, 0, 4, 0xfffff000u, 4, 512, 2048, 3);
	feed(&f, &p);
	seq_datagram(&p, 0, 5, 1000, 5, 512, 2560, 3);
	feed(&f, &p);
	CHECK_EQ(f.stats.exporter_restarts, 2);
	CHECK_EQ(f.stats.seq_gaps, 1);
	dr_flow_fini(&f);
}

/* The sFlow files of ../shared/data, read in place. */

struct expect {
	const char *file;
	unsigned flow, counter, other, records;	/* records: what we hand on */
	unsigned bad;				/* damaged datagrams */
};

/* Sample counts as the MANIFEST's summaries give them. */
static const struct expect DUMPS[] = {
	{"Cistern-sflow/counter_sample.dump", 0, 1, 0, 0, 0},
	{"Cistern-sflow/event_discarded_packet.dump", 0, 0, 1, 0, 0},
	{"Cistern-sflow/flow_sample.dump", 1, 0, 0, 0, 0},
	{"Cistern-sflow/flow_sample_3.dump", 3, 0, 0, 0, 0},
	{"Cistern-sflow/flow_samples_2.dump", 2, 0, 0, 0, 0},
	{"Cistern-sflow/host_sample.dump", 0, 1, 0, 0, 0},
};

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return -1;
	*buf = malloc(1 << 20);
	*len = fread(*buf, 1, 1 << 20, fp);
	fclose(fp);
	return 0;
}

static void test_shared_dumps(void)
{
	const char *shared = getenv("DR_SHARED");
	char path[4096];
	unsigned done = 0;
	for (size_t i = 0; i < sizeof(DUMPS) / sizeof(DUMPS[0]); i++) {
		const struct expect *e = &DUMPS[i];
		uint8_t *buf;
		size_t len;
		snprintf(path, sizeof(path), "%s/data/%s", shared ? shared : ".", e->file);
		if (read_file(path, &buf, &len) < 0) {
			printf("SKIP %s is absent\n", path);
			continue;
		}
		struct dr_flow_decoder f;
		setup(&f);
		feed_origin(&f, buf, len, 1700000000);
		if (f.stats.sflow_flow_samples != e->flow || f.stats.sflow_counter_samples != e->counter ||
		    f.stats.sflow_other_samples != e->other || f.stats.bad_datagram != e->bad)
			fprintf(stderr, "%s: %llu flow, %llu counter, %llu other, %llu bad\n", e->file,
				(unsigned long long)f.stats.sflow_flow_samples,
				(unsigned long long)f.stats.sflow_counter_samples,
				(unsigned long long)f.stats.sflow_other_samples,
				(unsigned long long)f.stats.bad_datagram);
		CHECK_EQ(f.stats.sflow, 1);
		CHECK_EQ(f.stats.sflow_flow_samples, e->flow);
		CHECK_EQ(f.stats.sflow_counter_samples, e->counter);
		CHECK_EQ(f.stats.sflow_other_samples, e->other);
		CHECK_EQ(f.stats.bad_datagram, e->bad);
		CHECK_EQ(f.stats.sflow_headers, e->flow);	/* every flow sample has one */
		dr_flow_fini(&f);
		free(buf);
		done++;
	}
	printf("read %u sFlow dumps of ../shared/data\n", done);
}

/* The sFlow captures of ../shared/data through the whole packet decoder
 * (UDP port 6343 to the flow decoder). Sample counts as the MANIFEST's
 * summaries give them; bad: datagrams counted damaged. */
struct expect_pcap {
	const char *file;
	unsigned datagrams, flow, counter, other, bad;
};

static const struct expect_pcap PCAPS[] = {
	{"akvorado/sflow__testdata__data-1140.pcap", 1, 5, 0, 0, 0},
	{"akvorado/sflow__testdata__data-discard-interface.pcap", 1, 1, 0, 0, 0},
	{"akvorado/sflow__testdata__data-encap-vxlan.pcap", 1, 1, 0, 0, 0},
	{"akvorado/sflow__testdata__data-icmpv4.pcap", 1, 1, 0, 0, 0},
	{"akvorado/sflow__testdata__data-icmpv6.pcap", 1, 1, 0, 0, 0},
	{"akvorado/sflow__testdata__data-local-interface.pcap", 1, 1, 0, 0, 0},
	{"akvorado/sflow__testdata__data-multiple-interfaces.pcap", 1, 1, 0, 0, 0},
	{"akvorado/sflow__testdata__data-qinq.pcap", 1, 1, 0, 0, 0},
	{"akvorado/sflow__testdata__data-sflow-ipv4-data.pcap", 1, 1, 0, 0, 0},
	{"akvorado/sflow__testdata__data-sflow-raw-ipv4.pcap", 1, 2, 0, 0, 0},
	{"nDPI/sflow.pcap", 9, 1, 8, 0, 0},
	{"tcpdump/sflow-print-v6.pcap", 25, 13, 48, 0, 0},
	{"tcpdump/sflow_expanded.pcap", 1, 1, 0, 0, 0},
	{"tcpdump/sflow_multiple_counter_30_pdus.pcap", 25, 0, 144, 0, 0},
	/* its UDP length says 16: 8 octets of sFlow, cut after the agent
	 * address type (tshark: malformed there too; the MANIFEST's summary
	 * and tcpdump read on past the UDP length) */
	{"tcpdump/sflow_print-segv.pcap", 1, 0, 0, 0, 1},
};

struct pcap_run {
	struct dr_decode_stats stats;
	struct dr_flow_stats flow;
	struct dr_flow_exporter source;	/* the first data source seen */
	unsigned records;
};

static void count_record(void *ctx, const struct dr_record *r)
{
	(void)r;
	(*(unsigned *)ctx)++;
}

static int run_pcap(const char *path, struct pcap_run *out)
{
	static uint8_t flow_ports[8192];
	struct flowcap run;
	memset(out, 0, sizeof(*out));
	dr_port_set(PORTS, 53);
	dr_port_set(flow_ports, 6343);
	if (flowcap_read(path, PORTS, flow_ports, count_record, &out->records, &run) < 0)
		return -1;
	out->stats = run.stats;
	out->flow = run.flow;
	out->source = run.source;
	return 0;
}

static void test_shared_pcaps(void)
{
	const char *shared = getenv("DR_SHARED");
	char path[4096];
	unsigned done = 0;
	for (size_t i = 0; i < sizeof(PCAPS) / sizeof(PCAPS[0]); i++) {
		const struct expect_pcap *e = &PCAPS[i];
		struct pcap_run run;
		snprintf(path, sizeof(path), "%s/data/%s", shared ? shared : ".", e->file);
		if (access(path, R_OK) != 0) {
			printf("SKIP %s is absent\n", path);
			continue;
		}
		CHECK_EQ(run_pcap(path, &run), 0);
		const struct dr_flow_stats *s = &run.flow;
		if (s->sflow != e->datagrams || s->sflow_flow_samples != e->flow ||
		    s->sflow_counter_samples != e->counter || s->sflow_other_samples != e->other ||
		    s->bad_datagram != e->bad)
			fprintf(stderr, "%s: %llu datagrams, %llu flow, %llu counter, %llu other, "
				"%llu bad\n", e->file, (unsigned long long)s->sflow,
				(unsigned long long)s->sflow_flow_samples,
				(unsigned long long)s->sflow_counter_samples,
				(unsigned long long)s->sflow_other_samples,
				(unsigned long long)s->bad_datagram);
		CHECK_EQ(s->sflow, e->datagrams);
		CHECK_EQ(s->sflow_flow_samples, e->flow);
		CHECK_EQ(s->sflow_counter_samples, e->counter);
		CHECK_EQ(s->sflow_other_samples, e->other);
		CHECK_EQ(s->bad_datagram, e->bad);
		done++;
	}
	printf("read %u sFlow captures of ../shared/data\n", done);
}

/* A few fields of tcpdump's sflow_expanded.pcap as `tshark -V` shows
 * them: agent 49.49.49.49, sub-agent 0, sequence 115694180, uptime
 * 3465002224 ms; one expanded flow sample, seq 2170480284, source 0:11001,
 * rate 1000, pool 1521799520, drops 0, input 29001, output 1285816721
 * (format 0); its raw header is TCP (port 22), no DNS record. */
static void test_tshark_fields(void)
{
	const char *shared = getenv("DR_SHARED");
	char path[4096];
	struct pcap_run run;
	snprintf(path, sizeof(path), "%s/data/tcpdump/sflow_expanded.pcap", shared ? shared : ".");
	if (access(path, R_OK) != 0) {
		printf("SKIP %s is absent\n", path);
		return;
	}
	CHECK_EQ(run_pcap(path, &run), 0);
	CHECK_EQ(run.records, 0);
	CHECK_EQ(run.flow.sflow_headers, 1);
	CHECK_EQ(run.source.domain, 11001);
	CHECK_EQ(run.source.pool, 1521799520u);
	CHECK_EQ(run.source.next_seq, 2170480285u);
	const uint8_t agent[DR_AKEY] = {4, 49, 49, 49, 49};
	CHECK(memcmp(run.source.addr, agent, DR_AKEY) == 0);
	CHECK_EQ(run.source.datagrams, 1);
	CHECK_EQ(run.flow.exporter_restarts, 0);
}

int main(void)
{
	RUN(test_dns_query_ipv4_agent);
	RUN(test_expanded_ipv6_agent_truncated_response);
	RUN(test_later_fragment);
	RUN(test_sample_kinds);
	RUN(test_damage);
	RUN(test_sequences_and_drops);
	RUN(test_shared_dumps);
	RUN(test_shared_pcaps);
	RUN(test_tshark_fields);
	TEST_MAIN_END();
}
