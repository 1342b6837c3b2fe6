/* Flow exports into records: NetFlow v5, NetFlow v9, IPFIX and sFlow v5
 * datagrams, found at flow ports inside a capture or received on a socket,
 * become aggregate records (DR_KIND_FLOW) that stand for their packets
 * and bytes between their first and last switched times, scaled by their
 * sampling rate; sFlow's sampled packet headers go through the packet
 * decoder and the DNS parser and become DNS records weighted by the rate.
 *
 * State is per exporter (address, protocol, observation domain) and per
 * template, in tables sized at init: a template is cached per (exporter,
 * domain, template ID) with a lifetime, and every loss (a data set before
 * its template, a sequence gap, an exporter restart, a table full) is
 * counted, never fatal. The wire formats are in netflow.c and sflow.c. */
#ifndef DR_DECODE_FLOW_H
#define DR_DECODE_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "decode/record.h"
#include "lib/param.h"

/* Counters of what the flow decoder saw and lost, and why:
 * X(name, is a loss or damage the report should mention, description). */
#define DR_FLOW_COUNTERS(X) \
	X(datagrams,          0, "export datagrams") \
	X(netflow5,           0, "NetFlow v5 datagrams") \
	X(netflow9,           0, "NetFlow v9 datagrams") \
	X(ipfix,              0, "IPFIX messages") \
	X(sflow,              0, "sFlow v5 datagrams") \
	X(bad_version,        1, "datagrams at a flow port of no known export version") \
	X(bad_datagram,       1, "export datagrams damaged or cut short (the rest of each skipped)") \
	X(records,            0, "flow records") \
	X(records_bad,        1, "flow records damaged or without addresses, skipped") \
	X(records_other,      0, "flow records of other protocols than IPv4/IPv6") \
	X(templates,          0, "templates learned (or refreshed)") \
	X(options_templates,  0, "options templates learned (or refreshed)") \
	X(template_withdrawn, 0, "templates withdrawn by their exporter") \
	X(template_expired,   0, "templates dropped: not refreshed within their lifetime") \
	X(template_evicted,   1, "templates dropped: template table full") \
	X(template_bad,       1, "templates damaged or of an unusable length, skipped") \
	X(no_template,        1, "data sets that came before their template (their records lost)") \
	X(no_template_octets, 1, "octets of those data sets") \
	X(options_records,    0, "options records read (sampling, interfaces)") \
	X(exporters_evicted,  1, "exporters forgotten: exporter table full") \
	X(exporter_restarts,  1, "exporter restarts (uptime or sequence went back): templates forgotten") \
	X(seq_gaps,           1, "sequence gaps (nfdump's sequence_failure)") \
	X(seq_lost_datagrams, 1, "export datagrams lost, from NetFlow v9 and sFlow sequence numbers") \
	X(seq_lost_records,   1, "flow records lost, from NetFlow v5 and IPFIX sequence numbers") \
	X(seq_reordered,      0, "datagrams that came out of sequence order") \
	X(unsampled,          0, "records from exporters that sent no sampling rate (flow.sampling applied)") \
	X(time_bad,           1, "records whose end came before their start (spread as one instant)") \
	X(sflow_flow_samples, 0, "sFlow flow samples") \
	X(sflow_counter_samples, 0, "sFlow counter samples (counted, not used)") \
	X(sflow_other_samples, 0, "sFlow samples of other formats, skipped") \
	X(sflow_headers,      0, "sFlow sampled packet headers decoded") \
	X(sflow_drops,        1, "packets the sFlow agents dropped before sampling (their drops field)") \
	X(sflow_pool_lost,    1, "sFlow samples lost on the way, from sample-pool and sequence deltas")

struct dr_flow_stats {
#define DR_FLOW_COUNTER_FIELD(name, problem, text) uint64_t name;
	DR_FLOW_COUNTERS(DR_FLOW_COUNTER_FIELD)
#undef DR_FLOW_COUNTER_FIELD
};

/* Export protocols, as an exporter's `proto`. */
enum dr_flow_proto {
	DR_FLOW_NETFLOW5 = 5,
	DR_FLOW_NETFLOW9 = 9,
	DR_FLOW_IPFIX = 10,
	DR_FLOW_SFLOW = 0x53,		/* 'S': an sFlow agent and sub-agent */
	DR_FLOW_SFLOW_SOURCE = 0x73,	/* 's': one data source of an agent */
};

#define DR_FLOW_SAMPLERS 4	/* sampler IDs remembered per exporter */

/* One exporter and observation domain (NetFlow v9 source ID, IPFIX
 * observation domain, NetFlow v5 engine type and ID, sFlow sub-agent or
 * data source), as nfdump keys them. */
struct dr_flow_exporter {
	uint8_t addr[DR_AKEY];	/* the exporter: the datagram's source, or the
				 * sFlow agent address it names */
	uint8_t proto;		/* enum dr_flow_proto; 0: the slot is free */
	uint64_t domain;
	int64_t last_seen;	/* export time of its latest datagram, seconds */
	uint32_t next_seq;	/* the sequence number expected next */
	uint8_t have_seq;
	uint8_t have_uptime;
	uint32_t uptime_ms;	/* the latest datagram's system uptime */
	uint32_t sampling;	/* from options data or the header; 0: none sent */
	/* NetFlow v9 and IPFIX: the rates options data gave per sampler ID
	 * (IEs 48 and 302), for records that name their sampler; a small
	 * fixed map, the slot used longest ago replaced when full */
	uint32_t sampler_id[DR_FLOW_SAMPLERS];
	uint32_t sampler_rate[DR_FLOW_SAMPLERS];	/* 0: the slot is free */
	int64_t init_ms;	/* IPFIX systemInitTimeMilliseconds (IE 160), 0: unknown */
	uint64_t pool;		/* sFlow: the data source's latest sample pool */
	uint64_t datagrams, records, lost;
};

/* The decoder's settings, as "flow.NAME" (lib/param.h). */
enum {
	DR_FLOW_EXPORTERS, DR_FLOW_TEMPLATES, DR_FLOW_TEMPLATE_LIFETIME, DR_FLOW_SAMPLING,
	DR_FLOW_LATENESS, DR_FLOW_HOLD,
	DR_FLOW_NPARAMS
};
extern const struct dr_param dr_flow_params[DR_FLOW_NPARAMS];

struct dr_flow_config {
	uint32_t exporters;		/* exporter table entries */
	uint32_t templates;		/* template cache entries */
	uint32_t template_lifetime;	/* seconds a template lives unrefreshed */
	uint32_t sampling;		/* 1 in N for exporters that send no rate */
};

/* Sets cfg from values, in the order of dr_flow_params (validated). */
void dr_flow_config_apply(struct dr_flow_config *cfg, const double *values);
void dr_flow_config_defaults(struct dr_flow_config *cfg);

struct dr_decoder;
struct dr_netflow_templates;	/* netflow.c */

/* Fields a template may have; a template with more is refused
 * (template_bad). */
#define DR_NETFLOW_FIELDS 128
/* Octets a template cache entry takes, its hash bucket included
 * (templates.h checks it against the real layout at compile time). */
#define DR_NETFLOW_TEMPLATE_OCTETS (DR_NETFLOW_FIELDS * 7 + 80)

typedef void (*dr_flow_record_fn)(void *ctx, const struct dr_record *rec);

/* Where a datagram came from and when, as the caller knows it. */
struct dr_flow_origin {
	const uint8_t *addr;	/* the sender, an address key (DR_AKEY octets) */
	uint16_t port;		/* its UDP source port */
	int64_t ts_sec;		/* when it was captured or received */
	uint32_t ts_nsec;
	uint64_t frame;		/* the packet that carried it (captures) */
	uint32_t file;
};

struct dr_flow_decoder {
	struct dr_flow_config cfg;
	const uint8_t *dns_ports;	/* of sampled headers */
	struct dr_flow_exporter *exp;	/* cfg.exporters slots */
	struct dr_netflow_templates *tmpl;
	struct dr_decoder *inner;	/* sFlow's sampled headers */
	struct dr_flow_stats stats;
	dr_flow_record_fn on_record;
	void *ctx;
	const struct dr_flow_origin *origin;	/* of the datagram being decoded */
	struct dr_record rec;		/* the record being filled */
};

/* Sets up a decoder whose records go to on_record (with ctx); its tables
 * are sized here and never grow. dns_ports says which ports of a sampled
 * header carry DNS. 0 or DR_ENOMEM. */
int dr_flow_init(struct dr_flow_decoder *f, const struct dr_flow_config *cfg,
		 const uint8_t *dns_ports, dr_flow_record_fn on_record, void *ctx);
void dr_flow_fini(struct dr_flow_decoder *f);

/* Decodes one export datagram (a UDP payload), whatever its protocol. */
void dr_flow_datagram(struct dr_flow_decoder *f, const struct dr_flow_origin *o,
		      const uint8_t *data, size_t len);

/* Bytes the decoder's tables take (fixed at init). */
size_t dr_flow_mem(const struct dr_flow_decoder *f);

/* dr_flow_datagram as the packet decoder hands datagrams on (its
 * dr_export_fn, ctx the flow decoder): the carrier's source is the
 * exporter. */
void dr_flow_export(void *ctx, const struct dr_record *carrier, uint16_t sport,
		    const uint8_t *data, size_t len);

#define DR_FLOW_EXPORTERS_KEPT 16	/* exporters a report lists */

/* Copies the busiest exporters (most records first; not sFlow's data
 * sources) into out, at most max of them; returns how many. */
unsigned dr_flow_busiest(const struct dr_flow_decoder *f, struct dr_flow_exporter *out,
			 unsigned max);

/* For the protocol decoders (netflow.c, sflow.c): exporters.c. */

/* The exporter entry of (addr, proto, domain), made if need be; when the
 * table is full, the one seen longest ago is forgotten (counted). Never
 * NULL. now is the datagram's export time in seconds. */
struct dr_flow_exporter *dr_flow_exporter(struct dr_flow_decoder *f, const uint8_t *addr,
					  uint8_t proto, uint64_t domain, int64_t now);

/* Checks a datagram's sequence number against the one expected, then
 * expects seq + advance. A number ahead counts a gap and the missing
 * units (datagrams when per_datagram, else records); one behind counts
 * as reordered when close, else as a restart (returns 1: the caller
 * forgets the exporter's templates). Returns 0 otherwise. */
int dr_flow_sequence(struct dr_flow_decoder *f, struct dr_flow_exporter *x, uint32_t seq,
		     uint32_t advance, int per_datagram);

/* Hands on f->rec as a flow record of exporter x: fills what every flow
 * record shares (kind, exporter, the carrying packet), applies the
 * sampling rate (rate, else the exporter's, else cfg.sampling) to its
 * packets and bytes, orders its times, and counts it. The caller has set
 * the family, addresses, ports, protocol, raw packets and bytes, start
 * and end (ts and end), interfaces and fragment flag. */
void dr_flow_emit(struct dr_flow_decoder *f, const struct dr_flow_exporter *x, uint32_t rate);

/* Clears f->rec for the next record: every field zero. */
void dr_flow_rec_reset(struct dr_flow_decoder *f);

/* The protocol decoders' entry points (netflow.c, sflow.c). */
int dr_netflow_init(struct dr_flow_decoder *f);
void dr_netflow_fini(struct dr_flow_decoder *f);
size_t dr_netflow_mem(const struct dr_flow_decoder *f);
void dr_netflow5_datagram(struct dr_flow_decoder *f, const uint8_t *data, size_t len);
void dr_netflow9_datagram(struct dr_flow_decoder *f, const uint8_t *data, size_t len);
void dr_ipfix_message(struct dr_flow_decoder *f, const uint8_t *data, size_t len);
/* sFlow owns f->inner, the decoder of its sampled headers. */
int dr_sflow_init(struct dr_flow_decoder *f);
void dr_sflow_fini(struct dr_flow_decoder *f);
size_t dr_sflow_mem(const struct dr_flow_decoder *f);
void dr_sflow_datagram(struct dr_flow_decoder *f, const uint8_t *data, size_t len);

#endif
