/* The engine's clock. Time comes from records (files) or from an input's
 * own clock (live inputs), never from the wall clock inside the engine, so
 * a capture analysed offline is judged exactly as live traffic would be
 * and tests can drive time by hand.
 *
 * The watermark is the first second not yet closed: every second before it
 * has been judged. It follows the latest record's second minus the allowed
 * lateness, and an input's clock (dr_clock_advance) minus the lateness, so
 * quiet seconds on a live link are judged even when nothing arrives. A
 * record late by no more than the lateness counts in its own second; one
 * later than that counts in the oldest open second and is counted late. */
#ifndef DR_CORE_CLOCK_H
#define DR_CORE_CLOCK_H

#include <stdint.h>

struct dr_clock {
	int64_t lateness;	/* seconds */
	int64_t watermark;	/* seconds before it are closed */
	int64_t latest;		/* the latest second seen */
	int started;
	uint64_t late;		/* records later than the lateness allows */
};

static inline void dr_clock_init(struct dr_clock *c, int64_t lateness)
{
	c->lateness = lateness > 0 ? lateness : 0;
	c->watermark = c->latest = 0;
	c->started = 0;
	c->late = 0;
}

/* A record of second `sec` arrives: returns the second it counts in. The
 * watermark may move (see dr_clock_watermark). */
static inline int64_t dr_clock_observe(struct dr_clock *c, int64_t sec)
{
	if (!c->started) {
		c->started = 1;
		c->latest = sec;
		c->watermark = sec - c->lateness;
	}
	if (sec < c->watermark) {
		c->late++;
		sec = c->watermark;
	}
	if (sec > c->latest) {
		c->latest = sec;
		if (sec - c->lateness > c->watermark)
			c->watermark = sec - c->lateness;
	}
	return sec;
}

/* The input's own clock says it is `now` (seconds): nothing before
 * now - lateness can still arrive. */
static inline void dr_clock_advance(struct dr_clock *c, int64_t now)
{
	if (!c->started)
		return;		/* nothing to judge yet */
	if (now - c->lateness > c->watermark)
		c->watermark = now - c->lateness;
}

#endif
