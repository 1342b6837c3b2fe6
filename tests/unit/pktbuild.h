/* Builds frames for the decoder tests: link headers, IPv4/IPv6 (with
 * fragments and extension headers), UDP, TCP, and small DNS queries. */
#ifndef DR_TEST_PKTBUILD_H
#define DR_TEST_PKTBUILD_H

#include <stdint.h>
#include <string.h>

#include "decode/dns.h"

struct pb {
	uint8_t b[70000];
	size_t n;
};

static inline void pb_u8(struct pb *p, unsigned v) { p->b[p->n++] = (uint8_t)v; }
static inline void pb_u16(struct pb *p, unsigned v) { pb_u8(p, v >> 8); pb_u8(p, v & 0xff); }
static inline void pb_u32(struct pb *p, uint32_t v) { pb_u16(p, v >> 16); pb_u16(p, v & 0xffff); }
static inline void pb_mem(struct pb *p, const void *m, size_t n) { if (n) memcpy(p->b + p->n, m, n); p->n += n; }
static inline void pb_set16(struct pb *p, size_t at, unsigned v) { p->b[at] = (uint8_t)(v >> 8); p->b[at + 1] = (uint8_t)v; }

/* A DNS query for name/type, id given. Returns its length. */
static inline size_t pb_dns_query(uint8_t *out, unsigned id, const char *name, unsigned type)
{
	uint8_t wire[DR_NAME_MAX];
	int n = dr_name_from_text(name, wire);
	uint8_t *p = out;
	*p++ = (uint8_t)(id >> 8); *p++ = (uint8_t)id;
	*p++ = 0x01; *p++ = 0x00;
	*p++ = 0; *p++ = 1; *p++ = 0; *p++ = 0; *p++ = 0; *p++ = 0; *p++ = 0; *p++ = 0;
	memcpy(p, wire, (size_t)n);
	p += n;
	*p++ = (uint8_t)(type >> 8); *p++ = (uint8_t)type;
	*p++ = 0; *p++ = 1;
	return (size_t)(p - out);
}

static inline void pb_eth(struct pb *p, unsigned ethertype)
{
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
	pb_mem(p, macs, 12);
	pb_u16(p, ethertype);
}

/* IPv4 header; total length is patched by pb_ipv4_done. Returns its offset. */
static inline size_t pb_ipv4(struct pb *p, const uint8_t src[4], const uint8_t dst[4],
			     unsigned proto, unsigned id, unsigned frag_field, unsigned ttl)
{
	size_t at = p->n;
	pb_u8(p, 0x45); pb_u8(p, 0); pb_u16(p, 0); pb_u16(p, id); pb_u16(p, frag_field);
	pb_u8(p, ttl); pb_u8(p, proto); pb_u16(p, 0);
	pb_mem(p, src, 4);
	pb_mem(p, dst, 4);
	return at;
}

static inline void pb_ipv4_done(struct pb *p, size_t at)
{
	pb_set16(p, at + 2, (unsigned)(p->n - at));
}

static inline size_t pb_ipv6(struct pb *p, const uint8_t src[16], const uint8_t dst[16],
			     unsigned next, unsigned hops)
{
	size_t at = p->n;
	pb_u32(p, 0x60000000); pb_u16(p, 0); pb_u8(p, next); pb_u8(p, hops);
	pb_mem(p, src, 16);
	pb_mem(p, dst, 16);
	return at;
}

static inline void pb_ipv6_done(struct pb *p, size_t at)
{
	pb_set16(p, at + 4, (unsigned)(p->n - at - 40));
}

static inline void pb_udp(struct pb *p, unsigned sport, unsigned dport, const uint8_t *pl, size_t n)
{
	pb_u16(p, sport); pb_u16(p, dport); pb_u16(p, (unsigned)(8 + n)); pb_u16(p, 0);
	pb_mem(p, pl, n);
}

static inline void pb_tcp(struct pb *p, unsigned sport, unsigned dport, uint32_t seq,
			  unsigned flags, const uint8_t *pl, size_t n)
{
	pb_u16(p, sport); pb_u16(p, dport); pb_u32(p, seq); pb_u32(p, 0);
	pb_u8(p, 5 << 4); pb_u8(p, flags); pb_u16(p, 65535); pb_u16(p, 0); pb_u16(p, 0);
	pb_mem(p, pl, n);
}

#endif
