/* The hold for flow parts: a calendar of one-second buckets. A flow
 * record cut into per-second parts (detect/engine.c) is held until the
 * clock has passed its second, then handed on with every part of that
 * second, in arrival order: the detectors count per second, and a
 * second's parts need no order among themselves (a window keeps its
 * earliest and latest times whatever the order). Push and pop cost the
 * same whatever the number held, unlike the reorder buffer's heap, which
 * keeps the exact order DNS messages need. Sized at init, never grows. */
#ifndef DR_CORE_PARTQ_H
#define DR_CORE_PARTQ_H

#include <stddef.h>
#include <stdint.h>

#include "decode/record.h"

struct dr_partq {
	struct dr_record *rec;	/* cap slots */
	uint32_t *next;		/* per slot: the next of its bucket */
	uint32_t *head, *tail;	/* per bucket */
	uint32_t nbuckets;	/* a power of two, more than the seconds held */
	uint32_t free;		/* chain of free slots, through next */
	uint32_t n, cap;
	int64_t base;		/* no part held is of an earlier second */
	int64_t last;		/* nor of a later one (since it was last empty) */
};

/* Room for cap parts over `seconds` seconds. 0, or DR_ENOMEM. */
int dr_partq_init(struct dr_partq *q, uint32_t cap, uint32_t seconds);
void dr_partq_fini(struct dr_partq *q);

static inline int dr_partq_full(const struct dr_partq *q)
{
	return q->n == q->cap;
}

/* The second of the earliest part held, or INT64_MAX when none. */
int64_t dr_partq_first(struct dr_partq *q);

/* 1 when r's second is too far ahead of the earliest held for the
 * buckets: the earliest must leave first (dr_partq_pop). */
int dr_partq_too_far(struct dr_partq *q, const struct dr_record *r);

/* Holds a copy of r, an aggregate (no payload, no name); the hold must
 * not be full nor r too far. A part of a second before the earliest held
 * gets a bucket of its own when the buckets reach back to it, else joins
 * the earliest's. */
void dr_partq_push(struct dr_partq *q, const struct dr_record *r);

/* Takes a part of the earliest second out; valid until the next push.
 * NULL when empty. */
struct dr_record *dr_partq_pop(struct dr_partq *q);

size_t dr_partq_mem(const struct dr_partq *q);

#endif
