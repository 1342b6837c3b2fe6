/* dnsradar records: one JSON line per DNS message, the drill-down to the
 * individual packets (frame numbers match Wireshark's). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/drill.h"
#include "decode/dns.h"
#include "lib/outbuf.h"
#include "lib/when.h"

#define OUT_BUF (1u << 20)

struct records_ctx {
	struct dr_out out;
	int with_file;		/* several inputs: say which file */
	int flows;		/* 1: the flow records, not the DNS messages */
};

static void out_kv_u(struct dr_out *o, const char *key, uint64_t v)
{
	dr_out_str(o, key);
	dr_out_u64(o, v);
}

/* Epoch seconds with microseconds, or nanoseconds when the capture has
 * them, as the JSON number `ts`. */
static void out_ts(struct dr_out *o, int64_t sec, uint32_t nsec)
{
	char frac[10];
	int digits = nsec % 1000 ? 9 : 6;
	uint32_t v = digits == 9 ? nsec : nsec / 1000;
	for (int i = digits - 1; i >= 0; i--) {
		frac[i] = (char)('0' + v % 10);
		v /= 10;
	}
	dr_out_i64(o, sec);
	dr_out_char(o, '.');
	dr_out_mem(o, frac, (size_t)digits);
}

/* ,"src":..,"sport":..,"dst":..,"dport":.. of either kind of record. */
static void out_endpoints(struct dr_out *o, const struct dr_record *r)
{
	dr_out_str(o, ",\"src\":\"");
	dr_out_addr(o, r->family, r->src);
	out_kv_u(o, "\",\"sport\":", r->sport);
	dr_out_str(o, ",\"dst\":\"");
	dr_out_addr(o, r->family, r->dst);
	out_kv_u(o, "\",\"dport\":", r->dport);
}

/* ,"exporter":"ADDR" (empty when the record names none). */
static void out_exporter(struct dr_out *o, const struct dr_record *r)
{
	dr_out_str(o, ",\"exporter\":\"");
	if (r->exporter[0])
		dr_out_addr(o, r->exporter[0], r->exporter + 1);
	dr_out_char(o, '"');
}

/* One flow record (or an sFlow sample without a DNS message), as the
 * exporter reported it, scaled by its sampling rate. */
static void write_flow(struct records_ctx *c, const struct dr_record *r)
{
	struct dr_out *o = &c->out;
	dr_out_need(o, 1024);
	out_kv_u(o, "{\"kind\":\"flow\",\"frame\":", r->frame);
	if (c->with_file)
		out_kv_u(o, ",\"file\":", r->file);
	out_exporter(o, r);
	dr_out_str(o, ",\"start\":");
	out_ts(o, r->ts_sec, r->ts_nsec);
	dr_out_str(o, ",\"end\":");
	out_ts(o, r->end_sec, r->end_nsec);
	out_endpoints(o, r);
	out_kv_u(o, ",\"proto\":", r->proto);
	out_kv_u(o, ",\"packets\":", r->packets);
	out_kv_u(o, ",\"bytes\":", r->bytes);
	out_kv_u(o, ",\"sampling\":", r->sampling);
	out_kv_u(o, ",\"in_if\":", r->in_if);
	out_kv_u(o, ",\"out_if\":", r->out_if);
	out_kv_u(o, ",\"fragment\":", r->fragmented);
	dr_out_str(o, r->direction == DR_DIR_INGRESS ? ",\"direction\":\"ingress\"}\n"
		      : r->direction == DR_DIR_EGRESS ? ",\"direction\":\"egress\"}\n"
		      : ",\"direction\":null}\n");
}

static void write_record(void *arg, const struct dr_record *r)
{
	struct records_ctx *c = arg;
	struct dr_out *o = &c->out;
	const struct dr_dns *d = &r->dns;
	char name[DR_NAME_TEXT_MAX];

	if (c->flows || r->kind != DR_KIND_DNS) {
		if (c->flows && r->kind == DR_KIND_FLOW)
			write_flow(c, r);
		return;
	}
	dr_out_need(o, 2048);
	out_kv_u(o, "{\"frame\":", r->frame);
	if (c->with_file)
		out_kv_u(o, ",\"file\":", r->file);
	dr_out_str(o, ",\"ts\":");
	out_ts(o, r->ts_sec, r->ts_nsec);
	out_endpoints(o, r);
	dr_out_str(o, r->proto == 6 ? ",\"proto\":\"tcp\"" : ",\"proto\":\"udp\"");
	out_kv_u(o, ",\"ttl\":", r->ip_ttl);
	out_kv_u(o, ",\"frag\":", r->fragmented);
	out_kv_u(o, ",\"id\":", d->id);
	out_kv_u(o, ",\"qr\":", dr_dns_qr(d));
	out_kv_u(o, ",\"opcode\":", dr_dns_opcode(d));
	out_kv_u(o, ",\"rcode\":", d->rcode_ext);
	out_kv_u(o, ",\"aa\":", dr_dns_aa(d));
	out_kv_u(o, ",\"tc\":", dr_dns_tc(d));
	out_kv_u(o, ",\"rd\":", dr_dns_rd(d));
	out_kv_u(o, ",\"ra\":", dr_dns_ra(d));
	out_kv_u(o, ",\"ad\":", dr_dns_ad(d));
	out_kv_u(o, ",\"cd\":", dr_dns_cd(d));
	if (d->has_question) {
		size_t n = dr_name_to_text(d->qname, d->qname_len, name);
		dr_out_str(o, ",\"qname\":");
		dr_out_json_str(o, name, n);
		out_kv_u(o, ",\"qtype\":", d->qtype);
		out_kv_u(o, ",\"qclass\":", d->qclass);
	} else {
		dr_out_str(o, ",\"qname\":null,\"qtype\":null,\"qclass\":null");
	}
	out_kv_u(o, ",\"qd\":", d->qdcount);
	out_kv_u(o, ",\"an\":", d->ancount);
	out_kv_u(o, ",\"ns\":", d->nscount);
	out_kv_u(o, ",\"ar\":", d->arcount);
	out_kv_u(o, ",\"len\":", r->payload_len);
	if (r->sampling > 1) {	/* a sampled header (sFlow): what it stands for */
		out_kv_u(o, ",\"sampling\":", r->sampling);
		if (r->exporter[0])
			out_exporter(o, r);
	}
	if (d->edns) {
		out_kv_u(o, ",\"edns_udp\":", d->edns_udp);
		out_kv_u(o, ",\"edns_version\":", d->edns_version);
		out_kv_u(o, ",\"do\":", d->edns_do);
		dr_out_str(o, ",\"edns_opts\":[");
		for (unsigned i = 0; i < d->edns_nopts; i++) {
			if (i)
				dr_out_char(o, ',');
			dr_out_u64(o, d->edns_opts[i]);
		}
		dr_out_char(o, ']');
	} else {
		dr_out_str(o, ",\"edns_udp\":null,\"edns_version\":null,\"do\":0,\"edns_opts\":[]");
	}
	if (d->malformed) {
		dr_out_str(o, ",\"malformed\":\"");
		dr_out_str(o, dr_malformed_name(d->malformed));
		out_kv_u(o, "\",\"malformed_at\":", d->malformed_at);
		dr_out_str(o, "}\n");
	} else {
		dr_out_str(o, ",\"malformed\":null}\n");
	}
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: dnsradar records [OPTIONS] FILE...\n"
		"\n"
		"Print one JSON object per line for every DNS message: where it came\n"
		"from and went, its header, first question, section counts, EDNS and,\n"
		"when it is not well formed, why. `frame` is the packet's number in\n"
		"its file as Wireshark counts it; with several files `file` says\n"
		"which (0 = the first named). A DNS message from a sampled header\n"
		"(sFlow) also has `sampling` (1 in N) and `exporter`.\n"
		"\n"
		"  --flows               print the flow records instead (NetFlow, IPFIX,\n"
		"                        sFlow samples without a DNS message), one JSON\n"
		"                        object per line: kind, frame, exporter, start,\n"
		"                        end (epoch seconds), src, sport, dst, dport,\n"
		"                        proto (a number), packets and bytes (scaled by\n"
		"                        sampling), sampling, in_if, out_if, fragment,\n"
		"                        direction (ingress, egress or null)\n"
		"\n"
		DR_COMMON_HELP
		"\n"
		"From the store of 'dnsradar run' (no FILE): the records it kept, in time\n"
		"order (the last 10 minutes unless given; at most 31 days), as JSON lines\n"
		"(no frame; kind, zone, packets, bytes, country, asn, why and weight as\n"
		"well) or with --format text a table of time, src, sport, dst, dport, qr,\n"
		"qname, qtype, rcode and len:\n"
		DR_DRILL_HELP
		"                        (default 1000)\n"
		"\n"
		"Examples: all messages from one source, as jq sees them; one IP's\n"
		"packet sequence from the store\n"
		"  dnsradar records --where src=192.0.2.1 capture.pcap | jq .qname\n"
		"  dnsradar records --store store.db --where src=192.0.2.1 --since 10m \\\n"
		"      --format text\n");
}

static int record_row(void *arg, const struct dr_query_record *r)
{
	struct dr_table *t = ((void **)arg)[0];
	const int *utc = ((void **)arg)[1];
	char when[DR_WHEN_TEXT_MAX], sport[8], dport[8], len[16], qtype[16], rcode[16];
	const char *qt = NULL, *rc = NULL;
	dr_when_format(r->ts, *utc, 1, when);
	snprintf(sport, sizeof(sport), "%d", r->sport);
	snprintf(dport, sizeof(dport), "%d", r->dport);
	snprintf(len, sizeof(len), "%d", r->len);
	if (r->qname && !(qt = dr_qtype_name((unsigned)r->qtype))) {
		snprintf(qtype, sizeof(qtype), "TYPE%d", r->qtype);
		qt = qtype;
	}
	if (r->has_dns && !(rc = dr_rcode_name((unsigned)r->rcode))) {
		snprintf(rcode, sizeof(rcode), "%d", r->rcode);
		rc = rcode;
	}
	const char *cells[] = {when, r->src, sport, r->dst, dport,
			       !r->has_dns ? r->kind : r->qr ? "R" : "Q",
			       r->qname ? r->qname : "-", qt ? qt : "-", rc ? rc : "-", len};
	dr_table_row(t, cells);
	return t->err;
}

/* records --store: the kept records of a range, JSON lines or a table. */
static int run_store(struct dr_drill *d, const struct dr_where *where)
{
	struct dr_query *q = NULL;
	struct dr_query_params p = {.where = where};
	struct dr_out o = {.buf = NULL};
	char err[768];
	int ret = dr_drill_open(d, "records", "records", 600, &p, &q);
	if (ret != 0)
		return ret;
	ret = DR_EXIT_USAGE;
	if (!d->format_set || d->json) {
		if (dr_out_init(&o, stdout, OUT_BUF) < 0)
			goto oom;
		if (dr_query_records_json(q, &p, 1, &o, err, sizeof(err)) < 0) {
			dr_cli_error("records: %s", err);
			goto out;
		}
		dr_out_flush(&o);
		ret = o.err ? DR_EXIT_FAIL : DR_EXIT_OK;
		goto out;
	}
	struct dr_table t;
	static const char *const head[] = {"time", "src", "sport", "dst", "dport", "qr", "qname",
					   "qtype", "rcode", "len"};
	static const int right[] = {0, 0, 1, 0, 1, 0, 0, 0, 0, 1};
	dr_table_init(&t, 10, head, right);
	void *args[] = {&t, &d->utc};
	struct dr_query_result res;
	int rc = dr_query_records(q, &p, record_row, args, &res, err, sizeof(err));
	if (rc < 0 || t.err) {
		dr_table_free(&t);
		if (rc < 0) {
			dr_cli_error("records: %s", err);
			goto out;
		}
		goto oom;
	}
	if (res.rows)
		dr_table_print(&t, stdout);
	else
		printf("no records kept in this range\n");
	if (res.truncated)
		printf("  (more than --limit %u: narrow the range or raise --limit)\n", p.limit);
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
	return ret;
}

static int run(int argc, char **argv)
{
	enum { OPT_FLOWS = 0x200 };
	static const struct option longopts[] = {
		DR_COMMON_LONGOPTS,
		DR_DRILL_LONGOPTS,
		{"flows", no_argument, NULL, OPT_FLOWS},
		{NULL, 0, NULL, 0},
	};
	struct dr_pipeline *p = calloc(1, sizeof(*p));
	struct dr_drill drill = {.store = NULL};
	struct records_ctx ctx = {.flows = 0};
	int opt, ret = DR_EXIT_USAGE;

	if (!p) {
		dr_cli_error("out of memory");
		return DR_EXIT_FAIL;
	}
	dr_pipeline_init(p);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			ret = DR_EXIT_OK;
			goto out;
		}
		if (opt == OPT_FLOWS) {
			ctx.flows = 1;
			continue;
		}
		if (opt != DR_OPT_WHERE) {
			int drc = dr_drill_option(&drill, "records", opt, optarg);
			if (drc < 0)
				goto out;
			if (drc == 0)
				continue;
		}
		int rc = dr_cli_common(p, opt, optarg);
		if (rc != 0) {
			dr_cli_usage_hint("records");
			goto out;
		}
	}
	if (drill.store) {
		if (optind < argc) {
			dr_cli_error("records: give capture files or --store, not both");
			dr_cli_usage_hint("records");
			goto out;
		}
		if (ctx.flows || p->bpf) {
			dr_cli_error("records: --%s reads capture files, not the store",
				     ctx.flows ? "flows" : "bpf");
			goto out;
		}
		ret = run_store(&drill, &p->where);
		goto out;
	}
	if (drill.since || drill.from || drill.to || drill.format_set || drill.limit ||
	    drill.sensor) {
		dr_cli_error("records: --since, --from, --to, --format, --limit and --sensor read "
			     "the store: give --store FILE");
		dr_cli_usage_hint("records");
		goto out;
	}
	if (optind >= argc) {
		dr_cli_error("records: no capture file given");
		dr_cli_usage_hint("records");
		goto out;
	}
	p->files = argv + optind;
	p->nfiles = (unsigned)(argc - optind);
	if (dr_out_init(&ctx.out, stdout, OUT_BUF) < 0) {
		dr_cli_error("out of memory");
		ret = DR_EXIT_FAIL;
		goto out;
	}
	ctx.with_file = p->nfiles > 1;
	int rc = dr_pipeline_run(p, write_record, &ctx);
	dr_out_fini(&ctx.out);
	if (rc != 0) {
		dr_cli_error("%s", p->error);
		ret = DR_EXIT_USAGE;
	} else if (ctx.out.err) {
		dr_cli_error("records: could not write the output");
		ret = DR_EXIT_FAIL;
	} else if (p->interrupted) {
		dr_cli_error("records: interrupted by %s after %llu packets; every message "
			     "before it was printed", dr_cli_signal_name(p->interrupted),
			     (unsigned long long)p->stats.frames);
		ret = 128 + p->interrupted;
	} else {
		ret = DR_EXIT_OK;
	}
out:
	free(p);
	return ret;
}

const struct dr_command dr_cmd_records = {
	.name = "records",
	.summary = "one JSON line per DNS message (drill down to packets)",
	.run = run,
};
