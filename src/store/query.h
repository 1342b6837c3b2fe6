/* The reading side of the store (schema.h): a read-only connection and the
 * bounded queries the drill-down commands and the HTTP API share: alerts,
 * top keys of a dimension, per-minute series and records. Every query has
 * a row limit, a longest range and bound parameters; none is built from
 * user text. */
#ifndef DR_STORE_QUERY_H
#define DR_STORE_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "core/where.h"
#include "lib/outbuf.h"

#define DR_QUERY_LIMIT_MAX 100000
#define DR_QUERY_ALERTS_LIMIT 100	/* default rows of alerts, top, series */
#define DR_QUERY_RECORDS_LIMIT 1000	/* default records */
/* The longest range of top, series and records. Alerts have none: the
 * table holds one row per alert, kept no longer than the retention, and
 * the row limit bounds the answer ("--from 2000-01-01" is fine). */
#define DR_QUERY_RANGE_MAX (31 * 86400.0)
/* SQLite steps one query may take before it is stopped: a last bound on
 * what a request may cost, whatever the range and the indexes. */
#define DR_QUERY_STEPS_MAX 200000000u

struct dr_query;

/* Opens path read-only (with a busy timeout, so that the service's writer
 * does not make a reader fail) and checks that it is a dnsradar store.
 * 0, or -1 with "FILE: reason" in errbuf ("no such file", "not a dnsradar
 * store"). */
int dr_query_open(struct dr_query **q, const char *path, char *errbuf, size_t errlen);
/* What dr_query_open accepts besides a file: a ClickHouse database,
 * clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE (the HTTP port,
 * 8123 when none), read through its Distributed *_all tables when it has
 * them. */
#define DR_QUERY_CLICKHOUSE_PREFIX "clickhouse://"
/* The form of path checked without opening it (a setting's check): 0, or
 * -1 with "PATH: reason". A file is always well formed. */
int dr_query_path_check(const char *path, char *errbuf, size_t errlen);
void dr_query_close(struct dr_query *q);

enum dr_query_state { DR_QS_ALL, DR_QS_OPEN, DR_QS_CLOSED, DR_QS_INTERRUPTED };

/* Dimensions of top and series, in the order of dr_query_dim_names. */
enum dr_query_dim { DR_QD_SRC, DR_QD_DST, DR_QD_SPORT, DR_QD_DPORT, DR_QD_QNAME,
		    DR_QD_ZONE, DR_QD_QTYPE, DR_QD_RCODE, DR_QD_COUNTRY, DR_QD_ASN,
		    DR_QD_TOTAL, DR_QD_COUNT };
extern const char *const dr_query_dim_names[DR_QD_COUNT];

/* "src" -> DR_QD_SRC; -1 when unknown (allow_total: "total" too). */
int dr_query_dim_parse(const char *name, int allow_total);
/* "open" -> DR_QS_OPEN ("all" too); -1 when unknown. */
int dr_query_state_parse(const char *name);

struct dr_query_params {
	double from, to;		/* [from, to), epoch seconds */
	enum dr_query_state state;	/* alerts */
	const char *type;		/* alerts: one detector's, or NULL */
	unsigned limit;			/* 0: the default */
	const struct dr_where *where;	/* top (from records), series (no), records */
	enum dr_query_dim dim;		/* top, series */
	const char *key;		/* series: one key of dim, or NULL */
	const char *sensor;		/* ClickHouse: one sensor's rows; NULL: all */
};

/* Checks the range, the limit (filled with the default when 0) and that
 * the parameters fit the query ("alerts", "top", "series", "records").
 * `prefix` is "--" or "" as in dr_when_range. 0, or -1 with the reason. */
int dr_query_check(const char *what, struct dr_query_params *p, const char *prefix,
		   char *errbuf, size_t errlen);

/* What top says when it counted from the records rather than the
 * aggregates (the CLI prints it under the table, the API sends it). */
#define DR_QUERY_SAMPLE_NOTE "counted from the kept sample of records, each weighted by " \
	"the records it stands for: estimates; sources, prefixes and ASNs are distinct counts " \
	"of the kept records, exact for what was kept"

struct dr_query_alert {
	const char *type, *key, *state, *severity;
	double start, end, detected, updated, peak_pps, peak_bps;
	uint64_t packets, bytes;
	const char *json;		/* the alert object, as analyze writes it */
	size_t json_len;
};

struct dr_query_count {
	const char *key;		/* top: the key; series: NULL */
	int64_t minute;			/* series: the minute's first second */
	double messages, packets, bytes;	/* estimates when from records */
	double share;			/* top: packets / the range's total packets */
	/* top from records only (has_distinct): the distinct sources, source
	 * prefixes (/24 IPv4, /48 IPv6) and ASNs (not 0) of the kept records
	 * of the key. Exact for what was kept, not weighted: every record of
	 * a zone or host under an alert is kept, up to store.alert_records a
	 * minute, the rest is a sample. The aggregates do not know them. */
	int has_distinct;
	uint64_t sources, prefixes, asns;
};

/* A record as stored: a field is NULL (has_* 0 / pointer NULL) when the
 * record had none (flows have no DNS header). */
struct dr_query_record {
	double ts, weight;
	const char *kind, *src, *dst, *qname, *zone, *malformed, *country, *why;
	int sport, dport, proto, len;
	int64_t packets, bytes, asn;
	int has_asn, has_dns, has_edns;
	int id, qr, opcode, rcode, aa, tc, rd, ra, qtype, qclass, an, ns, ar, edns_udp, do_bit;
};

/* What a query found besides its rows. */
struct dr_query_result {
	unsigned rows;
	int truncated;			/* the limit cut the result */
	int sampled;			/* top: counted from the records' sample */
	double total_messages, total_packets, total_bytes;	/* top: of the range */
	/* top from records (sampled): the distinct counts of every matching
	 * kept record, as in struct dr_query_count */
	uint64_t total_sources, total_prefixes, total_asns;
};

/* Every row borrows the statement's memory for the call only. */
typedef int (*dr_query_alert_fn)(void *ctx, const struct dr_query_alert *a);
typedef int (*dr_query_count_fn)(void *ctx, const struct dr_query_count *c);
typedef int (*dr_query_record_fn)(void *ctx, const struct dr_query_record *r);

/* The alerts whose span meets [from, to), by start. A callback returning
 * nonzero stops the query. 0, or -1 with the reason in errbuf. */
int dr_query_alerts(struct dr_query *q, const struct dr_query_params *p, dr_query_alert_fn fn,
		    void *ctx, struct dr_query_result *res, char *errbuf, size_t errlen);
/* The heaviest keys of p->dim, by packets, from the per-minute aggregates
 * (every minute that meets the range, whole), or with p->where from the
 * kept records weighted by what each stands for (res->sampled set). */
int dr_query_top(struct dr_query *q, const struct dr_query_params *p, dr_query_count_fn fn,
		 void *ctx, struct dr_query_result *res, char *errbuf, size_t errlen);
/* Per-minute totals of p->dim (DR_QD_TOTAL: everything), or of its one
 * key p->key, in time order; minutes with nothing stored are absent. */
int dr_query_series(struct dr_query *q, const struct dr_query_params *p, dr_query_count_fn fn,
		    void *ctx, struct dr_query_result *res, char *errbuf, size_t errlen);
/* Records in time order that satisfy p->where. */
int dr_query_records(struct dr_query *q, const struct dr_query_params *p,
		     dr_query_record_fn fn, void *ctx, struct dr_query_result *res,
		     char *errbuf, size_t errlen);

/* JSON shared by the CLI and the API. {"alerts":[...]} with the stored
 * alert objects; top and series documents; one record object (no newline).
 * 0, or -1 with the reason in errbuf (o->err is the writer's). */
int dr_query_alerts_json(struct dr_query *q, const struct dr_query_params *p, struct dr_out *o,
			 char *errbuf, size_t errlen);
int dr_query_top_json(struct dr_query *q, const struct dr_query_params *p, struct dr_out *o,
		      char *errbuf, size_t errlen);
int dr_query_series_json(struct dr_query *q, const struct dr_query_params *p, struct dr_out *o,
			 char *errbuf, size_t errlen);
/* lines: one object per line (the CLI); else {"records":[...]}. */
int dr_query_records_json(struct dr_query *q, const struct dr_query_params *p, int lines,
			  struct dr_out *o, char *errbuf, size_t errlen);
void dr_query_record_json(struct dr_out *o, const struct dr_query_record *r);

#endif
