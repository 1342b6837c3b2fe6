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
	int64_t q_first_sec, q_last_sec;	/* the seconds the queries span */
	/* tables */
	struct dr_topk sources, destinations, qnames, domains;
	struct dr_hll sources_hll, destinations_hll, qnames_hll, domains_hll;
	/* Ports, types and codes: flat counters that start at all ones, so
	 * that the one increment that reaches 0 (a flag the increment sets
	 * anyway) is a value's first, which sets its bit in the *_used
	 * bitmap: the report walks the values the data holds, not 65,536
	 * counters per table. A port's 16-bit counter (128 KiB per
	 * direction stay in cache, not 512) reaching 0 again carries 2^16
	 * into its 64-bit one. Read them with dr_stats_port_count and
	 * dr_stats_count, for values whose bit is set. */
	uint16_t *sports_lo, *dports_lo;	/* 65536 each */
	uint64_t *sports, *dports;		/* 65536 each */
	uint64_t *qtypes;			/* 65536 */
	uint64_t rcodes[4096];
	uint64_t sports_used[1024], dports_used[1024], qtypes_used[1024], rcodes_used[64];
	uint64_t opcodes[16];
	uint64_t resp_size[DR_SIZE_BUCKETS], resp_size_bytes[DR_SIZE_BUCKETS];
	uint64_t no_domain;	/* queries whose name has no registered domain */
	struct dr_regdom *regdom;	/* borrowed, for records whose keys are not filled */
	/* flow records (NetFlow, IPFIX, sFlow samples without DNS): counted
	 * here, never as DNS messages; packets and bytes scaled by sampling */
	uint64_t flow_records, flow_packets, flow_bytes;
	uint64_t flow_dns_records, flow_dns_packets, flow_dns_bytes;	/* port 53 either side */
	uint64_t flow_sampled;		/* records sampled 1 in N > 1 */
	uint32_t flow_sampling_max;
	/* the hosts of DNS-port flows, by the packets they stand for */
	struct dr_topk flow_sources, flow_destinations;
	struct dr_hll flow_sources_hll, flow_destinations_hll;
	double flow_first, flow_last;	/* first start, last end */
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

/* Messages of a port in use (its bit set in sports_used or dports_used),
 * from the split counters; unsigned arithmetic wraps as they do. */
static inline uint64_t dr_stats_port_count(const uint64_t *hi, const uint16_t *lo,
					   unsigned port)
{
	return hi[port] + lo[port] + 1;
}

/* Count of a query type or response code in use (bit set). */
static inline uint64_t dr_stats_count(const uint64_t *counts, unsigned v)
{
	return counts[v] + 1;
}

/* Average queries per second over the whole seconds from the first
 * query's to the last's: the seconds the peak is taken over, so it never
 * exceeds the peak. 0 without queries. */
double dr_stats_avg_qps(const struct dr_stats *s);

/* The peak queries in one calendar second, and that second in *at. */
uint64_t dr_stats_peak_qps(const struct dr_stats *s, int64_t *at);

/* Distinct keys seen by a table: exact while nothing was evicted. */
uint64_t dr_stats_distinct(const struct dr_topk *t, const struct dr_hll *h);

/* Bytes the aggregates hold (fixed at init). */
size_t dr_stats_mem(const struct dr_stats *s);

#endif
