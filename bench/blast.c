/* A replayer for the live capture benchmark (bench/live.sh): sends the
 * frames of a classic pcap file out of an interface, looping, at a given
 * rate of packets per second for a given time, 64 frames per sendmmsg(2)
 * on a packet socket that bypasses the qdisc. tcpreplay sends one frame per
 * system call and tops out near 450,000 frames a second on a veth pair of
 * this machine; this reaches the rates the benchmark asks for.
 *
 *   blast IFACE FILE PPS SECONDS     prints "sent N in S seconds"
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: blast IFACE FILE PPS SECONDS\n");
		return 2;
	}
	double pps = atof(argv[3]), seconds = atof(argv[4]);
	int fd = open(argv[2], O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < 24) {
		perror(argv[2]);
		return 2;
	}
	const uint8_t *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE,
				  fd, 0);
	if (map == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	uint32_t magic;
	memcpy(&magic, map, 4);
	if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) {
		fprintf(stderr, "%s: not a little-endian classic pcap file\n", argv[2]);
		return 2;
	}
	/* the frames, once: offsets and lengths */
	size_t cap = 1 << 20, n = 0;
	struct iovec *frames = malloc(cap * sizeof(*frames));
	for (size_t off = 24; off + 16 <= (size_t)st.st_size && frames;) {
		uint32_t caplen;
		memcpy(&caplen, map + off + 8, 4);
		if (off + 16 + caplen > (size_t)st.st_size)
			break;
		if (n == cap)
			frames = realloc(frames, (cap *= 2) * sizeof(*frames));
		frames[n].iov_base = (void *)(map + off + 16);
		frames[n].iov_len = caplen;
		n++;
		off += 16 + caplen;
	}
	if (!frames || !n) {
		fprintf(stderr, "%s: no frames\n", argv[2]);
		return 2;
	}
	int s = socket(AF_PACKET, SOCK_RAW, 0);
	if (s < 0) {
		perror("socket(AF_PACKET)");
		return 2;
	}
	int one = 1;
	setsockopt(s, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(argv[1])};
	if (!ll.sll_ifindex || bind(s, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
		fprintf(stderr, "%s: no such interface\n", argv[1]);
		return 2;
	}
	struct mmsghdr msgs[BATCH];
	memset(msgs, 0, sizeof(msgs));
	uint64_t sent = 0, want = (uint64_t)(pps * seconds), failed = 0;
	size_t next = 0;
	double start = now();
	while (sent < want) {
		/* pace by batch: the batch goes when its first frame is due */
		double due = start + (double)sent / pps, t = now();
		if (due > t) {
			struct timespec ts = {(time_t)(due - t), (long)(((due - t) - (time_t)(due - t)) * 1e9)};
			nanosleep(&ts, NULL);
		}
		unsigned b = want - sent < BATCH ? (unsigned)(want - sent) : BATCH;
		for (unsigned i = 0; i < b; i++) {
			msgs[i].msg_hdr.msg_iov = &frames[next];
			msgs[i].msg_hdr.msg_iovlen = 1;
			next = next + 1 == n ? 0 : next + 1;
		}
		int got = sendmmsg(s, msgs, b, 0);
		if (got <= 0) {
			failed++;
			continue;
		}
		sent += (unsigned)got;
	}
	double took = now() - start;
	printf("sent %llu in %.3f seconds (%.0f pps), %llu failed calls\n", (unsigned long long)sent,
	       took, (double)sent / took, (unsigned long long)failed);
	return 0;
}
