/* Reads a pcap the way the pipeline does for flow exports: frames through
 * the packet decoder, the datagrams it finds at flow ports through the
 * flow decoder, every record (DNS messages and flow records) to one sink.
 * For the decoders' tests over the shared captures. */
#ifndef DR_TEST_FLOWCAP_H
#define DR_TEST_FLOWCAP_H

#include <stdio.h>
#include <string.h>

#include "decode/flow.h"
#include "decode/packet.h"
#include "input/pcapfile.h"

struct flowcap {
	struct dr_decode_stats stats;
	struct dr_flow_stats flow;
	struct dr_flow_exporter source;	/* the first sFlow data source, if any */
};

/* 0, or -1 when the file cannot be opened or read as a capture. */
static int flowcap_read(const char *path, const uint8_t *dns_ports, const uint8_t *flow_ports,
			dr_message_fn sink, void *ctx, struct flowcap *out)
{
	struct dr_decode_config cfg;
	struct dr_flow_config fcfg;
	struct dr_flow_decoder f;
	struct dr_decoder d;
	struct dr_pcapfile pf;
	FILE *fp = fopen(path, "rb");
	memset(out, 0, sizeof(*out));
	if (!fp)
		return -1;
	dr_flow_config_defaults(&fcfg);
	if (dr_flow_init(&f, &fcfg, dns_ports, sink, ctx) < 0) {
		fclose(fp);
		return -1;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.dns_ports = dns_ports;
	cfg.flow_ports = flow_ports;
	cfg.on_export = dr_flow_export;
	cfg.export_ctx = &f;
	cfg.frag.sets = 16;
	cfg.frag.mem_cap = 1 << 20;
	cfg.tcp.streams = 16;
	cfg.tcp.mem_cap = 1 << 20;
	if (dr_decoder_init(&d, &cfg, sink, ctx) < 0 || dr_pcapfile_open(&pf, NULL, 0, fp) < 0) {
		dr_flow_fini(&f);
		fclose(fp);
		return -1;
	}
	struct dr_pcap_record rec;
	uint64_t frame = 0;
	while (dr_pcapfile_next(&pf, &rec) == 1) {
		struct dr_packet pkt = {
			.data = rec.data, .caplen = rec.caplen, .wirelen = rec.len,
			.link = (int)rec.linktype, .ts_sec = rec.ts_sec, .ts_nsec = rec.ts_nsec,
			.frame = ++frame,
		};
		dr_decoder_packet(&d, &pkt);
	}
	for (uint32_t i = 0; i < f.cfg.exporters; i++)
		if (f.exp[i].proto == DR_FLOW_SFLOW_SOURCE) {
			out->source = f.exp[i];
			break;
		}
	dr_pcapfile_close(&pf);
	fclose(fp);
	dr_decoder_fini(&d);
	out->stats = d.stats;
	out->flow = f.stats;
	dr_flow_fini(&f);
	return 0;
}

#endif
