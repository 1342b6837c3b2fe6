/* Typed evidence: what convinced a detector, as numbers, addresses, names
 * and small lists with their totals. Detectors fill it and write no prose;
 * report/ turns it into text, JSON and advice, and whatever acts on an
 * alert (a store, a webhook, a firewall ban) reads the same fields: the
 * victim, the port, the zone. */
#ifndef DR_DETECT_EVIDENCE_H
#define DR_DETECT_EVIDENCE_H

#include <stdint.h>

#define DR_EV_TOP 4		/* entries of a list */
#define DR_EV_NAME 80		/* octets of a name's text kept (cut) */
#define DR_EV_SAMPLES 4
#define DR_EV_PAYLOAD 48	/* printable text of a payload sample */

/* An address, or a prefix when prefix_len is less than the full length. */
struct dr_ev_addr {
	uint8_t family;		/* 4 or 6; 0: none */
	uint8_t prefix_len;	/* 32 or 128 for a host */
	uint8_t a[16];
};

/* The heaviest few of a set, heaviest first, and how large the set was:
 * `distinct` members, exactly, unless `at_least` (it was too large to
 * count exactly and holds at least that many). */
struct dr_ev_list {
	uint8_t n;
	uint8_t at_least;
	uint32_t distinct;
	struct {
		struct dr_ev_addr addr;
		uint64_t count;
	} item[DR_EV_TOP];
};

enum dr_ev_kind {
	DR_EV_NONE = 0,
	DR_EV_REFLECTION,
	DR_EV_AMPLIFICATION,
	DR_EV_RANDOM_SUBDOMAIN,
	DR_EV_FLOOD,
	DR_EV_LOOP,
};

enum dr_refl_rule { DR_REFL_LOCAL_NON_RESOLVER = 1, DR_REFL_REPEATED_LARGE };

/* The evidence of abuse a reflector showed, as bits. */
enum dr_refl_abuse {
	DR_ABUSE_REPEATED = 1u << 0,	/* a few questions over and over */
	DR_ABUSE_AMPLIFIED = 1u << 1,	/* answers far larger than the questions */
	DR_ABUSE_RECURSION = 1u << 2,	/* recursion offered to outsiders */
	DR_ABUSE_CONCENTRATED = 1u << 3,	/* most bytes to a few destinations */
};

struct dr_ev_reflection {
	uint8_t rule;			/* enum dr_refl_rule */
	uint8_t abuse;			/* enum dr_refl_abuse bits */
	struct dr_ev_addr responder;
	struct dr_ev_list victims;	/* by responses */
	char qname[DR_EV_NAME];		/* the question asked over and over, "" none */
	uint16_t qtype;
	double share;			/* of responses that are it */
	double factor;			/* response bytes per query byte; < 0: queries not seen */
	double responses_per_s, queries_per_s, average_size;
	double ra_share;		/* responses offering recursion */
	double authoritative_share;	/* responses with AA, or referrals */
	double repeated_share;		/* responses that repeat one of a few questions */
	double top_destinations_share;	/* bytes going to the heaviest 8 destinations */
};

struct dr_ev_amplification {
	struct dr_ev_addr victim;
	uint16_t victim_port;
	struct dr_ev_list reflectors;	/* by responses */
	double fragment_share, average_size;
	uint64_t queries_from_victim, responses;
	char qname[DR_EV_NAME];
	uint16_t qtype;
};

enum dr_alphabet { DR_ALPHA_LOWER, DR_ALPHA_DIGIT, DR_ALPHA_ALNUM, DR_ALPHA_OTHER, DR_ALPHA_CLASSES };

struct dr_ev_random_subdomain {
	char zone[DR_EV_NAME];
	double distinct_per_s, queries_per_s;
	double nxdomain_share;		/* < 0: no responses seen */
	uint8_t len_mode, len_min, len_max;
	uint8_t alphabet;		/* enum dr_alphabet */
	double alphabet_share;
	uint8_t nsamples;
	char samples[DR_EV_SAMPLES][72];
	struct dr_ev_list resolvers;	/* by queries */
	struct dr_ev_list prefixes;	/* /24 and /48 of the resolvers */
};

enum dr_payload { DR_PAYLOAD_DNS, DR_PAYLOAD_MIXED, DR_PAYLOAD_JUNK };

struct dr_ev_flood {
	uint8_t by_source;		/* key is the source; else the target */
	struct dr_ev_addr source;	/* by_source only */
	struct dr_ev_addr target;
	uint16_t port;			/* the DNS port flooded (majority) */
	double pps, bps, junk_share;
	uint8_t payload;		/* enum dr_payload */
	struct dr_ev_list sources;	/* by packets; target view only */
};

struct dr_ev_loop {
	struct dr_ev_addr server, peer;
	uint16_t server_port, peer_port;
	double pps_to_server, pps_to_peer;
	uint16_t rcode, qtype;
	char payload[DR_EV_PAYLOAD];	/* printable sample of the peer's packets */
	uint8_t ttl_constant, ttl_min, ttl_max;
};

struct dr_evidence {
	uint8_t kind;			/* enum dr_ev_kind */
	uint8_t from_flows;		/* counted from flow exports: its rates
					 * are estimates, scaled by sampling */
	uint32_t sampling;		/* then: the highest rate (1 in N) used */
	struct dr_ev_addr exporter;	/* and the exporter that reported it */
	union {
		struct dr_ev_reflection reflection;
		struct dr_ev_amplification amplification;
		struct dr_ev_random_subdomain random_subdomain;
		struct dr_ev_flood flood;
		struct dr_ev_loop loop;
	} u;
};

#endif
