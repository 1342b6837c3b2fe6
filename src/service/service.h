/* dnsradar run: the long-running service. One process captures live and
 * receives flow exports, runs the detectors of analyze on the engine's
 * clock, keeps history in the store, serves the HTTP API and metrics, and
 * sends alert events to its outputs. SIGHUP reloads thresholds, roles and
 * outputs without losing detector state; SIGTERM judges what was read,
 * closes the open alerts, flushes everything and exits 0. */
#ifndef DR_SERVICE_SERVICE_H
#define DR_SERVICE_SERVICE_H

#include "service/config.h"

#define DR_SERVICE_FLAGS 256	/* settings given as flags, replayed on reload */

/* What the command line gave: the config file, and settings as flags,
 * which win over the file's (applied after it, again on every reload). */
struct dr_service_args {
	const char *config;		/* NULL: flags only */
	struct {
		const char *key, *value;
	} flag[DR_SERVICE_FLAGS];
	unsigned nflags;
};

/* Builds the configuration args describe: the file, then the flags.
 * Every mistake is printed on stderr ("FILE:LINE: reason"); returns how
 * many, or -1 when the file cannot be read. */
int dr_service_configure(struct dr_service_config *c, const struct dr_service_args *args);

/* Runs the service until SIGTERM or SIGINT. Returns the exit status: 0
 * after SIGTERM, 130 after SIGINT, 2 when something named could not be
 * opened (one line on stderr says which and why), 1 for a failure while
 * running. */
int dr_service_run(const struct dr_service_args *args);

#endif
