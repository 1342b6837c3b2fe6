/* Space-Saving heavy hitters: entries in flat arrays, a lazy 4-ary min-heap
 * over lower bounds of their counts to find the entry to replace, and a
 * linear-probing hash index (twice the capacity, backward-shift deletion)
 * to find a key. */
#include "lib/topk.h"

#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"
#include "lib/hash.h"

int dr_topk_init(struct dr_topk *t, uint32_t capacity, uint32_t key_size,
		 uint32_t extra_size)
{
	memset(t, 0, sizeof(*t));
	if (capacity == 0)
		capacity = 1;
	/* the hash index doubles the capacity in 32 bits */
	if (capacity > DR_TOPK_CAPACITY_MAX)
		return DR_ENOMEM;
	uint32_t slots = 4;
	while (slots < capacity * 2)
		slots <<= 1;
	t->capacity = capacity;
	t->key_size = key_size;
	t->extra_size = extra_size;
	t->slots_mask = slots - 1;
	t->keys = malloc((size_t)capacity * key_size);
	t->extra = extra_size ? calloc(capacity, extra_size) : NULL;
	t->count = calloc(capacity, sizeof(*t->count));
	t->error = calloc(capacity, sizeof(*t->error));
	t->hash = calloc(capacity, sizeof(*t->hash));
	t->key_len = calloc(capacity, sizeof(*t->key_len));
	/* Aligned so that the children of node p, 4p+1..4p+4, fill one line. */
	t->heap_mem = aligned_alloc(64, ((size_t)capacity + 4 + 3) / 4 * 4 * sizeof(*t->heap));
	t->heap = t->heap_mem ? (struct dr_topk_node *)t->heap_mem + 3 : NULL;
	t->slots = calloc(slots, sizeof(*t->slots));
	uint32_t bits = 64;
	while (bits < (uint64_t)capacity * 16 && bits < (1u << 31))
		bits <<= 1;
	t->door = calloc(bits / 64, sizeof(*t->door));
	t->door_mask = bits - 1;
	t->door_limit = bits / 4;
	if (!t->keys || (extra_size && !t->extra) || !t->count || !t->error ||
	    !t->hash || !t->key_len || !t->heap || !t->slots || !t->door) {
		dr_topk_fini(t);
		return DR_ENOMEM;
	}
	return 0;
}

void dr_topk_fini(struct dr_topk *t)
{
	free(t->keys);
	free(t->extra);
	free(t->count);
	free(t->error);
	free(t->hash);
	free(t->key_len);
	free(t->heap_mem);
	free(t->slots);
	free(t->door);
	memset(t, 0, sizeof(*t));
}

void dr_topk_clear(struct dr_topk *t)
{
	/* the heap and the entries are rewritten as entries are created */
	memset(t->slots, 0, ((size_t)t->slots_mask + 1) * sizeof(*t->slots));
	memset(t->door, 0, ((size_t)t->door_mask + 1) / 8);
	t->door_set = 0;
	t->used = 0;
	t->evictions = 0;
	t->total = 0;
	t->refused = 0;
	t->refused_total = 0;
}

size_t dr_topk_mem(const struct dr_topk *t)
{
	return (size_t)t->capacity * (t->key_size + t->extra_size + 8 + 8 + 4 + 2 +
				      (t->heap ? sizeof(*t->heap) : 0)) +
	       ((size_t)t->slots_mask + 1) * sizeof(*t->slots) +
	       ((size_t)t->door_mask + 1) / 8;
}

static void sift_down(struct dr_topk *t, uint32_t pos)
{
	struct dr_topk_node x = t->heap[pos];
	for (;;) {
		uint32_t c = 4 * pos + 1;
		if (c >= t->used)
			break;
		uint32_t end = c + 4 < t->used ? c + 4 : t->used, m = c;
		for (uint32_t i = c + 1; i < end; i++)
			if (t->heap[i].key < t->heap[m].key)
				m = i;
		if (t->heap[m].key >= x.key)
			break;
		t->heap[pos] = t->heap[m];
		pos = m;
	}
	t->heap[pos] = x;
}

static void sift_up(struct dr_topk *t, uint32_t pos)
{
	struct dr_topk_node x = t->heap[pos];
	while (pos > 0) {
		uint32_t parent = (pos - 1) / 4;
		if (t->heap[parent].key <= x.key)
			break;
		t->heap[pos] = t->heap[parent];
		pos = parent;
	}
	t->heap[pos] = x;
}

/* The entry with the least count: refresh the root until its bound is its
 * count; then it is no larger than any other bound, hence any count. */
static uint32_t least(struct dr_topk *t)
{
	for (;;) {
		struct dr_topk_node *root = &t->heap[0];
		uint64_t real = t->count[root->entry];
		if (root->key == real)
			return root->entry;
		root->key = real;
		sift_down(t, 0);
	}
}

static inline uint32_t load32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* Keys are short (addresses are 5 or 17 octets, names a few dozen): whole
 * words, the last one overlapping, instead of a call or a byte loop. */
static int key_eq(const uint8_t *a, const uint8_t *b, uint32_t n)
{
	if (n >= 8) {
		uint32_t i = 0;
		for (; i + 8 <= n; i += 8)
			if (dr_load_le64(a + i) != dr_load_le64(b + i))
				return 0;
		return i == n || dr_load_le64(a + n - 8) == dr_load_le64(b + n - 8);
	}
	if (n >= 4)
		return load32(a) == load32(b) && load32(a + n - 4) == load32(b + n - 4);
	for (uint32_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* The slot holding key, or the empty slot where it would go. The hash is
 * kept in the slot, so a probe past other keys touches no entry. */
static uint64_t *find_slot(struct dr_topk *t, const void *key, uint32_t key_len,
			   uint32_t hash)
{
	uint32_t s = hash & t->slots_mask;
	for (;;) {
		uint64_t v = t->slots[s];
		if (v == 0)
			return &t->slots[s];
		if ((uint32_t)(v >> 32) == hash) {
			uint32_t e = (uint32_t)v - 1;
			if (t->key_len[e] == key_len && key_eq(dr_topk_key(t, e), key, key_len))
				return &t->slots[s];
		}
		s = (s + 1) & t->slots_mask;
	}
}

/* Removes entry e from the hash index (backward-shift deletion). */
static void unindex(struct dr_topk *t, uint32_t e)
{
	uint32_t s = t->hash[e] & t->slots_mask;
	while ((uint32_t)t->slots[s] != e + 1)
		s = (s + 1) & t->slots_mask;
	uint32_t hole = s;
	for (;;) {
		s = (s + 1) & t->slots_mask;
		uint64_t o = t->slots[s];
		if (o == 0)
			break;
		uint32_t home = (uint32_t)(o >> 32) & t->slots_mask;
		/* Move o into the hole unless its home lies in (hole, s]. */
		if (((s - home) & t->slots_mask) >= ((s - hole) & t->slots_mask)) {
			t->slots[hole] = o;
			hole = s;
		}
	}
	t->slots[hole] = 0;
}

void dr_topk_set_lazy(struct dr_topk *t, dr_topk_victim_fn victim, void *ctx)
{
	free(t->heap_mem);	/* a lazy table keeps no order */
	t->heap_mem = NULL;
	t->heap = NULL;
	t->victim = victim;
	t->victim_ctx = ctx;
	t->rng = 2463534242u;
}

int64_t dr_topk_find(struct dr_topk *t, const void *key, uint32_t key_len, uint32_t hash)
{
	if (key_len > t->key_size)
		key_len = t->key_size;
	uint64_t *slot = find_slot(t, key, key_len, hash);
	return *slot ? (int64_t)((uint32_t)*slot - 1) : -1;
}

/* Whether the doorkeeper has seen hash since it was last cleared; marks
 * it seen either way. Two bits from the hash: the low ones and the high
 * ones (the table's index uses the low ones of the same hash, which is
 * why the second bit is taken from the product). */
static int door_admits(struct dr_topk *t, uint32_t hash)
{
	uint32_t a = hash & t->door_mask;
	uint32_t b = (uint32_t)(((uint64_t)hash * 0x9e3779b97f4a7c15ull) >> 32) & t->door_mask;
	uint64_t ma = 1ull << (a & 63), mb = 1ull << (b & 63);
	uint64_t *wa = &t->door[a >> 6], *wb = &t->door[b >> 6];
	if ((*wa & ma) && (*wb & mb))
		return 1;
	t->door_set += !(*wa & ma) + !(*wb & mb);
	*wa |= ma;
	*wb |= mb;
	if (t->door_set >= t->door_limit) {
		memset(t->door, 0, ((size_t)t->door_mask + 1) / 8);
		t->door_set = 0;
	}
	return 0;
}

/* Lazy mode: 8 neighbouring entries from a random place (xorshift), so
 * the owner's look at them reads memory in sequence; the owner chooses. */
static uint32_t lazy_victim(struct dr_topk *t)
{
	uint32_t cand[8];
	t->rng ^= t->rng << 13;
	t->rng ^= t->rng >> 17;
	t->rng ^= t->rng << 5;
	uint32_t start = t->rng % t->used;
	for (unsigned i = 0; i < 8; i++)
		cand[i] = (start + i) % t->used;
	return t->victim(t, cand, 8, t->victim_ctx);
}

uint32_t dr_topk_add(struct dr_topk *t, const void *key, uint32_t key_len,
		     uint32_t hash, uint64_t inc, int *fresh)
{
	if (key_len > t->key_size)
		key_len = t->key_size;
	t->total += inc;
	uint64_t *slot = find_slot(t, key, key_len, hash);
	uint32_t e;
	if (*slot) {
		e = (uint32_t)*slot - 1;
		t->count[e] += inc;	/* the heap's bound may lag: see least() */
		*fresh = 0;
		return e;
	}
	uint64_t base = 0;
	int grew = 0;
	if (t->used < t->capacity) {
		e = t->used++;
		grew = 1;
	} else if (!door_admits(t, hash)) {
		t->refused++;
		t->refused_total += inc;
		*fresh = 0;
		return DR_TOPK_REFUSED;
	} else {
		/* Replace the smallest: the newcomer inherits its count as
		 * the error bound (Space-Saving); lazy tables sample. It keeps
		 * the root's place with the old count as its bound. */
		e = t->victim ? lazy_victim(t) : least(t);
		/* the refused sighting counts, as Space-Saving's bound needs */
		base = t->victim ? 0 : t->count[e] + 1;
		unindex(t, e);
		t->evictions++;
		slot = find_slot(t, key, key_len, hash);
	}
	*slot = (uint64_t)hash << 32 | (e + 1);
	memcpy(t->keys + (size_t)e * t->key_size, key, key_len);
	t->key_len[e] = (uint16_t)key_len;
	t->hash[e] = hash;
	t->count[e] = base + inc;
	t->error[e] = base;
	if (t->extra_size)
		memset(dr_topk_extra(t, e), 0, t->extra_size);
	if (grew && !t->victim) {
		t->heap[e].entry = e;
		t->heap[e].key = t->count[e];
		sift_up(t, e);
	}
	*fresh = 1;
	return e;
}


/* Whether entry a ranks before entry b: higher count, then key bytes,
 * then the shorter key, so that the order is total and deterministic. */
static int ranks_before(const struct dr_topk *t, uint32_t a, uint32_t b)
{
	if (t->count[a] != t->count[b])
		return t->count[a] > t->count[b];
	uint32_t la = t->key_len[a], lb = t->key_len[b];
	int c = memcmp(dr_topk_key(t, a), dr_topk_key(t, b), la < lb ? la : lb);
	if (c)
		return c < 0;
	return la < lb;
}

/* Restores the heap below i: heap[0] is the entry that ranks last. */
static void top_sift(const struct dr_topk *t, uint32_t *heap, uint32_t n, uint32_t i)
{
	for (;;) {
		uint32_t c = 2 * i + 1, worst = i;
		if (c < n && ranks_before(t, heap[worst], heap[c]))
			worst = c;
		if (c + 1 < n && ranks_before(t, heap[worst], heap[c + 1]))
			worst = c + 1;
		if (worst == i)
			return;
		uint32_t x = heap[i];
		heap[i] = heap[worst];
		heap[worst] = x;
		i = worst;
	}
}

uint32_t dr_topk_top(const struct dr_topk *t, uint32_t *out, uint32_t n)
{
	/* A heap of the n best so far, its root the worst of them: one pass
	 * over the table, then the heap sorted, instead of sorting it all. */
	if (n > t->used)
		n = t->used;
	if (!n)
		return 0;
	for (uint32_t i = 0; i < n; i++)
		out[i] = i;
	for (uint32_t i = n / 2; i-- > 0;)
		top_sift(t, out, n, i);
	for (uint32_t e = n; e < t->used; e++) {
		if (!ranks_before(t, e, out[0]))
			continue;
		out[0] = e;
		top_sift(t, out, n, 0);
	}
	/* the worst to the end, one by one: best first */
	for (uint32_t k = n; k > 1; k--) {
		uint32_t x = out[0];
		out[0] = out[k - 1];
		out[k - 1] = x;
		top_sift(t, out, k - 1, 0);
	}
	return n;
}
