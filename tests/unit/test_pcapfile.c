/* Our pcap/pcapng reader against libpcap: for every capture under
 * tests/data and ../shared/data that libpcap opens, both must yield the
 * same packets (bytes, lengths, timestamps, link type) in the same order,
 * and fail at the same packet when a file is cut short. Also checks the
 * reader's own errors on files built here. */
#include <dirent.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "input/pcapfile.h"

static unsigned files_compared, packets_compared, limited;

static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

static void compare_file(const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	if (!p)
		return;	/* libpcap cannot read it: nothing to compare with */
	FILE *fp = fopen(path, "rb");
	struct dr_pcapfile f;
	CHECK(fp != NULL);
	if (!fp) {
		pcap_close(p);
		return;
	}
	CHECK_EQ(dr_pcapfile_open(&f, NULL, 0, fp), 0);
	files_compared++;
	struct pcap_pkthdr *h;
	const u_char *d;
	struct dr_pcap_record r;
	for (;;) {
		int a = pcap_next_ex(p, &h, &d);
		int b = dr_pcapfile_next(&f, &r);
		if (a == PCAP_ERROR && b >= 0 && strstr(pcap_geterr(p), "different from the")) {
			/* libpcap 1.10 stops at a pcapng interface whose link
			 * type or snap length differs from the first; tshark
			 * and we read on. */
			limited++;
			break;
		}
		if (a != 1 || b != 1) {
			if ((a == 1) != (b == 1))
				fprintf(stderr, "%s: libpcap %d, ours %d (%s) after %llu packets\n",
					path, a, b, f.error, (unsigned long long)f.packets);
			CHECK_EQ(a == 1, b == 1);
			/* both ended: both cleanly, or both on damage */
			if ((a == PCAP_ERROR_BREAK) != (b == 0))
				fprintf(stderr, "%s: libpcap ends with %d (%s), ours with %d (%s)\n",
					path, a, pcap_geterr(p), b, f.error);
			CHECK_EQ(a == PCAP_ERROR_BREAK, b == 0);
			break;
		}
		packets_compared++;
		int same = h->caplen == r.caplen && h->len == r.len &&
			   h->ts.tv_sec == r.ts_sec && (uint32_t)h->ts.tv_usec == r.ts_nsec &&
			   memcmp(d, r.data, r.caplen) == 0 &&
			   (uint32_t)pcap_datalink(p) == (r.linktype == 101 ? DLT_RAW : r.linktype);
		if (!same)
			fprintf(stderr, "%s: packet %llu differs\n", path,
				(unsigned long long)f.packets);
		CHECK(same);
		if (!same)
			break;
	}
	dr_pcapfile_close(&f);
	fclose(fp);
	pcap_close(p);
}

static void walk(const char *dir)
{
	DIR *dp = opendir(dir);
	if (!dp)
		return;
	struct dirent *e;
	while ((e = readdir(dp))) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			walk(path);
		else if (has_suffix(path, ".pcap") || has_suffix(path, ".pcapng") ||
			 has_suffix(path, ".cap"))
			compare_file(path);
	}
	closedir(dp);
}

static void test_against_libpcap(void)
{
	const char *data = getenv("DR_TEST_DATA");
	const char *shared = getenv("DR_SHARED");
	char path[4096];
	if (data)
		walk(data);
	if (shared) {
		snprintf(path, sizeof(path), "%s/data", shared);
		if (access(path, R_OK) == 0)
			walk(path);
		else
			printf("SKIP ../shared/data is absent: compared tests/data only\n");
	}
	printf("compared %u files, %u packets with libpcap; %u files read on past "
	       "libpcap's mixed-interface limit\n", files_compared, packets_compared, limited);
	CHECK(files_compared > 0);
}

static const uint8_t pcap_header[24] = {
	0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0xff, 0xff, 0, 0, 1, 0, 0, 0,
};

static int open_mem(struct dr_pcapfile *f, const uint8_t *b, size_t n)
{
	return dr_pcapfile_open(f, b, n, NULL);
}

static void test_errors(void)
{
	struct dr_pcapfile f;
	struct dr_pcap_record r;
	uint8_t b[200];

	CHECK_EQ(open_mem(&f, (const uint8_t *)"", 0), -1);
	CHECK(strstr(f.error, "empty") != NULL);
	CHECK_EQ(open_mem(&f, (const uint8_t *)"hello, world, not a capture", 27), -1);
	CHECK(strstr(f.error, "unknown file format") != NULL);
	CHECK_EQ(open_mem(&f, pcap_header, 10), -1);
	CHECK(strstr(f.error, "cut short") != NULL);

	/* One whole record, then one cut in its data. */
	memcpy(b, pcap_header, 24);
	uint8_t rec[16] = {1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0};
	memcpy(b + 24, rec, 16);
	memcpy(b + 40, "abcd", 4);
	memcpy(b + 44, rec, 16);
	memcpy(b + 60, "ab", 2);
	CHECK_EQ(open_mem(&f, b, 62), 0);
	CHECK_EQ(dr_pcapfile_next(&f, &r), 1);
	CHECK_EQ(r.caplen, 4);
	CHECK_EQ(r.ts_sec, 1);
	CHECK_EQ(dr_pcapfile_next(&f, &r), -1);
	CHECK(strstr(f.error, "middle of packet 2 (at byte offset 44)") != NULL);
	dr_pcapfile_close(&f);

	/* A record claiming an absurd length is damage, not an allocation. */
	memcpy(b + 44, rec, 16);
	b[44 + 11] = 0x7f;
	CHECK_EQ(open_mem(&f, b, 64), 0);
	CHECK_EQ(dr_pcapfile_next(&f, &r), 1);
	CHECK_EQ(dr_pcapfile_next(&f, &r), -1);
	CHECK(strstr(f.error, "damaged") != NULL);
	dr_pcapfile_close(&f);
}

/* pcapng: two interfaces with different link types and resolutions. */
static void test_pcapng_interfaces(void)
{
	uint8_t b[512];
	size_t n = 0;
#define PUT32(v) do { uint32_t v_ = (v); memcpy(b + n, &v_, 4); n += 4; } while (0)
#define PUT16(v) do { uint16_t v_ = (v); memcpy(b + n, &v_, 2); n += 2; } while (0)
	PUT32(0x0a0d0d0a); PUT32(28); PUT32(0x1a2b3c4d); PUT16(1); PUT16(0);
	PUT32(0xffffffff); PUT32(0xffffffff); PUT32(28);
	PUT32(1); PUT32(20); PUT16(1); PUT16(0); PUT32(0); PUT32(20);	/* Ethernet, us */
	PUT32(1); PUT32(28); PUT16(101); PUT16(0); PUT32(0);		/* raw, ns */
	PUT16(9); PUT16(1); b[n++] = 9; b[n++] = 0; b[n++] = 0; b[n++] = 0;
	PUT32(28);
	/* EPB on interface 1: 1.5 s in nanoseconds, 4 bytes of data */
	PUT32(6); PUT32(36); PUT32(1); PUT32(0); PUT32(1500000000u); PUT32(4); PUT32(60);
	memcpy(b + n, "wxyz", 4); n += 4; PUT32(36);
	/* SPB: interface 0 */
	PUT32(3); PUT32(20); PUT32(4); memcpy(b + n, "abcd", 4); n += 4; PUT32(20);
	struct dr_pcapfile f;
	struct dr_pcap_record r;
	CHECK_EQ(dr_pcapfile_open(&f, b, n, NULL), 0);
	CHECK_EQ(dr_pcapfile_next(&f, &r), 1);
	CHECK_EQ(r.linktype, 101);
	CHECK_EQ(r.ts_sec, 1);
	CHECK_EQ(r.ts_nsec, 500000000);
	CHECK_EQ(r.caplen, 4);
	CHECK_EQ(r.len, 60);
	CHECK_EQ(dr_pcapfile_next(&f, &r), 1);
	CHECK_EQ(r.linktype, 1);
	CHECK(memcmp(r.data, "abcd", 4) == 0);
	CHECK_EQ(dr_pcapfile_next(&f, &r), 0);
	CHECK_EQ(f.packets, 2);
	dr_pcapfile_close(&f);
}

/* A block larger than the stream buffer (1 MiB), not at its start: the
 * buffer grows while part of the data is still to be moved. The fuzzer
 * found this reading freed memory. */
static void test_stream_large_block(void)
{
	size_t big = 3u << 20, n = 0;
	uint8_t *b = malloc(big + 4096);
	memcpy(b, pcap_header, 24);
	n = 24;
	uint8_t small[16] = {1, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 100, 0, 0, 0};
	memcpy(b + n, small, 16);
	n += 16;
	memset(b + n, 0xab, 100);
	n += 100;
	uint32_t caplen = (uint32_t)big;
	uint8_t large[16] = {2, 0, 0, 0, 0, 0, 0, 0};
	memcpy(large + 8, &caplen, 4);
	memcpy(large + 12, &caplen, 4);
	memcpy(b + n, large, 16);
	n += 16;
	for (size_t i = 0; i < big; i++)
		b[n + i] = (uint8_t)(i * 31);
	n += big;
	FILE *fp = fmemopen(b, n, "rb");
	struct dr_pcapfile f;
	struct dr_pcap_record r;
	CHECK_EQ(dr_pcapfile_open(&f, NULL, 0, fp), 0);
	CHECK_EQ(dr_pcapfile_next(&f, &r), 1);
	CHECK_EQ(r.caplen, 100);
	CHECK_EQ(dr_pcapfile_next(&f, &r), 1);
	CHECK_EQ(r.caplen, big);
	int same = 1;
	for (size_t i = 0; i < big && same; i++)
		same = r.data[i] == (uint8_t)(i * 31);
	CHECK(same);
	CHECK_EQ(dr_pcapfile_next(&f, &r), 0);
	dr_pcapfile_close(&f);
	fclose(fp);
	free(b);
}

/* Batches: with hold set, records handed over stay where they are. A
 * stream of 3 MiB (three windows) is read in batches of up to 64, each
 * batch's first record read with hold clear, the rest with it set; when a
 * record would need the window moved, the read says DR_PCAP_AGAIN, gives
 * nothing, and every record of the batch must still hold its bytes. All
 * records come out once, in order. */
static void test_stream_hold(void)
{
	const uint32_t count = 20000, caplen = 150;
	size_t n = 24 + (size_t)count * (16 + caplen);
	uint8_t *b = malloc(n);
	memcpy(b, pcap_header, 24);
	for (uint32_t i = 0; i < count; i++) {
		uint8_t *h = b + 24 + (size_t)i * (16 + caplen);
		memset(h, 0, 16);
		memcpy(h, &i, 4);
		memcpy(h + 8, &caplen, 4);
		memcpy(h + 12, &caplen, 4);
		memset(h + 16, (int)(i & 0xff), caplen);
	}
	FILE *fp = fmemopen(b, n, "rb");
	struct dr_pcapfile f;
	struct dr_pcap_record batch[64];
	CHECK_EQ(dr_pcapfile_open(&f, NULL, 0, fp), 0);
	uint32_t next = 0, agains = 0, moved = 0;
	int end = 0;
	while (!end) {
		unsigned k = 0;
		f.hold = 0;
		while (k < 64) {
			int rc = dr_pcapfile_next(&f, &batch[k]);
			if (rc == DR_PCAP_AGAIN) {
				agains++;
				break;
			}
			if (rc != 1) {
				CHECK_EQ(rc, 0);
				end = 1;
				break;
			}
			k++;
			f.hold = 1;
		}
		for (unsigned j = 0; j < k; j++, next++) {
			int ok = (uint32_t)batch[j].ts_sec == next && batch[j].caplen == caplen;
			for (uint32_t x = 0; ok && x < caplen; x++)
				ok = batch[j].data[x] == (next & 0xff);
			moved += !ok;
		}
	}
	CHECK_EQ(next, count);
	CHECK_EQ(moved, 0);
	CHECK(agains >= 2);	/* the window moved at least twice */
	dr_pcapfile_close(&f);
	fclose(fp);
	free(b);
}

int main(void)
{
	RUN(test_against_libpcap);
	RUN(test_errors);
	RUN(test_pcapng_interfaces);
	RUN(test_stream_large_block);
	RUN(test_stream_hold);
	TEST_MAIN_END();
}
