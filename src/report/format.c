/* Numbers, sizes and times as the reports print them. */
#include "report/format.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

void dr_fmt_count(char *buf, size_t len, uint64_t v)
{
	char digits[32];
	int n = snprintf(digits, sizeof(digits), "%" PRIu64, v);
	size_t o = 0;
	for (int i = 0; i < n && o + 2 < len; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = 0;
}

void dr_fmt_bytes(char *buf, size_t len, uint64_t v)
{
	static const char *const unit[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	double x = (double)v;
	int u = 0;
	while (x >= 1000 && u < 5) {
		x /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 " B", v);
	else
		snprintf(buf, len, "%.1f %s", x, unit[u]);
}

void dr_fmt_ibytes(char *buf, size_t len, uint64_t v)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double x = (double)v;
	int u = 0;
	while (x >= 1024 && u < 4) {
		x /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 " B", v);
	else if (x == (double)(uint64_t)x)
		snprintf(buf, len, "%.0f %s", x, unit[u]);
	else
		snprintf(buf, len, "%.1f %s", x, unit[u]);
}

void dr_fmt_time(char *buf, size_t len, double t, int with_date)
{
	time_t sec = (time_t)t;
	struct tm tm;
	gmtime_r(&sec, &tm);
	int ms = (int)((t - (double)sec) * 1000);
	if (ms < 0)
		ms = 0;
	if (ms > 999)
		ms = 999;
	if (with_date)
		snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
	else
		snprintf(buf, len, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}
