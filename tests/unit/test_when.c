/* Human times: durations, dates in UTC and local time, ranges, ISO 8601. */
#include <stdlib.h>
#include <time.h>

#include "harness.h"
#include "lib/when.h"

static char err[256];

static void test_duration(void)
{
	int64_t s = 0;
	CHECK_EQ(dr_when_duration("10m", "--since", &s, err, sizeof(err)), 0);
	CHECK_EQ(s, 600);
	CHECK_EQ(dr_when_duration("2h", "--since", &s, err, sizeof(err)), 0);
	CHECK_EQ(s, 7200);
	CHECK_EQ(dr_when_duration("1d", "--since", &s, err, sizeof(err)), 0);
	CHECK_EQ(s, 86400);
	CHECK_EQ(dr_when_duration("1w", "--since", &s, err, sizeof(err)), 0);
	CHECK_EQ(s, 604800);
	CHECK_EQ(dr_when_duration("30s", "--since", &s, err, sizeof(err)), 0);
	CHECK_EQ(s, 30);
	CHECK_EQ(dr_when_duration("5x", "--since", &s, err, sizeof(err)), -1);
	CHECK(strncmp(err, "--since '5x': give", 18) == 0);
	CHECK_EQ(dr_when_duration("m", "--since", &s, err, sizeof(err)), -1);
	CHECK_EQ(dr_when_duration("0m", "--since", &s, err, sizeof(err)), -1);
	CHECK_EQ(dr_when_duration("10mm", "--since", &s, err, sizeof(err)), -1);
	CHECK_EQ(dr_when_duration("", "since", &s, err, sizeof(err)), -1);
	CHECK(strncmp(err, "since '': give", 14) == 0);
	CHECK_EQ(dr_when_duration("99999999999999999999d", "--since", &s, err, sizeof(err)), -1);
}

static void test_time_utc(void)
{
	double t = 0;
	CHECK_EQ(dr_when_time("2026-12-01", "--from", 1, 0, &t, err, sizeof(err)), 0);
	CHECK_EQ((long long)t, 1796083200LL);
	CHECK_EQ(dr_when_time("2026-12-01T12:00", "--from", 1, 0, &t, err, sizeof(err)), 0);
	CHECK_EQ((long long)t, 1796083200LL + 43200);
	CHECK_EQ(dr_when_time("2026-12-01 12:00:05", "--from", 1, 0, &t, err, sizeof(err)), 0);
	CHECK_EQ((long long)t, 1796083200LL + 43205);
	CHECK_EQ(dr_when_time("1796083200", "--from", 1, 0, &t, err, sizeof(err)), 0);
	CHECK_EQ((long long)t, 1796083200LL);
	CHECK_EQ(dr_when_time("1796083200.5", "--from", 1, 0, &t, err, sizeof(err)), 0);
	CHECK(t == 1796083200.5);
	CHECK_EQ(dr_when_time("now", "--to", 1, 1234.5, &t, err, sizeof(err)), 0);
	CHECK(t == 1234.5);
	CHECK_EQ(dr_when_time("2026-02-31", "--from", 1, 0, &t, err, sizeof(err)), -1);
	CHECK_EQ(dr_when_time("2026-13-01", "--from", 1, 0, &t, err, sizeof(err)), -1);
	CHECK_EQ(dr_when_time("2026-12-01T25:00", "--from", 1, 0, &t, err, sizeof(err)), -1);
	CHECK_EQ(dr_when_time("yesterday", "--from", 1, 0, &t, err, sizeof(err)), -1);
	CHECK(strncmp(err, "--from 'yesterday': give a date", 31) == 0);
	CHECK_EQ(dr_when_time("2026-12-01T12:00junk", "--from", 1, 0, &t, err, sizeof(err)), -1);
}

static void test_time_local(void)
{
	double t = 0;
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();
	/* December: CET, one hour ahead of UTC. */
	CHECK_EQ(dr_when_time("2026-12-01T12:00", "--from", 0, 0, &t, err, sizeof(err)), 0);
	CHECK_EQ((long long)t, 1796083200LL + 43200 - 3600);
	/* A trailing Z is UTC whatever the zone. */
	CHECK_EQ(dr_when_time("2026-12-01T12:00Z", "--from", 0, 0, &t, err, sizeof(err)), 0);
	CHECK_EQ((long long)t, 1796083200LL + 43200);
	char buf[DR_WHEN_TEXT_MAX];
	dr_when_format(1796083200.0 + 43205, 0, 0, buf);
	CHECK_STR(buf, "2026-12-01T13:00:05+01:00");
	dr_when_format(1796083200.0 + 43205.25, 1, 1, buf);
	CHECK_STR(buf, "2026-12-01T12:00:05.250Z");
	dr_when_format(1796083200.0 + 43205.9996, 1, 1, buf);
	CHECK_STR(buf, "2026-12-01T12:00:06.000Z");
	setenv("TZ", "UTC0", 1);
	tzset();
}

static void test_range(void)
{
	double f, t;
	CHECK_EQ(dr_when_range("10m", NULL, NULL, 1, 10000, 3600, "--", &f, &t, err, sizeof(err)), 0);
	CHECK(f == 9400 && t == 10000);
	CHECK_EQ(dr_when_range(NULL, NULL, NULL, 1, 10000, 3600, "--", &f, &t, err, sizeof(err)), 0);
	CHECK(f == 6400 && t == 10000);
	CHECK_EQ(dr_when_range(NULL, "5000", NULL, 1, 10000, 3600, "--", &f, &t, err, sizeof(err)), 0);
	CHECK(f == 5000 && t == 10000);
	CHECK_EQ(dr_when_range(NULL, NULL, "8000", 1, 10000, 3600, "--", &f, &t, err, sizeof(err)), 0);
	CHECK(f == 4400 && t == 8000);
	CHECK_EQ(dr_when_range("10m", "5000", NULL, 1, 10000, 3600, "--", &f, &t, err, sizeof(err)), -1);
	CHECK_STR(err, "--since cannot be combined with --from or --to");
	CHECK_EQ(dr_when_range(NULL, "9000", "8000", 1, 10000, 3600, "", &f, &t, err, sizeof(err)), -1);
	CHECK_STR(err, "from '9000' is after to '8000'");
	CHECK_EQ(dr_when_range("5x", NULL, NULL, 1, 10000, 3600, "", &f, &t, err, sizeof(err)), -1);
	CHECK(strncmp(err, "since '5x'", 10) == 0);
}

int main(void)
{
	setenv("TZ", "UTC0", 1);
	tzset();
	RUN(test_duration);
	RUN(test_time_utc);
	RUN(test_time_local);
	RUN(test_range);
	TEST_MAIN_END();
}
