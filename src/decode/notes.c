/* The decoder's notes on what it could not use (decode/notes.h). */
#include "decode/notes.h"

#include <string.h>

void dr_notes_port(struct dr_decode_notes *n, uint8_t proto, uint16_t port)
{
	/* Fibonacci hashing of (proto, port) to a set. */
	uint32_t key = (uint32_t)proto << 16 | port;
	struct dr_port_count *set = n->ports[(key * 2654435761u) >> 28];
	_Static_assert(DR_PORT_SETS == 16, "the shift above picks one of 16 sets");
	unsigned least = 0;
	for (unsigned w = 0; w < DR_PORT_WAYS; w++) {
		if (set[w].proto == proto && set[w].port == port) {
			set[w].count++;
			return;
		}
		if (set[w].count < set[least].count)
			least = w;
	}
	if (set[least].proto)
		n->ports_replaced++;
	set[least].proto = proto;
	set[least].port = port;
	set[least].count++;
}

void dr_notes_link(struct dr_decode_notes *n, uint32_t link)
{
	for (unsigned i = 0; i < DR_LINKS_NOTED; i++) {
		if (n->links[i].frames && n->links[i].link != link)
			continue;
		n->links[i].link = link;
		n->links[i].frames++;
		return;
	}
	n->links_other++;
}

static int before(const struct dr_port_count *a, const struct dr_port_count *b)
{
	if (a->count != b->count)
		return a->count > b->count;
	if (a->proto != b->proto)
		return a->proto < b->proto;
	return a->port < b->port;
}

unsigned dr_notes_top_ports(const struct dr_decode_notes *n, struct dr_port_count *out,
			    unsigned max)
{
	unsigned used = 0;
	for (unsigned s = 0; s < DR_PORT_SETS; s++) {
		for (unsigned w = 0; w < DR_PORT_WAYS; w++) {
			const struct dr_port_count *c = &n->ports[s][w];
			if (!c->proto)
				continue;
			/* insertion into the sorted head */
			unsigned pos = used < max ? used : max;
			while (pos > 0 && before(c, &out[pos - 1]))
				pos--;
			if (pos >= max)
				continue;
			unsigned last = used < max ? used : max - 1;
			memmove(&out[pos + 1], &out[pos], (last - pos) * sizeof(*out));
			out[pos] = *c;
			if (used < max)
				used++;
		}
	}
	return used;
}
