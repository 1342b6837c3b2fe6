/* Times as people give them on the command line and in API parameters
 * (--since 10m, --from 2026-12-01T12:00, epoch seconds, now) and as the
 * drill-down commands print them (ISO 8601, UTC or local). The current
 * time is an argument, so tests and the HTTP thread agree on it. */
#ifndef DR_LIB_WHEN_H
#define DR_LIB_WHEN_H

#include <stddef.h>
#include <stdint.h>

/* "30s", "10m", "2h", "1d", "1w" (a whole number and a unit) as seconds
 * in *secs. `what` names the option in the message ("--since"). 0, or -1
 * with "--since '5x': give ..." in errbuf. */
int dr_when_duration(const char *s, const char *what, int64_t *secs, char *errbuf,
		     size_t errlen);

/* A point in time: "now", epoch seconds ("1764590400", "1764590400.5"),
 * "2026-12-01", "2026-12-01T12:00", "2026-12-01 12:00:05" (T or a space,
 * seconds optional, a trailing "Z" means UTC), read as local time unless
 * utc. 0 with *t in epoch seconds, or -1 with "--from 'X': give ..." in
 * errbuf. */
int dr_when_time(const char *s, const char *what, int utc, double now, double *t,
		 char *errbuf, size_t errlen);

/* The range a command asks for: --since D means [now - D, now]; --from
 * and --to (either may be absent: from defaults to to - default_span, to
 * to now); neither gives [now - default_span, now]. --since with --from
 * or --to is an error, and so is from after to. `prefix` is "--" for the
 * command line, "" for the API, so messages name what the user typed.
 * 0, or -1 with the reason in errbuf. */
int dr_when_range(const char *since, const char *from, const char *to, int utc, double now,
		  double default_span, const char *prefix, double *from_t, double *to_t,
		  char *errbuf, size_t errlen);

/* t as ISO 8601 with seconds: "2026-12-01T12:00:05Z" in UTC, or local
 * time with its offset, "2026-12-01T13:00:05+01:00"; with `millis`,
 * ".123" after the seconds. buf must hold DR_WHEN_TEXT_MAX bytes.
 * Returns the length. */
#define DR_WHEN_TEXT_MAX 40
size_t dr_when_format(double t, int utc, int millis, char *buf);

#endif
