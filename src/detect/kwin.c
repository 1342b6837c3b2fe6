/* Keyed one-second windows over a Space-Saving table. */
#include "detect/kwin.h"

#include <stdlib.h>
#include <string.h>

#include "core/errors.h"

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
	k->touched_cap = capacity * 2;
	k->touched = malloc((size_t)k->touched_cap * sizeof(*k->touched));
	k->stamp = calloc(capacity, sizeof(*k->stamp));
	if (!k->touched || !k->stamp) {
		free(k->touched);
		free(k->stamp);
		dr_topk_fini(&k->t);
		return DR_ENOMEM;
	}
	return 0;
}

void dr_ktable_fini(struct dr_ktable *k)
{
	dr_topk_fini(&k->t);
	free(k->touched);
	free(k->stamp);
	memset(k, 0, sizeof(*k));
}

size_t dr_ktable_mem(const struct dr_ktable *k)
{
	return dr_topk_mem(&k->t) + (size_t)k->touched_cap * sizeof(*k->touched) +
	       (size_t)k->t.capacity * sizeof(*k->stamp);
}

struct dr_ktable *dr_ktable_new(uint32_t capacity, uint32_t key_size, uint32_t entry_size,
				uint32_t window_size)
{
	struct dr_ktable *k = malloc(sizeof(*k));
	if (k && dr_ktable_init(k, capacity, key_size, entry_size, window_size) < 0) {
		free(k);
		k = NULL;
	}
	return k;
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

void *dr_ktable_hit(struct dr_ktable *k, const void *key, uint32_t key_len, uint64_t hash,
		    int64_t now, double ts, uint64_t bytes)
{
	int fresh;
	uint32_t e = dr_topk_add(&k->t, key, key_len, (uint32_t)hash, 1, &fresh);
	struct dr_kwin *w = dr_topk_extra(&k->t, e);
	k->stamp[e] = (uint32_t)now;
	if (fresh || w->sec != now) {
		int64_t judged = fresh ? 0 : w->judged;
		memset(w, 0, k->window_size);
		w->sec = now;
		w->judged = judged;
		w->first = ts;
		if (k->ntouched < k->touched_cap)
			k->touched[k->ntouched++] = e;
	}
	w->last = ts;
	w->pkts++;
	w->bytes += bytes;
	return w;
}

void *dr_ktable_find(struct dr_ktable *k, const void *key, uint32_t key_len, uint64_t hash,
		     int64_t now, double ts)
{
	int64_t e = dr_topk_find(&k->t, key, key_len, (uint32_t)hash);
	if (e < 0)
		return NULL;
	struct dr_kwin *w = dr_topk_extra(&k->t, (uint32_t)e);
	if (w->sec != now) {
		int64_t judged = w->judged;
		memset(w, 0, k->window_size);
		w->sec = now;
		w->judged = judged;
		w->first = w->last = ts;
		if (k->ntouched < k->touched_cap)
			k->touched[k->ntouched++] = (uint32_t)e;
	}
	return w;
}

void *dr_ktable_next(struct dr_ktable *k, int64_t sec, const uint8_t **key, uint32_t *key_len)
{
	while (k->ntouched) {
		uint32_t e = k->touched[--k->ntouched];
		struct dr_kwin *w = dr_topk_extra(&k->t, e);
		if (w->sec != sec || w->judged == sec)
			continue;
		w->judged = sec;
		*key = dr_topk_key(&k->t, e);
		*key_len = k->t.key_len[e];
		return w;
	}
	return NULL;
}
