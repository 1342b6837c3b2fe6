/* The flat, fixed-size record every input becomes: one per DNS message.
 * A record handed to a consumer is borrowed for that call only. */
#ifndef DR_CORE_RECORD_H
#define DR_CORE_RECORD_H

#include <stdint.h>

#include "decode/dns.h"

struct dr_record {
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
	const uint8_t *payload;	/* the DNS message, borrowed */
	uint32_t payload_len;
	struct dr_dns dns;
};

/* Seconds since the epoch as a double, for rates and spans. */
static inline double dr_record_time(const struct dr_record *r)
{
	return (double)r->ts_sec + r->ts_nsec / 1e9;
}

#endif
