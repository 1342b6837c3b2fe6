/* The alert list: windows joined into attacks. */
#include "detect/alert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"

int dr_alerts_init(struct dr_alerts *al)
{
	memset(al, 0, sizeof(*al));
	al->a = calloc(DR_ALERTS_MAX, sizeof(*al->a));
	return al->a ? 0 : DR_ENOMEM;
}

void dr_alerts_fini(struct dr_alerts *al)
{
	free(al->a);
	memset(al, 0, sizeof(*al));
}

const char *dr_severity_name(int severity)
{
	switch (severity) {
	case DR_SEV_LOW: return "low";
	case DR_SEV_MEDIUM: return "medium";
	case DR_SEV_HIGH: return "high";
	case DR_SEV_CRITICAL: return "critical";
	default: return "info";
	}
}

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

void dr_alert_fire(struct dr_alerts *al, const struct dr_fire *f)
{
	struct dr_alert *a = NULL;
	/* The newest alert of this (type, key) continues if recent enough. */
	for (unsigned i = al->n; i-- > 0;) {
		struct dr_alert *c = &al->a[i];
		if (c->type == f->type && strcmp(c->key, f->key) == 0) {
			if (f->first - c->end <= DR_ALERT_QUIET)
				a = c;
			break;
		}
	}
	if (!a) {
		if (al->n == DR_ALERTS_MAX) {
			al->dropped++;
			return;
		}
		a = &al->a[al->n++];
		memset(a, 0, sizeof(*a));
		a->type = f->type;
		copy(a->key, sizeof(a->key), f->key);
		a->start = f->first;
	}
	if (f->last > a->end)
		a->end = f->last;
	if (f->severity > a->severity)
		a->severity = f->severity;
	a->packets += f->packets;
	a->bytes += f->bytes;
	if (f->pps > a->peak_pps)
		a->peak_pps = f->pps;
	if (f->bps > a->peak_bps)
		a->peak_bps = f->bps;
	copy(a->evidence, sizeof(a->evidence), f->evidence ? f->evidence : "{}");
	copy(a->summary, sizeof(a->summary), f->summary);
	copy(a->action, sizeof(a->action), f->action);
}

static int by_start(const void *pa, const void *pb)
{
	const struct dr_alert *a = pa, *b = pb;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	int c = strcmp(a->type, b->type);
	return c ? c : strcmp(a->key, b->key);
}

void dr_alerts_sort(struct dr_alerts *al)
{
	qsort(al->a, al->n, sizeof(*al->a), by_start);
}
