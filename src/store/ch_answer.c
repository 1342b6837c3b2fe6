/* ClickHouse's TabSeparated answer, row by row (ch_answer.h). */
#include "store/ch_answer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* TabSeparated's escapes, undone in place; the new length. */
static size_t tsv_unescape(char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\' || i + 1 == n) {
			s[o++] = s[i];
			continue;
		}
		char c = s[++i];
		switch (c) {
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case '0': c = 0; break;
		case 'a': c = '\a'; break;
		case 'v': c = '\v'; break;
		default: break;	/* \\ \' and any other: the character */
		}
		s[o++] = c;
	}
	s[o] = 0;
	return o;
}

static void answer_fail(struct dr_ch_answer *a, const char *why)
{
	a->bad = 1;
	snprintf(a->err, sizeof(a->err), "%s", why);
}

/* Splits one line (without its newline, NUL terminated) and hands it on. */
static int answer_row(struct dr_ch_answer *a, char *line, size_t n)
{
	char *f[DR_CH_FIELDS_MAX];
	size_t len[DR_CH_FIELDS_MAX];
	unsigned k = 0;
	char *p = line, *end = line + n;
	for (;;) {
		char *tab = memchr(p, '\t', (size_t)(end - p));
		char *stop = tab ? tab : end;
		if (k == DR_CH_FIELDS_MAX || k == a->ncols) {
			k++;
			break;
		}
		*stop = 0;
		if (stop - p == 2 && p[0] == '\\' && p[1] == 'N') {
			f[k] = NULL;
			len[k] = 0;
		} else {
			f[k] = p;
			len[k] = tsv_unescape(p, (size_t)(stop - p));
		}
		k++;
		if (!tab)
			break;
		p = tab + 1;
	}
	if (k != a->ncols) {
		/* an exception written into a stream already begun, or a
		 * server that answers other columns than asked */
		snprintf(a->err, sizeof(a->err), "an answer row has %u fields, not %u: %.200s", k,
			 a->ncols, line);
		a->bad = 1;
		return -1;
	}
	if (a->fn(a->ctx, f, len, k)) {
		a->stopped = 1;
		return -1;
	}
	return 0;
}

size_t dr_ch_answer_take(struct dr_ch_answer *a, const char *data, size_t n)
{
	if (a->status != 200) {
		size_t room = sizeof(a->err) - 1 - a->errlen;
		size_t take = n < room ? n : room;
		memcpy(a->err + a->errlen, data, take);
		a->errlen += take;
		a->err[a->errlen] = 0;
		return n;
	}
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(data + i, '\n', n - i);
		size_t take = nl ? (size_t)(nl - (data + i)) : n - i;
		if (a->len + take + 1 > a->cap) {
			size_t cap = a->cap ? a->cap : 4096;
			while (cap < a->len + take + 1)
				cap *= 2;
			if (cap > DR_CH_LINE_MAX) {
				answer_fail(a, "an answer row is longer than 8 MiB");
				return 0;
			}
			char *nb = realloc(a->line, cap);
			if (!nb) {
				answer_fail(a, "out of memory");
				return 0;
			}
			a->line = nb;
			a->cap = cap;
		}
		memcpy(a->line + a->len, data + i, take);
		a->len += take;
		a->line[a->len] = 0;
		i += take;
		if (nl) {
			i++;
			if (answer_row(a, a->line, a->len) < 0)
				return 0;
			a->len = 0;
		}
	}
	return n;
}

void dr_ch_answer_free(struct dr_ch_answer *a)
{
	free(a->line);
	a->line = NULL;
	a->len = a->cap = 0;
}

/* ClickHouse's message, on one line: its first, without the
 * ", e.what() = DB::Exception" that repeats it. */
void dr_ch_server_message(char *m)
{
	m[strcspn(m, "\r\n")] = 0;
	char *what = strstr(m, ", e.what() = ");
	if (what)
		*what = 0;
}
