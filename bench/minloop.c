/* The speed baseline: the least work any capture reader must do. It mmaps
 * a classic pcap file, walks every packet record, finds the UDP payload of
 * IPv4/IPv6 frames (Ethernet, optionally one VLAN tag), and reads only the
 * DNS header and the first question's type. Prints packets, seconds and a
 * checksum of the types read, so the work cannot be optimised away.
 *
 *   minloop FILE [REPEAT]
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint32_t rd32(const uint8_t *p, int swap)
{
	uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		     (uint32_t)p[3] << 24;
	return swap ? __builtin_bswap32(v) : v;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: minloop FILE [REPEAT]\n");
		return 2;
	}
	int repeat = argc > 2 ? atoi(argv[2]) : 1;
	int fd = open(argv[1], O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < 24) {
		perror(argv[1]);
		return 2;
	}
	const uint8_t *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	uint32_t magic = rd32(map, 0);
	int swap = magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1;
	if (!swap && magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) {
		fprintf(stderr, "%s: not a classic pcap file\n", argv[1]);
		return 2;
	}
	uint32_t link = rd32(map + 20, swap);
	size_t end = (size_t)st.st_size;
	uint64_t packets = 0, dns = 0, sum = 0;

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int r = 0; r < repeat; r++) {
		size_t off = 24;
		while (off + 16 <= end) {
			uint32_t caplen = rd32(map + off + 8, swap);
			const uint8_t *p = map + off + 16;
			off += 16 + (size_t)caplen;
			if (off > end)
				break;
			packets++;
			size_t n = caplen, l3 = 0;
			unsigned type = 0;
			if (link == 1) {
				if (n < 14)
					continue;
				type = (unsigned)p[12] << 8 | p[13];
				l3 = 14;
				if (type == 0x8100 && n >= 18) {
					type = (unsigned)p[16] << 8 | p[17];
					l3 = 18;
				}
			} else if (link == 101 || link == 12) {
				type = (p[0] >> 4) == 6 ? 0x86dd : 0x0800;
			} else {
				continue;
			}
			const uint8_t *ip = p + l3;
			size_t m = n - l3, udp;
			if (type == 0x0800 && m >= 20 && ip[9] == 17)
				udp = (size_t)(ip[0] & 15) * 4;
			else if (type == 0x86dd && m >= 40 && ip[6] == 17)
				udp = 40;
			else
				continue;
			if (m < udp + 8 + 12)
				continue;
			const uint8_t *dnsp = ip + udp + 8;
			size_t dl = m - udp - 8, q = 12;
			dns++;
			sum += (uint64_t)dnsp[2] << 8 | dnsp[3];	/* flags */
			while (q < dl && dnsp[q] != 0 && (dnsp[q] & 0xc0) == 0)
				q += 1 + (size_t)dnsp[q];
			if (q + 3 <= dl)
				sum += (uint64_t)dnsp[q + 1] << 8 | dnsp[q + 2];
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("packets %llu dns %llu seconds %.6f checksum %llu\n",
	       (unsigned long long)packets, (unsigned long long)dns, secs,
	       (unsigned long long)sum);
	return 0;
}
