/* dnsradar alerts: the alerts the service kept in its store, open ones
 * and history, as a table or as analyze's alert objects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/drill.h"
#include "lib/when.h"
#include "report/format.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: dnsradar alerts --store FILE [--since D | --from T --to T]\n"
		"                       [--state S] [--type T] [--format text|json]\n"
		"\n"
		"List the alerts whose span meets the range (the last day unless given;\n"
		"any range), oldest first. --format json prints {\"alerts\": [...]}\n"
		"with the alert objects of 'dnsradar analyze --format json'.\n"
		"\n"
		"  --state S             open, closed, interrupted (open when the service\n"
		"                        stopped) or all (the default)\n"
		"  --type T              one detector's: reflection, amplification,\n"
		"                        random_subdomain, flood, loop\n"
		DR_DRILL_HELP
		"                        (default 100)\n"
		"  -h, --help            this help\n"
		"\n"
		"Example:\n"
		"  dnsradar alerts --store /var/lib/dnsradar/store.db --since 1d --state open\n");
}

static int add_row(void *arg, const struct dr_query_alert *a)
{
	struct dr_table *t = ((void **)arg)[0];
	const int *utc = ((void **)arg)[1];
	char start[DR_WHEN_TEXT_MAX], end[DR_WHEN_TEXT_MAX], packets[32], pps[32];
	dr_when_format(a->start, *utc, 0, start);
	dr_when_format(a->end, *utc, 0, end);
	dr_fmt_count(packets, sizeof(packets), a->packets);
	dr_fmt_count(pps, sizeof(pps), (uint64_t)(a->peak_pps + 0.5));
	const char *cells[] = {start, end, a->type, a->key, a->state, a->severity, packets, pps};
	dr_table_row(t, cells);
	return t->err;
}

static int run(int argc, char **argv)
{
	enum { OPT_STATE = 0x400, OPT_TYPE };
	static const struct option longopts[] = {
		DR_DRILL_LONGOPTS,
		{"state", required_argument, NULL, OPT_STATE},
		{"type", required_argument, NULL, OPT_TYPE},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct dr_drill *d = calloc(1, sizeof(*d));
	struct dr_query *q = NULL;
	struct dr_query_params p = {.state = DR_QS_ALL};
	struct dr_out o = {.buf = NULL};
	char err[768];
	int opt, ret = DR_EXIT_USAGE;

	if (!d) {
		dr_cli_error("out of memory");
		return DR_EXIT_FAIL;
	}
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			ret = DR_EXIT_OK;
			goto out;
		}
		if (opt == OPT_STATE) {
			int st = dr_query_state_parse(optarg);
			if (st < 0) {
				dr_cli_error("alerts: --state '%s': give open, closed, interrupted or "
					     "all", optarg);
				goto out;
			}
			p.state = (enum dr_query_state)st;
			continue;
		}
		if (opt == OPT_TYPE) {
			p.type = optarg;
			continue;
		}
		int rc = dr_drill_option(d, "alerts", opt, optarg);
		if (rc != 0) {
			if (rc > 0)
				dr_cli_usage_hint("alerts");
			goto out;
		}
	}
	if (optind < argc) {
		dr_cli_error("alerts: unexpected argument '%s' (alerts reads the store given by "
			     "--store)", argv[optind]);
		dr_cli_usage_hint("alerts");
		goto out;
	}
	if (d->where.n) {
		dr_cli_error("alerts: --where is for top and records");
		goto out;
	}
	if ((ret = dr_drill_open(d, "alerts", "alerts", 86400, &p, &q)) != 0)
		goto out;
	ret = DR_EXIT_USAGE;
	if (d->json) {
		if (dr_out_init(&o, stdout, 1 << 20) < 0)
			goto oom;
		if (dr_query_alerts_json(q, &p, &o, err, sizeof(err)) < 0) {
			dr_cli_error("alerts: %s", err);
			goto out;
		}
		dr_out_char(&o, '\n');
		dr_out_flush(&o);
		ret = o.err ? DR_EXIT_FAIL : DR_EXIT_OK;
		goto out;
	}
	struct dr_table t;
	static const char *const head[] = {"start", "end", "type", "key", "state", "severity",
					   "packets", "peak pps"};
	static const int right[] = {0, 0, 0, 0, 0, 0, 1, 1};
	dr_table_init(&t, 8, head, right);
	void *args[] = {&t, &d->utc};
	struct dr_query_result res;
	int rc = dr_query_alerts(q, &p, add_row, args, &res, err, sizeof(err));
	if (rc < 0 || t.err) {
		dr_table_free(&t);
		if (rc < 0) {
			dr_cli_error("alerts: %s", err);
			goto out;
		}
		goto oom;
	}
	char from[DR_WHEN_TEXT_MAX], to[DR_WHEN_TEXT_MAX];
	dr_when_format(p.from, d->utc, 0, from);
	dr_when_format(p.to, d->utc, 0, to);
	printf("%u alert%s from %s to %s\n", res.rows, res.rows == 1 ? "" : "s", from, to);
	if (res.rows)
		dr_table_print(&t, stdout);
	if (res.truncated)
		printf("  (more than --limit %u: narrow the range)\n", p.limit);
	dr_table_free(&t);
	ret = fflush(stdout) == 0 ? DR_EXIT_OK : DR_EXIT_FAIL;
	goto out;
oom:
	dr_cli_error("out of memory");
	ret = DR_EXIT_FAIL;
out:
	if (o.buf)
		dr_out_fini(&o);
	dr_query_close(q);
	free(d);
	return ret;
}

const struct dr_command dr_cmd_alerts = {
	.name = "alerts",
	.summary = "alerts kept in the store, open ones and history",
	.run = run,
};
