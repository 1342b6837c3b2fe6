/* Alerts: one per (type, key) per attack. A detector reports every window
 * in which its condition holds with dr_alert_fire(); the list joins windows
 * of the same (type, key) into one alert until the key has been quiet for
 * DR_ALERT_QUIET seconds. The list has a fixed capacity. */
#ifndef DR_DETECT_ALERT_H
#define DR_DETECT_ALERT_H

#include <stdint.h>

#include "decode/dns.h"

#define DR_ALERT_QUIET 60.0	/* seconds without firing that end an attack */
#define DR_ALERTS_MAX 1024
#define DR_EVIDENCE_MAX 3072

enum dr_severity { DR_SEV_LOW = 1, DR_SEV_MEDIUM, DR_SEV_HIGH, DR_SEV_CRITICAL };

struct dr_alert {
	const char *type;		/* the detector's name */
	char key[DR_NAME_TEXT_MAX];	/* the entity to act on */
	double start;			/* first packet of the first firing window */
	double end;			/* last packet that matched */
	int severity;			/* highest seen */
	uint64_t packets, bytes;	/* over all firing windows */
	double peak_pps, peak_bps;
	char evidence[DR_EVIDENCE_MAX];	/* a JSON object, from the latest window */
	char summary[512];		/* what it is, for people */
	char action[512];		/* what to do next */
};

/* One firing window, as a detector reports it. */
struct dr_fire {
	const char *type;
	const char *key;
	double first, last;		/* packet times of the window */
	uint64_t packets, bytes;
	double pps, bps;
	int severity;
	const char *evidence;		/* JSON object text */
	const char *summary;
	const char *action;
};

struct dr_alerts {
	struct dr_alert *a;		/* DR_ALERTS_MAX, allocated once */
	unsigned n;
	uint64_t dropped;		/* fires lost because the list was full */
};

int dr_alerts_init(struct dr_alerts *al);
void dr_alerts_fini(struct dr_alerts *al);

/* Joins the window to the open alert of the same type and key, or starts a
 * new one. */
void dr_alert_fire(struct dr_alerts *al, const struct dr_fire *f);

/* Sorts by start time, then type and key: the order reports use. */
void dr_alerts_sort(struct dr_alerts *al);

const char *dr_severity_name(int severity);

#endif
