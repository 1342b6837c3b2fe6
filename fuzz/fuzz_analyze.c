/* Fuzz target: the whole analyze path. Frames (as in fuzz_packet.c) are
 * written into a pcap image and fed through the pipeline's memory input
 * (src/input/input.h), so reading, decoding, the keys, all five detectors
 * (tiny tables) and the report tables run as in `dnsradar analyze`; then
 * both renderers run, so evidence and report text are built from hostile
 * names and payloads. Detector thresholds are set low so that alerts fire.
 * The engine and tables are built once, sized for the fuzzer, and reused
 * across inputs (their state carries over, as in a long capture); the
 * report, warnings included, is rendered after every input: building the
 * tables costs what they hold, not the size of their arrays. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pipeline.h"
#include "detect/engine.h"
#include "report/render.h"
#include "report/stats.h"
#include "report/tables.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int links[] = {
	DR_LINK_ETHERNET, DR_LINK_LINUX_SLL, DR_LINK_RAW, DR_LINK_NULL, DR_LINK_IPV6,
};

static const char *const settings[] = {
	"reflection.responders=16", "reflection.min_rps=1", "reflection.min_rps_local=1",
	"reflection.min_seconds=1", "reflection.min_factor=0", "reflection.top_share=0",
	"amplification.destinations=16", "amplification.min_pps=1",
	"amplification.min_reflectors=1", "amplification.min_seconds=1",
	"amplification.min_size=0", "amplification.max_query_ratio=1",
	"random_subdomain.zones=16", "random_subdomain.min_distinct=1",
	"random_subdomain.min_seconds=1", "random_subdomain.min_nx_share=0",
	"random_subdomain.max_numeric_share=1",
	"flood.sources=16", "flood.targets=16", "flood.source_pps=1", "flood.junk_pps=1",
	"flood.target_pps=1", "flood.min_seconds=1",
	"loop.conversations=16", "loop.min_pps=1", "loop.min_seconds=1",
};

static struct dr_engine engine;
static struct dr_stats stats;
static struct dr_pipeline pipe;
static int ready;

static void detect(void *ctx, struct dr_record *r)
{
	(void)ctx;
	dr_engine_record(&engine, r);
}

static void add(void *ctx, const struct dr_record *r)
{
	(void)ctx;
	dr_stats_add(&stats, r);
}

static int setup(void)
{
	char err[256];
	dr_engine_defaults(&engine);
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		if (dr_engine_set(&engine, settings[i], err, sizeof(err)) < 0)
			return -1;
	dr_roles_add_local(&engine.roles, "10.0.0.0/8", err, sizeof(err));
	dr_roles_add_local(&engine.roles, "2001:db8::/32", err, sizeof(err));
	dr_roles_add_resolver(&engine.roles, "10.0.0.53", err, sizeof(err));
	dr_pipeline_init(&pipe);
	if (dr_engine_start(&engine, pipe.dns_ports) < 0)
		return -1;
	struct dr_stats_config cfg = {.max_addresses = 16, .max_names = 16,
				      .regdom = engine.regdom};
	if (dr_stats_init(&stats, &cfg) < 0)
		return -1;
	/* As analyze runs it, on one thread, with decoder tables sized for
	 * inputs of a few kilobytes, and no signal handlers (libFuzzer's). */
	pipe.progress = 0;
	pipe.catch_signals = 0;
	pipe.threads = 1;
	pipe.keys = 1;
	pipe.regdom = engine.regdom;
	pipe.every_fn = detect;
	pipe.decode.frag.sets = 16;
	pipe.decode.frag.mem_cap = 64 * 1024;
	pipe.decode.tcp.streams = 16;
	pipe.decode.tcp.mem_cap = 64 * 1024;
	return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);	/* the image is in our byte order */
}

/* Writes the frames of an input as a nanosecond pcap image: 1 byte of link
 * type, then per frame 1 byte of time step (in 1/16 s), 2 bytes of length
 * and the frame. Returns the image's length, or 0 when out of memory. */
static size_t make_image(const uint8_t *data, size_t size, uint8_t **image, size_t *cap)
{
	static int64_t clock_base;
	size_t need = 24 + (size / 3 + 1) * 16 + size;
	if (need > *cap) {
		uint8_t *b = realloc(*image, need);
		if (!b)
			return 0;
		*image = b;
		*cap = need;
	}
	uint8_t *out = *image;
	put32(out, 0xa1b23c4d);
	put32(out + 4, 2 | 4u << 16);
	put32(out + 8, 0);
	put32(out + 12, 0);
	put32(out + 16, 65535);
	put32(out + 20, (uint32_t)links[data[0] % (sizeof(links) / sizeof(links[0]))]);
	size_t n = 24, pos = 1;
	while (pos + 3 <= size) {
		clock_base += data[pos];
		size_t len = (size_t)data[pos + 1] << 8 | data[pos + 2];
		pos += 3;
		if (len > size - pos)
			len = size - pos;
		put32(out + n, (uint32_t)(1700000000 + clock_base / 16));
		put32(out + n + 4, (uint32_t)(clock_base % 16) * 62500000u);
		put32(out + n + 8, (uint32_t)len);
		put32(out + n + 12, (uint32_t)len);
		memcpy(out + n + 16, data + pos, len);
		n += 16 + len;
		pos += len;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *image;
	static size_t cap;
	if (!ready) {
		if (setup() < 0)
			__builtin_trap();
		ready = 1;
	}
	if (size < 1)
		return 0;
	pipe.mem_len = make_image(data, size, &image, &cap);
	pipe.mem = image;
	if (!pipe.mem_len || dr_pipeline_run(&pipe, add, NULL) < 0)
		return 0;

	/* Render what there is so far, to memory, both ways. */
	struct dr_tables tables;
	if (dr_tables_build(&tables, &stats, 4, NULL) == 0) {
		char *buf = NULL;
		size_t blen = 0;
		FILE *mem = open_memstream(&buf, &blen);
		if (mem) {
			struct dr_out o;
			if (dr_out_init(&o, mem, 1 << 16) == 0) {
				static struct dr_alert_log none;
				struct dr_report rep = {
					.stats = &stats, .tables = &tables, .decode = &pipe.stats,
					.engine = &engine, .alerts = &none, .show_stats = 1,
					.notes = &pipe.notes, .dns_ports = pipe.dns_ports,
					.bpf = pipe.bpf, .cut_short = pipe.cut_short,
					.cut_file = "(fuzz input)", .cut_packet = pipe.cut_packet,
					.cut_offset = pipe.cut_offset, .cut_why = pipe.cut_why,
				};
				dr_render_text(&o, &rep);
				dr_render_json(&o, &rep);
				dr_out_fini(&o);
			}
			fclose(mem);
			free(buf);
		}
		dr_tables_free(&tables);
	}
	return 0;
}
