/* Fuzz target: the flow decoder on one export datagram (sFlow v5 first of
 * all: its samples, records and sampled headers), with an origin, as a
 * capture or a socket hands it over. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode/flow.h"
#include "decode/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(void *ctx, const struct dr_record *r)
{
	char text[DR_NAME_TEXT_MAX];
	if (r->kind == DR_KIND_DNS && r->dns.has_question)
		dr_name_to_text(r->dns.qname, r->dns.qname_len, text);
	/* a record's payload is read by its consumers: touch all of it */
	unsigned sum = 0;
	for (uint32_t i = 0; i < r->payload_caplen; i++)
		sum += r->payload[i];
	*(unsigned *)ctx += sum + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ports[8192];
	static const uint8_t sender[DR_AKEY] = {4, 192, 0, 2, 1};
	struct dr_flow_decoder f;
	struct dr_flow_config cfg;
	unsigned seen = 0;

	dr_port_set(ports, 53);
	dr_flow_config_defaults(&cfg);
	cfg.exporters = 16;
	cfg.templates = 16;
	if (dr_flow_init(&f, &cfg, ports, sink, &seen) < 0)
		return 0;
	struct dr_flow_origin o = {
		.addr = sender, .port = 6343, .ts_sec = 1700000000, .frame = 1,
	};
	dr_flow_datagram(&f, &o, data, size);
	dr_flow_fini(&f);
	return 0;
}
