/* NetFlow v5, NetFlow v9 and IPFIX datagrams into flow records (the
 * template cache v9 and IPFIX need is templates.c).
 *
 * NetFlow v5 (Cisco), a 24-octet header then `count` records of 48:
 *
 *   header  0  version (5)          2  count (1..30)
 *           4  sysUptime, ms        8  unix_secs       12  unix_nsecs
 *          16  flow_sequence (records exported before this datagram)
 *          20  engine_type         21  engine_id
 *          22  sampling: 2 bits mode, 14 bits interval
 *   record  0  srcaddr              4  dstaddr          8  nexthop
 *          12  input ifIndex       14  output ifIndex
 *          16  dPkts               20  dOctets
 *          24  First (sysUptime at the first packet, ms)
 *          28  Last (sysUptime at the last packet, ms)
 *          32  srcport             34  dstport
 *          36  pad1                37  tcp_flags       38  prot
 *          39  tos                 40  src_as          42  dst_as
 *          44  src_mask            45  dst_mask        46  pad2
 */
#include <stdlib.h>
#include <string.h>

#include "decode/flow.h"
#include "decode/templates.h"
#include "lib/cursor.h"
#include "lib/errors.h"
#include "lib/hash.h"

#define V5_HEADER 24
#define V5_RECORD 48
#define V5_MAX_COUNT 30

/* Nanoseconds since 1970 as seconds and nanoseconds (floored, so that a
 * time before 1970 from a damaged record stays well formed). */
static void ns_to_time(int64_t ns, int64_t *sec, uint32_t *nsec)
{
	int64_t s = ns / 1000000000, r = ns % 1000000000;
	if (r < 0) {
		s--;
		r += 1000000000;
	}
	*sec = s;
	*nsec = (uint32_t)r;
}

/* An uptime in ms as absolute time, given the export's uptime and time. */
static void uptime_to_time(int64_t export_ms, uint32_t uptime, uint32_t at, int64_t *sec,
			   uint32_t *nsec)
{
	int64_t ms = export_ms - (int64_t)(uint32_t)(uptime - at);
	ns_to_time(ms * 1000000, sec, nsec);
}

void dr_netflow5_datagram(struct dr_flow_decoder *f, const uint8_t *data, size_t len)
{
	struct dr_cursor c;

	f->stats.netflow5++;
	dr_cur_init(&c, data, len);
	dr_cur_need(&c, V5_HEADER);
	dr_cur_skip(&c, 2);		/* version */
	unsigned count = dr_cur_u16(&c);
	uint32_t uptime = dr_cur_u32(&c);
	uint32_t secs = dr_cur_u32(&c), nsecs = dr_cur_u32(&c);
	uint32_t seq = dr_cur_u32(&c);
	unsigned engine = dr_cur_u16(&c);
	unsigned sampling = dr_cur_u16(&c);
	if (dr_cur_err(&c)) {
		f->stats.bad_datagram++;
		return;
	}
	unsigned fit = (unsigned)(dr_cur_avail(&c) / V5_RECORD);
	if (count > V5_MAX_COUNT || count > fit) {
		/* a header that claims more than the datagram holds: read what
		 * is there, count the damage */
		f->stats.bad_datagram++;
		if (count > fit)
			count = fit;
	}
	struct dr_flow_exporter *x = dr_flow_exporter(f, f->origin->addr, DR_FLOW_NETFLOW5, engine,
						      secs);
	/* the interval is in the low 14 bits; modes 1 and 2 sample 1 in N */
	unsigned interval = sampling & 0x3fff;
	x->sampling = (sampling >> 14) && interval > 1 ? interval : 0;
	x->datagrams++;
	dr_flow_sequence(f, x, seq, count, 0);
	int64_t export_ms = (int64_t)secs * 1000 + nsecs / 1000000u;
	for (unsigned i = 0; i < count; i++) {
		struct dr_record *r = &f->rec;
		dr_flow_rec_reset(f);
		r->family = 4;
		dr_cur_copy(&c, r->src, 4);
		dr_cur_copy(&c, r->dst, 4);
		dr_cur_skip(&c, 4);		/* next hop */
		r->in_if = dr_cur_u16(&c);
		r->out_if = dr_cur_u16(&c);
		r->packets = dr_cur_u32(&c);
		r->bytes = dr_cur_u32(&c);
		uint32_t first = dr_cur_u32(&c), last = dr_cur_u32(&c);
		r->sport = dr_cur_u16(&c);
		r->dport = dr_cur_u16(&c);
		dr_cur_skip(&c, 2);		/* pad, TCP flags */
		r->proto = dr_cur_u8(&c);
		dr_cur_skip(&c, 9);		/* ToS, ASes, masks, pad */
		uptime_to_time(export_ms, uptime, first, &r->ts_sec, &r->ts_nsec);
		uptime_to_time(export_ms, uptime, last, &r->end_sec, &r->end_nsec);
		x->records++;
		dr_flow_emit(f, x, 0);
	}
}


#define VARLEN DR_TMPL_VARLEN

/* The decoding of one message. */
struct nf_message {
	struct dr_flow_exporter *x;
	int64_t export_sec;
	int64_t export_ms;
	uint32_t uptime_ms;	/* NetFlow v9: the header's sysUptime */
	uint16_t template_set, options_set;	/* set IDs: 0 and 1, or 2 and 3 */
	uint32_t data_records;	/* data records read, for IPFIX's sequence */
};

/* Reads a template's fields into fields[]: count of them, the first
 * nscope of them scope fields (NetFlow v9 options templates). Returns
 * the minimum record length, or -1 when the fields are cut short. */
static int read_fields(struct dr_cursor *c, struct nf_field *fields, unsigned count,
		       unsigned nscope_skip, int ipfix, uint8_t *varlen)
{
	unsigned min_len = 0;
	*varlen = 0;
	for (unsigned i = 0; i < count; i++) {
		uint16_t id = dr_cur_u16(c), len = dr_cur_u16(c);
		if (ipfix && (id & 0x8000)) {
			dr_cur_skip(c, 4);	/* enterprise number */
			id = 0;
		}
		if (i < nscope_skip)
			id = 0;
		if (i < DR_NETFLOW_FIELDS) {
			fields[i].id = id;
			fields[i].len = len;
		}
		if (len == VARLEN) {
			*varlen = 1;
			min_len += 1;
		} else {
			min_len += len;
		}
	}
	if (dr_cur_err(c))
		return -1;
	return min_len > 65535 ? 65535 : (int)min_len;
}

/* What one data record says, before it becomes a flow record. */
struct nf_values {
	uint64_t bytes, packets, total_bytes, total_packets;
	uint8_t have_bytes, have_packets;
	uint8_t have_src4, have_dst4, have_src6, have_dst6;
	uint8_t src4[4], dst4[4], src6[16], dst6[16];
	uint16_t sport, dport;
	uint8_t proto;
	uint8_t frag_flags;
	uint32_t frag_offset;
	uint32_t in_if, out_if, in_phys, out_phys;
	uint8_t direction;	/* enum dr_direction */
	/* times: each with the rank of the field it came from (finer wins) */
	int64_t start_ns, end_ns;
	uint8_t start_rank, end_rank;
	uint32_t start_up, end_up;	/* flowStart/EndSysUpTime */
	uint8_t have_start_up, have_end_up;
	int64_t init_ms;		/* systemInitTimeMilliseconds */
	/* sampling */
	uint32_t interval, random_interval, packet_interval, packet_space;
	uint32_t sampler;
	uint8_t have_sampler;
};

static int take_field(struct nf_values *v, const struct nf_message *m, uint16_t id,
		      const uint8_t *p, unsigned len);

/* Marks the fields take_field does not read (their ID becomes 0), lays
 * out a fixed-length record's offsets and lists the fields read. */
static void plan(struct nf_template *t, const struct nf_message *m)
{
	static const uint8_t zeros[DR_TMPL_VARLEN + 1];
	unsigned off = 0;
	t->nused = 0;
	for (unsigned i = 0; i < t->nfields; i++) {
		struct nf_field *fl = &t->field[i];
		struct nf_values scratch;
		fl->off = (uint16_t)off;
		off += fl->len == DR_TMPL_VARLEN ? 0 : fl->len;
		if (fl->id && !take_field(&scratch, m, fl->id, zeros, fl->len))
			fl->id = 0;
		if (fl->id)
			t->used[t->nused++] = (uint8_t)i;
	}
}

/* Learns one template record: its fields, or none (withdrawn). */
static void learn(struct dr_flow_decoder *f, struct nf_message *m, uint16_t id, int options,
		  const struct nf_field *fields, unsigned count, int min_len, uint8_t varlen)
{
	if (id < 256 || count > DR_NETFLOW_FIELDS || min_len <= 0) {
		f->stats.template_bad++;
		return;
	}
	struct nf_template *t = dr_tmpl_slot(f, m->x, id);
	t->options = (uint8_t)options;
	t->varlen = varlen;
	t->nfields = (uint16_t)count;
	t->min_len = (uint16_t)min_len;
	t->refreshed = m->export_sec;
	t->gen = f->tmpl->gen;
	memcpy(t->field, fields, count * sizeof(*fields));
	plan(t, m);
	if (options)
		f->stats.options_templates++;
	else
		f->stats.templates++;
}

/* Rest of a set is zero octets (padding). */
static int all_zero(const struct dr_cursor *c)
{
	const uint8_t *p = dr_cur_ptr(c);
	for (size_t i = 0, n = dr_cur_avail(c); i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void withdraw(struct dr_flow_decoder *f, struct nf_message *m, uint16_t set, uint16_t id)
{
	struct dr_flow_exporter *x = m->x;
	if (id == set) {	/* every template (set 2) or options template (set 3) */
		f->stats.template_withdrawn += dr_tmpl_forget(f, x->addr, x->proto, (uint32_t)x->domain,
							   0, set == 3, set == 2);
		return;
	}
	struct nf_template *t = dr_tmpl_find(f->tmpl, x->addr, x->proto, (uint32_t)x->domain, id);
	if (t)
		dr_tmpl_drop(f->tmpl, t);
	f->stats.template_withdrawn++;
}

/* A template set (flowset): template records until the set ends.
 *
 * NetFlow v9 template flowset (ID 0) and IPFIX template set (ID 2):
 *   record  0  template ID (256..65535)   2  field count
 *           4  fields: type (IPFIX: bit 15 enterprise), length; an IPFIX
 *              enterprise field then has a 4-octet enterprise number
 * NetFlow v9 options template flowset (ID 1):
 *   record  0  template ID   2  scope length, octets   4  option length
 *           6  scope fields then option fields, 4 octets each
 * IPFIX options template set (ID 3):
 *   record  0  template ID   2  field count   4  scope field count (>= 1)
 *           6  fields as above, the scope fields first
 * A record with field count 0 withdraws its template (IPFIX), and one
 * whose ID is the set's own withdraws them all. */
static void template_set(struct dr_flow_decoder *f, struct nf_message *m, uint16_t set,
			 struct dr_cursor *c, int ipfix)
{
	struct nf_field fields[DR_NETFLOW_FIELDS];
	int options = set == m->options_set;
	while (dr_cur_avail(c) >= 4) {
		if (all_zero(c))
			return;	/* padding */
		uint16_t id = dr_cur_u16(c);
		unsigned count, nscope_skip = 0;
		uint8_t varlen;
		if (options && !ipfix) {
			unsigned scope_len = dr_cur_u16(c), option_len = dr_cur_u16(c);
			if (dr_cur_err(c) || scope_len % 4 || option_len % 4) {
				f->stats.template_bad++;
				return;
			}
			nscope_skip = scope_len / 4;
			count = nscope_skip + option_len / 4;
		} else {
			count = dr_cur_u16(c);
			if (count == 0) {
				if (ipfix)
					withdraw(f, m, set, id);
				else
					f->stats.template_bad++;
				continue;
			}
			if (options) {
				unsigned nscope = dr_cur_u16(c);
				if (nscope == 0 || nscope > count) {
					f->stats.template_bad++;
					return;
				}
			}
		}
		int min_len = read_fields(c, fields, count, nscope_skip, ipfix, &varlen);
		if (min_len < 0) {
			f->stats.template_bad++;
			return;
		}
		learn(f, m, id, options, fields, count, min_len, varlen);
	}
}


static uint64_t be_uint(const uint8_t *p, unsigned len)
{
	uint64_t v = 0;
	switch (len) {		/* the usual widths, loaded at once */
	case 1: return p[0];
	case 2: return dr_get16(p);
	case 4: return dr_get32(p);
	case 8: return (uint64_t)dr_get32(p) << 32 | dr_get32(p + 4);
	default: break;
	}
	if (len > 8) {		/* wider than a counter: its low 64 bits */
		p += len - 8;
		len = 8;
	}
	for (unsigned i = 0; i < len; i++)
		v = v << 8 | p[i];
	return v;
}

#define NS_MAX ((int64_t)4000000000 * 1000000000)	/* year 2096: times past it are damage */

static int64_t scaled_ns(uint64_t v, uint64_t unit_ns)
{
	if (v > (uint64_t)NS_MAX / unit_ns)
		return NS_MAX;
	return (int64_t)(v * unit_ns);
}

/* An NTP timestamp (seconds since 1900, 32 bits of fraction) in ns since 1970. */
static int64_t ntp_ns(const uint8_t *p, unsigned len)
{
	if (len != 8)
		return 0;
	uint32_t sec = dr_get32(p), frac = dr_get32(p + 4);
	int64_t unix_sec = (int64_t)sec - 2208988800;
	return unix_sec * 1000000000 + (int64_t)(((uint64_t)frac * 1000000000u) >> 32);
}

static void set_time(int64_t *t, uint8_t *rank, int64_t ns, uint8_t r)
{
	if (r >= *rank) {
		*t = ns;
		*rank = r;
	}
}

/* Elements this decoder reads (IANA numbers; NetFlow v9 uses the same). */
enum {
	IE_OCTETS = 1, IE_PACKETS = 2, IE_PROTOCOL = 4, IE_SRC_PORT = 7, IE_SRC_IPV4 = 8,
	IE_IN_IF = 10, IE_DST_PORT = 11, IE_DST_IPV4 = 12, IE_OUT_IF = 14,
	IE_END_UPTIME = 21, IE_START_UPTIME = 22, IE_SRC_IPV6 = 27, IE_DST_IPV6 = 28,
	IE_SAMPLING_INTERVAL = 34, IE_SAMPLER_ID = 48, IE_SAMPLER_RANDOM_INTERVAL = 50,
	IE_OCTETS_TOTAL = 85, IE_PACKETS_TOTAL = 86, IE_FRAGMENT_OFFSET = 88,
	IE_START_SEC = 150, IE_END_SEC = 151, IE_START_MS = 152, IE_END_MS = 153,
	IE_START_US = 154, IE_END_US = 155, IE_START_NS = 156, IE_END_NS = 157,
	IE_START_DELTA_US = 158, IE_END_DELTA_US = 159, IE_SYSTEM_INIT_MS = 160,
	IE_FLOW_DIRECTION = 61, IE_FRAGMENT_FLAGS = 197, IE_IN_PHYS_IF = 252, IE_OUT_PHYS_IF = 253,
	IE_SELECTOR_ID = 302, IE_PACKET_INTERVAL = 305, IE_PACKET_SPACE = 306,
};
/* flowDirection (61) is not read yet: a record's direction is that of
 * its addresses. */

/* Reads one field into v; 0 when nothing reads a field of that ID. */
static int take_field(struct nf_values *v, const struct nf_message *m, uint16_t id,
		      const uint8_t *p, unsigned len)
{
	uint64_t n = 0;
	if (len <= 8)
		n = be_uint(p, len);
	switch (id) {
	case IE_OCTETS: v->bytes = n; v->have_bytes = 1; break;
	case IE_PACKETS: v->packets = n; v->have_packets = 1; break;
	case IE_OCTETS_TOTAL: v->total_bytes = n; break;
	case IE_PACKETS_TOTAL: v->total_packets = n; break;
	case IE_PROTOCOL: v->proto = (uint8_t)n; break;
	case IE_SRC_PORT: v->sport = (uint16_t)n; break;
	case IE_DST_PORT: v->dport = (uint16_t)n; break;
	case IE_SRC_IPV4:
		if (len == 4) {
			memcpy(v->src4, p, 4);
			v->have_src4 = 1;
		}
		break;
	case IE_DST_IPV4:
		if (len == 4) {
			memcpy(v->dst4, p, 4);
			v->have_dst4 = 1;
		}
		break;
	case IE_SRC_IPV6:
		if (len == 16) {
			memcpy(v->src6, p, 16);
			v->have_src6 = 1;
		}
		break;
	case IE_DST_IPV6:
		if (len == 16) {
			memcpy(v->dst6, p, 16);
			v->have_dst6 = 1;
		}
		break;
	case IE_FLOW_DIRECTION:	/* 0 ingress, 1 egress */
		v->direction = n == 0 ? DR_DIR_INGRESS : n == 1 ? DR_DIR_EGRESS : DR_DIR_UNKNOWN;
		break;
	case IE_IN_IF: v->in_if = (uint32_t)n; break;
	case IE_OUT_IF: v->out_if = (uint32_t)n; break;
	case IE_IN_PHYS_IF: v->in_phys = (uint32_t)n; break;
	case IE_OUT_PHYS_IF: v->out_phys = (uint32_t)n; break;
	case IE_START_UPTIME: v->start_up = (uint32_t)n; v->have_start_up = 1; break;
	case IE_END_UPTIME: v->end_up = (uint32_t)n; v->have_end_up = 1; break;
	case IE_START_DELTA_US:
		set_time(&v->start_ns, &v->start_rank, m->export_ms * 1000000 - scaled_ns(n, 1000), 2);
		break;
	case IE_END_DELTA_US:
		set_time(&v->end_ns, &v->end_rank, m->export_ms * 1000000 - scaled_ns(n, 1000), 2);
		break;
	case IE_START_SEC: set_time(&v->start_ns, &v->start_rank, scaled_ns(n, 1000000000), 3); break;
	case IE_END_SEC: set_time(&v->end_ns, &v->end_rank, scaled_ns(n, 1000000000), 3); break;
	case IE_START_MS: set_time(&v->start_ns, &v->start_rank, scaled_ns(n, 1000000), 4); break;
	case IE_END_MS: set_time(&v->end_ns, &v->end_rank, scaled_ns(n, 1000000), 4); break;
	case IE_START_US:
	case IE_START_NS:
		if (len == 8)
			set_time(&v->start_ns, &v->start_rank, ntp_ns(p, len), id == IE_START_NS ? 6 : 5);
		break;
	case IE_END_US:
	case IE_END_NS:
		if (len == 8)
			set_time(&v->end_ns, &v->end_rank, ntp_ns(p, len), id == IE_END_NS ? 6 : 5);
		break;
	case IE_SYSTEM_INIT_MS: v->init_ms = n > (uint64_t)NS_MAX / 1000000 ? 0 : (int64_t)n; break;
	case IE_FRAGMENT_OFFSET: v->frag_offset = (uint32_t)n; break;
	case IE_FRAGMENT_FLAGS: v->frag_flags = (uint8_t)n; break;
	case IE_SAMPLING_INTERVAL: v->interval = (uint32_t)n; break;
	case IE_SAMPLER_RANDOM_INTERVAL: v->random_interval = (uint32_t)n; break;
	case IE_PACKET_INTERVAL: v->packet_interval = (uint32_t)n; break;
	case IE_PACKET_SPACE: v->packet_space = (uint32_t)n; break;
	case IE_SAMPLER_ID:
	case IE_SELECTOR_ID:
		v->sampler = (uint32_t)n;
		v->have_sampler = 1;
		break;
	default:
		return 0;
	}
	return 1;
}

/* Reads one record of template t into v; -1 when it is cut short. */
static int read_record(struct dr_cursor *c, const struct nf_template *t,
		       const struct nf_message *m, struct nf_values *v)
{
	memset(v, 0, sizeof(*v));
	if (!t->varlen) {	/* every field at its offset */
		if (!dr_cur_need(c, t->min_len))
			return -1;
		const uint8_t *base = dr_cur_ptr(c);
		dr_cur_skip(c, t->min_len);
		for (unsigned k = 0; k < t->nused; k++) {
			const struct nf_field *fl = &t->field[t->used[k]];
			take_field(v, m, fl->id, base + fl->off, fl->len);
		}
		return 0;
	}
	for (unsigned i = 0; i < t->nfields; i++) {
		unsigned len = t->field[i].len;
		if (len == VARLEN) {
			len = dr_cur_u8(c);
			if (len == 255)
				len = dr_cur_u16(c);
		}
		const uint8_t *p = dr_cur_ptr(c);
		dr_cur_skip(c, len);
		if (dr_cur_err(c))
			return -1;
		if (t->field[i].id)
			take_field(v, m, t->field[i].id, p, len);
	}
	return 0;
}

/* The sampling rate a record's fields give, 0 when none. */
static uint32_t values_rate(const struct nf_values *v)
{
	if (v->packet_interval) {
		uint64_t r = ((uint64_t)v->packet_interval + v->packet_space) / v->packet_interval;
		return r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
	}
	if (v->random_interval)
		return v->random_interval;
	return v->interval;
}

static uint32_t sampler_rate(const struct dr_flow_exporter *x, uint32_t id)
{
	for (unsigned i = 0; i < DR_FLOW_SAMPLERS; i++)
		if (x->sampler_rate[i] && x->sampler_id[i] == id)
			return x->sampler_rate[i];
	return 0;
}

static void sampler_set(struct dr_flow_exporter *x, uint32_t id, uint32_t rate)
{
	unsigned slot = DR_FLOW_SAMPLERS - 1;
	for (unsigned i = 0; i < DR_FLOW_SAMPLERS; i++) {
		if (!x->sampler_rate[i] || x->sampler_id[i] == id) {
			slot = i;
			break;
		}
	}
	/* the newest first: a full map gives up the one set longest ago */
	for (unsigned i = slot; i > 0; i--) {
		x->sampler_id[i] = x->sampler_id[i - 1];
		x->sampler_rate[i] = x->sampler_rate[i - 1];
	}
	x->sampler_id[0] = id;
	x->sampler_rate[0] = rate;
}

/* An options record: sampling rates and the exporter's init time. */
static void options_record(struct dr_flow_decoder *f, struct nf_message *m,
			   const struct nf_values *v)
{
	struct dr_flow_exporter *x = m->x;
	uint32_t rate = values_rate(v);
	f->stats.options_records++;
	if (rate) {
		if (v->have_sampler)
			sampler_set(x, v->sampler, rate);
		else
			x->sampling = rate;
	}
	if (v->init_ms)
		x->init_ms = v->init_ms;
}

/* A flow record's times: the finest of the absolute ones, else sysUpTime
 * against the v9 header or the exporter's init time, else export time. */
static void record_times(const struct nf_message *m, const struct nf_values *v, int ipfix,
			 int64_t *start, int64_t *end)
{
	int64_t s = v->start_ns, e = v->end_ns;
	uint8_t sr = v->start_rank, er = v->end_rank;
	if ((!sr || !er) && (v->have_start_up || v->have_end_up)) {
		int64_t init_ms = v->init_ms ? v->init_ms : m->x->init_ms;
		int64_t su, eu;
		uint32_t a = v->have_start_up ? v->start_up : v->end_up;
		uint32_t b = v->have_end_up ? v->end_up : v->start_up;
		if (!ipfix) {
			su = m->export_ms - (int64_t)(uint32_t)(m->uptime_ms - a);
			eu = m->export_ms - (int64_t)(uint32_t)(m->uptime_ms - b);
		} else if (init_ms) {
			su = init_ms + a;
			eu = init_ms + b;
		} else {
			/* no init time: say the flow ended when it was exported */
			eu = m->export_ms;
			su = eu - (int64_t)(uint32_t)(b - a);
		}
		if (!sr) {
			s = su * 1000000;
			sr = 1;
		}
		if (!er) {
			e = eu * 1000000;
			er = 1;
		}
	}
	if (!sr && !er) {
		s = e = m->export_ms * 1000000;
	} else if (!sr) {
		s = e;
	} else if (!er) {
		e = s;
	}
	*start = s;
	*end = e;
}

/* A data record into a flow record, handed on. */
static void flow_record(struct dr_flow_decoder *f, struct nf_message *m, const struct nf_values *v,
			int ipfix)
{
	struct dr_record *r = &f->rec;
	struct dr_flow_exporter *x = m->x;
	/* a template of both families: the one whose addresses are set */
	static const uint8_t zero[16];
	int v4 = v->have_src4 || v->have_dst4;
	int v6 = v->have_src6 || v->have_dst6;
	if (v4 && v6 && !memcmp(v->src4, zero, 4) && !memcmp(v->dst4, zero, 4))
		v4 = 0;
	if (v4) {
		dr_flow_rec_reset(f);
		r->family = 4;
		memcpy(r->src, v->src4, 4);
		memcpy(r->dst, v->dst4, 4);
	} else if (v6) {
		dr_flow_rec_reset(f);
		r->family = 6;
		memcpy(r->src, v->src6, 16);
		memcpy(r->dst, v->dst6, 16);
	} else {
		f->stats.records_other++;
		return;
	}
	r->proto = v->proto;
	r->sport = v->sport;
	r->dport = v->dport;
	r->packets = v->have_packets ? v->packets : v->total_packets;
	r->bytes = v->have_bytes ? v->bytes : v->total_bytes;
	r->in_if = v->in_if ? v->in_if : v->in_phys;
	r->out_if = v->out_if ? v->out_if : v->out_phys;
	r->direction = v->direction;
	/* a later fragment (offset past 0), or one that carries no ports */
	r->fragmented = v->frag_offset > 0 ||
			((v->frag_flags & 0x20) && !v->sport && !v->dport);
	int64_t start, end;
	record_times(m, v, ipfix, &start, &end);
	ns_to_time(start, &r->ts_sec, &r->ts_nsec);
	ns_to_time(end, &r->end_sec, &r->end_nsec);
	uint32_t rate = values_rate(v);
	if (!rate && v->have_sampler)
		rate = sampler_rate(x, v->sampler);
	x->records++;
	dr_flow_emit(f, x, rate);
}

/* A data set: records of its template until fewer octets remain than its
 * shortest record (padding). */
static void data_set(struct dr_flow_decoder *f, struct nf_message *m, uint16_t set,
		     struct dr_cursor *c, int ipfix)
{
	struct dr_flow_exporter *x = m->x;
	struct nf_template *t = dr_tmpl_find(f->tmpl, x->addr, x->proto, (uint32_t)x->domain, set);
	if (t && m->export_sec - t->refreshed > (int64_t)f->cfg.template_lifetime) {
		f->stats.template_expired++;
		dr_tmpl_drop(f->tmpl, t);
		t = NULL;
	}
	if (!t) {
		f->stats.no_template++;
		f->stats.no_template_octets += dr_cur_avail(c) + 4;
		return;
	}
	struct nf_values v;
	while (t->min_len && dr_cur_avail(c) >= t->min_len) {
		if (read_record(c, t, m, &v) < 0) {
			f->stats.records_bad++;
			return;
		}
		m->data_records++;
		if (t->options)
			options_record(f, m, &v);
		else
			flow_record(f, m, &v, ipfix);
	}
}

/* The sets of a message after its header, up to its end: a set header
 * (ID, length including these 4 octets) and its body. */
static void sets(struct dr_flow_decoder *f, struct nf_message *m, struct dr_cursor *c, int ipfix)
{
	while (dr_cur_avail(c) > 0) {
		if (all_zero(c))
			return;	/* zero padding after the last set */
		uint16_t id = dr_cur_u16(c), len = dr_cur_u16(c);
		if (dr_cur_err(c) || len < 4) {
			f->stats.bad_datagram++;
			return;
		}
		size_t body = len - 4u;
		int cut = 0;
		if (body > dr_cur_avail(c)) {
			/* a set longer than what is left: read what is there */
			body = dr_cur_avail(c);
			cut = 1;
		}
		struct dr_cursor s;
		dr_cur_init(&s, dr_cur_ptr(c), body);
		dr_cur_skip(c, body);
		if (id == m->template_set || id == m->options_set)
			template_set(f, m, id, &s, ipfix);
		else if (id >= 256)
			data_set(f, m, id, &s, ipfix);
		/* IDs between are reserved: skipped */
		if (cut) {
			f->stats.bad_datagram++;
			return;
		}
	}
}

/* NetFlow v9 (RFC 3954), a 20-octet header then flowsets:
 *
 *   header  0  version (9)          2  count (records of all flowsets)
 *           4  sysUptime, ms        8  unix_secs
 *          12  package sequence (datagrams exported before this one)
 *          16  source ID
 *   flowset 0  flowset ID: 0 templates, 1 options templates, 2..255
 *              reserved, 256.. data of that template
 *           2  length, octets, this header included; padded to 4
 *   (templates: see template_set; a data record is its template's
 *   fields, back to back, in the template's order and lengths)
 */
void dr_netflow9_datagram(struct dr_flow_decoder *f, const uint8_t *data, size_t len)
{
	struct dr_cursor c;

	f->stats.netflow9++;
	dr_cur_init(&c, data, len);
	dr_cur_need(&c, 20);
	dr_cur_skip(&c, 4);		/* version, count */
	uint32_t uptime = dr_cur_u32(&c), secs = dr_cur_u32(&c);
	uint32_t seq = dr_cur_u32(&c), source = dr_cur_u32(&c);
	if (dr_cur_err(&c)) {
		f->stats.bad_datagram++;
		return;
	}
	struct dr_flow_exporter *x = dr_flow_exporter(f, f->origin->addr, DR_FLOW_NETFLOW9, source,
						      secs);
	x->datagrams++;
	f->tmpl->gen++;
	uint64_t reordered = f->stats.seq_reordered;
	int restart = dr_flow_sequence(f, x, seq, 1, 1);
	int late = f->stats.seq_reordered != reordered;
	/* an uptime that went back is a rebooted exporter, unless the
	 * datagram is a late one (by its sequence number or by a few
	 * seconds) or the uptime wrapped past 2^32 ms */
	if (!restart && !late && x->have_uptime && uptime < x->uptime_ms &&
	    x->uptime_ms - uptime > 10000 && !(x->uptime_ms > 0xf0000000u && uptime < 0x10000000u)) {
		restart = 1;
		f->stats.exporter_restarts++;
	}
	if (restart) {
		dr_netflow_forget(f, x);
		x->init_ms = 0;
		memset(x->sampler_rate, 0, sizeof(x->sampler_rate));
	}
	if (!late) {
		x->have_uptime = 1;
		x->uptime_ms = uptime;
	}
	struct nf_message m = {
		.x = x, .export_sec = secs, .export_ms = (int64_t)secs * 1000, .uptime_ms = uptime,
		.template_set = 0, .options_set = 1,
	};
	sets(f, &m, &c, 0);
}

/* IPFIX (RFC 7011), a 16-octet header then sets:
 *
 *   header  0  version (10)         2  length, octets, this header included
 *           4  export time, seconds since 1970
 *           8  sequence (data records exported before this message, in
 *              this observation domain)
 *          12  observation domain ID
 *   set     0  set ID: 2 templates, 3 options templates, 4..255 reserved,
 *              256.. data of that template
 *           2  length, octets, this header included; may end in padding
 *   field in a template: 0 ID, bit 15 enterprise  2 length, 65535
 *              variable  4 enterprise number (when bit 15 is set)
 *   a variable-length value: 1 octet length (0..254), or 255 then 2
 *              octets of length, then the value
 */
void dr_ipfix_message(struct dr_flow_decoder *f, const uint8_t *data, size_t len)
{
	struct dr_cursor c;

	f->stats.ipfix++;
	dr_cur_init(&c, data, len);
	dr_cur_need(&c, 16);
	dr_cur_skip(&c, 2);		/* version */
	size_t mlen = dr_cur_u16(&c);
	uint32_t secs = dr_cur_u32(&c), seq = dr_cur_u32(&c), domain = dr_cur_u32(&c);
	if (dr_cur_err(&c) || mlen < 16) {
		f->stats.bad_datagram++;
		return;
	}
	int cut = mlen > len;
	if (!cut)	/* octets past the message's length are not its own */
		dr_cur_init(&c, data + 16, mlen - 16);
	struct dr_flow_exporter *x = dr_flow_exporter(f, f->origin->addr, DR_FLOW_IPFIX, domain,
						      secs);
	x->datagrams++;
	uint64_t gen = ++f->tmpl->gen;
	struct nf_message m = {
		.x = x, .export_sec = secs, .export_ms = (int64_t)secs * 1000,
		.template_set = 2, .options_set = 3,
	};
	sets(f, &m, &c, 1);
	if (cut)
		f->stats.bad_datagram++;
	/* the sequence counts data records, known once they are read; a
	 * restart forgets the templates of before, not those just sent
	 * (nor the sampling just sent: options data follow a restart) */
	if (dr_flow_sequence(f, x, seq, m.data_records, 0))
		dr_tmpl_forget(f, x->addr, x->proto, domain, gen, 0, 0);
}
