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
#include "lib/strbuf.h"

enum { P_MIN_RPS_LOCAL, P_MIN_RPS, P_TOP_SHARE, P_MIN_FACTOR, P_MIN_SIZE, P_MIN_SECONDS,
       P_RESPONDERS, P_COUNT };

static const struct dr_param params[P_COUNT] = {
	[P_MIN_RPS_LOCAL] = {"min_rps_local", 5, "responses/s a local non-resolver may not send out"},
	[P_MIN_RPS] = {"min_rps", 10, "responses/s for the pattern rule (any responder)"},
	[P_TOP_SHARE] = {"top_share", 0.5, "share of responses that are the same question to the same destination"},
	[P_MIN_FACTOR] = {"min_factor", 5, "response bytes per query byte"},
	[P_MIN_SIZE] = {"min_size", 400, "average response size when queries are not seen"},
	[P_MIN_SECONDS] = {"min_seconds", 3, "consecutive seconds the condition must hold"},
	[P_RESPONDERS] = {"responders", 65536, "responders tracked at once (memory)"},
};

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
	uint32_t streak;
	int64_t streak_sec;
	uint16_t qtype;
	/* The majority question's name, wire form (case kept), cut at
	 * QWIRE octets: its text, cut at QNAME_TEXT, is made only when an
	 * alert needs it (more octets than that text can show are kept). */
	uint8_t qwire_len;
	uint8_t qwire[QWIRE];
};

static void *refl_init(const struct dr_detect_env *env)
{
	return dr_ktable_new((uint32_t)env->param[P_RESPONDERS], DR_AKEY, sizeof(struct responder),
			     offsetof(struct responder, streak));
}

static void refl_record(void *st, const struct dr_record *r, const struct dr_detect_env *env)
{
	struct dr_ktable *responders = st;
	const struct dr_dns *d = &r->dns;
	double ts = dr_record_time(r);
	const struct dr_akey *src = &r->keys.src, *dst = &r->keys.dst;

	if (dr_port_test(env->dns_ports, r->sport) && dr_dns_qr(d)) {
		struct responder *s = dr_ktable_hit(responders, src->b, src->len, src->hash,
						    env->now, ts, r->ip_len ? r->ip_len : r->payload_len);
		s->resp++;
		s->resp_bytes += r->payload_len;
		s->ra += dr_dns_ra(d);
		if (!dr_roles_is_local(env->roles, r->family, r->dst))
			s->outward++;
		dr_few_add(&s->dests, dst->hash);
		dr_top4_add(&s->victims, dst->b);
		/* The same question to the same destination, over and over. */
		uint64_t qh = d->has_question ? r->keys.qname_hash ^ d->qtype : 0;
		qh ^= dst->hash;
		int fresh_candidate = s->q_votes == 0;
		if (fresh_candidate) {
			s->q_hash = qh;
			s->q_votes = 1;
			s->q_same = 1;	/* counted from the candidate's election on */
		} else if (s->q_hash == qh) {
			s->q_votes++;
			s->q_same++;
		} else {
			s->q_votes--;
		}
		if (s->q_hash == qh && d->has_question && (fresh_candidate || !s->qwire_len)) {
			s->qwire_len = d->qname_len < QWIRE ? d->qname_len : QWIRE;
			memcpy(s->qwire, d->qname, s->qwire_len);
			s->qtype = d->qtype;
		}
	} else if (dr_port_test(env->dns_ports, r->dport) && !dr_dns_qr(d)) {
		/* counted only for responders already tracked */
		struct responder *s = dr_ktable_find(responders, dst->b, dst->len, dst->hash,
						     env->now, ts);
		if (s) {
			s->queries++;
			s->query_bytes += r->payload_len;
		}
	}
}

static void refl_tick(void *st, int64_t sec, const struct dr_detect_env *env)
{
	struct dr_ktable *responders = st;
	const double *p = env->param;
	const struct dr_roles *roles = env->roles;
	const uint8_t *key;
	uint32_t klen;
	struct responder *s;

	while ((s = dr_ktable_next(responders, sec, &key, &klen))) {
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
			s->streak = 0;
			s->qwire_len = 0;
			continue;
		}
		if (dr_streak(&s->streak, &s->streak_sec, sec) < (uint32_t)p[P_MIN_SECONDS])
			continue;

		char who[64], victim[64], rate[32], ev[DR_EVIDENCE_MAX], summary[512], action[512];
		char qname[QNAME_TEXT] = "";
		if (s->qwire_len) {
			char text[DR_NAME_TEXT_MAX];
			dr_name_to_text(s->qwire, s->qwire_len, text);
			dr_copy_cut(qname, sizeof(qname), text);
		}
		dr_akey_text(key, who);
		double bps = (double)s->w.bytes * 8;
		dr_fmt_bps(rate, sizeof(rate), bps);
		const char *qt = dr_qtype_name(s->qtype);
		const char *more = s->dests.n >= DR_FEW_MAX ? "+" : "";
		struct dr_sb sb;
		dr_sb_init(&sb, ev, sizeof(ev));
		dr_sb_printf(&sb, "{\"rule\":\"%s\",\"victims\":", by_role ? "local non-resolver"
									     : "repeated large answers");
		dr_top4_json(&sb, &s->victims, "responses", NULL, NULL);
		dr_sb_printf(&sb, ",\"destinations\":%u,\"destinations_at_least\":%s,\"questions\":[{"
			     "\"qname\":", s->dests.n, *more ? "true" : "false");
		dr_sb_json_str(&sb, qname);
		dr_sb_printf(&sb, ",\"qtype\":");
		dr_sb_json_str(&sb, qt ? qt : "other");
		dr_sb_printf(&sb, ",\"share\":%.3f}],\"amplification_factor\":", resp ? (double)s->q_same / resp : 0);
		if (s->query_bytes)
			dr_sb_printf(&sb, "%.1f", factor);
		else
			dr_sb_printf(&sb, "null");
		dr_sb_printf(&sb, ",\"responses_per_s\":%.0f,\"queries_per_s\":%llu,\"average_size\":%.0f,"
			     "\"recursion_available_share\":%.3f}", resp,
			     (unsigned long long)s->queries, avg, resp ? (double)s->ra / resp : 0);
		unsigned top = dr_top4_best(&s->victims);
		dr_akey_text(s->victims.key[top], victim);
		char amplified[32] = "";
		if (s->query_bytes)
			snprintf(amplified, sizeof(amplified), ", amplified %.1fx", factor);
		snprintf(summary, sizeof(summary),
			 "%s answers DNS for others: %.0f responses/s (%s) to %u%s destination%s, mostly "
			 "%s; question %s %s%s", who, resp, rate, s->dests.n, more,
			 s->dests.n == 1 ? "" : "s", victim,
			 qname[0] ? qname : "(various)", qt ? qt : "", amplified);
		snprintf(action, sizeof(action),
			 "stop %s from answering outsiders: close port 53 or recursion to the Internet "
			 "(firewall/ACL), or enable response rate limiting; then find out who runs it "
			 "(an open resolver, a reset home router)", who);
		struct dr_fire fi = {
			.type = "reflection", .key = who, .first = s->w.first, .last = s->w.last,
			.packets = s->resp, .bytes = s->w.bytes, .pps = resp, .bps = bps,
			.severity = bps >= 1e8 ? DR_SEV_HIGH : bps >= 1e6 ? DR_SEV_MEDIUM : DR_SEV_LOW,
			.evidence = ev, .summary = summary, .action = action,
		};
		dr_alert_fire(env->alerts, &fi);
	}
}

const struct dr_detector dr_detect_reflection = {
	.name = "reflection",
	.summary = "hosts of ours answering DNS for attackers (open resolvers, reflectors)",
	.params = params, .nparams = P_COUNT,
	.init = refl_init, .on_record = refl_record, .on_tick = refl_tick,
	.mem = dr_ktable_state_mem, .fini = dr_ktable_free,
};
