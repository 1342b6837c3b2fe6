/* Unit tests of transparent decompression: plain, gzip (including
 * concatenated members), zstd, and damaged streams. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "harness.h"
#include "input/zio.h"

static char path[64];

static void write_file(const void *data, size_t n)
{
	strcpy(path, "/tmp/dr_zio_XXXXXX");
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, data, n), (long long)n);
	close(fd);
}

static size_t read_all(const char *p, uint8_t *out, size_t cap, const char **zerr)
{
	struct dr_zfile z;
	char err[256];
	if (dr_zopen(&z, p, err, sizeof(err)) < 0)
		return (size_t)-1;
	size_t n = fread(out, 1, cap, z.fp);
	*zerr = dr_zerror(&z) ? "damaged" : NULL;
	fclose(z.fp);
	dr_zclose(&z);
	return n;
}

static uint8_t plain[300000], packed[400000], back[400000];

static void fill_plain(void)
{
	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i * 7 + i / 1000);
}

static size_t gzip(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)n;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	deflate(&zs, Z_FINISH);
	size_t len = zs.total_out;
	deflateEnd(&zs);
	return len;
}

static void test_plain(void)
{
	const char *zerr;
	fill_plain();
	write_file(plain, sizeof(plain));
	CHECK_EQ(read_all(path, back, sizeof(back), &zerr), sizeof(plain));
	CHECK(memcmp(back, plain, sizeof(plain)) == 0);
	unlink(path);
}

static void test_gzip_members(void)
{
	const char *zerr;
	size_t a = gzip(plain, 100000, packed, sizeof(packed));
	size_t b = gzip(plain + 100000, sizeof(plain) - 100000, packed + a, sizeof(packed) - a);
	write_file(packed, a + b);
	CHECK_EQ(read_all(path, back, sizeof(back), &zerr), sizeof(plain));
	CHECK(memcmp(back, plain, sizeof(plain)) == 0);
	CHECK(zerr == NULL);
	unlink(path);

	/* Cut short: what came before is read, the damage is reported. */
	write_file(packed, a + b / 2);
	size_t got = read_all(path, back, sizeof(back), &zerr);
	CHECK(got > 100000 && got < sizeof(plain));
	CHECK(zerr != NULL);
	unlink(path);
}

static void test_zstd(void)
{
	const char *zerr;
	size_t n = ZSTD_compress(packed, sizeof(packed), plain, sizeof(plain), 3);
	CHECK(!ZSTD_isError(n));
	write_file(packed, n);
	CHECK_EQ(read_all(path, back, sizeof(back), &zerr), sizeof(plain));
	CHECK(memcmp(back, plain, sizeof(plain)) == 0);
	unlink(path);

	packed[n / 2] ^= 0xff;	/* corrupt the middle */
	packed[n / 2 + 1] ^= 0xff;
	write_file(packed, n);
	size_t got = read_all(path, back, sizeof(back), &zerr);
	CHECK(got < sizeof(plain) || memcmp(back, plain, sizeof(plain)) != 0 || zerr != NULL);
	unlink(path);
}

static void test_errors(void)
{
	struct dr_zfile z;
	char err[256];
	CHECK_EQ(dr_zopen(&z, "/nonexistent/capture.pcap", err, sizeof(err)), -1);
	CHECK(strstr(err, "No such file") != NULL);
	CHECK_EQ(dr_zopen(&z, "/tmp", err, sizeof(err)), -1);
	CHECK(strstr(err, "directory") != NULL);
	write_file("", 0);
	CHECK_EQ(dr_zopen(&z, path, err, sizeof(err)), 0);
	CHECK_EQ(z.empty, 1);
	fclose(z.fp);
	unlink(path);
}

int main(void)
{
	RUN(test_plain);
	RUN(test_gzip_members);
	RUN(test_zstd);
	RUN(test_errors);
	TEST_MAIN_END();
}
