/* What the drill-down commands on the store (top, alerts, records
 * --store) share: their options, opening the store and aligned tables. */
#ifndef DR_CLI_DRILL_H
#define DR_CLI_DRILL_H

#include <getopt.h>
#include <stdio.h>

#include "core/where.h"
#include "store/query.h"

enum { DR_OPT_STORE = 0x300, DR_OPT_SINCE, DR_OPT_FROM, DR_OPT_TO, DR_OPT_UTC,
       DR_OPT_FORMAT, DR_OPT_LIMIT, DR_OPT_SENSOR };

#define DR_DRILL_LONGOPTS \
	{"store", required_argument, NULL, DR_OPT_STORE}, \
	{"since", required_argument, NULL, DR_OPT_SINCE}, \
	{"from", required_argument, NULL, DR_OPT_FROM}, \
	{"to", required_argument, NULL, DR_OPT_TO}, \
	{"utc", no_argument, NULL, DR_OPT_UTC}, \
	{"format", required_argument, NULL, DR_OPT_FORMAT}, \
	{"limit", required_argument, NULL, DR_OPT_LIMIT}, \
	{"sensor", required_argument, NULL, DR_OPT_SENSOR}

#define DR_DRILL_HELP \
	"  --store FILE          the service's SQLite store (dnsradar run --store)\n" \
	"  --store clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE\n" \
	"                        a ClickHouse database, by its HTTP port (8123);\n" \
	"                        docs/clickhouse.md\n" \
	"  --since DURATION      the last 30s, 10m, 2h, 1d or 1w\n" \
	"  --from TIME, --to TIME  a range: 2026-12-01, 2026-12-01T12:00,\n" \
	"                        '2026-12-01 12:00:05', epoch seconds or now\n" \
	"                        (local time unless --utc, or a trailing Z)\n" \
	"  --utc                 read and print times in UTC, not local time\n" \
	"  --format text|json    a table for people, or JSON\n" \
	"  --limit N             at most N rows (at most 100000)\n" \
	"  --sensor NAME         a ClickHouse store: only this sensor's rows\n"

struct dr_drill {
	const char *store, *since, *from, *to, *sensor;
	int utc;
	int json;		/* --format json */
	int format_set;
	unsigned limit;
	struct dr_where where;
};

/* Handles a drill-down option for command cmd: 0 when handled, -1 after
 * printing the error, 1 when opt is not one. */
int dr_drill_option(struct dr_drill *d, const char *cmd, int opt, const char *arg);

/* Fills p's range and limit from the options (default_span when no range
 * is given), checks them for query `what` and opens the store. 0, or an
 * exit status after printing the error. */
int dr_drill_open(struct dr_drill *d, const char *cmd, const char *what, double default_span,
		  struct dr_query_params *p, struct dr_query **q);

/* An aligned text table, built row by row and printed at once. Cells are
 * copied. */
#define DR_TABLE_COLS 12
struct dr_table {
	unsigned ncols;
	const char *head[DR_TABLE_COLS];
	int right[DR_TABLE_COLS];	/* numbers: aligned right */
	char **cells;
	unsigned nrows, cap;
	int err;
};

void dr_table_init(struct dr_table *t, unsigned ncols, const char *const *head,
		   const int *right);
/* Adds a row of ncols cells; sets t->err when out of memory. */
void dr_table_row(struct dr_table *t, const char *const *cells);
void dr_table_print(const struct dr_table *t, FILE *out);
void dr_table_free(struct dr_table *t);

#endif
