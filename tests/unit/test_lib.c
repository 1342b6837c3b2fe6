/* Unit tests of the helpers: Space-Saving top-K, HyperLogLog, the output
 * buffer's JSON and address formatting, the bounded cursor, the ring
 * between two threads. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "harness.h"
#include "lib/cursor.h"
#include "lib/hll.h"
#include "lib/outbuf.h"
#include "lib/ring.h"
#include "lib/topk.h"

static uint32_t add_u32(struct dr_topk *t, uint32_t key, uint64_t inc)
{
	int fresh;
	uint32_t h = (uint32_t)XXH3_64bits(&key, sizeof(key));
	return dr_topk_add(t, &key, sizeof(key), h, inc, &fresh);
}

static void test_topk_exact(void)
{
	struct dr_topk t;
	CHECK_EQ(dr_topk_init(&t, 100, 4, 0), 0);
	for (uint32_t k = 0; k < 50; k++)
		for (uint32_t i = 0; i <= k; i++)
			add_u32(&t, k, 1);
	uint32_t top[5];
	CHECK_EQ(dr_topk_top(&t, top, 5), 5);
	uint32_t key;
	memcpy(&key, dr_topk_key(&t, top[0]), 4);
	CHECK_EQ(key, 49);
	CHECK_EQ(t.count[top[0]], 50);
	CHECK_EQ(t.error[top[0]], 0);
	memcpy(&key, dr_topk_key(&t, top[4]), 4);
	CHECK_EQ(key, 45);
	CHECK_EQ(t.evictions, 0);
	CHECK_EQ(t.used, 50);
	dr_topk_fini(&t);
}

/* A cleared table counts afresh: no key, count or doorkeeper bit of the
 * previous period survives, and it fills to its capacity again. */
static void test_topk_clear(void)
{
	struct dr_topk t;
	CHECK_EQ(dr_topk_init(&t, 16, 4, 8), 0);
	for (uint32_t k = 0; k < 1000; k++)
		add_u32(&t, k, 1);
	CHECK(t.evictions + t.refused > 0);
	dr_topk_clear(&t);
	CHECK_EQ(t.used, 0);
	CHECK_EQ(t.total, 0);
	CHECK(dr_topk_exact(&t));
	uint32_t k5 = 5;
	CHECK_EQ(dr_topk_find(&t, &k5, 4, (uint32_t)XXH3_64bits(&k5, 4)), -1);
	for (uint32_t k = 2000; k < 2016; k++)
		add_u32(&t, k, k - 1999);
	CHECK_EQ(t.used, 16);
	CHECK(dr_topk_exact(&t));
	uint32_t top[1];
	CHECK_EQ(dr_topk_top(&t, top, 1), 1);
	CHECK_EQ(t.count[top[0]], 16);
	/* a key never seen since the clearing is refused by the doorkeeper */
	CHECK_EQ(add_u32(&t, 999, 1), DR_TOPK_REFUSED);
	dr_topk_fini(&t);
}

/* Heavy keys among a flood of one-off keys survive, with counts no lower
 * than the truth and no higher than truth + error. */
static void test_topk_flood(void)
{
	struct dr_topk t;
	CHECK_EQ(dr_topk_init(&t, 64, 4, 8), 0);
	uint64_t truth[4] = {0};
	uint32_t rnd = 1;
	for (int i = 0; i < 200000; i++) {
		rnd = rnd * 1103515245u + 12345u;
		if (i % 10 == 0) {
			uint32_t heavy = 1000000 + (uint32_t)(i / 10 % 4);
			add_u32(&t, heavy, 1);
			truth[heavy - 1000000]++;
		} else {
			add_u32(&t, rnd | 0x80000000u, 1);	/* spoofed one-offs */
		}
	}
	/* the one-offs, seen once each, are mostly refused at the door
	 * instead of evicting; none of them displaces a heavy key */
	CHECK(t.evictions + t.refused > 100000);
	CHECK(t.refused > 10 * t.evictions);
	CHECK(t.used == 64);
	uint32_t top[4];
	CHECK_EQ(dr_topk_top(&t, top, 4), 4);
	for (int i = 0; i < 4; i++) {
		uint32_t key;
		memcpy(&key, dr_topk_key(&t, top[i]), 4);
		CHECK(key >= 1000000 && key < 1000004);
		if (key >= 1000000 && key < 1000004) {
			uint64_t c = t.count[top[i]], e = t.error[top[i]];
			CHECK(c >= truth[key - 1000000]);
			CHECK(c - e <= truth[key - 1000000]);
		}
	}
	dr_topk_fini(&t);
}

/* The hash index stays consistent across many evictions. */
static void test_topk_index(void)
{
	struct dr_topk t;
	CHECK_EQ(dr_topk_init(&t, 8, 4, 0), 0);
	for (uint32_t k = 0; k < 10000; k++) {
		add_u32(&t, k % 37, 1);
		add_u32(&t, 5, 3);
	}
	int fresh;
	uint32_t five = 5;
	uint32_t e = dr_topk_add(&t, &five, 4, (uint32_t)XXH3_64bits(&five, 4), 0, &fresh);
	CHECK_EQ(fresh, 0);
	CHECK(t.count[e] >= 30000);
	unsigned found = 0;
	for (uint32_t i = 0; i < t.used; i++) {
		uint32_t key;
		memcpy(&key, dr_topk_key(&t, i), 4);
		uint32_t again = dr_topk_add(&t, &key, 4, (uint32_t)XXH3_64bits(&key, 4), 0, &fresh);
		found += !fresh && again == i;
	}
	CHECK_EQ(found, t.used);
	dr_topk_fini(&t);
}

static void test_hll(void)
{
	struct dr_hll h;
	const uint64_t sizes[] = {10, 1000, 100000, 1000000};
	for (size_t s = 0; s < 4; s++) {
		dr_hll_init(&h);
		for (uint64_t i = 0; i < sizes[s]; i++) {
			dr_hll_add(&h, XXH3_64bits(&i, sizeof(i)));
			dr_hll_add(&h, XXH3_64bits(&i, sizeof(i)));	/* duplicates */
		}
		double est = (double)dr_hll_count(&h);
		double err = est / (double)sizes[s] - 1;
		CHECK(err > -0.05 && err < 0.05);
		/* the running sum gives what a pass over the registers gives */
		CHECK_EQ(dr_hll_count(&h), (uint64_t)(dr_hll_estimate(h.reg, DR_HLL_BITS) + 0.5));
	}
}

static void test_outbuf(void)
{
	char *mem = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&mem, &len);
	struct dr_out o;
	CHECK_EQ(dr_out_init(&o, f, 8192), 0);
	dr_out_json_str(&o, "a\"b\\c\n\x01", 7);
	dr_out_char(&o, ' ');
	dr_out_u64(&o, 0);
	dr_out_char(&o, ' ');
	dr_out_i64(&o, -12345);
	dr_out_char(&o, ' ');
	dr_out_double(&o, 2.5, 3);
	dr_out_char(&o, ' ');
	static const uint8_t v4[4] = {10, 0, 200, 1};
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	dr_out_addr(&o, 4, v4);
	dr_out_char(&o, ' ');
	dr_out_addr(&o, 6, v6);
	dr_out_fini(&o);
	fclose(f);
	CHECK_STR(mem, "\"a\\\"b\\\\c\\u000a\\u0001\" 0 -12345 2.5 10.0.200.1 2001:db8::1");
	free(mem);
}

static void test_cursor(void)
{
	static const uint8_t b[5] = {1, 2, 3, 4, 5};
	struct dr_cursor c;
	dr_cur_init(&c, b, sizeof(b));
	CHECK_EQ(dr_cur_u16(&c), 0x0102);
	CHECK_EQ(dr_cur_u16(&c), 0x0304);
	CHECK_EQ(dr_cur_err(&c), 0);
	CHECK_EQ(dr_cur_u16(&c), 0);	/* past the end: zero, error sticks */
	CHECK(dr_cur_err(&c) != 0);
	CHECK_EQ(dr_cur_u8(&c), 0);
	CHECK_EQ(dr_cur_avail(&c), 0);

	/* Copies and peeks: a peek never moves or fails; a short copy gives
	 * zeros and the error. */
	uint8_t out[4];
	dr_cur_init(&c, b, sizeof(b));
	CHECK_EQ(dr_cur_peek_u16(&c), 0x0102);
	CHECK_EQ(dr_cur_avail(&c), 5);
	dr_cur_copy(&c, out, 3);
	CHECK(out[0] == 1 && out[1] == 2 && out[2] == 3);
	CHECK_EQ(dr_cur_peek_u16(&c), 0x0405);
	dr_cur_skip(&c, 1);
	CHECK_EQ(dr_cur_peek_u16(&c), 0);	/* one byte left */
	CHECK_EQ(dr_cur_err(&c), 0);
	memset(out, 0xee, sizeof(out));
	dr_cur_copy(&c, out, 2);
	CHECK(out[0] == 0 && out[1] == 0 && out[2] == 0xee);
	CHECK(dr_cur_err(&c) != 0);

	/* A header asked for at once fails as a whole. */
	dr_cur_init(&c, b, sizeof(b));
	CHECK_EQ(dr_cur_need(&c, 6), 0);
	CHECK_EQ(dr_cur_u8(&c), 0);
	CHECK(dr_cur_err(&c) != 0);
}

/* The ring between two threads: every batch arrives once, in order, with
 * the contents the producer wrote, through many wraps of a small ring and
 * both sides waiting (a slow consumer first, then a slow producer). */
#define RING_ROUNDS 200000
struct ring_test {
	struct dr_ring ring;
	uint64_t seen, bad, sum;
};

static void *ring_consumer(void *arg)
{
	struct ring_test *rt = arg;
	uint64_t *b;
	while ((b = dr_ring_consume(&rt->ring)) != NULL) {
		if (b[0] != rt->seen || b[1] != ~rt->seen)
			rt->bad++;
		rt->sum += b[0];
		rt->seen++;
		if (rt->seen < 50)	/* the producer finds the ring full and sleeps */
			usleep(1000);
		dr_ring_release(&rt->ring);
	}
	return NULL;
}

static void test_ring(void)
{
	struct ring_test rt = {0};
	CHECK_EQ(dr_ring_init(&rt.ring, 3, 16), 0);
	CHECK_EQ(rt.ring.nbatches, 4);
	CHECK_EQ(rt.ring.batch_size, 64);
	pthread_t tid;
	CHECK_EQ(pthread_create(&tid, NULL, ring_consumer, &rt), 0);
	for (uint64_t i = 0; i < RING_ROUNDS; i++) {
		uint64_t *b = dr_ring_produce(&rt.ring);
		b[0] = i;
		b[1] = ~i;
		if (i > RING_ROUNDS - 50)	/* the consumer finds it empty and sleeps */
			usleep(1000);
		dr_ring_publish(&rt.ring);
	}
	dr_ring_close(&rt.ring);
	pthread_join(tid, NULL);
	CHECK_EQ(rt.seen, RING_ROUNDS);
	CHECK_EQ(rt.bad, 0);
	CHECK_EQ(rt.sum, (uint64_t)RING_ROUNDS * (RING_ROUNDS - 1) / 2);
	CHECK(dr_ring_consume(&rt.ring) == NULL);	/* closed and empty stays so */
	dr_ring_fini(&rt.ring);
}

int main(void)
{
	RUN(test_topk_exact);
	RUN(test_topk_flood);
	RUN(test_topk_clear);
	RUN(test_topk_index);
	RUN(test_hll);
	RUN(test_outbuf);
	RUN(test_cursor);
	RUN(test_ring);
	TEST_MAIN_END();
}
