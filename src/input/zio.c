/* Decompressing stdio streams built with fopencookie(3). */
#define _GNU_SOURCE
#include "input/zio.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "input/input.h"

#define IN_CHUNK (128 * 1024)

struct zstate {
	FILE *raw;
	int fd;			/* raw's descriptor, read with read(2) */
	int waits;		/* a pipe or terminal: a read may block */
	enum dr_zkind kind;
	uint8_t prefix[4];	/* bytes read to recognise the format */
	size_t prefix_len, prefix_pos;
	uint64_t raw_pos;
	uint8_t *in;
	size_t in_len, in_pos;
	int raw_eof;
	z_stream gz;
	ZSTD_DCtx *zs;
	int stream_end;		/* the last gzip member ended cleanly */
	char error[128];
};

/* Waits until fd is readable with SIGINT and SIGTERM open only during the
 * wait (ppoll), so a signal that comes just before it cannot be missed.
 * Returns when fd is readable or the wait was interrupted. */
static void wait_readable(int fd)
{
	sigset_t stop, old;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	if (!dr_input_interrupt) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ppoll(&pfd, 1, NULL, &old);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Reads up to n raw bytes. A signal that asked the inputs to stop ends a
 * pipe or terminal: the read waiting for it returns (the handler is
 * installed without SA_RESTART), and no read is started after it; any
 * other interruption is retried. Returns the bytes read, 0 at the end, -1
 * on a read error (errno says which). */
static ssize_t raw_read(struct zstate *s, void *buf, size_t n)
{
	for (;;) {
		if (s->waits)
			wait_readable(s->fd);
		if (dr_input_interrupt)
			return 0;
		ssize_t got = read(s->fd, buf, n);
		if (got >= 0)
			return got;
		if (errno != EINTR)
			return -1;
	}
}

/* Fills the input buffer from the prefix, then the raw stream. */
static int refill(struct zstate *s)
{
	if (s->in_pos < s->in_len)
		return 1;
	s->in_pos = 0;
	s->in_len = 0;
	while (s->prefix_pos < s->prefix_len)
		s->in[s->in_len++] = s->prefix[s->prefix_pos++];
	if (!s->raw_eof) {
		ssize_t got = raw_read(s, s->in + s->in_len, IN_CHUNK - s->in_len);
		if (got < 0 && !s->error[0])
			snprintf(s->error, sizeof(s->error), "read error (%s)", strerror(errno));
		if (got > 0) {
			s->in_len += (size_t)got;
			s->raw_pos += (uint64_t)got;
		} else {
			s->raw_eof = 1;
		}
	}
	return s->in_len > 0;
}

static ssize_t plain_read(void *cookie, char *buf, size_t size)
{
	struct zstate *s = cookie;
	size_t n = 0;
	while (n < size && s->prefix_pos < s->prefix_len)
		buf[n++] = (char)s->prefix[s->prefix_pos++];
	if (n < size) {
		ssize_t got = raw_read(s, buf + n, size - n);
		if (got < 0)
			return n ? (ssize_t)n : -1;
		s->raw_pos += (uint64_t)got;
		n += (size_t)got;
	}
	return (ssize_t)n;
}

static ssize_t gzip_read(void *cookie, char *buf, size_t size)
{
	struct zstate *s = cookie;
	s->gz.next_out = (Bytef *)buf;
	s->gz.avail_out = (uInt)size;
	while (s->gz.avail_out > 0) {
		if (!refill(s)) {
			if (!s->stream_end && !s->error[0] && !dr_input_interrupt)
				snprintf(s->error, sizeof(s->error),
					 "gzip data ends before the end of its stream");
			break;
		}
		s->gz.next_in = s->in + s->in_pos;
		s->gz.avail_in = (uInt)(s->in_len - s->in_pos);
		if (s->stream_end) {
			/* Another gzip member follows (concatenated files). */
			inflateReset(&s->gz);
			s->stream_end = 0;
		}
		int rc = inflate(&s->gz, Z_NO_FLUSH);
		s->in_pos = s->in_len - s->gz.avail_in;
		if (rc == Z_STREAM_END) {
			s->stream_end = 1;
			continue;
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			snprintf(s->error, sizeof(s->error), "gzip data is damaged (%s)",
				 s->gz.msg ? s->gz.msg : "inflate error");
			errno = EIO;
			return -1;
		}
	}
	return (ssize_t)(size - s->gz.avail_out);
}

static ssize_t zstd_read(void *cookie, char *buf, size_t size)
{
	struct zstate *s = cookie;
	ZSTD_outBuffer out = {buf, size, 0};
	size_t last = 0;
	while (out.pos < out.size) {
		if (!refill(s)) {
			if (last != 0 && !s->error[0] && !dr_input_interrupt)
				snprintf(s->error, sizeof(s->error),
					 "zstd data ends before the end of its frame");
			break;
		}
		ZSTD_inBuffer in = {s->in, s->in_len, s->in_pos};
		last = ZSTD_decompressStream(s->zs, &out, &in);
		s->in_pos = in.pos;
		if (ZSTD_isError(last)) {
			snprintf(s->error, sizeof(s->error), "zstd data is damaged (%s)",
				 ZSTD_getErrorName(last));
			errno = EIO;
			return -1;
		}
	}
	return (ssize_t)out.pos;
}

static int zs_close(void *cookie)
{
	struct zstate *s = cookie;
	if (s->kind == DR_Z_GZIP)
		inflateEnd(&s->gz);
	if (s->zs)
		ZSTD_freeDCtx(s->zs);
	if (s->raw && s->raw != stdin)
		fclose(s->raw);
	free(s->in);
	free(s);
	return 0;
}

int dr_zopen(struct dr_zfile *z, const char *path, char *errbuf, size_t errlen)
{
	memset(z, 0, sizeof(*z));
	FILE *raw;
	if (strcmp(path, "-") == 0) {
		raw = stdin;
		z->is_stdin = 1;
	} else {
		raw = fopen(path, "rb");
		if (!raw) {
			snprintf(errbuf, errlen, "%s", strerror(errno));
			return -1;
		}
		struct stat st;
		if (fstat(fileno(raw), &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				fclose(raw);
				snprintf(errbuf, errlen, "is a directory");
				return -1;
			}
			if (S_ISREG(st.st_mode))
				z->size = (uint64_t)st.st_size;
		}
	}

	/* The magic is read with read(2), as everything after it in a
	 * stream: stdio's buffer would take bytes the stream then misses. */
	uint8_t magic[4];
	size_t got = 0;
	struct stat st;
	struct zstate probe = {.fd = fileno(raw)};
	probe.waits = fstat(probe.fd, &st) == 0 && !S_ISREG(st.st_mode);
	while (got < sizeof(magic)) {
		ssize_t r = raw_read(&probe, magic + got, sizeof(magic) - got);
		if (r < 0) {
			snprintf(errbuf, errlen, "%s", strerror(errno));
			if (raw != stdin)
				fclose(raw);
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got == 0)
		z->empty = 1;
	if (got >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
		z->kind = DR_Z_GZIP;
	else if (got == 4 && magic[0] == 0x28 && magic[1] == 0xb5 &&
		 magic[2] == 0x2f && magic[3] == 0xfd)
		z->kind = DR_Z_ZSTD;

	/* A plain regular file is handed to libpcap as it is. */
	if (z->kind == DR_Z_NONE && !z->is_stdin && fseek(raw, 0, SEEK_SET) == 0) {
		z->fp = raw;
		return 0;
	}

	struct zstate *s = calloc(1, sizeof(*s));
	if (!s || !(s->in = malloc(IN_CHUNK))) {
		free(s);
		snprintf(errbuf, errlen, "out of memory");
		if (raw != stdin)
			fclose(raw);
		return -1;
	}
	s->raw = raw;
	s->fd = fileno(raw);
	s->waits = probe.waits;
	s->kind = z->kind;
	memcpy(s->prefix, magic, got);
	s->prefix_len = got;
	s->raw_pos = got;
	cookie_io_functions_t io = {.close = zs_close};
	if (z->kind == DR_Z_GZIP) {
		if (inflateInit2(&s->gz, 15 + 32) != Z_OK)
			goto nomem;
		io.read = gzip_read;
	} else if (z->kind == DR_Z_ZSTD) {
		s->zs = ZSTD_createDCtx();
		if (!s->zs)
			goto nomem;
		io.read = zstd_read;
	} else {
		io.read = plain_read;
	}
	z->fp = fopencookie(s, "rb", io);
	if (!z->fp) {
		zs_close(s);
		snprintf(errbuf, errlen, "%s", strerror(errno));
		return -1;
	}
	z->state = s;
	return 0;
nomem:
	zs_close(s);
	snprintf(errbuf, errlen, "out of memory");
	return -1;
}

uint64_t dr_zraw_pos(const struct dr_zfile *z)
{
	if (z->state)
		return ((const struct zstate *)z->state)->raw_pos;
	long pos = z->fp ? ftell(z->fp) : -1;
	return pos < 0 ? 0 : (uint64_t)pos;
}

const char *dr_zerror(const struct dr_zfile *z)
{
	const struct zstate *s = z->state;
	return s && s->error[0] ? s->error : NULL;
}

void dr_zclose(struct dr_zfile *z)
{
	/* The caller closes z->fp (fclose), which frees a decompressor. */
	memset(z, 0, sizeof(*z));
}
