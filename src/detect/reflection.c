/* reflection: a host of ours answering DNS for attackers (the ISP seed: a
 * customer's router reflecting 25 Mbit/s, invisible in aggregate graphs;
 * the VPS seed: about 20 large answers a second to one spoofed "client").
 * Answering is not abuse by itself: an authoritative server answers the
 * world all day, so a rule needs evidence of abuse as well as a role.
 *
 * Per responder and second: responses sent and their bytes, queries it
 * received and their bytes, destinations and the bytes of the heaviest
 * eight, the eight heaviest questions, the majority (question,
 * destination), answers with RA set and answers it is not authoritative
 * for. The evidence:
 *   repeated      at most 8 questions, asked again and again, make
 *                 top_share of the responses (a rotation of several large
 *                 questions too);
 *   amplified     responses min_factor times the bytes of the queries (or
 *                 averaging min_size octets when the queries are not seen);
 *   recursion     recursion_share of the answers offer recursion: RA set,
 *                 or NOERROR/NXDOMAIN without AA that is not a referral;
 *   concentrated  at most 8 destinations take dest_share of the bytes.
 * An authoritative server doing its job answers many different questions
 * with AA and without RA, and its large answers (signed zones) spread over
 * many resolvers: not repeated, no recursion, not amplified-and-
 * concentrated. It fires, for min_seconds in a row:
 *   by role     with --local: a local host that is neither a --resolver nor
 *               an --authoritative server sends min_rps_local responses/s
 *               (REFUSED aside) or more out of the local space, and does
 *               not look like an
 *               authoritative server doing its job;
 *   by pattern  any host (a declared server too) sends min_rps
 *               amplified responses/s, top_share of them the same question
 *               to the same destination, or repeated and concentrated (a
 *               few large questions rotated over a few victims).
 * Key: the responder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/common.h"
#include "detect/detector.h"
#include "detect/kwin.h"

enum { P_MIN_RPS_LOCAL, P_MIN_RPS, P_TOP_SHARE, P_MIN_FACTOR, P_MIN_SIZE, P_RECURSION_SHARE,
       P_DEST_SHARE, P_MIN_SECONDS, P_RESPONDERS, P_COUNT };


#define QNAME_TEXT 80
#define QWIRE (QNAME_TEXT + 16)
#define FEW_QUESTIONS 8
#define HEAVY_DESTS 8

/* The heaviest few items of a stream by Space-Saving, with each slot's
 * overestimate, so that count - err is a guaranteed lower bound; counts
 * are weighed by what a record stands for, and `first` is the weight of
 * the record that took the slot (its first asking). */
struct few_questions {
	uint64_t count[FEW_QUESTIONS], err[FEW_QUESTIONS], first[FEW_QUESTIONS];
	uint32_t hash[FEW_QUESTIONS];
};

struct heavy_dests {
	uint64_t bytes[HEAVY_DESTS], err[HEAVY_DESTS];
	uint32_t hash[HEAVY_DESTS];
};

struct responder {
	struct dr_kwin w;
	uint64_t resp, resp_bytes, queries, query_bytes, ra, outward;
	uint64_t authoritative, recursive;	/* answers with AA (or referrals); offering recursion */
	struct dr_few dests;
	struct dr_top4 victims;
	struct few_questions questions;
	struct heavy_dests heavy;
	uint64_t q_hash;	/* the majority question (Boyer-Moore, weighed) */
	uint64_t q_votes;
	uint64_t q_same;	/* responses to it since it was elected */
	uint64_t q_first;	/* ...of which the one that elected it */
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
	[P_MIN_RPS_LOCAL] = {"min_rps_local", 5, "responses/s a local non-resolver may not send out with evidence of abuse",
			     .kind = DR_PARAM_RATE, .unit = "responses/s"},
	[P_MIN_RPS] = {"min_rps", 10, "responses/s for the pattern rule (any responder)",
		       .kind = DR_PARAM_RATE, .unit = "responses/s"},
	[P_TOP_SHARE] = {"top_share", 0.5, "share of responses that are the same question to the same destination, or repeats of at most 8 questions",
			 .kind = DR_PARAM_SHARE},
	[P_MIN_FACTOR] = {"min_factor", 5, "response bytes per query byte",
			  .kind = DR_PARAM_FACTOR, .unit = "response octets per query octet"},
	[P_MIN_SIZE] = {"min_size", 400, "average response size when queries are not seen",
			.kind = DR_PARAM_OCTETS},
	[P_RECURSION_SHARE] = {"recursion_share", 0.5, "share of answers offering recursion (RA, or not authoritative) that is abuse by a local non-resolver",
			       .kind = DR_PARAM_SHARE},
	[P_DEST_SHARE] = {"dest_share", 0.5, "share of response bytes going to at most 8 destinations that makes them concentrated",
			  .kind = DR_PARAM_SHARE},
	[P_MIN_SECONDS] = {"min_seconds", 3, "consecutive seconds the condition must hold",
			   .kind = DR_PARAM_SECONDS},
	[P_RESPONDERS] = {"responders", 32768, "responders tracked at once (memory)",
			  .kind = DR_PARAM_CAPACITY, .unit = "responders", .entry_octets =
			  DR_KTABLE_ENTRY_OCTETS(DR_AKEY, sizeof(struct responder))},
};

static void questions_add(struct few_questions *q, uint32_t h, uint64_t n)
{
	unsigned min = 0;
	for (unsigned i = 0; i < FEW_QUESTIONS; i++) {
		if (q->count[i] && q->hash[i] == h) {
			q->count[i] += n;
			return;
		}
		if (q->count[i] < q->count[min])
			min = i;
	}
	q->err[min] = q->count[min];
	q->first[min] = n;
	q->hash[min] = h;
	q->count[min] += n;
}

/* Responses that are surely repeats of the heaviest few questions: each
 * slot's guaranteed count, less its first asking. A sampled question
 * seen once is not a repeat, whatever it stands for: as for distinct
 * names, sampling can only lower this, never make a server answering
 * many questions look like one answering the same. */
static uint64_t questions_repeats(const struct few_questions *q)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < FEW_QUESTIONS; i++) {
		uint64_t sure = q->count[i] - q->err[i];
		n += sure > q->first[i] ? sure - q->first[i] : 0;
	}
	return n;
}

static void heavy_add(struct heavy_dests *d, uint32_t h, uint64_t bytes)
{
	unsigned min = 0;
	for (unsigned i = 0; i < HEAVY_DESTS; i++) {
		if (d->bytes[i] && d->hash[i] == h) {
			d->bytes[i] += bytes;
			return;
		}
		if (d->bytes[i] < d->bytes[min])
			min = i;
	}
	d->err[min] = d->bytes[min];
	d->hash[min] = h;
	d->bytes[min] += bytes;
}

static uint64_t heavy_sure(const struct heavy_dests *d)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < HEAVY_DESTS; i++)
		n += d->bytes[i] - d->err[i];
	return n;
}

/* An answer that resolves for the asker: RA set, or data (NOERROR or
 * NXDOMAIN) without AA that is not a referral (no answers, authority
 * records). REFUSED and other errors offer nothing. */
static int offers_recursion(const struct dr_dns *d)
{
	if (dr_dns_ra(d))
		return 1;
	unsigned rc = d->rcode_ext;
	int referral = d->ancount == 0 && d->nscount > 0 && rc == 0;
	return !dr_dns_aa(d) && (rc == 0 || rc == 3) && !referral;
}

static void refl_judge(void *ctx, void *entry, const uint8_t *key, uint32_t klen, int64_t sec);

static void *refl_init(const struct dr_detect_env *env)
{
	return dr_ktable_new((uint32_t)env->param[P_RESPONDERS], DR_AKEY, sizeof(struct responder),
			     offsetof(struct responder, run), refl_judge, (void *)env);
}

static void refl_record(void *st, const struct dr_record *r, const struct dr_detect_env *env)
{
	struct dr_ktable *responders = st;
	const struct dr_dns *d = &r->dns;
	double ts = dr_record_time(r);
	const struct dr_akey *src = &r->keys.src, *dst = &r->keys.dst;

	uint64_t n = dr_record_messages(r);
	if (dr_is_response(env, r)) {
		struct responder *s = dr_ktable_hit_record(responders, src->b, src->len, src->hash,
							   env->now, r);
		uint64_t bytes = dr_record_msg_bytes(r);
		s->resp += n;
		s->resp_bytes += bytes;
		dr_few_add(&s->dests, dst->hash);
		dr_top4_add(&s->victims, dst->b, n);
		heavy_add(&s->heavy, (uint32_t)dst->hash, bytes);
		if (r->kind != DR_KIND_DNS) {
			/* an aggregate has no header or question to judge by */
			if (!dr_roles_is_local(env->roles, r->family, r->dst))
				s->outward += n;
			return;
		}
		/* Every count below is weighed like resp (a sampled header
		 * stands for n messages), so that their shares of resp are
		 * the samples' shares. */
		s->ra += dr_dns_ra(d) ? n : 0;
		s->authoritative += dr_dns_aa(d) || (d->ancount == 0 && d->nscount > 0) ? n : 0;
		s->recursive += offers_recursion(d) ? n : 0;
		/* REFUSED answers nothing: a closed resolver is not answering */
		if (d->rcode_ext != 5 && !dr_roles_is_local(env->roles, r->family, r->dst))
			s->outward += n;
		uint64_t question = d->has_question ? r->keys.qname_hash ^ d->qtype : 0;
		questions_add(&s->questions, (uint32_t)(question ^ question >> 32), n);
		/* The same question to the same destination, over and over. */
		uint64_t qh = question ^ dst->hash;
		int fresh_candidate = s->q_votes == 0;
		if (fresh_candidate) {
			s->q_hash = qh;
			s->q_votes = n;
			s->q_same = n;	/* counted from the candidate's election on */
			s->q_first = n;
		} else if (s->q_hash == qh) {
			s->q_votes += n;
			s->q_same += n;
		} else {
			s->q_votes = s->q_votes > n ? s->q_votes - n : 0;
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
	uint64_t repeats = questions_repeats(&s->questions);
	uint64_t heavy = heavy_sure(&s->heavy);
	int repeated = (double)repeats >= p[P_TOP_SHARE] * resp;
	int amplifies = s->query_bytes ? factor >= p[P_MIN_FACTOR] : avg >= p[P_MIN_SIZE];
	int recursion = (double)s->recursive >= p[P_RECURSION_SHARE] * resp;
	int concentrated = (double)heavy >= p[P_DEST_SHARE] * (double)s->resp_bytes;
	/* many different questions, authoritative, no recursion, and large
	 * answers (signed zones) only when spread over many */
	int doing_its_job = !repeated && !recursion && !(amplifies && concentrated);
	int by_role = roles->nlocal && dr_roles_is_local(roles, key[0], key + 1) &&
		      !dr_roles_is_resolver(roles, key[0], key + 1) &&
		      !dr_roles_is_authoritative(roles, key[0], key + 1) &&
		      (double)s->outward >= p[P_MIN_RPS_LOCAL] && !doing_its_job;
	/* "Over and over" needs the question asked again: one sampled
	 * header standing for min_rps answers is not a pattern. */
	int same_again = s->q_same > s->q_first &&
			 (double)s->q_same >= p[P_TOP_SHARE] * resp;
	int by_pattern = resp >= p[P_MIN_RPS] && amplifies && (same_again || (repeated && concentrated));
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
	x->abuse = (uint8_t)((repeated ? DR_ABUSE_REPEATED : 0) | (amplifies ? DR_ABUSE_AMPLIFIED : 0) |
			     (recursion ? DR_ABUSE_RECURSION : 0) |
			     (concentrated ? DR_ABUSE_CONCENTRATED : 0));
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
	x->authoritative_share = resp ? (double)s->authoritative / resp : 0;
	x->repeated_share = resp ? (double)repeats / resp : 0;
	x->top_destinations_share = s->resp_bytes ? (double)heavy / (double)s->resp_bytes : 0;

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
	.mem = dr_ktable_state_mem, .unjudged = dr_ktable_state_unjudged, .fini = dr_ktable_free,
};
