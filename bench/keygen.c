/* Writes to stdout a pcap shaped like real traffic for the benchmarks:
 *
 *   keygen isp N     an ISP's DNS: 200,000 IPv4 and 20,000 IPv6 customers
 *                    asking 24 resolvers, and the resolvers asking 4,000
 *                    authoritative servers; customers ask for 100,000
 *                    names under 20,000 registered domains (some under
 *                    co.uk and com.au), Zipf-popular, and the resolvers
 *                    for what they do not have cached (names mostly not
 *                    asked before); EDNS with DO on half the queries and
 *                    DNSSEC-sized answers to them; NXDOMAIN for random
 *                    labels; every query answered.
 *   keygen flood N   an attack in which every packet is a new key for every
 *                    table: spoofed IPv4 and IPv6 sources and destinations,
 *                    random ports, random names under random zones, half
 *                    queries and half responses.
 *
 * Deterministic (fixed seeds), Ethernet, microsecond timestamps at 200,000
 * packets a second of capture time. A generator, not a test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RNG_SEED 0x9e3779b97f4a7c15ull
#include "rng.h"

/* Zipf-like rank in [0, n): heavy head, long tail. */
static uint32_t zipf(uint32_t n)
{
	double u = (double)(rnd() >> 11) / (double)(1ull << 53);
	double r = (double)n * u * u * u;	/* density ~ x^(-2/3) */
	return (uint32_t)r < n ? (uint32_t)r : n - 1;
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";

/* Appends a label of len random characters. */
static size_t rand_label(uint8_t *p, unsigned len)
{
	p[0] = (uint8_t)len;
	for (unsigned i = 0; i < len; i++)
		p[1 + i] = (uint8_t)alnum[below(36)];
	return 1 + len;
}

/* The name of registered domain d: a label derived from d under one of a
 * few public suffixes. */
static size_t domain_name(uint8_t *p, uint32_t d)
{
	static const char *const tld[] = {"\3com", "\3net", "\3org", "\2de", "\2fr",
					  "\2co\2uk", "\3com\2au", "\2io"};
	size_t o = 0;
	char lab[16];
	int n = snprintf(lab, sizeof(lab), "d%07u", d);
	p[o++] = (uint8_t)n;
	memcpy(p + o, lab, (size_t)n);
	o += (size_t)n;
	const char *t = tld[d % 8];
	size_t tl = strlen(t);
	memcpy(p + o, t, tl);
	o += tl;
	p[o++] = 0;
	return o;
}

static const char *const hosts[] = {"www", "mail", "api", "cdn", "img", "static", "m", "ns1"};

/* Name i of the ISP profile: host label (or a random label for one in
 * ten, answered NXDOMAIN) under domain i % 20,000. *nx set for those. */
static size_t isp_name(uint8_t *p, uint32_t i, int *nx)
{
	size_t o = 0;
	*nx = 0;
	if (below(10) == 0) {
		o += rand_label(p, 8 + below(8));
		*nx = 1;
	} else {
		const char *h = hosts[i % 8];
		p[o++] = (uint8_t)strlen(h);
		memcpy(p + o, h, strlen(h));
		o += strlen(h);
	}
	return o + domain_name(p + o, i % 20000);
}

/* A DNS message into msg: a query, or its response with ancount answers
 * of rdlen octets each (and an OPT record when edns). Returns its length. */
static size_t dns_msg(uint8_t *msg, uint16_t id, const uint8_t *name, size_t nlen,
		      uint16_t qtype, int response, int rcode, unsigned ancount, unsigned rdlen,
		      int edns, int dnssec)
{
	size_t o = 12;
	memset(msg, 0, 12);
	put16(msg, id);
	msg[2] = response ? 0x81 : 0x01;	/* QR, RD */
	msg[3] = response ? (uint8_t)(0x80 | rcode) : 0;	/* RA */
	put16(msg + 4, 1);
	memcpy(msg + o, name, nlen);
	o += nlen;
	put16(msg + o, qtype);
	put16(msg + o + 2, 1);
	o += 4;
	if (response) {
		put16(msg + 6, ancount);
		for (unsigned a = 0; a < ancount; a++) {
			memset(msg + o, 0, 12);
			put16(msg + o, 0xc00c);	/* the question's name */
			put16(msg + o + 2, a && dnssec ? 46 : qtype);
			put16(msg + o + 4, 1);
			msg[o + 8] = 0x0e;	/* TTL 3600 */
			msg[o + 9] = 0x10;
			unsigned len = a && dnssec ? rdlen : (qtype == 28 ? 16 : 4);
			put16(msg + o + 10, len);
			o += 12;
			for (unsigned k = 0; k < len; k++)
				msg[o + k] = (uint8_t)rnd();
			o += len;
		}
	}
	if (edns) {
		put16(msg + 10, 1);
		memset(msg + o, 0, 11);	/* root, then TTL and length zero */
		put16(msg + o + 1, 41);
		put16(msg + o + 3, 1232);
		msg[o + 7] = dnssec ? 0x80 : 0;	/* DO */
		o += 11;
	}
	return o;
}

struct frame_out {
	uint64_t us;
	uint64_t step;
};

/* Writes an Ethernet frame with IPv4 or IPv6 and UDP around msg. */
static void emit(struct frame_out *fo, int v6, const uint8_t *src, const uint8_t *dst,
		 uint16_t sport, uint16_t dport, const uint8_t *msg, size_t mlen)
{
	uint8_t f[2048];
	size_t o = 14, ulen = 8 + mlen;
	memset(f, 0, 14);
	f[0] = 0x02;
	f[6] = 0x02;
	f[11] = 1;
	if (v6) {
		f[12] = 0x86;
		f[13] = 0xdd;
		memset(f + o, 0, 40);
		f[o] = 0x60;
		put16(f + o + 4, (unsigned)ulen);
		f[o + 6] = 17;
		f[o + 7] = 60;
		memcpy(f + o + 8, src, 16);
		memcpy(f + o + 24, dst, 16);
		o += 40;
	} else {
		f[12] = 0x08;
		memset(f + o, 0, 20);
		f[o] = 0x45;
		put16(f + o + 2, (unsigned)(20 + ulen));
		f[o + 8] = 60;
		f[o + 9] = 17;
		memcpy(f + o + 12, src, 4);
		memcpy(f + o + 16, dst, 4);
		o += 20;
	}
	put16(f + o, sport);
	put16(f + o + 2, dport);
	put16(f + o + 4, (unsigned)ulen);
	put16(f + o + 6, 0);	/* no checksum */
	o += 8;
	memcpy(f + o, msg, mlen);
	o += mlen;
	uint32_t rec[4] = {(uint32_t)(fo->us / 1000000), (uint32_t)(fo->us % 1000000),
			   (uint32_t)o, (uint32_t)o};
	fwrite(rec, sizeof(rec), 1, stdout);
	fwrite(f, o, 1, stdout);
	fo->us += fo->step;
}

static void addr_of(uint8_t *a, int v6, uint32_t base, uint32_t i)
{
	memset(a, 0, 16);
	if (v6) {
		a[0] = 0x20;
		a[1] = 0x01;
		a[2] = 0x0d;
		a[3] = 0xb8;
		a[4] = (uint8_t)(base >> 8);
		a[5] = (uint8_t)base;
		a[12] = (uint8_t)(i >> 24);
		a[13] = (uint8_t)(i >> 16);
		a[14] = (uint8_t)(i >> 8);
		a[15] = (uint8_t)i;
	} else {
		uint32_t v = base + i;
		a[0] = (uint8_t)(v >> 24);
		a[1] = (uint8_t)(v >> 16);
		a[2] = (uint8_t)(v >> 8);
		a[3] = (uint8_t)v;
	}
}

static void isp(uint64_t n)
{
	static const uint16_t qtypes[] = {1, 1, 1, 1, 28, 28, 28, 65, 15, 16, 12, 2, 6, 33};
	struct frame_out fo = {1700000000ull * 1000000, 5};
	uint8_t name[300], msg[2048], cli[16], res[16], auth[16];
	for (uint64_t i = 0; i + 1 < n; i += 2) {
		int nx, v6 = below(10) == 0;
		uint32_t which = zipf(100000);
		size_t nlen = isp_name(name, which, &nx);
		uint16_t qtype = qtypes[below(sizeof(qtypes) / sizeof(qtypes[0]))];
		int dnssec = below(2) == 0;
		uint16_t id = (uint16_t)rnd(), sport = (uint16_t)(1024 + below(64000));
		size_t qlen = dns_msg(msg, id, name, nlen, qtype, 0, 0, 0, 0, 1, dnssec);
		if (below(4)) {
			/* a customer asks its resolver */
			addr_of(cli, v6, v6 ? 0x0001 : 0x0a000000, zipf(v6 ? 20000 : 200000));
			addr_of(res, v6, v6 ? 0x0053 : 0xc0000200, below(24));
			emit(&fo, v6, cli, res, sport, 53, msg, qlen);
			size_t rlen = dns_msg(msg, id, name, nlen, qtype, 1, nx ? 3 : 0,
					      nx ? 0 : 1 + (unsigned)dnssec, 150 + below(200), 1, dnssec);
			emit(&fo, v6, res, cli, 53, sport, msg, rlen);
		} else {
			/* a resolver asks an authoritative server: cache misses,
			 * so mostly names it has not asked before */
			uint32_t d = below(20000);
			nlen = rand_label(name, 6);
			nlen += domain_name(name + nlen, d);
			nx = 0;
			qlen = dns_msg(msg, id, name, nlen, qtype, 0, 0, 0, 0, 1, dnssec);
			addr_of(res, v6, v6 ? 0x0053 : 0xc0000200, below(24));
			addr_of(auth, v6, v6 ? 0x0aa0 : 0xc6120000, d % 4000);
			emit(&fo, v6, res, auth, sport, 53, msg, qlen);
			size_t rlen = dns_msg(msg, id, name, nlen, qtype, 1, nx ? 3 : 0,
					      nx ? 0 : 1 + 2 * (unsigned)dnssec, 150 + below(300), 1,
					      dnssec);
			msg[2] |= 0x04;	/* AA */
			msg[3] &= 0x7f;	/* no RA */
			emit(&fo, v6, auth, res, 53, sport, msg, rlen);
		}
	}
}

static void flood(uint64_t n)
{
	struct frame_out fo = {1700000000ull * 1000000, 5};
	uint8_t name[300], msg[2048], a[16], b[16];
	for (uint64_t i = 0; i < n; i++) {
		int v6 = below(4) == 0, response = (int)(i & 1);
		for (unsigned k = 0; k < 16; k++) {
			a[k] = (uint8_t)rnd();
			b[k] = (uint8_t)rnd();
		}
		size_t o = rand_label(name, 12);
		o += rand_label(name + o, 8);
		o += rand_label(name + o, 3);
		name[o++] = 0;
		uint16_t port = (uint16_t)(1024 + below(64000));
		size_t mlen = dns_msg(msg, (uint16_t)rnd(), name, o, 1, response, 3, 0, 0, 1, 0);
		if (response)
			emit(&fo, v6, a, b, 53, port, msg, mlen);
		else
			emit(&fo, v6, a, b, port, 53, msg, mlen);
	}
}

int main(int argc, char **argv)
{
	if (argc < 3 || (strcmp(argv[1], "isp") != 0 && strcmp(argv[1], "flood") != 0)) {
		fprintf(stderr, "usage: keygen isp|flood PACKETS > FILE.pcap\n");
		return 2;
	}
	uint64_t n = strtoull(argv[2], NULL, 10);
	uint32_t hdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
	fwrite(hdr, sizeof(hdr), 1, stdout);
	if (argv[1][0] == 'i')
		isp(n);
	else
		flood(n);
	return fflush(stdout) ? 1 : 0;
}
