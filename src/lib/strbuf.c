/* Fixed-capacity string building. */
#include "lib/strbuf.h"

#include <stdarg.h>
#include <stdio.h>

void dr_sb_printf(struct dr_sb *sb, const char *fmt, ...)
{
	if (sb->len + 1 >= sb->cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sb->len += (size_t)n;
	if (sb->len >= sb->cap)
		sb->len = sb->cap - 1;
}

void dr_sb_json_str(struct dr_sb *sb, const char *s)
{
	dr_sb_printf(sb, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			dr_sb_printf(sb, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			dr_sb_printf(sb, "\\u%04x", c);
		else
			dr_sb_printf(sb, "%c", c);
	}
	dr_sb_printf(sb, "\"");
}
