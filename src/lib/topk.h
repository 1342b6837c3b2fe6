/* Heavy hitters with a fixed capacity (Space-Saving, Metwally et al. 2005):
 * counts are exact while fewer distinct keys than the capacity have been
 * seen; beyond that the smallest entry is replaced and every count carries
 * an error bound. Memory is allocated once, in dr_topk_init. */
#ifndef DR_LIB_TOPK_H
#define DR_LIB_TOPK_H

#include <stddef.h>
#include <stdint.h>

struct dr_topk;

/* Chooses which of n candidate entries a full table evicts (lazy mode). */
typedef uint32_t (*dr_topk_victim_fn)(const struct dr_topk *t, const uint32_t *cand,
				      unsigned n, void *ctx);

struct dr_topk {
	uint32_t capacity;	/* entries */
	dr_topk_victim_fn victim;	/* lazy mode: no heap, sampled eviction */
	void *victim_ctx;
	uint32_t rng;
	uint32_t used;
	uint32_t key_size;	/* bytes reserved per key */
	uint32_t extra_size;	/* bytes of caller data per entry, zeroed on insert */
	uint32_t slots_mask;	/* hash index size - 1 */
	uint64_t evictions;
	uint64_t total;		/* sum of all increments */
	/* The doorkeeper (TinyLFU's admission filter): once the table is
	 * full, a key not in it is admitted, evicting another, only when it
	 * has been seen before, in a two-bit Bloom filter of 16 bits an
	 * entry that is cleared when a quarter full. A flood of keys seen
	 * once each then costs a probe each, not an eviction each. */
	uint64_t *door;
	uint32_t door_mask;	/* bits - 1 */
	uint32_t door_set, door_limit;	/* bits set since the last clearing */
	uint64_t refused;	/* sightings of keys not admitted */
	uint64_t refused_total;	/* their increments */
	uint8_t *keys;
	uint8_t *extra;
	uint64_t *count;
	uint64_t *error;	/* overestimation bound per entry */
	uint32_t *hash;
	uint16_t *key_len;
	/* A lazy 4-ary min-heap: each node holds an entry and a lower bound
	 * of its count (counts only grow; increments do not touch the heap,
	 * eviction refreshes the root until it is exact). Four children share
	 * one cache line. NULL in lazy mode. */
	struct dr_topk_node { uint64_t key; uint32_t entry, pad; } *heap;
	void *heap_mem;		/* the allocation heap points into */
	uint64_t *slots;	/* hash index: hash << 32 | entry + 1; 0 = empty */
};

/* The most entries a table can index. */
#define DR_TOPK_CAPACITY_MAX (1u << 30)

/* Returns 0 or DR_ENOMEM (also for a capacity above DR_TOPK_CAPACITY_MAX). */
int dr_topk_init(struct dr_topk *t, uint32_t capacity, uint32_t key_size,
		 uint32_t extra_size);
void dr_topk_fini(struct dr_topk *t);

/* Empties the table (entries, counters, doorkeeper) for reuse, as if just
 * initialised, without allocating: for tables that count one period at a
 * time. */
void dr_topk_clear(struct dr_topk *t);

/* Lazy mode, for tables that need bounded memory more than Space-Saving's
 * error bound: counts are not kept in order; a full table evicts the entry
 * `victim` picks among 8 sampled ones. Call right after init. */
void dr_topk_set_lazy(struct dr_topk *t, dr_topk_victim_fn victim, void *ctx);

/* The entry of key, or -1 when absent; nothing is counted or created. */
int64_t dr_topk_find(struct dr_topk *t, const void *key, uint32_t key_len, uint32_t hash);

#define DR_TOPK_REFUSED UINT32_MAX	/* dr_topk_add: the doorkeeper said no */

/* Adds inc to key (key_len <= key_size bytes, hash its 32-bit hash).
 * Returns the entry index; *fresh is set when the entry was (re)created,
 * its extra data zeroed. A full table returns DR_TOPK_REFUSED for a key
 * it does not hold and has not seen since its doorkeeper was cleared
 * (counted in refused and refused_total): the caller counts nothing. When
 * the doorkeeper admits a key, its count includes the sighting that was
 * refused, so a Space-Saving count stays an upper bound within the
 * doorkeeper's epoch. */
uint32_t dr_topk_add(struct dr_topk *t, const void *key, uint32_t key_len,
		     uint32_t hash, uint64_t inc, int *fresh);

/* Starts loading the hash slot a key will probe, so several tables' cache
 * misses overlap instead of following one another. */
static inline void dr_topk_prefetch(const struct dr_topk *t, uint32_t hash)
{
	__builtin_prefetch(&t->slots[hash & t->slots_mask]);
}

/* Writes up to n entry indexes, highest count first (ties by key bytes, so
 * the order is deterministic). Returns how many were written. */
uint32_t dr_topk_top(const struct dr_topk *t, uint32_t *out, uint32_t n);

static inline const uint8_t *dr_topk_key(const struct dr_topk *t, uint32_t i)
{
	return t->keys + (size_t)i * t->key_size;
}

static inline void *dr_topk_extra(const struct dr_topk *t, uint32_t i)
{
	return t->extra + (size_t)i * t->extra_size;
}

/* Whether every key counted is in the table with its exact count: nothing
 * was evicted or refused. */
static inline int dr_topk_exact(const struct dr_topk *t)
{
	return t->evictions == 0 && t->refused == 0;
}

/* Bytes allocated by the table. */
size_t dr_topk_mem(const struct dr_topk *t);

#endif
