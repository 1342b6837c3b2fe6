/* sFlow v5 datagrams into records: a flow sample's sampled packet header
 * goes through a packet decoder of its own (sampled mode) and becomes a
 * DNS record (or a later fragment's flow record) weighted by the sampling
 * rate; IPv4/IPv6 data records become flow records; counter samples are
 * counted. Loss is tracked per agent and per data source.
 *
 * sFlow v5 (sflow.org/sflow_version_5.txt) is XDR: every number a 32-bit
 * big-endian word, opaque data padded to a multiple of 4 octets.
 *
 *   datagram        0  version (5)
 *                   4  agent address type: 1 IPv4, 2 IPv6, 0 unknown (no
 *                      address follows)
 *                   8  agent address, 4 or 16 octets; then, from +0:
 *                  +0  sub-agent ID          +4  sequence number
 *                  +8  uptime, ms           +12  number of samples
 *                 +16  samples
 *   sample          0  enterprise (20 bits) << 12 | format (12 bits)
 *                   4  length of what follows (the sample's own fields)
 *   flow sample     0  sequence number (the source's flow samples)
 *   (0:1)           4  source ID: type (8 bits) << 24 | index (24 bits)
 *                   8  sampling rate       12  sample pool     16  drops
 *                  20  input: format (bits 30-31) << 30 | value
 *                  24  output, the same    28  number of records
 *                  32  flow records
 *   expanded flow   0  sequence number      4  source ID type   8  index
 *   sample (0:3)   12  sampling rate       16  sample pool     20  drops
 *                  24  input format        28  input value
 *                  32  output format       36  output value
 *                  40  number of records   44  flow records
 *   counter sample (0:2) and expanded counter sample (0:4): counted only
 *   flow record     0  enterprise << 12 | format
 *                   4  length of what follows
 *   raw packet      0  header protocol: 1 Ethernet, 4 FDDI, 7 PPP, 11 IPv4,
 *   header (0:1)       12 IPv6, 14 POS (PPP framing); others not read
 *                   4  frame length: on the wire, FCS included
 *                   8  stripped: octets removed before the header was
 *                      taken (at least the FCS on Ethernet)
 *                  12  header length       16  header, padded
 *   Ethernet (0:2)  0  length, 4 source MAC, 12 destination MAC, 20 type
 *                      (not used: the raw header says more)
 *   IPv4 (0:3)      0  IP length            4  protocol
 *                   8  source              12  destination
 *                  16  source port         20  destination port
 *                  24  TCP flags           28  ToS
 *   IPv6 (0:4)      0  IP length            4  protocol
 *                   8  source (16)         24  destination (16)
 *                  40  source port         44  destination port
 *                  48  TCP flags           52  priority
 *   interface format: 0 ifIndex (0x3fffffff: unknown), 1 discarded (value:
 *   the reason), 2 several interfaces (value: how many); only an ifIndex
 *   becomes in_if/out_if, anything else is 0 (unknown).
 *
 * A sample carries no time of its own: its records take the datagram's.
 * Extended records (1001 switch, 1002 router, ...) are skipped by length.
 */
#include <stdlib.h>
#include <string.h>

#include "decode/flow.h"
#include "decode/packet.h"
#include "lib/cursor.h"
#include "lib/errors.h"

enum { SAMPLE_FLOW = 1, SAMPLE_COUNTER = 2, SAMPLE_FLOW_EXPANDED = 3,
       SAMPLE_COUNTER_EXPANDED = 4 };
enum { RECORD_RAW_HEADER = 1, RECORD_IPV4 = 3, RECORD_IPV6 = 4 };
enum { HEADER_ETHERNET = 1, HEADER_FDDI = 4, HEADER_PPP = 7, HEADER_IPV4 = 11,
       HEADER_IPV6 = 12, HEADER_POS = 14 };

#define IF_UNKNOWN 0x3fffffffu
/* A datagram that comes this late (its uptime behind the latest one's)
 * is reordered; an uptime further back means the agent started again. */
#define LATE_MS 60000u
/* Sequence steps taken as samples lost rather than a source restarting
 * (dr_flow_sequence's bound). */
#define MAX_GAP 1000000u
#define MAX_LATE 64u

/* Port 53, for a flow decoder set up without a DNS port bitmap. */
static const uint8_t default_dns_ports[8192] = {[53 >> 3] = 1u << (53 & 7)};

struct sflow_state {
	struct dr_decoder dec;		/* first: f->inner points here */
	struct dr_flow_decoder *f;
	/* per exporter slot (the index of a data source's entry in f->exp):
	 * its drops counter when last seen; valid while the entry has_seq */
	uint32_t *drops;
	/* the sample whose header is being decoded */
	struct dr_flow_exporter *agent;
	uint32_t rate;			/* 0: none known */
	uint32_t in_if, out_if;
	uint32_t ip_max;		/* frame length less stripped octets */
};

static struct sflow_state *state_of(const struct dr_flow_decoder *f)
{
	return (struct sflow_state *)(void *)f->inner;
}

/* A record of the inner decoder, from one sampled header: it stands for
 * `rate` packets like it, at the datagram's time, seen by the agent. */
static void sampled_record(void *ctx, const struct dr_record *in)
{
	struct sflow_state *s = ctx;
	struct dr_flow_decoder *f = s->f;
	const struct dr_flow_origin *o = f->origin;
	struct dr_record *r = &f->rec;

	memcpy(r, in, offsetof(struct dr_record, dns.qname) + in->dns.qname_len);
	r->keys.ready = 0;
	r->ts_sec = r->end_sec = o->ts_sec;
	r->ts_nsec = r->end_nsec = o->ts_nsec;
	r->in_if = s->in_if;
	r->out_if = s->out_if;
	/* The IP length is the sampled IP header's own (exact however short
	 * the header was cut); it cannot exceed the frame that carried it. */
	if (s->ip_max && (r->ip_len > s->ip_max || !r->ip_len))
		r->ip_len = s->ip_max;
	s->agent->records++;
	if (in->kind != DR_KIND_DNS) {	/* a later IP fragment */
		r->packets = 1;
		r->bytes = r->ip_len;
		dr_flow_emit(f, s->agent, s->rate);
		return;
	}
	uint32_t rate = s->rate;
	if (!rate) {
		rate = f->cfg.sampling;
		f->stats.unsampled++;
	}
	r->sampling = rate;
	r->packets = (in->packets ? in->packets : 1) * (uint64_t)rate;
	r->bytes = (uint64_t)r->ip_len * rate;
	memcpy(r->exporter, s->agent->addr, DR_AKEY);
	r->frame = o->frame;
	r->file = o->file;
	f->on_record(f->ctx, r);
}

int dr_sflow_init(struct dr_flow_decoder *f)
{
	struct sflow_state *s = calloc(1, sizeof(*s));
	if (!s)
		return DR_ENOMEM;
	s->f = f;
	s->drops = calloc(f->cfg.exporters ? f->cfg.exporters : 1, sizeof(*s->drops));
	/* Sampled mode reassembles nothing: the tables are the smallest. */
	struct dr_decode_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.dns_ports = f->dns_ports ? f->dns_ports : default_dns_ports;
	cfg.sampled = 1;
	cfg.frag.sets = 16;
	cfg.frag.mem_cap = 1 << 16;
	cfg.frag.timeout_ms = 1000;
	cfg.tcp.streams = 16;
	cfg.tcp.mem_cap = 1 << 16;
	cfg.tcp.idle_ms = 1000;
	if (!s->drops || dr_decoder_init(&s->dec, &cfg, sampled_record, s) < 0) {
		free(s->drops);
		free(s);
		return DR_ENOMEM;
	}
	f->inner = &s->dec;
	return 0;
}

void dr_sflow_fini(struct dr_flow_decoder *f)
{
	struct sflow_state *s = state_of(f);
	if (!s)
		return;
	dr_decoder_fini(&s->dec);
	free(s->drops);
	free(s);
	f->inner = NULL;
}

size_t dr_sflow_mem(const struct dr_flow_decoder *f)
{
	const struct sflow_state *s = state_of(f);
	if (!s)
		return 0;
	return sizeof(*s) + (size_t)f->cfg.exporters * sizeof(*s->drops) +
	       dr_decoder_mem_budget(&s->dec);
}

/* The agent's datagram sequence and uptime: gaps are datagrams lost; an
 * uptime that went back is a restart, unless the datagram is merely
 * late (a little behind in both) or the 32-bit uptime wrapped. */
static void agent_sequence(struct dr_flow_decoder *f, struct dr_flow_exporter *x, uint32_t seq,
			   uint32_t uptime)
{
	int late = x->have_seq && seq != x->next_seq && x->next_seq - seq <= MAX_LATE;
	int restarted = 0;
	if (x->have_uptime && uptime < x->uptime_ms) {
		uint32_t back = x->uptime_ms - uptime;
		int wrapped = seq == x->next_seq && back > 0xc0000000u;
		if (!wrapped && (!late || back > LATE_MS)) {
			f->stats.exporter_restarts++;
			x->have_seq = 0;	/* new numbers: no gap against the old */
			restarted = 1;
		}
	}
	dr_flow_sequence(f, x, seq, 1, 1);
	if (!late || restarted) {
		x->uptime_ms = uptime;
		x->have_uptime = 1;
	}
}

/* A data source's flow sample sequence, sample pool and drops: sequence
 * gaps are samples lost on the way; the pool's growth over the samples
 * taken meanwhile is the effective rate (pmacct's), kept in src->sampling
 * for samples that give none; the drops counter's growth is packets the
 * agent could not sample. A source seen for the first time, or whose
 * numbers went back (it started again), sets the baselines only. */
static void source_sequence(struct dr_flow_decoder *f, struct dr_flow_exporter *src,
			    uint32_t seq, uint32_t pool, uint32_t drops)
{
	uint32_t *last_drops = &state_of(f)->drops[src - f->exp];
	if (src->have_seq) {
		uint32_t ahead = seq - src->next_seq;
		if (ahead <= MAX_GAP) {
			uint32_t taken = ahead + 1;
			uint32_t pooled = pool - (uint32_t)src->pool;
			src->lost += ahead;
			f->stats.sflow_pool_lost += ahead;
			if (pooled / taken)
				src->sampling = pooled / taken;
			uint32_t dropped = drops - *last_drops;
			if (dropped < 0x80000000u)	/* else the counter was reset */
				f->stats.sflow_drops += dropped;
		} else if (src->next_seq - seq <= MAX_LATE) {
			return;		/* late: its numbers are older than ours */
		}
	}
	src->have_seq = 1;
	src->next_seq = seq + 1;
	src->pool = pool;
	*last_drops = drops;
}

static uint32_t interface_of(uint32_t format, uint32_t value)
{
	return format == 0 && value != IF_UNKNOWN ? value : 0;
}

static int header_link(uint32_t proto)
{
	switch (proto) {
	case HEADER_ETHERNET:
		return DR_LINK_ETHERNET;
	case HEADER_FDDI:
		return DR_LINK_FDDI;
	case HEADER_PPP:
	case HEADER_POS:
		return DR_LINK_PPP;
	case HEADER_IPV4:
		return DR_LINK_IPV4;
	case HEADER_IPV6:
		return DR_LINK_IPV6;
	default:
		return -1;
	}
}

/* A raw packet header record (c over its fields): 1 when it was handed
 * to the inner decoder, 0 when its protocol is not one we read, -1 when
 * damaged. */
static int raw_header(struct dr_flow_decoder *f, struct dr_cursor *c)
{
	struct sflow_state *s = state_of(f);
	const struct dr_flow_origin *o = f->origin;
	uint32_t proto = dr_cur_u32(c);
	uint32_t frame_len = dr_cur_u32(c);
	uint32_t stripped = dr_cur_u32(c);
	uint32_t caplen = dr_cur_u32(c);
	if (dr_cur_err(c) || caplen > dr_cur_avail(c))
		return -1;
	int link = header_link(proto);
	if (link < 0)
		return 0;
	/* The frame as a capture would give it: without the FCS and whatever
	 * else the agent stripped, never shorter than the header taken. */
	uint32_t wire = frame_len > stripped ? frame_len - stripped : frame_len;
	if (wire < caplen)
		wire = caplen;
	struct dr_packet pkt = {
		.data = dr_cur_ptr(c), .caplen = caplen, .wirelen = wire, .link = link,
		.ts_sec = o->ts_sec, .ts_nsec = o->ts_nsec, .file = o->file, .frame = o->frame,
	};
	s->ip_max = wire;
	f->stats.sflow_headers++;
	dr_decoder_packet(&s->dec, &pkt);
	return 1;
}

/* An IPv4 or IPv6 data record (c over its fields) as a flow record of
 * one packet of its length. */
static void ip_data(struct dr_flow_decoder *f, struct dr_cursor *c, int v6)
{
	struct sflow_state *s = state_of(f);
	struct dr_record *r = &f->rec;
	size_t alen = v6 ? 16 : 4;

	dr_flow_rec_reset(f);
	uint32_t ip_len = dr_cur_u32(c);
	uint32_t proto = dr_cur_u32(c);
	dr_cur_copy(c, r->src, alen);
	dr_cur_copy(c, r->dst, alen);
	uint32_t sport = dr_cur_u32(c), dport = dr_cur_u32(c);
	dr_cur_skip(c, 8);		/* TCP flags, ToS or priority */
	if (dr_cur_err(c) || proto > 255 || sport > 0xffff || dport > 0xffff) {
		f->stats.records_bad++;
		return;
	}
	r->family = v6 ? 6 : 4;
	r->proto = (uint8_t)proto;
	r->sport = (uint16_t)sport;
	r->dport = (uint16_t)dport;
	r->packets = 1;
	r->bytes = ip_len;
	r->ts_sec = r->end_sec = f->origin->ts_sec;
	r->ts_nsec = r->end_nsec = f->origin->ts_nsec;
	r->in_if = s->in_if;
	r->out_if = s->out_if;
	s->agent->records++;
	dr_flow_emit(f, s->agent, s->rate);
}

/* A flow sample (c over its fields). 0, or -1 when it was cut short. */
static int flow_sample(struct dr_flow_decoder *f, struct dr_flow_exporter *agent,
		       uint32_t sub_agent, struct dr_cursor *c, int expanded)
{
	struct sflow_state *s = state_of(f);
	uint64_t source;
	uint32_t in_format, in_value, out_format, out_value;

	f->stats.sflow_flow_samples++;
	uint32_t seq = dr_cur_u32(c);
	if (expanded) {
		uint64_t type = dr_cur_u32(c);
		source = (type << 24) + dr_cur_u32(c);
	} else {
		source = dr_cur_u32(c);		/* type << 24 | index already */
	}
	uint32_t rate = dr_cur_u32(c);
	uint32_t pool = dr_cur_u32(c);
	uint32_t drops = dr_cur_u32(c);
	if (expanded) {
		in_format = dr_cur_u32(c);
		in_value = dr_cur_u32(c);
		out_format = dr_cur_u32(c);
		out_value = dr_cur_u32(c);
	} else {
		uint32_t in = dr_cur_u32(c), out = dr_cur_u32(c);
		in_format = in >> 30;
		in_value = in & 0x3fffffffu;
		out_format = out >> 30;
		out_value = out & 0x3fffffffu;
	}
	uint32_t nrecords = dr_cur_u32(c);
	if (dr_cur_err(c))
		return -1;

	struct dr_flow_exporter *src = dr_flow_exporter(f, agent->addr, DR_FLOW_SFLOW_SOURCE,
							(uint64_t)sub_agent << 32 ^ source,
							f->origin->ts_sec);
	src->datagrams++;
	source_sequence(f, src, seq, pool, drops);
	s->agent = agent;
	s->rate = rate ? rate : src->sampling;
	s->in_if = interface_of(in_format, in_value);
	s->out_if = interface_of(out_format, out_value);

	/* One sample is one packet: its first usable raw header stands for
	 * it, else its first IPv4/IPv6 data record, never both. */
	int header = 0;
	struct dr_cursor ip = {0};
	int ip_v6 = -1;
	for (uint32_t i = 0; i < nrecords; i++) {
		uint32_t format = dr_cur_u32(c);
		uint32_t len = dr_cur_u32(c);
		if (dr_cur_err(c) || len > dr_cur_avail(c)) {
			f->stats.records_bad++;
			return -1;
		}
		struct dr_cursor rec;
		dr_cur_init(&rec, dr_cur_ptr(c), len);
		dr_cur_skip(c, len);
		if (format >> 12)	/* another enterprise's */
			continue;
		switch (format) {
		case RECORD_RAW_HEADER:
			if (!header) {
				int rc = raw_header(f, &rec);
				if (rc < 0)
					f->stats.records_bad++;
				else if (rc == 0)
					f->stats.records_other++;
				header = rc > 0;
			}
			break;
		case RECORD_IPV4:
		case RECORD_IPV6:
			if (ip_v6 < 0) {
				ip = rec;
				ip_v6 = format == RECORD_IPV6;
			}
			break;
		default:		/* Ethernet data, extended records */
			break;
		}
	}
	if (!header && ip_v6 >= 0)
		ip_data(f, &ip, ip_v6);
	return 0;
}

void dr_sflow_datagram(struct dr_flow_decoder *f, const uint8_t *data, size_t len)
{
	struct dr_cursor c;
	uint8_t agent[DR_AKEY];

	f->stats.sflow++;
	memset(agent, 0, sizeof(agent));
	dr_cur_init(&c, data, len);
	dr_cur_skip(&c, 4);		/* version */
	uint32_t atype = dr_cur_u32(&c);
	if (atype == 1) {
		agent[0] = 4;
		dr_cur_copy(&c, agent + 1, 4);
	} else if (atype == 2) {
		agent[0] = 6;
		dr_cur_copy(&c, agent + 1, 16);
	} else if (atype == 0) {	/* unknown: the sender stands for it */
		memcpy(agent, f->origin->addr, DR_AKEY);
	} else {
		f->stats.bad_datagram++;
		return;
	}
	uint32_t sub_agent = dr_cur_u32(&c);
	uint32_t seq = dr_cur_u32(&c);
	uint32_t uptime = dr_cur_u32(&c);
	uint32_t nsamples = dr_cur_u32(&c);
	if (dr_cur_err(&c)) {
		f->stats.bad_datagram++;
		return;
	}
	struct dr_flow_exporter *x = dr_flow_exporter(f, agent, DR_FLOW_SFLOW, sub_agent,
						      f->origin->ts_sec);
	x->datagrams++;
	agent_sequence(f, x, seq, uptime);

	int damaged = 0;
	for (uint32_t i = 0; i < nsamples; i++) {
		uint32_t format = dr_cur_u32(&c);
		uint32_t slen = dr_cur_u32(&c);
		if (dr_cur_err(&c) || slen > dr_cur_avail(&c)) {
			damaged = 1;	/* more samples claimed than sent */
			break;
		}
		struct dr_cursor sample;
		dr_cur_init(&sample, dr_cur_ptr(&c), slen);
		dr_cur_skip(&c, slen);
		unsigned kind = format >> 12 ? 0 : format;
		switch (kind) {
		case SAMPLE_FLOW:
		case SAMPLE_FLOW_EXPANDED:
			if (flow_sample(f, x, sub_agent, &sample, kind == SAMPLE_FLOW_EXPANDED) < 0)
				damaged = 1;	/* the next sample is still in its place */
			break;
		case SAMPLE_COUNTER:
		case SAMPLE_COUNTER_EXPANDED:
			f->stats.sflow_counter_samples++;
			break;
		default:
			f->stats.sflow_other_samples++;
			break;
		}
	}
	if (damaged)
		f->stats.bad_datagram++;
}
