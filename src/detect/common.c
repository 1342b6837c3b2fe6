/* Shared detector helpers. */
#include "detect/common.h"

#include <stdio.h>
#include <string.h>

void dr_ev_list_set(struct dr_ev_list *l, const struct dr_top4 *t, unsigned prefix4,
		    unsigned prefix6, uint32_t distinct, int at_least)
{
	unsigned order[DR_FEW_TOP], n = 0;
	for (unsigned i = 0; i < DR_FEW_TOP; i++)
		if (t->count[i])
			order[n++] = i;
	for (unsigned i = 1; i < n; i++)	/* heaviest first */
		for (unsigned j = i; j > 0 && t->count[order[j]] > t->count[order[j - 1]]; j--) {
			unsigned x = order[j];
			order[j] = order[j - 1];
			order[j - 1] = x;
		}
	memset(l, 0, sizeof(*l));
	l->n = (uint8_t)(n < DR_EV_TOP ? n : DR_EV_TOP);
	l->distinct = distinct;
	l->at_least = (uint8_t)(at_least != 0);
	for (unsigned i = 0; i < l->n; i++) {
		dr_ev_addr_set(&l->item[i].addr, t->key[order[i]], prefix4, prefix6);
		l->item[i].count = t->count[order[i]];
	}
}

void dr_ev_name(char *dst, size_t cap, const uint8_t *wire, size_t wire_len)
{
	char text[DR_NAME_TEXT_MAX];
	dr_name_to_text(wire, wire_len, text);
	dr_copy_cut(dst, cap, text);
}

void dr_fire_window(const struct dr_detect_env *env, const char *type, const char *key,
		    struct dr_run *run, const struct dr_kwin *w, double pps, int severity,
		    const struct dr_evidence *ev)
{
	struct dr_evidence told = *ev;
	told.from_flows = w->aggregates > 0;	/* counted from flow exports */
	if (told.from_flows) {
		told.sampling = w->sampling ? w->sampling : 1;
		if (w->exporter[0])
			dr_ev_addr_set(&told.exporter, w->exporter, 32, 128);
	}
	struct dr_fire f = {
		.type = type, .key = key, .start = run->first, .last = w->last,
		.pps = pps, .bps = (double)w->bytes * 8, .severity = severity, .ev = &told,
	};
	dr_run_take(run, &f.packets, &f.bytes);
	dr_alert_fire(env->alerts, &f);
}

void dr_ktable_on_tick(void *state, int64_t before, const struct dr_detect_env *env)
{
	(void)env;
	dr_ktable_flush(state, before);
}
