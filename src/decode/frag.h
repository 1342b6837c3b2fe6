/* IPv4 and IPv6 fragment reassembly with a fixed number of pending sets,
 * a cap on buffered bytes and a timeout taken from packet time. */
#ifndef DR_DECODE_FRAG_H
#define DR_DECODE_FRAG_H

#include <stddef.h>
#include <stdint.h>

#include "lib/settable.h"

#define DR_FRAG_WAYS 8		/* sets per hash bucket */
#define DR_FRAG_RANGES 16	/* disjoint byte ranges a set may hold */

struct dr_frag_config {
	unsigned sets;		/* pending sets, rounded up to DR_FRAG_WAYS */
	size_t mem_cap;		/* bytes of fragment data held at most */
	uint32_t timeout_ms;	/* a set older than this is dropped */
};

struct dr_frag_key {
	uint8_t family;		/* 4 or 6 */
	uint8_t proto;		/* IPv4 protocol; 0 for IPv6 */
	uint32_t id;
	uint8_t src[16], dst[16];
};

/* One pending datagram: a slot of the table (lib/settable.h), whose time
 * is the packet time of the first fragment seen and whose buffer holds the
 * datagram's payload at its offsets. */
struct dr_frag_set {
	struct dr_slot slot;
	struct dr_frag_key key;
	uint32_t total;		/* payload length once the last is seen */
	uint16_t pieces;	/* fragments accepted into it */
	uint8_t nranges;
	uint8_t ttl;		/* from the first fragment */
	uint8_t next_header;	/* protocol of the reassembled payload */
	struct { uint32_t start, end; } ranges[DR_FRAG_RANGES];
};

/* Outcomes of dr_frag_add beyond "held" (0) and "complete" (1). */
struct dr_frag_counts {
	uint64_t timeout, evicted, memory, overlap, bad;
};

struct dr_frag_table {
	struct dr_settable table;	/* of struct dr_frag_set */
	uint32_t timeout_ms;
	uint8_t *done;		/* last completed datagram */
	uint8_t *done_before;	/* the one before: a datagram reassembled from
				 * fragments carried inside the last one (a
				 * tunnel in a fragmented datagram) must not
				 * free it while it is being read */
	uint16_t done_pieces;	/* the fragments it was made of */
	struct dr_frag_counts counts;
};

/* One fragment: payload bytes at byte offset `offset` of the datagram. */
struct dr_frag_in {
	const struct dr_frag_key *key;
	int64_t now_ms;
	uint32_t offset;
	const uint8_t *data;
	uint32_t len;
	int more;		/* more fragments follow */
	uint8_t ttl;
	uint8_t next_header;	/* IPv6: header after the fragment header */
};

int dr_frag_init(struct dr_frag_table *t, const struct dr_frag_config *cfg);

/* Adds a fragment. Returns 1 when it completes a datagram: *out and *out_len
 * then give the reassembled payload (valid until the next call), *ttl the
 * first fragment's TTL and *next_header the payload's protocol. Returns 0
 * when the fragment is held or dropped (see counts). */
int dr_frag_add(struct dr_frag_table *t, const struct dr_frag_in *in,
		const uint8_t **out, uint32_t *out_len, uint8_t *ttl,
		uint8_t *next_header);

/* Number of sets still pending; used at end of input. 0 for a table that
 * was never set up. */
unsigned dr_frag_pending(const struct dr_frag_table *t);

/* Bytes the table may hold at most: its sets and the buffer cap. */
size_t dr_frag_mem_budget(const struct dr_frag_table *t);

void dr_frag_fini(struct dr_frag_table *t);

#endif
