/* Fuzz target: the packet decoder (link, IP, fragments, TCP, DNS). The
 * first byte picks the link type; the rest is a sequence of frames, each
 * preceded by a 2-byte length, so reassembly state is exercised across
 * packets. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int links[] = {
	DR_LINK_ETHERNET, DR_LINK_LINUX_SLL, DR_LINK_LINUX_SLL2, DR_LINK_RAW,
	DR_LINK_NULL, DR_LINK_LOOP, DR_LINK_IPV4, DR_LINK_IPV6, DR_LINK_PPP,
	DR_LINK_C_HDLC,
};

static void sink(void *ctx, const struct dr_record *r)
{
	char text[DR_NAME_TEXT_MAX];
	if (r->dns.has_question)
		dr_name_to_text(r->dns.qname, r->dns.qname_len, text);
	(*(unsigned *)ctx)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ports[8192];
	struct dr_decoder dec;
	struct dr_decode_config cfg;
	unsigned messages = 0;

	if (size < 1)
		return 0;
	memset(&cfg, 0, sizeof(cfg));
	dr_port_set(ports, 53);
	cfg.dns_ports = ports;
	cfg.frag.sets = 16;
	cfg.frag.mem_cap = 256 * 1024;
	cfg.tcp.streams = 16;
	cfg.tcp.mem_cap = 256 * 1024;
	if (dr_decoder_init(&dec, &cfg, sink, &messages) < 0)
		return 0;
	int link = links[data[0] % (sizeof(links) / sizeof(links[0]))];
	size_t pos = 1;
	uint64_t frame = 0;
	while (pos + 2 <= size) {
		size_t len = (size_t)data[pos] << 8 | data[pos + 1];
		pos += 2;
		if (len > size - pos)
			len = size - pos;
		frame++;
		struct dr_packet pkt = {
			.data = data + pos, .caplen = (uint32_t)len, .wirelen = (uint32_t)len,
			.link = link, .ts_sec = (int64_t)frame, .frame = frame,
		};
		dr_decoder_packet(&dec, &pkt);
		pos += len;
	}
	dr_decoder_fini(&dec);
	return 0;
}
