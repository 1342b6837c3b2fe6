/* Capture -> decode -> filter -> consumer, with an optional progress bar. */
#include "core/pipeline.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "input/capture.h"

void dr_pipeline_init(struct dr_pipeline *p)
{
	memset(p, 0, sizeof(*p));
	dr_port_set(p->dns_ports, 53);
	p->progress = 1;
}

struct run_ctx {
	struct dr_pipeline *p;
	dr_message_fn fn;
	void *ctx;
};

static void filtered_message(void *arg, const struct dr_record *r)
{
	struct run_ctx *rc = arg;
	if (rc->p->every_fn)	/* the record is the decoder's scratch space */
		rc->p->every_fn(rc->p->every_ctx, (struct dr_record *)r);
	if (rc->p->where.n && !dr_where_match(&rc->p->where, r))
		return;
	rc->p->matched++;
	rc->fn(rc->ctx, r);
}

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
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

int dr_pipeline_run(struct dr_pipeline *p, dr_message_fn fn, void *ctx)
{
	struct dr_capture cap;
	struct dr_decoder dec;
	struct run_ctx rc = {p, fn, ctx};
	int ret = 0;

	p->decode.dns_ports = p->dns_ports;
	if (dr_capture_open(&cap, p->files, p->nfiles, p->bpf, p->error, sizeof(p->error)) < 0)
		return -1;
	if (dr_decoder_init(&dec, &p->decode, filtered_message, &rc) < 0) {
		snprintf(p->error, sizeof(p->error), "out of memory for the decoder tables");
		dr_capture_close(&cap);
		return -1;
	}
	p->decode_mem = dr_decoder_mem_budget(&dec);

	int show = p->progress && cap.total_size > 0 && isatty(STDERR_FILENO);
	double start = show ? mono_now() : 0, last_draw = start;
	int drawn = 0;
	struct dr_packet pkt;
	while (dr_capture_next(&cap, &pkt) == 1) {
		dr_decoder_packet(&dec, &pkt);
		if (show && (dec.stats.frames & 0x3fff) == 0) {
			double now = mono_now();
			if (now - last_draw >= 0.2) {
				draw_progress(dr_capture_progress(&cap), cap.total_size,
					      dec.stats.frames, now - start);
				last_draw = now;
				drawn = 1;
			}
		}
	}
	if (drawn)
		fprintf(stderr, "\r\033[K");
	dr_decoder_fini(&dec);
	p->stats = dec.stats;
	p->filtered = cap.filtered;
	if (cap.failed) {
		p->cut_short = 1;
		snprintf(p->error, sizeof(p->error), "%s", cap.error);
		ret = 1;
	}
	dr_capture_close(&cap);
	return ret;
}
