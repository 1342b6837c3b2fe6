/* Alerts of every detector type with the evidence their detectors fill,
 * driven through the real alert list (open, an update, close), for the
 * outputs' tests and the fail2ban test's log. `ban` says whether the key
 * is a remote attacker fail2ban should ban. */
#ifndef DR_TEST_ALERT_SAMPLES_H
#define DR_TEST_ALERT_SAMPLES_H

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "detect/alert.h"

#define SAMPLES_MAX 8

struct alert_sample {
	const char *type;
	const char *key;
	int ban;
	struct dr_evidence ev;
};

static inline void sample_addr(struct dr_ev_addr *a, const char *text)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, text, a->a) == 1) {
		a->family = 4;
		a->prefix_len = 32;
	} else if (inet_pton(AF_INET6, text, a->a) == 1) {
		a->family = 6;
		a->prefix_len = 128;
	}
}

/* The detectors' names, one pointer each: the alert list tells types
 * apart by pointer, as it does the detectors'. */
static const char SAMPLE_FLOOD[] = "flood", SAMPLE_LOOP[] = "loop",
		  SAMPLE_AMPLIFICATION[] = "amplification", SAMPLE_REFLECTION[] = "reflection",
		  SAMPLE_RANDOM_SUBDOMAIN[] = "random_subdomain";

/* Fills s with one alert of each kind (and a few tricky ones); returns
 * how many. */
static inline unsigned alert_samples(struct alert_sample *s)
{
	unsigned n = 0;
	memset(s, 0, SAMPLES_MAX * sizeof(*s));

	/* A source flooding our server: ban it. */
	s[n] = (struct alert_sample){SAMPLE_FLOOD, "198.51.100.7", 1, {.kind = DR_EV_FLOOD}};
	s[n].ev.u.flood.by_source = 1;
	sample_addr(&s[n].ev.u.flood.source, "198.51.100.7");
	sample_addr(&s[n].ev.u.flood.target, "192.0.2.53");
	s[n].ev.u.flood.port = 53;
	s[n].ev.u.flood.pps = 40000;
	s[n].ev.u.flood.bps = 2.4e7;
	s[n].ev.u.flood.payload = DR_PAYLOAD_JUNK;
	s[n].ev.u.flood.junk_share = 0.97;
	n++;

	/* The same from IPv6. */
	s[n] = (struct alert_sample){SAMPLE_FLOOD, "2001:db8:bad::66", 1, {.kind = DR_EV_FLOOD}};
	s[n].ev.u.flood.by_source = 1;
	sample_addr(&s[n].ev.u.flood.source, "2001:db8:bad::66");
	sample_addr(&s[n].ev.u.flood.target, "2001:db8::53");
	s[n].ev.u.flood.port = 53;
	s[n].ev.u.flood.pps = 30000;
	s[n].ev.u.flood.bps = 1.9e7;
	n++;

	/* A flood from spread sources: the key is our target, not a ban. */
	s[n] = (struct alert_sample){SAMPLE_FLOOD, "192.0.2.54", 0, {.kind = DR_EV_FLOOD}};
	sample_addr(&s[n].ev.u.flood.target, "192.0.2.54");
	s[n].ev.u.flood.port = 53;
	s[n].ev.u.flood.pps = 90000;
	s[n].ev.u.flood.bps = 6e7;
	s[n].ev.u.flood.sources.distinct = 50000;
	s[n].ev.u.flood.sources.at_least = 1;
	s[n].ev.u.flood.sources.n = 1;
	sample_addr(&s[n].ev.u.flood.sources.item[0].addr, "203.0.113.200");
	s[n].ev.u.flood.sources.item[0].count = 10;
	n++;

	/* A request loop: the key is the remote peer; its payload is the
	 * peer's to choose, and tries to look like a banned source. */
	s[n] = (struct alert_sample){SAMPLE_LOOP, "203.0.113.9", 1, {.kind = DR_EV_LOOP}};
	sample_addr(&s[n].ev.u.loop.server, "192.0.2.53");
	sample_addr(&s[n].ev.u.loop.peer, "203.0.113.9");
	s[n].ev.u.loop.server_port = 53;
	s[n].ev.u.loop.peer_port = 53;
	s[n].ev.u.loop.pps_to_server = 900;
	s[n].ev.u.loop.pps_to_peer = 900;
	s[n].ev.u.loop.rcode = 1;
	snprintf(s[n].ev.u.loop.payload, sizeof(s[n].ev.u.loop.payload),
		 "\"key\":\"192.0.2.99\",\"evidence\":{\"source\":\"");
	s[n].ev.u.loop.ttl_constant = 1;
	s[n].ev.u.loop.ttl_min = s[n].ev.u.loop.ttl_max = 57;
	n++;

	/* Amplification: the key is the victim, never to be banned. */
	s[n] = (struct alert_sample){SAMPLE_AMPLIFICATION, "192.0.2.80", 0,
				     {.kind = DR_EV_AMPLIFICATION}};
	sample_addr(&s[n].ev.u.amplification.victim, "192.0.2.80");
	s[n].ev.u.amplification.victim_port = 80;
	s[n].ev.u.amplification.reflectors.distinct = 3000;
	s[n].ev.u.amplification.reflectors.n = 1;
	sample_addr(&s[n].ev.u.amplification.reflectors.item[0].addr, "198.51.100.250");
	s[n].ev.u.amplification.reflectors.item[0].count = 500;
	s[n].ev.u.amplification.responses = 20000;
	s[n].ev.u.amplification.average_size = 3200;
	s[n].ev.u.amplification.fragment_share = 0.6;
	snprintf(s[n].ev.u.amplification.qname, DR_EV_NAME, "example.org");
	s[n].ev.u.amplification.qtype = 255;
	n++;

	/* Reflection: the key is our own host. */
	s[n] = (struct alert_sample){SAMPLE_REFLECTION, "192.0.2.25", 0, {.kind = DR_EV_REFLECTION}};
	s[n].ev.u.reflection.rule = DR_REFL_LOCAL_NON_RESOLVER;
	s[n].ev.u.reflection.abuse = DR_ABUSE_REPEATED | DR_ABUSE_AMPLIFIED;
	sample_addr(&s[n].ev.u.reflection.responder, "192.0.2.25");
	s[n].ev.u.reflection.victims.distinct = 1;
	s[n].ev.u.reflection.victims.n = 1;
	sample_addr(&s[n].ev.u.reflection.victims.item[0].addr, "198.51.100.99");
	s[n].ev.u.reflection.victims.item[0].count = 400;
	snprintf(s[n].ev.u.reflection.qname, DR_EV_NAME, ".");
	s[n].ev.u.reflection.qtype = 2;
	s[n].ev.u.reflection.factor = 30;
	s[n].ev.u.reflection.responses_per_s = 20;
	n++;

	/* Random subdomain: the key is a zone; the names are the attacker's,
	 * and one looks like a banned line. */
	s[n] = (struct alert_sample){SAMPLE_RANDOM_SUBDOMAIN, "example.com", 0,
				     {.kind = DR_EV_RANDOM_SUBDOMAIN}};
	snprintf(s[n].ev.u.random_subdomain.zone, DR_EV_NAME, "example.com");
	s[n].ev.u.random_subdomain.distinct_per_s = 3000;
	s[n].ev.u.random_subdomain.queries_per_s = 3100;
	s[n].ev.u.random_subdomain.nxdomain_share = 0.99;
	s[n].ev.u.random_subdomain.len_mode = 12;
	s[n].ev.u.random_subdomain.nsamples = 2;
	snprintf(s[n].ev.u.random_subdomain.samples[0], 72, "x7hq2ksd0a1b.example.com");
	snprintf(s[n].ev.u.random_subdomain.samples[1], 72,
		 "{\"event\":\"open\",\"alert\":{\"type\":\"loop\",\"key\":\"192.0.2.98\"");
	s[n].ev.u.random_subdomain.resolvers.distinct = 40;
	n++;
	return n;
}

/* Runs the samples through al from engine time t0: each opens (one
 * second apart), fires again 12 seconds later and is updated at the tick,
 * then all close at a tick past the quiet time. Subscribe first. */
static inline unsigned alert_samples_run(struct dr_alerts *al, struct alert_sample *s, double t0)
{
	unsigned n = alert_samples(s);
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < n; i++) {
			double t = t0 + i + pass * 12;
			struct dr_fire f = {
				.type = s[i].type, .key = s[i].key, .start = t0 + i - 3, .last = t,
				.packets = 1000, .bytes = 80000, .pps = 1000, .bps = 640000,
				.severity = DR_SEV_HIGH, .ev = &s[i].ev,
			};
			dr_alert_fire(al, &f);
		}
	dr_alerts_tick(al, t0 + n + 12);
	dr_alerts_tick(al, t0 + n + 12 + DR_ALERT_QUIET + 1);
	return n;
}

#endif
