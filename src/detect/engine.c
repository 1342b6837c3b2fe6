/* Drives the detectors: dispatches records by kind, and ticks the seconds
 * the engine's clock closes. */
#include "detect/engine.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/errors.h"
#include "core/keys.h"

/* Every detector's on/off switch, validated like its own settings. */
static const struct dr_param enabled_param = {
	"enabled", 1, "0 turns the detector off", DR_PARAM_BOOL, NULL, 0, 0, 0,
};

/* The octets the detectors' tables may take: the machine's memory. */
static size_t physical_memory(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	if (pages <= 0 || page <= 0)
		return SIZE_MAX;
	return (size_t)pages * (size_t)page;
}

void dr_engine_defaults(struct dr_engine *e)
{
	memset(e, 0, sizeof(*e));
	e->n = dr_ndetectors < DR_DETECTORS_MAX ? dr_ndetectors : DR_DETECTORS_MAX;
	e->mem_limit = physical_memory();
	for (unsigned p = 0; p < DR_DECODE_NPARAMS; p++)
		e->decode_values[p] = dr_decode_params[p].def;
	for (unsigned p = 0; p < DR_FLOW_NPARAMS; p++)
		e->flow_values[p] = dr_flow_params[p].def;
	for (unsigned i = 0; i < e->n; i++) {
		e->enabled[i] = 1;
		for (unsigned p = 0; p < dr_detectors[i]->nparams; p++)
			e->values[i][p] = dr_detectors[i]->params[p].def;
	}
}

/* A number for people: whole numbers in full, others as %g. */
static void fmt_num(char *buf, size_t len, double v)
{
	if (v == floor(v) && fabs(v) < 1e15)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%g", v);
}

static void fmt_octets(char *buf, size_t len, double v)
{
	static const char *const units[] = {"octets", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	unsigned u = 0;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* The range of a kind, narrowed by the setting's own when it has one. */
static void param_range(const struct dr_param *p, double *min, double *max)
{
	static const double kind_min[] = {
		[DR_PARAM_RATE] = 0, [DR_PARAM_COUNT] = 1, [DR_PARAM_SHARE] = 0,
		[DR_PARAM_FACTOR] = 0, [DR_PARAM_SECONDS] = 1, [DR_PARAM_OCTETS] = 0,
		[DR_PARAM_CAPACITY] = 1, [DR_PARAM_BOOL] = 0,
	};
	static const double kind_max[] = {
		[DR_PARAM_RATE] = 1e9, [DR_PARAM_COUNT] = 1e9, [DR_PARAM_SHARE] = 1,
		[DR_PARAM_FACTOR] = 1e6, [DR_PARAM_SECONDS] = 86400, [DR_PARAM_OCTETS] = 65535,
		[DR_PARAM_CAPACITY] = DR_PARAM_CAPACITY_MAX, [DR_PARAM_BOOL] = 1,
	};
	*min = kind_min[p->kind];
	*max = kind_max[p->kind];
	if (p->max > 0) {
		*min = p->min;
		*max = p->max;
	}
}

static int whole_kind(enum dr_param_kind kind)
{
	return kind == DR_PARAM_COUNT || kind == DR_PARAM_SECONDS || kind == DR_PARAM_CAPACITY ||
	       kind == DR_PARAM_BOOL;
}

/* The most entries of a capacity that fit in mem_limit, and the range. */
static double capacity_max(const struct dr_param *p, size_t mem_limit, double max)
{
	if (p->kind != DR_PARAM_CAPACITY || !p->entry_octets)
		return max;
	double fit = floor((double)mem_limit / (double)p->entry_octets);
	return fit < max ? fit : max;
}

void dr_param_allowed(const struct dr_param *p, size_t mem_limit, char *buf, size_t len)
{
	double min, max;
	char lo[32], hi[32];
	param_range(p, &min, &max);
	max = capacity_max(p, mem_limit, max);
	fmt_num(lo, sizeof(lo), min);
	fmt_num(hi, sizeof(hi), max);
	const char *unit = p->unit ? p->unit : "";
	switch (p->kind) {
	case DR_PARAM_RATE:
		snprintf(buf, len, "a rate from %s to %s %s", lo, hi, unit);
		break;
	case DR_PARAM_SHARE:
		snprintf(buf, len, "a share from %s to %s", lo, hi);
		break;
	case DR_PARAM_FACTOR:
		snprintf(buf, len, "a factor from %s to %s %s", lo, hi, unit);
		break;
	case DR_PARAM_OCTETS:
		snprintf(buf, len, "a size from %s to %s octets", lo, hi);
		break;
	case DR_PARAM_BOOL:
		snprintf(buf, len, "0 or 1 (or off/on, no/yes, false/true)");
		break;
	case DR_PARAM_COUNT:
	case DR_PARAM_SECONDS:
	case DR_PARAM_CAPACITY:
	default:
		snprintf(buf, len, "a whole number of %s from %s to %s",
			 p->kind == DR_PARAM_SECONDS ? "seconds" : unit, lo, hi);
		break;
	}
	if (p->kind == DR_PARAM_CAPACITY && max < DR_PARAM_CAPACITY_MAX) {
		char have[32];
		size_t used = strlen(buf);
		fmt_octets(have, sizeof(have), (double)mem_limit);
		snprintf(buf + used, len - used, ", as many as fit in the memory budget (%s)", have);
	}
}

int dr_param_check(const struct dr_param *p, const char *text, size_t mem_limit, double *value,
		   char *why, size_t len)
{
	static const char *const words[][2] = {
		{"0", "1"}, {"off", "on"}, {"no", "yes"}, {"false", "true"},
	};
	double v, min, max;
	char *end;

	if (p->kind == DR_PARAM_BOOL) {
		for (unsigned i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			for (unsigned b = 0; b < 2; b++)
				if (strcasecmp(text, words[i][b]) == 0) {
					*value = b;
					return 0;
				}
		goto refuse;
	}
	errno = 0;
	v = strtod(text, &end);
	/* strtod takes "nan", "inf" and hex; a setting is a plain number */
	if (!*text || *end || errno || !isfinite(v) || strpbrk(text, "xXnN"))
		goto refuse;
	param_range(p, &min, &max);
	if (v < min || v > max || (whole_kind(p->kind) && v != floor(v)))
		goto refuse;
	if (p->kind == DR_PARAM_CAPACITY && p->entry_octets &&
	    v * (double)p->entry_octets > (double)mem_limit) {
		char need[32], have[32];
		fmt_octets(need, sizeof(need), v * (double)p->entry_octets);
		fmt_octets(have, sizeof(have), (double)mem_limit);
		snprintf(why, len, "needs %s for its table; at most %.0f %s fit in the memory "
			 "budget (%s)", need, capacity_max(p, mem_limit, max), p->unit, have);
		return -1;
	}
	*value = v;
	return 0;
refuse:
	dr_param_allowed(p, mem_limit, why, len);
	return -1;
}

/* Appends "a, b, c and d" from n names given by name(i). */
static void list_names(char *buf, size_t len, unsigned n, const char *(*name)(unsigned, const void *),
		       const void *ctx)
{
	size_t used = strlen(buf);
	for (unsigned i = 0; i < n && used < len; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? " and " : ", ";
		int w = snprintf(buf + used, len - used, "%s%s", sep, name(i, ctx));
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

static const char *detector_name(unsigned i, const void *ctx)
{
	(void)ctx;
	return dr_detectors[i]->name;
}

static const char *param_name(unsigned i, const void *ctx)
{
	const struct dr_detector *d = ctx;
	return i < d->nparams ? d->params[i].name : enabled_param.name;
}

/* The modules beside the detectors that declare settings: the packet
 * decoder and the flow decoder, as "decode.NAME" and "flow.NAME". */
static const struct {
	const char *name, *what;
	const struct dr_param *params;
	unsigned n;
	unsigned det;		/* its index for dr_engine_find */
} modules[] = {
	{"decode", "the decoder", dr_decode_params, DR_DECODE_NPARAMS, DR_ENGINE_DECODE},
	{"flow", "the flow decoder", dr_flow_params, DR_FLOW_NPARAMS, DR_ENGINE_FLOW},
};
#define NMODULES (sizeof(modules) / sizeof(modules[0]))

static const char *module_param_name(unsigned i, const void *ctx)
{
	const struct dr_param *params = ctx;
	return params[i].name;
}

static double *module_values(struct dr_engine *e, unsigned det)
{
	return det == DR_ENGINE_DECODE ? e->decode_values : e->flow_values;
}

int dr_engine_find(const struct dr_engine *e, const char *key, unsigned *det, int *param,
		   char *why, size_t len)
{
	const char *dot = strchr(key, '.');
	size_t dn = dot ? (size_t)(dot - key) : 0;
	for (unsigned m = 0; dot && m < NMODULES; m++) {
		if (dn != strlen(modules[m].name) || strncmp(key, modules[m].name, dn) != 0)
			continue;
		*det = modules[m].det;
		for (unsigned p = 0; p < modules[m].n; p++)
			if (strcmp(modules[m].params[p].name, dot + 1) == 0) {
				*param = (int)p;
				return 0;
			}
		snprintf(why, len, "%s has no setting '%s'; it has ", modules[m].what, dot + 1);
		list_names(why, len, modules[m].n, module_param_name, modules[m].params);
		return -1;
	}
	for (unsigned i = 0; dot && i < e->n; i++) {
		const struct dr_detector *d = dr_detectors[i];
		if (strlen(d->name) != dn || strncmp(d->name, key, dn) != 0)
			continue;
		*det = i;
		if (strcmp(dot + 1, enabled_param.name) == 0) {
			*param = -1;
			return 0;
		}
		for (unsigned p = 0; p < d->nparams; p++)
			if (strcmp(d->params[p].name, dot + 1) == 0) {
				*param = (int)p;
				return 0;
			}
		snprintf(why, len, "%s has no threshold '%s'; it has ", d->name, dot + 1);
		list_names(why, len, d->nparams + 1, param_name, d);
		return -1;
	}
	if (dot)
		snprintf(why, len, "no detector '%.*s'; there are ", (int)dn, key);
	else
		snprintf(why, len, "not a DETECTOR.THRESHOLD; the detectors are ");
	list_names(why, len, e->n, detector_name, NULL);
	size_t used = strlen(why);
	if (used < len)
		snprintf(why + used, len - used, " (and decode, the decoder; flow, the flow decoder)");
	return -1;
}

const struct dr_param *dr_engine_param(unsigned det, int param)
{
	if (det == DR_ENGINE_DECODE)
		return &dr_decode_params[param];
	if (det == DR_ENGINE_FLOW)
		return &dr_flow_params[param];
	return param < 0 ? &enabled_param : &dr_detectors[det]->params[param];
}

int dr_engine_assign(struct dr_engine *e, const char *key, const char *value, char *why,
		     size_t len)
{
	unsigned det;
	int param;
	double v;
	if (dr_engine_find(e, key, &det, &param, why, len) < 0)
		return -1;
	if (dr_param_check(dr_engine_param(det, param), value, e->mem_limit, &v, why, len) < 0)
		return -1;
	if (det >= DR_ENGINE_DECODE)
		module_values(e, det)[param] = v;
	else if (param < 0)
		e->enabled[det] = v != 0;
	else
		e->values[det][param] = v;
	return 0;
}

/* Removes leading and trailing blanks in place. */
static char *trim(char *s)
{
	s += strspn(s, " \t\r\n");
	size_t n = strlen(s);
	while (n && strchr(" \t\r\n", s[n - 1]))
		s[--n] = 0;
	return s;
}

int dr_engine_set(struct dr_engine *e, const char *assignment, char *errbuf, size_t errlen)
{
	char buf[DR_SETTING_MAX], why[400];
	const char *eq = strchr(assignment, '=');
	if (strlen(assignment) >= sizeof(buf)) {
		snprintf(errbuf, errlen, "%.40s...: longer than %zu characters", assignment,
			 sizeof(buf) - 1);
		return -1;
	}
	if (!eq) {
		snprintf(errbuf, errlen, "%s: expected DETECTOR.THRESHOLD=VALUE, e.g. "
			 "reflection.min_rps=10", assignment);
		return -1;
	}
	memcpy(buf, assignment, strlen(assignment) + 1);
	buf[eq - assignment] = 0;
	if (dr_engine_assign(e, trim(buf), trim(buf + (eq - assignment) + 1), why,
			     sizeof(why)) < 0) {
		snprintf(errbuf, errlen, "%s: %s", assignment, why);
		return -1;
	}
	return 0;
}

int dr_engine_check(const struct dr_engine *e, char *errbuf, size_t errlen)
{
	double total = 0;
	for (unsigned i = 0; i < e->n; i++) {
		const struct dr_detector *d = dr_detectors[i];
		for (unsigned p = 0; e->enabled[i] && p < d->nparams; p++)
			if (d->params[p].kind == DR_PARAM_CAPACITY)
				total += e->values[i][p] * (double)d->params[p].entry_octets;
	}
	if (total <= (double)e->mem_limit)
		return 0;
	char need[32], have[32];
	fmt_octets(need, sizeof(need), total);
	fmt_octets(have, sizeof(have), (double)e->mem_limit);
	snprintf(errbuf, errlen, "the detectors' tables need %s together, more than the memory "
		 "budget (%s); lower their capacities (--thresholds lists them)", need, have);
	return -1;
}

/* A config key that may be given once per file, and the line it was on. */
struct seen_key {
	char key[64];
	unsigned line;
};

int dr_engine_load_config(struct dr_engine *e, const char *path, dr_config_fn other,
			  void *ctx, const char *other_keys, char *errbuf, size_t errlen)
{
	/* at most every detector's thresholds and switch, and the others' */
	struct seen_key seen[DR_DETECTORS_MAX * (DR_PARAMS_MAX + 1) + 16];
	unsigned nseen = 0, lineno = 0;
	char line[DR_SETTING_MAX], why[400];
	struct stat st;
	int rc = -1;
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(errbuf, errlen, "%s: is a directory; give a config file", path);
		goto out;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		size_t n = strlen(line);
		if (n + 1 == sizeof(line) && line[n - 1] != '\n' && !feof(f)) {
			snprintf(errbuf, errlen, "%s:%u: line longer than %zu characters", path,
				 lineno, sizeof(line) - 2);
			goto out;
		}
		char *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		char *s = trim(line);
		if (!*s)
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			snprintf(errbuf, errlen, "%s:%u: '%s': expected NAME = VALUE", path, lineno, s);
			goto out;
		}
		*eq = 0;
		char *key = trim(s), *val = trim(eq + 1);
		int bad = 1, repeatable = 0;
		if (strcmp(key, "local") == 0) {
			bad = dr_roles_add_local(&e->roles, val, why, sizeof(why));
			repeatable = 1;
		} else if (strcmp(key, "resolver") == 0) {
			bad = dr_roles_add_resolver(&e->roles, val, why, sizeof(why));
			repeatable = 1;
		} else if (strcmp(key, "authoritative") == 0) {
			bad = dr_roles_add_authoritative(&e->roles, val, why, sizeof(why));
			repeatable = 1;
		} else if (strchr(key, '.')) {
			bad = dr_engine_assign(e, key, val, why, sizeof(why));
		} else if (other) {
			bad = other(ctx, key, val, why, sizeof(why));
		}
		if (bad == 1)
			snprintf(why, sizeof(why), "no setting '%s'; a config file takes local, "
				 "resolver, authoritative, %s%sDETECTOR.THRESHOLD (--thresholds lists them)", key,
				 other_keys ? other_keys : "", other_keys ? ", " : "");
		for (unsigned i = 0; !bad && !repeatable && i < nseen; i++)
			if (strcmp(seen[i].key, key) == 0) {
				snprintf(why, sizeof(why), "given twice in one file (first on line %u)",
					 seen[i].line);
				bad = -1;
			}
		if (bad && repeatable) {	/* the roles' reasons name the option */
			snprintf(errbuf, errlen, "%s:%u: %s", path, lineno, why);
			goto out;
		}
		if (bad) {
			snprintf(errbuf, errlen, "%s:%u: %s = %s: %s", path, lineno, key, val, why);
			goto out;
		}
		/* a key too long to keep cannot be a known one */
		if (!repeatable && nseen < sizeof(seen) / sizeof(seen[0]) &&
		    strlen(key) < sizeof(seen[0].key)) {
			memcpy(seen[nseen].key, key, strlen(key) + 1);
			seen[nseen++].line = lineno;
		}
	}
	if (ferror(f)) {
		snprintf(errbuf, errlen, "%s: cannot read it: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
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
		for (unsigned kind = 0; kind < 2; kind++) {
			if (!(dr_detectors[i]->kinds & (kind ? DR_KIND_FLOW : DR_KIND_DNS)))
				continue;
			unsigned j = e->nroute[kind]++;
			e->route[kind][j].on_record = dr_detectors[i]->on_record;
			e->route[kind][j].state = e->state[i];
			e->route[kind][j].env = &e->env[i];
		}
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
	unsigned kind = r->kind == DR_KIND_FLOW;
	e->records[kind]++;
	for (unsigned i = 0; i < e->nroute[kind]; i++) {
		e->route[kind][i].env->now = sec;
		e->route[kind][i].on_record(e->route[kind][i].state, r, e->route[kind][i].env);
	}
}

/* Hands on the held records the watermark has passed, then judges the
 * seconds before it. */
static void release(struct dr_engine *e)
{
	for (;;) {	/* the earlier second of the two holds first */
		const struct dr_record *r = dr_reorder_peek(&e->reorder);
		int64_t held = r ? r->ts_sec : INT64_MAX, part = dr_partq_first(&e->parts);
		if ((held < part ? held : part) >= e->clock.watermark)
			break;
		dispatch(e, held <= part ? dr_reorder_pop(&e->reorder) : dr_partq_pop(&e->parts));
	}
	tick(e, e->clock.watermark);
}

/* The most parts a flow record is cut into: one per second it spans, but
 * never more than it has sampled packets, nor more seconds than can
 * still count (the lateness and a little). */
#define FLOW_PARTS_MAX 4000

/* From the first flow record on, records are held for flow.lateness
 * seconds (when no longer lateness was set): exporters report a flow when
 * it ends or at its active timeout, long after its first packets. Flow
 * parts wait in one-second buckets, DNS messages (sFlow's sampled
 * headers) in the reorder buffer. */
static void hold_for_flows(struct dr_engine *e)
{
	if (e->flows_held)
		return;
	e->flows_held = 1;
	int64_t want = (int64_t)e->flow_values[DR_FLOW_LATENESS];
	int64_t lateness = want > e->clock.lateness ? want : e->clock.lateness;
	uint32_t cap = e->reorder_cap ? e->reorder_cap : DR_REORDER_DEFAULT;
	if (lateness <= 0)
		return;
	if (dr_partq_init(&e->parts, (uint32_t)e->flow_values[DR_FLOW_HOLD],
			  (uint32_t)lateness) < 0 ||
	    (!e->reorder.cap && dr_reorder_init(&e->reorder, cap) < 0)) {
		dr_partq_fini(&e->parts);	/* records then count where they come */
		return;
	}
	e->clock.lateness = lateness;
}

static void place(struct dr_engine *e, struct dr_record *r);

/* A flow part, in its own second through the hold. */
static void place_part(struct dr_engine *e, struct dr_record *r)
{
	dr_clock_observe(&e->clock, r->ts_sec);
	if (!e->parts.cap) {
		dispatch(e, r);
		return;
	}
	if (dr_partq_full(&e->parts) || dr_partq_too_far(&e->parts, r)) {
		release(e);	/* what the watermark has passed leaves first */
		while (dr_partq_full(&e->parts) || dr_partq_too_far(&e->parts, r)) {
			e->early++;
			dispatch(e, dr_partq_pop(&e->parts));
		}
	}
	dr_partq_push(&e->parts, r);
	release(e);
}

/* A flow record stands for packets spread over [start, end]: it counts
 * in each second it spans, in proportion to the time it spent there,
 * as whole sampled packets (a 1:100 record of 3 packets is 3 events of
 * 100, not 300 crumbs). Parts older than the lateness are not judged:
 * packed into the oldest open second they would make a burst that never
 * was; they are counted instead. */
static void place_flow(struct dr_engine *e, struct dr_record *r)
{
	hold_for_flows(e);
	double t0 = dr_record_time(r), t1 = dr_record_end_time(r);
	int64_t s0 = r->ts_sec, s1 = r->end_sec;
	uint64_t rate = r->sampling ? r->sampling : 1;
	uint64_t events = r->packets / rate ? r->packets / rate : 1;
	uint64_t seconds = (uint64_t)(s1 - s0) + 1;
	if (seconds == 1 || t1 <= t0) {
		if (e->ticking && r->ts_sec < e->ticked) {
			e->late_flow_records++;
			e->late_flow_packets += r->packets;
			return;
		}
		place_part(e, r);
		return;
	}
	uint64_t packets = r->packets, bytes = r->bytes;
	int64_t ts = r->ts_sec, end = r->end_sec;
	uint32_t ts_nsec = r->ts_nsec, end_nsec = r->end_nsec;
	uint64_t parts = seconds < events ? seconds : events;
	if (parts > FLOW_PARTS_MAX)
		parts = FLOW_PARTS_MAX;
	/* part i covers [t0 + i*span/parts, t0 + (i+1)*span/parts) and takes
	 * the events whose cumulative share falls in it */
	double span = t1 - t0;
	uint64_t done_events = 0, done_bytes = 0;
	for (uint64_t i = 0; i < parts; i++) {
		uint64_t upto = i + 1 == parts ? events : events * (i + 1) / parts;
		uint64_t n = upto - done_events;
		if (!n)
			continue;
		uint64_t b = i + 1 == parts ? bytes - done_bytes
					    : (uint64_t)((double)bytes * (double)upto / (double)events) - done_bytes;
		double at = t0 + span * ((double)i + 0.5) / (double)parts;
		r->ts_sec = (int64_t)at;
		r->ts_nsec = (uint32_t)((at - (double)r->ts_sec) * 1e9);
		if (r->ts_nsec >= 1000000000u)
			r->ts_nsec = 999999999u;
		r->end_sec = r->ts_sec;
		r->end_nsec = r->ts_nsec;
		r->packets = i + 1 == parts ? packets - done_events * rate : n * rate;
		r->bytes = b;
		done_events = upto;
		done_bytes += b;
		if (e->ticking && r->ts_sec < e->ticked) {
			e->late_flow_records++;
			e->late_flow_packets += r->packets;
			continue;
		}
		place_part(e, r);
	}
	r->packets = packets;
	r->bytes = bytes;
	r->ts_sec = ts;
	r->ts_nsec = ts_nsec;
	r->end_sec = end;
	r->end_nsec = end_nsec;
}

/* Whether any detector can judge a flow record: DNS ports on either
 * side, or a later UDP fragment (no ports: amplification's fragments).
 * The web's flows, most of an exporter's records, judge nothing. */
static int flow_matters(const struct dr_engine *e, const struct dr_record *r)
{
	const uint8_t *ports = e->env[0].dns_ports;
	if (!ports)
		return 1;
	return dr_port_test(ports, r->sport) || dr_port_test(ports, r->dport) ||
	       (r->proto == 17 && (r->fragmented || (!r->sport && !r->dport)));
}

void dr_engine_record(struct dr_engine *e, struct dr_record *r)
{
	if (r->kind == DR_KIND_FLOW) {
		if (!flow_matters(e, r)) {
			e->flows_ignored++;
			return;
		}
		dr_keys_fill(r, e->regdom);
		place_flow(e, r);
		return;
	}
	dr_keys_fill(r, e->regdom);
	place(e, r);
}

/* Hands r on in its own second, through the reorder buffer when records
 * may come late. */
static void place(struct dr_engine *e, struct dr_record *r)
{
	dr_clock_observe(&e->clock, r->ts_sec);
	if (!e->reorder.cap) {
		dispatch(e, r);
		return;
	}
	if (dr_reorder_full(&e->reorder)) {
		release(e);	/* what the watermark has passed leaves first */
		if (dr_reorder_full(&e->reorder)) {
			e->early++;
			dispatch(e, dr_reorder_pop(&e->reorder));
		}
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

struct dr_engine_losses dr_engine_losses(const struct dr_engine *e)
{
	struct dr_engine_losses l = {e->late, e->early, e->alerts.dropped, 0};
	for (unsigned i = 0; i < e->n; i++)
		if (e->state[i] && dr_detectors[i]->unjudged)
			l.unjudged += dr_detectors[i]->unjudged(e->state[i]);
	return l;
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
	dr_partq_fini(&e->parts);
	dr_regdom_free(e->regdom);
	e->regdom = NULL;
}
