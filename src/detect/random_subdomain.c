/* random_subdomain ("water torture"): resolvers asking for never-seen
 * names under one zone, <12 pseudorandom chars>.victim.example, so every
 * query misses every cache and lands on the authoritative servers (the
 * Mirai attacks in the managed-DNS seed).
 *
 * Per zone (the registered domain, by the Public Suffix List) and second:
 * distinct prefixes (the labels left of the zone; a 256-register HLL),
 * queries, responses and NXDOMAINs, the leftmost label's length histogram
 * and alphabet, the top querying resolvers and their prefixes, and a few
 * sample names. It fires when distinct prefixes reach min_distinct per
 * second, NXDOMAIN makes at least min_nx_share of the zone's responses (or
 * no responses are seen), and the leftmost labels are not mostly numeric
 * (DNSBL look-ups are reversed IP addresses), for min_seconds in a row.
 * Deliberately not a trigger: distinct names combined with distinct
 * sources (see DESIGN.md). Key: the zone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/common.h"
#include "detect/detector.h"
#include "detect/kwin.h"
#include "lib/strbuf.h"

enum { P_MIN_DISTINCT, P_MIN_NX_SHARE, P_MAX_NUMERIC_SHARE, P_MIN_SECONDS, P_ZONES, P_COUNT };

static const struct dr_param params[P_COUNT] = {
	[P_MIN_DISTINCT] = {"min_distinct", 100, "distinct names per second under one zone"},
	[P_MIN_NX_SHARE] = {"min_nx_share", 0.5, "share of the zone's responses that are NXDOMAIN"},
	[P_MAX_NUMERIC_SHARE] = {"max_numeric_share", 0.5, "above this share of all-digit labels it is DNSBL-style, not an attack"},
	[P_MIN_SECONDS] = {"min_seconds", 2, "consecutive seconds the condition must hold"},
	[P_ZONES] = {"zones", 4096, "zones tracked at once (memory)"},
};

enum { A_LOWER, A_DIGIT, A_ALNUM, A_OTHER, A_CLASSES };
static const char *const class_names[A_CLASSES] = {"a-z", "0-9", "a-z0-9", "mixed"};

#define SAMPLES 4
#define SAMPLE_LEN 72

struct zone {
	struct dr_kwin w;
	uint64_t queries, responses, nx, numeric;
	uint64_t alphabet[A_CLASSES];
	uint16_t len_count[64];
	struct dr_hll8 prefixes;
	struct dr_top4 resolvers, nets;
	uint8_t nsamples;
	uint64_t sample_hash[SAMPLES];	/* of the lower-cased names */
	char samples[SAMPLES][SAMPLE_LEN];
	/* persistent */
	uint32_t streak;
	int64_t streak_sec;
};

static void *rsd_init(const struct dr_detect_env *env)
{
	return dr_ktable_new((uint32_t)env->param[P_ZONES], DR_NAME_MAX, sizeof(struct zone),
			     offsetof(struct zone, streak));
}

static unsigned label_class(const uint8_t *p, size_t n)
{
	unsigned lower = 0, digit = 0, other = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (c >= 'a' && c <= 'z')
			lower++;
		else if (c >= '0' && c <= '9')
			digit++;
		else
			other++;
	}
	if (other)
		return A_OTHER;
	if (!digit)
		return A_LOWER;
	return lower ? A_ALNUM : A_DIGIT;
}

static void rsd_record(void *st, const struct dr_record *r, const struct dr_detect_env *env)
{
	struct dr_ktable *zones = st;
	const struct dr_dns *d = &r->dns;
	if (!d->has_question || dr_dns_opcode(d) != 0 || d->malformed)
		return;
	const struct dr_keys *k = &r->keys;
	int off = k->zone;
	if (off <= 0)
		return;		/* no zone, or nothing left of it */
	const uint8_t *name = k->qname;
	uint32_t zlen = k->qname_len - (uint32_t)off;
	struct zone *e = dr_ktable_hit(zones, name + off, zlen, k->zone_hash, env->now,
				       dr_record_time(r), r->payload_len);
	if (dr_dns_qr(d)) {
		e->responses++;
		e->nx += d->rcode_ext == 3;
		return;
	}
	e->queries++;
	dr_hll8_add(&e->prefixes, dr_hash64(name, (size_t)off));
	unsigned lab = name[0];
	e->len_count[lab & 63]++;
	unsigned cls = label_class(name + 1, lab);
	e->alphabet[cls]++;
	e->numeric += cls == A_DIGIT;
	uint8_t net[DR_AKEY] = {0};	/* the source's /24 or /48, as an address key */
	memcpy(net, k->src.b, r->family == 4 ? 1 + 3 : 1 + 6);
	dr_top4_add(&e->resolvers, k->src.b);
	dr_top4_add(&e->nets, net);
	if (e->nsamples < SAMPLES) {
		/* A name already sampled (in any case) is not converted again. */
		for (unsigned i = 0; i < e->nsamples; i++)
			if (e->sample_hash[i] == k->qname_hash)
				return;
		char text[DR_NAME_TEXT_MAX];
		dr_name_to_text(d->qname, d->qname_len, text);
		e->sample_hash[e->nsamples] = k->qname_hash;
		dr_copy_cut(e->samples[e->nsamples++], SAMPLE_LEN, text);
	}
}

static void rsd_tick(void *st, int64_t sec, const struct dr_detect_env *env)
{
	struct dr_ktable *zones = st;
	const double *p = env->param;
	const uint8_t *key;
	uint32_t klen;
	struct zone *e;

	while ((e = dr_ktable_next(zones, sec, &key, &klen))) {
		double distinct = dr_hll8_count(&e->prefixes);
		double q = (double)e->queries;
		double nx_share = e->responses ? (double)e->nx / (double)e->responses : -1;
		int cond = distinct >= p[P_MIN_DISTINCT] &&
			   (e->responses == 0 || nx_share >= p[P_MIN_NX_SHARE]) &&
			   (double)e->numeric <= p[P_MAX_NUMERIC_SHARE] * q;
		if (!cond) {
			e->streak = 0;
			continue;
		}
		if (dr_streak(&e->streak, &e->streak_sec, sec) < (uint32_t)p[P_MIN_SECONDS])
			continue;

		char zone[DR_NAME_TEXT_MAX], rate[32], ev[DR_EVIDENCE_MAX], summary[512], action[512];
		dr_name_to_text(key, klen, zone);
		unsigned mode = 0, lmin = 64, lmax = 0, cls = 0;
		for (unsigned l = 0; l < 64; l++) {
			if (!e->len_count[l])
				continue;
			if (e->len_count[l] > e->len_count[mode])
				mode = l;
			if (l < lmin)
				lmin = l;
			lmax = l;
		}
		for (unsigned c = 1; c < A_CLASSES; c++)
			if (e->alphabet[c] > e->alphabet[cls])
				cls = c;
		double bps = (double)e->w.bytes * 8;
		dr_fmt_bps(rate, sizeof(rate), bps);
		struct dr_sb sb;
		dr_sb_init(&sb, ev, sizeof(ev));
		dr_sb_printf(&sb, "{\"zone\":");
		dr_sb_json_str(&sb, zone);
		dr_sb_printf(&sb, ",\"distinct_names_per_s\":%.0f,\"queries_per_s\":%.0f,"
			     "\"nxdomain_share\":", distinct, q);
		if (nx_share >= 0)
			dr_sb_printf(&sb, "%.3f", nx_share);
		else
			dr_sb_printf(&sb, "null");
		dr_sb_printf(&sb, ",\"label_length\":{\"mode\":%u,\"min\":%u,\"max\":%u},"
			     "\"alphabet\":\"%s\",\"alphabet_share\":%.3f,\"samples\":[",
			     mode, lmin, lmax, class_names[cls], q ? (double)e->alphabet[cls] / q : 0);
		for (unsigned i = 0; i < e->nsamples; i++) {
			dr_sb_printf(&sb, "%s", i ? "," : "");
			dr_sb_json_str(&sb, e->samples[i]);
		}
		dr_sb_printf(&sb, "],\"top_resolvers\":");
		dr_top4_json(&sb, &e->resolvers, "queries", NULL, NULL);
		dr_sb_printf(&sb, ",\"top_prefixes\":");
		dr_top4_json(&sb, &e->nets, "queries", "/24", "/48");
		dr_sb_printf(&sb, "}");
		snprintf(summary, sizeof(summary),
			 "%.200s is asked for %.0f never-seen names per second (%.0f queries/s), "
			 "first labels of %u characters from [%s], %s%.0f%% NXDOMAIN; e.g. %.72s",
			 zone, distinct, q, mode, class_names[cls],
			 nx_share >= 0 ? "" : "no answers seen, ", nx_share >= 0 ? nx_share * 100 : 0,
			 e->nsamples ? e->samples[0] : "");
		snprintf(action, sizeof(action),
			 "water torture on %.150s: rate-limit NXDOMAIN answers for *.%.150s per querying resolver "
			 "(dnsdist dynamic block on the suffix, RRL), keep the zone's servers' capacity, and "
			 "tell the operators of the top resolvers", zone, zone);
		struct dr_fire fi = {
			.type = "random_subdomain", .key = zone, .first = e->w.first, .last = e->w.last,
			.packets = e->w.pkts, .bytes = e->w.bytes, .pps = (double)e->w.pkts, .bps = bps,
			.severity = distinct >= 10000 ? DR_SEV_HIGH : DR_SEV_MEDIUM,
			.evidence = ev, .summary = summary, .action = action,
		};
		dr_alert_fire(env->alerts, &fi);
	}
}

const struct dr_detector dr_detect_random_subdomain = {
	.name = "random_subdomain",
	.summary = "never-seen names under one zone: water torture on its authoritative servers",
	.params = params, .nparams = P_COUNT,
	.init = rsd_init, .on_record = rsd_record, .on_tick = rsd_tick,
	.mem = dr_ktable_state_mem, .fini = dr_ktable_free,
};
