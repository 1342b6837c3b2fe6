/* Detectors: one constant struct of operations each, listed in one table
 * (detect/table.c). A detector sees the records of the kinds it declares
 * and a tick whenever the engine's clock (core/clock.h) closes seconds; it
 * never reads a clock, so a capture analysed offline gives the alerts live
 * traffic would. All of its state is sized in init and never grows. */
#ifndef DR_DETECT_DETECTOR_H
#define DR_DETECT_DETECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "decode/record.h"
#include "detect/alert.h"
#include "detect/roles.h"
#include "decode/regdom.h"

#define DR_PARAMS_MAX 16

/* What a setting's value is; the kind gives the range a value may take
 * unless the setting narrows it, and the words the validator uses to say
 * so (detect/engine.c). */
enum dr_param_kind {
	DR_PARAM_RATE,		/* things per second, 0 to 10^9 */
	DR_PARAM_COUNT,		/* a whole number of things, 1 to 10^9 */
	DR_PARAM_SHARE,		/* a fraction, 0 to 1 */
	DR_PARAM_FACTOR,	/* a ratio, 0 to 10^6 */
	DR_PARAM_SECONDS,	/* a whole number of seconds, 1 to 86400 */
	DR_PARAM_OCTETS,	/* a size, 0 to 65535 (a DNS message at most) */
	DR_PARAM_CAPACITY,	/* table entries, 1 to DR_PARAM_CAPACITY_MAX and
				 * as many as fit in memory (entry_octets) */
	DR_PARAM_BOOL,		/* 0 or 1 */
};

/* No table may hold more entries: their indexes, doubled for hash slots,
 * must stay well inside 32 bits. */
#define DR_PARAM_CAPACITY_MAX (1u << 28)

/* A setting, declared by the detector that owns it: its name (after
 * "DETECTOR."), default, meaning, kind, and the unit messages name
 * ("sources", "responses/s"). min and max narrow the kind's range when
 * max > 0 (e.g. a count that saturates at 32). A capacity gives the
 * octets each entry of its table costs, so that a capacity whose table
 * cannot fit in memory is refused before anything is allocated. */
struct dr_param {
	const char *name;
	double def;
	const char *help;
	enum dr_param_kind kind;
	const char *unit;
	double min, max;
	size_t entry_octets;
};

/* What the engine lends a detector on every call. */
struct dr_detect_env {
	const struct dr_roles *roles;	/* --local, --resolver */
	struct dr_alerts *alerts;	/* where alerts go */
	const double *param;		/* values, in the detector's params order */
	struct dr_regdom *regdom;	/* shared registered-domain cache */
	const uint8_t *dns_ports;	/* bitmap of ports that carry DNS */
	int64_t now;		/* the second the record counts in (its own, or
				 * the oldest open one when it came too late) */
};

/* What a detector needs of a record beyond its kind (Knot's module flags):
 * the engine fills and copies only what some consumer asks for. */
enum dr_detector_needs {
	DR_NEEDS_ZONE = 1u << 0,	/* the registered domain of the question */
	DR_NEEDS_PAYLOAD = 1u << 1,	/* the message's octets */
};

struct dr_detector {
	const char *name;		/* the alert type */
	const char *summary;		/* one line for --help and docs */
	unsigned kinds;			/* enum dr_record_kind bits it judges */
	unsigned needs;			/* enum dr_detector_needs bits */
	const struct dr_param *params;
	unsigned nparams;
	/* Allocates all state; NULL when out of memory. env stays valid
	 * until fini and may be kept. */
	void *(*init)(const struct dr_detect_env *env);
	/* One record of a declared kind; r is borrowed. */
	void (*on_record)(void *state, const struct dr_record *r, const struct dr_detect_env *env);
	/* Every second before `before` is over: judge their windows. */
	void (*on_tick)(void *state, int64_t before, const struct dr_detect_env *env);
	/* Optional: windows it could not judge (its tables' open lists were
	 * full), for the report's warnings. */
	uint64_t (*unjudged)(const void *state);
	/* Bytes the state holds (fixed at init). */
	size_t (*mem)(const void *state);
	void (*fini)(void *state);
};

extern const struct dr_detector *const dr_detectors[];
extern const unsigned dr_ndetectors;

#endif
