/* The store's insides, shared by its two halves: the detection thread's
 * side (store.c: what is counted and kept, the queue's producer) and the
 * writer thread's (writer.c: one transaction per batch, retention and the
 * size cap). Nothing outside src/store includes it. */
#ifndef DR_STORE_STORE_INT_H
#define DR_STORE_STORE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>

#include "store/minute.h"
#include "store/store.h"

#define CHUNK_ROWS 1024
#define BUSY_TIMEOUT_MS 5000
#define EVENT_QUEUE (4 * DR_ALERTS_MAX)
#define KEY_SLOTS 4096		/* > 2 * DR_ALERTS_MAX: probes stay short */

enum batch_type { BATCH_EVENT, BATCH_MINUTE, BATCH_RECORDS };

struct batch {
	enum batch_type type;
	/* BATCH_EVENT: the alert as it stood */
	double ts;
	const char *event, *severity;	/* static strings */
	uint64_t id, packets, bytes;
	double start, end, detected, peak_pps, peak_bps;
	int closed;
	char type_name[32];
	char *key, *json;
	/* BATCH_MINUTE */
	struct dr_store_minute *minute;
	/* BATCH_RECORDS */
	struct dr_store_row *rows;
	uint32_t nrows;
};

/* A host or zone under open alerts (refs of them). */
struct addr_key {
	uint8_t b[DR_AKEY];
	uint32_t len;
	uint64_t hash;
	uint32_t refs;
};

struct zone_key {
	uint8_t wire[DR_NAME_MAX + 1];	/* lower-cased */
	uint32_t len;
	uint32_t refs;
};

struct dr_store {
	char *path;
	sqlite3 *db;
	int lock_fd;
	int64_t run;
	const struct dr_geo *geo;
	char version[64];

	/* the detection thread's */
	double values[DR_STORE_NPARAMS];
	double pending[DR_STORE_NPARAMS];
	int have_pending;
	struct dr_minute m;
	uint64_t alert_kept;		/* this minute */
	uint64_t skipped;		/* not yet in st */
	struct dr_store_row *chunk;
	uint32_t nchunk;
	struct addr_key addrs[DR_ALERTS_MAX];
	uint32_t naddrs;
	uint16_t slots[KEY_SLOTS];	/* index into addrs + 1; 0: empty */
	struct zone_key zones[DR_ALERTS_MAX];
	uint32_t nzones;

	/* shared, under lock */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct batch **queue;
	uint32_t qcap, qhead, qlen;
	/* alert events have their own queue, written first and far larger
	 * than any burst (every open alert closing at once, twice over) */
	struct batch **equeue;
	uint32_t ecap, ehead, elen;
	int stopping, started;
	pthread_t thread;
	double retention_days, max_mib;
	struct dr_store_stats st;

	struct dr_ch *ch;		/* NULL: no ClickHouse */
	double ch_drain;

	/* the writer's (the caller's before start and after close's join) */
	sqlite3_stmt *put_alert, *put_event, *put_agg, *put_record;
};

/* The writer's side (writer.c). */
void dr_store_batch_free(struct batch *b);
/* Counts a failure and keeps its text for the log. */
void dr_store_note_error(struct dr_store *s, const char *what);
/* One statement without results; 0, or -1 noted. */
int dr_store_exec(struct dr_store *s, const char *sql);
int64_t dr_store_query_int(struct dr_store *s, const char *sql, int *isnull);
/* Writes one batch (its transaction) and frees it. */
void dr_store_process(struct dr_store *s, struct batch *b);
/* The next batch queued, or NULL; under s->lock. */
struct batch *dr_store_pop(struct dr_store *s);
/* Queues b for the writer, or drops and counts it when the queue is full. */
void dr_store_enqueue(struct dr_store *s, struct batch *b);
void *dr_store_writer_main(void *arg);

#endif
