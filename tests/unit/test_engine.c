/* Unit tests of the engine itself: records that stand for many packets,
 * the clock and its watermark driven by hand (a fake clock: the test says
 * what time it is), late records within the lateness, the alert lifecycle
 * and its events in order, and alert slots recycled over a long run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/reorder.h"
#include "decode/packet.h"
#include "detect/engine.h"
#include "engine_harness.h"
#include "harness.h"
#include "core/where.h"

static uint8_t ports[8192];

/* Every event, in order, with the alert's type and key and the engine
 * time it came at. */
struct event_log {
	unsigned n;
	struct {
		enum dr_alert_event event;
		char type[32], key[DR_NAME_TEXT_MAX];
		uint64_t id, packets;
		double start, detected, end;
	} e[512];
};

static struct event_log EVENTS;

static void keep_event(void *ctx, enum dr_alert_event event, const struct dr_alert *a)
{
	struct event_log *log = ctx;
	if (log->n == 512)
		return;
	log->e[log->n].event = event;
	snprintf(log->e[log->n].type, sizeof(log->e[0].type), "%s", a->type);
	snprintf(log->e[log->n].key, sizeof(log->e[0].key), "%s", a->key);
	log->e[log->n].id = a->id;
	log->e[log->n].packets = a->packets;
	log->e[log->n].start = a->start;
	log->e[log->n].detected = a->detected;
	log->e[log->n].end = a->end;
	log->n++;
}

static void start(struct dr_engine *e, int64_t lateness, const char *const *sets)
{
	char err[256];
	memset(ports, 0, sizeof(ports));
	dr_port_set(ports, 53);
	dr_engine_defaults(e);
	CHECK_EQ(harness_subscribe(e), 0);
	EVENTS.n = 0;
	CHECK_EQ(dr_engine_subscribe(e, keep_event, &EVENTS), 0);
	/* the tests of the clock drive it by hand: no hold for flows unless
	 * a test asks for one */
	CHECK_EQ(dr_engine_set(e, "flow.lateness=0", err, sizeof(err)), 0);
	for (; sets && *sets; sets++)
		CHECK_EQ(dr_engine_set(e, *sets, err, sizeof(err)), 0);
	e->lateness = lateness;
	e->reorder_cap = 4096;
	CHECK_EQ(dr_engine_start(e, ports), 0);
}

/* One record at time ts from src to dst port 53: a junk DNS message of
 * one packet (packets 0), or an aggregate standing for `packets`. */
static void feed(struct dr_engine *e, double ts, const char *src, const char *dst,
		 uint64_t packets)
{
	static uint8_t payload[64];
	struct dr_record r;
	harness_message(&r, ts, src, dst, 4444, 53, 64, payload, 40);
	r.dns.malformed = DR_MAL_NOT_DNS;
	if (packets) {
		r.kind = DR_KIND_FLOW;
		r.packets = packets;
		r.bytes = packets * 68;
		r.dns.malformed = 0;
		r.end_sec = r.ts_sec;
		r.end_nsec = 999999999;
	}
	dr_engine_record(e, &r);
}

static unsigned count_events(enum dr_alert_event ev)
{
	unsigned n = 0;
	for (unsigned i = 0; i < EVENTS.n; i++)
		n += EVENTS.e[i].event == ev;
	return n;
}

/* An aggregate standing for 3,000 packets a second is a flood of 3,000
 * packets a second, and the alert's totals count every one of them, from
 * the first second of the run, not one per record nor from the second
 * that fired. */
static void test_weight(void)
{
	struct dr_engine e;
	start(&e, 0, NULL);
	for (int s = 0; s < 5; s++)
		feed(&e, 1000 + s, "10.9.9.9", "192.0.2.1", 3000);
	dr_engine_finish(&e);
	CHECK_EQ(LOG.n, 1);
	if (LOG.n) {
		CHECK_STR(LOG.a[0].type, "flood");
		CHECK_STR(LOG.a[0].key, "10.9.9.9");
		CHECK_EQ(LOG.a[0].packets, 5 * 3000);
		CHECK_EQ(LOG.a[0].bytes, 5 * 3000 * 68);
		CHECK(LOG.a[0].start == 1000.0);	/* the run's first second */
		CHECK(LOG.a[0].detected >= 1001.0);	/* fired at its second */
		CHECK(LOG.a[0].peak_pps == 3000);
		CHECK(LOG.a[0].ev.from_flows);	/* and it says so */
		CHECK(strstr(alert_text(0), "\"from_flows\":true") != NULL);
	}
	CHECK_EQ(e.records[1], 5);
	dr_engine_fini(&e);
}

/* A fragmented response stands for the fragments that carried it. */
static void test_fragments_counted(void)
{
	struct dr_engine e;
	start(&e, 0, NULL);
	for (int i = 0; i < 5 * 3000; i++) {
		static uint8_t payload[64];
		struct dr_record r;
		harness_message(&r, 1000 + i / 3000.0, "10.9.9.9", "192.0.2.1", 4444, 53, 64, payload,
				40);
		r.ip_len = 3000;
		r.bytes = r.ip_len;
		r.dns.malformed = DR_MAL_NOT_DNS;
		r.fragmented = 1;
		r.packets = 3;
		dr_engine_record(&e, &r);
	}
	dr_engine_finish(&e);
	CHECK_EQ(LOG.n, 1);
	if (LOG.n)
		CHECK_EQ(LOG.a[0].packets, 3 * 5 * 3000);
	dr_engine_fini(&e);
}

/* The clock is the test's: after the last record nothing is judged until
 * the input's clock says so; then quiet seconds close the alert once the
 * quiet time has passed, and not before. Events come open, update...,
 * close, for one id. */
static void test_fake_clock_and_lifecycle(void)
{
	struct dr_engine e;
	start(&e, 0, NULL);
	for (int s = 0; s < 30; s++)
		feed(&e, 1000 + s, "10.9.9.9", "192.0.2.1", 3000);
	CHECK_EQ(count_events(DR_EVENT_OPEN), 1);
	CHECK(count_events(DR_EVENT_UPDATE) >= 2);	/* every 10 s while it lasts */
	CHECK_EQ(count_events(DR_EVENT_CLOSE), 0);
	unsigned before = EVENTS.n;
	dr_engine_advance(&e, 1029);	/* nothing new is over */
	CHECK_EQ(EVENTS.n, before);
	dr_engine_advance(&e, 1085);	/* 56 s after the last packet: still open */
	CHECK_EQ(count_events(DR_EVENT_CLOSE), 0);
	dr_engine_advance(&e, 1091);	/* more than 60 s of quiet */
	CHECK_EQ(count_events(DR_EVENT_CLOSE), 1);
	CHECK_EQ(LOG.n, 1);
	CHECK(EVENTS.n >= 3 && EVENTS.e[0].event == DR_EVENT_OPEN);
	CHECK(EVENTS.e[EVENTS.n - 1].event == DR_EVENT_CLOSE);
	for (unsigned i = 0; i < EVENTS.n; i++) {
		CHECK_EQ(EVENTS.e[i].id, EVENTS.e[0].id);
		if (i)
			CHECK(EVENTS.e[i].packets >= EVENTS.e[i - 1].packets);
	}
	if (LOG.n)
		CHECK_EQ(LOG.a[0].packets, 30 * 3000);
	/* a new attack after the close is a new alert */
	for (int s = 0; s < 3; s++)
		feed(&e, 1200 + s, "10.9.9.9", "192.0.2.1", 3000);
	dr_engine_finish(&e);
	CHECK_EQ(count_events(DR_EVENT_OPEN), 2);
	CHECK_EQ(count_events(DR_EVENT_CLOSE), 2);
	CHECK_EQ(LOG.n, 2);
	if (LOG.n == 2)
		CHECK(LOG.a[1].id == LOG.a[0].id + 1);
	dr_engine_fini(&e);
}

/* A quiet link: the last second of an attack is judged when the input's
 * clock passes it, with no record after it. */
static void test_quiet_second_judged(void)
{
	struct dr_engine e;
	static const char *const sets[] = {"flood.min_seconds=1", NULL};
	start(&e, 0, sets);
	feed(&e, 1000, "10.9.9.9", "192.0.2.1", 3000);
	CHECK_EQ(count_events(DR_EVENT_OPEN), 0);	/* second 1000 is not over */
	dr_engine_advance(&e, 1001);
	CHECK_EQ(count_events(DR_EVENT_OPEN), 1);
	dr_engine_finish(&e);
	dr_engine_fini(&e);
}

/* Second 1000 holds 1,990 packets in time and 20 that arrive during
 * second 1001, from another queue. With a lateness of 2 s they count in
 * second 1000, which reaches the 2,000 packets/s of a flood; without it
 * they join second 1001 and nothing fires. A record later than the
 * lateness is counted as late, in the oldest open second. */
static void late_case(int64_t lateness, unsigned *alerts, uint64_t *late)
{
	struct dr_engine e;
	static const char *const sets[] = {"flood.min_seconds=1", "flood.junk_pps=100000", NULL};
	start(&e, lateness, sets);
	for (int i = 0; i < 1990; i++)
		feed(&e, 1000 + i / 1990.0, "10.9.9.9", "192.0.2.1", 0);
	for (int i = 0; i < 100; i++) {
		feed(&e, 1001 + i / 100.0, "10.9.9.9", "192.0.2.1", 0);
		if (i < 20)
			feed(&e, 1000.5, "10.9.9.9", "192.0.2.1", 0);
	}
	feed(&e, 1010, "10.8.8.8", "192.0.2.1", 0);
	feed(&e, 1001.5, "10.8.8.8", "192.0.2.1", 0);	/* 8.5 s late */
	dr_engine_finish(&e);
	*alerts = LOG.n;
	*late = e.late;
	dr_engine_fini(&e);
}

static void test_lateness(void)
{
	unsigned alerts;
	uint64_t late;
	late_case(2, &alerts, &late);
	CHECK_EQ(alerts, 1);
	CHECK_EQ(late, 1);
	late_case(0, &alerts, &late);
	CHECK_EQ(alerts, 0);
	CHECK_EQ(late, 21);
}

/* The reorder buffer hands records back in time order, ties in arrival
 * order, and never holds more than its capacity. */
static void test_reorder(void)
{
	struct dr_reorder q;
	struct dr_record r;
	memset(&r, 0, sizeof(r));
	CHECK_EQ(dr_reorder_init(&q, 64), 0);
	unsigned seed = 1;
	for (unsigned i = 0; i < 64; i++) {
		seed = seed * 1103515245u + 12345u;
		r.ts_sec = 1000 + (seed >> 16) % 8;
		r.frame = i;
		dr_reorder_push(&q, &r);
	}
	CHECK(dr_reorder_full(&q));
	int64_t last = 0;
	uint64_t last_frame = 0;
	for (unsigned i = 0; i < 64; i++) {
		struct dr_record *x = dr_reorder_pop(&q);
		CHECK(x != NULL);
		if (!x)
			break;
		CHECK(x->ts_sec >= last);
		if (x->ts_sec == last)
			CHECK(x->frame > last_frame);
		last = x->ts_sec;
		last_frame = x->frame;
	}
	CHECK(dr_reorder_pop(&q) == NULL);
	dr_reorder_fini(&q);
}

/* A run of months: thousands of attacks one after the other, each closed
 * before the next, never run out of alert slots. */
static void test_slots_recycled(void)
{
	struct dr_engine e;
	struct dr_alert_log all;
	start(&e, 0, NULL);
	CHECK_EQ(dr_alert_log_init(&all, 3 * DR_ALERTS_MAX), 0);
	CHECK_EQ(dr_engine_subscribe(&e, dr_alert_log_sink, &all), 0);
	char src[32];
	for (int i = 0; i < 2 * DR_ALERTS_MAX + 100; i++) {
		snprintf(src, sizeof(src), "10.%d.%d.9", i / 250, i % 250);
		for (int s = 0; s < 3; s++)
			feed(&e, 1000 + i * 100 + s, src, "192.0.2.1", 3000);
	}
	dr_engine_finish(&e);
	CHECK_EQ(all.n, 2 * DR_ALERTS_MAX + 100);
	CHECK_EQ(e.alerts.dropped, 0);
	CHECK_EQ(e.alerts.nopen, 0);
	dr_alert_log_fini(&all);
	dr_engine_fini(&e);
}

/* A record copied to the second thread (or held for lateness) keeps only
 * the first DR_PAYLOAD_KEPT octets of its payload: no detector may read
 * further, whatever payload_len says (under ASan, the loop detector's
 * payload hash read past the copy). */
static void test_copied_payload_bounds(void)
{
	struct dr_engine e;
	start(&e, 0, NULL);
	for (int i = 0; i < 6 * 100; i++) {
		uint8_t *kept = malloc(DR_PAYLOAD_KEPT);	/* exactly what a copy holds */
		memset(kept, 'x', DR_PAYLOAD_KEPT);
		struct dr_record r;
		int inbound = i % 2 == 0;
		harness_message(&r, 1000 + i / 100.0, inbound ? "203.0.113.9" : "192.0.2.53",
				inbound ? "192.0.2.53" : "203.0.113.9", inbound ? 22772 : 53,
				inbound ? 53 : 22772, 52, kept, 1400);
		r.dns.malformed = DR_MAL_NOT_DNS;
		r.payload_caplen = DR_PAYLOAD_KEPT;
		dr_engine_record(&e, &r);
		free(kept);
	}
	dr_engine_finish(&e);
	CHECK_EQ(LOG.n, 1);	/* the loop, found from the kept octets */
	if (LOG.n)
		CHECK_STR(LOG.a[0].type, "loop");
	dr_engine_fini(&e);
}

/* More keys new in one second than a table can list: the windows that
 * could not be judged are counted, for the report's warnings. */
static void test_unjudged_counted(void)
{
	struct dr_engine e;
	static const char *const sets[] = {"flood.sources=8", "flood.targets=8", NULL};
	start(&e, 0, sets);
	char src[32];
	for (int i = 0; i < 200; i++) {
		snprintf(src, sizeof(src), "10.1.%d.%d", i / 250, i % 250 + 1);
		feed(&e, 1000 + i / 1000.0, src, "192.0.2.1", 0);
		feed(&e, 1000 + i / 1000.0, src, "192.0.2.1", 0);	/* admitted when seen again */
	}
	feed(&e, 1001.5, "10.9.9.9", "192.0.2.1", 0);
	CHECK(dr_engine_losses(&e).unjudged > 0);
	dr_engine_finish(&e);
	dr_engine_fini(&e);
}

/* Lifecycle events as the live outputs will write them, one JSON line
 * each; sentences written into a buffer too small say they were cut. */
static void test_event_lines_and_cut_text(void)
{
	struct dr_engine e;
	start(&e, 0, NULL);
	for (int s = 0; s < 3; s++)
		feed(&e, 1000 + s, "10.9.9.9", "192.0.2.1", 3000);
	dr_engine_finish(&e);
	CHECK_EQ(LOG.n, 1);
	if (!LOG.n)
		return;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct dr_out o;
	CHECK_EQ(dr_out_init(&o, fp, 1 << 16), 0);
	dr_alert_event_json(&o, DR_EVENT_OPEN, &LOG.a[0]);
	dr_alert_event_json(&o, DR_EVENT_CLOSE, &LOG.a[0]);
	dr_out_fini(&o);
	fclose(fp);
	CHECK(strncmp(buf, "{\"event\":\"open\",\"alert\":{\"type\":\"flood\",\"key\":\"10.9.9.9\"",
		      strlen("{\"event\":\"open\",\"alert\":{\"type\":\"flood\",\"key\":\"10.9.9.9\"")) == 0);
	char *second = strchr(buf, '\n');
	CHECK(second && strncmp(second + 1, "{\"event\":\"close\"", 16) == 0);
	CHECK(second && strchr(second + 1, '\n') == buf + len - 1);	/* one line each */
	free(buf);
	char small[16], big[1024];
	CHECK_EQ(dr_alert_summary(&LOG.a[0], small, sizeof(small)), -1);
	CHECK_EQ(strlen(small), sizeof(small) - 1);
	CHECK_EQ(dr_alert_summary(&LOG.a[0], big, sizeof(big)), 0);
	CHECK(strstr(big, "10.9.9.9 floods 192.0.2.1 port 53") != NULL);
	CHECK_EQ(dr_alert_advice(&LOG.a[0], big, sizeof(big)), 0);
	CHECK(strstr(big, "ip saddr 10.9.9.9 udp dport 53 drop") != NULL);
	dr_engine_fini(&e);
}

/* One flow record of 60 s standing for 3,000 packets a second: it counts
 * in each of its seconds, not all in its first (a 60-fold burst that never
 * was), and the alert starts where the flow did. */
static void flow_record(struct dr_record *r, double start, double end, uint64_t packets,
			uint32_t sampling)
{
	static uint8_t payload[64];
	harness_message(r, start, "10.9.9.9", "192.0.2.1", 4444, 53, 64, payload, 40);
	r->kind = DR_KIND_FLOW;
	r->packets = packets;
	r->bytes = packets * 68;
	r->sampling = sampling;
	r->end_sec = (int64_t)end;
	r->end_nsec = (uint32_t)((end - (double)(int64_t)end) * 1e9);
}

static void test_flow_spread(void)
{
	struct dr_engine e;
	static const char *const sets[] = {"flow.lateness=120", NULL};
	start(&e, 0, sets);
	struct dr_record r;
	flow_record(&r, 1000.0, 1059.999, 60 * 3000, 100);
	dr_engine_record(&e, &r);
	CHECK_EQ(r.packets, 60 * 3000);		/* the caller's record is left as it was */
	CHECK_EQ(r.ts_sec, 1000);
	dr_engine_finish(&e);
	CHECK_EQ(LOG.n, 1);
	if (LOG.n) {
		CHECK_STR(LOG.a[0].type, "flood");
		CHECK_EQ(LOG.a[0].packets, 60 * 3000);
		CHECK(LOG.a[0].start >= 1000.0 && LOG.a[0].start < 1001.0);
		CHECK(LOG.a[0].peak_pps >= 2900 && LOG.a[0].peak_pps <= 3100);
	}
	CHECK_EQ(e.late_flow_records, 0);
	dr_engine_fini(&e);

	/* the same packets as one instant would be one second of 180,000 */
	start(&e, 0, sets);
	flow_record(&r, 1000.0, 1000.0, 60 * 3000, 100);
	dr_engine_record(&e, &r);
	dr_engine_finish(&e);
	CHECK_EQ(LOG.n, 0);	/* flood needs min_seconds in a row */
	dr_engine_fini(&e);
}

/* A flow record later than flow.lateness: its old seconds are over and
 * were judged; its parts there are counted as late, not crammed into the
 * oldest open second. */
static void test_flow_too_late(void)
{
	struct dr_engine e;
	static const char *const sets[] = {"flow.lateness=10", NULL};
	start(&e, 0, sets);
	struct dr_record r;
	flow_record(&r, 2000.0, 2000.5, 10, 1);
	dr_engine_record(&e, &r);
	flow_record(&r, 2100.0, 2100.5, 10, 1);
	dr_engine_record(&e, &r);
	flow_record(&r, 2010.0, 2069.9, 60 * 3000, 1);	/* from 2010 to 2070: before 2090 is over */
	dr_engine_record(&e, &r);
	dr_engine_finish(&e);
	CHECK_EQ(LOG.n, 0);
	CHECK_EQ(e.late_flow_records, 60);
	CHECK_EQ(e.late_flow_packets, 60 * 3000);
	dr_engine_fini(&e);
}

/* Amplification from flows alone: eight reflectors' responses from port 53
 * to one victim, 1,480 octets each, and the later IP fragments of those
 * responses, which flow exports give no ports. The fragments count in the
 * alert's packets and octets and in its fragment share, not as responses. */
static void test_flow_fragments(void)
{
	struct dr_engine e;
	start(&e, 0, NULL);
	for (int sec = 0; sec < 5; sec++)
		for (int i = 0; i < 8; i++) {
			char src[32];
			struct dr_record r;
			snprintf(src, sizeof(src), "198.51.100.%d", 10 + i);
			harness_message(&r, 1000 + sec, src, "192.0.2.77", 53, 4444, 57, NULL, 0);
			r.kind = DR_KIND_FLOW;
			r.sampling = 1;
			r.packets = 5;
			r.bytes = 5 * 1480;
			dr_engine_record(&e, &r);
			r.sport = r.dport = 0;
			r.fragmented = 1;
			r.packets = 10;
			r.bytes = 10 * 1200;
			dr_engine_record(&e, &r);
		}
	dr_engine_finish(&e);
	CHECK_EQ(LOG.n, 1);
	if (LOG.n) {
		CHECK_STR(LOG.a[0].type, "amplification");
		CHECK_STR(LOG.a[0].key, "192.0.2.77");
		CHECK_EQ(LOG.a[0].packets, 5 * 8 * 15);
		CHECK_EQ(LOG.a[0].bytes, 5 * 8 * (5 * 1480 + 10 * 1200));
		CHECK(LOG.a[0].ev.u.amplification.fragment_share == 1);
		CHECK(LOG.a[0].ev.u.amplification.responses == 40);	/* a second's */
	}
	dr_engine_fini(&e);
}

/* The flow hold hands parts back by second, those of one second in
 * arrival order; a part older than all held gets its own second while the
 * buckets reach back to it; one too far ahead must wait for the earliest
 * to leave. */
static void test_partq(void)
{
	struct dr_partq q;
	CHECK_EQ(dr_partq_init(&q, 8, 10), 0);
	CHECK(q.nbuckets > 11);
	static const int64_t secs[] = {105, 103, 105, 104, 101};
	for (unsigned i = 0; i < 5; i++) {
		struct dr_record r;
		memset(&r, 0, sizeof(r));
		r.kind = DR_KIND_FLOW;
		r.ts_sec = secs[i];
		r.frame = i;
		CHECK(!dr_partq_too_far(&q, &r));
		dr_partq_push(&q, &r);
	}
	struct dr_record far;
	memset(&far, 0, sizeof(far));
	far.ts_sec = 101 + q.nbuckets;
	CHECK(dr_partq_too_far(&q, &far));
	static const int64_t want_sec[] = {101, 103, 104, 105, 105};
	static const uint64_t want_frame[] = {4, 1, 3, 0, 2};
	for (unsigned i = 0; i < 5; i++) {
		CHECK_EQ(dr_partq_first(&q), want_sec[i]);
		struct dr_record *r = dr_partq_pop(&q);
		CHECK(r != NULL);
		if (r) {
			CHECK_EQ(r->ts_sec, want_sec[i]);
			CHECK_EQ(r->frame, want_frame[i]);
		}
	}
	CHECK(dr_partq_pop(&q) == NULL);
	CHECK_EQ(dr_partq_first(&q), INT64_MAX);
	for (unsigned i = 0; i < 8; i++) {
		struct dr_record r;
		memset(&r, 0, sizeof(r));
		r.ts_sec = 200;
		dr_partq_push(&q, &r);
	}
	CHECK(dr_partq_full(&q));
	dr_partq_fini(&q);
}

/* A second resting on fewer than four sampled packets proves nothing: a
 * source sampled 1 in 1,000 three times a second "is" 3,000 packets a
 * second, over flood's 2,000, but raises nothing; four times a second it
 * does. */
static void test_min_samples(void)
{
	struct dr_engine e;
	for (unsigned k = 3; k <= 4; k++) {
		start(&e, 0, NULL);
		for (int sec = 0; sec < 6; sec++) {
			struct dr_record r;
			flow_record(&r, 1000 + sec, 1000 + sec + 0.5, k * 1000, 1000);
			dr_engine_record(&e, &r);
		}
		dr_engine_finish(&e);
		CHECK_EQ(LOG.n, k == 3 ? 0 : 1);
		dr_engine_fini(&e);
	}
}

int main(void)
{
	RUN(test_min_samples);
	RUN(test_partq);
	RUN(test_flow_fragments);
	RUN(test_flow_spread);
	RUN(test_flow_too_late);
	RUN(test_weight);
	RUN(test_fragments_counted);
	RUN(test_fake_clock_and_lifecycle);
	RUN(test_quiet_second_judged);
	RUN(test_lateness);
	RUN(test_reorder);
	RUN(test_slots_recycled);
	RUN(test_copied_payload_bounds);
	RUN(test_unjudged_counted);
	RUN(test_event_lines_and_cut_text);
	dr_alert_log_fini(&LOG);
	TEST_MAIN_END();
}
