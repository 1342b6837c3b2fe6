/* The two clocks the running parts read (never the detectors, which take
 * time from the records): the wall clock for what is written down, the
 * monotonic clock for how long things take. Seconds, as doubles. */
#ifndef DR_LIB_NOW_H
#define DR_LIB_NOW_H

#include <time.h>

static inline double dr_wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline double dr_mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif
