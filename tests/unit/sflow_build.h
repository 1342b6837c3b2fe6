/* Builds sFlow v5 datagrams for the tests and the fuzz seeds: a header,
 * flow and counter samples, raw header and IPv4/IPv6 data records, with
 * each length patched once its contents are in. */
#ifndef DR_TEST_SFLOW_BUILD_H
#define DR_TEST_SFLOW_BUILD_H

#include "pktbuild.h"

static inline void pb_set32(struct pb *p, size_t at, uint32_t v)
{
	pb_set16(p, at, v >> 16);
	pb_set16(p, at + 2, v & 0xffff);
}

/* The datagram header; agent is 4 octets (v6 0) or 16 (v6 1). */
static inline void sf_datagram(struct pb *p, int v6, const uint8_t *agent, uint32_t sub_agent,
			       uint32_t seq, uint32_t uptime, uint32_t nsamples)
{
	pb_u32(p, 5);
	pb_u32(p, v6 ? 2 : 1);
	pb_mem(p, agent, v6 ? 16 : 4);
	pb_u32(p, sub_agent);
	pb_u32(p, seq);
	pb_u32(p, uptime);
	pb_u32(p, nsamples);
}

/* Opens a sample or record of enterprise 0: its format, then a length
 * patched by sf_close. Returns where the length is. */
static inline size_t sf_open(struct pb *p, uint32_t format)
{
	pb_u32(p, format);
	size_t at = p->n;
	pb_u32(p, 0);
	return at;
}

static inline void sf_close(struct pb *p, size_t at)
{
	pb_set32(p, at, (uint32_t)(p->n - at - 4));
}

struct sf_sample {
	uint32_t seq, source_type, source_index, rate, pool, drops;
	uint32_t in_format, in_value, out_format, out_value, nrecords;
};

/* A flow sample's fields (compact: format 1, expanded: format 3), after
 * sf_open. */
static inline void sf_flow_fields(struct pb *p, int expanded, const struct sf_sample *s)
{
	pb_u32(p, s->seq);
	if (expanded) {
		pb_u32(p, s->source_type);
		pb_u32(p, s->source_index);
	} else {
		pb_u32(p, s->source_type << 24 | (s->source_index & 0xffffff));
	}
	pb_u32(p, s->rate);
	pb_u32(p, s->pool);
	pb_u32(p, s->drops);
	if (expanded) {
		pb_u32(p, s->in_format);
		pb_u32(p, s->in_value);
		pb_u32(p, s->out_format);
		pb_u32(p, s->out_value);
	} else {
		pb_u32(p, s->in_format << 30 | s->in_value);
		pb_u32(p, s->out_format << 30 | s->out_value);
	}
	pb_u32(p, s->nrecords);
}

/* A raw packet header record of hlen octets of hdr. */
static inline void sf_raw_header(struct pb *p, uint32_t proto, uint32_t frame_len,
				 uint32_t stripped, const uint8_t *hdr, uint32_t hlen)
{
	size_t at = sf_open(p, 1);
	pb_u32(p, proto);
	pb_u32(p, frame_len);
	pb_u32(p, stripped);
	pb_u32(p, hlen);
	pb_mem(p, hdr, hlen);
	while (p->n % 4)
		pb_u8(p, 0);
	sf_close(p, at);
}

/* An IPv4 (v6 0) or IPv6 data record. */
static inline void sf_ip_data(struct pb *p, int v6, uint32_t len, uint32_t proto,
			      const uint8_t *src, const uint8_t *dst, uint32_t sport, uint32_t dport)
{
	size_t at = sf_open(p, v6 ? 4 : 3);
	pb_u32(p, len);
	pb_u32(p, proto);
	pb_mem(p, src, v6 ? 16 : 4);
	pb_mem(p, dst, v6 ? 16 : 4);
	pb_u32(p, sport);
	pb_u32(p, dport);
	pb_u32(p, 0);
	pb_u32(p, 0);
	sf_close(p, at);
}

/* An Ethernet frame (no FCS) of an IPv4 UDP datagram carrying pl. */
static inline void sf_eth_udp4(struct pb *p, const uint8_t src[4], const uint8_t dst[4],
			       unsigned sport, unsigned dport, const uint8_t *pl, size_t n)
{
	pb_eth(p, 0x0800);
	size_t ip = pb_ipv4(p, src, dst, 17, 1, 0, 64);
	pb_udp(p, sport, dport, pl, n);
	pb_ipv4_done(p, ip);
}

#endif
