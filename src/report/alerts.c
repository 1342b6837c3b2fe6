/* Alerts rendered from their typed evidence: sentences, JSON, events. */
#include "report/alerts.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"
#include "decode/dns.h"

void dr_fmt_bps(char *buf, size_t len, double bps)
{
	if (bps >= 1e9)
		snprintf(buf, len, "%.2f Gbit/s", bps / 1e9);
	else if (bps >= 1e6)
		snprintf(buf, len, "%.1f Mbit/s", bps / 1e6);
	else if (bps >= 1e3)
		snprintf(buf, len, "%.1f kbit/s", bps / 1e3);
	else
		snprintf(buf, len, "%.0f bit/s", bps);
}

/* An address (or prefix) of the evidence as text, into buf (>= 64). */
static const char *addr_text(const struct dr_ev_addr *a, char *buf)
{
	if (a->family != 4 && a->family != 6) {
		snprintf(buf, 64, "-");
		return buf;
	}
	size_t n = dr_addr_text(a->family, a->a, buf);
	unsigned full = a->family == 4 ? 32 : 128;
	if (a->prefix_len && a->prefix_len < full)
		snprintf(buf + n, 64 - n, "/%u", a->prefix_len);
	return buf;
}

static const char *qtype_text(uint16_t qtype)
{
	const char *t = dr_qtype_name(qtype);
	return t ? t : "other";
}

static const char *const alphabet_names[DR_ALPHA_CLASSES] = {"a-z", "0-9", "a-z0-9", "mixed"};
static const char *const payload_names[] = {"DNS queries", "mixed DNS and junk",
					    "not DNS (junk payloads)"};

/* snprintf that says when it cut: 0, or -1. */
static int put(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int put(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int dr_alert_summary(const struct dr_alert *a, char *buf, size_t len)
{
	const struct dr_evidence *ev = &a->ev;
	char rate[32], x1[64], x2[64];
	dr_fmt_bps(rate, sizeof(rate), a->last_bps);
	switch (ev->kind) {
	case DR_EV_REFLECTION: {
		const struct dr_ev_reflection *x = &ev->u.reflection;
		char amplified[32] = "";
		if (x->factor >= 0)
			snprintf(amplified, sizeof(amplified), ", amplified %.1fx", x->factor);
		const char *more = x->victims.at_least ? "+" : "";
		return put(buf, len, "%s answers DNS for others: %.0f responses/s (%s) to %u%s "
			   "destination%s, mostly %s; question %s %s%s", a->key, x->responses_per_s,
			   rate, x->victims.distinct, more, x->victims.distinct == 1 ? "" : "s",
			   x->victims.n ? addr_text(&x->victims.item[0].addr, x1) : "-",
			   x->qname[0] ? x->qname : "(various)", x->qname[0] ? qtype_text(x->qtype) : "",
			   amplified);
	}
	case DR_EV_AMPLIFICATION: {
		const struct dr_ev_amplification *x = &ev->u.amplification;
		return put(buf, len, "%s receives %.0f DNS responses/s (%s, %.0f octets on average, "
			   "%.0f%% fragmented) from %u%s reflectors it never queried, to port %u; "
			   "question %s %s", a->key, (double)x->responses, rate, x->average_size,
			   x->fragment_share * 100, x->reflectors.distinct,
			   x->reflectors.at_least ? "+" : "", x->victim_port, x->qname,
			   qtype_text(x->qtype));
	}
	case DR_EV_RANDOM_SUBDOMAIN: {
		const struct dr_ev_random_subdomain *x = &ev->u.random_subdomain;
		return put(buf, len, "%s is asked for %.0f never-seen names per second (%.0f "
			   "queries/s), first labels of %u characters from [%s], %s%.0f%% NXDOMAIN; "
			   "e.g. %s", x->zone, x->distinct_per_s, x->queries_per_s, x->len_mode,
			   alphabet_names[x->alphabet % DR_ALPHA_CLASSES],
			   x->nxdomain_share >= 0 ? "" : "no answers seen, ",
			   x->nxdomain_share >= 0 ? x->nxdomain_share * 100 : 0,
			   x->nsamples ? x->samples[0] : "");
	}
	case DR_EV_FLOOD: {
		const struct dr_ev_flood *x = &ev->u.flood;
		const char *what = payload_names[x->payload % 3];
		if (x->by_source)
			return put(buf, len, "%s floods %s port %u with %.0f packets/s (%s), %s", a->key,
				   addr_text(&x->target, x1), x->port, x->pps, rate, what);
		return put(buf, len, "%s receives %.0f packets/s (%s) on port %u from %u%s sources, %s",
			   a->key, x->pps, rate, x->port, x->sources.distinct,
			   x->sources.at_least ? "+" : "", what);
	}
	case DR_EV_LOOP: {
		const struct dr_ev_loop *x = &ev->u.loop;
		const char *rcode = dr_rcode_name(x->rcode);
		return put(buf, len, "%s port %u and %s port %u bounce %.0f + %.0f packets/s (%s) of "
			   "errors at each other: %s answers, payload \"%.40s\", IP TTL %s",
			   addr_text(&x->peer, x1), x->peer_port, addr_text(&x->server, x2),
			   x->server_port, x->pps_to_server, x->pps_to_peer, rate,
			   rcode ? rcode : "error", x->payload,
			   x->ttl_constant ? "constant (one real host, not spoofed)" : "varying");
	}
	default:
		return put(buf, len, "%s %s", a->type, a->key);
	}
}

int dr_alert_advice(const struct dr_alert *a, char *buf, size_t len)
{
	const struct dr_evidence *ev = &a->ev;
	char x1[64], x2[64];
	switch (ev->kind) {
	case DR_EV_REFLECTION:
		return put(buf, len, "stop %s from answering outsiders: close port 53 or recursion to "
			   "the Internet (firewall/ACL), or enable response rate limiting; then find out "
			   "who runs it (an open resolver, a reset home router)", a->key);
	case DR_EV_AMPLIFICATION:
		return put(buf, len, "protect %s: ask upstream to filter udp source port 53 (and "
			   "fragments) towards it (Flowspec or RTBH); the reflectors are open resolvers, "
			   "report them to their networks", a->key);
	case DR_EV_RANDOM_SUBDOMAIN: {
		const char *zone = ev->u.random_subdomain.zone;
		return put(buf, len, "water torture on %s: rate-limit NXDOMAIN answers for *.%s per "
			   "querying resolver (dnsdist dynamic block on the suffix, RRL), keep the zone's "
			   "servers' capacity, and tell the operators of the top resolvers", zone, zone);
	}
	case DR_EV_FLOOD: {
		const struct dr_ev_flood *x = &ev->u.flood;
		if (x->by_source)
			return put(buf, len, "drop it at the edge: nft add rule inet filter input %s "
				   "saddr %s udp dport %u drop; then find the compromised host or script "
				   "behind it", x->source.family == 6 ? "ip6" : "ip", a->key, x->port);
		return put(buf, len, "rate-limit port %u towards %s (nftables limit, dnsdist dynamic "
			   "blocks) and ask upstream to filter or blackhole the flood", x->port, a->key);
	}
	case DR_EV_LOOP: {
		const struct dr_ev_loop *x = &ev->u.loop;
		addr_text(&x->peer, x2);
		return put(buf, len, "break the loop: enable response rate limiting (RRL) on %s, a "
			   "single dropped answer ends it; or drop udp from %s port %u to port %u; last "
			   "resort: null-route %s", addr_text(&x->server, x1), x2, x->peer_port,
			   x->server_port, x2);
	}
	default:
		return put(buf, len, "look at the evidence");
	}
}

/* [{"address": A, count_name: N}, ...] */
static void json_list(struct dr_out *o, const struct dr_ev_list *l, const char *count_name)
{
	char t[64];
	dr_out_char(o, '[');
	for (unsigned i = 0; i < l->n; i++) {
		int f = 1;
		if (i)
			dr_out_char(o, ',');
		dr_out_char(o, '{');
		dr_out_js(o, "address", addr_text(&l->item[i].addr, t), &f);
		dr_out_ju(o, count_name, l->item[i].count, &f);
		dr_out_char(o, '}');
	}
	dr_out_char(o, ']');
}

static void json_evidence(struct dr_out *o, const struct dr_alert *a)
{
	const struct dr_evidence *ev = &a->ev;
	char t[64];
	int f = 1;
	dr_out_char(o, '{');
	switch (ev->kind) {
	case DR_EV_REFLECTION: {
		const struct dr_ev_reflection *x = &ev->u.reflection;
		dr_out_js(o, "rule", x->rule == DR_REFL_LOCAL_NON_RESOLVER ? "local non-resolver"
									    : "repeated large answers", &f);
		static const char *const abuse[] = {"repeated", "amplified", "recursion",
						    "concentrated"};
		dr_out_jkey(o, "abuse", &f);
		dr_out_char(o, '[');
		for (unsigned i = 0, n = 0; i < 4; i++)
			if (x->abuse & (1u << i)) {
				if (n++)
					dr_out_char(o, ',');
				dr_out_json_str(o, abuse[i], strlen(abuse[i]));
			}
		dr_out_char(o, ']');
		dr_out_jkey(o, "victims", &f);
		json_list(o, &x->victims, "responses");
		dr_out_ju(o, "destinations", x->victims.distinct, &f);
		dr_out_jb(o, "destinations_at_least", x->victims.at_least, &f);
		dr_out_jkey(o, "questions", &f);
		dr_out_char(o, '[');
		int g = 1;
		dr_out_char(o, '{');
		dr_out_js(o, "qname", x->qname, &g);
		dr_out_js(o, "qtype", qtype_text(x->qtype), &g);
		dr_out_jd(o, "share", x->share, 3, &g);
		dr_out_str(o, "}]");
		dr_out_jd_or_null(o, "amplification_factor", x->factor >= 0, x->factor, 1, &f);
		dr_out_jd(o, "responses_per_s", x->responses_per_s, 0, &f);
		dr_out_jd(o, "queries_per_s", x->queries_per_s, 0, &f);
		dr_out_jd(o, "average_size", x->average_size, 0, &f);
		dr_out_jd(o, "recursion_available_share", x->ra_share, 3, &f);
		dr_out_jd(o, "authoritative_share", x->authoritative_share, 3, &f);
		dr_out_jd(o, "repeated_share", x->repeated_share, 3, &f);
		dr_out_jd(o, "top_destinations_share", x->top_destinations_share, 3, &f);
		break;
	}
	case DR_EV_AMPLIFICATION: {
		const struct dr_ev_amplification *x = &ev->u.amplification;
		dr_out_js(o, "victim", addr_text(&x->victim, t), &f);
		dr_out_ju(o, "reflectors", x->reflectors.distinct, &f);
		dr_out_jb(o, "reflectors_at_least", x->reflectors.at_least, &f);
		dr_out_jkey(o, "top_reflectors", &f);
		json_list(o, &x->reflectors, "responses");
		dr_out_jd(o, "fragment_share", x->fragment_share, 3, &f);
		dr_out_jd(o, "average_size", x->average_size, 0, &f);
		dr_out_ju(o, "queries_from_victim", x->queries_from_victim, &f);
		dr_out_ju(o, "responses", x->responses, &f);
		dr_out_ju(o, "victim_port", x->victim_port, &f);
		dr_out_js(o, "question", x->qname, &f);
		dr_out_js(o, "qtype", qtype_text(x->qtype), &f);
		break;
	}
	case DR_EV_RANDOM_SUBDOMAIN: {
		const struct dr_ev_random_subdomain *x = &ev->u.random_subdomain;
		dr_out_js(o, "zone", x->zone, &f);
		dr_out_jd(o, "distinct_names_per_s", x->distinct_per_s, 0, &f);
		dr_out_jd(o, "queries_per_s", x->queries_per_s, 0, &f);
		dr_out_jd_or_null(o, "nxdomain_share", x->nxdomain_share >= 0, x->nxdomain_share, 3, &f);
		dr_out_jkey(o, "label_length", &f);
		int g = 1;
		dr_out_char(o, '{');
		dr_out_ju(o, "mode", x->len_mode, &g);
		dr_out_ju(o, "min", x->len_min, &g);
		dr_out_ju(o, "max", x->len_max, &g);
		dr_out_char(o, '}');
		dr_out_js(o, "alphabet", alphabet_names[x->alphabet % DR_ALPHA_CLASSES], &f);
		dr_out_jd(o, "alphabet_share", x->alphabet_share, 3, &f);
		dr_out_jkey(o, "samples", &f);
		dr_out_char(o, '[');
		for (unsigned i = 0; i < x->nsamples && i < DR_EV_SAMPLES; i++) {
			if (i)
				dr_out_char(o, ',');
			dr_out_json_str(o, x->samples[i], strlen(x->samples[i]));
		}
		dr_out_char(o, ']');
		dr_out_jkey(o, "top_resolvers", &f);
		json_list(o, &x->resolvers, "queries");
		dr_out_jkey(o, "top_prefixes", &f);
		json_list(o, &x->prefixes, "queries");
		break;
	}
	case DR_EV_FLOOD: {
		const struct dr_ev_flood *x = &ev->u.flood;
		if (x->by_source)
			dr_out_js(o, "source", addr_text(&x->source, t), &f);
		dr_out_js(o, "target", addr_text(&x->target, t), &f);
		dr_out_ju(o, "port", x->port, &f);
		dr_out_jd(o, "pps", x->pps, 0, &f);
		dr_out_jd(o, "bps", x->bps, 0, &f);
		dr_out_js(o, "payload", payload_names[x->payload % 3], &f);
		dr_out_jd(o, "junk_share", x->junk_share, 3, &f);
		if (!x->by_source) {
			dr_out_ju(o, "sources", x->sources.distinct, &f);
			if (x->sources.at_least)
				dr_out_jb(o, "sources_at_least", 1, &f);
			dr_out_jkey(o, "top_sources", &f);
			json_list(o, &x->sources, "packets");
		}
		break;
	}
	case DR_EV_LOOP: {
		const struct dr_ev_loop *x = &ev->u.loop;
		const char *rcode = dr_rcode_name(x->rcode);
		dr_out_js(o, "server", addr_text(&x->server, t), &f);
		dr_out_ju(o, "server_port", x->server_port, &f);
		dr_out_js(o, "peer", addr_text(&x->peer, t), &f);
		dr_out_ju(o, "peer_port", x->peer_port, &f);
		dr_out_jd(o, "pps_to_server", x->pps_to_server, 0, &f);
		dr_out_jd(o, "pps_to_peer", x->pps_to_peer, 0, &f);
		dr_out_js(o, "rcode", rcode ? rcode : "other", &f);
		dr_out_ju(o, "qtype", x->qtype, &f);
		dr_out_js(o, "payload", x->payload, &f);
		dr_out_jb(o, "ttl_constant", x->ttl_constant, &f);
		dr_out_ju(o, "ttl_min", x->ttl_min, &f);
		dr_out_ju(o, "ttl_max", x->ttl_max, &f);
		break;
	}
	default:
		break;
	}
	if (ev->from_flows) {
		dr_out_jb(o, "from_flows", 1, &f);
		dr_out_ju(o, "sampling", ev->sampling, &f);
		if (ev->exporter.family)
			dr_out_js(o, "exporter", addr_text(&ev->exporter, t), &f);
	}
	dr_out_char(o, '}');
}

void dr_alert_json(struct dr_out *o, const struct dr_alert *a)
{
	char text[1024];
	int f = 1;
	dr_out_char(o, '{');
	dr_out_js(o, "type", a->type ? a->type : "", &f);
	dr_out_js(o, "key", a->key, &f);
	dr_out_ju(o, "id", a->id, &f);
	dr_out_jd(o, "start", a->start, 6, &f);
	dr_out_jd(o, "detected", a->detected, 6, &f);
	dr_out_jd(o, "end", a->end, 6, &f);
	dr_out_js(o, "severity", dr_severity_name(a->severity), &f);
	dr_out_js(o, "state", a->closed ? "closed" : "open", &f);
	dr_out_ju(o, "packets", a->packets, &f);
	dr_out_ju(o, "bytes", a->bytes, &f);
	dr_out_jd(o, "peak_pps", a->peak_pps, 1, &f);
	dr_out_jd(o, "peak_bps", a->peak_bps, 1, &f);
	dr_out_ju(o, "seconds_fired", a->windows, &f);
	dr_alert_summary(a, text, sizeof(text));
	dr_out_js(o, "summary", text, &f);
	dr_alert_advice(a, text, sizeof(text));
	dr_out_js(o, "action", text, &f);
	dr_out_jkey(o, "evidence", &f);
	json_evidence(o, a);
	dr_out_char(o, '}');
}

const char *dr_alert_event_name(enum dr_alert_event event)
{
	switch (event) {
	case DR_EVENT_OPEN: return "open";
	case DR_EVENT_UPDATE: return "update";
	case DR_EVENT_CLOSE: return "close";
	default: return "unknown";
	}
}

void dr_alert_event_json(struct dr_out *o, enum dr_alert_event event, const struct dr_alert *a)
{
	int f = 1;
	dr_out_char(o, '{');
	dr_out_js(o, "event", dr_alert_event_name(event), &f);
	dr_out_jkey(o, "alert", &f);
	dr_alert_json(o, a);
	dr_out_str(o, "}\n");
}

int dr_alert_log_init(struct dr_alert_log *log, unsigned cap)
{
	memset(log, 0, sizeof(*log));
	log->a = calloc(cap ? cap : 1, sizeof(*log->a));
	log->cap = cap;
	return log->a ? 0 : DR_ENOMEM;
}

void dr_alert_log_fini(struct dr_alert_log *log)
{
	free(log->a);
	memset(log, 0, sizeof(*log));
}

void dr_alert_log_sink(void *ctx, enum dr_alert_event event, const struct dr_alert *a)
{
	struct dr_alert_log *log = ctx;
	if (event != DR_EVENT_CLOSE)
		return;
	if (log->n == log->cap) {
		log->dropped++;
		return;
	}
	log->a[log->n++] = *a;
}

static int by_start(const void *pa, const void *pb)
{
	const struct dr_alert *a = pa, *b = pb;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	int c = strcmp(a->type, b->type);
	return c ? c : strcmp(a->key, b->key);
}

void dr_alert_log_sort(struct dr_alert_log *log)
{
	qsort(log->a, log->n, sizeof(*log->a), by_start);
}
