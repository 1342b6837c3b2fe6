/* The flow decoder's shared parts, used by every protocol's decoder
 * (netflow.c, sflow.c): the exporter table, sequence tracking, and the
 * one place a flow record is finished and handed on. */
#include "decode/flow.h"

#include <string.h>

#include "lib/hash.h"

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
	/* its templates stay: they are keyed by address and domain too, and
	 * age out by their own lifetime */
	f->stats.exporters_evicted++;
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
