/* The alert list: windows joined into attacks, and their events. */
#include "detect/alert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"

int dr_alerts_init(struct dr_alerts *al)
{
	memset(al, 0, sizeof(*al));
	al->a = calloc(DR_ALERTS_MAX, sizeof(*al->a));
	al->quiet = DR_ALERT_QUIET;
	return al->a ? 0 : DR_ENOMEM;
}

void dr_alerts_fini(struct dr_alerts *al)
{
	free(al->a);
	memset(al, 0, sizeof(*al));
}

int dr_alerts_subscribe(struct dr_alerts *al, dr_alert_sink_fn fn, void *ctx)
{
	if (al->nsinks == DR_ALERT_SINKS)
		return -1;
	al->sink[al->nsinks].fn = fn;
	al->sink[al->nsinks].ctx = ctx;
	al->nsinks++;
	return 0;
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

static void emit(struct dr_alerts *al, enum dr_alert_event event, struct dr_alert *a)
{
	a->last_event = a->end;
	a->pending = 0;
	a->event_severity = a->severity;
	for (unsigned i = 0; i < al->nsinks; i++)
		al->sink[i].fn(al->sink[i].ctx, event, a);
}

static void close_alert(struct dr_alerts *al, struct dr_alert *a)
{
	a->closed = 1;
	emit(al, DR_EVENT_CLOSE, a);
	a->type = NULL;		/* the slot is free again */
	al->nopen--;
	al->closed++;
}

void dr_alert_fire(struct dr_alerts *al, const struct dr_fire *f)
{
	struct dr_alert *a = NULL, *free_slot = NULL;
	for (unsigned i = 0; i < DR_ALERTS_MAX; i++) {
		struct dr_alert *c = &al->a[i];
		if (!c->type) {
			if (!free_slot)
				free_slot = c;
			continue;
		}
		if (c->type == f->type && strcmp(c->key, f->key) == 0) {
			a = c;
			break;
		}
	}
	int opening = !a;
	if (opening) {
		if (!free_slot) {
			al->dropped++;
			return;
		}
		a = free_slot;
		memset(a, 0, sizeof(*a));
		a->id = ++al->next_id;
		a->type = f->type;
		snprintf(a->key, sizeof(a->key), "%s", f->key);
		a->start = f->start;
		a->detected = f->last;
		al->nopen++;
		al->opened++;
	}
	if (f->start < a->start)
		a->start = f->start;
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
	a->last_pps = f->pps;
	a->last_bps = f->bps;
	a->windows++;
	if (f->ev)
		a->ev = *f->ev;
	a->pending = 1;
	if (opening)
		emit(al, DR_EVENT_OPEN, a);
	else if (a->severity > a->event_severity)
		emit(al, DR_EVENT_UPDATE, a);	/* worse: say so at once */
}

void dr_alerts_tick(struct dr_alerts *al, double now)
{
	if (!al->nopen)
		return;
	for (unsigned i = 0; i < DR_ALERTS_MAX; i++) {
		struct dr_alert *a = &al->a[i];
		if (!a->type)
			continue;
		if (now - a->end > al->quiet)
			close_alert(al, a);
		else if (a->pending && a->end - a->last_event >= DR_ALERT_UPDATE_EVERY)
			emit(al, DR_EVENT_UPDATE, a);
	}
}

void dr_alerts_close_all(struct dr_alerts *al)
{
	/* in order of opening, so that subscribers see a stable order */
	while (al->nopen) {
		struct dr_alert *first = NULL;
		for (unsigned i = 0; i < DR_ALERTS_MAX; i++)
			if (al->a[i].type && (!first || al->a[i].id < first->id))
				first = &al->a[i];
		close_alert(al, first);
	}
}
