/* Renders an analysis as an aligned text report or as one JSON document. */
#include "report/render.h"

#include "report/alerts.h"
#include "report/format.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define fmt_count dr_fmt_count
#define fmt_bytes dr_fmt_bytes
#define fmt_time dr_fmt_time

static double span(const struct dr_stats *s)
{
	return s->messages ? s->last_ts - s->first_ts : 0;
}

#define peak_qps dr_stats_peak_qps
#define avg_qps dr_stats_avg_qps

static void line(struct dr_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void line(struct dr_out *o, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	dr_out_mem(o, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* ---- text -------------------------------------------------------------- */

/* First, before the numbers: what they leave out. */
static void text_warnings(struct dr_out *o, const struct dr_report *r,
			  const struct dr_warnings *ws)
{
	char text[2048];
	if (!ws->n)
		return;
	line(o, "Warnings (%u)\n", ws->n);
	for (unsigned i = 0; i < ws->n; i++) {
		dr_warning_text(&ws->w[i], r, text, sizeof(text));
		line(o, "  %s\n", text);
	}
	line(o, "\n");
}

static void text_summary(struct dr_out *o, const struct dr_report *r)
{
	const struct dr_stats *s = r->stats;
	const struct dr_decode_stats *d = r->decode;
	char a[64], b[64], c[64], e[64];

	line(o, "Summary\n");
	if (s->messages) {
		fmt_time(a, sizeof(a), s->first_ts, 1);
		fmt_time(b, sizeof(b), s->last_ts,
			 (int64_t)s->first_ts / 86400 != (int64_t)s->last_ts / 86400);
		line(o, "  time span       %s - %s UTC (%.1f s)\n", a, b, span(s));
	} else {
		line(o, "  time span       no DNS messages\n");
	}
	fmt_count(a, sizeof(a), d->frames);
	fmt_bytes(b, sizeof(b), d->bytes);
	line(o, "  packets         %s (%s on the wire)\n", a, b);
	fmt_count(a, sizeof(a), s->messages);
	fmt_count(b, sizeof(b), s->queries);
	fmt_count(c, sizeof(c), s->responses);
	fmt_count(e, sizeof(e), s->malformed);
	line(o, "  DNS messages    %s: %s queries, %s responses, %s malformed\n", a, b, c, e);
	fmt_bytes(a, sizeof(a), s->dns_bytes);
	line(o, "  DNS bytes       %s\n", a);
	fmt_count(a, sizeof(a), s->udp);
	fmt_count(b, sizeof(b), s->tcp);
	fmt_count(c, sizeof(c), s->ipv4);
	fmt_count(e, sizeof(e), s->ipv6);
	line(o, "  transport       %s UDP, %s TCP; %s IPv4, %s IPv6", a, b, c, e);
	if (s->fragmented) {
		fmt_count(a, sizeof(a), s->fragmented);
		line(o, "; %s reassembled from fragments", a);
	}
	line(o, "\n");
	int64_t at;
	uint64_t peak = peak_qps(s, &at);
	fmt_count(a, sizeof(a), peak);
	if (s->queries) {
		fmt_time(b, sizeof(b), (double)at, 0);
		line(o, "  queries/second  average %.1f, peak %s (second starting %.8s UTC)\n",
		     avg_qps(s), a, b);
	} else {
		line(o, "  queries/second  no queries\n");
	}
	if (s->responses) {
		fmt_count(a, sizeof(a), s->edns);
		fmt_count(b, sizeof(b), s->edns_do);
		fmt_count(c, sizeof(c), s->truncated_tc);
		line(o, "  EDNS            %s messages (DO set on %s); %s truncated (TC) responses\n",
		     a, b, c);
	}
	if (s->malformed) {
		line(o, "  malformed       ");
		int first = 1;
		for (int m = 1; m < DR_MAL_COUNT; m++) {
			if (!s->malformed_by[m])
				continue;
			fmt_count(a, sizeof(a), s->malformed_by[m]);
			line(o, "%s%s %s", first ? "" : ", ", a, dr_malformed_name(m));
			first = 0;
		}
		line(o, "\n");
	}
	if (r->nwhere) {
		line(o, "  where           ");
		for (unsigned i = 0; i < r->nwhere; i++)
			line(o, "%s%s", i ? " and " : "", r->where[i]);
		line(o, "\n");
	}
}

static const char *flow_proto_name(uint8_t proto)
{
	switch (proto) {
	case DR_FLOW_NETFLOW5: return "NetFlow v5";
	case DR_FLOW_NETFLOW9: return "NetFlow v9";
	case DR_FLOW_IPFIX: return "IPFIX";
	case DR_FLOW_SFLOW: return "sFlow v5";
	default: return "?";
	}
}

/* collect's sockets: what each received and what the kernel dropped
 * before dnsradar could read it. */
static void text_sockets(struct dr_out *o, const struct dr_report *r)
{
	char a[64], b[64], c[64], e[64];
	if (!r->nsockets)
		return;
	line(o, "  %-40s %12s %12s %12s %10s\n", "socket", "datagrams", "octets", "kernel drops",
	     "rcvbuf");
	for (unsigned i = 0; i < r->nsockets; i++) {
		const struct dr_input_socket *k = &r->sockets[i];
		fmt_count(a, sizeof(a), k->datagrams);
		fmt_bytes(b, sizeof(b), k->octets);
		fmt_count(c, sizeof(c), k->drops);
		dr_fmt_ibytes(e, sizeof(e), k->rcvbuf > 0 ? (uint64_t)k->rcvbuf : 0);
		line(o, "  %-40s %12s %12s %12s %10s\n", k->name, a, b, c, e);
	}
}

/* collect's interfaces: what each handed over, and what the kernel
 * (ring full) and the interface dropped before dnsradar could read it. */
static void text_capture(struct dr_out *o, const struct dr_report *r)
{
	char a[64], b[64], c[64], e[64];
	if (!r->nifaces)
		return;
	line(o, "\nCapture\n");
	line(o, "  %-20s %14s %14s %14s %10s\n", "interface", "received", "kernel drops",
	     "iface drops", "ring");
	for (unsigned i = 0; i < r->nifaces; i++) {
		const struct dr_input_iface *f = &r->ifaces[i];
		fmt_count(a, sizeof(a), f->received);
		fmt_count(b, sizeof(b), f->kernel_drops);
		fmt_count(c, sizeof(c), f->if_drops);
		dr_fmt_ibytes(e, sizeof(e), f->buffer > 0 ? (uint64_t)f->buffer : 0);
		line(o, "  %-20s %14s %14s %14s %10s\n", f->name, a, b, c, e);
	}
}

/* Flow exports: what they stood for, and who sent them. */
static void text_flows(struct dr_out *o, const struct dr_report *r)
{
	const struct dr_flow_stats *f = r->flows;
	const struct dr_stats *s = r->stats;
	char a[64], b[64], c[64], e[64];
	if (!dr_report_has_flow_section(r))
		return;
	line(o, "\nFlow exports\n");
	if (!dr_report_has_flows(r)) {
		line(o, "  datagrams       none decoded\n");
		text_sockets(o, r);
		return;
	}
	fmt_count(a, sizeof(a), f->datagrams);
	line(o, "  datagrams       %s:", a);
	static const struct { size_t off; const char *name; } kinds[] = {
		{offsetof(struct dr_flow_stats, netflow5), "NetFlow v5"},
		{offsetof(struct dr_flow_stats, netflow9), "NetFlow v9"},
		{offsetof(struct dr_flow_stats, ipfix), "IPFIX"},
		{offsetof(struct dr_flow_stats, sflow), "sFlow v5"},
	};
	int first = 1;
	for (unsigned i = 0; i < 4; i++) {
		uint64_t n = *(const uint64_t *)((const char *)f + kinds[i].off);
		if (!n)
			continue;
		fmt_count(a, sizeof(a), n);
		line(o, "%s %s %s", first ? "" : ",", a, kinds[i].name);
		first = 0;
	}
	line(o, "%s\n", first ? " none of a known version" : "");
	if (s->flow_records) {
		fmt_time(a, sizeof(a), s->flow_first, 1);
		fmt_time(b, sizeof(b), s->flow_last,
			 (int64_t)s->flow_first / 86400 != (int64_t)s->flow_last / 86400);
		line(o, "  flows from      %s - %s UTC\n", a, b);
	}
	fmt_count(a, sizeof(a), s->flow_records);
	fmt_count(b, sizeof(b), s->flow_packets);
	fmt_bytes(c, sizeof(c), s->flow_bytes);
	line(o, "  flow records    %s, standing for %s packets, %s", a, b, c);
	if (s->flow_sampled)
		line(o, " (scaled by sampling up to 1:%u)", s->flow_sampling_max);
	line(o, "\n");
	fmt_count(a, sizeof(a), s->flow_dns_records);
	fmt_count(b, sizeof(b), s->flow_dns_packets);
	fmt_bytes(c, sizeof(c), s->flow_dns_bytes);
	line(o, "  DNS (port 53)   %s records, %s packets, %s\n", a, b, c);
	if (f->sflow_headers) {
		fmt_count(a, sizeof(a), f->sflow_headers);
		line(o, "  sampled headers %s decoded (their DNS messages are in the summary above)\n", a);
	}
	text_sockets(o, r);
	if (!r->nexporters)
		return;
	line(o, "  %-40s %-10s %10s %12s %12s %9s %10s\n", "exporter", "protocol", "domain",
	     "datagrams", "records", "sampling", "lost");
	for (unsigned i = 0; i < r->nexporters; i++) {
		const struct dr_flow_exporter *x = &r->exporters[i];
		char addr[64];
		dr_addr_text(x->addr[0], x->addr + 1, addr);
		fmt_count(a, sizeof(a), x->datagrams);
		fmt_count(b, sizeof(b), x->records);
		fmt_count(c, sizeof(c), x->lost);
		if (x->sampling > 1)
			snprintf(e, sizeof(e), "1:%u", x->sampling);
		else
			snprintf(e, sizeof(e), "%s", x->sampling ? "1:1" : "none sent");
		line(o, "  %-40s %-10s %10llu %12s %12s %9s %10s\n", addr, flow_proto_name(x->proto),
		     (unsigned long long)x->domain, a, b, e, c);
	}
}

/* Lists the decoder's drops and damage, only when there are any. */
static void text_input_notes(struct dr_out *o, const struct dr_report *r)
{
	static const struct {
		size_t off;
		int problem;
		const char *text;
	} notes[] = {
#define DR_NOTE(name, problem, text) {offsetof(struct dr_decode_stats, name), problem, text},
		DR_DECODE_COUNTERS(DR_NOTE)
#undef DR_NOTE
	};
	int printed = 0;
	char a[64];
	for (size_t i = 0; i < sizeof(notes) / sizeof(notes[0]); i++) {
		uint64_t v = *(const uint64_t *)((const char *)r->decode + notes[i].off);
		if (!notes[i].problem || !v)
			continue;
		if (!printed)
			line(o, "\nInput notes\n");
		printed = 1;
		fmt_count(a, sizeof(a), v);
		line(o, "  %12s  %s\n", a, notes[i].text);
	}
	if (r->filtered) {
		if (!printed)
			line(o, "\nInput notes\n");
		fmt_count(a, sizeof(a), r->filtered);
		line(o, "  %12s  packets left out by --bpf\n", a);
	}
}

/* Alerts first: who, what, since when, how big, what to do next. */
static void text_alerts(struct dr_out *o, const struct dr_report *r)
{
	const struct dr_alert_log *al = r->alerts;
	char a[64], b[64], c[64], rate[32], text[1024];
	if (!al->n) {
		line(o, "\nAlerts\n  none: no detector fired\n");
		return;
	}
	line(o, "\nAlerts (%u)\n", al->n);
	for (unsigned i = 0; i < al->n; i++) {
		const struct dr_alert *x = &al->a[i];
		char sev[16];
		snprintf(sev, sizeof(sev), "%s", dr_severity_name(x->severity));
		for (char *s = sev; *s; s++)
			*s = (char)(*s >= 'a' && *s <= 'z' ? *s - 32 : *s);
		line(o, "\n  %-8s %s %s\n", sev, x->type, x->key);
		fmt_time(a, sizeof(a), x->start, 1);
		fmt_time(b, sizeof(b), x->end, (int64_t)x->start / 86400 != (int64_t)x->end / 86400);
		fmt_time(c, sizeof(c), x->detected,
			 (int64_t)x->start / 86400 != (int64_t)x->detected / 86400);
		line(o, "    since  %s UTC, detected %s, last seen %s (%.1f s)\n", a, c, b,
		     x->end - x->start);
		fmt_count(a, sizeof(a), x->packets);
		fmt_bytes(b, sizeof(b), x->bytes);
		fmt_count(c, sizeof(c), (uint64_t)x->peak_pps);
		dr_fmt_bps(rate, sizeof(rate), x->peak_bps);
		line(o, "    size   %s packets, %s; peak %s packets/s, %s\n", a, b, c, rate);
		if (x->ev.from_flows) {
			char exp[64] = "-";
			if (x->ev.exporter.family)
				dr_addr_text(x->ev.exporter.family, x->ev.exporter.a, exp);
			line(o, "    from   flow exports of %s, sampled 1:%u: packets, bytes and rates "
			     "are estimates scaled back to the wire\n", exp, x->ev.sampling);
		}
		dr_alert_summary(x, text, sizeof(text));
		line(o, "    what   %s\n", text);
		dr_alert_advice(x, text, sizeof(text));
		line(o, "    do     %s\n", text);
	}
	uint64_t lost = r->engine ? dr_engine_losses(r->engine).lost_windows : 0;
	if (al->dropped || lost)
		line(o, "\n  (%llu alerts and %llu firing seconds were lost: the alert list is full)\n",
		     (unsigned long long)al->dropped, (unsigned long long)lost);
}

/* --stats: what every part holds; all of it is fixed at start. */
static void text_memory(struct dr_out *o, const struct dr_report *r)
{
	char a[64];
	size_t total = 0;
	line(o, "\nMemory budget (fixed at start)\n");
	for (unsigned i = 0; i < dr_engine_ndetectors(r->engine); i++) {
		size_t m = dr_engine_mem(r->engine, i);
		fmt_bytes(a, sizeof(a), m);
		line(o, "  %-18s %10s%s\n", dr_engine_detector_name(r->engine, i), a,
		     dr_engine_running(r->engine, i) ? "" : " (disabled)");
		total += m;
	}
	size_t rest[4] = {r->decode_mem, r->ring_mem, dr_stats_mem(r->stats),
			  dr_engine_alert_mem(r->engine) + sizeof(struct dr_alert) * r->alerts->cap};
	static const char *const names[4] = {"decoder", "thread ring", "report tables",
					     "alerts + PSL cache"};
	for (unsigned i = 0; i < 4; i++) {
		fmt_bytes(a, sizeof(a), rest[i]);
		line(o, "  %-18s %10s\n", names[i], a);
		total += rest[i];
	}
	fmt_bytes(a, sizeof(a), total);
	line(o, "  %-18s %10s\n", "total", a);
}

static void text_table(struct dr_out *o, const struct dr_table *t)
{
	char count[80], share[32], extra[64];
	size_t wkey = strlen(t->key_head), wcount = strlen(t->count_head);
	size_t wextra[DR_EXTRAS] = {0};
	size_t wrank = t->ranked ? 2 : 0;

	for (unsigned x = 0; x < t->nextra; x++)
		wextra[x] = strlen(t->extra_head[x]);
	for (unsigned i = 0; i < t->nrows; i++) {
		const struct dr_row *r = &t->rows[i];
		size_t k = strlen(r->shown);
		if (k > wkey)
			wkey = k;
		fmt_count(count, sizeof(count), r->count);
		if (strlen(count) + (r->error ? 1 : 0) > wcount)
			wcount = strlen(count) + (r->error ? 1 : 0);
		for (unsigned x = 0; x < t->nextra; x++) {
			fmt_count(extra, sizeof(extra), r->extra[x]);
			if (strlen(extra) > wextra[x])
				wextra[x] = strlen(extra);
		}
		int rank = snprintf(count, sizeof(count), "%u", i + 1);
		if (t->ranked && (size_t)rank > wrank)
			wrank = (size_t)rank;
	}
	fmt_count(count, sizeof(count), t->distinct);
	line(o, "\n%s (%s%s distinct)%s\n", t->title, t->approximate ? "about " : "", count,
	     t->approximate ? "; counts marked ~ are upper bounds" : "");
	if (!t->nrows) {
		line(o, "  none\n");
		return;
	}
	line(o, "  ");
	if (t->ranked)
		line(o, "%*s  ", (int)wrank, "#");
	line(o, "%-*s  %*s  %6s", (int)wkey, t->key_head, (int)wcount, t->count_head, "share");
	for (unsigned x = 0; x < t->nextra; x++)
		line(o, "  %*s", (int)wextra[x], t->extra_head[x]);
	line(o, "\n");
	for (unsigned i = 0; i < t->nrows; i++) {
		const struct dr_row *r = &t->rows[i];
		char c[64];
		fmt_count(c, sizeof(c), r->count);
		snprintf(count, sizeof(count), "%s%s", r->error ? "~" : "", c);
		snprintf(share, sizeof(share), "%.1f%%",
			 t->total ? 100.0 * (double)r->count / (double)t->total : 0.0);
		line(o, "  ");
		if (t->ranked)
			line(o, "%*u  ", (int)wrank, i + 1);
		line(o, "%-*s  %*s  %6s", (int)wkey, r->shown, (int)wcount, count, share);
		for (unsigned x = 0; x < t->nextra; x++) {
			fmt_count(extra, sizeof(extra), r->extra[x]);
			line(o, "  %*s", (int)wextra[x], extra);
		}
		line(o, "\n");
	}
}

void dr_render_text(struct dr_out *o, const struct dr_report *r)
{
	char a[64];
	fmt_count(a, sizeof(a), r->decode->frames);
	if (r->command && r->nifaces && r->nsockets)
		line(o, "dnsradar %s: %u interface%s, %u socket%s, %s packets and datagrams\n\n",
		     r->command, r->nifaces, r->nifaces == 1 ? "" : "s", r->nsockets,
		     r->nsockets == 1 ? "" : "s", a);
	else if (r->command && r->nifaces)
		line(o, "dnsradar %s: %u interface%s, %s packets\n\n", r->command, r->nifaces,
		     r->nifaces == 1 ? "" : "s", a);
	else if (r->command)
		line(o, "dnsradar %s: %u socket%s, %s datagrams\n\n", r->command, r->nfiles,
		     r->nfiles == 1 ? "" : "s", a);
	else
		line(o, "dnsradar analyze: %u file%s, %s packets\n\n", r->nfiles,
		     r->nfiles == 1 ? "" : "s", a);
	struct dr_warnings ws;
	dr_report_warnings(&ws, r);
	text_warnings(o, r, &ws);
	text_summary(o, r);
	text_capture(o, r);
	text_flows(o, r);
	text_alerts(o, r);
	if (r->show_stats)
		text_memory(o, r);
	for (unsigned i = 0; i < r->tables->n; i++)
		text_table(o, &r->tables->t[i]);
	text_input_notes(o, r);
	const struct dr_table *src = &r->tables->t[0];
	if (src->nrows) {
		line(o, "\nDrill down: add --where src=%s to narrow every table to the top\n"
			"source; list its packets with: dnsradar records --where src=%s FILE\n",
		     src->rows[0].key, src->rows[0].key);
	}
}

/* ---- JSON -------------------------------------------------------------- */

#define json_key dr_out_jkey
#define json_u dr_out_ju
#define json_d dr_out_jd

static void json_summary(struct dr_out *o, const struct dr_report *r)
{
	const struct dr_stats *s = r->stats;
	int f = 1;
	dr_out_char(o, '{');
	json_key(o, "files", &f);
	dr_out_char(o, '[');
	for (unsigned i = 0; i < r->nfiles; i++) {
		if (i)
			dr_out_char(o, ',');
		dr_out_json_str(o, r->files[i], strlen(r->files[i]));
	}
	dr_out_char(o, ']');
	json_key(o, "where", &f);
	dr_out_char(o, '[');
	for (unsigned i = 0; i < r->nwhere; i++) {
		if (i)
			dr_out_char(o, ',');
		dr_out_json_str(o, r->where[i], strlen(r->where[i]));
	}
	dr_out_char(o, ']');
	dr_out_jd_or_null(o, "first", s->messages, s->first_ts, 6, &f);
	dr_out_jd_or_null(o, "last", s->messages, s->last_ts, 6, &f);
	json_d(o, "duration", span(s), 6, &f);
	json_u(o, "packets", r->decode->frames, &f);
	json_u(o, "bytes", r->decode->bytes, &f);
	json_u(o, "dns_messages", s->messages, &f);
	json_u(o, "queries", s->queries, &f);
	json_u(o, "responses", s->responses, &f);
	json_u(o, "malformed", s->malformed, &f);
	json_u(o, "dns_bytes", s->dns_bytes, &f);
	json_d(o, "qps_avg", avg_qps(s), 3, &f);
	int64_t at;
	json_u(o, "qps_peak", peak_qps(s, &at), &f);
	json_key(o, "qps_peak_at", &f);
	if (s->queries)
		dr_out_i64(o, at);
	else
		dr_out_str(o, "null");
	json_u(o, "udp", s->udp, &f);
	json_u(o, "tcp", s->tcp, &f);
	json_u(o, "ipv4", s->ipv4, &f);
	json_u(o, "ipv6", s->ipv6, &f);
	json_u(o, "fragmented", s->fragmented, &f);
	json_u(o, "truncated_tc", s->truncated_tc, &f);
	json_u(o, "edns", s->edns, &f);
	json_u(o, "edns_do", s->edns_do, &f);
	json_key(o, "malformed_by", &f);
	int g = 1;
	dr_out_char(o, '{');
	for (int m = 1; m < DR_MAL_COUNT; m++)
		if (s->malformed_by[m])
			json_u(o, dr_malformed_name(m), s->malformed_by[m], &g);
	dr_out_char(o, '}');
	dr_out_char(o, '}');
}

static void json_decode(struct dr_out *o, const struct dr_report *r)
{
	int f = 1;
	dr_out_char(o, '{');
#define DR_JSON_COUNTER(name, problem, text) json_u(o, #name, r->decode->name, &f);
	DR_DECODE_COUNTERS(DR_JSON_COUNTER)
#undef DR_JSON_COUNTER
	json_u(o, "bpf_filtered", r->filtered, &f);
	json_u(o, "bpf_filtered_fragments", r->filtered_fragments, &f);
	json_u(o, "bpf_filtered_vlan", r->filtered_vlan, &f);
	/* where the frames on no DNS port went, busiest first */
	json_key(o, "other_ports", &f);
	dr_out_char(o, '[');
	struct dr_port_count top[DR_TOP_OTHER_PORTS];
	unsigned k = r->notes ? dr_notes_top_ports(r->notes, top, DR_TOP_OTHER_PORTS) : 0;
	for (unsigned i = 0; i < k; i++) {
		int g = 1;
		dr_out_str(o, i ? ",{" : "{");
		json_key(o, "proto", &g);
		dr_out_str(o, top[i].proto == 6 ? "\"tcp\"" : "\"udp\"");
		json_u(o, "port", top[i].port, &g);
		json_u(o, "packets", top[i].count, &g);
		dr_out_char(o, '}');
	}
	dr_out_char(o, ']');
	dr_out_char(o, '}');
}

/* "warnings": the sentences; "warning_codes": the same, for programs. */
static void json_warnings(struct dr_out *o, const struct dr_report *r)
{
	struct dr_warnings ws;
	char text[2048];
	dr_report_warnings(&ws, r);
	dr_out_str(o, ",\"warnings\":[");
	for (unsigned i = 0; i < ws.n; i++) {
		if (i)
			dr_out_char(o, ',');
		dr_warning_text(&ws.w[i], r, text, sizeof(text));
		dr_out_json_str(o, text, strlen(text));
	}
	dr_out_str(o, "],\"warning_codes\":[");
	for (unsigned i = 0; i < ws.n; i++) {
		int f = 1;
		dr_out_str(o, i ? ",{" : "{");
		json_key(o, "code", &f);
		const char *name = dr_warning_name(ws.w[i].code);
		dr_out_json_str(o, name, strlen(name));
		json_u(o, "count", ws.w[i].count, &f);
		if (ws.w[i].code == DR_WARN_LINK_UNSUPPORTED && ws.w[i].value != UINT64_MAX)
			json_u(o, "link_type", ws.w[i].value, &f);
		if (ws.w[i].code == DR_WARN_CUT_SHORT) {
			json_key(o, "file", &f);
			dr_out_json_str(o, ws.w[i].subject, strlen(ws.w[i].subject));
			json_u(o, "packet", ws.w[i].value, &f);
			json_u(o, "offset", ws.w[i].value2, &f);
			json_key(o, "reason", &f);
			dr_out_json_str(o, ws.w[i].detail, strlen(ws.w[i].detail));
		}
		if (ws.w[i].code == DR_WARN_SOCKET_DROPS) {
			json_key(o, "address", &f);
			dr_out_json_str(o, ws.w[i].subject, strlen(ws.w[i].subject));
			json_u(o, "rcvbuf", ws.w[i].value, &f);
		}
		if (ws.w[i].code == DR_WARN_TABLE_OVERFLOW) {
			json_key(o, "table", &f);
			dr_out_json_str(o, ws.w[i].subject, strlen(ws.w[i].subject));
		}
		dr_out_char(o, '}');
	}
	dr_out_char(o, ']');
}

static void json_table(struct dr_out *o, const struct dr_table *t)
{
	int f = 1;
	dr_out_char(o, '{');
	json_u(o, "total", t->total, &f);
	json_u(o, "distinct", t->distinct, &f);
	json_key(o, "approximate", &f);
	dr_out_str(o, t->approximate ? "true" : "false");
	json_key(o, "rows", &f);
	dr_out_char(o, '[');
	for (unsigned i = 0; i < t->nrows; i++) {
		const struct dr_row *r = &t->rows[i];
		int g = 1;
		if (i)
			dr_out_char(o, ',');
		dr_out_char(o, '{');
		json_key(o, "key", &g);
		dr_out_json_str(o, r->key, strlen(r->key));
		if (r->value >= 0)
			json_u(o, "value", (uint64_t)r->value, &g);
		json_u(o, "count", r->count, &g);
		if (t->approximate)
			json_u(o, "error", r->error, &g);
		json_d(o, "share", t->total ? (double)r->count / (double)t->total : 0, 4, &g);
		for (unsigned x = 0; x < t->nextra; x++)
			json_u(o, t->extra_json[x], r->extra[x], &g);
		dr_out_char(o, '}');
	}
	dr_out_str(o, "]}");
}

static void json_alerts(struct dr_out *o, const struct dr_report *r)
{
	const struct dr_alert_log *al = r->alerts;
	dr_out_char(o, '[');
	for (unsigned i = 0; i < al->n; i++) {
		if (i)
			dr_out_char(o, ',');
		dr_alert_json(o, &al->a[i]);
	}
	dr_out_char(o, ']');
}

static void json_memory(struct dr_out *o, const struct dr_report *r)
{
	int f = 1;
	dr_out_str(o, ",\"stats\":{\"memory\":{");
	for (unsigned i = 0; i < dr_engine_ndetectors(r->engine); i++)
		json_u(o, dr_engine_detector_name(r->engine, i), dr_engine_mem(r->engine, i), &f);
	json_u(o, "decoder", r->decode_mem, &f);
	json_u(o, "ring", r->ring_mem, &f);
	json_u(o, "report_tables", dr_stats_mem(r->stats), &f);
	json_u(o, "alerts_psl", dr_engine_alert_mem(r->engine) + sizeof(struct dr_alert) * r->alerts->cap, &f);
	dr_out_str(o, "}}");
}

static void json_capture(struct dr_out *o, const struct dr_report *r)
{
	if (!r->nifaces)
		return;
	dr_out_str(o, ",\"capture\":{\"interfaces\":[");
	for (unsigned i = 0; i < r->nifaces; i++) {
		const struct dr_input_iface *f = &r->ifaces[i];
		int h = 1;
		dr_out_str(o, i ? ",{" : "{");
		dr_out_js(o, "name", f->name, &h);
		json_u(o, "received", f->received, &h);
		json_u(o, "kernel_drops", f->kernel_drops, &h);
		json_u(o, "if_drops", f->if_drops, &h);
		json_u(o, "linktype", f->linktype > 0 ? (uint64_t)f->linktype : 0, &h);
		json_u(o, "buffer", f->buffer > 0 ? (uint64_t)f->buffer : 0, &h);
		dr_out_char(o, '}');
	}
	dr_out_str(o, "]}");
}

static void json_flows(struct dr_out *o, const struct dr_report *r)
{
	const struct dr_flow_stats *f = r->flows;
	const struct dr_stats *s = r->stats;
	int k = 1;
	if (!dr_report_has_flow_section(r))
		return;
	dr_out_str(o, ",\"flows\":{");
	json_u(o, "records", s->flow_records, &k);
	json_u(o, "packets", s->flow_packets, &k);
	json_u(o, "bytes", s->flow_bytes, &k);
	json_u(o, "dns_records", s->flow_dns_records, &k);
	json_u(o, "dns_packets", s->flow_dns_packets, &k);
	json_u(o, "dns_bytes", s->flow_dns_bytes, &k);
	json_u(o, "sampling_max", s->flow_sampling_max, &k);
	dr_out_jd_or_null(o, "first", s->flow_records, s->flow_first, 6, &k);
	dr_out_jd_or_null(o, "last", s->flow_records, s->flow_last, 6, &k);
	json_key(o, "decode", &k);
	int g = 1;
	dr_out_char(o, '{');
#define DR_FLOW_JSON(name, problem, text) json_u(o, #name, f ? f->name : 0, &g);
	DR_FLOW_COUNTERS(DR_FLOW_JSON)
#undef DR_FLOW_JSON
	dr_out_char(o, '}');
	json_key(o, "sockets", &k);
	dr_out_char(o, '[');
	for (unsigned i = 0; i < r->nsockets; i++) {
		const struct dr_input_socket *x = &r->sockets[i];
		int h = 1;
		dr_out_str(o, i ? ",{" : "{");
		dr_out_js(o, "address", x->name, &h);
		json_u(o, "datagrams", x->datagrams, &h);
		json_u(o, "octets", x->octets, &h);
		json_u(o, "drops", x->drops, &h);
		json_u(o, "truncated", x->truncated, &h);
		json_u(o, "rcvbuf", x->rcvbuf > 0 ? (uint64_t)x->rcvbuf : 0, &h);
		dr_out_char(o, '}');
	}
	dr_out_char(o, ']');
	json_key(o, "exporters", &k);
	dr_out_char(o, '[');
	for (unsigned i = 0; i < r->nexporters; i++) {
		const struct dr_flow_exporter *x = &r->exporters[i];
		int h = 1;
		char addr[64];
		dr_addr_text(x->addr[0], x->addr + 1, addr);
		dr_out_str(o, i ? ",{" : "{");
		dr_out_js(o, "address", addr, &h);
		dr_out_js(o, "protocol", flow_proto_name(x->proto), &h);
		json_u(o, "domain", x->domain, &h);
		json_u(o, "datagrams", x->datagrams, &h);
		json_u(o, "records", x->records, &h);
		json_u(o, "sampling", x->sampling, &h);
		json_u(o, "lost", x->lost, &h);
		dr_out_char(o, '}');
	}
	dr_out_str(o, "]}");
}

void dr_render_json(struct dr_out *o, const struct dr_report *r)
{
	dr_out_str(o, "{\"summary\":");
	json_summary(o, r);
	dr_out_str(o, ",\"decode\":");
	json_decode(o, r);
	json_capture(o, r);
	json_flows(o, r);
	dr_out_str(o, ",\"top\":{");
	int f = 1;
	for (unsigned i = 0; i < r->tables->n; i++) {
		json_key(o, r->tables->t[i].id, &f);
		json_table(o, &r->tables->t[i]);
	}
	dr_out_char(o, '}');
	json_warnings(o, r);
	dr_out_str(o, ",\"alerts\":");
	json_alerts(o, r);
	if (r->show_stats)
		json_memory(o, r);
	if (r->interrupted) {
		dr_out_str(o, ",\"interrupted\":");
		dr_out_json_str(o, r->interrupted, strlen(r->interrupted));
	}
	dr_out_str(o, "}\n");
}
