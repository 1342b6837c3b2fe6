/* The settings validator (detect/engine.c): every detector's declared
 * settings, the ranges --set and config files are held to, capacities that
 * cannot fit in memory, and the octets per entry a capacity declares
 * against what its tables really take. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "detect/engine.h"
#include "harness.h"

static unsigned detector(const char *name)
{
	for (unsigned i = 0; i < dr_ndetectors; i++)
		if (strcmp(dr_detectors[i]->name, name) == 0)
			return i;
	CHECK(!"no such detector");
	return 0;
}

static double value(const struct dr_engine *e, const char *key)
{
	unsigned det;
	int param;
	char why[256];
	CHECK_EQ(dr_engine_find(e, key, &det, &param, why, sizeof(why)), 0);
	return param < 0 ? e->enabled[det] : e->values[det][param];
}

/* Every setting has a kind, a default its own validator takes, and, for
 * a capacity, the octets of an entry. */
static void test_declarations(void)
{
	struct dr_engine e;
	dr_engine_defaults(&e);
	for (unsigned i = 0; i < dr_ndetectors; i++) {
		const struct dr_detector *d = dr_detectors[i];
		CHECK(d->nparams <= DR_PARAMS_MAX);
		for (unsigned p = 0; p < d->nparams; p++) {
			const struct dr_param *pa = &d->params[p];
			char text[64], why[256];
			double v = -1;
			snprintf(text, sizeof(text), "%.17g", pa->def);
			CHECK_EQ(dr_param_check(pa, text, e.mem_limit, &v, why, sizeof(why)), 0);
			CHECK(v == pa->def);
			CHECK(pa->kind <= DR_PARAM_BOOL);
			if (pa->kind != DR_PARAM_SHARE && pa->kind != DR_PARAM_SECONDS &&
			    pa->kind != DR_PARAM_OCTETS && pa->kind != DR_PARAM_BOOL)
				CHECK(pa->unit != NULL);
			if (pa->kind == DR_PARAM_CAPACITY)
				CHECK(pa->entry_octets > 0);
		}
	}
}

struct refusal {
	const char *set;
	const char *why;	/* in the message */
};

static void test_refusals(void)
{
	static const struct refusal bad[] = {
		{"reflection.top_share=2", "reflection.top_share=2: a share from 0 to 1"},
		{"reflection.top_share=-0.1", "a share from 0 to 1"},
		{"flood.source_pps=-1", "a rate from 0 to 1000000000 packets/s"},
		{"flood.source_pps=fast", "a rate from 0"},
		{"flood.source_pps=nan", "a rate from 0"},
		{"flood.source_pps=inf", "a rate from 0"},
		{"flood.source_pps=0x10", "a rate from 0"},
		{"flood.source_pps=", "a rate from 0"},
		{"flood.min_seconds=0", "a whole number of seconds from 1 to 86400"},
		{"flood.min_seconds=1.5", "a whole number of seconds"},
		{"flood.min_seconds=4294967297", "a whole number of seconds"},	/* wrapped to 1 */
		{"flood.sources=4294967296", "a whole number of sources from 1 to "},	/* wrapped to 0 */
		{"flood.sources=0", "a whole number of sources"},
		{"amplification.min_reflectors=33", "a whole number of reflectors from 1 to 32"},
		{"amplification.min_size=70000", "a size from 0 to 65535 octets"},
		{"reflection.min_factor=1e7", "a factor from 0 to 1000000"},
		{"loop.enabled=2", "0 or 1"},
		{"flood.nope=1", "flood has no threshold 'nope'; it has source_pps, "},
		{"nope.x=1", "no detector 'nope'; there are reflection, amplification, "
			     "random_subdomain, flood and loop"},
		{"min_rps=1", "not a DETECTOR.THRESHOLD"},
		{"flood.source_pps", "expected DETECTOR.THRESHOLD=VALUE"},
	};
	struct dr_engine e;
	dr_engine_defaults(&e);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[512] = "";
		CHECK_EQ(dr_engine_set(&e, bad[i].set, err, sizeof(err)), -1);
		if (!strstr(err, bad[i].why))
			fprintf(stderr, "  %s: got '%s'\n", bad[i].set, err);
		CHECK(strstr(err, bad[i].why) != NULL);
		CHECK(strchr(err, '\n') == NULL);
	}
	/* nothing refused was set */
	CHECK(value(&e, "reflection.top_share") == 0.5);
	CHECK(value(&e, "flood.min_seconds") == 2);
	CHECK(value(&e, "flood.sources") == 65536);
	CHECK(value(&e, "loop.enabled") == 1);
}

static void test_accepted(void)
{
	struct dr_engine e;
	char err[512];
	dr_engine_defaults(&e);
	CHECK_EQ(dr_engine_set(&e, " reflection.top_share = 1 ", err, sizeof(err)), 0);
	CHECK_EQ(dr_engine_set(&e, "flood.sources=1", err, sizeof(err)), 0);
	CHECK_EQ(dr_engine_set(&e, "flood.source_pps=2.5e3", err, sizeof(err)), 0);
	CHECK_EQ(dr_engine_set(&e, "loop.enabled=off", err, sizeof(err)), 0);
	CHECK_EQ(dr_engine_set(&e, "flood.enabled=No", err, sizeof(err)), 0);
	CHECK_EQ(dr_engine_set(&e, "flood.enabled=true", err, sizeof(err)), 0);
	CHECK(value(&e, "reflection.top_share") == 1);
	CHECK(value(&e, "flood.sources") == 1);
	CHECK(value(&e, "flood.source_pps") == 2500);
	CHECK(value(&e, "loop.enabled") == 0);
	CHECK(value(&e, "flood.enabled") == 1);
}

/* A capacity whose table does not fit is refused with what it needs and
 * how many fit; together, the tables must fit too. */
static void test_memory_budget(void)
{
	struct dr_engine e;
	char err[512];
	dr_engine_defaults(&e);
	CHECK(e.mem_limit > 0);
	e.mem_limit = (size_t)1 << 30;
	const struct dr_param *sources = &dr_detectors[detector("flood")]->params[6];
	CHECK_STR(sources->name, "sources");
	double fit = floor((double)e.mem_limit / (double)sources->entry_octets);
	char want[64], set[64];
	snprintf(want, sizeof(want), "at most %.0f sources fit in the memory budget (1.0 GiB)", fit);
	snprintf(set, sizeof(set), "flood.sources=%.0f", fit + 1);
	CHECK_EQ(dr_engine_set(&e, set, err, sizeof(err)), -1);
	CHECK(strstr(err, "needs 1.0 GiB for its table") != NULL);
	CHECK(strstr(err, want) != NULL);
	snprintf(set, sizeof(set), "flood.sources=%.0f", fit);
	CHECK_EQ(dr_engine_set(&e, set, err, sizeof(err)), 0);
	/* the ceiling, whatever the memory */
	e.mem_limit = SIZE_MAX;
	snprintf(set, sizeof(set), "flood.sources=%u", DR_PARAM_CAPACITY_MAX + 1);
	CHECK_EQ(dr_engine_set(&e, set, err, sizeof(err)), -1);
	CHECK(strstr(err, "from 1 to 268435456") != NULL);

	/* each fits, both do not */
	dr_engine_defaults(&e);
	e.mem_limit = (size_t)1 << 30;
	snprintf(set, sizeof(set), "flood.sources=%.0f", fit * 0.6);
	CHECK_EQ(dr_engine_set(&e, set, err, sizeof(err)), 0);
	snprintf(set, sizeof(set), "flood.targets=%.0f", fit * 0.6);
	CHECK_EQ(dr_engine_set(&e, set, err, sizeof(err)), 0);
	CHECK_EQ(dr_engine_check(&e, err, sizeof(err)), -1);
	CHECK(strstr(err, "more than the memory budget (1.0 GiB)") != NULL);
	CHECK_EQ(dr_engine_set(&e, "flood.enabled=0", err, sizeof(err)), 0);
	CHECK_EQ(dr_engine_check(&e, err, sizeof(err)), 0);
	dr_engine_defaults(&e);
	CHECK_EQ(dr_engine_check(&e, err, sizeof(err)), 0);
}

/* What a detector allocates for one more entry of a capacity is at most
 * the octets it declares, and not far below: the declaration keeps the
 * memory check true when a table's layout changes. */
static void test_entry_octets_true(void)
{
	static const uint8_t ports[8192] = {[53 / 8] = 1 << (53 % 8)};
	for (unsigned i = 0; i < dr_ndetectors; i++) {
		const struct dr_detector *d = dr_detectors[i];
		for (unsigned p = 0; p < d->nparams; p++) {
			if (d->params[p].kind != DR_PARAM_CAPACITY)
				continue;
			size_t mem[2];
			const double cap[2] = {1024, 8192};
			for (unsigned k = 0; k < 2; k++) {
				struct dr_engine e;
				dr_engine_defaults(&e);
				for (unsigned j = 0; j < e.n; j++)
					e.enabled[j] = j == i;
				e.values[i][p] = cap[k];
				CHECK_EQ(dr_engine_start(&e, ports), 0);
				mem[k] = dr_engine_mem(&e, i);
				dr_engine_fini(&e);
			}
			double per = (double)(mem[1] - mem[0]) / (cap[1] - cap[0]);
			double declared = (double)d->params[p].entry_octets;
			if (per > declared || per < declared / 2)
				fprintf(stderr, "  %s.%s: %.1f octets per entry, declared %.0f\n",
					d->name, d->params[p].name, per, declared);
			CHECK(per <= declared);
			CHECK(per >= declared / 2);
		}
	}
}

int main(void)
{
	RUN(test_declarations);
	RUN(test_refusals);
	RUN(test_accepted);
	RUN(test_memory_budget);
	RUN(test_entry_octets_true);
	TEST_MAIN_END();
}
