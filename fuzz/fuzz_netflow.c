/* Fuzz target: one export datagram into the flow decoder, whatever its
 * version (NetFlow v5, v9, IPFIX, sFlow), as a socket would hand it. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode/flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(void *ctx, const struct dr_record *r)
{
	/* read what a consumer reads */
	*(uint64_t *)ctx += r->packets + r->bytes + (uint64_t)r->ts_sec + r->sport;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t ports[8192] = {[53 / 8] = 1 << (53 % 8)};
	static const uint8_t exporter[DR_AKEY] = {4, 192, 0, 2, 1};
	struct dr_flow_decoder f;
	struct dr_flow_config cfg;
	uint64_t sum = 0;

	dr_flow_config_defaults(&cfg);
	cfg.exporters = 4;
	cfg.templates = 16;
	if (dr_flow_init(&f, &cfg, ports, sink, &sum) < 0)
		return 0;
	struct dr_flow_origin o = {.addr = exporter, .port = 2055, .ts_sec = 1700000000, .frame = 1};
	dr_flow_datagram(&f, &o, data, size);
	dr_flow_fini(&f);
	return 0;
}
