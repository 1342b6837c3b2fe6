/* Per-key state with a one-second window, kept in a Space-Saving table so
 * that a flood of new keys evicts the lightest instead of growing memory.
 *
 * An entry is a detector's own struct that starts with struct dr_kwin,
 * then the fields that count one window (reset when a new second starts:
 * the first window_size bytes), then fields that persist across windows
 * (baselines, runs). A window is judged exactly once, by the detector's
 * judge function: when the key's next second starts (its window is then
 * complete), or when the engine's clock passes the window's second (a key
 * that went quiet), whichever comes first. A record older than the key's
 * open window counts in that window (the engine counts it late). When
 * full, the table evicts, among 8 sampled entries, the one whose window is oldest
 * (then the lightest): detectors need recent heavy keys, not
 * Space-Saving's error bound. */
#ifndef DR_DETECT_KWIN_H
#define DR_DETECT_KWIN_H

#include <stddef.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode/record.h"
#include "lib/topk.h"

struct dr_kwin {
	int64_t sec;		/* the second this window counts */
	int64_t judged;		/* the second last judged */
	double first, last;	/* packet times in the window */
	uint64_t pkts, bytes;	/* in the window, weighted */
	uint64_t aggregates;	/* records of them from flow exports (flow
				 * records, sFlow's sampled headers) */
	uint32_t sampling;	/* the highest sampling rate among those */
	uint32_t samples;	/* packets actually sampled, of records sampled
				 * 1 in N > 1: what the window's estimates rest on */
	uint8_t exporter[DR_AKEY];	/* the latest exporter among those */
};

/* A second whose counts are estimates from fewer sampled packets than this
 * proves nothing: one packet sampled 1 in 2,000 "is" 2,000 packets a
 * second, and noise just under a threshold crosses it. Such a second does
 * not extend a run (dr_run_add). Four samples put the estimate within a
 * factor of two of the truth most of the time (docs/flows.md). */
#define DR_MIN_SAMPLES 4

/* Judges entry's window of second `sec` (entry->sec == sec); ctx is the
 * table's. */
typedef void (*dr_kwin_judge_fn)(void *ctx, void *entry, const uint8_t *key, uint32_t key_len,
				 int64_t sec);

struct dr_ktable {
	struct dr_topk t;
	uint32_t window_size;	/* bytes of an entry reset per window */
	uint32_t *stamp;	/* per entry: the last second it was hit, packed
				 * so that eviction reads one cache line */
	uint32_t *open;		/* entries whose window may not be judged yet */
	uint32_t nopen, open_cap;
	dr_kwin_judge_fn judge;
	void *judge_ctx;
	/* Where the counts of a record whose key the doorkeeper refused go:
	 * never judged, never read. */
	struct dr_kwin *scratch;
	uint64_t unjudged;	/* windows lost: the open list was full */
};

/* Octets one entry of a table costs at most, for the entry_octets of a
 * capacity setting (detector.h): its key and entry, the Space-Saving
 * count, error, hash and key length, up to four hash slots (the index is
 * the power of two at or above twice the capacity), two places in the
 * open list, a stamp and up to 32 bits of doorkeeper (lib/topk.h). tests/unit/test_settings.c holds every
 * detector's declaration to what its tables really take. */
#define DR_KTABLE_ENTRY_OCTETS(key_size, entry_size) \
	((size_t)(key_size) + (entry_size) + 8 + 8 + 4 + 2 + 4 * 8 + 2 * 4 + 4 + 4)

/* entry_size includes the struct dr_kwin header. 0 or DR_ENOMEM. */
int dr_ktable_init(struct dr_ktable *k, uint32_t capacity, uint32_t key_size,
		   uint32_t entry_size, uint32_t window_size);
void dr_ktable_fini(struct dr_ktable *k);

/* Sets the judge and its context; call once after init. */
void dr_ktable_set_judge(struct dr_ktable *k, dr_kwin_judge_fn judge, void *ctx);

/* Counts a record standing for `pkts` packets of `bytes` octets at time ts
 * in second `sec`; returns the entry (valid until the next hit). A key not
 * seen before (or evicted since) starts with every field zero; a key whose
 * window is of an earlier second has that window judged first. A key a
 * full table's doorkeeper refuses (seen once: lib/topk.h) gets a scratch
 * entry that the caller may write and nothing ever reads; its fields hold
 * anything, but stay within their bounds as the caller's own updates do. */
void *dr_ktable_hit(struct dr_ktable *k, const void *key, uint32_t key_len, uint64_t hash,
		    int64_t sec, double ts, uint64_t pkts, uint64_t bytes);

/* dr_ktable_hit for record r: its time, what it stands for, its kind. */
static inline void *dr_ktable_hit_record(struct dr_ktable *k, const void *key, uint32_t key_len,
					 uint64_t hash, int64_t sec, const struct dr_record *r)
{
	struct dr_kwin *w = dr_ktable_hit(k, key, key_len, hash, sec, dr_record_time(r),
					  r->packets, r->bytes);
	if (r->kind == DR_KIND_FLOW || r->exporter[0]) {
		w->aggregates++;
		if (r->sampling > w->sampling)
			w->sampling = r->sampling;
		if (r->sampling > 1) {
			uint64_t n = r->packets / r->sampling;
			w->samples += n ? (uint32_t)n : 1;
		}
		memcpy(w->exporter, r->exporter, DR_AKEY);
	}
	return w;
}

/* The entry of key if it is tracked, else NULL; counts nothing, but moves
 * the key's window to `sec` as a hit would. Lets a detector add to a key's
 * window without creating keys for everyone. */
void *dr_ktable_find(struct dr_ktable *k, const void *key, uint32_t key_len, uint64_t hash,
		     int64_t sec, double ts);

/* Judges every open window of a second before `before`. */
void dr_ktable_flush(struct dr_ktable *k, int64_t before);

size_t dr_ktable_mem(const struct dr_ktable *k);

/* For detectors whose whole state is one table: allocate it with its judge
 * (NULL when out of memory), and the .mem and .fini operations. */
struct dr_ktable *dr_ktable_new(uint32_t capacity, uint32_t key_size, uint32_t entry_size,
				uint32_t window_size, dr_kwin_judge_fn judge, void *judge_ctx);
void dr_ktable_tick(void *state, int64_t before);
size_t dr_ktable_state_mem(const void *state);
uint64_t dr_ktable_state_unjudged(const void *state);
void dr_ktable_free(void *state);

/* A run of consecutive seconds in which a detector's condition held, with
 * what it counted since it began, so that an alert covers the whole
 * attack: the first second of the run is the attack's start, and the
 * packets and bytes of every window of the run are in its totals. */
struct dr_run {
	uint32_t len;		/* seconds in a row */
	int64_t last_sec;	/* the last second counted */
	double first;		/* the first packet of the run */
	uint64_t pkts, bytes;	/* not yet handed to an alert */
};

/* Counts window w of second sec into the run; returns the run's length,
 * 0 (the run broken) when w rests on too few samples (DR_MIN_SAMPLES). */
static inline uint32_t dr_run_add(struct dr_run *run, int64_t sec, const struct dr_kwin *w)
{
	if (w->sampling > 1 && w->samples < DR_MIN_SAMPLES) {
		run->len = 0;
		return 0;
	}
	if (run->len && run->last_sec == sec - 1) {
		run->len++;
	} else {
		run->len = 1;
		run->first = w->first;
		run->pkts = run->bytes = 0;
	}
	run->last_sec = sec;
	run->pkts += w->pkts;
	run->bytes += w->bytes;
	return run->len;
}

/* The condition did not hold: the run is over. */
static inline void dr_run_break(struct dr_run *run)
{
	run->len = 0;
}

/* Takes what the run counted since the last take (for an alert's totals). */
static inline void dr_run_take(struct dr_run *run, uint64_t *pkts, uint64_t *bytes)
{
	*pkts = run->pkts;
	*bytes = run->bytes;
	run->pkts = run->bytes = 0;
}

#endif
