/* amplification: the victim's view of a reflection attack. DNS responses
 * from many distinct sources arrive at one destination that sent almost no
 * queries; they are large, often IP fragments (the StopDDoS capture:
 * RRSIG answers from open resolvers to 10.10.10.10 port 22).
 *
 * Per destination and second: responses, their bytes, fragments, distinct
 * reflectors (exact up to 32) and the queries the destination itself sent.
 * Fires when responses reach min_pps from min_reflectors or more sources,
 * the destination's queries are at most max_query_ratio of the responses,
 * and the responses are large (average min_size) or fragmented
 * (fragment_share), for min_seconds in a row. A busy resolver receiving
 * large DNSSEC answers is not a victim: it asked for them. Key: the victim. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/common.h"
#include "detect/detector.h"
#include "detect/kwin.h"

enum { P_MIN_PPS, P_MIN_REFLECTORS, P_MAX_QUERY_RATIO, P_MIN_SIZE, P_FRAGMENT_SHARE,
       P_MIN_SECONDS, P_DESTINATIONS, P_COUNT };

#define QWIRE (DR_EV_NAME + 16)	/* more octets than the text shows */

struct dest {
	struct dr_kwin w;
	uint64_t resp, resp_bytes, frag, queries;
	struct dr_few reflectors;
	struct dr_top4 top;
	uint16_t top_port_count, top_port;
	/* persistent */
	struct dr_run run;
	/* its queries of the last seconds, halved every second: a resolver
	 * asks all the time, a victim never, and one second's count alone
	 * can be low by chance (flow exports sampled 1 in N) */
	double q_recent;
	int64_t q_sec;
	uint16_t qtype;
	/* the first question seen, wire form cut at QWIRE octets: its text
	 * is made only when an alert needs it */
	uint8_t qwire_len;
	uint8_t qwire[QWIRE];
};

/* Declared after the entries, whose size a capacity's memory needs. */
static const struct dr_param params[P_COUNT] = {
	[P_MIN_PPS] = {"min_pps", 10, "responses/s to one destination",
		       .kind = DR_PARAM_RATE, .unit = "responses/s"},
	[P_MIN_REFLECTORS] = {"min_reflectors", 5, "distinct sources of those responses in one second",
			      .kind = DR_PARAM_COUNT, .unit = "reflectors", .min = 1, .max = DR_FEW_MAX},	/* counted exactly up to 32 */
	[P_MAX_QUERY_RATIO] = {"max_query_ratio", 0.2, "queries the destination sent, per response it got",
			       .kind = DR_PARAM_FACTOR, .unit = "queries per response"},
	[P_MIN_SIZE] = {"min_size", 400, "average response size (octets) that makes responses large",
			.kind = DR_PARAM_OCTETS},
	[P_FRAGMENT_SHARE] = {"fragment_share", 0.2, "...or this share of responses reassembled from fragments",
			      .kind = DR_PARAM_SHARE},
	[P_MIN_SECONDS] = {"min_seconds", 2, "consecutive seconds the condition must hold",
			   .kind = DR_PARAM_SECONDS},
	[P_DESTINATIONS] = {"destinations", 65536, "destinations tracked at once (memory)",
			    .kind = DR_PARAM_CAPACITY, .unit = "destinations", .entry_octets =
			    DR_KTABLE_ENTRY_OCTETS(DR_AKEY, sizeof(struct dest))},
};

static void amp_judge(void *ctx, void *entry, const uint8_t *key, uint32_t klen, int64_t sec);

static void *amp_init(const struct dr_detect_env *env)
{
	return dr_ktable_new((uint32_t)env->param[P_DESTINATIONS], DR_AKEY, sizeof(struct dest),
			     offsetof(struct dest, run), amp_judge, (void *)env);
}

static void amp_record(void *st, const struct dr_record *r, const struct dr_detect_env *env)
{
	struct dr_ktable *dests = st;
	double ts = dr_record_time(r);
	const struct dr_akey *src = &r->keys.src, *dst = &r->keys.dst;
	uint64_t n = dr_record_messages(r);

	if (dr_is_response(env, r)) {	/* a response: to its destination */
		struct dest *d = dr_ktable_hit_record(dests, dst->b, dst->len, dst->hash, env->now, r);
		d->resp += n;
		d->resp_bytes += dr_record_msg_bytes(r);
		d->frag += r->fragmented ? n : 0;
		dr_few_add(&d->reflectors, src->hash);
		dr_top4_add(&d->top, src->b, n);
		/* the victim's port, by majority vote (Boyer-Moore) */
		if (d->top_port_count == 0) {
			d->top_port = r->dport;
			d->top_port_count = 1;
		} else if (d->top_port == r->dport) {
			d->top_port_count += d->top_port_count < UINT16_MAX;
		} else {
			d->top_port_count--;
		}
		if (r->dns.has_question && !d->qwire_len) {
			d->qwire_len = r->dns.qname_len < QWIRE ? r->dns.qname_len : QWIRE;
			memcpy(d->qwire, r->dns.qname, d->qwire_len);
			d->qtype = r->dns.qtype;
		}
	} else if (r->kind == DR_KIND_FLOW && r->proto == 17 && !r->sport && !r->dport) {
		/* later IP fragments (flow exports give them no ports): the rest
		 * of large responses, whose first fragments came from port 53;
		 * their octets and packets count, as on the wire, but they are
		 * not responses of their own */
		struct dest *d = dr_ktable_hit_record(dests, dst->b, dst->len, dst->hash, env->now, r);
		d->resp_bytes += r->bytes;
		d->frag += n;
	} else if (dr_is_query(env, r)) {	/* a query: from its source */
		/* counted only for destinations already tracked */
		struct dest *d = dr_ktable_find(dests, src->b, src->len, src->hash, env->now, ts);
		if (d)
			d->queries += n;
	}
}

static void amp_judge(void *ctx, void *entry, const uint8_t *key, uint32_t klen, int64_t sec)
{
	const struct dr_detect_env *env = ctx;
	const double *p = env->param;
	struct dest *d = entry;
	(void)klen;

	double resp = (double)d->resp;
	double avg = resp ? (double)d->resp_bytes / resp : 0;
	int64_t gap = sec - d->q_sec;
	d->q_recent = (gap > 0 && gap < 64 ? d->q_recent * ldexp(1, -(int)gap) : gap ? 0 : d->q_recent) +
		      (double)d->queries;
	d->q_sec = sec;
	/* a steady asker's rate is half the halved sum */
	double queries = (double)d->queries > d->q_recent / 2 ? (double)d->queries : d->q_recent / 2;
	int cond = resp >= p[P_MIN_PPS] && d->reflectors.n >= p[P_MIN_REFLECTORS] &&
		   queries <= p[P_MAX_QUERY_RATIO] * resp &&
		   (avg >= p[P_MIN_SIZE] || (double)d->frag >= p[P_FRAGMENT_SHARE] * resp);
	if (!cond) {
		dr_run_break(&d->run);
		d->qwire_len = 0;
		return;
	}
	if (dr_run_add(&d->run, sec, &d->w) < (uint32_t)p[P_MIN_SECONDS])
		return;

	struct dr_evidence ev = {.kind = DR_EV_AMPLIFICATION};
	struct dr_ev_amplification *x = &ev.u.amplification;
	dr_ev_addr_set(&x->victim, key, 32, 128);
	x->victim_port = d->top_port;
	dr_ev_list_set(&x->reflectors, &d->top, 32, 128, d->reflectors.n,
		       d->reflectors.n >= DR_FEW_MAX);
	/* from flows, frag counts later fragments, which may outnumber the
	 * responses they belong to */
	x->fragment_share = resp ? ((double)d->frag < resp ? (double)d->frag / resp : 1) : 0;
	x->average_size = avg;
	x->queries_from_victim = d->queries;
	x->responses = d->resp;
	if (d->qwire_len)
		dr_ev_name(x->qname, sizeof(x->qname), d->qwire, d->qwire_len);
	x->qtype = d->qtype;

	char victim[64];
	dr_akey_text(key, victim);
	double bps = (double)d->w.bytes * 8;
	dr_fire_window(env, "amplification", victim, &d->run, &d->w, resp,
		       bps >= 1e9 ? DR_SEV_CRITICAL : bps >= 1e8 ? DR_SEV_HIGH : DR_SEV_MEDIUM, &ev);
}

const struct dr_detector dr_detect_amplification = {
	.name = "amplification",
	.summary = "reflected responses converging on a victim that never asked",
	.kinds = DR_KIND_DNS | DR_KIND_FLOW,
	.params = params, .nparams = P_COUNT,
	.init = amp_init, .on_record = amp_record, .on_tick = dr_ktable_on_tick,
	.mem = dr_ktable_state_mem, .unjudged = dr_ktable_state_unjudged, .fini = dr_ktable_free,
};
