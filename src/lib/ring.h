/* A single-producer, single-consumer ring of fixed-size batches, for
 * handing work from one thread to another. The producer fills a whole
 * batch and publishes it; the consumer takes batches in the order they were
 * published. A consumer waiting spins briefly, then sleeps on a futex; a
 * producer waiting for room sleeps at once, until half the ring is free;
 * an idle side costs no CPU. Capacity is fixed at init. */
#ifndef DR_LIB_RING_H
#define DR_LIB_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct dr_ring {
	uint8_t *mem;
	size_t batch_size;
	uint32_t nbatches;
	/* Counters of batches, times two; head's low bit is set once the
	 * producer has finished. Each is also the futex word its waiter
	 * sleeps on, so a change always wakes it. */
	_Alignas(64) _Atomic uint32_t head;	/* published */
	_Alignas(64) _Atomic uint32_t tail;	/* consumed */
	_Alignas(64) _Atomic uint32_t consumer_sleeps;
	_Atomic uint32_t producer_sleeps;
	uint64_t producer_waits;	/* times the producer found the ring full */
};

/* Allocates nbatches batches of batch_size bytes (64-byte aligned).
 * Returns 0 or DR_ENOMEM. */
int dr_ring_init(struct dr_ring *r, uint32_t nbatches, size_t batch_size);
void dr_ring_fini(struct dr_ring *r);
size_t dr_ring_mem(const struct dr_ring *r);

/* Producer: the next batch to fill, waiting while the ring is full. */
void *dr_ring_produce(struct dr_ring *r);
/* Producer: hands the batch from dr_ring_produce to the consumer. */
void dr_ring_publish(struct dr_ring *r);
/* Producer: no more batches will come. */
void dr_ring_close(struct dr_ring *r);

/* Consumer: the next published batch, waiting for one; NULL once the
 * producer has closed the ring and every batch has been taken. */
void *dr_ring_consume(struct dr_ring *r);
/* Consumer: the batch from dr_ring_consume may be reused. */
void dr_ring_release(struct dr_ring *r);

#endif
