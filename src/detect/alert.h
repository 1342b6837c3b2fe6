/* Alerts and their lifecycle. A detector reports every window in which its
 * condition holds with dr_alert_fire(); the list joins the windows of one
 * (type, key) into one alert, which opens at its first window, is updated
 * as the attack goes on, and closes once the key has been quiet for the
 * quiet time of engine time. Each transition is an event that subscribers
 * (the report, a store, webhooks, bans) receive with the alert as it then
 * stands. The list has a fixed number of slots; a closed alert gives its
 * slot back, so a run of months needs no more. */
#ifndef DR_DETECT_ALERT_H
#define DR_DETECT_ALERT_H

#include <stdint.h>

#include "decode/dns.h"
#include "detect/evidence.h"

#define DR_ALERT_QUIET 60.0	/* seconds without firing that end an attack */
#define DR_ALERT_UPDATE_EVERY 10.0	/* seconds between update events, at most */
#define DR_ALERTS_MAX 1024	/* alerts open at once */
#define DR_ALERT_SINKS 8

enum dr_severity { DR_SEV_LOW = 1, DR_SEV_MEDIUM, DR_SEV_HIGH, DR_SEV_CRITICAL };

enum dr_alert_event { DR_EVENT_OPEN = 1, DR_EVENT_UPDATE, DR_EVENT_CLOSE };

struct dr_alert {
	uint64_t id;			/* 1, 2, ... in order of opening */
	const char *type;		/* the detector's name; NULL: a free slot */
	char key[DR_NAME_TEXT_MAX];	/* the entity to act on, as text */
	double start;			/* first packet of the run that fired */
	double detected;		/* when it fired: the end of that run's last window */
	double end;			/* last packet that matched */
	int severity;			/* highest seen */
	uint64_t packets, bytes;	/* over the whole attack, on the wire */
	double peak_pps, peak_bps;
	double last_pps, last_bps;	/* of the latest window that fired */
	uint32_t windows;		/* seconds that fired */
	int closed;
	/* bookkeeping for update events */
	double last_event;
	int pending;			/* fired since its last event */
	int event_severity;		/* severity at its last event */
	struct dr_evidence ev;		/* from the latest window */
};

/* One firing window, as a detector reports it. */
struct dr_fire {
	const char *type;
	const char *key;		/* text */
	double start;			/* first packet of the run of windows */
	double last;			/* last packet of this window */
	uint64_t packets, bytes;	/* counted since the previous fire of this run */
	double pps, bps;		/* this window's rates */
	int severity;
	const struct dr_evidence *ev;
};

/* Receives an event; the alert is borrowed for the call. */
typedef void (*dr_alert_sink_fn)(void *ctx, enum dr_alert_event event, const struct dr_alert *a);

struct dr_alerts {
	struct dr_alert *a;		/* DR_ALERTS_MAX slots, allocated once */
	unsigned nopen;
	uint64_t next_id;
	uint64_t opened, closed;
	uint64_t dropped;		/* windows lost: every slot held an open alert */
	double quiet;			/* seconds without firing that close an alert */
	struct {
		dr_alert_sink_fn fn;
		void *ctx;
	} sink[DR_ALERT_SINKS];
	unsigned nsinks;
};

int dr_alerts_init(struct dr_alerts *al);
void dr_alerts_fini(struct dr_alerts *al);

/* Adds a subscriber; events reach subscribers in the order they were
 * added. 0, or -1 when there are DR_ALERT_SINKS already. */
int dr_alerts_subscribe(struct dr_alerts *al, dr_alert_sink_fn fn, void *ctx);

/* Joins the window to the open alert of the same type and key (an update),
 * or opens one. */
void dr_alert_fire(struct dr_alerts *al, const struct dr_fire *f);

/* Engine time is now `now` (seconds): sends the update events due and
 * closes the alerts quiet for the quiet time. */
void dr_alerts_tick(struct dr_alerts *al, double now);

/* The input is over: every open alert closes. */
void dr_alerts_close_all(struct dr_alerts *al);

const char *dr_severity_name(int severity);

#endif
