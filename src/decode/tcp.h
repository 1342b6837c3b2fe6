/* DNS over TCP: per-direction stream reassembly of 2-octet length-prefixed
 * messages (RFC 1035 4.2.2, RFC 7766), in a fixed-size table with a cap on
 * buffered bytes. */
#ifndef DR_DECODE_TCP_H
#define DR_DECODE_TCP_H

#include <stddef.h>
#include <stdint.h>

#include "lib/settable.h"

#define DR_TCP_WAYS 8

struct dr_tcp_config {
	unsigned streams;	/* tracked directions, rounded up to DR_TCP_WAYS */
	size_t mem_cap;		/* bytes of partial messages held at most */
	uint32_t idle_ms;	/* a stream idle this long may be reused */
};

struct dr_tcp_key {
	uint8_t family;
	uint16_t sport, dport;
	uint8_t src[16], dst[16];
};

/* One direction of a connection: a slot of the table (lib/settable.h),
 * whose time is the packet time of its last segment and whose buffer holds
 * a partial message, length prefix included. */
struct dr_tcp_stream {
	struct dr_slot slot;
	struct dr_tcp_key key;
	uint8_t synced;		/* next_seq is known */
	uint32_t next_seq;
	uint32_t have;		/* bytes buffered */
};

struct dr_tcp_counts {
	uint64_t gap, evicted, memory, unfinished;
};

struct dr_tcp_table {
	struct dr_settable table;	/* of struct dr_tcp_stream */
	uint32_t idle_ms;
	struct dr_tcp_counts counts;
};

struct dr_tcp_segment {
	const struct dr_tcp_key *key;
	int64_t now_ms;
	uint32_t seq;
	uint8_t syn, fin, rst;
	const uint8_t *data;
	uint32_t len;
};

/* Called for every complete message; msg is valid for the call only. */
typedef void (*dr_tcp_message_fn)(void *ctx, const uint8_t *msg, uint32_t len);

int dr_tcp_init(struct dr_tcp_table *t, const struct dr_tcp_config *cfg);

/* Feeds one segment; calls fn for each message it completes. */
void dr_tcp_add(struct dr_tcp_table *t, const struct dr_tcp_segment *seg,
		dr_tcp_message_fn fn, void *ctx);

/* Counts partial messages still buffered as unfinished and frees all. */
void dr_tcp_fini(struct dr_tcp_table *t);

/* Bytes the table may hold at most: its streams and the buffer cap. */
size_t dr_tcp_mem_budget(const struct dr_tcp_table *t);

#endif
