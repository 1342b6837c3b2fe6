/* A fixed-capacity string builder: appends are cut at the capacity, never
 * grow, and the result is always NUL-terminated. */
#ifndef DR_LIB_STRBUF_H
#define DR_LIB_STRBUF_H

#include <stddef.h>

struct dr_sb {
	char *buf;
	size_t cap, len;
};

static inline void dr_sb_init(struct dr_sb *sb, char *buf, size_t cap)
{
	sb->buf = buf;
	sb->cap = cap;
	sb->len = 0;
	if (cap)
		buf[0] = 0;
}

void dr_sb_printf(struct dr_sb *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. */
void dr_sb_json_str(struct dr_sb *sb, const char *s);

#endif
