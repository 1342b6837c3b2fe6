/* The engine's clock. Time comes from records (files) or from an input's
 * own clock (live inputs), never from the wall clock inside the engine, so
 * a capture analysed offline is judged exactly as live traffic would be
 * and tests can drive time by hand.
 *
 * The watermark is the second before which nothing more is expected: the
 * latest record's second minus the allowed lateness, or an input's clock
 * (dr_clock_advance) minus the lateness, so quiet seconds on a live link
 * are judged even when nothing arrives. It never goes back. */
#ifndef DR_CORE_CLOCK_H
#define DR_CORE_CLOCK_H

#include <stdint.h>

struct dr_clock {
	int64_t lateness;	/* seconds a record may come late */
	int64_t watermark;	/* seconds before it are over */
	int64_t latest;		/* the latest second seen */
	int started;
};

static inline void dr_clock_init(struct dr_clock *c, int64_t lateness)
{
	c->lateness = lateness > 0 ? lateness : 0;
	c->watermark = c->latest = 0;
	c->started = 0;
}

/* A record of second `sec` arrived. */
static inline void dr_clock_observe(struct dr_clock *c, int64_t sec)
{
	if (!c->started) {
		c->started = 1;
		c->latest = sec;
		c->watermark = sec - c->lateness;
		return;
	}
	if (sec > c->latest) {
		c->latest = sec;
		if (sec - c->lateness > c->watermark)
			c->watermark = sec - c->lateness;
	}
}

/* The input's own clock says it is `now` (seconds): nothing before
 * now - lateness can still arrive. Before any record, there is nothing
 * to judge and the clock does not start. */
static inline void dr_clock_advance(struct dr_clock *c, int64_t now)
{
	if (c->started && now - c->lateness > c->watermark)
		c->watermark = now - c->lateness;
}

#endif
