/* Fuzz target: a sequence of export datagrams from a few exporters into
 * one flow decoder, so that the template cache, the exporter table and
 * sequence tracking are exercised across datagrams. Each datagram is one
 * byte (its exporter, of 4) and two bytes of length, then its octets. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode/flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(void *ctx, const struct dr_record *r)
{
	*(uint64_t *)ctx += r->packets + r->bytes + (uint64_t)r->ts_sec + r->sport;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t ports[8192] = {[53 / 8] = 1 << (53 % 8)};
	static const uint8_t exporters[4][DR_AKEY] = {
		{4, 192, 0, 2, 1}, {4, 192, 0, 2, 2}, {6, 0x20, 0x01, 0x0d, 0xb8, [16] = 1},
		{4, 198, 51, 100, 1},
	};
	struct dr_flow_decoder f;
	struct dr_flow_config cfg;
	uint64_t sum = 0;

	dr_flow_config_defaults(&cfg);
	cfg.exporters = 3;	/* fewer than the exporters: evictions */
	cfg.templates = 8;
	cfg.template_lifetime = 60;
	if (dr_flow_init(&f, &cfg, ports, sink, &sum) < 0)
		return 0;
	size_t pos = 0;
	uint64_t frame = 0;
	while (pos + 3 <= size) {
		unsigned who = data[pos] & 3;
		size_t len = (size_t)data[pos + 1] << 8 | data[pos + 2];
		pos += 3;
		if (len > size - pos)
			len = size - pos;
		frame++;
		struct dr_flow_origin o = {
			.addr = exporters[who], .port = 2055, .ts_sec = 1700000000 + (int64_t)frame,
			.frame = frame,
		};
		dr_flow_datagram(&f, &o, data + pos, len);
		pos += len;
	}
	dr_flow_fini(&f);
	return 0;
}
