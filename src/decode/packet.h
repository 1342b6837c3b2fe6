/* Packet decoder: link layer, IPv4/IPv6 (extension headers, tunnels,
 * fragment reassembly), UDP and TCP (stream reassembly), then DNS. Calls
 * the consumer once for every DNS message found. */
#ifndef DR_DECODE_PACKET_H
#define DR_DECODE_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "decode/record.h"
#include "decode/frag.h"
#include "decode/notes.h"
#include "decode/tcp.h"
#include "lib/param.h"

/* Link types, as pcap_datalink() reports them. */
enum dr_link {
	DR_LINK_NULL = 0,
	DR_LINK_ETHERNET = 1,
	DR_LINK_PPP = 9,
	DR_LINK_FDDI = 10,
	DR_LINK_RAW = 12,
	DR_LINK_RAW_OPENBSD = 14,
	DR_LINK_PPP_SERIAL = 50,
	DR_LINK_RAW_LINKTYPE = 101,
	DR_LINK_C_HDLC = 104,
	DR_LINK_LOOP = 108,
	DR_LINK_LINUX_SLL = 113,
	DR_LINK_IPV4 = 228,
	DR_LINK_IPV6 = 229,
	DR_LINK_LINUX_SLL2 = 276,
	/* Not a link type: the packet is a flow export datagram received on
	 * a socket (its UDP payload), sent by `peer`. */
	DR_LINK_EXPORT = 0x10000,
};

/* Counters of what the decoder saw and what it dropped, and why:
 * X(name, is a loss or damage the report should mention, description). */
#define DR_DECODE_COUNTERS(X) \
	X(frames,            0, "frames read") \
	X(bytes,             0, "bytes on the wire") \
	X(link_unsupported,  1, "frames of an unsupported link type") \
	X(not_ip,            0, "frames carrying no IP") \
	X(ip_bad,            1, "IP headers damaged or cut short") \
	X(ip_short,          1, "IP datagrams cut short by the snap length") \
	X(ipv4,              0, "IPv4 datagrams") \
	X(ipv6,              0, "IPv6 datagrams") \
	X(tunnel,            0, "datagrams unwrapped from a tunnel") \
	X(udp,               0, "UDP datagrams") \
	X(tcp,               0, "TCP segments") \
	X(other_transport,   0, "datagrams of another transport") \
	X(other_port,        0, "UDP/TCP on ports that are not DNS") \
	X(frag_seen,         0, "IP fragments") \
	X(frag_reassembled,  0, "datagrams reassembled from fragments") \
	X(frag_timeout,      1, "fragment sets dropped: timed out") \
	X(frag_evicted,      1, "fragment sets dropped: table full") \
	X(frag_memory,       1, "fragments dropped: memory cap reached") \
	X(frag_overlap,      1, "fragments dropped: overlapping data") \
	X(frag_bad,          1, "fragments dropped: bad offset or length") \
	X(frag_unfinished,   1, "fragment sets incomplete at end of input") \
	X(tcp_messages,      0, "DNS messages reassembled from TCP") \
	X(tcp_gap,           1, "TCP streams resynchronised after a gap") \
	X(tcp_evicted,       1, "TCP streams dropped: table full") \
	X(tcp_memory,        1, "TCP data dropped: memory cap reached") \
	X(tcp_unfinished,    1, "TCP messages incomplete at end of stream") \
	X(dns_messages,      0, "DNS messages") \
	X(dns_malformed,     0, "DNS messages not well formed")

struct dr_decode_stats {
#define DR_COUNTER_FIELD(name, problem, text) uint64_t name;
	DR_DECODE_COUNTERS(DR_COUNTER_FIELD)
#undef DR_COUNTER_FIELD
};

/* One captured frame as an input hands it over; data is borrowed. */
struct dr_packet {
	const uint8_t *data;
	uint32_t caplen;
	uint32_t wirelen;
	int link;		/* enum dr_link */
	int64_t ts_sec;
	uint32_t ts_nsec;
	uint32_t file;
	uint64_t frame;
	uint8_t peer[DR_AKEY];	/* DR_LINK_EXPORT: the sender, an address key */
	uint16_t peer_port;
};

typedef void (*dr_message_fn)(void *ctx, const struct dr_record *rec);

/* A datagram the decoder does not read itself: a flow export at a flow
 * port, or a DR_LINK_EXPORT packet. carrier holds what is known of the
 * packet that brought it (family, source address, times, frame, file),
 * sport its UDP source port; data is borrowed for the call. */
typedef void (*dr_export_fn)(void *ctx, const struct dr_record *carrier, uint16_t sport,
			     const uint8_t *data, size_t len);

struct dr_decode_config {
	const uint8_t *dns_ports;	/* 8 KiB bitmap of ports that carry DNS */
	/* 8 KiB bitmap of UDP destination ports that carry flow exports, and
	 * who takes them (the flow decoder, decode/flow.h); NULL: none are */
	const uint8_t *flow_ports;
	dr_export_fn on_export;
	void *export_ctx;
	/* 1: the frames are sampled headers (sFlow), cut short on purpose:
	 * nothing is reassembled, a first fragment is read as it is, a later
	 * one becomes an aggregate record without ports, and a DNS message
	 * cut by the sampling is not malformed */
	uint8_t sampled;
	struct dr_frag_config frag;
	struct dr_tcp_config tcp;
};

/* The decoder's settings (as "decode.NAME"), validated like every other
 * (lib/param.h): the reassembly tables' sizes and time limits. */
enum {
	DR_DECODE_FRAG_SETS, DR_DECODE_FRAG_MEMORY, DR_DECODE_FRAG_TIMEOUT,
	DR_DECODE_TCP_STREAMS, DR_DECODE_TCP_MEMORY, DR_DECODE_TCP_IDLE,
	DR_DECODE_NPARAMS
};
extern const struct dr_param dr_decode_params[DR_DECODE_NPARAMS];

/* Sets cfg's reassembly sizes and limits from values, in the order of
 * dr_decode_params (already validated). */
void dr_decode_config_apply(struct dr_decode_config *cfg, const double *values);

struct dr_decoder {
	const uint8_t *dns_ports;
	const uint8_t *flow_ports;
	dr_export_fn on_export;
	void *export_ctx;
	uint8_t sampled;
	struct dr_frag_table frag;
	struct dr_tcp_table tcp;
	struct dr_decode_stats stats;
	struct dr_decode_notes notes;	/* ports and link types it could not use */
	dr_message_fn on_message;
	void *ctx;
	struct dr_record rec;	/* the record being filled */
};

/* Sets a port in a DNS port bitmap. */
static inline void dr_port_set(uint8_t *bitmap, uint16_t port)
{
	bitmap[port >> 3] |= (uint8_t)(1u << (port & 7));
}

static inline int dr_port_test(const uint8_t *bitmap, uint16_t port)
{
	return bitmap[port >> 3] >> (port & 7) & 1;
}

/* Sets up a decoder; its tables are sized here and never grow. Returns 0 or
 * DR_ENOMEM. */
int dr_decoder_init(struct dr_decoder *d, const struct dr_decode_config *cfg,
		    dr_message_fn on_message, void *ctx);

/* Decodes one frame; calls on_message for each DNS message it completes. */
void dr_decoder_packet(struct dr_decoder *d, const struct dr_packet *pkt);

/* Counts what is still pending as unfinished and frees the tables. */
void dr_decoder_fini(struct dr_decoder *d);

/* Bytes the decoder may hold at most (fragment and TCP buffers). */
size_t dr_decoder_mem_budget(const struct dr_decoder *d);

#endif
