/* flood: packets and bits per second to a DNS port far above what a client
 * or the target's own baseline explains, DNS or not (the seed: a PHP "UDP
 * flood" script sending gigabits of junk to port 53).
 *
 * Two views, each a Space-Saving table of one-second windows:
 *   per source  a source sending more than source_pps, or more than
 *               junk_pps of which junk_share is not DNS -> key: the source
 *   per target  a target receiving more than target_pps and target_factor
 *               times its learnt baseline from sources none of which sends
 *               half of it -> key: the target
 * A flood is one-way: a source whose packets the target mostly answers is
 * in an exchange (a busy client, or a loop: see loop.c), not flooding. A
 * well-formed DNS response from a DNS port is an answer, even to port 53
 * (resolvers that query from port 53), never a flood packet.
 * Either must hold for min_seconds consecutive seconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/common.h"
#include "detect/detector.h"
#include "detect/kwin.h"
#include "lib/strbuf.h"

enum { P_SOURCE_PPS, P_JUNK_PPS, P_JUNK_SHARE, P_TARGET_PPS, P_TARGET_FACTOR,
       P_MIN_SECONDS, P_SOURCES, P_TARGETS, P_COUNT };

static const struct dr_param params[P_COUNT] = {
	[P_SOURCE_PPS] = {"source_pps", 2000, "packets/s to DNS ports from one source that are a flood by themselves"},
	[P_JUNK_PPS] = {"junk_pps", 200, "packets/s from one source that are a flood when junk_share of them is not DNS"},
	[P_JUNK_SHARE] = {"junk_share", 0.5, "share of a source's packets that are not DNS to count as junk"},
	[P_TARGET_PPS] = {"target_pps", 20000, "packets/s to one target, from spread sources, that may be a flood"},
	[P_TARGET_FACTOR] = {"target_factor", 10, "...and how many times the target's baseline rate they must be"},
	[P_MIN_SECONDS] = {"min_seconds", 2, "consecutive seconds the condition must hold"},
	[P_SOURCES] = {"sources", 65536, "sources tracked at once (memory)"},
	[P_TARGETS] = {"targets", 16384, "targets tracked at once (memory)"},
};

struct src_entry {
	struct dr_kwin w;
	uint64_t sent, sent_bytes, junk, answers;
	struct dr_top4 targets;
	/* persistent */
	uint32_t streak;
	int64_t streak_sec;
};

struct dst_entry {
	struct dr_kwin w;
	uint64_t received, received_bytes, junk, answers;
	struct dr_few sources;
	struct dr_top4 top;
	/* persistent */
	double baseline;
	uint32_t warm, streak;
	int64_t streak_sec;
};

struct flood {
	struct dr_ktable sources, targets;
};

static void *flood_init(const struct dr_detect_env *env)
{
	struct flood *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	if (dr_ktable_init(&f->sources, (uint32_t)env->param[P_SOURCES], DR_AKEY,
			   sizeof(struct src_entry), offsetof(struct src_entry, streak)) < 0 ||
	    dr_ktable_init(&f->targets, (uint32_t)env->param[P_TARGETS], DR_AKEY,
			   sizeof(struct dst_entry), offsetof(struct dst_entry, baseline)) < 0) {
		dr_ktable_fini(&f->sources);
		free(f);
		return NULL;
	}
	return f;
}

static void flood_fini(void *st)
{
	struct flood *f = st;
	dr_ktable_fini(&f->sources);
	dr_ktable_fini(&f->targets);
	free(f);
}

static size_t flood_mem(const void *st)
{
	const struct flood *f = st;
	return sizeof(*f) + dr_ktable_mem(&f->sources) + dr_ktable_mem(&f->targets);
}

static int is_junk(const struct dr_record *r)
{
	return r->dns.malformed != 0;
}

static void flood_record(void *st, const struct dr_record *r, const struct dr_detect_env *env)
{
	struct flood *f = st;
	double ts = dr_record_time(r);
	uint32_t bytes = r->ip_len ? r->ip_len : r->payload_len;
	int64_t now = env->now;
	const struct dr_akey *src = &r->keys.src, *dst = &r->keys.dst;
	int sport_dns = dr_port_test(env->dns_ports, r->sport);
	/* A resolver that queries from port 53 gets its answers at port 53:
	 * a well-formed response from a DNS port is an answer wherever it goes. */
	int answer = sport_dns && dr_dns_qr(&r->dns) && !r->dns.malformed;
	if (!dr_port_test(env->dns_ports, r->dport) || answer) {
		if (sport_dns) {
			/* an answer: the source it goes to is in an exchange */
			struct src_entry *s = dr_ktable_find(&f->sources, dst->b, dst->len, dst->hash,
							     now, ts);
			if (s)
				s->answers++;
			/* ...and the target that answers is not drowning */
			struct dst_entry *t = dr_ktable_find(&f->targets, src->b, src->len, src->hash,
							     now, ts);
			if (t)
				t->answers++;
		}
		return;
	}
	struct src_entry *s = dr_ktable_hit(&f->sources, src->b, src->len, src->hash, now, ts, bytes);
	s->sent++;
	s->sent_bytes += bytes;
	s->junk += is_junk(r);
	dr_top4_add(&s->targets, dst->b);

	struct dst_entry *t = dr_ktable_hit(&f->targets, dst->b, dst->len, dst->hash, now, ts, bytes);
	t->received++;
	t->received_bytes += bytes;
	t->junk += is_junk(r);
	dr_few_add(&t->sources, src->hash);
	dr_top4_add(&t->top, src->b);
}

static const char *payload_kind(uint64_t junk, uint64_t pkts)
{
	if (junk * 10 >= pkts * 9)
		return "not DNS (junk payloads)";
	if (junk * 10 <= pkts)
		return "DNS queries";
	return "mixed DNS and junk";
}

static void fire(const struct dr_detect_env *env, const char *key, const struct dr_kwin *w,
		 uint64_t pkts, uint64_t bytes, uint64_t junk, const char *target, unsigned nsources,
		 const struct dr_top4 *top, int by_source)
{
	char ev[DR_EVIDENCE_MAX], summary[512], action[512], rate[32];
	struct dr_sb sb;
	double pps = (double)pkts, bps = (double)bytes * 8;
	dr_fmt_bps(rate, sizeof(rate), bps);
	dr_sb_init(&sb, ev, sizeof(ev));
	dr_sb_printf(&sb, "{\"target\":");
	dr_sb_json_str(&sb, target);
	dr_sb_printf(&sb, ",\"pps\":%.0f,\"bps\":%.0f,\"payload\":", pps, bps);
	dr_sb_json_str(&sb, payload_kind(junk, pkts));
	dr_sb_printf(&sb, ",\"junk_share\":%.3f", pkts ? (double)junk / (double)pkts : 0);
	if (!by_source) {
		dr_sb_printf(&sb, ",\"sources\":%u%s,\"top_sources\":", nsources,
			     nsources >= DR_FEW_MAX ? ",\"sources_at_least\":true" : "");
		dr_top4_json(&sb, top, "packets", NULL, NULL);
	}
	dr_sb_printf(&sb, "}");
	if (by_source) {
		snprintf(summary, sizeof(summary),
			 "%s floods %s port 53 with %.0f packets/s (%s), %s", key, target, pps, rate,
			 payload_kind(junk, pkts));
		snprintf(action, sizeof(action),
			 "drop it at the edge: nft add rule inet filter input ip saddr %s udp dport 53 drop "
			 "(ip6 saddr for IPv6); then find the compromised host or script behind it",
			 key);
	} else {
		snprintf(summary, sizeof(summary),
			 "%s receives %.0f packets/s (%s) on port 53 from %u%s sources, %s", key, pps, rate,
			 nsources, nsources >= DR_FEW_MAX ? "+" : "", payload_kind(junk, pkts));
		snprintf(action, sizeof(action),
			 "rate-limit port 53 towards %s (nftables limit, dnsdist dynamic blocks) and ask "
			 "upstream to filter or blackhole the flood", key);
	}
	struct dr_fire fi = {
		.type = "flood", .key = key, .first = w->first, .last = w->last,
		.packets = pkts, .bytes = bytes, .pps = pps, .bps = bps,
		.severity = bps >= 1e9 ? DR_SEV_CRITICAL : bps >= 1e8 ? DR_SEV_HIGH : DR_SEV_MEDIUM,
		.evidence = ev, .summary = summary, .action = action,
	};
	dr_alert_fire(env->alerts, &fi);
}

static void flood_tick(void *st, int64_t sec, const struct dr_detect_env *env)
{
	struct flood *f = st;
	const double *p = env->param;
	const uint8_t *key;
	uint32_t klen;
	char who[64], target[64];
	struct src_entry *s;
	struct dst_entry *t;

	while ((s = dr_ktable_next(&f->sources, sec, &key, &klen))) {
		double pps = (double)s->sent;
		int cond = (pps >= p[P_SOURCE_PPS] ||
			    (pps >= p[P_JUNK_PPS] && (double)s->junk >= p[P_JUNK_SHARE] * pps)) &&
			   s->answers * 2 < s->sent;
		if (!cond || dr_streak(&s->streak, &s->streak_sec, sec) < (uint32_t)p[P_MIN_SECONDS])
			continue;
		dr_akey_text(key, who);
		dr_akey_text(s->targets.key[dr_top4_best(&s->targets)], target);
		fire(env, who, &s->w, s->sent, s->sent_bytes, s->junk, target, 1, NULL, 1);
	}
	while ((t = dr_ktable_next(&f->targets, sec, &key, &klen))) {
		double pps = (double)t->received;
		unsigned best = dr_top4_best(&t->top);
		int spread = t->top.count[best] * 2 < t->received;
		int cond = pps >= p[P_TARGET_PPS] && spread && t->answers * 2 < t->received &&
			   (t->warm < 5 || pps >= p[P_TARGET_FACTOR] * t->baseline);
		if (!cond) {
			t->baseline = t->warm ? 0.9 * t->baseline + 0.1 * pps : pps;
			t->warm++;
			continue;
		}
		if (dr_streak(&t->streak, &t->streak_sec, sec) < (uint32_t)p[P_MIN_SECONDS])
			continue;
		dr_akey_text(key, who);
		fire(env, who, &t->w, t->received, t->received_bytes, t->junk, who, t->sources.n,
		     &t->top, 0);
	}
}

const struct dr_detector dr_detect_flood = {
	.name = "flood",
	.summary = "floods towards DNS ports: the flooding source, or the target when sources are spread",
	.params = params, .nparams = P_COUNT,
	.init = flood_init, .on_record = flood_record, .on_tick = flood_tick,
	.mem = flood_mem, .fini = flood_fini,
};
