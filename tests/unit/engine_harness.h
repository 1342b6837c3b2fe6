/* What the detector tests share: the alerts an engine raised, kept from
 * its close events, and what every hand-built record must say about what
 * it stands for. */
#ifndef DR_TEST_ENGINE_HARNESS_H
#define DR_TEST_ENGINE_HARNESS_H

#include <stdio.h>
#include <stdlib.h>

#include "detect/engine.h"
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

#endif
