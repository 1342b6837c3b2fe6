/* A bounded reorder buffer: records that may come out of order by up to
 * the engine's lateness (several capture queues, flow exporters) are held
 * as copies and handed on in time order once the clock has passed them,
 * so each counts in its own second. Sized at init, never grows; when full,
 * the caller takes the earliest record out before adding one. */
#ifndef DR_CORE_REORDER_H
#define DR_CORE_REORDER_H

#include <stddef.h>
#include <stdint.h>

#include "decode/record.h"

struct dr_reorder {
	struct dr_record *rec;	/* cap slots */
	uint8_t *payload;	/* DR_PAYLOAD_KEPT octets per slot */
	/* slots, earliest first, each with its time (ns since the epoch) and
	 * arrival number (ties stay in arrival order): the sift compares
	 * these without touching the records */
	struct dr_reorder_key {
		int64_t t;
		uint32_t order;	/* compared modulo 2^32: fewer live slots */
		uint32_t slot;
	} *heap;
	uint32_t *spare;	/* free slots */
	uint32_t n, nspare, cap;
	uint64_t arrivals;
};

/* 0, or DR_ENOMEM. */
int dr_reorder_init(struct dr_reorder *q, uint32_t cap);
void dr_reorder_fini(struct dr_reorder *q);

static inline int dr_reorder_full(const struct dr_reorder *q)
{
	return q->n == q->cap;
}

/* Holds a copy of r (dr_record_copy); the buffer must not be full. */
void dr_reorder_push(struct dr_reorder *q, const struct dr_record *r);

/* The earliest record held, or NULL. */
static inline const struct dr_record *dr_reorder_peek(const struct dr_reorder *q)
{
	return q->n ? &q->rec[q->heap[0].slot] : NULL;
}

/* Takes the earliest record out and returns it; it stays valid until the
 * next push. NULL when empty. */
struct dr_record *dr_reorder_pop(struct dr_reorder *q);

size_t dr_reorder_mem(const struct dr_reorder *q);

#endif
