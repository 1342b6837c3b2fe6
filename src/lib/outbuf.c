/* Buffered output and fast number/address formatting. */
#include "lib/outbuf.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdlib.h>

int dr_out_init(struct dr_out *o, FILE *fp, size_t cap)
{
	o->buf = malloc(cap);
	o->len = 0;
	o->cap = cap;
	o->fp = fp;
	o->max = cap;
	o->err = 0;
	return o->buf ? 0 : -1;
}

int dr_out_init_mem(struct dr_out *o, size_t cap, size_t max)
{
	if (cap < 2 * DR_OUT_SLACK)
		cap = 2 * DR_OUT_SLACK;
	if (max < cap)
		max = cap;
	int rc = dr_out_init(o, NULL, cap);
	o->max = max;
	return rc;
}

void dr_out_room(struct dr_out *o, size_t n)
{
	if (o->fp) {
		dr_out_flush(o);
		return;
	}
	if (o->cap - o->len >= n)
		return;
	size_t want = o->len + n + DR_OUT_SLACK, cap = o->cap * 2;
	if (cap < want)
		cap = want;
	if (cap > o->max)
		cap = o->max;
	char *nb = cap >= want ? realloc(o->buf, cap) : NULL;
	if (!nb) {
		o->err = 1;	/* over the cap or out of memory: drop, say so */
		o->len = 0;
		return;
	}
	o->buf = nb;
	o->cap = cap;
}

int dr_out_flush(struct dr_out *o)
{
	if (!o->fp)
		return o->err ? -1 : 0;
	if (o->len && !o->err && fwrite(o->buf, 1, o->len, o->fp) != o->len)
		o->err = 1;
	o->len = 0;
	if (!o->err && fflush(o->fp) != 0)
		o->err = 1;
	return o->err ? -1 : 0;
}

void dr_out_fini(struct dr_out *o)
{
	dr_out_flush(o);
	free(o->buf);
	o->buf = NULL;
}

void dr_out_u64(struct dr_out *o, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	dr_out_need(o, (size_t)n);
	while (n)
		o->buf[o->len++] = tmp[--n];
}

void dr_out_i64(struct dr_out *o, int64_t v)
{
	if (v < 0) {
		dr_out_char(o, '-');
		dr_out_u64(o, (uint64_t)0 - (uint64_t)v);
	} else {
		dr_out_u64(o, (uint64_t)v);
	}
}

void dr_out_double(struct dr_out *o, double v, int decimals)
{
	char tmp[64];
	if (!isfinite(v))
		v = 0;
	int n = snprintf(tmp, sizeof(tmp), "%.*f", decimals, v);
	/* Trim trailing zeros, keeping at least one digit after a point. */
	if (decimals > 0) {
		while (n > 2 && tmp[n - 1] == '0' && tmp[n - 2] != '.')
			n--;
	}
	dr_out_mem(o, tmp, (size_t)n);
}

void dr_out_json_str(struct dr_out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	dr_out_need(o, n * 6 + 2 < o->cap - DR_OUT_SLACK ? n * 6 + 2 : 0);
	dr_out_char(o, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			dr_out_char(o, '\\');
			dr_out_char(o, (char)c);
		} else if (c < 0x20 || c == 0x7f) {
			char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			dr_out_mem(o, esc, 6);
		} else {
			dr_out_char(o, (char)c);
		}
	}
	dr_out_char(o, '"');
}

static size_t ipv4_text(const uint8_t *a, char *buf)
{
	size_t n = 0;
	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];
		if (i)
			buf[n++] = '.';
		if (v >= 100)
			buf[n++] = (char)('0' + v / 100);
		if (v >= 10)
			buf[n++] = (char)('0' + v / 10 % 10);
		buf[n++] = (char)('0' + v % 10);
	}
	buf[n] = 0;
	return n;
}

size_t dr_addr_text(int family, const uint8_t *addr, char *buf)
{
	if (family == 4)
		return ipv4_text(addr, buf);
	if (!inet_ntop(AF_INET6, addr, buf, 46))
		buf[0] = 0;
	return strlen(buf);
}

void dr_out_addr(struct dr_out *o, int family, const uint8_t *addr)
{
	char tmp[64];
	size_t n = dr_addr_text(family, addr, tmp);
	dr_out_mem(o, tmp, n);
}
