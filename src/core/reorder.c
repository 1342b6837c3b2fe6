/* The reorder buffer: a binary min-heap of slots by record time. */
#include "core/reorder.h"

#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"

int dr_reorder_init(struct dr_reorder *q, uint32_t cap)
{
	memset(q, 0, sizeof(*q));
	if (!cap)
		return 0;
	q->rec = malloc((size_t)cap * sizeof(*q->rec));
	q->payload = malloc((size_t)cap * DR_PAYLOAD_KEPT);
	q->order = malloc((size_t)cap * sizeof(*q->order));
	q->heap = malloc((size_t)cap * sizeof(*q->heap));
	q->spare = malloc((size_t)cap * sizeof(*q->spare));
	if (!q->rec || !q->payload || !q->order || !q->heap || !q->spare) {
		dr_reorder_fini(q);
		return DR_ENOMEM;
	}
	q->cap = cap;
	for (uint32_t i = 0; i < cap; i++)
		q->spare[i] = cap - 1 - i;
	q->nspare = cap;
	return 0;
}

void dr_reorder_fini(struct dr_reorder *q)
{
	free(q->rec);
	free(q->payload);
	free(q->order);
	free(q->heap);
	free(q->spare);
	memset(q, 0, sizeof(*q));
}

size_t dr_reorder_mem(const struct dr_reorder *q)
{
	return (size_t)q->cap * (sizeof(*q->rec) + DR_PAYLOAD_KEPT + sizeof(*q->order) +
				 sizeof(*q->heap) + sizeof(*q->spare));
}

static int earlier(const struct dr_reorder *q, uint32_t a, uint32_t b)
{
	const struct dr_record *x = &q->rec[a], *y = &q->rec[b];
	if (x->ts_sec != y->ts_sec)
		return x->ts_sec < y->ts_sec;
	if (x->ts_nsec != y->ts_nsec)
		return x->ts_nsec < y->ts_nsec;
	return q->order[a] < q->order[b];
}

void dr_reorder_push(struct dr_reorder *q, const struct dr_record *r)
{
	uint32_t slot = q->spare[--q->nspare];
	dr_record_copy(&q->rec[slot], r, q->payload + (size_t)slot * DR_PAYLOAD_KEPT);
	q->order[slot] = q->arrivals++;
	uint32_t i = q->n++;
	while (i) {
		uint32_t parent = (i - 1) / 2;
		if (!earlier(q, slot, q->heap[parent]))
			break;
		q->heap[i] = q->heap[parent];
		i = parent;
	}
	q->heap[i] = slot;
}

struct dr_record *dr_reorder_pop(struct dr_reorder *q)
{
	if (!q->n)
		return NULL;
	uint32_t top = q->heap[0], last = q->heap[--q->n], i = 0;
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= q->n)
			break;
		if (c + 1 < q->n && earlier(q, q->heap[c + 1], q->heap[c]))
			c++;
		if (!earlier(q, q->heap[c], last))
			break;
		q->heap[i] = q->heap[c];
		i = c;
	}
	if (q->n)
		q->heap[i] = last;
	q->spare[q->nspare++] = top;
	return &q->rec[top];
}
