/* Per-key state with a one-second window, kept in a Space-Saving table so
 * that a flood of new keys evicts the lightest instead of growing memory.
 *
 * An entry is a detector's own struct that starts with struct dr_kwin,
 * then the fields that count one window (reset when a new second starts:
 * the first window_size bytes), then fields that persist across windows
 * (baselines, streaks). The table lists the entries touched in the current
 * second, so a tick judges only those. When full, it evicts, among 8
 * sampled entries, the one whose window is oldest (then the lightest):
 * detectors need recent heavy keys, not Space-Saving's error bound. */
#ifndef DR_DETECT_KWIN_H
#define DR_DETECT_KWIN_H

#include <stdint.h>

#include "lib/topk.h"

struct dr_kwin {
	int64_t sec;		/* the second this window counts */
	int64_t judged;		/* the second last judged at a tick */
	double first, last;	/* packet times in the window */
	uint64_t pkts, bytes;	/* in the window */
};

struct dr_ktable {
	struct dr_topk t;
	uint32_t window_size;	/* bytes of an entry reset per window */
	uint32_t *stamp;	/* per entry: the last second it was hit, packed
				 * so that eviction reads one cache line */
	uint32_t *touched;	/* entries touched this second */
	uint32_t ntouched, touched_cap;
};

/* entry_size includes the struct dr_kwin header. 0 or DR_ENOMEM. */
int dr_ktable_init(struct dr_ktable *k, uint32_t capacity, uint32_t key_size,
		   uint32_t entry_size, uint32_t window_size);
void dr_ktable_fini(struct dr_ktable *k);

/* Counts one packet of `bytes` at time ts for key in second `now`;
 * returns the entry (valid until the next hit). A key not seen before (or
 * evicted since) starts with every field zero. */
void *dr_ktable_hit(struct dr_ktable *k, const void *key, uint32_t key_len, uint64_t hash,
		    int64_t now, double ts, uint64_t bytes);

/* The entry of key if it is tracked, else NULL; counts nothing. Lets a
 * detector add to a key's window without creating keys for everyone. */
void *dr_ktable_find(struct dr_ktable *k, const void *key, uint32_t key_len, uint64_t hash,
		     int64_t now, double ts);

/* Returns the next entry touched in second `sec` not yet judged, marking it
 * judged, or NULL when all are done (the touched list is then cleared).
 * *key and *key_len give its key. */
void *dr_ktable_next(struct dr_ktable *k, int64_t sec, const uint8_t **key, uint32_t *key_len);

size_t dr_ktable_mem(const struct dr_ktable *k);

/* For detectors whose whole state is one table: allocate it (NULL when out
 * of memory), and the .mem and .fini operations. */
struct dr_ktable *dr_ktable_new(uint32_t capacity, uint32_t key_size, uint32_t entry_size,
				uint32_t window_size);
size_t dr_ktable_state_mem(const void *state);
void dr_ktable_free(void *state);

/* Counts second `sec` into a run of consecutive seconds in which a
 * condition held; returns the run's length. */
static inline uint32_t dr_streak(uint32_t *run, int64_t *last, int64_t sec)
{
	*run = *last == sec - 1 ? *run + 1 : 1;
	*last = sec;
	return *run;
}

#endif
