/* Literals of ClickHouse SQL (ch_sql.h), written into a bounded buffer. */
#include "store/ch_sql.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void dr_ch_sql_init(struct dr_ch_sql *s, char *buf, size_t cap)
{
	s->text = buf;
	s->cap = cap;
	s->len = 0;
	s->overflow = cap == 0;
	if (cap)
		buf[0] = 0;
}

static void put(struct dr_ch_sql *s, const char *p, size_t n)
{
	if (s->overflow || s->len + n >= s->cap) {
		s->overflow = 1;
		return;
	}
	memcpy(s->text + s->len, p, n);
	s->len += n;
	s->text[s->len] = 0;
}

void dr_ch_sql_add(struct dr_ch_sql *s, const char *frag)
{
	put(s, frag, strlen(frag));
}

static void quoted(struct dr_ch_sql *s, const void *p, size_t len, char quote)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *b = p;
	put(s, &quote, 1);
	for (size_t i = 0; i < len && !s->overflow; i++) {
		char e[4];
		if (b[i] == (unsigned char)quote || b[i] == '\\') {
			e[0] = '\\';
			e[1] = (char)b[i];
			put(s, e, 2);
		} else if (b[i] == 0) {
			put(s, "\\0", 2);
		} else if (b[i] < 0x20 || b[i] >= 0x7f) {
			e[0] = '\\';
			e[1] = 'x';
			e[2] = hex[b[i] >> 4];
			e[3] = hex[b[i] & 15];
			put(s, e, 4);
		} else {
			put(s, (const char *)b + i, 1);
		}
	}
	put(s, &quote, 1);
}

void dr_ch_sql_str(struct dr_ch_sql *s, const void *p, size_t len)
{
	quoted(s, p, len, '\'');
}

void dr_ch_sql_ident(struct dr_ch_sql *s, const char *name)
{
	quoted(s, name, strlen(name), '`');
}

void dr_ch_sql_int(struct dr_ch_sql *s, int64_t v)
{
	char buf[32];
	put(s, buf, (size_t)snprintf(buf, sizeof(buf), "%" PRId64, v));
}

void dr_ch_sql_double(struct dr_ch_sql *s, double v)
{
	char buf[40];
	if (!isfinite(v)) {
		s->overflow = 1;
		return;
	}
	int n = snprintf(buf, sizeof(buf), "%.17g", v);
	/* "1e+20" is a Float64 to ClickHouse, "100" a UInt8: either compares
	 * as the number it is, so no ".0" is needed. A leading '-' is the
	 * unary minus, bound tighter than any operator around it. */
	put(s, buf, (size_t)n);
}
