/* Fuzz target: the DNS message parser and name rendering on raw bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dr_dns d;
	char text[DR_NAME_TEXT_MAX];
	uint8_t wire[DR_NAME_MAX];

	dr_dns_parse(data, size, &d);
	if (d.has_question) {
		size_t n = dr_name_to_text(d.qname, d.qname_len, text);
		/* The presentation form must parse back to the same name. */
		int w = dr_name_from_text(text, wire);
		if (w != d.qname_len || memcmp(wire, d.qname, (size_t)w) != 0)
			__builtin_trap();
		(void)n;
	}
	return 0;
}
