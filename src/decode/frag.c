/* IP fragment reassembly. Sets live in a set-associative table
 * (lib/settable.h): a key hashes to a bucket of DR_FRAG_WAYS sets, so a
 * look-up touches eight entries and a flood of fragments evicts the oldest
 * set of its bucket instead of growing anything. What is left here is the
 * byte ranges of each set; overlapping fragments are dropped (first data
 * wins). */
#include "decode/frag.h"

#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"

#define IP_MAX 65535u
#define BUF_STEP 2048u

static uint32_t key_hash(const struct dr_frag_key *k)
{
	uint32_t h = 2166136261u ^ k->family ^ (uint32_t)k->proto << 8;
	const uint8_t *parts[2] = {k->src, k->dst};
	unsigned n = k->family == 4 ? 4 : 16;
	for (int i = 0; i < 2; i++)
		for (unsigned j = 0; j < n; j++)
			h = (h ^ parts[i][j]) * 16777619u;
	h ^= k->id;
	h *= 0x9e3779b1u;
	return h ^ h >> 15;
}

static int key_eq(const struct dr_slot *slot, const void *key)
{
	const struct dr_frag_key *a = &((const struct dr_frag_set *)(const void *)slot)->key;
	const struct dr_frag_key *b = key;
	return a->id == b->id && a->family == b->family && a->proto == b->proto &&
	       memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0;
}

static struct dr_frag_set *set_of(struct dr_slot *slot)
{
	return (struct dr_frag_set *)(void *)slot;
}

static void release(struct dr_frag_table *t, struct dr_frag_set *s)
{
	dr_settable_release(&t->table, &s->slot);
}

int dr_frag_init(struct dr_frag_table *t, const struct dr_frag_config *cfg)
{
	memset(t, 0, sizeof(*t));
	int rc = dr_settable_init(&t->table, cfg->sets ? cfg->sets : 1024, DR_FRAG_WAYS,
				  sizeof(struct dr_frag_set),
				  cfg->mem_cap ? cfg->mem_cap : 16u << 20);
	if (rc < 0)
		return rc;
	t->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 30000;
	return 0;
}

void dr_frag_fini(struct dr_frag_table *t)
{
	dr_settable_fini(&t->table);
	free(t->done);
	free(t->done_before);
	t->done = t->done_before = NULL;
}

unsigned dr_frag_pending(const struct dr_frag_table *t)
{
	return t->table.slots ? (unsigned)dr_settable_used(&t->table) : 0;
}

size_t dr_frag_mem_budget(const struct dr_frag_table *t)
{
	return dr_settable_budget(&t->table);
}

/* The set of the fragment's key: found, or a new one in a free way or in
 * place of its bucket's oldest set. Sets past the timeout are dropped as
 * the bucket is scanned. */
static struct dr_frag_set *find_set(struct dr_frag_table *t, const struct dr_frag_in *in)
{
	struct dr_settable_probe pr;

	dr_settable_probe(&t->table, key_hash(in->key), in->key, key_eq, in->now_ms,
			  t->timeout_ms, &pr);
	t->counts.timeout += pr.expired;
	if (pr.hit)
		return set_of(pr.hit);
	if (!pr.free_slot)
		t->counts.evicted++;
	struct dr_frag_set *s = set_of(dr_settable_claim(&t->table, &pr, in->now_ms));
	s->key = *in->key;
	return s;
}

/* Inserts [start, end) into the sorted disjoint ranges, merging ranges that
 * touch. Returns -1 when it overlaps data already held, -2 when the set
 * would have more than DR_FRAG_RANGES holes. */
static int add_range(struct dr_frag_set *s, uint32_t start, uint32_t end)
{
	unsigned n = s->nranges, i = 0;

	while (i < n && s->ranges[i].end < start)
		i++;
	for (unsigned j = i; j < n && s->ranges[j].start < end; j++)
		if (s->ranges[j].end > start)
			return -1;
	int merge_prev = i < n && s->ranges[i].end == start;
	unsigned next = merge_prev ? i + 1 : i;
	int merge_next = next < n && s->ranges[next].start == end;

	if (merge_prev && merge_next) {
		s->ranges[i].end = s->ranges[next].end;
		memmove(&s->ranges[next], &s->ranges[next + 1],
			(n - next - 1) * sizeof(s->ranges[0]));
		s->nranges--;
	} else if (merge_prev) {
		s->ranges[i].end = end;
	} else if (merge_next) {
		s->ranges[next].start = start;
	} else {
		if (n == DR_FRAG_RANGES)
			return -2;
		memmove(&s->ranges[i + 1], &s->ranges[i], (n - i) * sizeof(s->ranges[0]));
		s->ranges[i].start = start;
		s->ranges[i].end = end;
		s->nranges++;
	}
	return 0;
}

int dr_frag_add(struct dr_frag_table *t, const struct dr_frag_in *in,
		const uint8_t **out, uint32_t *out_len, uint8_t *ttl,
		uint8_t *next_header)
{
	uint32_t end = in->offset + in->len;

	/* The last datagram handed over may still be read (in->data can
	 * point into it); the one before it is done with. */
	free(t->done_before);
	t->done_before = t->done;
	t->done = NULL;

	if (end > IP_MAX || (in->more && (in->len == 0 || in->len % 8))) {
		t->counts.bad++;
		return 0;
	}
	struct dr_frag_set *s = find_set(t, in);
	if (!in->more) {
		if ((s->total && s->total != end) ||
		    (s->nranges && s->ranges[s->nranges - 1].end > end)) {
			t->counts.bad++;
			release(t, s);
			return 0;
		}
		s->total = end;
	} else if (s->total && end > s->total) {
		t->counts.bad++;
		release(t, s);
		return 0;
	}
	if (end > s->slot.cap) {
		/* Grown in steps, oldest sets anywhere making room first. */
		uint32_t cap = (end + BUF_STEP - 1) / BUF_STEP * BUF_STEP;
		if (cap > IP_MAX)
			cap = IP_MAX;
		if (dr_settable_grow(&t->table, &s->slot, cap, 1, &t->counts.evicted) < 0) {
			t->counts.memory++;
			release(t, s);
			return 0;
		}
	}
	int rc = in->len ? add_range(s, in->offset, end) : 0;
	if (rc == -1) {
		t->counts.overlap++;
		return 0;
	}
	if (rc == -2) {
		t->counts.bad++;
		release(t, s);
		return 0;
	}
	if (in->len)
		memcpy(s->slot.buf + in->offset, in->data, in->len);
	if (s->pieces < UINT16_MAX)
		s->pieces++;
	if (in->offset == 0) {
		s->ttl = in->ttl;
		s->next_header = in->next_header;
	}
	if (!s->total || s->nranges != 1 || s->ranges[0].start != 0 ||
	    s->ranges[0].end != s->total)
		return 0;

	/* Complete: the buffer is handed over until the next call. */
	t->done = dr_settable_take_buf(&t->table, &s->slot);
	t->done_pieces = s->pieces;
	*out = t->done;
	*out_len = s->total;
	*ttl = s->ttl;
	*next_header = s->next_header;
	release(t, s);
	return 1;
}
