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
#include "lib/param.h"

#define DR_PARAMS_MAX 16

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
