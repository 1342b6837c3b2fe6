/* Fuzz target: the whole analyze path. Frames (as in fuzz_packet.c) are
 * decoded, their keys derived, and fed to all five detectors with tiny
 * tables and to the report tables, then both renderers run, so evidence
 * and report text are built from hostile names and payloads. Detector
 * thresholds are set low so that alerts fire. The engine and tables are
 * built once and reused across inputs (their state carries over, as in a
 * long capture). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/packet.h"
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
static int ready;

static void sink(void *ctx, const struct dr_record *r)
{
	(void)ctx;
	dr_engine_record(&engine, (struct dr_record *)r);	/* the decoder's scratch */
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
	static uint8_t ports[8192];
	dr_port_set(ports, 53);
	if (dr_engine_start(&engine, ports) < 0)
		return -1;
	struct dr_stats_config cfg = {.max_addresses = 16, .max_names = 16,
				      .regdom = engine.regdom};
	return dr_stats_init(&stats, &cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ports[8192];
	static int64_t clock_base;
	if (!ready) {
		if (setup() < 0)
			__builtin_trap();
		dr_port_set(ports, 53);
		ready = 1;
	}
	if (size < 1)
		return 0;
	struct dr_decoder dec;
	struct dr_decode_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.dns_ports = ports;
	cfg.frag.sets = 16;
	cfg.frag.mem_cap = 64 * 1024;
	cfg.tcp.streams = 16;
	cfg.tcp.mem_cap = 64 * 1024;
	if (dr_decoder_init(&dec, &cfg, sink, NULL) < 0)
		return 0;
	int link = links[data[0] % (sizeof(links) / sizeof(links[0]))];
	size_t pos = 1;
	uint64_t frame = 0;
	while (pos + 3 <= size) {
		/* 1 byte of time step (in 1/16 s), 2 bytes of length, the frame */
		clock_base += data[pos];
		size_t len = (size_t)data[pos + 1] << 8 | data[pos + 2];
		pos += 3;
		if (len > size - pos)
			len = size - pos;
		frame++;
		struct dr_packet pkt = {
			.data = data + pos, .caplen = (uint32_t)len, .wirelen = (uint32_t)len,
			.link = link, .ts_sec = 1700000000 + clock_base / 16,
			.ts_nsec = (uint32_t)(clock_base % 16) * 62500000u, .frame = frame,
		};
		dr_decoder_packet(&dec, &pkt);
		pos += len;
	}
	dr_decoder_fini(&dec);

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
				struct dr_report rep = {.stats = &stats, .tables = &tables,
							.decode = &dec.stats, .engine = &engine,
							.alerts = &none, .show_stats = 1};
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
