/* Single-producer, single-consumer batch ring (see ring.h).
 *
 * head and tail count batches times two, so they wrap modulo 2^32 without
 * ambiguity; head's low bit marks the end. A waiter announces that it
 * sleeps and sleeps on the very counter it waits for: FUTEX_WAIT returns at
 * once if the counter moved, and the other side, which stores the counter
 * before it reads the announcement (both sequentially consistent), wakes it
 * otherwise. No wake-up can be lost.
 *
 * The consumer first spins a little (a batch is usually a few microseconds
 * away). The producer never spins: a full ring means the consumer is the
 * slower side and needs a whole batch's time to free a slot, so the
 * producer sleeps at once, and is woken only once the ring is half empty,
 * so that it sleeps once per half a ring, not once per batch, and the
 * consumer pays a wake-up as seldom. */
#include "lib/ring.h"

#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/errors.h"

#define SPINS 4000

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static void futex_wait(_Atomic uint32_t *word, uint32_t old)
{
	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, old, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Returns once *word is no longer old, after spinning `spins` times. */
static void wait_change(_Atomic uint32_t *word, uint32_t old, _Atomic uint32_t *sleeps, int spins)
{
	for (int i = 0; i < spins; i++) {
		if (atomic_load_explicit(word, memory_order_acquire) != old)
			return;
		cpu_relax();
	}
	atomic_store(sleeps, 1);
	while (atomic_load(word) == old)
		futex_wait(word, old);
	atomic_store(sleeps, 0);
}

static void changed(_Atomic uint32_t *word, _Atomic uint32_t *sleeps)
{
	if (atomic_load(sleeps))
		futex_wake(word);
}

int dr_ring_init(struct dr_ring *r, uint32_t nbatches, size_t batch_size)
{
	memset(r, 0, sizeof(*r));
	uint32_t n = 1;
	while (n < nbatches)
		n <<= 1;
	batch_size = (batch_size + 63) & ~(size_t)63;
	r->mem = aligned_alloc(64, (size_t)n * batch_size);
	if (!r->mem)
		return DR_ENOMEM;
	r->nbatches = n;
	r->batch_size = batch_size;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	atomic_init(&r->consumer_sleeps, 0);
	atomic_init(&r->producer_sleeps, 0);
	return 0;
}

void dr_ring_fini(struct dr_ring *r)
{
	free(r->mem);
	r->mem = NULL;
}

size_t dr_ring_mem(const struct dr_ring *r)
{
	return (size_t)r->nbatches * r->batch_size;
}

static void *batch(struct dr_ring *r, uint32_t counter)
{
	return r->mem + (size_t)((counter >> 1) & (r->nbatches - 1)) * r->batch_size;
}

void *dr_ring_produce(struct dr_ring *r)
{
	uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	for (;;) {
		uint32_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
		if ((uint32_t)(h - t) < 2 * r->nbatches)
			return batch(r, h);
		r->producer_waits++;
		wait_change(&r->tail, t, &r->producer_sleeps, 0);
	}
}

void dr_ring_publish(struct dr_ring *r)
{
	uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	atomic_store(&r->head, h + 2);
	changed(&r->head, &r->consumer_sleeps);
}

void dr_ring_close(struct dr_ring *r)
{
	atomic_fetch_or(&r->head, 1);
	changed(&r->head, &r->consumer_sleeps);
}

void *dr_ring_consume(struct dr_ring *r)
{
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	for (;;) {
		uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);
		if ((h & ~1u) != t)
			return batch(r, t);
		if (h & 1)
			return NULL;
		wait_change(&r->head, h, &r->consumer_sleeps, SPINS);
	}
}

void dr_ring_release(struct dr_ring *r)
{
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	atomic_store(&r->tail, t + 2);
	/* A sleeping producer waits for half the ring, or for the end of
	 * what is in it: occupancy falls by one each release, so it passes
	 * half on the way to empty and the wake-up comes. */
	uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire) & ~1u;
	if ((uint32_t)(h - (t + 2)) <= r->nbatches)	/* in batches times two: half */
		changed(&r->tail, &r->producer_sleeps);
}
