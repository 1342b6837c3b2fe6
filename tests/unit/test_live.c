/* Unit tests of live capture (input/live.c) and the pipeline's live clock
 * (core/pipeline.c): DNS queries sent over loopback are captured on "lo"
 * with a BPF filter; with one thread and with two, the ticks reach the
 * thread that runs the consumers, after every record read before them,
 * with the interface's counts; bad interfaces and filters give one line.
 * Under a stream that never pauses (a capture in memory, a slow consumer)
 * the clock still ticks about once a second. The drop warning is built
 * from a report's interface counts. Capturing needs root or CAP_NET_RAW:
 * without it the capture tests check the permission message and say SKIP. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "core/pipeline.h"
#include "input/input.h"
#include "report/report.h"

static unsigned port;
static volatile int stop_sending;

static unsigned free_port(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	bind(s, (struct sockaddr *)&a, sizeof(a));
	getsockname(s, (struct sockaddr *)&a, &len);
	close(s);
	return ntohs(a.sin_port);
}

/* A query for example.com A, every 5 ms, until told to stop. */
static void *sender(void *arg)
{
	(void)arg;
	static const uint8_t q[] = {
		0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1,
	};
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	for (int i = 0; i < 2000 && !stop_sending; i++) {
		sendto(s, q, sizeof(q), 0, (struct sockaddr *)&a, sizeof(a));
		struct timespec ms = {0, 5 * 1000 * 1000};
		nanosleep(&ms, NULL);
	}
	close(s);
	return NULL;
}

struct seen {
	struct dr_pipeline *p;
	pthread_t fn_thread;
	int fn_thread_set;
	uint64_t messages;
	unsigned ticks, ticks_elsewhere, ticks_behind;
	int64_t last_now;
	uint64_t received_at_tick;
};

static void on_message(void *ctx, const struct dr_record *r)
{
	struct seen *s = ctx;
	(void)r;
	if (!s->fn_thread_set) {
		s->fn_thread = pthread_self();
		s->fn_thread_set = 1;
	}
	s->messages++;
}

static void on_tick(void *ctx, int64_t now)
{
	struct seen *s = ctx;
	const struct dr_pipeline_counters *c = dr_pipeline_counters(s->p);
	s->ticks++;
	if (!s->fn_thread_set || !pthread_equal(s->fn_thread, pthread_self()))
		s->ticks_elsewhere++;
	/* every packet read before the tick is a query, and was consumed */
	if (c->nifaces != 1 || c->ifaces[0].received != s->messages ||
	    c->decode.dns_messages != s->messages)
		s->ticks_behind++;
	s->received_at_tick = c->nifaces ? c->ifaces[0].received : 0;
	s->last_now = now;
	if (s->ticks == 3) {
		stop_sending = 1;
		dr_input_interrupt = SIGINT;	/* ends the input at its next batch */
	}
}

static int can_capture(void)
{
	char err[512], *ifaces[] = {"lo"};
	struct dr_input_spec spec = {.ifaces = ifaces, .nifaces = 1, .capture_buffer = 1 << 20};
	struct dr_input in;
	if (dr_input_open(&in, &spec, err, sizeof(err)) == 0) {
		CHECK_STR(in.ops->name, "live");
		CHECK_STR(in.ifaces[0].name, "lo");
		CHECK_EQ(in.ifaces[0].buffer, 1 << 20);
		CHECK(in.ops->fd(&in) >= 0);
		dr_input_close(&in);
		return 1;
	}
	CHECK_STR(err, "lo: capturing needs root or CAP_NET_RAW");
	printf("SKIP capture on lo: %s\n", err);
	return 0;
}

static void run_ticks(unsigned threads)
{
	static struct dr_pipeline p;
	struct seen s = {.p = &p};
	char bpf[64], *ifaces[] = {"lo"};
	port = free_port();
	stop_sending = 0;
	snprintf(bpf, sizeof(bpf), "udp dst port %u", port);
	dr_pipeline_init(&p);
	dr_port_set(p.dns_ports, (uint16_t)port);
	p.ifaces = ifaces;
	p.nifaces = 1;
	p.capture_buffer = 1 << 20;
	p.bpf = bpf;
	p.threads = threads;
	p.progress = 0;
	p.catch_signals = 0;
	p.idle_fn = on_tick;
	p.idle_ctx = &s;
	pthread_t tid;
	CHECK_EQ(pthread_create(&tid, NULL, sender, NULL), 0);
	int64_t before = time(NULL);
	int rc = dr_pipeline_run(&p, on_message, &s);
	stop_sending = 1;
	pthread_join(tid, NULL);
	dr_input_interrupt = 0;
	CHECK_EQ(rc, 0);
	if (rc)
		fprintf(stderr, "%s\n", p.error);
	CHECK_EQ(s.ticks, 3);
	CHECK_EQ(s.ticks_elsewhere, 0);	/* on the consumers' thread */
	CHECK_EQ(s.ticks_behind, 0);	/* after the records before them */
	CHECK(s.received_at_tick > 0);
	/* live packets carry the time they were captured */
	CHECK(s.last_now >= before && s.last_now <= time(NULL) + 1);
	if (threads == 1)
		CHECK(pthread_equal(s.fn_thread, pthread_self()));
	else
		CHECK(!pthread_equal(s.fn_thread, pthread_self()));
	CHECK_EQ(p.ncapture, 1);
	CHECK_STR(p.capture[0].name, "lo");
	CHECK_EQ(p.capture[0].received, s.messages);
	CHECK_EQ(p.capture[0].kernel_drops, 0);
	CHECK_EQ(p.capture[0].buffer, 1 << 20);
	CHECK_EQ(dr_pipeline_counters(&p)->ifaces[0].received, s.messages);
}

static void test_ticks_one_thread(void)
{
	run_ticks(1);
}

static void test_ticks_two_threads(void)
{
	run_ticks(2);
}

/* ---- ticks under a stream that never pauses ------------------------------ */

/* A pcap image of n DNS queries over Ethernet/IPv4/UDP to port 53, a
 * millisecond apart from 1700000000. */
static uint8_t *queries_image(unsigned n, size_t *len)
{
	static const uint8_t frame[] = {
		0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 0x08, 0x00,
		0x45, 0, 0, 57, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 198, 51, 100, 53,
		0x9c, 0x40, 0, 53, 0, 37, 0, 0,
		0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1,
	};
	size_t rec = 16 + sizeof(frame);
	uint8_t *img = malloc(24 + (size_t)n * rec), *q = img;
	uint32_t hdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
	memcpy(q, hdr, 24);
	q += 24;
	for (unsigned i = 0; i < n; i++) {
		uint32_t h[4] = {1700000000u + i / 1000, (i % 1000) * 1000, sizeof(frame),
				 sizeof(frame)};
		memcpy(q, h, 16);
		memcpy(q + 16, frame, sizeof(frame));
		q += rec;
	}
	*len = 24 + (size_t)n * rec;
	return img;
}

struct slow {
	unsigned messages, ticks, ticks_elsewhere;
	pthread_t fn_thread;
	int64_t first_now;
};

/* Every message costs a millisecond: the reader never finds the input
 * empty, so only the ticks under a steady stream can move the clock. */
static void slow_message(void *ctx, const struct dr_record *r)
{
	struct slow *s = ctx;
	(void)r;
	s->fn_thread = pthread_self();
	s->messages++;
	struct timespec ms = {0, 1000 * 1000};
	nanosleep(&ms, NULL);
}

static void slow_tick(void *ctx, int64_t now)
{
	struct slow *s = ctx;
	if (!s->ticks++)
		s->first_now = now;
	if (!pthread_equal(s->fn_thread, pthread_self()))
		s->ticks_elsewhere++;
}

static void run_steady(unsigned threads)
{
	static struct dr_pipeline p;
	struct slow s = {0};
	size_t len;
	/* 4 s of messages at 1 ms; with two threads the reader is done when
	 * the last 16 batches are in the ring, a second before the consumer */
	uint8_t *img = queries_image(4000, &len);
	dr_pipeline_init(&p);
	p.mem = img;
	p.mem_len = len;
	p.threads = threads;
	p.progress = 0;
	p.catch_signals = 0;
	p.idle_fn = slow_tick;
	p.idle_ctx = &s;
	CHECK_EQ(dr_pipeline_run(&p, slow_message, &s), 0);
	CHECK_EQ(s.messages, 4000);
	/* a tick at least once a second of the reading (at a batch's end) */
	CHECK(s.ticks >= 2);
	CHECK_EQ(s.ticks_elsewhere, 0);
	CHECK(s.first_now >= 1700000000 && s.first_now <= 1700000010);
	free(img);
}

static void test_steady_one_thread(void)
{
	run_steady(1);
}

static void test_steady_two_threads(void)
{
	run_steady(2);
}

static void expect_error(char **ifaces, unsigned n, const char *bpf, int snaplen,
			 const char *want)
{
	char err[512] = "";
	struct dr_input_spec spec = {.ifaces = ifaces, .nifaces = n, .bpf = bpf,
				     .snaplen = snaplen, .capture_buffer = 1 << 20};
	struct dr_input in;
	CHECK_EQ(dr_input_open(&in, &spec, err, sizeof(err)), -1);
	CHECK(strncmp(err, want, strlen(want)) == 0);
	if (strncmp(err, want, strlen(want)) != 0)
		fprintf(stderr, "  got \"%s\", want \"%s...\"\n", err, want);
	CHECK(!strchr(err, '\n'));
}

static void test_errors(void)
{
	char *none[] = {"nosuch0"}, *lo[] = {"lo"}, *twice[] = {"lo", "lo"};
	expect_error(none, 1, NULL, 0, "nosuch0: no such interface");
	expect_error(lo, 1, "udp prt 53", 0, "--bpf 'udp prt 53': ");
	expect_error(twice, 2, NULL, 0, "-i lo: named twice");
	expect_error(lo, 1, NULL, 10, "--snaplen 10: give octets from 64 to 262144");
}

/* The report's warning for kernel drops: which interface, how many, the
 * ring's size, what to do; none when nothing was dropped. */
static void test_drop_warning(void)
{
	struct dr_decode_stats decode = {0};
	struct dr_input_iface ifs[2] = {
		{.name = "eth0", .received = 1000, .buffer = 64 << 20},
		{.name = "eth1", .received = 900, .kernel_drops = 12345, .if_drops = 7,
		 .buffer = 64 << 20},
	};
	struct dr_report r = {.decode = &decode, .ifaces = ifs, .nifaces = 2};
	struct dr_warnings ws;
	dr_report_warnings(&ws, &r);
	unsigned found = 0;
	char text[512] = "";
	for (unsigned i = 0; i < ws.n; i++)
		if (ws.w[i].code == DR_WARN_CAPTURE_DROPS) {
			found++;
			CHECK_STR(ws.w[i].subject, "eth1");
			CHECK_EQ(ws.w[i].count, 12345);
			dr_warning_text(&ws.w[i], &r, text, sizeof(text));
		}
	CHECK_EQ(found, 1);
	CHECK_STR(dr_warning_name(DR_WARN_CAPTURE_DROPS), "capture_drops");
	CHECK(strstr(text, "12,345 packets dropped by the kernel on eth1") != NULL);
	CHECK(strstr(text, "(64 MiB)") != NULL);
	CHECK(strstr(text, "raise --buffer") != NULL);
	CHECK(strstr(text, "the interface itself dropped 7 more") != NULL);
	if (!strstr(text, "raise --buffer"))
		fprintf(stderr, "  got \"%s\"\n", text);
	ifs[1].kernel_drops = 0;
	dr_report_warnings(&ws, &r);
	for (unsigned i = 0; i < ws.n; i++)
		CHECK(ws.w[i].code != DR_WARN_CAPTURE_DROPS);
}

int main(void)
{
	RUN(test_drop_warning);
	RUN(test_steady_one_thread);
	RUN(test_steady_two_threads);
	if (can_capture()) {
		RUN(test_ticks_one_thread);
		RUN(test_ticks_two_threads);
		RUN(test_errors);
	}
	TEST_MAIN_END();
}
