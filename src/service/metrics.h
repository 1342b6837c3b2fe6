/* What a running service counts, at every stage, published once a second
 * by the detection thread and read by the HTTP thread for GET /metrics
 * (Prometheus text format, names prefixed dnsradar_): so that an operator
 * sees loss instead of guessing. */
#ifndef DR_SERVICE_METRICS_H
#define DR_SERVICE_METRICS_H

#include <pthread.h>
#include <stdint.h>

#include "action/respond.h"
#include "decode/flow.h"
#include "decode/packet.h"
#include "detect/engine.h"
#include "input/input.h"
#include "lib/outbuf.h"
#include "store/store.h"

#define DR_METRIC_OUTPUTS 8

/* One alert output's counts (service/outputs.h). */
struct dr_output_stats {
	char name[16];		/* "log", "syslog", "webhook", "exec" */
	uint64_t sent;		/* events delivered */
	uint64_t failed;	/* attempts that failed (retried if it can) */
	uint64_t dropped;	/* events given up on: queue full or retries spent */
	uint32_t queue_depth, queue_cap;
};

struct dr_metrics {
	double started;		/* wall clock, seconds since the epoch */
	double now;		/* when this copy was published */
	int64_t engine_clock;	/* the engine's clock (input time) */
	/* live capture, per interface */
	struct dr_input_iface ifaces[DR_IFACES_MAX];
	unsigned nifaces;
	/* flow export sockets */
	struct dr_input_socket sockets[DR_LISTEN_MAX];
	unsigned nsockets;
	struct dr_decode_stats decode;	/* frames, DNS messages, malformed, ... */
	struct dr_flow_stats flows;	/* datagrams, records, sequence gaps, ... */
	uint64_t records[2];		/* dispatched to the detectors: DNS, flows */
	uint64_t records_ahead;		/* dropped: time too far past the wall clock */
	struct dr_engine_losses losses;	/* late, early, lost windows */
	uint64_t reorder_depth, reorder_cap;	/* records held for late ones */
	/* alerts raised, per detector type (dr_detectors order) */
	unsigned ndetectors;
	const char *detector[DR_DETECTORS_MAX];
	uint64_t alerts_opened[DR_DETECTORS_MAX];
	uint64_t alerts_open[DR_DETECTORS_MAX];	/* open now */
	uint64_t alerts_dropped;		/* firing seconds lost: slots full */
	int have_store;
	struct dr_store_stats store;
	struct dr_output_stats outputs[DR_METRIC_OUTPUTS];
	unsigned noutputs;
	int have_respond;
	int respond_act;			/* 0: dry-run */
	struct dr_respond_stats respond;
	uint64_t reloads, reload_failures;	/* SIGHUP */
	uint64_t http_requests, http_errors;	/* filled by the HTTP thread */
};

/* The published copy: the detection thread writes it under the lock once
 * a second; readers copy it out under the lock. */
struct dr_metrics_board {
	pthread_mutex_t lock;
	struct dr_metrics m;
};

/* Writes m in the Prometheus text exposition format (version 0.0.4):
 * HELP and TYPE lines, counters ending in _total, gauges, labels for
 * interface, socket, exporter, type and output. */
void dr_metrics_render(struct dr_out *o, const struct dr_metrics *m);

#endif
