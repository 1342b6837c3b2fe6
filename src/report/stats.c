/* Aggregates for the analyze report. The hot path is dr_stats_add: one
 * hash per key (xxHash3), Space-Saving tables for the unbounded key spaces
 * (addresses, names) and flat arrays for the bounded ones (ports, types).
 * Registered domains come from decode/regdom (libpsl behind a cache). */
#include "report/stats.h"

#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"
#include "core/keys.h"

#define ADDR_KEY 17		/* family + 16 address bytes */
#define FLOW_ADDRESSES 16384	/* hosts of DNS-port flows tracked */

const uint32_t dr_size_bucket_max[DR_SIZE_BUCKETS] = {
	128, 256, 512, 1024, 1232, 1472, 2048, 4096, 8192, 65535,
};

const uint32_t dr_qps_bucket_min[DR_QPS_BUCKETS] = {
	1, 2, 10, 100, 1000, 10000, 100000,
};

int dr_stats_init(struct dr_stats *s, const struct dr_stats_config *cfg)
{
	memset(s, 0, sizeof(*s));
	uint32_t addrs = cfg->max_addresses ? cfg->max_addresses : 65536;
	uint32_t names = cfg->max_names ? cfg->max_names : 16384;
	s->sports = calloc(65536, sizeof(uint64_t));
	s->dports = calloc(65536, sizeof(uint64_t));
	s->sports_lo = calloc(65536, sizeof(uint16_t));
	s->dports_lo = calloc(65536, sizeof(uint16_t));
	s->qtypes = calloc(65536, sizeof(uint64_t));
	s->regdom = cfg->regdom;
	if (!s->sports || !s->dports || !s->sports_lo || !s->dports_lo || !s->qtypes ||
	    dr_topk_init(&s->sources, addrs, ADDR_KEY, sizeof(struct dr_source_rate)) ||
	    dr_topk_init(&s->destinations, addrs, ADDR_KEY, 0) ||
	    dr_topk_init(&s->qnames, names, DR_NAME_MAX, 0) ||
	    dr_topk_init(&s->domains, names, DR_NAME_MAX, 0) ||
	    dr_topk_init(&s->flow_sources, FLOW_ADDRESSES, ADDR_KEY, 0) ||
	    dr_topk_init(&s->flow_destinations, FLOW_ADDRESSES, ADDR_KEY, 0)) {
		dr_stats_fini(s);
		return DR_ENOMEM;
	}
	/* all ones: the increment to 0 is a value's first (stats.h) */
	memset(s->sports_lo, 0xff, 65536 * sizeof(uint16_t));
	memset(s->dports_lo, 0xff, 65536 * sizeof(uint16_t));
	memset(s->qtypes, 0xff, 65536 * sizeof(uint64_t));
	memset(s->rcodes, 0xff, sizeof(s->rcodes));
	dr_hll_init(&s->sources_hll);
	dr_hll_init(&s->destinations_hll);
	dr_hll_init(&s->qnames_hll);
	dr_hll_init(&s->domains_hll);
	dr_hll_init(&s->flow_sources_hll);
	dr_hll_init(&s->flow_destinations_hll);
	return 0;
}

void dr_stats_fini(struct dr_stats *s)
{
	dr_topk_fini(&s->sources);
	dr_topk_fini(&s->destinations);
	dr_topk_fini(&s->qnames);
	dr_topk_fini(&s->domains);
	dr_topk_fini(&s->flow_sources);
	dr_topk_fini(&s->flow_destinations);
	free(s->sports);
	free(s->dports);
	free(s->sports_lo);
	free(s->dports_lo);
	s->sports_lo = s->dports_lo = NULL;
	free(s->qtypes);
	s->sports = s->dports = s->qtypes = NULL;
	s->regdom = NULL;
}

size_t dr_stats_mem(const struct dr_stats *s)
{
	return sizeof(*s) + 3 * 65536 * sizeof(uint64_t) + 2 * 65536 * sizeof(uint16_t) +
	       dr_topk_mem(&s->sources) + dr_topk_mem(&s->destinations) +
	       dr_topk_mem(&s->qnames) + dr_topk_mem(&s->domains) +
	       dr_topk_mem(&s->flow_sources) + dr_topk_mem(&s->flow_destinations);
}

static void count_rate(int64_t sec, int64_t *cur, uint64_t *in_sec, uint64_t *peak,
		       int64_t *peak_sec)
{
	if (sec != *cur) {
		if (*in_sec > *peak) {
			*peak = *in_sec;
			*peak_sec = *cur;
		}
		*cur = sec;
		*in_sec = 0;
	}
	(*in_sec)++;
}

/* The global query rate moves to another second: the peak so far, and
 * the span of seconds the average is taken over. */
static void query_second(struct dr_stats *s, int64_t sec)
{
	if (s->q_in_sec > s->q_peak) {
		s->q_peak = s->q_in_sec;
		s->q_peak_sec = s->q_sec;
	}
	if (sec < s->q_first_sec)
		s->q_first_sec = sec;
	if (sec > s->q_last_sec)
		s->q_last_sec = sec;
	s->q_sec = sec;
	s->q_in_sec = 0;
}

/* Counts one on a counter that starts at all ones; 1 when this is its
 * first count (the carry of the add, which is free to test). */
static inline int first_count(uint64_t *c)
{
	return __builtin_expect(__builtin_add_overflow(*c, 1, c), 0);
}

static void mark(uint64_t *used, unsigned v)
{
	used[v >> 6] |= 1ull << (v & 63);
}

/* A port's 16-bit counter reached 0: its first message, or a carry. */
static void port_wrapped(uint64_t *hi, uint64_t *used, unsigned port)
{
	if (used[port >> 6] >> (port & 63) & 1)
		hi[port] += 65536;
	else
		mark(used, port);
}

static uint32_t add_address(struct dr_topk *t, struct dr_hll *h, const struct dr_akey *k)
{
	int fresh;
	dr_hll_add(h, k->hash);
	return dr_topk_add(t, k->b, k->len, (uint32_t)k->hash, 1, &fresh);
}

/* A flow record: what it stands for, in totals of its own. */
static void flow_add(struct dr_stats *s, const struct dr_record *r)
{
	double t0 = dr_record_time(r), t1 = dr_record_end_time(r);
	if (!s->flow_records || t0 < s->flow_first)
		s->flow_first = t0;
	if (!s->flow_records || t1 > s->flow_last)
		s->flow_last = t1;
	s->flow_records++;
	s->flow_packets += r->packets;
	s->flow_bytes += r->bytes;
	if (r->sport == 53 || r->dport == 53) {
		s->flow_dns_records++;
		s->flow_dns_packets += r->packets;
		s->flow_dns_bytes += r->bytes;
		struct dr_keys local;
		const struct dr_keys *k = &r->keys;
		if (!k->ready) {
			dr_keys_compute(r, &local, NULL);
			k = &local;
		}
		int fresh;
		dr_hll_add(&s->flow_sources_hll, k->src.hash);
		dr_topk_add(&s->flow_sources, k->src.b, k->src.len, (uint32_t)k->src.hash, r->packets,
			    &fresh);
		dr_hll_add(&s->flow_destinations_hll, k->dst.hash);
		dr_topk_add(&s->flow_destinations, k->dst.b, k->dst.len, (uint32_t)k->dst.hash,
			    r->packets, &fresh);
	}
	if (r->sampling > 1)
		s->flow_sampled++;
	if (r->sampling > s->flow_sampling_max)
		s->flow_sampling_max = r->sampling;
}

void dr_stats_add(struct dr_stats *s, const struct dr_record *r)
{
	const struct dr_dns *d = &r->dns;
	double t = dr_record_time(r);
	unsigned qr = dr_dns_qr(d);

	if (r->kind == DR_KIND_FLOW) {
		flow_add(s, r);
		return;
	}
	if (s->messages == 0 || t < s->first_ts)
		s->first_ts = t;
	if (s->messages == 0 || t > s->last_ts)
		s->last_ts = t;
	s->messages++;
	s->dns_bytes += r->payload_len;
	if (d->malformed) {
		s->malformed++;
		s->malformed_by[d->malformed]++;
	}
	if (r->proto == 6)
		s->tcp++;
	else
		s->udp++;
	if (r->family == 4)
		s->ipv4++;
	else
		s->ipv6++;
	s->fragmented += r->fragmented;
	s->edns += d->edns;
	s->edns_do += d->edns_do;

	/* Keys are hashed once per record (core/keys.h); prefetch every
	 * table's slot first so their cache misses overlap. */
	struct dr_keys local;
	const struct dr_keys *k = &r->keys;
	if (!k->ready) {
		dr_keys_compute(r, &local, s->regdom);
		k = &local;
	}
	dr_topk_prefetch(&s->sources, (uint32_t)k->src.hash);
	dr_topk_prefetch(&s->destinations, (uint32_t)k->dst.hash);
	if (d->has_question) {
		dr_topk_prefetch(&s->qnames, (uint32_t)k->qname_hash);
		dr_topk_prefetch(&s->domains, (uint32_t)k->zone_hash);
	}

	uint32_t src_entry = add_address(&s->sources, &s->sources_hll, &k->src);
	struct dr_source_rate *rate = qr || src_entry == DR_TOPK_REFUSED
					      ? NULL : dr_topk_extra(&s->sources, src_entry);
	add_address(&s->destinations, &s->destinations_hll, &k->dst);
	if (++s->sports_lo[r->sport] == 0)
		port_wrapped(s->sports, s->sports_used, r->sport);
	if (++s->dports_lo[r->dport] == 0)
		port_wrapped(s->dports, s->dports_used, r->dport);
	s->opcodes[dr_dns_opcode(d)]++;

	if (qr) {
		s->responses++;
		s->truncated_tc += dr_dns_tc(d);
		if (first_count(&s->rcodes[d->rcode_ext & 0xfff]))
			mark(s->rcodes_used, d->rcode_ext & 0xfff);
		for (unsigned b = 0; b < DR_SIZE_BUCKETS; b++) {
			if (r->payload_len <= dr_size_bucket_max[b]) {
				s->resp_size[b]++;
				s->resp_size_bytes[b] += r->payload_len;
				break;
			}
		}
	} else {
		s->queries++;
		int64_t sec = r->ts_sec;
		if (s->queries == 1)
			s->q_sec = s->q_first_sec = s->q_last_sec = sec;
		if (sec != s->q_sec)
			query_second(s, sec);
		s->q_in_sec++;
		if (rate) {
			if (rate->queries == 0)
				rate->sec = sec;
			uint64_t in = rate->in_sec, peak = rate->peak;
			int64_t unused;
			count_rate(sec, &rate->sec, &in, &peak, &unused);
			rate->in_sec = (uint32_t)in;
			rate->peak = (uint32_t)peak;
			rate->queries++;
		}
	}

	if (!d->has_question)
		return;
	if (first_count(&s->qtypes[d->qtype]))
		mark(s->qtypes_used, d->qtype);
	int fresh;
	dr_hll_add(&s->qnames_hll, k->qname_hash);
	dr_topk_add(&s->qnames, k->qname, k->qname_len, (uint32_t)k->qname_hash, 1, &fresh);
	int off = k->zone;
	const uint8_t *dom = off >= 0 ? k->qname + off : k->qname;
	size_t dlen = off >= 0 ? (size_t)(k->qname_len - off) : k->qname_len;
	if (off < 0)
		s->no_domain++;
	dr_hll_add(&s->domains_hll, k->zone_hash);
	dr_topk_add(&s->domains, dom, (uint32_t)dlen, (uint32_t)k->zone_hash, 1, &fresh);
}

void dr_stats_qps_distribution(const struct dr_stats *s,
			       uint64_t sources[DR_QPS_BUCKETS],
			       uint64_t queries[DR_QPS_BUCKETS])
{
	memset(sources, 0, DR_QPS_BUCKETS * sizeof(uint64_t));
	memset(queries, 0, DR_QPS_BUCKETS * sizeof(uint64_t));
	for (uint32_t e = 0; e < s->sources.used; e++) {
		const struct dr_source_rate *r = dr_topk_extra(&s->sources, e);
		if (!r->queries)
			continue;
		uint32_t peak = r->in_sec > r->peak ? r->in_sec : r->peak;
		unsigned b = DR_QPS_BUCKETS - 1;
		while (b > 0 && peak < dr_qps_bucket_min[b])
			b--;
		sources[b]++;
		queries[b] += r->queries;
	}
}

uint64_t dr_stats_peak_qps(const struct dr_stats *s, int64_t *at)
{
	*at = s->q_peak_sec;
	if (s->q_in_sec > s->q_peak) {
		*at = s->q_sec;
		return s->q_in_sec;
	}
	return s->q_peak;
}

double dr_stats_avg_qps(const struct dr_stats *s)
{
	if (!s->queries)
		return 0;
	return (double)s->queries / (double)(s->q_last_sec - s->q_first_sec + 1);
}

uint64_t dr_stats_distinct(const struct dr_topk *t, const struct dr_hll *h)
{
	if (dr_topk_exact(t))
		return t->used;
	uint64_t est = dr_hll_count(h);
	return est < t->used ? t->used : est;
}
