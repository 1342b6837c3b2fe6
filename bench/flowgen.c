/* Flow exports for the benchmarks, and the baseline that reads them:
 *
 *   flowgen v5|v9 N   writes to stdout a pcap of N flow records exported
 *                     by 8 routers to UDP port 2055, shaped like an ISP's
 *                     core: 200,000 customers, 24 resolvers, 4,000
 *                     authoritative servers and 50,000 web hosts; a fifth
 *                     of the records DNS (customers to resolvers, resolvers
 *                     to authoritative servers, both ways), the rest web;
 *                     flows of 1 to 60 s ending at the export time, which
 *                     advances 20,000 records a second. v9 sends its
 *                     template in every datagram's first flowset (as
 *                     softflowd does every few datagrams) and 28 records of
 *                     45 octets after it; v5 sends 30 records of 48.
 *   flowgen loop FILE the least work a collector can do: mmap the capture,
 *                     walk every datagram's records and sum their packets
 *                     and octets (the template's layout is known here).
 *
 * Deterministic (fixed seed). A generator, not a test.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RNG_SEED 0x2545f4914f6cdd1dull
#include "rng.h"

static uint8_t *put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p = put16(p, v >> 16);
	return put16(p, v & 0xffff);
}

static void out(const void *p, size_t n)
{
	if (fwrite(p, 1, n, stdout) != n) {
		perror("flowgen");
		exit(1);
	}
}

static void out32le(uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	out(b, 4);
}

/* One flow: addresses, ports, protocol, packets, octets, duration. */
struct flow {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint8_t proto;
	uint32_t packets, octets, seconds;
};

static struct flow make_flow(void)
{
	struct flow f;
	uint32_t customer = 0x0a000000u | (below(200000) + 256);
	uint32_t resolver = 0x0a0000c0u + below(24);
	uint32_t auth = 0xc6330000u | below(4000);
	uint32_t web = 0x5db80000u | below(50000);
	uint32_t kind = below(10);
	f.proto = 17;
	f.seconds = 1 + below(60);
	if (kind == 0 || kind == 1) {	/* customer <-> resolver */
		int ask = kind == 0;
		f.src = ask ? customer : resolver;
		f.dst = ask ? resolver : customer;
		f.sport = ask ? (uint16_t)(1024 + below(60000)) : 53;
		f.dport = ask ? 53 : (uint16_t)(1024 + below(60000));
		f.packets = 1 + below(4);
		f.octets = f.packets * (ask ? 70 : 180 + below(900));
		f.seconds = 1 + below(3);
	} else if (kind == 2) {		/* resolver <-> authoritative */
		int ask = below(2);
		f.src = ask ? resolver : auth;
		f.dst = ask ? auth : resolver;
		f.sport = ask ? (uint16_t)(1024 + below(60000)) : 53;
		f.dport = ask ? 53 : (uint16_t)(1024 + below(60000));
		f.packets = 1 + below(20);
		f.octets = f.packets * (ask ? 80 : 200 + below(1200));
	} else {			/* the web, both ways */
		int up = below(2);
		f.src = up ? customer : web;
		f.dst = up ? web : customer;
		f.proto = below(4) ? 6 : 17;
		f.sport = up ? (uint16_t)(1024 + below(60000)) : 443;
		f.dport = up ? 443 : (uint16_t)(1024 + below(60000));
		f.packets = 2 + below(400);
		f.octets = f.packets * (up ? 80 : 1200);
	}
	return f;
}

#define PORT 2055
#define T0 1700200000u

/* Writes one pcap record: Ethernet, IPv4, UDP from router r to the
 * collector, carrying payload. */
static void datagram(uint32_t ts, uint32_t usec, unsigned router, const uint8_t *payload,
		     size_t len)
{
	uint8_t h[42];
	memset(h, 0, sizeof(h));
	memcpy(h, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00", 14);
	uint8_t *p = h + 14;
	p[0] = 0x45;
	put16(p + 2, (uint32_t)(20 + 8 + len));
	p[8] = 64;
	p[9] = 17;
	put32(p + 12, 0xc0000201u + router);	/* 192.0.2.1.. */
	put32(p + 16, 0xc0000264u);		/* 192.0.2.100 */
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(p + 10, ~sum & 0xffff);
	put16(p + 20, 40000 + router);
	put16(p + 22, PORT);
	put16(p + 24, (uint32_t)(8 + len));
	out32le(ts);
	out32le(usec);
	out32le((uint32_t)(sizeof(h) + len));
	out32le((uint32_t)(sizeof(h) + len));
	out(h, sizeof(h));
	out(payload, len);
}

/* The v9 template: IPv4 addresses, ports, protocol, counts, uptimes. */
static const uint16_t v9_fields[][2] = {
	{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {2, 4}, {1, 4}, {22, 4}, {21, 4},
	{10, 4}, {14, 4}, {6, 1}, {5, 1}, {61, 1}, {16, 4}, {17, 1},
};
#define V9_NFIELDS (sizeof(v9_fields) / sizeof(v9_fields[0]))
#define V9_RECORD 45
#define V9_PER 28

static void generate(int v9, uint64_t n)
{
	uint8_t hdr[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0};
	out(hdr, 8);
	out32le(0);
	out32le(0);
	out32le(65535);
	out32le(1);		/* Ethernet */
	uint32_t seq[8] = {0};
	uint64_t done = 0;
	uint8_t buf[1500];
	while (done < n) {
		unsigned router = below(8);
		uint64_t at_ms = (uint64_t)T0 * 1000 + done / 20;	/* 20,000 records/s */
		uint32_t uptime = (uint32_t)(at_ms - ((uint64_t)T0 - 86400) * 1000);
		unsigned per = v9 ? V9_PER : 30;
		if (n - done < per)
			per = (unsigned)(n - done);
		uint8_t *p = buf;
		if (v9) {
			p = put16(p, 9);
			p = put16(p, per + 1);
			p = put32(p, uptime);
			p = put32(p, (uint32_t)(at_ms / 1000));
			p = put32(p, seq[router]++);
			p = put32(p, router);
			p = put16(p, 0);	/* the template flowset */
			p = put16(p, (uint32_t)(4 + 4 + 4 * V9_NFIELDS));
			p = put16(p, 256);
			p = put16(p, V9_NFIELDS);
			for (unsigned i = 0; i < V9_NFIELDS; i++) {
				p = put16(p, v9_fields[i][0]);
				p = put16(p, v9_fields[i][1]);
			}
			uint32_t len = 4 + per * V9_RECORD;
			uint32_t pad = (4 - len % 4) % 4;
			p = put16(p, 256);
			p = put16(p, len + pad);
		} else {
			p = put16(p, 5);
			p = put16(p, per);
			p = put32(p, uptime);
			p = put32(p, (uint32_t)(at_ms / 1000));
			p = put32(p, (uint32_t)(at_ms % 1000) * 1000000u);
			p = put32(p, seq[router]);
			seq[router] += per;
			*p++ = 0;
			*p++ = (uint8_t)router;
			p = put16(p, 0);
		}
		for (unsigned i = 0; i < per; i++) {
			struct flow f = make_flow();
			uint32_t last = uptime - below(1000), first = last - f.seconds * 1000;
			if (v9) {
				p = put32(p, f.src);
				p = put32(p, f.dst);
				p = put16(p, f.sport);
				p = put16(p, f.dport);
				*p++ = f.proto;
				p = put32(p, f.packets);
				p = put32(p, f.octets);
				p = put32(p, first);
				p = put32(p, last);
				p = put32(p, 1 + below(48));
				p = put32(p, 1 + below(48));
				*p++ = 0;
				*p++ = 0;
				*p++ = 0;
				p = put32(p, 64500);
				*p++ = 24;
			} else {
				p = put32(p, f.src);
				p = put32(p, f.dst);
				p = put32(p, 0);
				p = put16(p, 1 + below(48));
				p = put16(p, 1 + below(48));
				p = put32(p, f.packets);
				p = put32(p, f.octets);
				p = put32(p, first);
				p = put32(p, last);
				p = put16(p, f.sport);
				p = put16(p, f.dport);
				*p++ = 0;
				*p++ = 0;
				*p++ = f.proto;
				*p++ = 0;
				memset(p, 0, 8);
				p += 8;
			}
		}
		while (v9 && (p - buf) % 4)
			*p++ = 0;
		datagram((uint32_t)(at_ms / 1000), (uint32_t)(at_ms % 1000) * 1000, router, buf,
			 (size_t)(p - buf));
		done += per;
	}
}

static uint32_t get16(const uint8_t *p)
{
	return (uint32_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) << 16 | get16(p + 2);
}

/* The baseline: every record's packets and octets summed. */
static int loop(const char *path)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(path);
		return 2;
	}
	const uint8_t *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		perror(path);
		return 2;
	}
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	size_t off = 24, size = (size_t)st.st_size;
	uint64_t records = 0, packets = 0, octets = 0;
	while (off + 16 <= size) {
		uint32_t caplen = (uint32_t)m[off + 8] | (uint32_t)m[off + 9] << 8 |
				  (uint32_t)m[off + 10] << 16 | (uint32_t)m[off + 11] << 24;
		const uint8_t *d = m + off + 16 + 42;
		size_t len = caplen > 42 ? caplen - 42 : 0;
		off += 16 + caplen;
		if (off > size || len < 24)
			break;
		if (get16(d) == 5) {
			unsigned count = get16(d + 2);
			for (unsigned i = 0; i < count && 24 + (i + 1) * 48 <= len; i++) {
				const uint8_t *r = d + 24 + i * 48;
				packets += get32(r + 16);
				octets += get32(r + 20);
				records++;
			}
		} else {
			const uint8_t *s = d + 20;
			s += get16(s + 2);		/* past the template flowset */
			size_t n = (get16(s + 2) - 4) / V9_RECORD;
			for (size_t i = 0; i < n; i++) {
				const uint8_t *r = s + 4 + i * V9_RECORD;
				packets += get32(r + 13);
				octets += get32(r + 17);
				records++;
			}
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("%llu records, %llu packets, %llu octets; %.0f records/s in the loop\n",
	       (unsigned long long)records, (unsigned long long)packets,
	       (unsigned long long)octets, s > 0 ? (double)records / s : 0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "loop") == 0)
		return loop(argv[2]);
	if (argc == 3 && (strcmp(argv[1], "v5") == 0 || strcmp(argv[1], "v9") == 0)) {
		generate(argv[1][1] == '9', strtoull(argv[2], NULL, 10));
		return fflush(stdout) == 0 ? 0 : 1;
	}
	fprintf(stderr, "usage: flowgen v5|v9 N > FILE.pcap, or flowgen loop FILE.pcap\n");
	return 2;
}
