/* ClickHouse's TabSeparated answer, read as it arrives: split into rows
 * (a line each, capped), each row into its fields with their escapes
 * undone in place (\N is NULL), handed to a function row by row. An
 * answer that is not 200 is kept as the error's text. Private to
 * src/store (query_clickhouse.c). */
#ifndef DR_STORE_CH_ANSWER_H
#define DR_STORE_CH_ANSWER_H

#include <stddef.h>

#define DR_CH_LINE_MAX (8u << 20)	/* one row of the answer: an alert's JSON fits */
#define DR_CH_ERROR_MAX 2048		/* what is kept of an error's answer */
#define DR_CH_FIELDS_MAX 40

/* One row of the answer: its fields unescaped in place, NULL for \N;
 * nonzero stops the answer. */
typedef int (*row_fn)(void *ctx, char **f, const size_t *len, unsigned n);

struct dr_ch_answer {
	unsigned ncols;			/* the fields every row must have */
	row_fn fn;
	void *ctx;
	long status;			/* the HTTP status, set before the data comes */
	char *line;			/* the row being gathered */
	size_t len, cap;
	char err[DR_CH_ERROR_MAX];	/* an error's answer, or why a row failed */
	size_t errlen;
	int stopped;			/* the row function asked to stop */
	int bad;			/* a row that did not parse; the reason in err */
};

/* The next n octets of the answer. n, or 0 when the answer is to stop
 * (a bad row, the row function said so, out of memory): libcurl's
 * write function's contract. */
size_t dr_ch_answer_take(struct dr_ch_answer *a, const char *data, size_t n);

void dr_ch_answer_free(struct dr_ch_answer *a);

/* ClickHouse's error message, cut in place to one line: its first,
 * without the ", e.what() = DB::Exception" that repeats it. */
void dr_ch_server_message(char *m);

#endif
