/* Alerts for people and machines: the sentences (what it is, what to do)
 * and the JSON of an alert and of its lifecycle events, all written from
 * the typed evidence (detect/evidence.h); and the log that keeps the
 * closed alerts of a run for its report. */
#ifndef DR_REPORT_ALERTS_H
#define DR_REPORT_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include "detect/alert.h"
#include "lib/outbuf.h"

/* What the alert is, in one sentence; returns 0, or -1 when it had to be
 * cut to fit len (the text is then still terminated). */
int dr_alert_summary(const struct dr_alert *a, char *buf, size_t len);

/* What to do next, in one sentence; 0 or -1 as above. */
int dr_alert_advice(const struct dr_alert *a, char *buf, size_t len);

/* The alert as a JSON object (the contract of DESIGN.md). */
void dr_alert_json(struct dr_out *o, const struct dr_alert *a);

/* A lifecycle event as one JSON line: {"event": ..., "alert": {...}}\n */
void dr_alert_event_json(struct dr_out *o, enum dr_alert_event event, const struct dr_alert *a);

const char *dr_alert_event_name(enum dr_alert_event event);

/* The closed alerts of a run, in a fixed number of slots, sorted for the
 * report by dr_alert_log_sort. */
struct dr_alert_log {
	struct dr_alert *a;
	unsigned n, cap;
	uint64_t dropped;	/* alerts that did not fit */
};

int dr_alert_log_init(struct dr_alert_log *log, unsigned cap);
void dr_alert_log_fini(struct dr_alert_log *log);
/* An alert sink (dr_alerts_subscribe) that keeps every closed alert. */
void dr_alert_log_sink(void *log, enum dr_alert_event event, const struct dr_alert *a);
/* By start time, then type and key: the order reports use. */
void dr_alert_log_sort(struct dr_alert_log *log);

/* A bit rate for people: "25.3 Mbit/s". */
void dr_fmt_bps(char *buf, size_t len, double bps);

#endif
