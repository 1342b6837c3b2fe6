/* dnsradar analyze: an offline report of a capture, summary first, then
 * top-N tables, narrowed by --where for drill-down. dnsradar collect: the
 * same detectors on flow exports received live, alert events as they
 * happen, the same report when it is stopped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "action/respond.h"
#include "cli/cli.h"
#include "detect/engine.h"
#include "lib/geo.h"
#include "report/render.h"
#include "report/stats.h"
#include "report/tables.h"

#define DEFAULT_TOP 10
#define MAX_TOP 10000

enum { OPT_FORMAT = 0x200, OPT_TOP, OPT_LOCAL, OPT_RESOLVER, OPT_AUTHORITATIVE, OPT_CONFIG,
       OPT_SET, OPT_STATS, OPT_THRESHOLDS, OPT_GEOIP, OPT_ASN, OPT_THREADS, OPT_LISTEN,
       OPT_RCVBUF, OPT_SNAPLEN, OPT_BUFFER, OPT_RULES };

#define DETECTION_HELP \
		"Detection (alerts come first in the report):\n" \
		"  --local CIDR          the operator's own address space; repeatable\n" \
		"  --resolver ADDR[/LEN] hosts allowed to answer DNS (recursive\n" \
		"                        resolvers); repeatable\n" \
		"  --authoritative ADDR[/LEN]\n" \
		"                        your authoritative servers: reported as\n" \
		"                        reflectors only on the unmistakable pattern\n" \
		"                        (a few large answers repeated to a few\n" \
		"                        destinations); repeatable\n" \
		"  --config FILE         read 'local = CIDR', 'resolver = ADDR',\n" \
		"                        'authoritative = ADDR',\n" \
		"                        'geoip = FILE', 'asn = FILE' and\n" \
		"                        'DETECTOR.THRESHOLD = VALUE' lines\n" \
		"  --set DETECTOR.THRESHOLD=VALUE\n" \
		"                        change a threshold, e.g. --set flood.source_pps=5000;\n" \
		"                        DETECTOR.enabled=0 turns a detector off. Detectors:\n" \
		"                        reflection, amplification, random_subdomain, flood,\n" \
		"                        loop; thresholds in docs/detectors.md; flow.NAME and\n" \
		"                        decode.NAME set the decoders' (docs/flows.md)\n" \
		"  --thresholds          list every threshold with the value in force\n" \
		"                        after all --config and --set, and what it\n" \
		"                        allows, then exit\n"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: dnsradar analyze [OPTIONS] FILE...\n"
		"\n"
		"Report what a capture holds: first the alerts of five detectors\n"
		"(reflection, amplification, random_subdomain, flood, loop), then a\n"
		"summary (time span, packets, DNS messages, queries, responses,\n"
		"malformed, bytes, average and peak queries per second) and top-N\n"
		"tables of sources, destinations, ports, query names, registered\n"
		"domains, query types, response codes, response sizes and of sources\n"
		"by peak queries per second. --where narrows the summary and tables;\n"
		"the detectors always see every message.\n"
		"\n"
		"Report:\n"
		"  --format text|json    text for people (default), one JSON document\n"
		"                        {summary, decode, top, alerts} for machines\n"
		"  --top N               rows per top-N table (default %d)\n"
		"  --geoip FILE          a MaxMind DB country database (GeoLite2-Country):\n"
		"                        adds sources by country (messages, sources, /24\n"
		"                        and /48 prefixes, ASes)\n"
		"  --asn FILE            a MaxMind DB ASN database (GeoLite2-ASN): adds\n"
		"                        sources by autonomous system\n"
		"  --stats               also print the memory budget of every detector\n"
		"                        and table (fixed at start)\n"
		"  --rules               after the report, for each alert, the nft,\n"
		"                        iptables+ipset, Flowspec and resolver rules the\n"
		"                        default response policy gives it (as 'dnsradar\n"
		"                        rules' prints; text only)\n"
		"  --threads 1|2         2 (the default on a machine with two or more\n"
		"                        CPUs): the detectors and tables run on a\n"
		"                        second thread, beside reading and decoding;\n"
		"                        the report is the same either way\n"
		"\n"
		DETECTION_HELP
		"\n"
		DR_COMMON_HELP
		"\n"
		"Drill-down: from the source table, to one source's destination ports,\n"
		"to its packets:\n"
		"  dnsradar analyze capture.pcap\n"
		"  dnsradar analyze --where src=192.0.2.1 capture.pcap\n"
		"  dnsradar records --where src=192.0.2.1 --where dport=53 capture.pcap\n",
		DEFAULT_TOP);
}

static void collect_usage(FILE *out)
{
	fprintf(out,
		"Usage: dnsradar collect -i IFACE... | --listen ADDR:PORT... [OPTIONS]\n"
		"\n"
		"Capture packets live on network interfaces, or receive flow exports\n"
		"live (NetFlow v5 and v9, IPFIX, sFlow v5, told apart by their\n"
		"version), or both, and run the detectors of analyze on them.\n"
		"Alert events are printed on standard output as they happen, one JSON\n"
		"object per line: {\"event\": \"open\"|\"update\"|\"close\", \"alert\": {...}}.\n"
		"On SIGINT or SIGTERM the open alerts close (close events) and the\n"
		"report of analyze follows, with the exporters, their sampling and\n"
		"every loss counted (packets the kernel dropped, sequence gaps, data\n"
		"before its template, socket drops). Flow records count in the\n"
		"seconds their packets were seen, held flow.lateness seconds (120)\n"
		"for exporters' active timeouts.\n"
		"\n"
		"Input:\n"
		"  -i, --interface IFACE capture on a network interface (needs root or\n"
		"                        CAP_NET_RAW); repeatable; 'any' is all of them\n"
		"  --snaplen OCTETS      octets kept of each packet (default 65535)\n"
		"  --buffer SIZE         each interface's capture ring, e.g. 256M\n"
		"                        (default 64M); raise it when the report\n"
		"                        shows kernel drops\n"
		"  --bpf EXPR            capture only packets matching a BPF filter,\n"
		"                        run by the kernel, e.g. --bpf 'udp port 53'\n"
		"  --threads 1|2         2 (the default on two or more CPUs): the\n"
		"                        detectors run beside the capture\n"
		"  --listen ADDR:PORT    a UDP socket to receive exports on, IPv4\n"
		"                        (0.0.0.0:2055) or IPv6 ([::]:6343); repeatable\n"
		"  --rcvbuf OCTETS       each socket's receive buffer (default 32 MiB;\n"
		"                        raise net.core.rmem_max when refused)\n"
		"\n"
		"Report (at the end):\n"
		"  --format text|json    the report as text (default) or one JSON line\n"
		"  --top N               rows per top-N table (default %d)\n"
		"\n"
		DETECTION_HELP
		"\n"
		"Example: a router exporting NetFlow v9 to port 2055, the ISP's space\n"
		"  dnsradar collect --listen 0.0.0.0:2055 --local 198.51.100.0/22\n"
		"Example: DNS traffic on eth0 (docs/capture.md)\n"
		"  dnsradar collect -i eth0 --bpf 'port 53 or ip[6:2] & 0x1fff != 0'\n"
		"Archives: nfreplay -r nfcapd.202612010000 -H 127.0.0.1 -p 2055 (docs/flows.md)\n",
		DEFAULT_TOP);
}

/* collect: every alert event on stdout as it happens, one JSON line. */
static void print_event(void *ctx, enum dr_alert_event event, const struct dr_alert *a)
{
	struct dr_out *o = ctx;
	dr_alert_event_json(o, event, a);
	dr_out_flush(o);
}

static void advance_engine(void *ctx, int64_t now)
{
	dr_engine_advance(ctx, now);
}

/* Config-file keys of the report: geoip = FILE, asn = FILE. */
static int config_key(void *ctx, const char *key, const char *value, char *errbuf, size_t errlen)
{
	int asn = strcmp(key, "asn") == 0;
	if (!asn && strcmp(key, "geoip") != 0)
		return 1;
	char why[512];
	if (dr_geo_open(ctx, asn ? "asn" : "country", value, why, sizeof(why)) == 0)
		return 0;
	/* the line already names the file: "FILE:LINE: geoip = PATH: reason" */
	size_t n = strlen(value);
	const char *reason = strncmp(why, value, n) == 0 && strncmp(why + n, ": ", 2) == 0
			     ? why + n + 2 : why;
	snprintf(errbuf, errlen, "%s", reason);
	return -1;
}

/* --thresholds: every threshold with the value in force after all of
 * --config and --set, in the form they take, and what it allows. */
static void print_setting(const char *module, const struct dr_param *p, double value,
			  size_t mem_limit)
{
	char name[64], allowed[160];
	snprintf(name, sizeof(name), "%s.%s", module, p->name);
	dr_param_allowed(p, mem_limit, allowed, sizeof(allowed));
	printf("  %-34s %-8.15g %s (%s)\n", name, value, p->help, allowed);
}

static void print_thresholds(const struct dr_engine *e)
{
	for (unsigned i = 0; i < e->n; i++) {
		const struct dr_detector *d = dr_detectors[i];
		printf("%s: %s%s\n", d->name, d->summary, e->enabled[i] ? "" : " (disabled)");
		for (unsigned p = 0; p < d->nparams; p++)
			print_setting(d->name, &d->params[p], e->values[i][p], e->mem_limit);
	}
	printf("decode: the decoder's reassembly of IP fragments and DNS over TCP\n");
	for (unsigned p = 0; p < DR_DECODE_NPARAMS; p++)
		print_setting("decode", &dr_decode_params[p], e->decode_values[p], e->mem_limit);
	printf("flow: the flow decoder (NetFlow, IPFIX, sFlow) and the placement of flow records\n");
	for (unsigned p = 0; p < DR_FLOW_NPARAMS; p++)
		print_setting("flow", &dr_flow_params[p], e->flow_values[p], e->mem_limit);
}

static void add_message(void *ctx, const struct dr_record *r)
{
	dr_stats_add(ctx, r);
}

static void detect_message(void *ctx, struct dr_record *r)
{
	dr_engine_record(ctx, r);
}

/* --rules: what the default policy gives each alert of the report. */
static void print_rules(const struct dr_alert_log *alerts)
{
	struct dr_respond_config c;
	dr_respond_config_defaults(&c);
	printf("\nRules (the default response policy; 'dnsradar rules' for the service's)\n");
	if (!alerts->n)
		printf("  no alerts\n");
	else
		putchar('\n');
	unsigned used = 0;
	for (unsigned i = 0; i < alerts->n; i++)
		if (dr_rules_print(stdout, &c, &alerts->a[i], 0, &used) < 0)
			dr_cli_error("analyze: out of memory for the rules");
	if (dr_rules_print_setup(stdout, &c, used) < 0)
		dr_cli_error("analyze: out of memory for the rules");
	fflush(stdout);
}

static int run_mode(int argc, char **argv, int collect)
{
	const char *cmd = collect ? "collect" : "analyze";
	static const struct option longopts[] = {
		DR_COMMON_LONGOPTS,
		{"listen", required_argument, NULL, OPT_LISTEN},
		{"rcvbuf", required_argument, NULL, OPT_RCVBUF},
		{"interface", required_argument, NULL, 'i'},
		{"snaplen", required_argument, NULL, OPT_SNAPLEN},
		{"buffer", required_argument, NULL, OPT_BUFFER},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"top", required_argument, NULL, OPT_TOP},
		{"local", required_argument, NULL, OPT_LOCAL},
		{"resolver", required_argument, NULL, OPT_RESOLVER},
		{"authoritative", required_argument, NULL, OPT_AUTHORITATIVE},
		{"config", required_argument, NULL, OPT_CONFIG},
		{"set", required_argument, NULL, OPT_SET},
		{"stats", no_argument, NULL, OPT_STATS},
		{"rules", no_argument, NULL, OPT_RULES},
		{"thresholds", no_argument, NULL, OPT_THRESHOLDS},
		{"geoip", required_argument, NULL, OPT_GEOIP},
		{"asn", required_argument, NULL, OPT_ASN},
		{"threads", required_argument, NULL, OPT_THREADS},
		{NULL, 0, NULL, 0},
	};
	struct dr_pipeline *p = calloc(1, sizeof(*p));
	struct dr_stats *stats = calloc(1, sizeof(*stats));
	struct dr_engine *engine = calloc(1, sizeof(*engine));
	char err[1024];
	int show_stats = 0, have_engine = 0, thresholds = 0, rules = 0;
	struct dr_geo geo = {0};
	struct dr_alert_log alerts = {0};
	char **where = calloc((size_t)argc + 1, sizeof(*where));
	unsigned nwhere = 0;
	int json = 0, opt, ret = DR_EXIT_USAGE, have_stats = 0;
	long top = DEFAULT_TOP;
	char **listen = calloc((size_t)argc + 1, sizeof(*listen));
	char **ifaces = calloc((size_t)argc + 1, sizeof(*ifaces));
	struct dr_out events = {0};

	if (!p || !stats || !where || !engine || !listen || !ifaces) {
		dr_cli_error("out of memory");
		ret = DR_EXIT_FAIL;
		goto out;
	}
	dr_pipeline_init(p);
	p->threads = sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 2 : 1;
	dr_engine_defaults(engine);
	optind = 1;
	while ((opt = getopt_long(argc, argv, collect ? "hi:" : "h", longopts, NULL)) != -1) {
		char *end;
		switch (opt) {
		case 'h':
			if (collect)
				collect_usage(stdout);
			else
				usage(stdout);
			ret = DR_EXIT_OK;
			goto out;
		case 'i':
			if (!collect) {
				dr_cli_error("--interface is for dnsradar collect");
				dr_cli_usage_hint(cmd);
				goto out;
			}
			p->ifaces = ifaces;
			ifaces[p->nifaces++] = optarg;
			break;
		case OPT_SNAPLEN:
		case OPT_BUFFER:
			if (!collect) {
				dr_cli_error("--%s is for dnsradar collect", opt == OPT_SNAPLEN ? "snaplen"
					     : "buffer");
				dr_cli_usage_hint(cmd);
				goto out;
			}
			if (opt == OPT_SNAPLEN) {
				long v = strtol(optarg, &end, 10);
				if (*end || end == optarg || v < 64 || v > 262144) {
					dr_cli_error("--snaplen '%s': give octets from 64 to 262144",
						     optarg);
					goto out;
				}
				p->snaplen = (int)v;
			} else if (dr_cli_size(optarg, &p->capture_buffer) < 0) {
				dr_cli_error("--buffer '%s': give a size from 1M to 1G, e.g. 256M "
					     "(K, M, G: powers of 1024)", optarg);
				goto out;
			}
			break;
		case OPT_LISTEN:
		case OPT_RCVBUF:
			if (!collect) {
				dr_cli_error("--%s is for dnsradar collect", opt == OPT_LISTEN ? "listen"
					     : "rcvbuf");
				dr_cli_usage_hint(cmd);
				goto out;
			}
			if (opt == OPT_LISTEN) {
				p->listen = listen;
				listen[p->nlisten++] = optarg;
				break;
			}
			p->rcvbuf = (int)strtol(optarg, &end, 10);
			if (*end || end == optarg || p->rcvbuf < 4096 || p->rcvbuf > (1 << 30)) {
				dr_cli_error("--rcvbuf '%s': give octets from 4096 to 1073741824",
					     optarg);
				goto out;
			}
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "json") == 0) {
				json = 1;
			} else if (strcmp(optarg, "text") == 0) {
				json = 0;
			} else {
				dr_cli_error("--format '%s': use text or json", optarg);
				dr_cli_usage_hint(cmd);
				goto out;
			}
			break;
		case OPT_TOP:
			top = strtol(optarg, &end, 10);
			if (*end || end == optarg || top < 1 || top > MAX_TOP) {
				dr_cli_error("--top '%s': give a number from 1 to %d", optarg, MAX_TOP);
				dr_cli_usage_hint(cmd);
				goto out;
			}
			break;
		case OPT_LOCAL:
		case OPT_RESOLVER:
		case OPT_AUTHORITATIVE:
		case OPT_CONFIG:
		case OPT_SET: {
			/* A bad setting is one line naming it: no usage hint. */
			int bad = opt == OPT_LOCAL ? dr_roles_add_local(&engine->roles, optarg, err, sizeof(err))
				: opt == OPT_RESOLVER ? dr_roles_add_resolver(&engine->roles, optarg, err, sizeof(err))
				: opt == OPT_AUTHORITATIVE ? dr_roles_add_authoritative(&engine->roles, optarg,
											err, sizeof(err))
				: opt == OPT_CONFIG ? dr_engine_load_config(engine, optarg, config_key, &geo,
									   "geoip, asn", err, sizeof(err))
				: dr_engine_set(engine, optarg, err, sizeof(err));
			if (bad) {
				dr_cli_error("%s%s", opt == OPT_SET ? "--set " : "", err);
				goto out;
			}
			break;
		}
		case OPT_STATS:
			show_stats = 1;
			break;
		case OPT_RULES:
			if (collect) {
				dr_cli_error("collect: --rules is for analyze (dnsradar rules reads "
					     "the service's store)");
				dr_cli_usage_hint(cmd);
				goto out;
			}
			rules = 1;
			break;
		case OPT_THREADS:
			if (strcmp(optarg, "1") != 0 && strcmp(optarg, "2") != 0) {
				dr_cli_error("--threads '%s': give 1 or 2", optarg);
				dr_cli_usage_hint(cmd);
				goto out;
			}
			p->threads = (unsigned)(optarg[0] - '0');
			break;
		case OPT_GEOIP:
		case OPT_ASN:
			if (dr_geo_open(&geo, opt == OPT_ASN ? "asn" : "country", optarg, err,
					sizeof(err)) < 0) {
				dr_cli_error("%s %s", opt == OPT_ASN ? "--asn" : "--geoip", err);
				goto out;
			}
			break;
		case OPT_THRESHOLDS:	/* printed once every setting is in */
			thresholds = 1;
			break;
		default:
			if (dr_cli_common(p, opt, optarg) != 0) {
				dr_cli_usage_hint(cmd);
				goto out;
			}
			if (opt == DR_OPT_WHERE)
				where[nwhere++] = optarg;
			break;
		}
	}
	if (dr_engine_check(engine, err, sizeof(err)) < 0) {
		dr_cli_error("%s", err);
		goto out;
	}
	if (thresholds) {
		print_thresholds(engine);
		ret = DR_EXIT_OK;
		goto out;
	}
	if (collect && (optind < argc || (!p->nlisten && !p->nifaces))) {
		if (optind < argc)
			dr_cli_error("collect: '%s': collect reads interfaces (-i) and sockets "
				     "(--listen) only; dnsradar analyze reads captures", argv[optind]);
		else
			dr_cli_error("collect: no -i IFACE or --listen ADDR:PORT given");
		dr_cli_usage_hint(cmd);
		goto out;
	}
	if (rules && json) {
		dr_cli_error("analyze: --rules prints text; leave out --format json");
		dr_cli_usage_hint("analyze");
		goto out;
	}
	if (!collect && optind >= argc) {
		dr_cli_error("analyze: no capture file given");
		dr_cli_usage_hint("analyze");
		goto out;
	}
	if (collect) {
		/* the engine's clock is ticked on the thread that runs it: the
		 * pipeline's ticks travel behind the records (core/pipeline.h) */
		p->progress = 0;
		/* a failed interface is reported by its index, as a file is */
		p->files = p->nifaces ? ifaces : listen;
		p->nfiles = p->nifaces ? p->nifaces : p->nlisten;
		if (dr_out_init(&events, stdout, 1u << 16) < 0 ||
		    dr_engine_subscribe(engine, print_event, &events) < 0) {
			dr_cli_error("out of memory");
			ret = DR_EXIT_FAIL;
			goto out;
		}
		p->idle_fn = advance_engine;
		p->idle_ctx = engine;
		p->max_ahead = 300;	/* live: no record from the future moves the clock */
	} else {
		p->files = argv + optind;
		p->nfiles = (unsigned)(argc - optind);
	}
	dr_decode_config_apply(&p->decode, engine->decode_values);
	dr_flow_config_apply(&p->flow_config, engine->flow_values);

	have_engine = 1;
	if (dr_alert_log_init(&alerts, 4 * DR_ALERTS_MAX) < 0 ||
	    dr_engine_subscribe(engine, dr_alert_log_sink, &alerts) < 0 ||
	    dr_engine_start(engine, p->dns_ports) < 0) {
		dr_cli_error("out of memory for the detectors");
		ret = DR_EXIT_FAIL;
		goto out;
	}
	struct dr_stats_config cfg = {.regdom = engine->regdom};
	if (dr_stats_init(stats, &cfg) < 0) {
		dr_cli_error("out of memory for the report tables");
		ret = DR_EXIT_FAIL;
		goto out;
	}
	have_stats = 1;
	/* Keys are derived once, on the decoding thread, for the tables and
	 * the detectors alike; the detectors need not run if all are off. */
	p->keys = 1;
	p->regdom = engine->regdom;
	if (dr_engine_active(engine)) {
		p->every_fn = detect_message;
		p->every_ctx = engine;
	}
	int rc = dr_pipeline_run(p, add_message, stats);
	dr_engine_finish(engine);
	if (rc < 0) {
		dr_cli_error("%s", p->error);
		goto out;
	}

	dr_alert_log_sort(&alerts);
	struct dr_tables tables;
	if (dr_tables_build(&tables, stats, (unsigned)top, &geo) < 0) {
		dr_cli_error("out of memory for the report");
		ret = DR_EXIT_FAIL;
		goto out;
	}
	dr_out_flush(&events);
	struct dr_report report = {
		.command = collect ? "collect" : NULL,
		.stats = stats, .tables = &tables, .decode = &p->stats,
		.filtered = p->filtered, .files = p->files, .nfiles = p->nfiles,
		.where = where, .nwhere = nwhere, .engine = engine, .alerts = &alerts,
		.show_stats = show_stats,
		.decode_mem = p->decode_mem, .ring_mem = p->ring_mem,
		.interrupted = dr_cli_signal_name(p->interrupted),
		.notes = &p->notes, .dns_ports = p->dns_ports, .bpf = p->bpf,
		.filtered_fragments = p->filtered_fragments, .filtered_vlan = p->filtered_vlan,
		.cut_short = p->cut_short, .cut_file = !p->cut_short ? NULL
			    : strcmp(p->files[p->cut_file], "-") == 0 ? "(standard input)"
			    : p->files[p->cut_file],
		.cut_packet = p->cut_packet, .cut_offset = p->cut_offset, .cut_why = p->cut_why,
		.flows = &p->flow_stats, .exporters = p->flow_exporters,
		.nexporters = p->nflow_exporters,
		.sockets = p->sockets, .nsockets = p->nsockets, .listen_note = p->listen_note,
		.ifaces = p->capture, .nifaces = p->ncapture,
	};
	struct dr_out o;
	if (dr_out_init(&o, stdout, 1u << 16) < 0) {
		dr_tables_free(&tables);
		dr_cli_error("out of memory");
		ret = DR_EXIT_FAIL;
		goto out;
	}
	if (json)
		dr_render_json(&o, &report);
	else
		dr_render_text(&o, &report);
	dr_out_fini(&o);
	dr_tables_free(&tables);
	if (rules && !o.err)
		print_rules(&alerts);
	if (rc > 0) {
		dr_cli_error("%s", p->error);
		ret = DR_EXIT_USAGE;
	} else if (o.err) {
		dr_cli_error("%s: could not write the report", cmd);
		ret = DR_EXIT_FAIL;
	} else {
		ret = p->interrupted ? 128 + p->interrupted : DR_EXIT_OK;
	}
out:
	if (events.buf)
		dr_out_fini(&events);
	free(listen);
	free(ifaces);
	dr_alert_log_fini(&alerts);
	dr_geo_close(&geo);
	if (have_engine)
		dr_engine_fini(engine);
	free(engine);
	if (have_stats)
		dr_stats_fini(stats);
	free(stats);
	free(where);
	free(p);
	return ret;
}

static int run_analyze(int argc, char **argv)
{
	return run_mode(argc, argv, 0);
}

static int run_collect(int argc, char **argv)
{
	return run_mode(argc, argv, 1);
}

const struct dr_command dr_cmd_analyze = {
	.name = "analyze",
	.summary = "report and drill down: summary, top-N tables, alerts",
	.run = run_analyze,
};

const struct dr_command dr_cmd_collect = {
	.name = "collect",
	.summary = "receive NetFlow, IPFIX and sFlow live: alert events as JSON lines",
	.run = run_collect,
};
