/* Settings as the modules that own them declare them: name, default,
 * meaning, kind, unit and range. One validator (detect/engine.c) checks
 * every value given by --set, a config file or a reload against them. */
#ifndef DR_LIB_PARAM_H
#define DR_LIB_PARAM_H

#include <stddef.h>

/* What a setting's value is; the kind gives the range a value may take
 * unless the setting narrows it, and the words the validator uses to say
 * so (detect/engine.c, which validates every setting). */
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

/* A setting, declared by the module that owns it (a detector, the
 * decoder): its name (after "MODULE."), default, meaning, kind, and the unit messages name
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

#endif
