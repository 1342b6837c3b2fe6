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

enum { P_SOURCE_PPS, P_JUNK_PPS, P_JUNK_SHARE, P_TARGET_PPS, P_TARGET_FACTOR,
       P_MIN_SECONDS, P_SOURCES, P_TARGETS, P_COUNT };

struct src_entry {
	struct dr_kwin w;
	uint64_t sent, sent_bytes, junk, answers;
	struct dr_top4 targets;
	uint16_t port;		/* the DNS port it sends to, by majority */
	uint16_t port_votes;
	/* persistent */
	struct dr_run run;
};

struct dst_entry {
	struct dr_kwin w;
	uint64_t received, received_bytes, junk, answers;
	struct dr_few sources;
	struct dr_top4 top;
	uint16_t port;
	uint16_t port_votes;
	/* persistent */
	double baseline;
	uint32_t warm;
	struct dr_run run;
};

struct flood {
	struct dr_ktable sources, targets;
};

/* Declared after the entries, whose size a capacity's memory needs. */
static const struct dr_param params[P_COUNT] = {
	[P_SOURCE_PPS] = {"source_pps", 2000, "packets/s to DNS ports from one source that are a flood by themselves",
			  .kind = DR_PARAM_RATE, .unit = "packets/s"},
	[P_JUNK_PPS] = {"junk_pps", 200, "packets/s from one source that are a flood when junk_share of them is not DNS",
			.kind = DR_PARAM_RATE, .unit = "packets/s"},
	[P_JUNK_SHARE] = {"junk_share", 0.5, "share of a source's packets that are not DNS to count as junk",
			  .kind = DR_PARAM_SHARE},
	[P_TARGET_PPS] = {"target_pps", 20000, "packets/s to one target, from spread sources, that may be a flood",
			  .kind = DR_PARAM_RATE, .unit = "packets/s"},
	[P_TARGET_FACTOR] = {"target_factor", 10, "...and how many times the target's baseline rate they must be",
			     .kind = DR_PARAM_FACTOR, .unit = "times the baseline"},
	[P_MIN_SECONDS] = {"min_seconds", 2, "consecutive seconds the condition must hold",
			   .kind = DR_PARAM_SECONDS},
	[P_SOURCES] = {"sources", 65536, "sources tracked at once (memory)",
		       .kind = DR_PARAM_CAPACITY, .unit = "sources", .entry_octets =
		       DR_KTABLE_ENTRY_OCTETS(DR_AKEY, sizeof(struct src_entry))},
	[P_TARGETS] = {"targets", 16384, "targets tracked at once (memory)",
		       .kind = DR_PARAM_CAPACITY, .unit = "targets", .entry_octets =
		       DR_KTABLE_ENTRY_OCTETS(DR_AKEY, sizeof(struct dst_entry))},
};

static void judge_source(void *ctx, void *entry, const uint8_t *key, uint32_t klen, int64_t sec);
static void judge_target(void *ctx, void *entry, const uint8_t *key, uint32_t klen, int64_t sec);

static void *flood_init(const struct dr_detect_env *env)
{
	struct flood *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	if (dr_ktable_init(&f->sources, (uint32_t)env->param[P_SOURCES], DR_AKEY,
			   sizeof(struct src_entry), offsetof(struct src_entry, run)) < 0 ||
	    dr_ktable_init(&f->targets, (uint32_t)env->param[P_TARGETS], DR_AKEY,
			   sizeof(struct dst_entry), offsetof(struct dst_entry, baseline)) < 0) {
		dr_ktable_fini(&f->sources);
		free(f);
		return NULL;
	}
	dr_ktable_set_judge(&f->sources, judge_source, (void *)env);
	dr_ktable_set_judge(&f->targets, judge_target, (void *)env);
	return f;
}

/* Majority vote (Boyer-Moore) over the ports a key's packets go to. */
static void vote_port(uint16_t *port, uint16_t *votes, uint16_t p)
{
	if (*votes == 0) {
		*port = p;
		*votes = 1;
	} else if (*port == p) {
		*votes += *votes < UINT16_MAX;
	} else {
		(*votes)--;
	}
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

/* Not DNS: a message that did not parse (an aggregate, which carries no
 * payload, never is). */
static int is_junk(const struct dr_record *r)
{
	return r->kind == DR_KIND_DNS && r->dns.malformed != 0;
}

static void flood_record(void *st, const struct dr_record *r, const struct dr_detect_env *env)
{
	struct flood *f = st;
	double ts = dr_record_time(r);
	uint64_t pkts = r->packets, bytes = r->bytes;
	int64_t now = env->now;
	const struct dr_akey *src = &r->keys.src, *dst = &r->keys.dst;
	int sport_dns = dr_port_test(env->dns_ports, r->sport);
	/* A resolver that queries from port 53 gets its answers at port 53:
	 * a well-formed response from a DNS port is an answer wherever it goes. */
	int answer = r->kind == DR_KIND_FLOW ? sport_dns
					     : sport_dns && dr_dns_qr(&r->dns) && !r->dns.malformed;
	if (!dr_port_test(env->dns_ports, r->dport) || answer) {
		if (sport_dns) {
			/* an answer: the source it goes to is in an exchange */
			struct src_entry *s = dr_ktable_find(&f->sources, dst->b, dst->len, dst->hash,
							     now, ts);
			if (s)
				s->answers += pkts;
			/* ...and the target that answers is not drowning */
			struct dst_entry *t = dr_ktable_find(&f->targets, src->b, src->len, src->hash,
							     now, ts);
			if (t)
				t->answers += pkts;
		}
		return;
	}
	uint64_t junk = is_junk(r) ? pkts : 0;
	struct src_entry *s = dr_ktable_hit_record(&f->sources, src->b, src->len, src->hash, now, r);
	s->sent += pkts;
	s->sent_bytes += bytes;
	s->junk += junk;
	dr_top4_add(&s->targets, dst->b, pkts);
	vote_port(&s->port, &s->port_votes, r->dport);

	struct dst_entry *t = dr_ktable_hit_record(&f->targets, dst->b, dst->len, dst->hash, now, r);
	t->received += pkts;
	t->received_bytes += bytes;
	t->junk += junk;
	dr_few_add(&t->sources, src->hash);
	dr_top4_add(&t->top, src->b, pkts);
	vote_port(&t->port, &t->port_votes, r->dport);
}

static uint8_t payload_kind(uint64_t junk, uint64_t pkts)
{
	if (junk * 10 >= pkts * 9)
		return DR_PAYLOAD_JUNK;
	if (junk * 10 <= pkts)
		return DR_PAYLOAD_DNS;
	return DR_PAYLOAD_MIXED;
}

static int severity(double bps)
{
	return bps >= 1e9 ? DR_SEV_CRITICAL : bps >= 1e8 ? DR_SEV_HIGH : DR_SEV_MEDIUM;
}

static void judge_source(void *ctx, void *entry, const uint8_t *key, uint32_t klen, int64_t sec)
{
	const struct dr_detect_env *env = ctx;
	const double *p = env->param;
	struct src_entry *s = entry;
	(void)klen;

	double pps = (double)s->sent;
	int cond = (pps >= p[P_SOURCE_PPS] ||
		    (pps >= p[P_JUNK_PPS] && (double)s->junk >= p[P_JUNK_SHARE] * pps)) &&
		   s->answers * 2 < s->sent;
	if (!cond) {
		dr_run_break(&s->run);
		return;
	}
	if (dr_run_add(&s->run, sec, &s->w) < (uint32_t)p[P_MIN_SECONDS])
		return;
	struct dr_evidence ev = {.kind = DR_EV_FLOOD};
	struct dr_ev_flood *x = &ev.u.flood;
	x->by_source = 1;
	dr_ev_addr_set(&x->source, key, 32, 128);
	dr_ev_addr_set(&x->target, s->targets.key[dr_top4_best(&s->targets)], 32, 128);
	x->port = s->port;
	x->pps = pps;
	x->bps = (double)s->sent_bytes * 8;
	x->junk_share = pps ? (double)s->junk / pps : 0;
	x->payload = payload_kind(s->junk, s->sent);
	char who[64];
	dr_akey_text(key, who);
	dr_fire_window(env, "flood", who, &s->run, &s->w, pps, severity(x->bps), &ev);
}

static void judge_target(void *ctx, void *entry, const uint8_t *key, uint32_t klen, int64_t sec)
{
	const struct dr_detect_env *env = ctx;
	const double *p = env->param;
	struct dst_entry *t = entry;
	(void)klen;

	double pps = (double)t->received;
	unsigned best = dr_top4_best(&t->top);
	int spread = t->top.count[best] * 2 < t->received;
	int cond = pps >= p[P_TARGET_PPS] && spread && t->answers * 2 < t->received &&
		   (t->warm < 5 || pps >= p[P_TARGET_FACTOR] * t->baseline);
	if (!cond) {
		t->baseline = t->warm ? 0.9 * t->baseline + 0.1 * pps : pps;
		t->warm++;
		dr_run_break(&t->run);
		return;
	}
	if (dr_run_add(&t->run, sec, &t->w) < (uint32_t)p[P_MIN_SECONDS])
		return;
	struct dr_evidence ev = {.kind = DR_EV_FLOOD};
	struct dr_ev_flood *x = &ev.u.flood;
	dr_ev_addr_set(&x->target, key, 32, 128);
	x->port = t->port;
	x->pps = pps;
	x->bps = (double)t->received_bytes * 8;
	x->junk_share = pps ? (double)t->junk / pps : 0;
	x->payload = payload_kind(t->junk, t->received);
	dr_ev_list_set(&x->sources, &t->top, 32, 128, t->sources.n, t->sources.n >= DR_FEW_MAX);
	char who[64];
	dr_akey_text(key, who);
	dr_fire_window(env, "flood", who, &t->run, &t->w, pps, severity(x->bps), &ev);
}

static uint64_t flood_unjudged(const void *st)
{
	const struct flood *f = st;
	return f->sources.unjudged + f->targets.unjudged;
}

static void flood_tick(void *st, int64_t before, const struct dr_detect_env *env)
{
	struct flood *f = st;
	(void)env;
	dr_ktable_flush(&f->sources, before);
	dr_ktable_flush(&f->targets, before);
}

const struct dr_detector dr_detect_flood = {
	.name = "flood",
	.summary = "floods towards DNS ports: the flooding source, or the target when sources are spread",
	.kinds = DR_KIND_DNS | DR_KIND_FLOW,
	.params = params, .nparams = P_COUNT,
	.init = flood_init, .on_record = flood_record, .on_tick = flood_tick,
	.mem = flood_mem, .unjudged = flood_unjudged, .fini = flood_fini,
};
