/* The insides of the ClickHouse sink (clickhouse.h), shared by its two
 * halves: the writer thread's (ch_batch.c: rows into batches, batches
 * into the spool) and the sender's (ch_send.c: the spool into
 * ClickHouse). Nothing outside src/store includes it. */
#ifndef DR_STORE_CH_INT_H
#define DR_STORE_CH_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "store/clickhouse.h"

#define CH_SPOOL_MAGIC "dnsradar-clickhouse-batch 1"
#define CH_BACKOFF_MAX 5.0	/* seconds between attempts, at most */
#define CH_RETENTION_EVERY 3600.0
#define CH_REJECT_AFTER 3	/* refusals of a batch's data before it is set aside */

struct ch_buf {
	uint8_t *p;
	size_t len, cap;
	int oom;		/* a write did not fit in memory: the batch is bad */
};

/* The batch a table is gathering: rows up to `mark` are committed (in
 * SQLite too), those after it belong to the transaction under way. */
struct ch_open {
	struct ch_buf buf;
	uint32_t rows;
	size_t mark;
	uint32_t mark_rows;
	uint64_t id;		/* its batch id, 0 before its first row */
	double started;		/* wall clock of its first row */
	int64_t tmin, tmax;	/* its rows' time column, seconds */
	int64_t pmin, pmax;	/* the same, of the rows not yet committed */
};

/* A batch in the spool. */
struct ch_entry {
	uint64_t id;
	enum dr_ch_table table;
	uint32_t rows;
	int64_t tmin, tmax;
	uint64_t bytes;		/* the file's */
	int uncertain;		/* an attempt failed: it may be stored already */
	unsigned refusals;	/* ClickHouse said the data is wrong */
};

struct dr_ch {
	/* set at open, read by both threads */
	char *base;		/* the URL without its database, ending in ? or & */
	char db[64], sensor[128], cluster[64];
	char *spool;
	double values[DR_CH_NPARAMS];

	/* the writer's */
	struct ch_open open[DR_CH_NTABLES];
	uint64_t last_version;

	/* shared, under lock */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	uint64_t last_id;
	struct ch_entry *entries;	/* the spool, by id */
	size_t nentries, entries_cap;
	uint64_t sending;		/* the entry the sender holds, 0: none */
	int stopping;
	double drain_until;		/* monotonic clock */
	int started;
	pthread_t thread;
	struct dr_ch_stats st;
};

/* The next batch id (or version): nanoseconds of the wall clock, made
 * to rise by at least one on each call, within this run and across runs
 * (an earlier run's spool sets the floor). */
uint64_t dr_ch_next_id(uint64_t *last);

/* The spool file of an entry: SPOOL/ID.TABLE */
void dr_ch_entry_path(const struct dr_ch *ch, const struct ch_entry *e, char *buf, size_t len);

/* Removes the entry (the sender sent it, or found it stored) and its
 * file; under ch->lock. */
void dr_ch_entry_remove(struct dr_ch *ch, uint64_t id);

/* Notes a failure for the log and the metrics; takes the lock. */
void dr_ch_note(struct dr_ch *ch, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void *dr_ch_sender_main(void *arg);

#endif
