/* loop: two UDP services trading errors forever ("machine pong", Loop DoS,
 * CVE-2024-2169). In the seed a TFTP client answered every FORMERR of an
 * authoritative server with "RRQ must be sent first", from one port, with
 * identical IP TTLs, at 35,000 packets/s.
 *
 * A conversation is (server, peer, peer port) where the server's side is a
 * DNS port. Only packets that can be part of a loop are counted, so that
 * ordinary clients on ephemeral ports cost nothing: inbound packets no
 * client sends (responses or malformed messages arriving at port 53,
 * QTYPE 0) and outbound error answers (FORMERR, SERVFAIL, NOTIMP, REFUSED
 * or malformed). Of the inbound ones, only those that react to the
 * server count: responses, and payloads the same as the peer's previous
 * one (a peer answering each error with its own fixed error, as the TFTP
 * client did). A scanner sending malformed probes from one port changes
 * its IDs and names with every probe, and is answered FORMERR or REFUSED:
 * an authoritative server answering it is not in a loop. It fires when
 * both run at min_pps or more, for min_seconds in a row. Key: the remote
 * peer. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/common.h"
#include "detect/detector.h"
#include "detect/kwin.h"

enum { P_MIN_PPS, P_MIN_SECONDS, P_CONVERSATIONS, P_COUNT };

#define KEY_LEN (2 * DR_AKEY + 2)
#define SAMPLE DR_EV_PAYLOAD

struct conv {
	struct dr_kwin w;
	uint64_t in, out;	/* junk in, errors out */
	/* persistent */
	struct dr_run run;
	uint16_t peer_port, server_port;
	uint8_t ttl_min, ttl_max, have_ttl;
	uint16_t last_rcode;
	uint16_t last_qtype;
	uint64_t last_in;	/* hash of the peer's previous inbound payload */
	uint8_t sample_len;
	char sample[SAMPLE];	/* printable bytes of an inbound junk payload */
};

/* Declared after the entries, whose size a capacity's memory needs. */
static const struct dr_param params[P_COUNT] = {
	[P_MIN_PPS] = {"min_pps", 20, "error or junk packets/s each way before a conversation can be a loop",
		       .kind = DR_PARAM_RATE, .unit = "packets/s"},
	[P_MIN_SECONDS] = {"min_seconds", 3, "consecutive seconds the exchange must last",
			   .kind = DR_PARAM_SECONDS},
	[P_CONVERSATIONS] = {"conversations", 65536, "conversations tracked at once (memory)",
			     .kind = DR_PARAM_CAPACITY, .unit = "conversations", .entry_octets =
			     DR_KTABLE_ENTRY_OCTETS(KEY_LEN, sizeof(struct conv))},
};

static void loop_judge(void *ctx, void *entry, const uint8_t *key, uint32_t klen, int64_t sec);

static void *loop_init(const struct dr_detect_env *env)
{
	return dr_ktable_new((uint32_t)env->param[P_CONVERSATIONS], KEY_LEN, sizeof(struct conv),
			     offsetof(struct conv, run), loop_judge, (void *)env);
}

static int inbound_bad(const struct dr_record *r)
{
	const struct dr_dns *d = &r->dns;
	return d->malformed || dr_dns_qr(d) || (d->has_question && d->qtype == 0);
}

static int outbound_error(const struct dr_record *r)
{
	const struct dr_dns *d = &r->dns;
	unsigned rc = d->rcode_ext;
	return d->malformed || rc == 1 || rc == 2 || rc == 4 || rc == 5;
}

/* Keeps the printable run of a payload, skipping a DNS-sized header. */
static void sample_payload(struct conv *c, const struct dr_record *r)
{
	const uint8_t *p = r->payload;
	size_t n = r->payload_caplen, o = 0;
	for (size_t i = 0; i < n && o < SAMPLE - 1; i++) {
		if (isprint(p[i]))
			c->sample[o++] = (char)p[i];
		else if (o && c->sample[o - 1] != ' ')
			c->sample[o++] = ' ';
	}
	while (o && c->sample[o - 1] == ' ')
		o--;
	c->sample[o] = 0;
	c->sample_len = (uint8_t)o;
}

static void loop_record(void *st, const struct dr_record *r, const struct dr_detect_env *env)
{
	struct dr_ktable *convs = st;
	int dport_dns = dr_port_test(env->dns_ports, r->dport);
	int sport_dns = dr_port_test(env->dns_ports, r->sport);
	int inbound;	/* peer -> server */
	if (dport_dns && sport_dns)
		inbound = memcmp(r->dst, r->src, 16) < 0;	/* 53 <-> 53: lower is server */
	else
		inbound = dport_dns;
	if (inbound ? !inbound_bad(r) : !outbound_error(r))
		return;		/* ordinary traffic cannot feed a loop */
	const struct dr_akey *server = inbound ? &r->keys.dst : &r->keys.src;
	const struct dr_akey *peer = inbound ? &r->keys.src : &r->keys.dst;
	uint16_t peer_port = inbound ? r->sport : r->dport;

	uint8_t key[KEY_LEN];
	memcpy(key, server->b, DR_AKEY);
	memcpy(key + DR_AKEY, peer->b, DR_AKEY);
	key[2 * DR_AKEY] = (uint8_t)(peer_port >> 8);
	key[2 * DR_AKEY + 1] = (uint8_t)peer_port;
	uint64_t hash = dr_hash64(key, KEY_LEN);

	struct conv *c = dr_ktable_hit_record(convs, key, KEY_LEN, hash, env->now, r);
	c->peer_port = peer_port;
	c->server_port = inbound ? r->dport : r->sport;
	if (inbound) {
		/* the octets a copy keeps, so that both thread modes agree */
		uint64_t h = dr_hash64(r->payload, dr_record_copy_len(r)) | 1;
		int reacts = dr_dns_qr(&r->dns) || h == c->last_in;
		c->last_in = h;
		c->in += reacts ? dr_record_messages(r) : 0;
		if (r->dns.has_question)
			c->last_qtype = r->dns.qtype;
		if (!c->sample_len || r->dns.malformed)
			sample_payload(c, r);
		if (!c->have_ttl || r->ip_ttl < c->ttl_min)
			c->ttl_min = r->ip_ttl;
		if (!c->have_ttl || r->ip_ttl > c->ttl_max)
			c->ttl_max = r->ip_ttl;
		c->have_ttl = 1;
	} else {
		c->out += dr_record_messages(r);
		c->last_rcode = r->dns.rcode_ext;
	}
}

static void loop_judge(void *ctx, void *entry, const uint8_t *key, uint32_t klen, int64_t sec)
{
	const struct dr_detect_env *env = ctx;
	const double *p = env->param;
	struct conv *c = entry;
	(void)klen;

	double in = (double)c->in, out = (double)c->out;
	if (!(in >= p[P_MIN_PPS] && out >= p[P_MIN_PPS])) {
		dr_run_break(&c->run);
		return;
	}
	if (dr_run_add(&c->run, sec, &c->w) < (uint32_t)p[P_MIN_SECONDS])
		return;

	struct dr_evidence ev = {.kind = DR_EV_LOOP};
	struct dr_ev_loop *x = &ev.u.loop;
	dr_ev_addr_set(&x->server, key, 32, 128);
	dr_ev_addr_set(&x->peer, key + DR_AKEY, 32, 128);
	x->server_port = c->server_port;
	x->peer_port = c->peer_port;
	x->pps_to_server = in;
	x->pps_to_peer = out;
	x->rcode = c->last_rcode;
	x->qtype = c->last_qtype;
	memcpy(x->payload, c->sample, sizeof(x->payload));
	x->ttl_constant = c->ttl_min == c->ttl_max;
	x->ttl_min = c->ttl_min;
	x->ttl_max = c->ttl_max;

	char peer[64];
	dr_akey_text(key + DR_AKEY, peer);
	dr_fire_window(env, "loop", peer, &c->run, &c->w, (double)c->w.pkts,
		       in + out >= 10000 ? DR_SEV_HIGH : DR_SEV_MEDIUM, &ev);
}

const struct dr_detector dr_detect_loop = {
	.name = "loop",
	.summary = "request loops: a DNS server and a peer port trading errors (Loop DoS)",
	.kinds = DR_KIND_DNS,
	.needs = DR_NEEDS_PAYLOAD,
	.params = params, .nparams = P_COUNT,
	.init = loop_init, .on_record = loop_record, .on_tick = dr_ktable_on_tick,
	.mem = dr_ktable_state_mem, .unjudged = dr_ktable_state_unjudged, .fini = dr_ktable_free,
};
