/* NetFlow v5 datagrams into flow records.
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
#include <string.h>

#include "decode/flow.h"
#include "lib/cursor.h"

#define V5_HEADER 24
#define V5_RECORD 48
#define V5_MAX_COUNT 30

int dr_netflow_init(struct dr_flow_decoder *f)
{
	(void)f;
	return 0;
}

void dr_netflow_fini(struct dr_flow_decoder *f)
{
	(void)f;
}

size_t dr_netflow_mem(const struct dr_flow_decoder *f)
{
	(void)f;
	return 0;
}

void dr_netflow_forget(struct dr_flow_decoder *f, const struct dr_flow_exporter *x)
{
	(void)f;
	(void)x;
}

/* An uptime in ms as absolute time, given the export's uptime and time. */
static void uptime_to_time(int64_t export_ms, uint32_t uptime, uint32_t at, int64_t *sec,
			   uint32_t *nsec)
{
	int64_t ms = export_ms - (int64_t)(uint32_t)(uptime - at);
	*sec = ms / 1000;
	*nsec = (uint32_t)(ms % 1000) * 1000000u;
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

void dr_netflow9_datagram(struct dr_flow_decoder *f, const uint8_t *data, size_t len)
{
	(void)data;
	(void)len;
	f->stats.netflow9++;
	f->stats.bad_datagram++;
}

void dr_ipfix_message(struct dr_flow_decoder *f, const uint8_t *data, size_t len)
{
	(void)data;
	(void)len;
	f->stats.ipfix++;
	f->stats.bad_datagram++;
}
