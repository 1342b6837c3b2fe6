/* Unit tests of the set-associative slot table (lib/settable.h): look-up,
 * claiming and evicting ways, expiry, and the byte cap on buffers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lib/errors.h"
#include "lib/settable.h"

struct item {
	struct dr_slot slot;
	uint32_t key;
	uint32_t state;		/* owner data that must be cleared on release */
};

static int item_eq(const struct dr_slot *slot, const void *key)
{
	return ((const struct item *)(const void *)slot)->key == *(const uint32_t *)key;
}

static struct item *item_of(struct dr_slot *s)
{
	return (struct item *)(void *)s;
}

/* Looks key up; on a miss claims a way for it. Returns the item. */
static struct item *get(struct dr_settable *t, uint32_t key, int64_t now, int64_t max_age,
			struct dr_settable_probe *pr)
{
	dr_settable_probe(t, key, &key, item_eq, now, max_age, pr);
	if (pr->hit)
		return item_of(pr->hit);
	struct item *it = item_of(dr_settable_claim(t, pr, now));
	it->key = key;
	return it;
}

static void test_init(void)
{
	struct dr_settable t;
	CHECK_EQ(dr_settable_init(&t, 10, 4, sizeof(struct item), 100), 0);
	CHECK_EQ(t.nbuckets, 3);
	CHECK_EQ(dr_settable_nslots(&t), 12);
	CHECK_EQ(dr_settable_used(&t), 0);
	CHECK_EQ(dr_settable_budget(&t), 100 + 12 * sizeof(struct item));
	dr_settable_fini(&t);
	dr_settable_fini(&t);	/* twice is harmless */
	CHECK_EQ(dr_settable_init(&t, 10, 0, sizeof(struct item), 100), DR_EINVAL);
	CHECK_EQ(dr_settable_init(&t, 10, 4, 4, 100), DR_EINVAL);
	dr_settable_fini(&t);
}

static void test_probe_claim_evict(void)
{
	struct dr_settable t;
	struct dr_settable_probe pr;
	CHECK_EQ(dr_settable_init(&t, 4, 4, sizeof(struct item), 1000), 0);	/* one bucket */

	struct item *a = get(&t, 1, 10, -1, &pr);
	CHECK(pr.hit == NULL);
	CHECK(&a->slot == dr_settable_slot(&t, 0));	/* the first free way */
	CHECK_EQ(a->slot.time_ms, 10);
	a->state = 7;
	CHECK(get(&t, 1, 11, -1, &pr) == a);
	CHECK(pr.hit == &a->slot);
	get(&t, 2, 5, -1, &pr);
	get(&t, 3, 5, -1, &pr);	/* as old as key 2: the first of equals loses */
	get(&t, 4, 20, -1, &pr);
	CHECK_EQ(dr_settable_used(&t), 4);

	/* A miss in a full bucket names the oldest way and takes it. */
	dr_settable_probe(&t, 9, &(uint32_t){9}, item_eq, 30, -1, &pr);
	CHECK(pr.hit == NULL && pr.free_slot == NULL);
	CHECK(pr.oldest == dr_settable_slot(&t, 1));
	CHECK_EQ(item_of(pr.oldest)->key, 2);
	struct item *n = item_of(dr_settable_claim(&t, &pr, 30));
	CHECK(&n->slot == dr_settable_slot(&t, 1));
	CHECK_EQ(n->key, 0);	/* cleared: the owner fills it */
	CHECK_EQ(n->slot.time_ms, 30);
	n->key = 9;
	CHECK_EQ(dr_settable_used(&t), 4);

	/* Release clears the owner's part too. */
	dr_settable_release(&t, &a->slot);
	CHECK_EQ(a->slot.used, 0);
	CHECK_EQ(a->state, 0);
	CHECK_EQ(a->key, 0);
	CHECK_EQ(dr_settable_used(&t), 3);
	dr_settable_fini(&t);
}

static void test_expiry(void)
{
	struct dr_settable t;
	struct dr_settable_probe pr;
	CHECK_EQ(dr_settable_init(&t, 4, 4, sizeof(struct item), 1000), 0);
	get(&t, 1, 0, 100, &pr);
	get(&t, 2, 50, 100, &pr);
	get(&t, 3, 0, 100, &pr);

	/* The look-up stops at its hit: way 2 (key 3) is not looked at. */
	dr_settable_probe(&t, 2, &(uint32_t){2}, item_eq, 120, 100, &pr);
	CHECK_EQ(pr.expired, 1);
	CHECK(pr.hit == dr_settable_slot(&t, 1));
	CHECK_EQ(dr_settable_slot(&t, 0)->used, 0);
	CHECK_EQ(dr_settable_slot(&t, 2)->used, 1);

	/* An expired way holding the key is no hit; it becomes free. */
	dr_settable_probe(&t, 3, &(uint32_t){3}, item_eq, 120, 100, &pr);
	CHECK_EQ(pr.expired, 1);
	CHECK(pr.hit == NULL);
	CHECK(pr.free_slot == dr_settable_slot(&t, 0));

	/* Exactly max_age old is still alive; without max_age nothing ages. */
	dr_settable_probe(&t, 5, &(uint32_t){5}, item_eq, 150, 100, &pr);
	CHECK_EQ(pr.expired, 0);
	CHECK(pr.oldest == dr_settable_slot(&t, 1));
	dr_settable_probe(&t, 5, &(uint32_t){5}, item_eq, 1000000, -1, &pr);
	CHECK_EQ(pr.expired, 0);
	CHECK_EQ(dr_settable_used(&t), 1);
	dr_settable_fini(&t);
}

static void test_buffers_and_cap(void)
{
	struct dr_settable t;
	struct dr_settable_probe pr;
	uint64_t evicted = 0;
	CHECK_EQ(dr_settable_init(&t, 8, 8, sizeof(struct item), 1000), 0);
	struct item *a = get(&t, 1, 1, -1, &pr);
	struct item *b = get(&t, 2, 2, -1, &pr);
	struct item *c = get(&t, 3, 3, -1, &pr);
	get(&t, 4, 0, -1, &pr);	/* the oldest, but holding no buffer */

	CHECK_EQ(dr_settable_grow(&t, &a->slot, 400, 0, NULL), 0);
	memset(a->slot.buf, 'a', 400);
	CHECK_EQ(dr_settable_grow(&t, &b->slot, 400, 0, NULL), 0);
	CHECK_EQ(t.mem_used, 800);
	CHECK_EQ(dr_settable_grow(&t, &a->slot, 100, 0, NULL), 0);	/* big enough */
	CHECK_EQ(a->slot.cap, 400);

	/* Without eviction a full cap refuses and leaves the buffer alone. */
	CHECK_EQ(dr_settable_grow(&t, &c->slot, 300, 0, NULL), -1);
	CHECK_EQ(c->slot.cap, 0);
	CHECK(c->slot.buf == NULL);
	CHECK_EQ(t.mem_used, 800);

	/* With eviction the oldest slot holding a buffer goes, never the
	 * one growing and never one without a buffer. */
	CHECK_EQ(dr_settable_grow(&t, &b->slot, 700, 1, &evicted), 0);
	CHECK_EQ(evicted, 1);
	CHECK_EQ(a->slot.used, 0);
	CHECK_EQ(a->key, 0);
	CHECK_EQ(dr_settable_slot(&t, 3)->used, 1);
	CHECK_EQ(b->slot.cap, 700);
	CHECK_EQ(t.mem_used, 700);
	CHECK_EQ(dr_settable_grow(&t, &b->slot, 1001, 1, &evicted), -1);
	CHECK_EQ(evicted, 1);
	CHECK_EQ(b->slot.cap, 700);

	/* Contents survive growth; a taken buffer is the caller's. */
	memset(b->slot.buf, 'b', 700);
	CHECK_EQ(dr_settable_grow(&t, &b->slot, 900, 1, &evicted), 0);
	CHECK_EQ(b->slot.buf[699], 'b');
	uint8_t *taken = dr_settable_take_buf(&t, &b->slot);
	CHECK(taken != NULL);
	CHECK_EQ(t.mem_used, 0);
	CHECK(b->slot.buf == NULL);
	CHECK_EQ(b->slot.used, 1);
	free(taken);

	CHECK_EQ(dr_settable_grow(&t, &c->slot, 300, 0, NULL), 0);
	dr_settable_free_buf(&t, &c->slot);
	CHECK_EQ(t.mem_used, 0);
	CHECK_EQ(c->slot.used, 1);
	CHECK_EQ(dr_settable_grow(&t, &c->slot, 50, 0, NULL), 0);
	dr_settable_fini(&t);	/* frees the buffer still held */
}

int main(void)
{
	RUN(test_init);
	RUN(test_probe_claim_evict);
	RUN(test_expiry);
	RUN(test_buffers_and_cap);
	TEST_MAIN_END();
}
