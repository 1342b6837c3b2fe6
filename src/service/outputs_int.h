/* Between the alert outputs' files: the webhook (webhook.c) and the exec
 * hook (exec.c) as outputs.c drives them. Not for other directories. */
#ifndef DR_SERVICE_OUTPUTS_INT_H
#define DR_SERVICE_OUTPUTS_INT_H

#include <stddef.h>

#include "lib/now.h"
#include "service/metrics.h"
#include "service/outputs.h"

#define DR_EXEC_MAX 8		/* hooks running at once; more wait */
#define DR_EXEC_PENDING 1024	/* events waiting for a hook to end; more are dropped */
#define DR_EXEC_GRACE 2.0	/* seconds between SIGTERM and SIGKILL */
#define DR_WEBHOOK_BACKOFF_MAX 60.0	/* the longest wait between attempts */


struct dr_webhook;

/* Checks the URL and settings of c and sets up the queue (no thread, no
 * connection yet). 0, or -1 with "SETTING: reason" in errbuf. */
int dr_webhook_open(struct dr_webhook **w, const struct dr_output_config *c, char *errbuf,
		    size_t errlen);
int dr_webhook_start(struct dr_webhook *w, char *errbuf, size_t errlen);
/* Queues a copy of the body, or counts it dropped when the queue is full. */
void dr_webhook_push(struct dr_webhook *w, const char *body, size_t len);
void dr_webhook_stats(struct dr_webhook *w, struct dr_output_stats *st);
/* Tries to deliver the queue until `deadline` seconds from now, then stops
 * the thread and frees w; what is left is counted as dropped. */
void dr_webhook_close(struct dr_webhook *w, double deadline);

struct dr_exec;

int dr_exec_open(struct dr_exec **x, const char *cmd, double timeout, unsigned max,
		 char *errbuf, size_t errlen);
/* Starts the command with the event on its standard input, without
 * waiting for it; dropped and counted when `max` already run. */
void dr_exec_event(struct dr_exec *x, const char *event, const char *type, const char *key,
		   const char *json, size_t len);
/* Reaps the hooks that ended; SIGTERM past the timeout, SIGKILL after the
 * grace. */
void dr_exec_poll(struct dr_exec *x);
void dr_exec_stats(struct dr_exec *x, struct dr_output_stats *st);
/* Waits up to `deadline` seconds for the running hooks, kills the rest,
 * reaps them all and frees x. */
void dr_exec_close(struct dr_exec *x, double deadline);

#endif
