/* The store's second home: a ClickHouse server (or one shard of a
 * cluster) that many sensors share, beside the sensor's SQLite file. The
 * writer thread hands over every row it commits to SQLite; they gather
 * in one batch per table (rows and seconds), which is compressed and
 * written to a spool folder; a sender thread of its own inserts the
 * spooled batches in order over ClickHouse's HTTP interface (RowBinary,
 * gzip, timeouts). While ClickHouse is down or refuses, the spool grows,
 * bounded in octets: records go first, then aggregates, oldest first,
 * counted; alert events never. Every batch has an id, in a column of its
 * rows; an insert whose answer was lost is looked for before it is sent
 * again, so that it is stored once. The service sees the settings and
 * the counters; the rest is the store's own (store.c, writer.c). */
#ifndef DR_STORE_CLICKHOUSE_H
#define DR_STORE_CLICKHOUSE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/param.h"

struct dr_ch;
struct dr_store_counts;
struct dr_query_record;

/* "clickhouse.NAME" settings (dr_param_check): batch_rows, batch_seconds,
 * spool_max (MiB), timeout (seconds an insert may take), and the days
 * each table keeps its rows. */
enum { DR_CH_BATCH_ROWS, DR_CH_BATCH_SECONDS, DR_CH_SPOOL_MAX, DR_CH_TIMEOUT,
       DR_CH_TTL_ALERTS, DR_CH_TTL_AGG, DR_CH_TTL_HOURLY, DR_CH_TTL_RECORDS,
       DR_CH_NPARAMS };
extern const struct dr_param dr_ch_params[DR_CH_NPARAMS];

struct dr_ch_config {
	const char *url;	/* http://HOST:PORT/?database=DB[&user=..&password=..] */
	const char *sensor;	/* NULL or "": the host's name */
	const char *spool;	/* the spool folder, made when missing */
	const char *cluster;	/* NULL or "": no Distributed tables */
	double values[DR_CH_NPARAMS];
};

void dr_ch_config_defaults(struct dr_ch_config *c);

/* The tables a batch goes to. */
enum dr_ch_table { DR_CH_EVENTS, DR_CH_AGG, DR_CH_RECORDS, DR_CH_NTABLES };
extern const char *const dr_ch_table_names[DR_CH_NTABLES];

struct dr_ch_stats {
	uint64_t batches_sent, rows_sent, bytes_sent;	/* bytes: compressed */
	uint64_t send_errors;		/* attempts that failed (each retried) */
	uint64_t duplicates;		/* batches found stored already: not sent again */
	uint64_t rejected;		/* batches ClickHouse cannot take: set aside */
	uint64_t partitions_dropped;	/* by the tables' times (retention) */
	uint64_t spool_batches, spool_bytes;	/* waiting now */
	uint64_t spool_dropped[DR_CH_NTABLES];	/* batches dropped for room */
	uint64_t spool_dropped_rows[DR_CH_NTABLES];
	uint64_t spool_errors;		/* batches the spool could not write or read */
	uint64_t spool_over;		/* octets of alert events kept over the cap */
	int connected;			/* the last attempt reached ClickHouse */
	int migrated;			/* the schema is in place */
	char last_error[256];
};

/* Checks the URL and the sensor's name, makes the spool folder and
 * reads what an earlier run left in it. No thread, no connection. 0, or
 * -1 with "clickhouse: reason" in errbuf. */
int dr_ch_open(struct dr_ch **ch, const struct dr_ch_config *c, char *errbuf, size_t errlen);

/* The same checks of the URL and the names, for check-config: nothing
 * is made. 0, or -1 with the reason. */
int dr_ch_check(const struct dr_ch_config *c, char *errbuf, size_t errlen);

/* Starts the sender: the schema, retention, then the spool, for ever. */
int dr_ch_start(struct dr_ch *ch, char *errbuf, size_t errlen);

/* The writer's side, all on one thread: the rows of one SQLite
 * transaction, taken by commit or forgotten by abort. */
void dr_ch_event(struct dr_ch *ch, double ts, int64_t run, uint64_t id, const char *event,
		 const char *type, const char *key, const char *state, double start, double end,
		 double detected, const char *severity, uint64_t packets, uint64_t bytes,
		 double peak_pps, double peak_bps, const char *json);
void dr_ch_agg(struct dr_ch *ch, int64_t minute, const char *dim, const char *key,
	       const struct dr_store_counts *c);
/* r as the records table keeps it, with the binary keys of its addresses
 * (family octet, then the address). */
void dr_ch_record(struct dr_ch *ch, const struct dr_query_record *r, const uint8_t *src_bin,
		  size_t src_len, const uint8_t *dst_bin, size_t dst_len);
void dr_ch_commit(struct dr_ch *ch);
void dr_ch_abort(struct dr_ch *ch);

/* Spools the batches that are full or old enough (wall clock). Call at
 * least once a second. */
void dr_ch_tick(struct dr_ch *ch, double now);

void dr_ch_stats(struct dr_ch *ch, struct dr_ch_stats *st);

/* Spools every batch, gives the sender up to `drain` seconds to send
 * them, stops it and frees. What is not sent stays in the spool for the
 * next start. */
void dr_ch_close(struct dr_ch *ch, double drain);

#endif
