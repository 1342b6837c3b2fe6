/* Keyed one-second windows over a Space-Saving table. */
#include "detect/kwin.h"

#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"

static uint32_t stalest(const struct dr_topk *t, const uint32_t *cand, unsigned n, void *ctx)
{
	const uint32_t *stamp = ((const struct dr_ktable *)ctx)->stamp;
	uint32_t best = cand[0];
	for (unsigned i = 1; i < n; i++) {
		uint32_t c = cand[i];
		if (stamp[c] < stamp[best] || (stamp[c] == stamp[best] && t->count[c] < t->count[best]))
			best = c;
	}
	return best;
}

int dr_ktable_init(struct dr_ktable *k, uint32_t capacity, uint32_t key_size,
		   uint32_t entry_size, uint32_t window_size)
{
	memset(k, 0, sizeof(*k));
	if (dr_topk_init(&k->t, capacity, key_size, entry_size) < 0)
		return DR_ENOMEM;
	dr_topk_set_lazy(&k->t, stalest, k);
	k->window_size = window_size;
	k->open_cap = capacity * 2;
	k->open = malloc((size_t)k->open_cap * sizeof(*k->open));
	k->stamp = calloc(capacity, sizeof(*k->stamp));
	k->scratch = calloc(1, entry_size);
	if (!k->open || !k->stamp || !k->scratch) {
		free(k->open);
		free(k->stamp);
		free(k->scratch);
		dr_topk_fini(&k->t);
		return DR_ENOMEM;
	}
	return 0;
}

void dr_ktable_set_judge(struct dr_ktable *k, dr_kwin_judge_fn judge, void *ctx)
{
	k->judge = judge;
	k->judge_ctx = ctx;
}

void dr_ktable_fini(struct dr_ktable *k)
{
	dr_topk_fini(&k->t);
	free(k->open);
	free(k->stamp);
	free(k->scratch);
	memset(k, 0, sizeof(*k));
}

size_t dr_ktable_mem(const struct dr_ktable *k)
{
	return dr_topk_mem(&k->t) + (size_t)k->open_cap * sizeof(*k->open) +
	       (size_t)k->t.capacity * sizeof(*k->stamp);
}

struct dr_ktable *dr_ktable_new(uint32_t capacity, uint32_t key_size, uint32_t entry_size,
				uint32_t window_size, dr_kwin_judge_fn judge, void *judge_ctx)
{
	struct dr_ktable *k = malloc(sizeof(*k));
	if (k && dr_ktable_init(k, capacity, key_size, entry_size, window_size) < 0) {
		free(k);
		k = NULL;
	}
	if (k)
		dr_ktable_set_judge(k, judge, judge_ctx);
	return k;
}

void dr_ktable_tick(void *state, int64_t before)
{
	dr_ktable_flush(state, before);
}

uint64_t dr_ktable_state_unjudged(const void *state)
{
	return ((const struct dr_ktable *)state)->unjudged;
}

size_t dr_ktable_state_mem(const void *state)
{
	return sizeof(struct dr_ktable) + dr_ktable_mem(state);
}

void dr_ktable_free(void *state)
{
	dr_ktable_fini(state);
	free(state);
}

/* Judges e's window if that is still to be done. */
static void judge(struct dr_ktable *k, uint32_t e, struct dr_kwin *w)
{
	if (w->judged == w->sec)
		return;
	w->judged = w->sec;
	if (k->judge)
		k->judge(k->judge_ctx, w, dr_topk_key(&k->t, e), k->t.key_len[e], w->sec);
}

/* Starts e's window of second sec, judging the one it had. */
static void roll(struct dr_ktable *k, uint32_t e, struct dr_kwin *w, int fresh, int64_t sec,
		 double ts)
{
	int64_t judged = INT64_MIN;	/* no second has been judged */
	if (!fresh) {
		judge(k, e, w);
		judged = w->judged;
	}
	memset(w, 0, k->window_size);
	w->sec = sec;
	w->judged = judged;
	w->first = w->last = ts;
	if (k->nopen < k->open_cap)
		k->open[k->nopen++] = e;
	else
		k->unjudged++;
}

void *dr_ktable_hit(struct dr_ktable *k, const void *key, uint32_t key_len, uint64_t hash,
		    int64_t sec, double ts, uint64_t pkts, uint64_t bytes)
{
	int fresh;
	uint32_t e = dr_topk_add(&k->t, key, key_len, (uint32_t)hash, pkts, &fresh);
	if (e == DR_TOPK_REFUSED)
		return k->scratch;
	struct dr_kwin *w = dr_topk_extra(&k->t, e);
	k->stamp[e] = (uint32_t)sec;
	if (fresh || w->sec < sec)
		roll(k, e, w, fresh, sec, ts);	/* a window newer than sec takes it as is */
	if (ts > w->last)
		w->last = ts;
	if (ts < w->first)
		w->first = ts;
	w->pkts += pkts;
	w->bytes += bytes;
	return w;
}

void *dr_ktable_find(struct dr_ktable *k, const void *key, uint32_t key_len, uint64_t hash,
		     int64_t sec, double ts)
{
	int64_t e = dr_topk_find(&k->t, key, key_len, (uint32_t)hash);
	if (e < 0)
		return NULL;
	struct dr_kwin *w = dr_topk_extra(&k->t, (uint32_t)e);
	if (w->sec < sec)
		roll(k, (uint32_t)e, w, 0, sec, ts);
	return w;
}

void dr_ktable_flush(struct dr_ktable *k, int64_t before)
{
	uint32_t keep = 0;
	for (uint32_t i = 0; i < k->nopen; i++) {
		uint32_t e = k->open[i];
		struct dr_kwin *w = dr_topk_extra(&k->t, e);
		if (w->judged == w->sec)
			continue;	/* judged when its key moved on, or listed twice */
		if (w->sec < before)
			judge(k, e, w);
		else
			k->open[keep++] = e;
	}
	k->nopen = keep;
}
