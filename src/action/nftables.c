/* The nftables backend, through libnftables: one table of ours (inet
 * dnsradar by default) holding sets with per-element timeouts and the
 * rules that reference them, created once in one transaction. Nothing
 * else of the host's ruleset is touched. An action is one set element;
 * applying it again refreshes its timeout, and the kernel removes it when
 * the timeout passes even if dnsradar is gone.
 *
 * Sets (4 and 6 of each), and what their elements stop:
 *   src    saddr . dport            drop-source: a flood's source to the DNS port
 *   rate   daddr . dport            rate-limit: over `rate` packets a second per
 *                                   target, counted in the dynamic set meter
 *   peer   saddr . sport . daddr . dport
 *                                   drop-peer: one peer's port to one server's
 *   resp   saddr . daddr            drop-responses: a local responder's answers to a victim
 *   rall   saddr                    drop-responses to anyone
 *   refl   daddr                    drop-reflected: answers from port 53 longer than
 *                                   `length`, and fragments, to a victim
 * Addresses reach the command text only as inet_ntop formats them from
 * binary: libnftables resolves anything else as a host name. */
#include "action/backend.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action/respond.h"

#define CMD_MAX 8192

struct nft {
	struct nft_ctx *ctx;
	char table[32];
	char hook[16];
	unsigned rate, length;
};

static const char *set_of(int kind, int v6, int to_anyone)
{
	switch (kind) {
	case DR_ACT_DROP_SOURCE: return v6 ? "src6" : "src4";
	case DR_ACT_RATE_LIMIT: return v6 ? "rate6" : "rate4";
	case DR_ACT_DROP_PEER: return v6 ? "peer6" : "peer4";
	case DR_ACT_DROP_RESPONSES:
		if (to_anyone)
			return v6 ? "rall6" : "rall4";
		return v6 ? "resp6" : "resp4";
	case DR_ACT_DROP_REFLECTED: return v6 ? "refl6" : "refl4";
	default: return NULL;
	}
}

static int ntop(const struct dr_ev_addr *a, char *buf, size_t len)
{
	return dr_action_addr_text(a, buf, len);
}

/* "SET { ELEMENT[ timeout Ns] }" of an action; -1 when the kind is not ours. */
static int element(const struct dr_action *a, double ttl, char *buf, size_t len)
{
	char x[INET6_ADDRSTRLEN], y[INET6_ADDRSTRLEN], t[32] = "";
	int v6 = a->addr.family == 6;
	int anyone = a->kind == DR_ACT_DROP_RESPONSES && !a->addr2.family;
	const char *set = set_of(a->kind, v6, anyone);
	if (!set || ntop(&a->addr, x, sizeof(x)) < 0)
		return -1;
	if (ttl > 0)
		snprintf(t, sizeof(t), " timeout %.0fs", ttl < 1 ? 1 : ttl);
	int n;
	switch (a->kind) {
	case DR_ACT_DROP_SOURCE:
	case DR_ACT_RATE_LIMIT:
		n = snprintf(buf, len, "%s { %s . %u%s }", set, x, a->port, t);
		break;
	case DR_ACT_DROP_PEER:
		if (ntop(&a->addr2, y, sizeof(y)) < 0 || a->addr2.family != a->addr.family)
			return -1;
		n = snprintf(buf, len, "%s { %s . %u . %s . %u%s }", set, x, a->port, y, a->port2, t);
		break;
	case DR_ACT_DROP_RESPONSES:
		if (anyone) {
			n = snprintf(buf, len, "%s { %s%s }", set, x, t);
			break;
		}
		if (ntop(&a->addr2, y, sizeof(y)) < 0 || a->addr2.family != a->addr.family)
			return -1;
		n = snprintf(buf, len, "%s { %s . %s%s }", set, x, y, t);
		break;
	default:	/* drop-reflected */
		n = snprintf(buf, len, "%s { %s%s }", set, x, t);
	}
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* Text appended to a buffer; the first overflow sticks. */
struct text {
	char *p, *end;
	int bad;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	if (t->bad)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(t->p, (size_t)(t->end - t->p), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= t->end - t->p)
		t->bad = 1;
	else
		t->p += n;
}

/* The name of an empty set that says which settings the rules were made
 * with (hook, rate, length): a table made with others is made again. */
static void marker(const char *hook, unsigned rate, unsigned length, char *buf, size_t len)
{
	snprintf(buf, len, "made_%s_r%u_l%u", hook, rate, length);
}

/* The setup batch: the table, its sets, chains and rules. */
static int setup_text(const char *table, const char *hook, unsigned rate, unsigned length,
		      char *buf, size_t len)
{
	int prerouting = !strcmp(hook, "prerouting"), input = !strcmp(hook, "input");
	const char *prio = prerouting ? "raw" : "filter - 10";
	struct text t = {buf, buf + len, 0};
	add(&t, "add table inet %s\n", table);
	static const struct { const char *name, *type; } sets[] = {
		{"src4", "ipv4_addr . inet_service"}, {"src6", "ipv6_addr . inet_service"},
		{"rate4", "ipv4_addr . inet_service"}, {"rate6", "ipv6_addr . inet_service"},
		{"peer4", "ipv4_addr . inet_service . ipv4_addr . inet_service"},
		{"peer6", "ipv6_addr . inet_service . ipv6_addr . inet_service"},
		{"resp4", "ipv4_addr . ipv4_addr"}, {"resp6", "ipv6_addr . ipv6_addr"},
		{"rall4", "ipv4_addr"}, {"rall6", "ipv6_addr"},
		{"refl4", "ipv4_addr"}, {"refl6", "ipv6_addr"},
	};
	for (unsigned i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		add(&t, "add set inet %s %s { type %s; flags timeout; }\n", table, sets[i].name,
		    sets[i].type);
	char mark[64];
	marker(hook, rate, length, mark, sizeof(mark));
	add(&t, "add set inet %s %s { type ipv4_addr; }\n", table, mark);
	add(&t, "add set inet %s meter4 { type ipv4_addr . inet_service; size 65535; "
	    "flags dynamic, timeout; timeout 60s; }\n", table);
	add(&t, "add set inet %s meter6 { type ipv6_addr . inet_service; size 65535; "
	    "flags dynamic, timeout; timeout 60s; }\n", table);
	add(&t, "add chain inet %s filter { type filter hook %s priority %s; policy accept; }\n",
	    table, hook, prio);
	/* the host answering itself sends from output; a router sees both ways */
	const char *resp_chain = input ? "out" : "filter";
	if (input)
		add(&t, "add chain inet %s out { type filter hook output priority filter - 10; "
		    "policy accept; }\n", table);
	static const char *const fam[2][2] = {{"ip", "4"}, {"ip6", "6"}};
	for (int f = 0; f < 2; f++) {
		const char *ip = fam[f][0], *v = fam[f][1];
		add(&t, "add rule inet %s filter meta l4proto { tcp, udp } %s saddr . th dport @src%s "
		    "counter drop\n", table, ip, v);
		add(&t, "add rule inet %s filter meta l4proto { tcp, udp } %s daddr . th dport @rate%s "
		    "update @meter%s { %s daddr . th dport limit rate over %u/second burst %u "
		    "packets } counter drop\n", table, ip, v, v, ip, rate, rate);
		add(&t, "add rule inet %s filter meta l4proto udp %s saddr . udp sport . %s daddr . "
		    "udp dport @peer%s counter drop\n", table, ip, ip, v);
		add(&t, "add rule inet %s %s meta l4proto udp %s saddr . %s daddr @resp%s udp sport 53 "
		    "counter drop\n", table, resp_chain, ip, ip, v);
		add(&t, "add rule inet %s %s meta l4proto udp %s saddr @rall%s udp sport 53 "
		    "counter drop\n", table, resp_chain, ip, v);
		add(&t, "add rule inet %s filter %s daddr @refl%s udp sport 53 meta length > %u "
		    "counter drop\n", table, ip, v, length);
	}
	add(&t, "add rule inet %s filter ip daddr @refl4 ip frag-off & 0x1fff != 0 counter drop\n",
	    table);
	add(&t, "add rule inet %s filter ip6 daddr @refl6 exthdr frag exists counter drop\n", table);
	return t.bad ? -1 : 0;
}

static int run(struct nft *s, const char *cmd, char *err, size_t errlen)
{
	if (nft_run_cmd_from_buffer(s->ctx, cmd) == 0)
		return 0;
	const char *e = nft_ctx_get_error_buffer(s->ctx);
	size_t n = e ? strcspn(e, "\n") : 0;	/* the first line says why */
	snprintf(err, errlen, "nft: %.*s", (int)n, n ? e : "failed");
	return -1;
}

static int nft_open(void **state, const struct dr_respond_config *c, char *err, size_t errlen)
{
	struct nft *s = calloc(1, sizeof(*s));
	if (!s || !(s->ctx = nft_ctx_new(NFT_CTX_DEFAULT))) {
		snprintf(err, errlen, "firewall = nftables: cannot set up libnftables");
		free(s);
		return -1;
	}
	nft_ctx_buffer_output(s->ctx);
	nft_ctx_buffer_error(s->ctx);
	snprintf(s->table, sizeof(s->table), "%s", c->table);
	snprintf(s->hook, sizeof(s->hook), "%s", c->hook);
	s->rate = c->policy.rate;
	s->length = c->policy.length;
	*state = s;
	return 0;
}

static void nft_close(void *state)
{
	struct nft *s = state;
	if (!s)
		return;
	nft_ctx_free(s->ctx);
	free(s);
}

/* The table as JSON (NULL when it is absent or unreadable: err says). */
static json_t *list_table(struct nft *s, char *err, size_t errlen)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "list table inet %s", s->table);
	nft_ctx_output_set_flags(s->ctx, NFT_CTX_OUTPUT_JSON);
	int rc = run(s, cmd, err, errlen);
	nft_ctx_output_set_flags(s->ctx, 0);
	if (rc < 0)
		return NULL;
	json_error_t je;
	json_t *doc = json_loads(nft_ctx_get_output_buffer(s->ctx), 0, &je);
	if (!doc)
		snprintf(err, errlen, "nft: cannot read its JSON: %s", je.text);
	return doc;
}

/* How many objects of a kind the table holds; *named: whether a set of
 * that name is among them. */
static unsigned count_objects(json_t *doc, const char *what, const char *name, int *named)
{
	json_t *arr = json_object_get(doc, "nftables"), *it;
	size_t i;
	unsigned n = 0;
	json_array_foreach(arr, i, it) {
		json_t *o = json_object_get(it, what);
		if (!o)
			continue;
		n++;
		const char *nm = json_string_value(json_object_get(o, "name"));
		if (name && nm && !strcmp(nm, name))
			*named = 1;
	}
	return n;
}

/* 0: the table was there whole; 1: it was (re)created empty. */
static int nft_prepare(void *state, char *err, size_t errlen)
{
	struct nft *s = state;
	char *cmd = malloc(CMD_MAX), why[256];
	if (!cmd) {
		snprintf(err, errlen, "nft: out of memory");
		return -1;
	}
	json_t *doc = list_table(s, why, sizeof(why));
	int whole = 0;
	unsigned chains = !strcmp(s->hook, "input") ? 2 : 1;
	if (doc) {
		/* 15 sets (the marker of these settings one), the chains, and 14
		 * rules: else someone changed it, or the settings did */
		char mark[64];
		int marked = 0;
		marker(s->hook, s->rate, s->length, mark, sizeof(mark));
		whole = count_objects(doc, "set", mark, &marked) == 15 && marked &&
			count_objects(doc, "chain", NULL, NULL) == chains &&
			count_objects(doc, "rule", NULL, NULL) == 14;
		json_decref(doc);
	}
	int rc = 0;
	if (!whole) {
		char *p = cmd;
		size_t room = CMD_MAX;
		if (doc) {	/* partly there: start again, in the same transaction */
			int n = snprintf(cmd, CMD_MAX, "delete table inet %s\n", s->table);
			p += n;
			room -= (size_t)n;
		}
		if (setup_text(s->table, s->hook, s->rate, s->length, p, room) < 0) {
			snprintf(err, errlen, "nft: the setup does not fit");
			rc = -1;
		} else {
			rc = run(s, cmd, err, errlen) < 0 ? -1 : 1;
		}
	}
	free(cmd);
	return rc;
}

static int nft_apply(void *state, const struct dr_action *a, double ttl, char *err, size_t errlen)
{
	struct nft *s = state;
	char el[512], bare[512], cmd[1200];
	struct dr_action k = *a;
	if (element(a, ttl, el, sizeof(el)) < 0 || element(&k, 0, bare, sizeof(bare)) < 0) {
		snprintf(err, errlen, "nft: does not carry %s", dr_action_kind_names[a->kind]);
		return -1;
	}
	/* a refresh: delete and add in one transaction (a re-add does not renew
	 * the timeout on every kernel); the first time, the delete fails */
	snprintf(cmd, sizeof(cmd), "delete element inet %s %s\nadd element inet %s %s\n",
		 s->table, bare, s->table, el);
	if (nft_run_cmd_from_buffer(s->ctx, cmd) == 0)
		return 0;
	snprintf(cmd, sizeof(cmd), "add element inet %s %s", s->table, el);
	return run(s, cmd, err, errlen);
}

static int nft_lift(void *state, const struct dr_action *a, char *err, size_t errlen)
{
	struct nft *s = state;
	char el[512], cmd[700];
	if (element(a, 0, el, sizeof(el)) < 0) {
		snprintf(err, errlen, "nft: does not carry %s", dr_action_kind_names[a->kind]);
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "delete element inet %s %s", s->table, el);
	if (run(s, cmd, err, errlen) == 0)
		return 0;
	/* gone already (expired, flushed): what lifting wanted */
	return strstr(err, "No such file or directory") ? 0 : -1;
}

static int parse_addr(json_t *v, struct dr_ev_addr *a)
{
	return dr_action_addr_parse(json_string_value(v), a);
}

static int port_of(json_t *v, uint16_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 65535)
		return -1;
	*out = (uint16_t)json_integer_value(v);
	return 0;
}

/* One element of set `name` back into an action; -1 when it is not one. */
static int from_element(const struct nft *s, const char *name, json_t *val, struct dr_action *a)
{
	memset(a, 0, sizeof(*a));
	json_t *cat = json_object_get(val, "concat");
	size_t n = cat ? json_array_size(cat) : 0;
	json_t *first = cat ? json_array_get(cat, 0) : val;
	if (parse_addr(first, &a->addr) < 0)
		return -1;
	if (!strncmp(name, "src", 3) || !strncmp(name, "rate", 4)) {
		a->kind = name[0] == 's' ? DR_ACT_DROP_SOURCE : DR_ACT_RATE_LIMIT;
		if (n != 2 || port_of(json_array_get(cat, 1), &a->port) < 0)
			return -1;
		if (a->kind == DR_ACT_RATE_LIMIT)
			a->rate = s->rate;
	} else if (!strncmp(name, "peer", 4)) {
		a->kind = DR_ACT_DROP_PEER;
		if (n != 4 || port_of(json_array_get(cat, 1), &a->port) < 0 ||
		    parse_addr(json_array_get(cat, 2), &a->addr2) < 0 ||
		    port_of(json_array_get(cat, 3), &a->port2) < 0)
			return -1;
	} else if (!strncmp(name, "resp", 4)) {
		a->kind = DR_ACT_DROP_RESPONSES;
		if (n != 2 || parse_addr(json_array_get(cat, 1), &a->addr2) < 0)
			return -1;
	} else if (!strncmp(name, "rall", 4)) {
		a->kind = DR_ACT_DROP_RESPONSES;
	} else if (!strncmp(name, "refl", 4)) {
		a->kind = DR_ACT_DROP_REFLECTED;
		a->length = (uint16_t)s->length;
	} else {
		return -1;
	}
	return 0;
}

static int nft_list(void *state, dr_backend_found_fn found, void *ctx, char *err, size_t errlen)
{
	struct nft *s = state;
	json_t *doc = list_table(s, err, errlen), *it;
	size_t i;
	if (!doc)
		return -1;
	json_array_foreach(json_object_get(doc, "nftables"), i, it) {
		json_t *set = json_object_get(it, "set"), *e;
		const char *name = json_string_value(json_object_get(set, "name"));
		size_t j;
		if (!set || !name || !strncmp(name, "meter", 5) || !strncmp(name, "made_", 5))
			continue;
		json_array_foreach(json_object_get(set, "elem"), j, e) {
			json_t *el = json_object_get(e, "elem");
			json_t *val = el ? json_object_get(el, "val") : e;
			struct dr_action a;
			if (from_element(s, name, val, &a) < 0)
				continue;
			json_t *exp = el ? json_object_get(el, "expires") : NULL;
			found(ctx, &a, exp ? (double)json_integer_value(exp) : 0);
		}
	}
	json_decref(doc);
	return 0;
}

static int nft_render(const struct dr_respond_config *c, const struct dr_action *a, int lift,
		      double ttl, char *buf, size_t len)
{
	char el[512];
	if (element(a, lift ? 0 : ttl, el, sizeof(el)) < 0)
		return -1;
	const char *brace = strchr(el, '{');
	int n = snprintf(buf, len, "nft %s element inet %s %.*s'%s'", lift ? "delete" : "add",
			 c->table, (int)(brace - el), el, brace);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

static int nft_render_setup(const struct dr_respond_config *c, char *buf, size_t len)
{
	return setup_text(c->table, c->hook, c->policy.rate, c->policy.length, buf, len);
}

const struct dr_backend dr_backend_nftables = {
	.name = "nftables",
	.owns_all = 1,
	.kinds = 1u << DR_ACT_DROP_SOURCE | 1u << DR_ACT_RATE_LIMIT | 1u << DR_ACT_DROP_PEER |
		 1u << DR_ACT_DROP_RESPONSES | 1u << DR_ACT_DROP_REFLECTED,
	.open = nft_open,
	.prepare = nft_prepare,
	.apply = nft_apply,
	.lift = nft_lift,
	.list = nft_list,
	.close = nft_close,
	.render = nft_render,
	.render_setup = nft_render_setup,
};
