/* The aggregates behind `dnsradar analyze`: a summary and bounded top-N
 * tables over DNS messages. Every table is sized at dr_stats_init. */
#ifndef DR_REPORT_STATS_H
#define DR_REPORT_STATS_H

#include <stdint.h>

#include "decode/record.h"
#include "lib/hll.h"
#include "decode/regdom.h"
#include "lib/topk.h"


/* Response-size buckets: upper bounds (inclusive) in octets. */
#define DR_SIZE_BUCKETS 10
/* Per-source peak queries-per-second buckets: 1, 2-9, 10-99 ... */
#define DR_QPS_BUCKETS 7

struct dr_stats_config {
	uint32_t max_addresses;	/* capacity of the source/destination tables */
	uint32_t max_names;	/* capacity of the name/domain tables */
	struct dr_regdom *regdom;	/* registered domains (borrowed); may be NULL */
};

/* Per-source state kept beside its count in the source table. */
struct dr_source_rate {
	int64_t sec;		/* second being counted */
	uint32_t in_sec;	/* queries in that second */
	uint32_t peak;		/* highest queries in one second */
	uint64_t queries;
};


struct dr_stats {
	/* summary */
	double first_ts, last_ts;
	uint64_t messages, queries, responses, malformed, dns_bytes;
	uint64_t udp, tcp, ipv4, ipv6, fragmented, truncated_tc, edns, edns_do;
	uint64_t malformed_by[DR_MAL_COUNT];
	int64_t q_sec;		/* queries-per-second tracking */
	uint64_t q_in_sec, q_peak;
	int64_t q_peak_sec;
	/* tables */
	struct dr_topk sources, destinations, qnames, domains;
	struct dr_hll sources_hll, destinations_hll, qnames_hll, domains_hll;
	uint16_t *sports_lo, *dports_lo;	/* 65536 each: low 16 bits... */
	uint64_t *sports, *dports;		/* ...and the rest; see dr_stats_finish */
	uint64_t *qtypes;			/* 65536 */
	uint64_t rcodes[4096];
	uint64_t opcodes[16];
	uint64_t resp_size[DR_SIZE_BUCKETS], resp_size_bytes[DR_SIZE_BUCKETS];
	uint64_t no_domain;	/* queries whose name has no registered domain */
	struct dr_regdom *regdom;	/* borrowed, for records whose keys are not filled */
};

extern const uint32_t dr_size_bucket_max[DR_SIZE_BUCKETS];
extern const uint32_t dr_qps_bucket_min[DR_QPS_BUCKETS];

/* Returns 0, or DR_ENOMEM. */
int dr_stats_init(struct dr_stats *s, const struct dr_stats_config *cfg);
/* Counts one message. Uses r->keys when filled (core/keys.h), else
 * derives them itself. */
void dr_stats_add(struct dr_stats *s, const struct dr_record *r);
void dr_stats_fini(struct dr_stats *s);

/* Per-source peak-qps distribution: sources and queries per bucket. */
void dr_stats_qps_distribution(const struct dr_stats *s,
			       uint64_t sources[DR_QPS_BUCKETS],
			       uint64_t queries[DR_QPS_BUCKETS]);

/* Port counters are split so the per-packet increment touches 128 KiB,
 * not 512 KiB: 16 bits counted always, 2^16 carried on wrap. */
/* Folds the 16-bit port counters into the 64-bit ones (before reporting). */
void dr_stats_finish(struct dr_stats *s);

/* Distinct keys seen by a table: exact while nothing was evicted. */
uint64_t dr_stats_distinct(const struct dr_topk *t, const struct dr_hll *h);

/* Bytes the aggregates hold (fixed at init). */
size_t dr_stats_mem(const struct dr_stats *s);

#endif
