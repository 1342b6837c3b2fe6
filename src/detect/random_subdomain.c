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

enum { P_MIN_DISTINCT, P_MIN_NX_SHARE, P_MAX_NUMERIC_SHARE, P_MIN_SECONDS, P_ZONES, P_COUNT };

enum { A_LOWER = DR_ALPHA_LOWER, A_DIGIT = DR_ALPHA_DIGIT, A_ALNUM = DR_ALPHA_ALNUM,
       A_OTHER = DR_ALPHA_OTHER, A_CLASSES = DR_ALPHA_CLASSES };

#define SAMPLES DR_EV_SAMPLES
#define SAMPLE_WIRE 64	/* octets of whole labels kept of a sample's prefix */

struct zone {
	struct dr_kwin w;
	uint64_t queries, responses, nx, numeric;
	uint64_t alphabet[A_CLASSES];
	uint32_t len_count[64];
	struct dr_hll_small prefixes;
	struct dr_top4 resolvers, nets;
	uint8_t nsamples;
	uint64_t sample_hash[SAMPLES];	/* of the lower-cased names */
	/* The labels left of the zone of a few names, wire form as asked
	 * (case kept), whole labels up to SAMPLE_WIRE octets: the zone is
	 * the key, and text is made only when an alert needs it. */
	uint8_t sample_len[SAMPLES];
	uint8_t samples[SAMPLES][SAMPLE_WIRE];
	/* persistent */
	struct dr_run run;
};

/* Declared after the entries, whose size a capacity's memory needs. */
static const struct dr_param params[P_COUNT] = {
	[P_MIN_DISTINCT] = {"min_distinct", 100, "distinct names per second under one zone",
			    .kind = DR_PARAM_COUNT, .unit = "names"},
	[P_MIN_NX_SHARE] = {"min_nx_share", 0.5, "share of the zone's responses that are NXDOMAIN",
			    .kind = DR_PARAM_SHARE},
	[P_MAX_NUMERIC_SHARE] = {"max_numeric_share", 0.5, "above this share of all-digit labels it is DNSBL-style, not an attack",
				 .kind = DR_PARAM_SHARE},
	[P_MIN_SECONDS] = {"min_seconds", 2, "consecutive seconds the condition must hold",
			   .kind = DR_PARAM_SECONDS},
	[P_ZONES] = {"zones", 4096, "zones tracked at once (memory)",
		     .kind = DR_PARAM_CAPACITY, .unit = "zones", .entry_octets =
		     DR_KTABLE_ENTRY_OCTETS(DR_NAME_MAX, sizeof(struct zone))},
};

static void rsd_judge(void *ctx, void *entry, const uint8_t *key, uint32_t klen, int64_t sec);

static void *rsd_init(const struct dr_detect_env *env)
{
	return dr_ktable_new((uint32_t)env->param[P_ZONES], DR_NAME_MAX, sizeof(struct zone),
			     offsetof(struct zone, run), rsd_judge, (void *)env);
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
	struct zone *e = dr_ktable_hit_record(zones, name + off, zlen, k->zone_hash, env->now, r);
	/* a sampled header stands for `sampling` messages; distinct names and
	 * prefixes are counted as seen, which sampling can only lower */
	uint32_t n = (uint32_t)dr_record_messages(r);
	if (dr_dns_qr(d)) {
		e->responses += n;
		e->nx += d->rcode_ext == 3 ? n : 0;
		return;
	}
	e->queries += n;
	dr_hll_small_add(&e->prefixes, dr_hash64(name, (size_t)off));
	unsigned lab = name[0];
	e->len_count[lab & 63] += n;
	unsigned cls = label_class(name + 1, lab);
	e->alphabet[cls] += n;
	e->numeric += cls == A_DIGIT ? n : 0;
	uint8_t net[DR_AKEY] = {0};	/* the source's /24 or /48, as an address key */
	memcpy(net, k->src.b, r->family == 4 ? 1 + 3 : 1 + 6);
	dr_top4_add(&e->resolvers, k->src.b, n);
	dr_top4_add(&e->nets, net, n);
	if (e->nsamples < SAMPLES) {
		/* A name already sampled (in any case) is not converted again. */
		for (unsigned i = 0; i < e->nsamples; i++)
			if (e->sample_hash[i] == k->qname_hash)
				return;
		size_t keep = 0;
		while (keep < (size_t)off && keep + 1 + d->qname[keep] <= SAMPLE_WIRE)
			keep += 1 + (size_t)d->qname[keep];
		memcpy(e->samples[e->nsamples], d->qname, keep);
		e->sample_len[e->nsamples] = (uint8_t)keep;
		e->sample_hash[e->nsamples++] = k->qname_hash;
	}
}

static void rsd_judge(void *ctx, void *entry, const uint8_t *key, uint32_t klen, int64_t sec)
{
	const struct dr_detect_env *env = ctx;
	const double *p = env->param;
	struct zone *e = entry;

	double distinct = dr_hll_small_count(&e->prefixes);
	double q = (double)e->queries;
	double nx_share = e->responses ? (double)e->nx / (double)e->responses : -1;
	int cond = distinct >= p[P_MIN_DISTINCT] &&
		   (e->responses == 0 || nx_share >= p[P_MIN_NX_SHARE]) &&
		   (double)e->numeric <= p[P_MAX_NUMERIC_SHARE] * q;
	if (!cond) {
		dr_run_break(&e->run);
		return;
	}
	if (dr_run_add(&e->run, sec, &e->w) < (uint32_t)p[P_MIN_SECONDS])
		return;

	struct dr_evidence ev = {.kind = DR_EV_RANDOM_SUBDOMAIN};
	struct dr_ev_random_subdomain *x = &ev.u.random_subdomain;
	char zone[DR_NAME_TEXT_MAX];
	dr_name_to_text(key, klen, zone);
	dr_copy_cut(x->zone, sizeof(x->zone), zone);
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
	x->distinct_per_s = distinct;
	x->queries_per_s = q;
	x->nxdomain_share = nx_share;
	x->len_mode = (uint8_t)mode;
	x->len_min = (uint8_t)lmin;
	x->len_max = (uint8_t)lmax;
	x->alphabet = (uint8_t)cls;
	x->alphabet_share = q ? (double)e->alphabet[cls] / q : 0;
	x->nsamples = e->nsamples;
	for (unsigned i = 0; i < e->nsamples; i++) {
		uint8_t wire[SAMPLE_WIRE + DR_NAME_MAX];
		size_t n = e->sample_len[i];
		memcpy(wire, e->samples[i], n);
		if (n + klen > DR_NAME_MAX)
			klen = DR_NAME_MAX - (uint32_t)n;	/* cut: never, for a real name */
		memcpy(wire + n, key, klen);
		dr_ev_name(x->samples[i], sizeof(x->samples[i]), wire, n + klen);
	}
	dr_ev_list_set(&x->resolvers, &e->resolvers, 32, 128, 0, 0);
	dr_ev_list_set(&x->prefixes, &e->nets, 24, 48, 0, 0);

	dr_fire_window(env, "random_subdomain", zone, &e->run, &e->w, (double)e->w.pkts,
		       distinct >= 10000 ? DR_SEV_HIGH : DR_SEV_MEDIUM, &ev);
}

const struct dr_detector dr_detect_random_subdomain = {
	.name = "random_subdomain",
	.summary = "never-seen names under one zone: water torture on its authoritative servers",
	.kinds = DR_KIND_DNS,
	.needs = DR_NEEDS_ZONE,
	.params = params, .nparams = P_COUNT,
	.init = rsd_init, .on_record = rsd_record, .on_tick = dr_ktable_on_tick,
	.mem = dr_ktable_state_mem, .unjudged = dr_ktable_state_unjudged, .fini = dr_ktable_free,
};
