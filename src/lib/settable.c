/* The set-associative slot table behind fragment and TCP reassembly:
 * allocation, the byte cap and eviction by time (see settable.h). */
#include "lib/settable.h"

#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"

int dr_settable_init(struct dr_settable *t, unsigned slots, unsigned ways,
		     size_t slot_size, size_t mem_cap)
{
	memset(t, 0, sizeof(*t));
	if (ways == 0 || slot_size < sizeof(struct dr_slot))
		return DR_EINVAL;
	unsigned nbuckets = slots ? (slots + ways - 1) / ways : 1;
	t->slots = calloc((size_t)nbuckets * ways, slot_size);
	if (!t->slots)
		return DR_ENOMEM;
	t->slot_size = slot_size;
	t->ways = ways;
	t->nbuckets = nbuckets;
	t->mem_cap = mem_cap;
	return 0;
}

void dr_settable_fini(struct dr_settable *t)
{
	if (!t->slots)
		return;
	for (size_t i = 0; i < dr_settable_nslots(t); i++)
		free(dr_settable_slot(t, i)->buf);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

void dr_settable_release(struct dr_settable *t, struct dr_slot *s)
{
	t->mem_used -= s->cap;
	free(s->buf);
	memset(s, 0, t->slot_size);
}

void dr_settable_free_buf(struct dr_settable *t, struct dr_slot *s)
{
	t->mem_used -= s->cap;
	free(s->buf);
	s->buf = NULL;
	s->cap = 0;
}

uint8_t *dr_settable_take_buf(struct dr_settable *t, struct dr_slot *s)
{
	uint8_t *buf = s->buf;
	t->mem_used -= s->cap;
	s->buf = NULL;
	s->cap = 0;
	return buf;
}

/* The used slot with a buffer and the smallest time, other than `keep`;
 * the first of equals in table order. */
static struct dr_slot *oldest_buffered(const struct dr_settable *t, const struct dr_slot *keep)
{
	struct dr_slot *oldest = NULL;
	for (size_t i = 0; i < dr_settable_nslots(t); i++) {
		struct dr_slot *s = dr_settable_slot(t, i);
		if (s->used && s->cap && s != keep &&
		    (!oldest || s->time_ms < oldest->time_ms))
			oldest = s;
	}
	return oldest;
}

/* The slow part of dr_settable_grow: frees room for `need` more bytes, or
 * says there is none to free. */
int dr_settable_make_room(struct dr_settable *t, struct dr_slot *s, size_t need,
			  int evict, uint64_t *evicted)
{
	while (t->mem_used + need > t->mem_cap) {
		struct dr_slot *victim = evict ? oldest_buffered(t, s) : NULL;
		if (!victim)
			return -1;
		(*evicted)++;
		dr_settable_release(t, victim);
	}
	return 0;
}

size_t dr_settable_used(const struct dr_settable *t)
{
	size_t n = 0;
	for (size_t i = 0; i < dr_settable_nslots(t); i++)
		n += dr_settable_slot(t, i)->used;
	return n;
}
