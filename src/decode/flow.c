/* Flow exports: the settings, the exporter table, sequence tracking and
 * the one place a flow record is finished and handed on; the wire
 * formats are in netflow.c (v5, v9, IPFIX) and sflow.c. */
#include "decode/flow.h"

#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"
#include "lib/cursor.h"
#include "lib/hash.h"

const struct dr_param dr_flow_params[DR_FLOW_NPARAMS] = {
	[DR_FLOW_EXPORTERS] = {"exporters", 1024, "exporters and observation domains tracked at once (sequence numbers, sampling rates)",
			       .kind = DR_PARAM_CAPACITY, .unit = "exporters",
			       .entry_octets = sizeof(struct dr_flow_exporter)},
	[DR_FLOW_TEMPLATES] = {"templates", 4096, "NetFlow v9 and IPFIX templates cached at once",
			       .kind = DR_PARAM_CAPACITY, .unit = "templates",
			       .entry_octets = DR_NETFLOW_TEMPLATE_OCTETS},
	[DR_FLOW_TEMPLATE_LIFETIME] = {"template_lifetime", 1800, "seconds a template lives without being sent again (ipfixcol2's default)",
				       .kind = DR_PARAM_SECONDS},
	[DR_FLOW_SAMPLING] = {"sampling", 1, "sampling rate (1 in N) assumed for exporters that send none",
			      .kind = DR_PARAM_COUNT, .unit = "packets"},
	[DR_FLOW_LATENESS] = {"lateness", 120, "seconds a flow record may come after its last packet and still count in its own seconds (the exporters' active timeout and more); 0: none",
			      .kind = DR_PARAM_SECONDS, .min = 0, .max = 3600},
};

void dr_flow_config_apply(struct dr_flow_config *cfg, const double *values)
{
	cfg->exporters = (uint32_t)values[DR_FLOW_EXPORTERS];
	cfg->templates = (uint32_t)values[DR_FLOW_TEMPLATES];
	cfg->template_lifetime = (uint32_t)values[DR_FLOW_TEMPLATE_LIFETIME];
	cfg->sampling = (uint32_t)values[DR_FLOW_SAMPLING];
}

void dr_flow_config_defaults(struct dr_flow_config *cfg)
{
	double v[DR_FLOW_NPARAMS];
	for (unsigned i = 0; i < DR_FLOW_NPARAMS; i++)
		v[i] = dr_flow_params[i].def;
	dr_flow_config_apply(cfg, v);
}

int dr_flow_init(struct dr_flow_decoder *f, const struct dr_flow_config *cfg,
		 const uint8_t *dns_ports, dr_flow_record_fn on_record, void *ctx)
{
	memset(f, 0, sizeof(*f));
	f->cfg = *cfg;
	if (!f->cfg.exporters)
		f->cfg.exporters = 1;
	if (!f->cfg.sampling)
		f->cfg.sampling = 1;
	f->dns_ports = dns_ports;
	f->on_record = on_record;
	f->ctx = ctx;
	f->exp = calloc(f->cfg.exporters, sizeof(*f->exp));
	if (!f->exp || dr_netflow_init(f) < 0 || dr_sflow_init(f) < 0) {
		dr_flow_fini(f);
		return DR_ENOMEM;
	}
	return 0;
}

void dr_flow_fini(struct dr_flow_decoder *f)
{
	dr_sflow_fini(f);
	dr_netflow_fini(f);
	free(f->exp);
	f->exp = NULL;
}

size_t dr_flow_mem(const struct dr_flow_decoder *f)
{
	return (size_t)f->cfg.exporters * sizeof(*f->exp) + dr_netflow_mem(f) + dr_sflow_mem(f);
}

void dr_flow_datagram(struct dr_flow_decoder *f, const struct dr_flow_origin *o,
		      const uint8_t *data, size_t len)
{
	f->origin = o;
	f->stats.datagrams++;
	if (len < 4) {
		f->stats.bad_version++;
		return;
	}
	/* NetFlow and IPFIX open with a 16-bit version, sFlow with 32 bits. */
	uint16_t v16 = dr_get16(data);
	uint32_t v32 = dr_get32(data);
	if (v16 == 5)
		dr_netflow5_datagram(f, data, len);
	else if (v16 == 9)
		dr_netflow9_datagram(f, data, len);
	else if (v16 == 10)
		dr_ipfix_message(f, data, len);
	else if (v32 == 5)
		dr_sflow_datagram(f, data, len);
	else
		f->stats.bad_version++;
}

struct dr_flow_exporter *dr_flow_exporter(struct dr_flow_decoder *f, const uint8_t *addr,
					  uint8_t proto, uint64_t domain, int64_t now)
{
	uint32_t n = f->cfg.exporters;
	uint64_t h = dr_hash64(addr, DR_AKEY) ^ (domain * 0x9e3779b97f4a7c15ull) ^ proto;
	uint32_t start = (uint32_t)(h % n), oldest = start;
	/* Open addressing over a few slots: exporters are few, and a full
	 * neighbourhood gives up its stalest member. */
	for (uint32_t i = 0; i < 8 && i < n; i++) {
		uint32_t s = (start + i) % n;
		struct dr_flow_exporter *x = &f->exp[s];
		if (!x->proto) {
			oldest = s;
			goto fresh;
		}
		if (x->proto == proto && x->domain == domain && memcmp(x->addr, addr, DR_AKEY) == 0) {
			if (now > x->last_seen)
				x->last_seen = now;
			return x;
		}
		if (x->last_seen < f->exp[oldest].last_seen)
			oldest = s;
	}
	f->stats.exporters_evicted++;
	if (f->exp[oldest].proto == DR_FLOW_NETFLOW9 || f->exp[oldest].proto == DR_FLOW_IPFIX)
		dr_netflow_forget(f, &f->exp[oldest]);
fresh:;
	struct dr_flow_exporter *x = &f->exp[oldest];
	memset(x, 0, sizeof(*x));
	memcpy(x->addr, addr, DR_AKEY);
	x->proto = proto;
	x->domain = domain;
	x->last_seen = now;
	return x;
}

int dr_flow_sequence(struct dr_flow_decoder *f, struct dr_flow_exporter *x, uint32_t seq,
		     uint32_t advance, int per_datagram)
{
	int restart = 0;
	if (x->have_seq && seq != x->next_seq) {
		uint32_t ahead = seq - x->next_seq;
		uint32_t behind = x->next_seq - seq;
		if (ahead < 0x80000000u && ahead <= 1000000u) {
			f->stats.seq_gaps++;
			x->lost += ahead;
			if (per_datagram)
				f->stats.seq_lost_datagrams += ahead;
			else
				f->stats.seq_lost_records += ahead;
		} else if (behind <= 64u * (advance ? advance : 1)) {
			f->stats.seq_reordered++;
			return 0;	/* keep expecting what we expected */
		} else {
			restart = 1;
			f->stats.exporter_restarts++;
		}
	}
	x->have_seq = 1;
	x->next_seq = seq + advance;
	return restart;
}

void dr_flow_rec_reset(struct dr_flow_decoder *f)
{
	memset(&f->rec, 0, offsetof(struct dr_record, dns.qname));
	f->rec.keys.ready = 0;
}

void dr_flow_emit(struct dr_flow_decoder *f, const struct dr_flow_exporter *x, uint32_t rate)
{
	struct dr_record *r = &f->rec;
	const struct dr_flow_origin *o = f->origin;
	if (!rate)
		rate = x ? x->sampling : 0;
	if (!rate) {
		rate = f->cfg.sampling;
		f->stats.unsampled++;
	}
	r->kind = DR_KIND_FLOW;
	r->sampling = rate;
	r->packets *= rate;
	r->bytes *= rate;
	if (!r->packets) {	/* a record of no packets stands for one */
		r->packets = rate;
	}
	r->ip_len = (uint32_t)(r->bytes / r->packets);
	r->wire_len = r->ip_len;
	if (r->end_sec < r->ts_sec || (r->end_sec == r->ts_sec && r->end_nsec < r->ts_nsec)) {
		f->stats.time_bad++;
		r->end_sec = r->ts_sec;
		r->end_nsec = r->ts_nsec;
	}
	if (x)
		memcpy(r->exporter, x->addr, DR_AKEY);
	else if (o)
		memcpy(r->exporter, o->addr, DR_AKEY);
	if (o) {
		r->frame = o->frame;
		r->file = o->file;
	}
	r->payload = NULL;
	r->payload_len = r->payload_caplen = 0;
	r->keys.ready = 0;
	f->stats.records++;
	f->on_record(f->ctx, r);
}
