/* Options, store opening and aligned tables of the drill-down commands. */
#include "cli/drill.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "lib/when.h"

int dr_drill_option(struct dr_drill *d, const char *cmd, int opt, const char *arg)
{
	char err[512];
	switch (opt) {
	case DR_OPT_STORE:
		d->store = arg;
		return 0;
	case DR_OPT_SINCE:
		d->since = arg;
		return 0;
	case DR_OPT_SENSOR:
		d->sensor = arg;
		return 0;
	case DR_OPT_FROM:
		d->from = arg;
		return 0;
	case DR_OPT_TO:
		d->to = arg;
		return 0;
	case DR_OPT_UTC:
		d->utc = 1;
		return 0;
	case DR_OPT_FORMAT:
		if (strcmp(arg, "json") != 0 && strcmp(arg, "text") != 0) {
			dr_cli_error("%s: --format '%s': give text or json", cmd, arg);
			return -1;
		}
		d->json = strcmp(arg, "json") == 0;
		d->format_set = 1;
		return 0;
	case DR_OPT_LIMIT: {
		char *end;
		long v = strtol(arg, &end, 10);
		if (*end || end == arg || v < 1 || v > DR_QUERY_LIMIT_MAX) {
			dr_cli_error("%s: --limit '%s': give a number from 1 to %d", cmd, arg,
				     DR_QUERY_LIMIT_MAX);
			return -1;
		}
		d->limit = (unsigned)v;
		return 0;
	}
	case DR_OPT_WHERE:
		if (dr_where_add(&d->where, arg, err, sizeof(err)) < 0) {
			dr_cli_error("%s", err);
			return -1;
		}
		return 0;
	default:
		return 1;
	}
}

int dr_drill_open(struct dr_drill *d, const char *cmd, const char *what, double default_span,
		  struct dr_query_params *p, struct dr_query **q)
{
	char err[768];
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	if (!d->store) {
		dr_cli_error("%s: give the store to read with --store FILE", cmd);
		dr_cli_usage_hint(cmd);
		return DR_EXIT_USAGE;
	}
	if (dr_when_range(d->since, d->from, d->to, d->utc,
			  (double)now.tv_sec + now.tv_nsec / 1e9, default_span, "--", &p->from,
			  &p->to, err, sizeof(err)) < 0) {
		dr_cli_error("%s: %s", cmd, err);
		return DR_EXIT_USAGE;
	}
	p->limit = d->limit;
	p->sensor = d->sensor;
	if (dr_query_check(what, p, "--", err, sizeof(err)) < 0) {
		dr_cli_error("%s", err);
		return DR_EXIT_USAGE;
	}
	if (dr_query_open(q, d->store, err, sizeof(err)) < 0) {
		dr_cli_error("%s: %s", cmd, err);
		return DR_EXIT_USAGE;
	}
	return 0;
}

void dr_table_init(struct dr_table *t, unsigned ncols, const char *const *head,
		   const int *right)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols < DR_TABLE_COLS ? ncols : DR_TABLE_COLS;
	for (unsigned i = 0; i < t->ncols; i++) {
		t->head[i] = head[i];
		t->right[i] = right[i];
	}
}

void dr_table_row(struct dr_table *t, const char *const *cells)
{
	if (t->err)
		return;
	if (t->nrows == t->cap) {
		unsigned cap = t->cap ? t->cap * 2 : 64;
		char **nc = realloc(t->cells, sizeof(char *) * cap * t->ncols);
		if (!nc) {
			t->err = 1;
			return;
		}
		t->cells = nc;
		t->cap = cap;
	}
	for (unsigned i = 0; i < t->ncols; i++) {
		char *c = strdup(cells[i] ? cells[i] : "");
		if (!c)
			t->err = 1;
		t->cells[t->nrows * t->ncols + i] = c;
	}
	t->nrows++;
}

void dr_table_print(const struct dr_table *t, FILE *out)
{
	size_t width[DR_TABLE_COLS];
	for (unsigned i = 0; i < t->ncols; i++) {
		width[i] = strlen(t->head[i]);
		for (unsigned r = 0; r < t->nrows; r++) {
			const char *c = t->cells[r * t->ncols + i];
			size_t n = c ? strlen(c) : 0;
			if (n > width[i])
				width[i] = n;
		}
	}
	for (int r = -1; r < (int)t->nrows; r++) {
		fputs(" ", out);
		for (unsigned i = 0; i < t->ncols; i++) {
			const char *c = r < 0 ? t->head[i] : t->cells[(unsigned)r * t->ncols + i];
			int last = i + 1 == t->ncols;
			if (!c)
				c = "";
			if (t->right[i])
				fprintf(out, " %*s", (int)width[i], c);
			else if (last)
				fprintf(out, " %s", c);
			else
				fprintf(out, " %-*s", (int)width[i], c);
		}
		fputc('\n', out);
	}
}

void dr_table_free(struct dr_table *t)
{
	for (unsigned i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}
