/* Drives the detectors: dispatches records by kind, and ticks the seconds
 * the engine's clock closes. */
#include "detect/engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/keys.h"

void dr_engine_defaults(struct dr_engine *e)
{
	memset(e, 0, sizeof(*e));
	e->n = dr_ndetectors < DR_DETECTORS_MAX ? dr_ndetectors : DR_DETECTORS_MAX;
	for (unsigned i = 0; i < e->n; i++) {
		e->enabled[i] = 1;
		for (unsigned p = 0; p < dr_detectors[i]->nparams; p++)
			e->values[i][p] = dr_detectors[i]->params[p].def;
	}
}

/* Removes leading and trailing blanks in place. */
static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = 0;
	size_t lead = strspn(s, " \t");
	memmove(s, s + lead, n - lead + 1);
}

int dr_engine_set(struct dr_engine *e, const char *assignment, char *errbuf, size_t errlen)
{
	const char *dot = strchr(assignment, '.');
	const char *eq = strchr(assignment, '=');
	if (!dot || !eq || dot > eq) {
		snprintf(errbuf, errlen, "'%s': expected DETECTOR.PARAM=VALUE, e.g. "
			 "reflection.min_rps=10", assignment);
		return -1;
	}
	char name[64], param[64], value[64];
	snprintf(name, sizeof(name), "%.*s", (int)(dot - assignment), assignment);
	snprintf(param, sizeof(param), "%.*s", (int)(eq - dot - 1), dot + 1);
	snprintf(value, sizeof(value), "%s", eq + 1);
	/* config files write "a.b = 1" */
	trim(name);
	trim(param);
	trim(value);
	char *end;
	errno = 0;
	double v = strtod(value, &end);
	if (!*value || *end || errno) {
		snprintf(errbuf, errlen, "'%s': '%s' is not a number", assignment, value);
		return -1;
	}
	for (unsigned i = 0; i < e->n; i++) {
		const struct dr_detector *d = dr_detectors[i];
		if (strcmp(d->name, name) != 0)
			continue;
		if (strcmp(param, "enabled") == 0) {
			e->enabled[i] = v != 0;
			return 0;
		}
		for (unsigned p = 0; p < d->nparams; p++) {
			if (strcmp(d->params[p].name, param) == 0) {
				if (v < 0) {
					snprintf(errbuf, errlen, "'%s': thresholds are not negative",
						 assignment);
					return -1;
				}
				e->values[i][p] = v;
				return 0;
			}
		}
		snprintf(errbuf, errlen, "'%s': %s has no threshold '%s' (see docs/detectors.md)",
			 assignment, name, param);
		return -1;
	}
	snprintf(errbuf, errlen, "'%s': no detector '%s'; there are reflection, "
		 "amplification, random_subdomain, flood and loop", assignment, name);
	return -1;
}

int dr_engine_load_config(struct dr_engine *e, const char *path, dr_config_fn other,
			  void *ctx, char *errbuf, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char line[512], why[400];
	unsigned lineno = 0;
	int rc = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		char *s = line + strspn(line, " \t\r\n");
		size_t n = strlen(s);
		while (n && strchr(" \t\r\n", s[n - 1]))
			s[--n] = 0;
		if (!*s)
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			snprintf(errbuf, errlen, "%s:%u: expected NAME = VALUE", path, lineno);
			rc = -1;
			break;
		}
		char key[64];
		snprintf(key, sizeof(key), "%.*s", (int)(eq - s), s);
		size_t kn = strlen(key);
		while (kn && (key[kn - 1] == ' ' || key[kn - 1] == '\t'))
			key[--kn] = 0;
		char *val = eq + 1 + strspn(eq + 1, " \t");
		int bad = 1;
		if (strcmp(key, "local") == 0)
			bad = dr_roles_add_local(&e->roles, val, why, sizeof(why));
		else if (strcmp(key, "resolver") == 0)
			bad = dr_roles_add_resolver(&e->roles, val, why, sizeof(why));
		else if (strcmp(key, "authoritative") == 0)
			bad = dr_roles_add_authoritative(&e->roles, val, why, sizeof(why));
		else if (other && !strchr(key, '.'))
			bad = other(ctx, key, val, why, sizeof(why));
		if (bad == 1)
			bad = dr_engine_set(e, s, why, sizeof(why));
		if (bad) {
			snprintf(errbuf, errlen, "%s:%u: %s", path, lineno, why);
			rc = -1;
			break;
		}
	}
	fclose(f);
	return rc;
}

int dr_engine_start(struct dr_engine *e, const uint8_t *dns_ports)
{
	if (!e->alerts.a && dr_alerts_init(&e->alerts) < 0)
		return DR_ENOMEM;
	e->regdom = dr_regdom_new();
	if (!e->regdom)
		return DR_ENOMEM;
	dr_clock_init(&e->clock, e->lateness);
	if (e->lateness > 0 && dr_reorder_init(&e->reorder, e->reorder_cap ? e->reorder_cap
									   : DR_REORDER_DEFAULT) < 0)
		return DR_ENOMEM;
	for (unsigned i = 0; i < e->n; i++) {
		e->env[i] = (struct dr_detect_env){
			.roles = &e->roles, .alerts = &e->alerts, .param = e->values[i],
			.regdom = e->regdom, .dns_ports = dns_ports,
		};
		if (!e->enabled[i])
			continue;
		e->state[i] = dr_detectors[i]->init(&e->env[i]);
		if (!e->state[i])
			return DR_ENOMEM;
	}
	return 0;
}

int dr_engine_subscribe(struct dr_engine *e, dr_alert_sink_fn fn, void *ctx)
{
	if (!e->alerts.a && dr_alerts_init(&e->alerts) < 0)
		return DR_ENOMEM;
	return dr_alerts_subscribe(&e->alerts, fn, ctx);
}

/* Judges every second before `before`, once. */
static void tick(struct dr_engine *e, int64_t before)
{
	if (e->ticking && before <= e->ticked)
		return;
	if (e->ticking) {
		for (unsigned i = 0; i < e->n; i++)
			if (e->state[i])
				dr_detectors[i]->on_tick(e->state[i], before, &e->env[i]);
		dr_alerts_tick(&e->alerts, (double)before);
	}
	e->ticked = before;
	e->ticking = 1;
}

/* Hands a record to the detectors that judge its kind, in its own second
 * unless that second is over. */
static void dispatch(struct dr_engine *e, const struct dr_record *r)
{
	int64_t sec = r->ts_sec;
	if (e->ticking && sec < e->ticked) {
		e->late++;
		sec = e->ticked;
	}
	tick(e, sec);
	e->records[r->kind == DR_KIND_FLOW]++;
	for (unsigned i = 0; i < e->n; i++) {
		if (!e->state[i] || !(dr_detectors[i]->kinds & r->kind))
			continue;
		e->env[i].now = sec;
		dr_detectors[i]->on_record(e->state[i], r, &e->env[i]);
	}
}

/* Hands on the held records the watermark has passed, then judges the
 * seconds before it. */
static void release(struct dr_engine *e)
{
	const struct dr_record *r;
	while ((r = dr_reorder_peek(&e->reorder)) && r->ts_sec < e->clock.watermark)
		dispatch(e, dr_reorder_pop(&e->reorder));
	tick(e, e->clock.watermark);
}

void dr_engine_record(struct dr_engine *e, struct dr_record *r)
{
	dr_keys_fill(r, e->regdom);
	dr_clock_observe(&e->clock, r->ts_sec);
	if (!e->reorder.cap) {
		dispatch(e, r);
		return;
	}
	if (dr_reorder_full(&e->reorder)) {
		e->early++;
		dispatch(e, dr_reorder_pop(&e->reorder));
	}
	dr_reorder_push(&e->reorder, r);
	release(e);
}

void dr_engine_advance(struct dr_engine *e, int64_t now)
{
	dr_clock_advance(&e->clock, now);
	if (e->clock.started)
		release(e);
}

int dr_engine_active(const struct dr_engine *e)
{
	for (unsigned i = 0; i < e->n; i++)
		if (e->state[i])
			return 1;
	return 0;
}

void dr_engine_finish(struct dr_engine *e)
{
	if (e->clock.started) {
		/* the last second, and those held open for late records */
		dr_clock_advance(&e->clock, e->clock.latest + 1 + e->clock.lateness);
		release(e);
	}
	dr_alerts_close_all(&e->alerts);
}

size_t dr_engine_mem(const struct dr_engine *e, unsigned i)
{
	return e->state[i] ? dr_detectors[i]->mem(e->state[i]) : 0;
}

void dr_engine_fini(struct dr_engine *e)
{
	for (unsigned i = 0; i < e->n; i++) {
		if (e->state[i])
			dr_detectors[i]->fini(e->state[i]);
		e->state[i] = NULL;
	}
	dr_alerts_fini(&e->alerts);
	dr_reorder_fini(&e->reorder);
	dr_regdom_free(e->regdom);
	e->regdom = NULL;
}
