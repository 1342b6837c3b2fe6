/* reflection: a host of ours answering DNS for attackers. Only resolvers
 * should send DNS responses (the ISP seed: a customer's router reflecting
 * 25 Mbit/s, invisible in aggregate graphs; the VPS seed: about 20 large
 * answers a second to one spoofed "client").
 *
 * Per responder and second: responses sent and their bytes, queries it
 * received and their bytes, destinations, the heaviest destination and
 * question, and answers with RA set. It fires, for min_seconds in a row:
 *   by role     with --local: a local host that is not a --resolver sends
 *               min_rps_local responses/s or more out of the local space;
 *   by pattern  any host (an allowed resolver too) sends min_rps
 *               responses/s, top_share of them the same question to the
 *               same destination, amplified min_factor times (or, when its
 *               queries are not seen, averaging min_size octets).
 * Key: the responder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/common.h"
#include "detect/detector.h"
#include "detect/kwin.h"

enum { P_MIN_RPS_LOCAL, P_MIN_RPS, P_TOP_SHARE, P_MIN_FACTOR, P_MIN_SIZE, P_MIN_SECONDS,
       P_RESPONDERS, P_COUNT };

#define QNAME_TEXT 80
#define QWIRE (QNAME_TEXT + 16)

struct responder {
	struct dr_kwin w;
	uint64_t resp, resp_bytes, queries, query_bytes, ra, outward;
	struct dr_few dests;
	struct dr_top4 victims;
	uint64_t q_hash;	/* the majority question (Boyer-Moore) */
	uint32_t q_votes;
	uint64_t q_same;	/* responses to it since it was elected */
	/* persistent */
	struct dr_run run;
	uint16_t qtype;
	/* The majority question's name, wire form (case kept), cut at
	 * QWIRE octets: its text, cut at QNAME_TEXT, is made only when an
	 * alert needs it (more octets than that text can show are kept). */
	uint8_t qwire_len;
	uint8_t qwire[QWIRE];
};

/* Declared after the entries, whose size a capacity's memory needs. */
static const struct dr_param params[P_COUNT] = {
	[P_MIN_RPS_LOCAL] = {"min_rps_local", 5, "responses/s a local non-resolver may not send out",
			     .kind = DR_PARAM_RATE, .unit = "responses/s"},
	[P_MIN_RPS] = {"min_rps", 10, "responses/s for the pattern rule (any responder)",
		       .kind = DR_PARAM_RATE, .unit = "responses/s"},
	[P_TOP_SHARE] = {"top_share", 0.5, "share of responses that are the same question to the same destination",
			 .kind = DR_PARAM_SHARE},
	[P_MIN_FACTOR] = {"min_factor", 5, "response bytes per query byte",
			  .kind = DR_PARAM_FACTOR, .unit = "response octets per query octet"},
	[P_MIN_SIZE] = {"min_size", 400, "average response size when queries are not seen",
			.kind = DR_PARAM_OCTETS},
	[P_MIN_SECONDS] = {"min_seconds", 3, "consecutive seconds the condition must hold",
			   .kind = DR_PARAM_SECONDS},
	[P_RESPONDERS] = {"responders", 65536, "responders tracked at once (memory)",
			  .kind = DR_PARAM_CAPACITY, .unit = "responders", .entry_octets =
			  DR_KTABLE_ENTRY_OCTETS(DR_AKEY, sizeof(struct responder))},
};

static void refl_judge(void *ctx, void *entry, const uint8_t *key, uint32_t klen, int64_t sec);

static void *refl_init(const struct dr_detect_env *env)
{
	struct dr_ktable *k = dr_ktable_new((uint32_t)env->param[P_RESPONDERS], DR_AKEY,
					    sizeof(struct responder), offsetof(struct responder, run));
	if (k)
		dr_ktable_set_judge(k, refl_judge, (void *)env);
	return k;
}

static void refl_record(void *st, const struct dr_record *r, const struct dr_detect_env *env)
{
	struct dr_ktable *responders = st;
	const struct dr_dns *d = &r->dns;
	double ts = dr_record_time(r);
	const struct dr_akey *src = &r->keys.src, *dst = &r->keys.dst;

	uint64_t n = dr_record_messages(r);
	if (dr_is_response(env, r)) {
		struct responder *s = dr_ktable_hit(responders, src->b, src->len, src->hash,
						    env->now, ts, r->packets, r->bytes);
		s->resp += n;
		s->resp_bytes += dr_record_msg_bytes(r);
		s->ra += dr_dns_ra(d) ? n : 0;
		if (!dr_roles_is_local(env->roles, r->family, r->dst))
			s->outward += n;
		dr_few_add(&s->dests, dst->hash);
		dr_top4_add(&s->victims, dst->b, n);
		/* The same question to the same destination, over and over. */
		uint64_t qh = d->has_question ? r->keys.qname_hash ^ d->qtype : 0;
		qh ^= dst->hash;
		int fresh_candidate = s->q_votes == 0;
		if (fresh_candidate) {
			s->q_hash = qh;
			s->q_votes = (uint32_t)n;
			s->q_same = n;	/* counted from the candidate's election on */
		} else if (s->q_hash == qh) {
			s->q_votes += (uint32_t)n;
			s->q_same += n;
		} else {
			s->q_votes = s->q_votes > n ? s->q_votes - (uint32_t)n : 0;
		}
		if (s->q_hash == qh && d->has_question && (fresh_candidate || !s->qwire_len)) {
			s->qwire_len = d->qname_len < QWIRE ? d->qname_len : QWIRE;
			memcpy(s->qwire, d->qname, s->qwire_len);
			s->qtype = d->qtype;
		}
	} else if (dr_is_query(env, r)) {
		/* counted only for responders already tracked */
		struct responder *s = dr_ktable_find(responders, dst->b, dst->len, dst->hash,
						     env->now, ts);
		if (s) {
			s->queries += n;
			s->query_bytes += dr_record_msg_bytes(r);
		}
	}
}

static void refl_judge(void *ctx, void *entry, const uint8_t *key, uint32_t klen, int64_t sec)
{
	const struct dr_detect_env *env = ctx;
	const double *p = env->param;
	const struct dr_roles *roles = env->roles;
	struct responder *s = entry;
	(void)klen;

	double resp = (double)s->resp;
	double factor = s->query_bytes ? (double)s->resp_bytes / (double)s->query_bytes : 0;
	double avg = resp ? (double)s->resp_bytes / resp : 0;
	int by_role = roles->nlocal && dr_roles_is_local(roles, key[0], key + 1) &&
		      !dr_roles_is_resolver(roles, key[0], key + 1) &&
		      (double)s->outward >= p[P_MIN_RPS_LOCAL];
	int by_pattern = resp >= p[P_MIN_RPS] &&
			 (double)s->q_same >= p[P_TOP_SHARE] * resp &&
			 (s->query_bytes ? factor >= p[P_MIN_FACTOR] : avg >= p[P_MIN_SIZE]);
	if (!by_role && !by_pattern) {
		dr_run_break(&s->run);
		s->qwire_len = 0;
		return;
	}
	if (dr_run_add(&s->run, sec, &s->w) < (uint32_t)p[P_MIN_SECONDS])
		return;

	struct dr_evidence ev = {.kind = DR_EV_REFLECTION};
	struct dr_ev_reflection *x = &ev.u.reflection;
	x->rule = by_role ? DR_REFL_LOCAL_NON_RESOLVER : DR_REFL_REPEATED_LARGE;
	dr_ev_addr_set(&x->responder, key, 32, 128);
	dr_ev_list_set(&x->victims, &s->victims, 32, 128, s->dests.n, s->dests.n >= DR_FEW_MAX);
	if (s->qwire_len)
		dr_ev_name(x->qname, sizeof(x->qname), s->qwire, s->qwire_len);
	x->qtype = s->qtype;
	x->share = resp ? (double)s->q_same / resp : 0;
	x->factor = s->query_bytes ? factor : -1;
	x->responses_per_s = resp;
	x->queries_per_s = (double)s->queries;
	x->average_size = avg;
	x->ra_share = resp ? (double)s->ra / resp : 0;

	char who[64];
	dr_akey_text(key, who);
	double bps = (double)s->w.bytes * 8;
	dr_fire_window(env, "reflection", who, &s->run, &s->w, resp,
		       bps >= 1e8 ? DR_SEV_HIGH : bps >= 1e6 ? DR_SEV_MEDIUM : DR_SEV_LOW, &ev);
}

const struct dr_detector dr_detect_reflection = {
	.name = "reflection",
	.summary = "hosts of ours answering DNS for attackers (open resolvers, reflectors)",
	.kinds = DR_KIND_DNS | DR_KIND_FLOW,
	.params = params, .nparams = P_COUNT,
	.init = refl_init, .on_record = refl_record, .on_tick = dr_ktable_on_tick,
	.mem = dr_ktable_state_mem, .fini = dr_ktable_free,
};
