/* Fuzz target: ClickHouse's TabSeparated answer as the reader takes it
 * (store/ch_answer.c), from a server that may be anything: rows of any
 * length, escapes cut anywhere, cut into pieces anywhere. It must never
 * crash, never hand over a row of other than the fields asked, and give
 * the same rows whatever the pieces. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/ch_answer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	unsigned want, rows;
	uint64_t sum;
};

static int on_row(void *ctx, char **f, const size_t *len, unsigned n)
{
	struct seen *s = ctx;
	if (n != s->want)
		__builtin_trap();
	s->rows++;
	for (unsigned i = 0; i < n; i++)
		if (f[i]) {
			if (strlen(f[i]) > len[i])
				__builtin_trap();
			for (size_t k = 0; k < len[i]; k++)
				s->sum = s->sum * 31 + (uint8_t)f[i][k];
		}
	return s->rows > 100000;
}

/* The answer in pieces of `step` octets (0: whole). */
static void feed(const uint8_t *data, size_t size, unsigned ncols, size_t step,
		 struct seen *s)
{
	struct dr_ch_answer a = {.ncols = ncols, .fn = on_row, .ctx = s, .status = 200};
	for (size_t at = 0; at < size;) {
		size_t n = step && size - at > step ? step : size - at;
		if (dr_ch_answer_take(&a, (const char *)data + at, n) != n)
			break;
		at += n;
	}
	dr_ch_answer_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	unsigned ncols = 1 + data[0] % DR_CH_FIELDS_MAX;
	size_t step = data[1] % 17;
	struct seen whole = {.want = ncols}, pieces = {.want = ncols};
	feed(data + 2, size - 2, ncols, 0, &whole);
	feed(data + 2, size - 2, ncols, step, &pieces);
	if (whole.rows != pieces.rows || whole.sum != pieces.sum)
		__builtin_trap();
	/* an error's answer is kept, bounded */
	struct dr_ch_answer e = {.ncols = ncols, .fn = on_row, .ctx = &whole, .status = 500};
	dr_ch_answer_take(&e, (const char *)data, size);
	dr_ch_answer_take(&e, (const char *)data, size);
	if (e.errlen >= sizeof(e.err))
		__builtin_trap();
	dr_ch_answer_free(&e);
	return 0;
}
