/* A large output buffer written with one fwrite() per flush: the records
 * and report writers append to it without stdio's per-call locking. In
 * memory mode (dr_out_init_mem) it grows instead, up to a cap, so that an
 * HTTP response or a test is built with the same writers. */
#ifndef DR_LIB_OUTBUF_H
#define DR_LIB_OUTBUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define DR_OUT_SLACK 4096	/* room always kept for one small item */

struct dr_out {
	char *buf;
	size_t len, cap;
	FILE *fp;		/* NULL: memory mode */
	size_t max;		/* memory mode: the most buf may grow to */
	int err;		/* a write failed (EPIPE, disk full), or a memory
				 * buffer went over max (what it held is dropped) */
};

/* cap is the buffer size; the buffer is allocated here. 0 or -1. */
int dr_out_init(struct dr_out *o, FILE *fp, size_t cap);
/* Memory mode: buf starts at cap bytes and grows up to max; over max,
 * err is set and the contents are dropped (never a silent cut: callers
 * check err). dr_out_flush does nothing; buf[0..len) is the text, the
 * caller may take buf (setting it NULL) before dr_out_fini. 0 or -1. */
int dr_out_init_mem(struct dr_out *o, size_t cap, size_t max);
/* Writes what is buffered; returns 0 or -1 (o->err set). */
int dr_out_flush(struct dr_out *o);
void dr_out_fini(struct dr_out *o);

/* Makes room for n bytes: flushes a file buffer, grows a memory one (see
 * dr_out_init_mem for what happens over its cap). */
void dr_out_room(struct dr_out *o, size_t n);

/* Ensures n bytes fit, flushing if need be (n must be < cap). */
static inline void dr_out_need(struct dr_out *o, size_t n)
{
	if (o->cap - o->len < n)
		dr_out_room(o, n);
}

static inline void dr_out_mem(struct dr_out *o, const void *p, size_t n)
{
	if (o->fp && n >= o->cap - DR_OUT_SLACK) {
		dr_out_flush(o);
		if (fwrite(p, 1, n, o->fp) != n)
			o->err = 1;
		return;
	}
	dr_out_need(o, n);
	if (o->cap - o->len < n)
		return;		/* a memory buffer over its cap: err is set */
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static inline void dr_out_str(struct dr_out *o, const char *s)
{
	dr_out_mem(o, s, strlen(s));
}

static inline void dr_out_char(struct dr_out *o, char c)
{
	dr_out_need(o, 1);
	o->buf[o->len++] = c;
}

/* Appends a decimal number. */
void dr_out_u64(struct dr_out *o, uint64_t v);
void dr_out_i64(struct dr_out *o, int64_t v);
/* Appends a double with up to `decimals` digits after the point. */
void dr_out_double(struct dr_out *o, double v, int decimals);
/* Appends s as a JSON string literal, quotes included. */
void dr_out_json_str(struct dr_out *o, const char *s, size_t n);
/* JSON members: `"key":` preceded by a comma unless *first (then cleared). */
static inline void dr_out_jkey(struct dr_out *o, const char *key, int *first)
{
	if (!*first)
		dr_out_char(o, ',');
	*first = 0;
	dr_out_json_str(o, key, strlen(key));
	dr_out_char(o, ':');
}

static inline void dr_out_ju(struct dr_out *o, const char *key, uint64_t v, int *first)
{
	dr_out_jkey(o, key, first);
	dr_out_u64(o, v);
}

static inline void dr_out_jd(struct dr_out *o, const char *key, double v, int decimals, int *first)
{
	dr_out_jkey(o, key, first);
	dr_out_double(o, v, decimals);
}

/* "key": v, or "key": null when there is no value (have is 0). */
static inline void dr_out_jd_or_null(struct dr_out *o, const char *key, int have, double v,
				     int decimals, int *first)
{
	dr_out_jkey(o, key, first);
	if (have)
		dr_out_double(o, v, decimals);
	else
		dr_out_str(o, "null");
}

static inline void dr_out_js(struct dr_out *o, const char *key, const char *v, int *first)
{
	dr_out_jkey(o, key, first);
	dr_out_json_str(o, v, strlen(v));
}

static inline void dr_out_jb(struct dr_out *o, const char *key, int v, int *first)
{
	dr_out_jkey(o, key, first);
	dr_out_str(o, v ? "true" : "false");
}

/* Appends an address in text form (IPv4 dotted quad or RFC 5952 IPv6). */
void dr_out_addr(struct dr_out *o, int family, const uint8_t *addr);
/* Writes the text form of an address into buf (>= 46 bytes). */
size_t dr_addr_text(int family, const uint8_t *addr, char *buf);

#endif
