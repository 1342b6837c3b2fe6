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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/common.h"
#include "detect/detector.h"
#include "detect/kwin.h"
#include "lib/strbuf.h"

enum { P_MIN_PPS, P_MIN_REFLECTORS, P_MAX_QUERY_RATIO, P_MIN_SIZE, P_FRAGMENT_SHARE,
       P_MIN_SECONDS, P_DESTINATIONS, P_COUNT };

static const struct dr_param params[P_COUNT] = {
	[P_MIN_PPS] = {"min_pps", 10, "responses/s to one destination"},
	[P_MIN_REFLECTORS] = {"min_reflectors", 5, "distinct sources of those responses in one second"},
	[P_MAX_QUERY_RATIO] = {"max_query_ratio", 0.2, "queries the destination sent, per response it got"},
	[P_MIN_SIZE] = {"min_size", 400, "average response size (octets) that makes responses large"},
	[P_FRAGMENT_SHARE] = {"fragment_share", 0.2, "...or this share of responses reassembled from fragments"},
	[P_MIN_SECONDS] = {"min_seconds", 2, "consecutive seconds the condition must hold"},
	[P_DESTINATIONS] = {"destinations", 65536, "destinations tracked at once (memory)"},
};

struct dest {
	struct dr_kwin w;
	uint64_t resp, resp_bytes, frag, queries;
	struct dr_few reflectors;
	struct dr_top4 top;
	uint16_t top_port_count, top_port;
	/* persistent */
	uint32_t streak;
	int64_t streak_sec;
	uint16_t qtype;
	char qname[80];
};

static void *amp_init(const struct dr_detect_env *env)
{
	return dr_ktable_new((uint32_t)env->param[P_DESTINATIONS], DR_AKEY, sizeof(struct dest),
			     offsetof(struct dest, streak));
}

static void amp_record(void *st, const struct dr_record *r, const struct dr_detect_env *env)
{
	struct dr_ktable *dests = st;
	int from_dns = dr_port_test(env->dns_ports, r->sport);
	int to_dns = dr_port_test(env->dns_ports, r->dport);
	double ts = dr_record_time(r);
	const struct dr_akey *src = &r->keys.src, *dst = &r->keys.dst;

	if (from_dns && dr_dns_qr(&r->dns)) {	/* a response: to its destination */
		struct dest *d = dr_ktable_hit(dests, dst->b, dst->len, dst->hash, env->now, ts,
					       r->ip_len ? r->ip_len : r->payload_len);
		d->resp++;
		d->resp_bytes += r->payload_len;
		d->frag += r->fragmented;
		dr_few_add(&d->reflectors, src->hash);
		dr_top4_add(&d->top, src->b);
		/* the victim's port, by majority vote (Boyer-Moore) */
		if (d->top_port_count == 0) {
			d->top_port = r->dport;
			d->top_port_count = 1;
		} else if (d->top_port == r->dport) {
			d->top_port_count++;
		} else {
			d->top_port_count--;
		}
		if (r->dns.has_question && !d->qname[0]) {
			char text[DR_NAME_TEXT_MAX];
			dr_name_to_text(r->dns.qname, r->dns.qname_len, text);
			dr_copy_cut(d->qname, sizeof(d->qname), text);
			d->qtype = r->dns.qtype;
		}
	} else if (to_dns && !dr_dns_qr(&r->dns)) {	/* a query: from its source */
		/* counted only for destinations already tracked */
		struct dest *d = dr_ktable_find(dests, src->b, src->len, src->hash, env->now, ts);
		if (d)
			d->queries++;
	}
}

static void amp_tick(void *st, int64_t sec, const struct dr_detect_env *env)
{
	struct dr_ktable *dests = st;
	const double *p = env->param;
	const uint8_t *key;
	uint32_t klen;
	struct dest *d;

	while ((d = dr_ktable_next(dests, sec, &key, &klen))) {
		double resp = (double)d->resp;
		double avg = resp ? (double)d->resp_bytes / resp : 0;
		int cond = resp >= p[P_MIN_PPS] && d->reflectors.n >= p[P_MIN_REFLECTORS] &&
			   (double)d->queries <= p[P_MAX_QUERY_RATIO] * resp &&
			   (avg >= p[P_MIN_SIZE] || (double)d->frag >= p[P_FRAGMENT_SHARE] * resp);
		if (!cond) {
			d->streak = 0;
			d->qname[0] = 0;
			continue;
		}
		if (dr_streak(&d->streak, &d->streak_sec, sec) < (uint32_t)p[P_MIN_SECONDS])
			continue;

		char victim[64], rate[32], ev[DR_EVIDENCE_MAX], summary[512], action[512];
		dr_akey_text(key, victim);
		double bps = (double)d->w.bytes * 8;
		dr_fmt_bps(rate, sizeof(rate), bps);
		const char *more = d->reflectors.n >= DR_FEW_MAX ? "+" : "";
		double frag_share = resp ? (double)d->frag / resp : 0;
		const char *qt = dr_qtype_name(d->qtype);
		struct dr_sb sb;
		dr_sb_init(&sb, ev, sizeof(ev));
		dr_sb_printf(&sb, "{\"reflectors\":%u,\"reflectors_at_least\":%s,\"top_reflectors\":",
			     d->reflectors.n, *more ? "true" : "false");
		dr_top4_json(&sb, &d->top, "responses", NULL, NULL);
		dr_sb_printf(&sb, ",\"fragment_share\":%.3f,\"average_size\":%.0f,"
			     "\"queries_from_victim\":%llu,\"responses\":%llu,\"victim_port\":%u,"
			     "\"question\":", frag_share, avg, (unsigned long long)d->queries,
			     (unsigned long long)d->resp, d->top_port);
		dr_sb_json_str(&sb, d->qname);
		dr_sb_printf(&sb, ",\"qtype\":");
		dr_sb_json_str(&sb, qt ? qt : "other");
		dr_sb_printf(&sb, "}");
		snprintf(summary, sizeof(summary),
			 "%s receives %.0f DNS responses/s (%s, %.0f octets on average, %.0f%% "
			 "fragmented) from %u%s reflectors it never queried, to port %u; question %s %s",
			 victim, resp, rate, avg, frag_share * 100, d->reflectors.n, more,
			 d->top_port, d->qname, qt ? qt : "");
		snprintf(action, sizeof(action),
			 "protect %s: ask upstream to filter udp source port 53 (and fragments) towards it "
			 "(Flowspec or RTBH); the reflectors are open resolvers, report them to their networks",
			 victim);
		struct dr_fire fi = {
			.type = "amplification", .key = victim, .first = d->w.first, .last = d->w.last,
			.packets = d->resp, .bytes = d->w.bytes, .pps = resp, .bps = bps,
			.severity = bps >= 1e9 ? DR_SEV_CRITICAL : bps >= 1e8 ? DR_SEV_HIGH : DR_SEV_MEDIUM,
			.evidence = ev, .summary = summary, .action = action,
		};
		dr_alert_fire(env->alerts, &fi);
	}
}

const struct dr_detector dr_detect_amplification = {
	.name = "amplification",
	.summary = "reflected responses converging on a victim that never asked",
	.params = params, .nparams = P_COUNT,
	.init = amp_init, .on_record = amp_record, .on_tick = amp_tick,
	.mem = dr_ktable_state_mem, .fini = dr_ktable_free,
};
