/* Flow exports: the settings, the decoder's life, and each datagram to
 * the decoder of its protocol by its version; the shared parts are in
 * exporters.c, the wire formats in netflow.c (v5, v9, IPFIX) and sflow.c. */
#include "decode/flow.h"

#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"
#include "lib/cursor.h"

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
	[DR_FLOW_HOLD] = {"hold", 65536, "parts of flow records (one per second a record spans) held for flow.lateness at once; when full the earliest are judged early",
			  .kind = DR_PARAM_CAPACITY, .unit = "parts",
			  .entry_octets = sizeof(struct dr_record) + sizeof(uint32_t)},
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

void dr_flow_export(void *ctx, const struct dr_record *carrier, uint16_t sport,
		    const uint8_t *data, size_t len)
{
	uint8_t key[DR_AKEY] = {carrier->family};
	memcpy(key + 1, carrier->src, carrier->family == 4 ? 4 : 16);
	struct dr_flow_origin o = {
		.addr = key, .port = sport, .ts_sec = carrier->ts_sec, .ts_nsec = carrier->ts_nsec,
		.frame = carrier->frame, .file = carrier->file,
	};
	dr_flow_datagram(ctx, &o, data, len);
}

unsigned dr_flow_busiest(const struct dr_flow_decoder *f, struct dr_flow_exporter *out,
			 unsigned max)
{
	unsigned n = 0;
	for (uint32_t i = 0; max && i < f->cfg.exporters; i++) {
		const struct dr_flow_exporter *x = &f->exp[i];
		if (!x->proto || x->proto == DR_FLOW_SFLOW_SOURCE)
			continue;
		unsigned j = n;
		if (n == max) {
			if (x->records <= out[n - 1].records)
				continue;
			j = --n;
		}
		while (j > 0 && out[j - 1].records < x->records) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = *x;
		n++;
	}
	return n;
}
