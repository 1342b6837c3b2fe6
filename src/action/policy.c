/* The policy: which actions an alert gets, read from its typed evidence,
 * and the allowlist no action ever touches. */
#include "action/action.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cidr.h"

const char *const dr_policy_types[DR_POLICY_TYPES] = {
	"reflection", "amplification", "random_subdomain", "flood", "loop",
};

const char *const dr_action_kind_names[DR_ACT_KINDS] = {
	[DR_ACT_DROP_SOURCE] = "drop-source",
	[DR_ACT_RATE_LIMIT] = "rate-limit",
	[DR_ACT_DROP_PEER] = "drop-peer",
	[DR_ACT_DROP_RESPONSES] = "drop-responses",
	[DR_ACT_DROP_REFLECTED] = "drop-reflected",
	[DR_ACT_BLACKHOLE] = "blackhole",
	[DR_ACT_FLOWSPEC] = "flowspec",
	[DR_ACT_RRL] = "rrl",
};

enum dr_action_class dr_action_class_of(int kind)
{
	switch (kind) {
	case DR_ACT_BLACKHOLE:
	case DR_ACT_FLOWSPEC:
		return DR_CLASS_BGP;
	case DR_ACT_RRL:
		return DR_CLASS_SERVER;
	default:
		return DR_CLASS_FIREWALL;
	}
}

static int same_addr(const struct dr_ev_addr *a, const struct dr_ev_addr *b)
{
	if (a->family != b->family)
		return 0;
	if (!a->family)
		return 1;
	return a->prefix_len == b->prefix_len && !memcmp(a->a, b->a, a->family == 4 ? 4 : 16);
}

int dr_action_same(const struct dr_action *a, const struct dr_action *b)
{
	return a->kind == b->kind && same_addr(&a->addr, &b->addr) &&
	       same_addr(&a->addr2, &b->addr2) && a->port == b->port && a->port2 == b->port2 &&
	       a->length == b->length && a->rate == b->rate && !strcmp(a->zone, b->zone);
}

int dr_action_addr_parse(const char *text, struct dr_ev_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (text && inet_pton(AF_INET, text, a->a) == 1)
		a->family = 4, a->prefix_len = 32;
	else if (text && inet_pton(AF_INET6, text, a->a) == 1)
		a->family = 6, a->prefix_len = 128;
	else
		return (memset(a, 0, sizeof(*a)), -1);
	return 0;
}

int dr_action_addr_text(const struct dr_ev_addr *a, char *buf, size_t len)
{
	if ((a->family == 4 || a->family == 6) &&
	    inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->a, buf, (socklen_t)len))
		return 0;
	snprintf(buf, len, "-");
	return -1;
}

void dr_action_describe(const struct dr_action *a, char *buf, size_t len)
{
	char x[INET6_ADDRSTRLEN], y[INET6_ADDRSTRLEN];
	dr_action_addr_text(&a->addr, x, sizeof(x));
	dr_action_addr_text(&a->addr2, y, sizeof(y));
	const char *k = a->kind < DR_ACT_KINDS ? dr_action_kind_names[a->kind] : "?";
	switch (a->kind) {
	case DR_ACT_DROP_SOURCE:
		snprintf(buf, len, "%s %s to port %u", k, x, a->port);
		break;
	case DR_ACT_RATE_LIMIT:
		snprintf(buf, len, "%s %s port %u to %u/s", k, x, a->port, a->rate);
		break;
	case DR_ACT_DROP_PEER:
		snprintf(buf, len, "%s %s port %u to %s port %u", k, x, a->port, y, a->port2);
		break;
	case DR_ACT_DROP_RESPONSES:
		snprintf(buf, len, "%s from %s to %s", k, x, a->addr2.family ? y : "anyone");
		break;
	case DR_ACT_DROP_REFLECTED:
	case DR_ACT_FLOWSPEC:
		snprintf(buf, len, "%s to %s/%u from port 53 over %u octets, and fragments", k, x,
			 a->addr.prefix_len, a->length);
		break;
	case DR_ACT_BLACKHOLE:
		snprintf(buf, len, "%s %s/%u", k, x, a->addr.prefix_len);
		break;
	case DR_ACT_RRL:
		snprintf(buf, len, "%s %s", k, a->zone);
		break;
	default:
		snprintf(buf, len, "%s", k);
	}
}

void dr_policy_defaults(struct dr_policy *p)
{
	memset(p, 0, sizeof(*p));
	static const unsigned kinds[DR_POLICY_TYPES] = {
		1u << DR_ACT_DROP_RESPONSES,
		1u << DR_ACT_FLOWSPEC | 1u << DR_ACT_DROP_REFLECTED,
		1u << DR_ACT_RRL,
		1u << DR_ACT_DROP_SOURCE | 1u << DR_ACT_RATE_LIMIT,
		1u << DR_ACT_DROP_PEER,
	};
	for (unsigned i = 0; i < DR_POLICY_TYPES; i++) {
		p->rule[i].kinds = kinds[i];
		p->rule[i].min_severity = DR_SEV_MEDIUM;
	}
	p->rate = 100;
	p->length = 512;
}

static int type_index(const char *type, size_t n)
{
	for (int i = 0; i < DR_POLICY_TYPES; i++)
		if (strlen(dr_policy_types[i]) == n && !strncmp(dr_policy_types[i], type, n))
			return i;
	return -1;
}

const struct dr_policy_rule *dr_policy_rule_for(const struct dr_policy *p, const char *type)
{
	int t = type ? type_index(type, strlen(type)) : -1;
	return t < 0 ? NULL : &p->rule[t];
}

static int kind_index(const char *name, size_t n)
{
	for (int i = 0; i < DR_ACT_KINDS; i++)
		if (strlen(dr_action_kind_names[i]) == n && !strncmp(dr_action_kind_names[i], name, n))
			return i;
	return -1;
}

static int parse_kinds(const char *value, unsigned *out, char *why, size_t len)
{
	unsigned kinds = 0;
	const char *s = value;
	if (!strcmp(value, "none")) {
		*out = 0;
		return 0;
	}
	while (*s) {
		while (*s == ' ' || *s == ',')
			s++;
		const char *e = s;
		while (*e && *e != ',' && *e != ' ')
			e++;
		if (e == s)
			break;
		int k = kind_index(s, (size_t)(e - s));
		if (k < 0) {
			int n = snprintf(why, len, "no action '%.*s'; give none or some of",
					 (int)(e - s), s);
			for (int i = 0; i < DR_ACT_KINDS && n > 0 && (size_t)n < len; i++)
				n += snprintf(why + n, len - (size_t)n, "%s %s", i ? "," : "",
					      dr_action_kind_names[i]);
			return -1;
		}
		kinds |= 1u << k;
		s = e;
	}
	if (!kinds) {
		snprintf(why, len, "give none or a list of actions, e.g. drop-source, rate-limit");
		return -1;
	}
	*out = kinds;
	return 0;
}

static int severity_of(const char *v)
{
	for (int s = DR_SEV_LOW; s <= DR_SEV_CRITICAL; s++)
		if (!strcmp(v, dr_severity_name(s)))
			return s;
	return -1;
}

static int whole(const char *v, unsigned lo, unsigned hi, unsigned *out, char *why, size_t len)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);
	if (!*v || *end || *v == '-' || n < lo || n > hi) {
		snprintf(why, len, "give a whole number from %u to %u", lo, hi);
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

int dr_policy_set(struct dr_policy *p, const char *key, const char *value, char *why,
		  size_t len)
{
	if (!strcmp(key, "allow")) {
		if (p->nallow == DR_ALLOW_MAX) {
			snprintf(why, len, "at most %d allowlist entries", DR_ALLOW_MAX);
			return -1;
		}
		struct dr_prefix *e = &p->allow[p->nallow];
		if (dr_cidr_parse(value, &e->family, e->addr, &e->len) < 0) {
			snprintf(why, len, "not an address or CIDR prefix (e.g. 192.0.2.0/24, "
				 "2001:db8::/32)");
			return -1;
		}
		p->nallow++;
		return 0;
	}
	if (!strcmp(key, "rate"))
		return whole(value, 1, 10000000, &p->rate, why, len);
	if (!strcmp(key, "length"))
		return whole(value, 0, 65535, &p->length, why, len);
	const char *dot = strchr(key, '.');
	int t = type_index(key, dot ? (size_t)(dot - key) : strlen(key));
	if (t < 0) {
		snprintf(why, len, "no alert type '%.*s'; give reflection, amplification, "
			 "random_subdomain, flood or loop", dot ? (int)(dot - key) : (int)strlen(key), key);
		return -1;
	}
	if (!dot)
		return parse_kinds(value, &p->rule[t].kinds, why, len);
	if (!strcmp(dot + 1, "severity")) {
		int s = severity_of(value);
		if (s < 0) {
			snprintf(why, len, "give low, medium, high or critical");
			return -1;
		}
		p->rule[t].min_severity = s;
		return 0;
	}
	snprintf(why, len, "no setting '%s' of %s; give %s or %s.severity", dot + 1,
		 dr_policy_types[t], dr_policy_types[t], dr_policy_types[t]);
	return -1;
}

int dr_policy_allowed(const struct dr_policy *p, const struct dr_ev_addr *a)
{
	if (a->family == 4) {
		if (a->a[0] == 0 || a->a[0] == 127 || a->a[0] >= 224)
			return 1;
	} else if (a->family == 6) {
		static const uint8_t zero[16];
		if (!memcmp(a->a, zero, 15) && (a->a[15] == 0 || a->a[15] == 1))
			return 1;
		if (a->a[0] == 0xff)
			return 1;
	} else {
		return 1;	/* no address: nothing to act on */
	}
	return dr_prefixes_match(p->allow, p->nallow, a->family, a->a);
}

static void host(struct dr_ev_addr *a)
{
	a->prefix_len = a->family == 4 ? 32 : 128;
}

/* The actions of one kind an alert's evidence gives; how many. */
static unsigned plan_kind(const struct dr_policy *p, int kind, const struct dr_alert *al,
			  struct dr_action *out, unsigned max)
{
	const struct dr_evidence *ev = &al->ev;
	struct dr_action base;
	memset(&base, 0, sizeof(base));
	base.kind = (uint8_t)kind;
	base.alert = al->id;
	snprintf(base.type, sizeof(base.type), "%s", al->type ? al->type : "");
	snprintf(base.key, sizeof(base.key), "%s", al->key);
	if (!max)
		return 0;
	switch (kind) {
	case DR_ACT_DROP_SOURCE:
		if (ev->kind != DR_EV_FLOOD || !ev->u.flood.by_source)
			return 0;
		base.addr = ev->u.flood.source;
		base.port = ev->u.flood.port ? ev->u.flood.port : 53;
		break;
	case DR_ACT_RATE_LIMIT:
		if (ev->kind != DR_EV_FLOOD || ev->u.flood.by_source)
			return 0;
		base.addr = ev->u.flood.target;
		base.port = ev->u.flood.port ? ev->u.flood.port : 53;
		base.rate = p->rate;
		break;
	case DR_ACT_DROP_PEER:
		if (ev->kind != DR_EV_LOOP)
			return 0;
		base.addr = ev->u.loop.peer;
		base.port = ev->u.loop.peer_port;
		base.addr2 = ev->u.loop.server;
		base.port2 = ev->u.loop.server_port ? ev->u.loop.server_port : 53;
		host(&base.addr2);
		break;
	case DR_ACT_DROP_RESPONSES: {
		if (ev->kind != DR_EV_REFLECTION)
			return 0;
		const struct dr_ev_reflection *r = &ev->u.reflection;
		base.addr = r->responder;
		host(&base.addr);
		if (r->victims.n && !r->victims.at_least && r->victims.distinct <= r->victims.n) {
			/* a few victims, all known: drop only towards them */
			unsigned n = 0;
			for (unsigned i = 0; i < r->victims.n && n < max; i++) {
				out[n] = base;
				out[n].addr2 = r->victims.item[i].addr;
				host(&out[n].addr2);
				n++;
			}
			return n;
		}
		break;
	}
	case DR_ACT_DROP_REFLECTED:
	case DR_ACT_BLACKHOLE:
	case DR_ACT_FLOWSPEC:
		if (ev->kind != DR_EV_AMPLIFICATION)
			return 0;
		base.addr = ev->u.amplification.victim;
		if (kind != DR_ACT_BLACKHOLE)
			base.length = (uint16_t)p->length;
		break;
	case DR_ACT_RRL:
		if (ev->kind != DR_EV_RANDOM_SUBDOMAIN || !ev->u.random_subdomain.zone[0])
			return 0;
		snprintf(base.zone, sizeof(base.zone), "%s", ev->u.random_subdomain.zone);
		return (out[0] = base, 1);
	default:
		return 0;
	}
	host(&base.addr);
	out[0] = base;
	return 1;
}

unsigned dr_policy_plan(const struct dr_policy *p, const struct dr_alert *a,
			struct dr_action *out, unsigned max, unsigned *allowed)
{
	int t = a->type ? type_index(a->type, strlen(a->type)) : -1;
	unsigned n = 0;
	if (t < 0 || !p->rule[t].kinds || a->severity < p->rule[t].min_severity)
		return 0;
	for (int k = 0; k < DR_ACT_KINDS && n < max; k++) {
		if (!(p->rule[t].kinds & 1u << k))
			continue;
		unsigned got = plan_kind(p, k, a, out + n, max - n);
		for (unsigned i = 0; i < got; i++) {
			if (k != DR_ACT_RRL && dr_policy_allowed(p, &out[n].addr)) {
				if (allowed)
					(*allowed)++;
				memmove(&out[n], &out[n + 1], (got - i - 1) * sizeof(out[0]));
				continue;
			}
			n++;
		}
	}
	return n;
}
