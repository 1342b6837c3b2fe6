/* Where a running service sends its alert events, each fed by the
 * lifecycle events (open, update, close): a JSON-lines log, syslog, a
 * webhook (libcurl, on a thread of its own, retried with backoff from a
 * bounded queue) and an exec hook (the event as JSON on standard input,
 * killed after a timeout). Every output counts what it delivered, what
 * failed and what it gave up on (service/metrics.h). */
#ifndef DR_SERVICE_OUTPUTS_H
#define DR_SERVICE_OUTPUTS_H

#include <stddef.h>

#include "detect/alert.h"
#include "service/metrics.h"

struct dr_outputs;

struct dr_output_config {
	const char *alert_log;		/* FILE of JSON lines; NULL: none */
	int syslog;			/* 1: one line per event to syslog(3) */
	const char *syslog_facility;	/* "daemon" (default), "local0".."local7" */
	const char *webhook;		/* http:// or https:// URL; NULL: none */
	const char *webhook_header;	/* one extra header ("Authorization: ..."), or NULL */
	double webhook_timeout;		/* seconds per attempt (default 5) */
	unsigned webhook_queue;		/* events waiting at most (default 1024) */
	unsigned webhook_retries;	/* attempts after the first (default 5) */
	double webhook_backoff;		/* seconds before the first retry, doubling up
					 * to 60 with jitter (default 1) */
	const char *exec;		/* a command run by /bin/sh -c per event; NULL: none */
	double exec_timeout;		/* seconds before it is killed (default 10) */
};

void dr_output_config_defaults(struct dr_output_config *c);

/* Opens what c names (the log file, created 0640 and owned by uid/gid
 * when they are not -1, so that the service may reopen it after it
 * drops root; syslog). Starts no thread. 0, or -1 with "SETTING: reason"
 * in errbuf. */
int dr_outputs_open(struct dr_outputs **o, const struct dr_output_config *c, int uid, int gid,
		    char *errbuf, size_t errlen);

/* Starts the webhook's thread, if there is a webhook. 0 or -1 with why. */
int dr_outputs_start(struct dr_outputs *o, char *errbuf, size_t errlen);

/* An alert sink (dr_engine_subscribe). Never blocks on the network: the
 * log and syslog write at once, the webhook queues, the exec hook is
 * started and reaped later (dr_outputs_poll). */
void dr_outputs_event(void *o, enum dr_alert_event event, const struct dr_alert *a);

/* Once a second: reaps exec hooks, kills those past their timeout. */
void dr_outputs_poll(struct dr_outputs *o);

/* SIGHUP: reopens the log (after rotation), safe while events arrive on
 * another thread; on failure the old file stays in use. 0 or -1 with why. */
int dr_outputs_reopen(struct dr_outputs *o, char *errbuf, size_t errlen);

/* The outputs' counts, up to max; returns how many. Safe from any thread. */
unsigned dr_outputs_stats(struct dr_outputs *o, struct dr_output_stats *st, unsigned max);

/* The human part of an event's syslog line, without the JSON that
 * follows it: "open flood 192.0.2.7 severity=high pps=... bps=...: <the
 * summary sentence>". 0, or -1 when it had to be cut to fit len. */
int dr_outputs_human_line(enum dr_alert_event event, const struct dr_alert *a, char *buf,
			  size_t len);

/* Delivers what is queued, waiting up to `deadline` seconds in all for
 * the webhook and then the exec hooks still running (killed after it),
 * then closes; what is left is counted as dropped. No event may arrive
 * during or after the call. */
void dr_outputs_close(struct dr_outputs *o, double deadline);

#endif
