/* dnsradar top: the heaviest sources, destinations, ports, names, zones,
 * types, rcodes, countries or ASes of a time range, from the store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/drill.h"
#include "lib/when.h"
#include "report/format.h"

#define TOP_DEFAULT 10

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: dnsradar top --store FILE [--since D | --from T --to T] --by DIM\n"
		"                    [--where FIELD=VALUE]... [--top N] [--format text|json]\n"
		"\n"
		"Rank the keys of one dimension over a time range by packets, from the\n"
		"store's per-minute aggregates (each minute that meets the range counts\n"
		"whole). With --where, count the store's kept records instead, each\n"
		"weighted by the records it stands for: an estimate from a sample, and\n"
		"said so. The range is the last hour unless given; at most 31 days.\n"
		"\n"
		"With --where, each key also shows the distinct sources, source prefixes\n"
		"(/24 for IPv4, /48 for IPv6) and ASNs of its kept records: exact for what\n"
		"was kept, and every record of a host or zone under an open alert is kept\n"
		"(up to store.alert_records a minute), so under an alert they are the\n"
		"traffic's own. --by country with --where 'qname=*.ZONE' is the\n"
		"random-subdomain break-down: country, prefixes, ASNs, share of traffic.\n"
		"\n"
		"  --by DIM              src, dst, sport, dport, qname, zone, qtype, rcode,\n"
		"                        country or asn (default src)\n"
		"  --top N               the N heaviest keys (default 10; --limit too)\n"
		"  --where FIELD=VALUE   as in analyze: src, dst (address or CIDR), sport,\n"
		"                        dport, qname (name or *.zone), qtype, rcode, qr,\n"
		"                        proto, malformed; repeat to AND\n"
		DR_DRILL_HELP
		"  -h, --help            this help\n"
		"\n"
		"Examples:\n"
		"  dnsradar top --store /var/lib/dnsradar/store.db --since 1h --by src\n"
		"  dnsradar top --store store.db --since 10m --by dport --where src=192.0.2.1\n"
		"  dnsradar top --store store.db --since 1h --by country \\\n"
		"               --where 'qname=*.victim.example'\n");
}

struct top_ctx {
	struct dr_table table;
	unsigned rank;
};

static int add_row(void *arg, const struct dr_query_count *k)
{
	struct top_ctx *c = arg;
	char rank[16], packets[32], share[16], messages[32], bytes[32], sources[32], prefixes[32],
		asns[32];
	snprintf(rank, sizeof(rank), "%u", ++c->rank);
	dr_fmt_count(packets, sizeof(packets), (uint64_t)(k->packets + 0.5));
	dr_fmt_count(messages, sizeof(messages), (uint64_t)(k->messages + 0.5));
	dr_fmt_bytes(bytes, sizeof(bytes), (uint64_t)(k->bytes + 0.5));
	snprintf(share, sizeof(share), "%.1f%%", 100.0 * k->share);
	snprintf(sources, sizeof(sources), "%llu", (unsigned long long)k->sources);
	snprintf(prefixes, sizeof(prefixes), "%llu", (unsigned long long)k->prefixes);
	snprintf(asns, sizeof(asns), "%llu", (unsigned long long)k->asns);
	/* the table has the last three columns only when counted from records */
	const char *cells[] = {rank, k->key, packets, share, messages, bytes, sources, prefixes,
			       asns};
	dr_table_row(&c->table, cells);
	return c->table.err;
}

static int run(int argc, char **argv)
{
	enum { OPT_BY = 0x400, OPT_TOP };
	static const struct option longopts[] = {
		DR_DRILL_LONGOPTS,
		{"by", required_argument, NULL, OPT_BY},
		{"top", required_argument, NULL, DR_OPT_LIMIT},
		{"where", required_argument, NULL, DR_OPT_WHERE},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct dr_drill *d = calloc(1, sizeof(*d));
	struct dr_query *q = NULL;
	struct dr_query_params p = {.dim = DR_QD_SRC};
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
		if (opt == OPT_BY) {
			int dim = dr_query_dim_parse(optarg, 0);
			if (dim < 0) {
				dr_cli_error("top: --by '%s': give src, dst, sport, dport, qname, zone, "
					     "qtype, rcode, country or asn", optarg);
				goto out;
			}
			p.dim = (enum dr_query_dim)dim;
			continue;
		}
		int rc = dr_drill_option(d, "top", opt, optarg);
		if (rc != 0) {
			if (rc > 0)
				dr_cli_usage_hint("top");
			goto out;
		}
	}
	if (optind < argc) {
		dr_cli_error("top: unexpected argument '%s' (top reads the store given by --store)",
			     argv[optind]);
		dr_cli_usage_hint("top");
		goto out;
	}
	if (!d->limit)
		d->limit = TOP_DEFAULT;
	p.where = &d->where;
	if ((ret = dr_drill_open(d, "top", "top", 3600, &p, &q)) != 0)
		goto out;
	ret = DR_EXIT_USAGE;
	if (d->json) {
		if (dr_out_init(&o, stdout, 1 << 20) < 0)
			goto oom;
		if (dr_query_top_json(q, &p, &o, err, sizeof(err)) < 0) {
			dr_cli_error("top: %s", err);
			goto out;
		}
		dr_out_char(&o, '\n');
		dr_out_flush(&o);
		ret = o.err ? DR_EXIT_FAIL : DR_EXIT_OK;
		goto out;
	}
	struct dr_query_result res;
	struct top_ctx c = {.rank = 0};
	static const char *const head[] = {"#", NULL, "packets", "share", "messages", "bytes",
					   "sources", "prefixes", "ASNs"};
	static const int right[] = {1, 0, 1, 1, 1, 1, 1, 1, 1};
	const char *h[9];
	memcpy(h, head, sizeof(h));
	h[1] = dr_query_dim_names[p.dim];
	/* the aggregates do not know distinct sources: those columns need --where */
	dr_table_init(&c.table, p.where->n ? 9 : 6, h, right);
	int rc = dr_query_top(q, &p, add_row, &c, &res, err, sizeof(err));
	if (rc < 0 || c.table.err) {
		dr_table_free(&c.table);
		if (rc < 0) {
			dr_cli_error("top: %s", err);
			goto out;
		}
		goto oom;
	}
	char from[DR_WHEN_TEXT_MAX], to[DR_WHEN_TEXT_MAX], total[32];
	dr_when_format(p.from, d->utc, 0, from);
	dr_when_format(p.to, d->utc, 0, to);
	dr_fmt_count(total, sizeof(total), (uint64_t)(res.total_packets + 0.5));
	if (res.sampled)
		printf("Top %s from %s to %s (%s packets matching, estimated; %llu sources, "
		       "%llu prefixes, %llu ASNs kept)\n", dr_query_dim_names[p.dim], from, to, total,
		       (unsigned long long)res.total_sources, (unsigned long long)res.total_prefixes,
		       (unsigned long long)res.total_asns);
	else
		printf("Top %s from %s to %s (%s packets)\n", dr_query_dim_names[p.dim], from, to,
		       total);
	if (res.rows)
		dr_table_print(&c.table, stdout);
	else
		printf("  nothing stored in this range\n");
	if (res.truncated)
		printf("  (more keys than --top %u)\n", p.limit);
	if (res.sampled)
		printf("Note: %s.\n", DR_QUERY_SAMPLE_NOTE);
	dr_table_free(&c.table);
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

const struct dr_command dr_cmd_top = {
	.name = "top",
	.summary = "the heaviest keys of a time range, from the store",
	.run = run,
};
