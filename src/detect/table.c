/* The detector table: adding a detector is one file and one line here. */
#include "detect/detector.h"

extern const struct dr_detector dr_detect_reflection;
extern const struct dr_detector dr_detect_amplification;
extern const struct dr_detector dr_detect_random_subdomain;
extern const struct dr_detector dr_detect_flood;
extern const struct dr_detector dr_detect_loop;

const struct dr_detector *const dr_detectors[] = {
	&dr_detect_reflection,
	&dr_detect_amplification,
	&dr_detect_random_subdomain,
	&dr_detect_flood,
	&dr_detect_loop,
};

const unsigned dr_ndetectors = sizeof(dr_detectors) / sizeof(dr_detectors[0]);
