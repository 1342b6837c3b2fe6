/* SQL text for ClickHouse, which on 18.16 has no bound parameters: every
 * value is written into the statement as a literal, quoted here, into a
 * fixed buffer whose overflow sticks (a cut statement is never sent). */
#ifndef DR_STORE_CH_SQL_H
#define DR_STORE_CH_SQL_H

#include <stddef.h>
#include <stdint.h>

struct dr_ch_sql {
	char *text;
	size_t len, cap;
	int overflow;		/* something did not fit, or a value cannot be written */
};

void dr_ch_sql_init(struct dr_ch_sql *s, char *buf, size_t cap);
/* A fixed fragment of SQL, never a user's text. */
void dr_ch_sql_add(struct dr_ch_sql *s, const char *frag);
/* A string literal of len bytes (any bytes: a NUL, a quote, binary
 * addresses): '...' with \' \\ \0 and \xHH for every other byte below
 * 0x20 or from 0x7f, so the statement is plain ASCII. */
void dr_ch_sql_str(struct dr_ch_sql *s, const void *p, size_t len);
void dr_ch_sql_int(struct dr_ch_sql *s, int64_t v);
/* A Float64 literal that reads back as the same double (%.17g); NaN or
 * an infinity sets overflow. */
void dr_ch_sql_double(struct dr_ch_sql *s, double v);
/* An identifier in backquotes (a database name), escaped as a string. */
void dr_ch_sql_ident(struct dr_ch_sql *s, const char *name);

#endif
