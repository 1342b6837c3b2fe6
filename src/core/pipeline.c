/* Input -> decode -> filter -> consumer, with an optional progress bar;
 * the consumers optionally on a second thread. */
#include "core/pipeline.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/keys.h"
#include "input/input.h"
#include "lib/now.h"
#include "lib/ring.h"

/* A batch handed to the second thread: records, and their payloads in an
 * arena that holds at least one message of the largest size. */
#define BATCH_RECORDS 64
#define BATCH_ARENA (BATCH_RECORDS * DR_PAYLOAD_KEPT)
_Static_assert(BATCH_ARENA % 8 == 0 && DR_PAYLOAD_KEPT % 8 == 0,
	       "every record of a batch has its payload's kept octets, at 8-octet boundaries");
#define RING_BATCHES 16

struct batch {
	uint32_t n;
	uint32_t arena_used;
	/* after the records: a tick of the live clock (idle_fn), with the
	 * input's counters as the reader saw them then */
	int has_tick;
	int tick_clock;		/* a record has been seen: tick is a time */
	int64_t tick;
	struct dr_pipeline_counters counters;
	struct dr_record rec[BATCH_RECORDS];
	uint8_t arena[BATCH_ARENA];
};

void dr_pipeline_init(struct dr_pipeline *p)
{
	memset(p, 0, sizeof(*p));
	dr_port_set(p->dns_ports, 53);
	static const uint16_t flow_ports[] = DR_FLOW_PORTS_DEFAULT;
	for (unsigned i = 0; i < sizeof(flow_ports) / sizeof(flow_ports[0]); i++)
		dr_port_set(p->flow_ports, flow_ports[i]);
	p->flows = 1;
	dr_flow_config_defaults(&p->flow_config);
	p->progress = 1;
	p->threads = 1;
	p->catch_signals = 1;
}

struct run_ctx {
	struct dr_pipeline *p;
	dr_message_fn fn;
	void *ctx;
	struct dr_ring *ring;	/* NULL: the consumers run inline */
	struct batch *batch;	/* being filled */
	int64_t latest;		/* the latest time a record stood for */
	double latest_mono;	/* when it came, by the monotonic clock */
	double last_tick;	/* the latest tick, by the monotonic clock */
	uint64_t ticks;
	struct dr_input *in;	/* for the counters a tick carries */
	struct dr_decoder *dec;
	const struct dr_flow_decoder *flow;	/* NULL: none */
	int64_t wall;		/* the wall clock's second, at the latest batch */
};

/* What follows the keys, on whichever thread: every_fn sees every
 * message, fn those that pass --where. */
static void consume(struct run_ctx *rc, struct dr_record *r)
{
	struct dr_pipeline *p = rc->p;
	if (p->every_fn)
		p->every_fn(p->every_ctx, r);
	if (p->where.n && !dr_where_match(&p->where, r))
		return;
	p->matched++;
	rc->fn(rc->ctx, r);
}

/* A tick, on the consumers' thread: the counters become the ones
 * dr_pipeline_counters gives, then the live clock moves on. */
static void take_tick(struct dr_pipeline *p, const struct dr_pipeline_counters *c, int clock,
		      int64_t now)
{
	if (c != &p->live)
		p->live = *c;
	if (clock)
		p->idle_fn(p->idle_ctx, now);
	else if (p->tick_unclocked)
		p->idle_fn(p->idle_ctx, DR_PIPELINE_NO_CLOCK);
}

static void *consumer_thread(void *arg)
{
	struct run_ctx *rc = arg;
	struct batch *b;
	while ((b = dr_ring_consume(rc->ring)) != NULL) {
		for (uint32_t i = 0; i < b->n; i++)
			consume(rc, &b->rec[i]);
		if (b->has_tick)
			take_tick(rc->p, &b->counters, b->tick_clock, b->tick);
		dr_ring_release(rc->ring);
	}
	return NULL;
}

static struct batch *new_batch(struct run_ctx *rc)
{
	struct batch *b = rc->batch = dr_ring_produce(rc->ring);
	b->n = b->arena_used = 0;
	b->has_tick = 0;
	return b;
}

static void hand_off(struct run_ctx *rc, const struct dr_record *r)
{
	struct batch *b = rc->batch;
	if (b && b->n == BATCH_RECORDS) {
		dr_ring_publish(rc->ring);
		b = NULL;
	}
	if (!b)
		b = new_batch(rc);
	dr_record_copy(&b->rec[b->n++], r, b->arena + b->arena_used);
	b->arena_used += (dr_record_copy_len(r) + 7) & ~7u;
}

static void filtered_message(void *arg, const struct dr_record *r)
{
	struct run_ctx *rc = arg;
	struct dr_pipeline *p = rc->p;
	if (p->max_ahead && r->end_sec > rc->wall + p->max_ahead) {
		/* a time from the future (a hostile or broken exporter) would
		 * carry the clock with it: every open alert closed at once */
		p->ahead++;
		return;
	}
	if (p->idle_fn && r->end_sec > rc->latest) {
		rc->latest = r->end_sec;
		rc->latest_mono = dr_mono_now();
	}
	/* The record is the decoder's scratch space: ours to annotate. */
	if (p->keys)
		dr_keys_fill((struct dr_record *)r, p->regdom);
	if (rc->ring)
		hand_off(rc, r);
	else
		consume(rc, (struct dr_record *)r);
}

/* Starts the second thread; on any failure the consumers simply run inline. */
static void start_thread(struct run_ctx *rc, struct dr_ring *ring, pthread_t *tid)
{
	if (rc->p->threads < 2)
		return;
	if (dr_ring_init(ring, RING_BATCHES, sizeof(struct batch)) < 0)
		return;
	rc->ring = ring;
	/* Signals go to the reading thread, so that they interrupt a read
	 * blocked on a pipe: the consumer never takes them. */
	sigset_t stop, old;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	int bad = pthread_create(tid, NULL, consumer_thread, rc);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (bad) {
		dr_ring_fini(ring);
		rc->ring = NULL;
		return;
	}
	rc->p->ring_mem = dr_ring_mem(ring);
}

static void stop_thread(struct run_ctx *rc, pthread_t tid)
{
	if (!rc->ring)
		return;
	if (rc->batch)
		dr_ring_publish(rc->ring);
	dr_ring_close(rc->ring);
	pthread_join(tid, NULL);
	dr_ring_fini(rc->ring);
	rc->ring = NULL;
}

static void draw_progress(uint64_t done, uint64_t total, uint64_t packets, double elapsed)
{
	const int width = 30;
	double frac = total ? (double)done / (double)total : 0;
	if (frac > 1)
		frac = 1;
	int fill = (int)(frac * width);
	char bar[64];
	for (int i = 0; i < width; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[width] = 0;
	double rate = elapsed > 0 ? (double)packets / elapsed : 0;
	double eta = frac > 0.01 ? elapsed * (1 - frac) / frac : 0;
	fprintf(stderr, "\r%3d%% [%s] %.1fM packets, %.2f Mpps, %.0fs left \033[K",
		(int)(frac * 100), bar, (double)packets / 1e6, rate / 1e6, eta);
	fflush(stderr);
}

static void on_stop_signal(int sig)
{
	dr_input_interrupt = sig;	/* the only thing a handler may do here */
}

/* SIGINT and SIGTERM set the inputs' flag, once: without SA_RESTART, so a
 * read blocked on a pipe returns, and with SA_RESETHAND, so a second
 * signal ends the process as usual. A signal ignored by whoever started
 * us (a background job) stays ignored. */
static void catch_signals(struct sigaction old[2])
{
	static const int sigs[2] = {SIGINT, SIGTERM};
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 2; i++) {
		sigaction(sigs[i], NULL, &old[i]);
		if (old[i].sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	}
}

static void restore_signals(const struct sigaction old[2])
{
	sigaction(SIGINT, &old[0], NULL);
	sigaction(SIGTERM, &old[1], NULL);
}

static void copy_counters(struct dr_pipeline_counters *c, const struct dr_input *in,
			  const struct dr_decoder *dec, const struct dr_flow_decoder *flow,
			  uint64_t ahead, uint64_t ticks)
{
	if (flow)
		c->flows = flow->stats;
	c->ahead = ahead;
	memcpy(c->ifaces, in->ifaces, sizeof(c->ifaces));
	c->nifaces = in->nifaces;
	memcpy(c->sockets, in->sockets, sizeof(c->sockets));
	c->nsockets = in->nsockets;
	c->decode = dec->stats;
	c->ticks = ticks;
}

/* Tells the consumers what time the input's clock says it is (once a
 * record has come), with the input's counters: inline with one thread,
 * else behind the records already in the ring, in a batch published at
 * once so the tick is not held back by a batch not yet full. */
static void tick(struct run_ctx *rc, double mono)
{
	struct dr_pipeline *p = rc->p;
	int clock = rc->latest_mono > 0;
	int64_t now = rc->latest + (int64_t)(mono - rc->latest_mono);
	rc->last_tick = mono;
	rc->ticks++;
	if (!rc->ring) {
		copy_counters(&p->live, rc->in, rc->dec, rc->flow, p->ahead, rc->ticks);
		take_tick(p, &p->live, clock, now);
		return;
	}
	struct batch *b = rc->batch ? rc->batch : new_batch(rc);
	b->has_tick = 1;
	b->tick_clock = clock;
	b->tick = now;
	copy_counters(&b->counters, rc->in, rc->dec, rc->flow, rc->p->ahead, rc->ticks);
	dr_ring_publish(rc->ring);
	rc->batch = NULL;
}

/* A second or more since the last tick: tick now. */
static void maybe_tick(struct run_ctx *rc)
{
	double mono = dr_mono_now();
	if (mono - rc->last_tick >= 1.0)
		tick(rc, mono);
}

/* Nothing is ready: waits for the input until the next tick is due (a
 * second at most), then ticks if it is. */
static void wait_input(struct run_ctx *rc, struct dr_input *in)
{
	struct dr_pipeline *p = rc->p;
	int fd = in->ops->fd(in);
	int ms = 1000;
	if (p->idle_fn) {
		double left = rc->last_tick + 1.0 - dr_mono_now();
		ms = left <= 0 ? 0 : left >= 1.0 ? 1000 : (int)(left * 1000) + 1;
	}
	if (fd >= 0 && ms > 0) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		poll(&pfd, 1, ms);	/* a signal ends it early: EINTR */
	}
	if (p->idle_fn)
		maybe_tick(rc);
}

/* Reads the input to its end, or until a signal, a batch at a time: one
 * indirect call per batch, the decoder called directly per packet. */
static void read_all(struct run_ctx *rc, struct dr_input *in, struct dr_decoder *dec)
{
	struct dr_pipeline *p = rc->p;
	uint64_t done = 0, total = 0;
	in->ops->progress(in, &done, &total);
	int show = p->progress && total > 0 && isatty(STDERR_FILENO);
	double start = show ? dr_mono_now() : 0, last_draw = start;
	uint64_t last_frames = 0;
	int drawn = 0;
	struct dr_packet pkts[DR_INPUT_BATCH];
	for (;;) {	/* after a signal the input ends soon by itself */
		int n = dr_input_read(in, pkts, DR_INPUT_BATCH);
		if (n == DR_INPUT_END)
			break;
		if (n == 0) {
			wait_input(rc, in);
			continue;
		}
		if (p->max_ahead) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME_COARSE, &ts);
			rc->wall = ts.tv_sec;
		}
		for (int i = 0; i < n; i++)
			dr_decoder_packet(dec, &pkts[i]);
		if (p->idle_fn)
			maybe_tick(rc);	/* the clock moves on under a steady stream */
		if (show && dec->stats.frames - last_frames >= 0x4000) {
			last_frames = dec->stats.frames;
			double now = dr_mono_now();
			if (now - last_draw >= 0.2) {
				in->ops->progress(in, &done, &total);
				draw_progress(done, total, dec->stats.frames, now - start);
				last_draw = now;
				drawn = 1;
			}
		}
	}
	if (drawn)
		fprintf(stderr, "\r\033[K");
}

int dr_pipeline_run(struct dr_pipeline *p, dr_message_fn fn, void *ctx)
{
	struct dr_input in;
	struct dr_decoder dec;
	struct dr_flow_decoder *flow = NULL;
	struct run_ctx rc = {.p = p, .fn = fn, .ctx = ctx, .in = &in, .dec = &dec};
	struct dr_ring ring;
	struct sigaction old_sig[2];
	pthread_t tid = 0;
	int ret = 0;
	struct dr_input_spec spec = {
		.paths = p->files, .npaths = p->nfiles, .mem = p->mem, .mem_len = p->mem_len,
		.bpf = p->bpf, .listen = p->listen, .nlisten = p->nlisten, .rcvbuf = p->rcvbuf,
		.ifaces = p->ifaces, .nifaces = p->nifaces, .snaplen = p->snaplen,
		.capture_buffer = p->capture_buffer,
	};

	p->decode.dns_ports = p->dns_ports;
	p->decode.flow_ports = p->flow_ports;
	p->decode.on_export = NULL;
	p->cut_short = 0;	/* a pipeline may be run again (fuzz_analyze) */
	if (p->catch_signals)
		catch_signals(old_sig);
	if (dr_input_open(&in, &spec, p->error, sizeof(p->error)) < 0) {
		ret = -1;
		if (dr_input_interrupt) {	/* stopped before the first packet */
			p->interrupted = dr_input_interrupt;
			ret = 0;
		}
		goto out;
	}
	/* Flow exports the decoder finds go to the flow decoder, whose
	 * records join the decoder's on their way to the consumers. */
	if (p->flows && !(flow = malloc(sizeof(*flow)))) {
		snprintf(p->error, sizeof(p->error), "out of memory for the flow decoder");
		dr_input_close(&in);
		ret = -1;
		goto out;
	}
	if (flow && dr_flow_init(flow, &p->flow_config, p->dns_ports, filtered_message, &rc) < 0) {
		free(flow);
		flow = NULL;
		snprintf(p->error, sizeof(p->error), "out of memory for the flow decoder's tables");
		dr_input_close(&in);
		ret = -1;
		goto out;
	}
	if (flow) {
		p->decode.on_export = dr_flow_export;
		p->decode.export_ctx = flow;
	}
	if (dr_decoder_init(&dec, &p->decode, filtered_message, &rc) < 0) {
		snprintf(p->error, sizeof(p->error), "out of memory for the decoder tables");
		dr_input_close(&in);
		ret = -1;
		goto out;
	}
	p->decode_mem = dr_decoder_mem_budget(&dec) + (flow ? dr_flow_mem(flow) : 0);
	if (p->opened_fn && p->opened_fn(p->opened_ctx, p->error, sizeof(p->error)) != 0) {
		dr_decoder_fini(&dec);
		dr_input_close(&in);
		ret = -1;
		goto out;
	}
	memset(&p->live, 0, sizeof(p->live));
	rc.flow = flow;
	start_thread(&rc, &ring, &tid);
	rc.last_tick = dr_mono_now();
	read_all(&rc, &in, &dec);
	p->interrupted = dr_input_interrupt;
	dr_decoder_fini(&dec);
	stop_thread(&rc, tid);
	p->stats = dec.stats;
	p->notes = dec.notes;
	memset(&p->flow_stats, 0, sizeof(p->flow_stats));
	p->nflow_exporters = 0;
	if (flow) {
		p->flow_stats = flow->stats;
		p->nflow_exporters = dr_flow_busiest(flow, p->flow_exporters, DR_FLOW_EXPORTERS_KEPT);
	}
	dr_input_refresh(&in);	/* the kernel's counts up to the end */
	p->filtered = in.filtered;
	p->filtered_fragments = in.filtered_fragments;
	p->filtered_vlan = in.filtered_vlan;
	p->nsockets = in.nsockets;
	memcpy(p->sockets, in.sockets, sizeof(p->sockets));
	memcpy(p->listen_note, in.note, sizeof(p->listen_note));
	p->ncapture = in.nifaces;
	memcpy(p->capture, in.ifaces, sizeof(p->capture));
	copy_counters(&p->live, &in, &dec, flow, p->ahead, rc.ticks);
	if (in.failed) {
		p->cut_short = 1;
		p->cut_file = in.failed_file;
		p->cut_packet = in.failed_packet;
		p->cut_offset = in.failed_offset;
		snprintf(p->cut_why, sizeof(p->cut_why), "%s", in.failed_why);
		snprintf(p->error, sizeof(p->error), "%s", in.error);
		ret = 1;
	}
	dr_input_close(&in);
out:
	if (flow) {
		dr_flow_fini(flow);
		free(flow);
	}
	if (p->catch_signals)
		restore_signals(old_sig);
	return ret;
}

const struct dr_pipeline_counters *dr_pipeline_counters(const struct dr_pipeline *p)
{
	return &p->live;
}
