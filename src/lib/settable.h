/* A set-associative table of fixed-size slots, each with an owner's key, a
 * time and an owned buffer counted against a byte cap: the structure that
 * IP fragment reassembly and TCP stream reassembly share. */
#ifndef DR_LIB_SETTABLE_H
#define DR_LIB_SETTABLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* The first member of every slot. The owner's struct follows it (its key
 * and state) and is cleared with it when the slot is released. */
struct dr_slot {
	int64_t time_ms;	/* what eviction goes by (first seen, last used:
				 * the owner's choice), in packet time */
	uint8_t *buf;		/* owned by the table; NULL when cap is 0 */
	uint32_t cap;		/* bytes allocated in buf */
	uint8_t used;
};

/* Compares a used slot's key with the key being looked up. */
typedef int (*dr_slot_eq_fn)(const struct dr_slot *slot, const void *key);

struct dr_settable {
	uint8_t *slots;		/* nbuckets * ways slots of slot_size bytes */
	size_t slot_size;
	unsigned ways;		/* slots per bucket */
	unsigned nbuckets;
	size_t mem_cap;		/* bytes all buffers may hold together */
	size_t mem_used;
};

/* What a look-up found in the key's bucket. */
struct dr_settable_probe {
	struct dr_slot *hit;	/* the slot holding the key, or NULL */
	struct dr_slot *free_slot;	/* the first free way seen, or NULL */
	struct dr_slot *oldest;	/* the used way with the smallest time that
				 * is not the hit (the first of equals) */
	unsigned expired;	/* ways released for being older than max_age */
};

/* Sizes the table: `slots` rounded up to whole buckets of `ways` slots of
 * `slot_size` bytes (a struct whose first member is struct dr_slot), all
 * zero. Returns 0, DR_EINVAL (no ways, or a slot smaller than its header)
 * or DR_ENOMEM; on error the table is empty and safe to fini. */
int dr_settable_init(struct dr_settable *t, unsigned slots, unsigned ways,
		     size_t slot_size, size_t mem_cap);

/* Frees every buffer and the slots. An owner that counts what is lost
 * walks the used slots first (dr_settable_slot). */
void dr_settable_fini(struct dr_settable *t);

static inline size_t dr_settable_nslots(const struct dr_settable *t)
{
	return (size_t)t->nbuckets * t->ways;
}

static inline struct dr_slot *dr_settable_slot(const struct dr_settable *t, size_t i)
{
	return (struct dr_slot *)(void *)(t->slots + i * t->slot_size);
}

/* Bytes the table may hold at most: its slots and the buffer cap. */
static inline size_t dr_settable_budget(const struct dr_settable *t)
{
	return t->mem_cap + dr_settable_nslots(t) * t->slot_size;
}

/* Frees a slot's buffer and clears the whole slot, owner's part included. */
void dr_settable_release(struct dr_settable *t, struct dr_slot *s);

/* Frees a slot's buffer only; the slot stays in use. */
void dr_settable_free_buf(struct dr_settable *t, struct dr_slot *s);

/* Hands a slot's buffer to the caller, who frees it; it no longer counts
 * against the cap. */
uint8_t *dr_settable_take_buf(struct dr_settable *t, struct dr_slot *s);

/* Grows a slot's buffer to `cap` bytes, keeping its contents (nothing to do
 * when it is that large already). When that would pass the byte cap and
 * `evict` is set, the slots with the oldest time that hold a buffer are
 * released first (never `s`), each counted in *evicted; without `evict` it
 * fails at once. Returns 0, or -1 when the cap cannot be met or memory runs
 * out; `s` then keeps its old buffer. */
int dr_settable_make_room(struct dr_settable *t, struct dr_slot *s, size_t need,
			  int evict, uint64_t *evicted);

/* Inline with its realloc: a stream grows its buffer for nearly every
 * message it buffers. */
static inline int dr_settable_grow(struct dr_settable *t, struct dr_slot *s, uint32_t cap,
				   int evict, uint64_t *evicted)
{
	if (cap <= s->cap)
		return 0;
	if (t->mem_used + (cap - s->cap) > t->mem_cap &&
	    dr_settable_make_room(t, s, cap - s->cap, evict, evicted) < 0)
		return -1;
	uint8_t *buf = realloc(s->buf, cap);
	if (!buf)
		return -1;
	t->mem_used += cap - s->cap;
	s->buf = buf;
	s->cap = cap;
	return 0;
}

/* Number of slots in use. */
size_t dr_settable_used(const struct dr_settable *t);

/* Looks `key` up in the bucket of `hash`, scanning its ways in order and
 * stopping at the one `eq` accepts. With max_age_ms >= 0, a used way met on
 * the way whose time is more than max_age_ms before now_ms is released
 * first (and counted in pr->expired), whatever its key. Inline so that a
 * constant `eq` is inlined too: this is on every fragment and segment. */
static inline void dr_settable_probe(struct dr_settable *t, uint32_t hash,
				     const void *key, dr_slot_eq_fn eq,
				     int64_t now_ms, int64_t max_age_ms,
				     struct dr_settable_probe *pr)
{
	/* Geometry in locals: the release below is a call, after which the
	 * compiler would otherwise reload it at every way. */
	const size_t size = t->slot_size;
	const unsigned ways = t->ways;
	uint8_t *way = t->slots + (size_t)(hash % t->nbuckets) * ways * size;

	pr->hit = pr->free_slot = pr->oldest = NULL;
	pr->expired = 0;
	for (unsigned w = 0; w < ways; w++, way += size) {
		struct dr_slot *s = (struct dr_slot *)(void *)way;
		if (s->used && max_age_ms >= 0 && now_ms - s->time_ms > max_age_ms) {
			pr->expired++;
			dr_settable_release(t, s);
		}
		if (!s->used) {
			if (!pr->free_slot)
				pr->free_slot = s;
			continue;
		}
		if (eq(s, key)) {
			pr->hit = s;
			return;
		}
		if (!pr->oldest || s->time_ms < pr->oldest->time_ms)
			pr->oldest = s;
	}
}

/* The way a new key goes into after a probe that missed: the first free
 * way, or else the oldest, which is released (look at pr->oldest before to
 * count what it held). The slot is marked used with time now_ms; the owner
 * fills its key. */
static inline struct dr_slot *dr_settable_claim(struct dr_settable *t,
						const struct dr_settable_probe *pr,
						int64_t now_ms)
{
	struct dr_slot *s = pr->free_slot;
	if (!s) {
		s = pr->oldest;
		dr_settable_release(t, s);
	}
	s->used = 1;
	s->time_ms = now_ms;
	return s;
}

#endif
