/* What the decoder saw but could not use, kept so the report can say what
 * a capture holds when it holds no DNS: the busiest UDP/TCP ports of the
 * frames on no DNS port, and the link types it cannot decode. Fixed size. */
#ifndef DR_DECODE_NOTES_H
#define DR_DECODE_NOTES_H

#include <stdint.h>

#define DR_PORT_SETS 16		/* hash sets of the port histogram... */
#define DR_PORT_WAYS 4		/* ...of this many ports each */
#define DR_LINKS_NOTED 4	/* distinct unsupported link types kept */

/* One port of the histogram: packets that had it as source or
 * destination port. A port that took the slot of another counts from the
 * other's count (Space-Saving), so count is an upper bound, and exact
 * while no port was replaced in its set. */
struct dr_port_count {
	uint64_t count;
	uint16_t port;
	uint8_t proto;		/* 6 or 17; 0: the slot is free */
};

struct dr_decode_notes {
	struct dr_port_count ports[DR_PORT_SETS][DR_PORT_WAYS];
	uint64_t ports_replaced;	/* slots taken over from another port */
	struct {
		uint32_t link;
		uint64_t frames;
	} links[DR_LINKS_NOTED];	/* in the order first seen */
	uint64_t links_other;		/* frames of types beyond those */
};

/* Counts one packet of proto on a port that is not a DNS port. */
void dr_notes_port(struct dr_decode_notes *n, uint8_t proto, uint16_t port);

/* Counts a frame of a link type the decoder does not read. */
void dr_notes_link(struct dr_decode_notes *n, uint32_t link);

/* Writes up to max ports of the histogram into out, most packets first
 * (ties: lower protocol, then lower port). Returns how many. */
unsigned dr_notes_top_ports(const struct dr_decode_notes *n, struct dr_port_count *out,
			    unsigned max);

#endif
