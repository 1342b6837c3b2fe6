/* The detection engine: the detector table, their thresholds, the network
 * roles, the alert list with its lifecycle events, and the clock
 * (core/clock.h) whose ticks judge the seconds that are over. */
#ifndef DR_DETECT_ENGINE_H
#define DR_DETECT_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "decode/flow.h"
#include "decode/packet.h"
#include "core/partq.h"
#include "core/reorder.h"
#include "detect/detector.h"

#define DR_DETECTORS_MAX 8
#define DR_ENGINE_DECODE DR_DETECTORS_MAX	/* dr_engine_find: the decoder's setting */
#define DR_ENGINE_FLOW (DR_DETECTORS_MAX + 1)	/* ...the flow decoder's */
#define DR_REORDER_DEFAULT 65536	/* records held for late ones, by default */
#define DR_SETTING_MAX 512	/* octets of one --set or config line, with its end */

struct dr_engine {
	unsigned n;
	int enabled[DR_DETECTORS_MAX];
	double values[DR_DETECTORS_MAX][DR_PARAMS_MAX];
	void *state[DR_DETECTORS_MAX];
	struct dr_detect_env env[DR_DETECTORS_MAX];
	struct dr_roles roles;
	struct dr_alerts alerts;
	struct dr_regdom *regdom;
	struct dr_clock clock;
	/* Set before dr_engine_start: seconds a record may come late and
	 * still count in its own second (0 for files, read in time order),
	 * and the records the reorder buffer holds meanwhile. */
	int64_t lateness;
	uint32_t reorder_cap;
	/* The decoder's settings ("decode.NAME"), validated here with the
	 * detectors'; the caller applies them (dr_decode_config_apply). */
	double decode_values[DR_DECODE_NPARAMS];
	/* The flow decoder's ("flow.NAME"), applied by the caller
	 * (dr_flow_config_apply) but for flow.lateness, the engine's own:
	 * from the first flow record on, records are held that long, so
	 * that a flow record reported at the end of its active timeout
	 * still counts in the seconds its packets were seen. */
	double flow_values[DR_FLOW_NPARAMS];
	uint64_t late_flow_records;	/* parts of flow records older than
					 * the lateness: not judged */
	uint64_t late_flow_packets;	/* the packets they stood for */
	int flows_held;			/* the holds for flows are set up */
	uint64_t flows_ignored;		/* flow records no detector judges (no
					 * DNS port, not a later fragment) */
	struct dr_reorder reorder;
	struct dr_partq parts;		/* flow records' parts, held by second */
	/* Per record kind (0: DNS messages, 1: aggregates), the detectors
	 * that judge it, in table order: filled at start, so that a record
	 * costs one pass over those only. */
	struct {
		void (*on_record)(void *state, const struct dr_record *r,
				  const struct dr_detect_env *env);
		void *state;
		struct dr_detect_env *env;
	} route[2][DR_DETECTORS_MAX];
	unsigned nroute[2];
	int64_t ticked;		/* every second before it is judged */
	int ticking;		/* ticked holds a second */
	uint64_t records[2];	/* dispatched: DNS messages, aggregates */
	uint64_t late;		/* records later than the lateness: counted in
				 * the oldest open second */
	uint64_t early;		/* records handed on before their time: the
				 * reorder buffer was full */
	size_t mem_limit;	/* octets the detectors' tables may take:
				 * physical memory, set by dr_engine_defaults */
};

/* Defaults for every threshold; every detector enabled. No allocation. */
void dr_engine_defaults(struct dr_engine *e);

/* The one validator of settings, for --set, config files and
 * --thresholds alike.
 *
 * dr_param_check: text as a value of p (its kind and range; for a
 * capacity, that its table fits in mem_limit octets). 0 with *value
 * set, or -1 with what is allowed in why ("a share from 0 to 1"). */
int dr_param_check(const struct dr_param *p, const char *text, size_t mem_limit, double *value,
		   char *why, size_t len);

/* What p allows, in the words dr_param_check refuses with. */
void dr_param_allowed(const struct dr_param *p, size_t mem_limit, char *buf, size_t len);

/* The setting "DETECTOR.THRESHOLD" or "DETECTOR.enabled": 0 with the
 * detector's index and the threshold's (-1 for enabled), or -1 with why,
 * listing the detectors or the detector's thresholds. */
int dr_engine_find(const struct dr_engine *e, const char *key, unsigned *det, int *param,
		   char *why, size_t len);

/* The declaration of a setting dr_engine_find found. */
const struct dr_param *dr_engine_param(unsigned det, int param);

/* Sets key (as dr_engine_find takes it) to the value text after
 * dr_param_check. 0, or -1 with why (not naming the key) and nothing
 * changed. */
int dr_engine_assign(struct dr_engine *e, const char *key, const char *value, char *why,
		     size_t len);

/* "DETECTOR.PARAM=VALUE" (or DETECTOR.enabled=0|1), blanks around either
 * side allowed. 0, or -1 with "ASSIGNMENT: reason" in errbuf. */
int dr_engine_set(struct dr_engine *e, const char *assignment, char *errbuf, size_t errlen);

/* After every setting: whether the enabled detectors' tables fit in
 * mem_limit together. 0, or -1 with the reason in errbuf. */
int dr_engine_check(const struct dr_engine *e, char *errbuf, size_t errlen);

/* Handles a config key the engine does not know; returns 1 when it does
 * not know it either, 0 when handled, -1 with a reason in errbuf. */
typedef int (*dr_config_fn)(void *ctx, const char *key, const char *value,
			    char *errbuf, size_t errlen);

/* Reads a config file: "local = CIDR", "resolver = IP", and
 * "DETECTOR.PARAM = VALUE" lines, other keys through `other` (may be
 * NULL; other_keys names them for messages, e.g. "geoip, asn"); '#'
 * starts a comment. Settings before a bad line stay set. A key other
 * than local and resolver may be given once per file. 0, or -1 with
 * "FILE: reason" or "FILE:LINE: KEY = VALUE: reason" in errbuf. */
int dr_engine_load_config(struct dr_engine *e, const char *path, dr_config_fn other,
			  void *ctx, const char *other_keys, char *errbuf, size_t errlen);

/* Allocates every enabled detector's state. 0 or DR_ENOMEM. */
int dr_engine_start(struct dr_engine *e, const uint8_t *dns_ports);

/* Subscribes to the alert events (open, update, close); before start or
 * after. 0, or -1 when too many subscribe. */
int dr_engine_subscribe(struct dr_engine *e, dr_alert_sink_fn fn, void *ctx);

/* Feeds one record; fills its keys (core/keys.h) first, so they serve
 * whoever counts it next. It reaches the detectors that declare its kind,
 * in the second the clock gives it; seconds the clock closes are judged
 * first. */
void dr_engine_record(struct dr_engine *e, struct dr_record *r);

/* The public tick: an input's own clock says it is `now` (seconds since
 * the epoch), so seconds before now minus the lateness are judged even if
 * no record arrives (a quiet live link). Tests drive it with a fake clock. */
void dr_engine_advance(struct dr_engine *e, int64_t now);

/* 1 when at least one detector is running (after dr_engine_start). */
int dr_engine_active(const struct dr_engine *e);

/* The input is over: every second is judged, then every open alert
 * closes (close events). */
void dr_engine_finish(struct dr_engine *e);

/* What the report may read of the engine, without its insides. */
static inline unsigned dr_engine_ndetectors(const struct dr_engine *e)
{
	return e->n;
}

/* Detector i's name, and whether it runs (after dr_engine_start). */
static inline const char *dr_engine_detector_name(const struct dr_engine *e, unsigned i)
{
	(void)e;
	return dr_detectors[i]->name;
}

static inline int dr_engine_running(const struct dr_engine *e, unsigned i)
{
	return e->state[i] != NULL;
}

/* What the clock and the alert list could not place as they should. */
struct dr_engine_losses {
	uint64_t late;		/* records later than the lateness */
	uint64_t early;		/* records handed on early: reorder buffer full */
	uint64_t lost_windows;	/* firing seconds lost: every alert slot open */
	uint64_t unjudged;	/* detectors' windows never judged */
};

struct dr_engine_losses dr_engine_losses(const struct dr_engine *e);

/* Bytes the alert list, the registered-domain cache and the reorder
 * buffer hold. */
static inline size_t dr_engine_alert_mem(const struct dr_engine *e)
{
	return sizeof(struct dr_alert) * DR_ALERTS_MAX + sizeof(struct dr_regdom) +
	       dr_reorder_mem(&e->reorder) + dr_partq_mem(&e->parts);
}

/* Bytes detector i holds; 0 when disabled. */
size_t dr_engine_mem(const struct dr_engine *e, unsigned i);

void dr_engine_fini(struct dr_engine *e);

#endif
