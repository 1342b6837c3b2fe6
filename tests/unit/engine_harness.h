/* What the detector tests share: the alerts an engine raised, kept from
 * its close events, and what every hand-built record must say about what
 * it stands for. */
#ifndef DR_TEST_ENGINE_HARNESS_H
#define DR_TEST_ENGINE_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/engine.h"
#include "lib/cidr.h"
#include "report/alerts.h"

/* The alerts of the engine under test, kept at their close events. */
static struct dr_alert_log LOG;

/* Empties the log and subscribes it to e (after dr_engine_defaults). */
static inline int harness_subscribe(struct dr_engine *e)
{
	dr_alert_log_fini(&LOG);
	if (dr_alert_log_init(&LOG, 64) < 0)
		return -1;
	return dr_engine_subscribe(e, dr_alert_log_sink, &LOG);
}

/* Alert i's JSON (its evidence included), for assertions on its text;
 * valid until the next call. */
static inline const char *alert_text(unsigned i)
{
	static char *buf;
	static size_t len;
	free(buf);
	buf = NULL;
	FILE *fp = open_memstream(&buf, &len);
	struct dr_out o;
	if (!fp || dr_out_init(&o, fp, 1 << 16) < 0)
		return "";
	dr_alert_json(&o, &LOG.a[i]);
	dr_out_fini(&o);
	fclose(fp);
	return buf;
}

/* A DNS message of one packet of ip_len octets, all of its payload at
 * hand: what the decoder makes. */
static inline void harness_dns_record(struct dr_record *r)
{
	r->kind = DR_KIND_DNS;
	r->packets = 1;
	r->bytes = r->ip_len ? r->ip_len : r->payload_len;
	r->payload_caplen = r->payload_len;
	r->end_sec = r->ts_sec;
	r->end_nsec = r->ts_nsec;
	r->sampling = 1;
}

/* A UDP datagram of one DNS message of len octets at payload, at time ts
 * from src:sport to dst:dport (addresses as text), IP TTL ttl, IP length
 * len + 28: the fields every hand-built record shares; the DNS header and
 * question are the caller's. */
static inline void harness_message(struct dr_record *r, double ts, const char *src,
				   const char *dst, unsigned sport, unsigned dport, unsigned ttl,
				   const uint8_t *payload, uint32_t len)
{
	uint8_t prefix;
	memset(r, 0, sizeof(*r));
	r->ts_sec = (int64_t)ts;
	r->ts_nsec = (uint32_t)((ts - (double)r->ts_sec) * 1e9);
	dr_cidr_parse(src, &r->family, r->src, &prefix);
	dr_cidr_parse(dst, &r->family, r->dst, &prefix);
	r->sport = (uint16_t)sport;
	r->dport = (uint16_t)dport;
	r->proto = 17;
	r->ip_ttl = (uint8_t)ttl;
	r->payload = payload;
	r->payload_len = len;
	r->ip_len = len + 28;
	harness_dns_record(r);
}

/* The record's question: name in text, type, class IN. */
static inline void harness_question(struct dr_record *r, const char *qname, unsigned qtype)
{
	r->dns.has_question = 1;
	r->dns.qname_len = (uint8_t)dr_name_from_text(qname, r->dns.qname);
	r->dns.qtype = (uint16_t)qtype;
	r->dns.qclass = 1;
}

#endif
