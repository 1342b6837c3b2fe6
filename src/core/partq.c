/* The hold for flow parts: one-second buckets of slots (core/partq.h). */
#include "core/partq.h"

#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"

#define NIL UINT32_MAX

int dr_partq_init(struct dr_partq *q, uint32_t cap, uint32_t seconds)
{
	memset(q, 0, sizeof(*q));
	if (!cap)
		return 0;
	uint32_t nb = 2;
	while (nb <= seconds + 1)
		nb <<= 1;
	q->rec = malloc((size_t)cap * sizeof(*q->rec));
	q->next = malloc((size_t)cap * sizeof(*q->next));
	q->head = malloc((size_t)nb * sizeof(*q->head));
	q->tail = malloc((size_t)nb * sizeof(*q->tail));
	if (!q->rec || !q->next || !q->head || !q->tail) {
		dr_partq_fini(q);
		return DR_ENOMEM;
	}
	q->cap = cap;
	q->nbuckets = nb;
	for (uint32_t i = 0; i < cap; i++)
		q->next[i] = i + 1 < cap ? i + 1 : NIL;
	q->free = 0;
	memset(q->head, 0xff, (size_t)nb * sizeof(*q->head));
	return 0;
}

void dr_partq_fini(struct dr_partq *q)
{
	free(q->rec);
	free(q->next);
	free(q->head);
	free(q->tail);
	memset(q, 0, sizeof(*q));
}

size_t dr_partq_mem(const struct dr_partq *q)
{
	return (size_t)q->cap * (sizeof(*q->rec) + sizeof(*q->next)) +
	       (size_t)q->nbuckets * (sizeof(*q->head) + sizeof(*q->tail));
}

int64_t dr_partq_first(struct dr_partq *q)
{
	if (!q->n)
		return INT64_MAX;
	/* the earliest bucket in use is within nbuckets of base */
	while (q->head[q->base & (q->nbuckets - 1)] == NIL)
		q->base++;
	return q->base;
}

int dr_partq_too_far(struct dr_partq *q, const struct dr_record *r)
{
	return q->n && r->ts_sec - dr_partq_first(q) >= (int64_t)q->nbuckets;
}

void dr_partq_push(struct dr_partq *q, const struct dr_record *r)
{
	int64_t sec = r->ts_sec;
	if (!q->n) {
		q->base = q->last = sec;
	} else if (sec < q->base) {
		if (q->last - sec < (int64_t)q->nbuckets)
			q->base = sec;	/* the buckets reach back to it */
		else
			sec = q->base;	/* too old for them: with the earliest */
	} else if (sec > q->last) {
		q->last = sec;
	}
	uint32_t slot = q->free, b = (uint32_t)(sec & (q->nbuckets - 1));
	q->free = q->next[slot];
	/* an aggregate's fields, and its keys but for the name it has not */
	struct dr_record *d = &q->rec[slot];
	memcpy(d, r, offsetof(struct dr_record, dns.qname));
	d->dns.qname_len = 0;
	d->dns.has_question = 0;
	d->payload = NULL;
	d->payload_caplen = 0;
	if (r->keys.ready)
		memcpy(&d->keys, &r->keys, offsetof(struct dr_keys, qname));
	else
		d->keys.ready = 0;
	d->keys.qname_len = 0;
	q->next[slot] = NIL;
	if (q->head[b] == NIL)
		q->head[b] = slot;
	else
		q->next[q->tail[b]] = slot;
	q->tail[b] = slot;
	q->n++;
}

struct dr_record *dr_partq_pop(struct dr_partq *q)
{
	if (dr_partq_first(q) == INT64_MAX)
		return NULL;
	uint32_t b = (uint32_t)(q->base & (q->nbuckets - 1)), slot = q->head[b];
	q->head[b] = q->next[slot];
	q->next[slot] = q->free;
	q->free = slot;
	q->n--;
	return &q->rec[slot];
}
