/* Parsing and printing of human times for the drill-down commands and the
 * HTTP API (when.h). */
#include "lib/when.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Seconds a unit stands for; 0 when the letter is no unit. */
static int64_t unit_seconds(char u)
{
	switch (u) {
	case 's': return 1;
	case 'm': return 60;
	case 'h': return 3600;
	case 'd': return 86400;
	case 'w': return 7 * 86400;
	default: return 0;
	}
}

int dr_when_duration(const char *s, const char *what, int64_t *secs, char *errbuf,
		     size_t errlen)
{
	const char *p = s;
	int64_t v = 0;
	while (*p >= '0' && *p <= '9' && v < 100000000)
		v = v * 10 + (*p++ - '0');
	int64_t unit = p > s && p[0] && !p[1] ? unit_seconds(p[0]) : 0;
	if (!unit || v == 0) {
		snprintf(errbuf, errlen, "%s '%s': give a whole number and a unit, s, m, h, d or w "
			 "(10m, 2h, 1d)", what, s);
		return -1;
	}
	*secs = v * unit;
	return 0;
}

/* Reads exactly n digits as a number; -1 when they are not digits. */
static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "YYYY-MM-DD[( |T)HH:MM[:SS]][Z]" into a broken-down time; 0 or -1. */
static int parse_date(const char *s, struct tm *tm, int *zulu)
{
	memset(tm, 0, sizeof(*tm));
	*zulu = 0;
	int y = digits(s, 4), mo = -1, d = -1, h = 0, mi = 0, sec = 0;
	if (y < 0 || s[4] != '-' || (mo = digits(s + 5, 2)) < 0 || s[7] != '-' ||
	    (d = digits(s + 8, 2)) < 0)
		return -1;
	const char *p = s + 10;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		if ((h = digits(p + 1, 2)) < 0 || p[3] != ':' || (mi = digits(p + 4, 2)) < 0)
			return -1;
		p += 6;
		if (*p == ':') {
			if ((sec = digits(p + 1, 2)) < 0)
				return -1;
			p += 3;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		*zulu = 1;
		p++;
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	tm->tm_year = y - 1900;
	tm->tm_mon = mo - 1;
	tm->tm_mday = d;
	tm->tm_hour = h;
	tm->tm_min = mi;
	tm->tm_sec = sec;
	tm->tm_isdst = -1;
	return 0;
}

int dr_when_time(const char *s, const char *what, int utc, double now, double *t,
		 char *errbuf, size_t errlen)
{
	if (strcmp(s, "now") == 0) {
		*t = now;
		return 0;
	}
	/* Epoch seconds: digits only, perhaps a fraction; a date has dashes. */
	size_t nd = strspn(s, "0123456789");
	if (nd > 0 && nd <= 12 && (s[nd] == 0 || s[nd] == '.')) {
		char *end;
		errno = 0;
		double v = strtod(s, &end);
		if (!*end && !errno && isfinite(v)) {
			*t = v;
			return 0;
		}
	}
	struct tm tm;
	int zulu;
	if (parse_date(s, &tm, &zulu) == 0) {
		int mday = tm.tm_mday, mon = tm.tm_mon;
		time_t v = utc || zulu ? timegm(&tm) : mktime(&tm);
		/* mktime and timegm normalise 2026-02-31 to March: refuse it. */
		if (v != (time_t)-1 && tm.tm_mday == mday && tm.tm_mon == mon) {
			*t = (double)v;
			return 0;
		}
	}
	snprintf(errbuf, errlen, "%s '%s': give a date and time (2026-12-01, 2026-12-01T12:00, "
		 "'2026-12-01 12:00:05'), epoch seconds or now", what, s);
	return -1;
}

int dr_when_range(const char *since, const char *from, const char *to, int utc, double now,
		  double default_span, const char *prefix, double *from_t, double *to_t,
		  char *errbuf, size_t errlen)
{
	char what[32];
	if (since && (from || to)) {
		snprintf(errbuf, errlen, "%ssince cannot be combined with %sfrom or %sto",
			 prefix, prefix, prefix);
		return -1;
	}
	if (since) {
		int64_t secs;
		snprintf(what, sizeof(what), "%ssince", prefix);
		if (dr_when_duration(since, what, &secs, errbuf, errlen) < 0)
			return -1;
		*from_t = now - (double)secs;
		*to_t = now;
		return 0;
	}
	*to_t = now;
	if (to) {
		snprintf(what, sizeof(what), "%sto", prefix);
		if (dr_when_time(to, what, utc, now, to_t, errbuf, errlen) < 0)
			return -1;
	}
	*from_t = *to_t - default_span;
	if (from) {
		snprintf(what, sizeof(what), "%sfrom", prefix);
		if (dr_when_time(from, what, utc, now, from_t, errbuf, errlen) < 0)
			return -1;
	}
	if (*from_t > *to_t) {
		snprintf(errbuf, errlen, "%sfrom '%s' is after %sto '%s'", prefix,
			 from ? from : "(default)", prefix, to ? to : "now");
		return -1;
	}
	return 0;
}

size_t dr_when_format(double t, int utc, int millis, char *buf)
{
	double whole = floor(t);
	time_t sec = (time_t)whole;
	int ms = (int)((t - whole) * 1000.0 + 0.5);
	if (ms >= 1000) {
		sec++;
		ms -= 1000;
	}
	struct tm tm;
	if (!(utc ? gmtime_r(&sec, &tm) : localtime_r(&sec, &tm))) {
		buf[0] = 0;
		return 0;
	}
	size_t n = strftime(buf, DR_WHEN_TEXT_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
	if (millis)
		n += (size_t)snprintf(buf + n, DR_WHEN_TEXT_MAX - n, ".%03d", ms);
	if (utc) {
		buf[n++] = 'Z';
		buf[n] = 0;
		return n;
	}
	long off = tm.tm_gmtoff / 60;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	n += (size_t)snprintf(buf + n, DR_WHEN_TEXT_MAX - n, "%c%02ld:%02ld", sign, off / 60,
			      off % 60);
	return n;
}
