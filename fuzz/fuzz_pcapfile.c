/* Fuzz target: the pcap/pcapng file reader, on the input as a mapped file
 * and as a stream (through fmemopen, which exercises the buffer refills),
 * checking that both ways yield the same packets. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "input/pcapfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dr_pcapfile mapped, streamed;
	struct dr_pcap_record a, b;
	uint64_t sum = 0;

	int ra = dr_pcapfile_open(&mapped, data, size, NULL);
	FILE *fp = size ? fmemopen((void *)data, size, "rb") : NULL;
	int rb = fp ? dr_pcapfile_open(&streamed, NULL, 0, fp) : -1;
	if (fp && ra != rb)
		__builtin_trap();
	for (int i = 0; ra == 0 && i < 100000; i++) {
		int na = dr_pcapfile_next(&mapped, &a);
		int nb = fp && rb == 0 ? dr_pcapfile_next(&streamed, &b) : na;
		if (fp && rb == 0 && (na != nb || (na == 1 && (a.caplen != b.caplen ||
		    a.len != b.len || a.ts_sec != b.ts_sec || a.ts_nsec != b.ts_nsec ||
		    a.linktype != b.linktype || memcmp(a.data, b.data, a.caplen) != 0))))
			__builtin_trap();
		if (na != 1)
			break;
		for (uint32_t j = 0; j < a.caplen; j++)	/* every byte is readable */
			sum += a.data[j];
	}
	if (ra == 0)
		dr_pcapfile_close(&mapped);
	if (rb == 0)
		dr_pcapfile_close(&streamed);
	if (fp)
		fclose(fp);
	return (int)(sum & 0);
}
