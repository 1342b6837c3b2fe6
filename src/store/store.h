/* The history of a running service, in one SQLite file (WAL): alert
 * events written within a second of happening, per-minute aggregates and
 * a bounded sample of records (schema.h), with a retention time and a
 * size cap. The detection thread hands everything over without waiting
 * on the disk: a writer thread of its own commits it, from a queue of a
 * fixed size whose overflow is counted, never silent. A kill -9 at any
 * moment loses at most the minute being gathered, never a committed
 * alert, and never leaves the file corrupt (WAL, synchronous=NORMAL). */
#ifndef DR_STORE_STORE_H
#define DR_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "decode/record.h"
#include "detect/alert.h"
#include "lib/param.h"
#include "store/clickhouse.h"

struct dr_geo;
struct dr_store;

/* The store's settings ("store.NAME"), declared here and checked with
 * the detectors' (dr_param_check): retention (days), max_size (MiB), top
 * (keys kept per dimension per minute), sample (records kept per minute
 * besides those under an alert), alert_records (per minute, of hosts and
 * zones under an open alert), queue (batches the writer may fall behind). */
enum { DR_STORE_RETENTION, DR_STORE_MAX_SIZE, DR_STORE_TOP, DR_STORE_SAMPLE,
       DR_STORE_ALERT_RECORDS, DR_STORE_QUEUE, DR_STORE_NPARAMS };
extern const struct dr_param dr_store_params[DR_STORE_NPARAMS];

struct dr_store_config {
	const char *path;
	double values[DR_STORE_NPARAMS];	/* in dr_store_params order */
	const struct dr_geo *geo;	/* country and AS of addresses; may be NULL */
	const char *version;		/* written into runs */
	/* NULL, or a ClickHouse server that gets every row committed here */
	const struct dr_ch_config *clickhouse;
	double clickhouse_drain;	/* seconds the close gives it to send */
};

void dr_store_config_defaults(struct dr_store_config *c);

/* What the store did, for metrics and the report; every loss counted. */
struct dr_store_stats {
	uint64_t events;		/* alert events committed */
	uint64_t minutes;		/* minutes of aggregates committed */
	uint64_t agg_rows;		/* their rows */
	uint64_t records;		/* records committed */
	uint64_t records_skipped;	/* over a minute's caps: not kept, by design */
	uint64_t dropped_batches;	/* the writer's queue was full: lost */
	uint64_t dropped_events;	/* ... alert events among them */
	uint64_t write_errors;		/* transactions that failed (disk full) */
	uint64_t deleted_rows;		/* removed by retention or the size cap */
	uint32_t queue_depth;		/* batches waiting now */
	uint32_t queue_cap;
	uint64_t file_bytes;		/* the database's size, at the last check */
	char last_error[256];		/* "" or the last failure, for the log */
	int have_clickhouse;
	struct dr_ch_stats clickhouse;
};

/* Opens (creating if need be) the file and its schema, checks the schema
 * version, records a new run and marks alerts a previous run left open
 * as interrupted. Starts no thread (so that a caller may drop root
 * first). 0, or -1 with "FILE: reason" in errbuf. */
int dr_store_open(struct dr_store **s, const struct dr_store_config *c, char *errbuf,
		  size_t errlen);

/* Starts the writer thread. 0, or -1 with the reason in errbuf. */
int dr_store_start(struct dr_store *s, char *errbuf, size_t errlen);

/* An alert sink (dr_engine_subscribe): the event is queued and committed
 * within a second; hosts and zones under an open alert have their records
 * kept. Call on the thread that calls dr_store_record (the engine's
 * sinks run there). */
void dr_store_event(void *s, enum dr_alert_event event, const struct dr_alert *a);

/* Counts one record (its keys filled) into the minute it falls in, and
 * keeps it as a sample or as a record under an alert. */
void dr_store_record(struct dr_store *s, const struct dr_record *r);

/* The engine's clock says it is `now`: minutes that ended before it are
 * handed to the writer. Call at least once a second. */
void dr_store_advance(struct dr_store *s, int64_t now);

/* Reloaded settings: caps and retention take effect from the next
 * minute. Call on the thread that calls dr_store_record. 0, or -1 with
 * the reason when a setting needs a restart (store.queue), the others
 * being applied all the same. */
int dr_store_reconfigure(struct dr_store *s, const double values[DR_STORE_NPARAMS],
			 char *errbuf, size_t errlen);

/* A copy of the counters; safe from any thread. */
void dr_store_stats(struct dr_store *s, struct dr_store_stats *st);

/* Hands over the minute being gathered, commits everything queued,
 * records how the run ended ("stopped", "signal SIGTERM") and closes. */
void dr_store_close(struct dr_store *s, const char *how);

#endif
