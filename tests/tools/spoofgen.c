/* Writes to stdout a pcap of a DNS query flood from N distinct spoofed
 * source addresses towards one target, at RATE packets per second of
 * capture time: the memory test's input, streamed, never stored.
 *
 *   spoofgen N [RATE]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: spoofgen N [RATE]\n");
		return 2;
	}
	uint64_t n = strtoull(argv[1], NULL, 10);
	uint64_t rate = argc > 2 ? strtoull(argv[2], NULL, 10) : 200000;
	static const uint8_t query[] = {
		0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
		0, 1, 0, 1,
	};
	uint8_t frame[14 + 20 + 8 + sizeof(query)];
	memset(frame, 0, sizeof(frame));
	frame[12] = 0x08;			/* IPv4 */
	uint8_t *ip = frame + 14;
	ip[0] = 0x45;
	ip[2] = 0;
	ip[3] = (uint8_t)(20 + 8 + sizeof(query));
	ip[8] = 64;
	ip[9] = 17;
	ip[16] = 192; ip[17] = 0; ip[18] = 2; ip[19] = 1;	/* the target */
	uint8_t *udp = ip + 20;
	udp[2] = 0;
	udp[3] = 53;
	udp[5] = (uint8_t)(8 + sizeof(query));
	memcpy(udp + 8, query, sizeof(query));

	uint32_t hdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
	fwrite(hdr, sizeof(hdr), 1, stdout);
	uint32_t x = 2463534242u;	/* xorshift: distinct within 2^32 - 1 draws */
	for (uint64_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		ip[12] = (uint8_t)(x >> 24);
		ip[13] = (uint8_t)(x >> 16);
		ip[14] = (uint8_t)(x >> 8);
		ip[15] = (uint8_t)x;
		udp[0] = (uint8_t)(x >> 8);
		udp[1] = (uint8_t)x;
		uint64_t us = 1700000000ull * 1000000 + i * 1000000 / rate;
		uint32_t rec[4] = {(uint32_t)(us / 1000000), (uint32_t)(us % 1000000),
				   sizeof(frame), sizeof(frame)};
		fwrite(rec, sizeof(rec), 1, stdout);
		fwrite(frame, sizeof(frame), 1, stdout);
	}
	return fflush(stdout) ? 1 : 0;
}
