/* Mitigation: what dnsradar does about an alert, as data. The policy
 * (policy.c) turns an alert's typed evidence, never its prose, into a few
 * actions: each names a kind of traffic to stop and whom it stops (an
 * address, a peer's address and port, a victim, a zone). The backends
 * (backend.h) turn one action into nft, ipset, ExaBGP, GoBGP or resolver
 * configuration text, and apply and lift it. */
#ifndef DR_ACTION_ACTION_H
#define DR_ACTION_ACTION_H

#include <stddef.h>
#include <stdint.h>

#include "detect/alert.h"
#include "detect/evidence.h"
#include "detect/roles.h"

#define DR_ACTIONS_PER_ALERT 8	/* actions one alert may plan */
#define DR_ALLOW_MAX 256	/* allowlist entries */
#define DR_ACTION_TEXT 1024	/* octets of one action's command text */

/* The kinds of traffic an action stops; a policy names them in its list
 * ("respond.flood = drop-source"). */
enum dr_action_kind {
	DR_ACT_DROP_SOURCE = 0,	/* flood by source: addr to dport `port` (firewall) */
	DR_ACT_RATE_LIMIT,	/* flood on a target: to addr, dport `port`, over
				 * rate_limit packets a second (firewall) */
	DR_ACT_DROP_PEER,	/* loop: from addr, sport `port`, to dport 53 (firewall) */
	DR_ACT_DROP_RESPONSES,	/* reflection: from the local responder addr, sport
				 * 53, to victim addr2 (family 0: to anyone) (firewall) */
	DR_ACT_DROP_REFLECTED,	/* amplification, at the victim's edge: to addr from
				 * sport 53 longer than length, and fragments (firewall) */
	DR_ACT_BLACKHOLE,	/* amplification: RTBH of addr with the blackhole
				 * community (BGP) */
	DR_ACT_FLOWSPEC,	/* amplification: Flowspec discard to addr of UDP
				 * sport 53 longer than length, and of fragments (BGP) */
	DR_ACT_RRL,		/* random_subdomain: rate limits of NXDOMAIN under
				 * `zone` for the DNS servers, written to a file */
	DR_ACT_KINDS
};

/* Which backend family carries a kind. */
enum dr_action_class { DR_CLASS_FIREWALL, DR_CLASS_BGP, DR_CLASS_SERVER, DR_CLASSES };

extern const char *const dr_action_kind_names[DR_ACT_KINDS];	/* "drop-source", ... */
enum dr_action_class dr_action_class_of(int kind);

/* One action: what it stops. Two actions are the same (one element in
 * force, shared by the alerts that planned it) when dr_action_same(). */
struct dr_action {
	uint8_t kind;			/* enum dr_action_kind */
	struct dr_ev_addr addr;		/* the address acted on (see the kinds) */
	struct dr_ev_addr addr2;	/* drop-responses: the victim; drop-peer: the server */
	uint16_t port;			/* drop-source, rate-limit: the DNS port; drop-peer:
					 * the peer's port */
	uint16_t port2;			/* drop-peer: the server's DNS port */
	uint16_t length;		/* drop-reflected, flowspec: longer than this */
	uint32_t rate;			/* rate-limit: packets a second */
	char zone[DR_EV_NAME];		/* rrl */
	/* from the alert, for the text and the log */
	uint64_t alert;			/* its id */
	char type[24];
	char key[DR_NAME_TEXT_MAX];
};

int dr_action_same(const struct dr_action *a, const struct dr_action *b);

/* A host address from its text ("192.0.2.7", "2001:db8::7"): 0, or -1
 * (a leaves zeroed). */
int dr_action_addr_parse(const char *text, struct dr_ev_addr *a);

/* The address as text, as inet_ntop writes it from binary: 0, or -1 for
 * none (buf then holds "-"). */
int dr_action_addr_text(const struct dr_ev_addr *a, char *buf, size_t len);

/* "drop-source 198.51.100.7 port 53", the action in a few words. */
void dr_action_describe(const struct dr_action *a, char *buf, size_t len);

#define DR_POLICY_TYPES 5	/* the alert types a policy names */
extern const char *const dr_policy_types[DR_POLICY_TYPES];

/* The policy of one alert type. */
struct dr_policy_rule {
	unsigned kinds;		/* bits (1u << enum dr_action_kind); 0: nothing */
	int min_severity;	/* enum dr_severity: act from this severity on */
};

struct dr_policy {
	struct dr_policy_rule rule[DR_POLICY_TYPES];	/* as dr_policy_types */
	struct dr_prefix allow[DR_ALLOW_MAX];
	unsigned nallow;
	unsigned rate;		/* rate-limit: packets a second (default 100) */
	unsigned length;	/* flowspec, drop-reflected: octets (default 512) */
};

/* The defaults: reflection drop-responses; amplification flowspec and
 * drop-reflected; flood drop-source and rate-limit; loop drop-peer;
 * random_subdomain rrl; all from severity medium on; an empty allowlist. */
void dr_policy_defaults(struct dr_policy *p);

/* The rule of an alert type; NULL for a type the policy does not know. */
const struct dr_policy_rule *dr_policy_rule_for(const struct dr_policy *p, const char *type);

/* One setting: "TYPE" = "KIND[, KIND...]" or "none"; "TYPE.severity" =
 * low|medium|high|critical; "allow" = ADDR[/LEN] (adds); "rate" = N;
 * "length" = N. 0, or -1 with the reason in why (not naming the key). */
int dr_policy_set(struct dr_policy *p, const char *key, const char *value, char *why,
		  size_t len);

/* 1 when the address falls in the allowlist, or is one never acted on
 * (unspecified, loopback, multicast). */
int dr_policy_allowed(const struct dr_policy *p, const struct dr_ev_addr *a);

/* The actions the policy plans for an alert as it now stands (kinds that
 * do not fit its evidence are left out: drop-source only for a flood
 * seen by source). Allow-listed subjects are left out too and counted in
 * *allowed. Returns how many went into out (at most max). */
unsigned dr_policy_plan(const struct dr_policy *p, const struct dr_alert *a,
			struct dr_action *out, unsigned max, unsigned *allowed);

#endif
