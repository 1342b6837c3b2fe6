/* A bounded reader over a memory buffer. The first error sticks: a parser
 * reads straight through and checks dr_cur_err() once, and every read past
 * the end yields zero instead of touching memory outside the buffer. */
#ifndef DR_LIB_CURSOR_H
#define DR_LIB_CURSOR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct dr_cursor {
	const uint8_t *base;	/* first byte of the buffer */
	size_t len;		/* buffer length */
	size_t pos;		/* offset of the next byte to read */
	int err;		/* 0, or the first error (DR_ETRUNC) */
};

static inline void dr_cur_init(struct dr_cursor *c, const uint8_t *buf, size_t len)
{
	c->base = buf;
	c->len = len;
	c->pos = 0;
	c->err = 0;
}

static inline size_t dr_cur_avail(const struct dr_cursor *c)
{
	return c->err ? 0 : c->len - c->pos;
}

/* 1 when n more bytes are there, else 0 and the error is set. Called once
 * for a fixed-size header before reading its fields, it also lets the
 * compiler drop the fields' own checks (it knows they are in bounds): the
 * packet decoder does this on every layer. */
static inline int dr_cur_need(struct dr_cursor *c, size_t n)
{
	if (c->err)
		return 0;
	if (c->len - c->pos < n) {
		c->err = -5; /* DR_ETRUNC */
		return 0;
	}
	return 1;
}

static inline uint8_t dr_cur_u8(struct dr_cursor *c)
{
	if (!dr_cur_need(c, 1))
		return 0;
	return c->base[c->pos++];
}

static inline uint16_t dr_cur_u16(struct dr_cursor *c)
{
	if (!dr_cur_need(c, 2))
		return 0;
	const uint8_t *p = c->base + c->pos;
	c->pos += 2;
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t dr_cur_u32(struct dr_cursor *c)
{
	if (!dr_cur_need(c, 4))
		return 0;
	const uint8_t *p = c->base + c->pos;
	c->pos += 4;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void dr_cur_skip(struct dr_cursor *c, size_t n)
{
	if (dr_cur_need(c, n))
		c->pos += n;
}

/* Copies the next n bytes to dst; past the end, dst gets zeros. */
static inline void dr_cur_copy(struct dr_cursor *c, void *dst, size_t n)
{
	if (!dr_cur_need(c, n)) {
		memset(dst, 0, n);
		return;
	}
	memcpy(dst, c->base + c->pos, n);
	c->pos += n;
}

/* The next two bytes as a number without reading them: for a layer whose
 * first field may or may not be there (PPP's address and control). 0 when
 * fewer than two remain; never an error. */
static inline uint16_t dr_cur_peek_u16(const struct dr_cursor *c)
{
	if (dr_cur_avail(c) < 2)
		return 0;
	const uint8_t *p = c->base + c->pos;
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline const uint8_t *dr_cur_ptr(const struct dr_cursor *c)
{
	return c->base + c->pos;
}

static inline int dr_cur_err(const struct dr_cursor *c)
{
	return c->err;
}

static inline uint16_t dr_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t dr_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

#endif
