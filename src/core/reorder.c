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
	q->heap = malloc((size_t)cap * sizeof(*q->heap));
	q->spare = malloc((size_t)cap * sizeof(*q->spare));
	if (!q->rec || !q->payload || !q->heap || !q->spare) {
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
	free(q->heap);
	free(q->spare);
	memset(q, 0, sizeof(*q));
}

size_t dr_reorder_mem(const struct dr_reorder *q)
{
	return (size_t)q->cap * (sizeof(*q->rec) + DR_PAYLOAD_KEPT + sizeof(*q->heap) +
				 sizeof(*q->spare));
}

static int earlier(const struct dr_reorder_key *a, const struct dr_reorder_key *b)
{
	return a->t != b->t ? a->t < b->t : (int32_t)(a->order - b->order) < 0;
}

void dr_reorder_push(struct dr_reorder *q, const struct dr_record *r)
{
	uint32_t slot = q->spare[--q->nspare];
	dr_record_copy(&q->rec[slot], r, q->payload + (size_t)slot * DR_PAYLOAD_KEPT);
	struct dr_reorder_key k = {r->ts_sec * 1000000000 + r->ts_nsec, (uint32_t)q->arrivals++, slot};
	uint32_t i = q->n++;
	while (i) {
		uint32_t parent = (i - 1) / 2;
		if (!earlier(&k, &q->heap[parent]))
			break;
		q->heap[i] = q->heap[parent];
		i = parent;
	}
	q->heap[i] = k;
}

struct dr_record *dr_reorder_pop(struct dr_reorder *q)
{
	if (!q->n)
		return NULL;
	uint32_t top = q->heap[0].slot, i = 0;
	struct dr_reorder_key last = q->heap[--q->n];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= q->n)
			break;
		if (c + 1 < q->n && earlier(&q->heap[c + 1], &q->heap[c]))
			c++;
		if (!earlier(&q->heap[c], &last))
			break;
		q->heap[i] = q->heap[c];
		i = c;
	}
	if (q->n)
		q->heap[i] = last;
	q->spare[q->nspare++] = top;
	return &q->rec[top];
}
