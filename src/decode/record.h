/* The flat, fixed-size record every input becomes. Records come in kinds
 * (dnsjit's typed objects): a DNS message from a packet, or an aggregate
 * that stands for `packets` packets and `bytes` octets between two times
 * (a flow record, an sFlow sample). Every counter weighs a record by what
 * it stands for. A record handed to a consumer is borrowed for that call
 * only. */
#ifndef DR_CORE_RECORD_H
#define DR_CORE_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode/dns.h"

#define DR_AKEY 17	/* an address as a key: family, then 4 or 16 octets */

/* An address as a table key, with its hash. */
struct dr_akey {
	uint8_t b[DR_AKEY];
	uint32_t len;
	uint64_t hash;
};

/* Keys derived from a record once, for every table that counts it (see
 * core/keys.h): hashing and the PSL look-up are done one time, not once
 * per consumer. Valid when `ready` is set. */
struct dr_keys {
	uint8_t ready;
	uint8_t qname_len;
	int16_t zone;		/* wire offset of the registered domain, -1: none */
	struct dr_akey src, dst;
	uint64_t qname_hash;	/* of the lower-cased name */
	uint64_t zone_hash;	/* of the zone, or of the whole name when none */
	/* Lower-cased wire form; last. Padded so that any suffix of it can be
	 * read in whole words (lib/hash.h). */
	uint8_t qname[DR_NAME_MAX + 1 + 8];
};

/* A flow's direction at the exporter's interface (IPFIX flowDirection). */
enum dr_direction {
	DR_DIR_UNKNOWN = 0,
	DR_DIR_INGRESS = 1,
	DR_DIR_EGRESS = 2,
};

/* Record kinds, as bits so that a consumer can declare the set it takes. */
enum dr_record_kind {
	DR_KIND_DNS = 1u << 0,	/* one DNS message (or junk at a DNS port) */
	DR_KIND_FLOW = 1u << 1,	/* an aggregate: packets and bytes over a span */
};

struct dr_record {
	uint8_t kind;		/* one of enum dr_record_kind */
	uint64_t frame;		/* 1-based index of the packet in its file */
	uint32_t file;		/* index of the input file, 0-based */
	int64_t ts_sec;
	uint32_t ts_nsec;
	uint8_t family;		/* 4 or 6 */
	uint8_t proto;		/* 17 (UDP) or 6 (TCP) */
	uint8_t ip_ttl;		/* TTL or hop limit (first fragment's) */
	uint8_t fragmented;	/* reassembled from IP fragments */
	uint16_t sport, dport;
	uint8_t src[16], dst[16];	/* IPv4 in the first 4 bytes, rest 0 */
	uint32_t wire_len;	/* frame length on the wire */
	uint32_t ip_len;	/* IP datagram length, reassembled if need be */
	/* What the record stands for on the wire, already scaled by its
	 * sampling rate: a DNS message is 1 packet (or the IP fragments it
	 * was reassembled from) of ip_len octets; an aggregate is many. */
	uint64_t packets;
	uint64_t bytes;
	int64_t end_sec;	/* the last packet it stands for; = ts for a message */
	uint32_t end_nsec;
	uint32_t sampling;	/* 1 in N packets were seen; 1: all */
	uint8_t exporter[DR_AKEY];	/* who reported it (family 0: the capture itself) */
	uint32_t in_if, out_if;	/* interfaces, 0 when unknown */
	uint8_t direction;	/* as the exporter saw it: enum dr_direction */
	const uint8_t *payload;	/* the DNS message, borrowed */
	uint32_t payload_len;	/* its length */
	uint32_t payload_caplen;	/* octets of it at payload: all of it from the
				 * decoder, the first DR_PAYLOAD_KEPT of a copy */
	struct dr_dns dns;	/* its qname last */
	struct dr_keys keys;	/* filled on demand by dr_keys_fill(); last */
};

/* Octets of a message's payload a copy keeps: consumers past the decoder
 * read the parsed fields, and only a sample of the payload's text. */
#define DR_PAYLOAD_KEPT 256

/* Octets dr_record_copy writes at payload_copy. */
static inline uint32_t dr_record_copy_len(const struct dr_record *r)
{
	return r->payload_caplen < DR_PAYLOAD_KEPT ? r->payload_caplen : DR_PAYLOAD_KEPT;
}

/* Copies src into dst for a consumer on another thread or later in time:
 * every field, but of the two query names only the octets in use, and the
 * first dr_record_copy_len() octets of the payload into payload_copy,
 * which dst->payload then points to (dst->payload_caplen says how many). */
static inline void dr_record_copy(struct dr_record *dst, const struct dr_record *src,
				  uint8_t *payload_copy)
{
	memcpy(dst, src, offsetof(struct dr_record, dns.qname) + src->dns.qname_len);
	if (src->keys.ready)
		memcpy(&dst->keys, &src->keys, offsetof(struct dr_keys, qname) + src->keys.qname_len);
	else
		dst->keys.ready = 0;
	uint32_t n = dr_record_copy_len(src);
	if (n)
		memcpy(payload_copy, src->payload, n);
	dst->payload = payload_copy;
	dst->payload_caplen = n;
}

/* How many messages a record stands for: one for a DNS message (however
 * many fragments carried it), or as many as its sampling rate for a
 * sampled one (sFlow); every packet for an aggregate. */
static inline uint64_t dr_record_messages(const struct dr_record *r)
{
	return r->kind == DR_KIND_DNS ? (r->sampling ? r->sampling : 1) : r->packets;
}

/* The octets of the messages it stands for: the DNS message's own (times
 * its sampling rate), or for an aggregate, which carries no payload, its
 * bytes. */
static inline uint64_t dr_record_msg_bytes(const struct dr_record *r)
{
	return r->kind == DR_KIND_DNS ? (uint64_t)r->payload_len * (r->sampling ? r->sampling : 1) : r->bytes;
}

/* Seconds since the epoch as a double, for rates and spans. */
static inline double dr_record_end_time(const struct dr_record *r)
{
	return (double)r->end_sec + r->end_nsec / 1e9;
}

/* Seconds since the epoch as a double, for rates and spans. */
static inline double dr_record_time(const struct dr_record *r)
{
	return (double)r->ts_sec + r->ts_nsec / 1e9;
}

#endif
