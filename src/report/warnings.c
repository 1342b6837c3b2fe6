/* The warnings list (report/warnings.h): which a report carries, from
 * its counters, and the sentence of each. */
#include "report/warnings.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "report/format.h"
#include "report/report.h"

#define fmt_count dr_fmt_count

static const char *const names[DR_WARN_COUNT] = {
#define DR_WARN_NAME(code, name) [code] = name,
	DR_WARNING_CODES(DR_WARN_NAME)
#undef DR_WARN_NAME
};

const char *dr_warning_name(enum dr_warning_code code)
{
	return (unsigned)code < DR_WARN_COUNT ? names[code] : "unknown";
}

struct dr_warning *dr_warnings_add(struct dr_warnings *ws, enum dr_warning_code code,
				   uint64_t count)
{
	if (ws->n == DR_WARNINGS_MAX)
		return NULL;
	struct dr_warning *w = &ws->w[ws->n++];
	memset(w, 0, sizeof(*w));
	w->code = code;
	w->count = count;
	return w;
}

static int has_word(const char *text, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = text; (p = strstr(p, word)) != NULL; p += n) {
		int before = p == text || !((p[-1] >= 'a' && p[-1] <= 'z') || p[-1] == '_');
		int after = !((p[n] >= 'a' && p[n] <= 'z') || p[n] == '_');
		if (before && after)
			return 1;
	}
	return 0;
}

void dr_report_warnings(struct dr_warnings *out, const struct dr_report *r)
{
	const struct dr_decode_stats *d = r->decode;
	struct dr_warning *w;
	memset(out, 0, sizeof(*out));
	if (r->interrupted && (w = dr_warnings_add(out, DR_WARN_INTERRUPTED, d->frames)))
		w->subject = r->interrupted;
	if (r->cut_short && (w = dr_warnings_add(out, DR_WARN_CUT_SHORT,
						 r->cut_packet ? r->cut_packet - 1 : 0))) {
		w->value = r->cut_packet;
		w->value2 = r->cut_offset;
		w->subject = r->cut_file;
		w->detail = r->cut_why;
	}
	if (d->link_unsupported) {
		unsigned shown = 0;
		for (unsigned i = 0; r->notes && i < DR_LINKS_NOTED; i++) {
			if (!r->notes->links[i].frames)
				continue;
			if ((w = dr_warnings_add(out, DR_WARN_LINK_UNSUPPORTED,
						 r->notes->links[i].frames)))
				w->value = r->notes->links[i].link;
			shown++;
		}
		if (!shown || (r->notes && r->notes->links_other)) {
			uint64_t n = shown ? r->notes->links_other : d->link_unsupported;
			if ((w = dr_warnings_add(out, DR_WARN_LINK_UNSUPPORTED, n)))
				w->value = UINT64_MAX;	/* other types */
		}
	}
	if (d->ip_short)
		dr_warnings_add(out, DR_WARN_SNAPLEN, d->ip_short);
	if (d->frag_memory)
		dr_warnings_add(out, DR_WARN_FRAG_MEMORY, d->frag_memory);
	if (d->frag_evicted)
		dr_warnings_add(out, DR_WARN_FRAG_EVICTED, d->frag_evicted);
	if (d->tcp_memory)
		dr_warnings_add(out, DR_WARN_TCP_MEMORY, d->tcp_memory);
	if (d->tcp_evicted)
		dr_warnings_add(out, DR_WARN_TCP_EVICTED, d->tcp_evicted);
	if (r->bpf && r->filtered_fragments &&
	    (w = dr_warnings_add(out, DR_WARN_BPF_FRAGMENTS, r->filtered_fragments)))
		w->subject = r->bpf;
	if (r->bpf && r->filtered_vlan && !has_word(r->bpf, "vlan") &&
	    (w = dr_warnings_add(out, DR_WARN_BPF_VLAN, r->filtered_vlan)))
		w->subject = r->bpf;
	if (d->frames && !d->dns_messages && !dr_report_has_flows(r)) {
		uint64_t other = d->other_port;
		dr_warnings_add(out, DR_WARN_NO_DNS, other);
	}
	/* Tables of their own keys; the ones derived from the sources table
	 * (sources by peak rate, country, AS) say the same thing again. */
	for (unsigned i = 0; r->tables && i < r->tables->n; i++) {
		const struct dr_table *t = &r->tables->t[i];
		if (!t->approximate || strcmp(t->id, "source_qps") == 0 ||
		    strcmp(t->id, "countries") == 0 || strcmp(t->id, "ases") == 0)
			continue;
		if ((w = dr_warnings_add(out, DR_WARN_TABLE_OVERFLOW, t->total))) {
			w->subject = t->id;
			w->value2 = t->distinct;
		}
	}
	struct dr_engine_losses lost = r->engine ? dr_engine_losses(r->engine)
						  : (struct dr_engine_losses){0, 0, 0, 0};
	if (r->alerts && (r->alerts->dropped || lost.lost_windows) &&
	    (w = dr_warnings_add(out, DR_WARN_ALERTS_LOST, r->alerts->dropped)))
		w->value = lost.lost_windows;
	if (lost.late)
		dr_warnings_add(out, DR_WARN_LATE, lost.late);
	if (lost.early)
		dr_warnings_add(out, DR_WARN_EARLY, lost.early);
	if (lost.unjudged)
		dr_warnings_add(out, DR_WARN_UNJUDGED, lost.unjudged);
	/* collect's interfaces: packets lost before any decoder saw them */
	for (unsigned i = 0; r->ifaces && i < r->nifaces; i++) {
		const struct dr_input_iface *f = &r->ifaces[i];
		if (f->kernel_drops && (w = dr_warnings_add(out, DR_WARN_CAPTURE_DROPS,
							    f->kernel_drops))) {
			w->value = f->buffer > 0 ? (uint64_t)f->buffer : 0;
			w->value2 = f->if_drops;
			w->subject = f->name;
		}
	}
	/* collect's sockets: datagrams lost before any decoder saw them */
	for (unsigned i = 0; r->sockets && i < r->nsockets; i++) {
		if (r->sockets[i].drops &&
		    (w = dr_warnings_add(out, DR_WARN_SOCKET_DROPS, r->sockets[i].drops))) {
			w->value = r->sockets[i].rcvbuf > 0 ? (uint64_t)r->sockets[i].rcvbuf : 0;
			w->subject = r->sockets[i].name;
		}
	}
	if (r->listen_note && r->listen_note[0] &&
	    (w = dr_warnings_add(out, DR_WARN_RECEIVE_BUFFER, 0)))
		w->detail = r->listen_note;
	if (r->engine && r->engine->late_flow_records &&
	    (w = dr_warnings_add(out, DR_WARN_FLOW_LATE, r->engine->late_flow_records))) {
		w->value = r->engine->late_flow_packets;
		w->value2 = (uint64_t)r->engine->flow_values[DR_FLOW_LATENESS];
	}
	/* every loss the flow decoder counted, in its own words */
	if (dr_report_has_flows(r)) {
#define DR_FLOW_WARN(name, problem, text) \
		if (problem && r->flows->name && \
		    (w = dr_warnings_add(out, DR_WARN_FLOW, r->flows->name))) { \
			w->subject = #name; \
			w->detail = text; \
		}
		DR_FLOW_COUNTERS(DR_FLOW_WARN)
#undef DR_FLOW_WARN
	}
}

static const char *proto_name(uint8_t proto)
{
	return proto == 6 ? "TCP" : "UDP";
}

/* "53" or "53, 5353, 8053" from the bitmap, at most a few. */
static void dns_port_list(const uint8_t *bitmap, char *buf, size_t len)
{
	size_t o = 0;
	unsigned shown = 0;
	buf[0] = 0;
	if (!bitmap) {
		snprintf(buf, len, "53");
		return;
	}
	/* a word at a time: the bitmap is 8 KiB of mostly zeros */
	for (unsigned w = 0; w < 65536 / 64 && o + 16 < len; w++) {
		uint64_t bits;
		memcpy(&bits, bitmap + w * 8, 8);
		if (!bits)
			continue;
		for (unsigned p = w * 64; p < w * 64 + 64 && o + 16 < len; p++) {
			if (!p || !dr_port_test(bitmap, (uint16_t)p))
				continue;
			if (shown++ == 8) {
				o += (size_t)snprintf(buf + o, len - o, ", ...");
				return;
			}
			o += (size_t)snprintf(buf + o, len - o, "%s%u", o ? ", " : "", p);
		}
	}
}

/* What to do about a flow decoder's loss, by its counter. */
static const char *flow_advice(const char *counter)
{
	if (strcmp(counter, "no_template") == 0 || strcmp(counter, "no_template_octets") == 0)
		return " (the exporter sends templates every few minutes: records before the "
		       "first are lost; lower its template refresh interval)";
	if (strncmp(counter, "seq_", 4) == 0)
		return " (export datagrams lost on the way or in the receive buffer: see the "
		       "socket drops, and the exporter's own counters)";
	if (strcmp(counter, "template_evicted") == 0 || strcmp(counter, "exporters_evicted") == 0)
		return " (raise flow.templates or flow.exporters)";
	if (strcmp(counter, "sflow_drops") == 0)
		return " (the agent could not keep up: its sampling rate is too low for its CPU)";
	return "";
}

void dr_warning_text(const struct dr_warning *w, const struct dr_report *r, char *buf,
		     size_t len)
{
	char n[32], v[32], v2[32];
	fmt_count(n, sizeof(n), w->count);
	fmt_count(v, sizeof(v), w->value);
	fmt_count(v2, sizeof(v2), w->value2);
	switch (w->code) {
	case DR_WARN_INTERRUPTED:
		snprintf(buf, len, "interrupted by %s: the report covers the %s packets read "
			 "before it", w->subject, n);
		break;
	case DR_WARN_CUT_SHORT:
	{
		/* the reason names the packet and offset already: the sentence
		 * says what it means for the report */
		if (!w->value)
			snprintf(buf, len, "%s could not be read again (%s): the report leaves it "
				 "out", w->subject, w->detail);
		else if (r->nfiles > 1)
			snprintf(buf, len, "%s is cut short or damaged at packet %s (byte %s): the "
				 "report covers its %s packets before it and leaves out the rest of "
				 "that file", w->subject, v, v2, n);
		else
			snprintf(buf, len, "%s is cut short or damaged at packet %s (byte %s): the "
				 "report covers the %s packets before it", w->subject, v, v2, n);
		break;
	}
	case DR_WARN_LINK_UNSUPPORTED:
		if (w->value == UINT64_MAX)
			snprintf(buf, len, "%s frames of other unsupported link types were not "
				 "decoded", n);
		else
			snprintf(buf, len, "%s frames of link type %s were not decoded: dnsradar "
				 "reads Ethernet, Linux cooked (SLL, SLL2), raw IP, BSD loopback, "
				 "PPP, Cisco HDLC and FDDI", n, v);
		break;
	case DR_WARN_SNAPLEN:
		snprintf(buf, len, "%s IP datagrams were cut short by the capture's snap length: "
			 "their DNS messages are partial or missing; capture with -s 0", n);
		break;
	case DR_WARN_FRAG_MEMORY:
		snprintf(buf, len, "fragment reassembly dropped %s fragments (memory cap): the "
			 "datagrams they belonged to are not counted", n);
		break;
	case DR_WARN_FRAG_EVICTED:
		snprintf(buf, len, "fragment reassembly dropped %s fragment sets (table full): "
			 "the datagrams they belonged to are not counted", n);
		break;
	case DR_WARN_TCP_MEMORY:
		snprintf(buf, len, "TCP reassembly dropped data %s times (memory cap): DNS "
			 "messages over TCP are missing", n);
		break;
	case DR_WARN_TCP_EVICTED:
		snprintf(buf, len, "TCP reassembly dropped %s streams (table full): DNS "
			 "messages over TCP are missing", n);
		break;
	case DR_WARN_TABLE_OVERFLOW:
		snprintf(buf, len, "the %s table overflowed (about %s distinct keys): its "
			 "counts are estimates with error bounds (marked ~)", w->subject, v2);
		break;
	case DR_WARN_BPF_FRAGMENTS:
		snprintf(buf, len, "--bpf '%s' left out %s non-first IP fragments: they carry no "
			 "UDP header, so large answers lose their tails; add "
			 "'or (ip[6:2] & 0x1fff != 0)' (IPv6: 'or (ip6[6] == 44)')", w->subject, n);
		break;
	case DR_WARN_BPF_VLAN:
		snprintf(buf, len, "the capture holds %s VLAN-tagged frames that --bpf '%s' does "
			 "not match (a filter without 'vlan' looks at untagged frames only); use "
			 "'%s or (vlan and %s)'", n, w->subject, w->subject, w->subject);
		break;
	case DR_WARN_NO_DNS: {
		char ports[128], seen[256];
		dns_port_list(r->dns_ports, ports, sizeof(ports));
		struct dr_port_count top[DR_TOP_OTHER_PORTS];
		unsigned k = r->notes ? dr_notes_top_ports(r->notes, top, DR_TOP_OTHER_PORTS) : 0;
		if (!k) {
			snprintf(buf, len, "no DNS message on the ports read (%s), and no UDP or "
				 "TCP on other ports either", ports);
			break;
		}
		size_t o = 0;
		for (unsigned i = 0; i < k && o < sizeof(seen); i++) {
			char c[32];
			fmt_count(c, sizeof(c), top[i].count);
			o += (size_t)snprintf(seen + o, sizeof(seen) - o, "%s%s %u (%s packets)",
					      i ? ", " : "", proto_name(top[i].proto), top[i].port, c);
		}
		snprintf(buf, len, "no DNS message on the ports read (%s); %s packets went to "
			 "other ports, the busiest %s; if one carries DNS, read it with "
			 "--dns-port %u", ports, n, seen, top[0].port);
		break;
	}
	case DR_WARN_ALERTS_LOST:
		snprintf(buf, len, "%s alerts and %s firing seconds were lost: the alert list "
			 "is full", n, v);
		break;
	case DR_WARN_LATE:
		snprintf(buf, len, "%s records came later than the allowed lateness: they were "
			 "counted in the oldest second still open", n);
		break;
	case DR_WARN_EARLY:
		snprintf(buf, len, "%s records were judged before their time: the reorder "
			 "buffer was full (for flow records: raise flow.hold, or lower the "
			 "exporters' active timeout and flow.lateness)", n);
		break;
	case DR_WARN_UNJUDGED:
		snprintf(buf, len, "%s one-second windows of detectors were never judged: more "
			 "keys were new in one second than a table can list (raise its capacity "
			 "with --set, see --thresholds)", n);
		break;
	case DR_WARN_SOCKET_DROPS: {
		char buf_size[32];
		dr_fmt_ibytes(buf_size, sizeof(buf_size), w->value);
		snprintf(buf, len, "%s export datagrams dropped by the kernel on %s: the receive "
			 "buffer (%s) was full: raise --rcvbuf and net.core.rmem_max", n, w->subject,
			 buf_size);
		break;
	}
	case DR_WARN_CAPTURE_DROPS: {
		char ring[32];
		dr_fmt_ibytes(ring, sizeof(ring), w->value);
		snprintf(buf, len, "%s packets dropped by the kernel on %s: the capture ring (%s) "
			 "was full: raise --buffer (e.g. --buffer %uM), run with --threads 2, or "
			 "narrow --bpf to DNS%s%s%s", n, w->subject, ring,
			 w->value >= (256u << 20) ? 1024u : 256u,
			 w->value2 ? " (the interface itself dropped " : "", w->value2 ? v2 : "",
			 w->value2 ? " more)" : "");
		break;
	}
	case DR_WARN_RECEIVE_BUFFER:
		snprintf(buf, len, "%s", w->detail);
		break;
	case DR_WARN_FLOW_LATE:
		snprintf(buf, len, "%s parts of flow records (%s packets) came more than %s s after "
			 "their packets and were not judged: set the exporters' active timeout to 60 s "
			 "or raise flow.lateness", n, v, v2);
		break;
	case DR_WARN_FLOW:
		snprintf(buf, len, "flow exports: %s %s%s", n, w->detail, flow_advice(w->subject));
		break;
	default:
		snprintf(buf, len, "%s", dr_warning_name(w->code));
		break;
	}
}
