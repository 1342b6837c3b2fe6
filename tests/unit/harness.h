/* A small unit-test harness: CHECK records a failure and goes on, each
 * test file's main() runs its tests and ends with a "N passed, N failed"
 * line that ctest's output keeps. */
#ifndef DR_TEST_HARNESS_H
#define DR_TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

static int dr_test_checks, dr_test_failures, dr_test_passed, dr_test_failed;

#define CHECK(cond) do { \
	dr_test_checks++; \
	if (!(cond)) { \
		dr_test_failures++; \
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
	} \
} while (0)

#define CHECK_EQ(a, b) do { \
	long long va_ = (long long)(a), vb_ = (long long)(b); \
	dr_test_checks++; \
	if (va_ != vb_) { \
		dr_test_failures++; \
		fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, %s == %lld\n", \
			__FILE__, __LINE__, #a, va_, #b, vb_); \
	} \
} while (0)

#define CHECK_STR(a, b) do { \
	const char *sa_ = (a), *sb_ = (b); \
	dr_test_checks++; \
	if (strcmp(sa_, sb_) != 0) { \
		dr_test_failures++; \
		fprintf(stderr, "%s:%d: CHECK_STR failed: \"%s\" != \"%s\"\n", \
			__FILE__, __LINE__, sa_, sb_); \
	} \
} while (0)

#define RUN(test) do { \
	int before_ = dr_test_failures; \
	test(); \
	if (dr_test_failures == before_) { \
		dr_test_passed++; \
	} else { \
		dr_test_failed++; \
		fprintf(stderr, "FAIL %s\n", #test); \
	} \
} while (0)

#define TEST_MAIN_END() do { \
	printf("%d passed, %d failed\n", dr_test_passed, dr_test_failed); \
	return dr_test_failed ? 1 : 0; \
} while (0)

#endif
