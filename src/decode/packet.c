/* Packet decoder: from a captured frame to DNS messages. Every header is
 * read through a bounded cursor (lib/cursor.h): a layer reads its fixed
 * fields straight through, checks the cursor's error once, and hands the
 * rest of the buffer to the next layer.
 *
 * The layouts it reads, offsets and sizes in octets, multi-octet fields in
 * network order unless said otherwise:
 *
 * Link layers (the pcap link type picks one)
 *   Ethernet (1)           OFFSET SIZE  DESCRIPTION
 *                             0     6   destination
 *                             6     6   source
 *                            12     2   ethertype; 1500 or less: an 802.3
 *                                       length, and 802.2 LLC follows
 *   802.1Q / 802.1ad tag      0     2   tag control (after ethertype 0x8100,
 *                                       0x88a8 or 0x9100; up to 8 tags)
 *                             2     2   ethertype
 *   MPLS label (0x8847/8)     0     4   label(20) TC(3) bottom-of-stack(1)
 *                                       TTL(8); up to 16 to the bottom one,
 *                                       then IP
 *   PPPoE session (0x8864)    0     6   version/type, code, session, length;
 *                                       then PPP from its protocol field
 *   PPP (0x880b, GRE v1)      0     -   PPP, as for link type 9 below
 *   bridged Ethernet (0x6558) 0     -   an Ethernet frame (GRE)
 *   802.2 LLC/SNAP            0     1   DSAP = 0xaa
 *                             1     1   SSAP = 0xaa
 *                             2     1   control = 0x03
 *                             3     3   OUI
 *                             6     2   ethertype
 *   Linux SLL (113)           0    14   packet type, ARPHRD, address length,
 *                                       address (8)
 *                            14     2   protocol (an ethertype)
 *   Linux SLL2 (276)          0     2   protocol (an ethertype)
 *                             2    18   reserved, ifindex, ARPHRD, packet
 *                                       type, address length, address (8)
 *   NULL (0) / LOOP (108)     0     4   address family: host order (NULL,
 *                                       either order accepted) or network
 *                                       order (LOOP); an ethertype in the
 *                                       low half is also accepted
 *   PPP (9, 50)               0     2   address/control 0xff 0x03, optional
 *                             0   1|2   protocol; 1 octet when odd
 *                                       (protocol field compression)
 *   Cisco HDLC (104)          0     2   address, control
 *                             2     2   protocol (an ethertype)
 *   FDDI (10)                 0    13   frame control, destination, source;
 *                                       then 802.2 LLC/SNAP
 *   RAW (12, 14, 101), IPV4 (228), IPV6 (229): the IP header itself
 *
 * IPv4                     OFFSET SIZE  DESCRIPTION
 *                             0     1   version(4) header length(4) in words
 *                             1     1   TOS
 *                             2     2   total length
 *                             4     2   identification
 *                             6     2   flags(3) fragment offset(13) in 8s
 *                             8     1   TTL
 *                             9     1   protocol
 *                            10     2   checksum
 *                            12     4   source
 *                            16     4   destination
 *                            20     -   options, to the header length
 *
 * IPv6                     OFFSET SIZE  DESCRIPTION
 *                             0     4   version(4) class(8) flow label(20)
 *                             4     2   payload length
 *                             6     1   next header
 *                             7     1   hop limit
 *                             8    16   source
 *                            24    16   destination
 *   extension headers         0     1   next header
 *                             1     1   length: (n+1)*8 octets for
 *                                       hop-by-hop (0), routing (43),
 *                                       destination (60), mobility (135),
 *                                       HIP (139), shim6 (140); (n+2)*4 for
 *                                       AH (51); up to 16 headers
 *   fragment (44)             0     1   next header
 *                             1     1   reserved
 *                             2     2   offset(13) in 8s, reserved(2), M(1)
 *                             4     4   identification
 *
 * Transports and tunnels   OFFSET SIZE  DESCRIPTION
 *   UDP (17)                  0     2   source port
 *                             2     2   destination port
 *                             4     2   length (shorter than the datagram:
 *                                       the rest is padding)
 *                             6     2   checksum
 *   TCP (6)                   0     2   source port
 *                             2     2   destination port
 *                             4     4   sequence number
 *                             8     4   acknowledgment number
 *                            12     1   data offset(4) in words, reserved
 *                            13     1   flags (FIN 0x01, SYN 0x02, RST 0x04)
 *                            14     6   window, checksum, urgent pointer
 *                            20     -   options, to the data offset
 *   IP in IP (4, 41)          0     -   an IPv4 or IPv6 header
 *   GRE (47) v0 and v1        0     2   flags: checksum 0x8000, key 0x2000,
 *                                       sequence 0x1000, ack 0x0080 (v1);
 *                                       version(3)
 *                             2     2   protocol (an ethertype)
 *                             4   0-16  checksum+reserved, key (v1: payload
 *                                       length, call id), sequence, ack:
 *                                       4 each when flagged
 *   VXLAN (UDP 4789)          0     1   flags: I (0x08) must be set
 *                             1     3   reserved
 *                             4     3   VNI
 *                             7     1   reserved; then Ethernet
 *   Geneve (UDP 6081)         0     1   version(2) = 0, option length(6) in
 *                                       words
 *                             1     1   flags
 *                             2     2   protocol (an ethertype)
 *                             4     3   VNI
 *                             7     1   reserved
 *                             8     -   options
 * Tunnels nest up to 4 deep.
 */
#include "decode/packet.h"

#include <string.h>

#include "lib/errors.h"
#include "lib/cursor.h"

#define MAX_TUNNEL_DEPTH 4
#define MAX_VLAN_TAGS 8
#define MAX_MPLS_LABELS 16

enum { ETH_IPV4 = 0x0800, ETH_IPV6 = 0x86dd, ETH_VLAN = 0x8100,
       ETH_QINQ = 0x88a8, ETH_QINQ_OLD = 0x9100, ETH_MPLS = 0x8847,
       ETH_MPLS_MC = 0x8848, ETH_PPPOE = 0x8864, ETH_TEB = 0x6558,
       ETH_PPP = 0x880b };
enum { PPP_IPV4 = 0x0021, PPP_IPV6 = 0x0057 };
enum { IP_HOPOPT = 0, IP_IPIP = 4, IP_TCP = 6, IP_UDP = 17, IP_IPV6 = 41,
       IP_ROUTING = 43, IP_FRAGMENT = 44, IP_GRE = 47, IP_ESP = 50, IP_AH = 51,
       IP_NONE = 59, IP_DSTOPTS = 60, IP_MOBILITY = 135, IP_HIP = 139,
       IP_SHIM6 = 140 };

static void decode_ethertype(struct dr_decoder *d, unsigned type,
			     const uint8_t *p, size_t n, int depth);
static void decode_ip(struct dr_decoder *d, const uint8_t *p, size_t n, int depth);

int dr_decoder_init(struct dr_decoder *d, const struct dr_decode_config *cfg,
		    dr_message_fn on_message, void *ctx)
{
	memset(d, 0, sizeof(*d));
	d->dns_ports = cfg->dns_ports;
	d->flow_ports = cfg->on_export ? cfg->flow_ports : NULL;
	d->on_export = cfg->on_export;
	d->export_ctx = cfg->export_ctx;
	d->sampled = cfg->sampled;
	d->on_message = on_message;
	d->ctx = ctx;
	if (dr_frag_init(&d->frag, &cfg->frag) < 0)
		return DR_ENOMEM;
	if (dr_tcp_init(&d->tcp, &cfg->tcp) < 0) {
		dr_frag_fini(&d->frag);
		return DR_ENOMEM;
	}
	return 0;
}

static void sync_counts(struct dr_decoder *d)
{
	d->stats.frag_timeout = d->frag.counts.timeout;
	d->stats.frag_evicted = d->frag.counts.evicted;
	d->stats.frag_memory = d->frag.counts.memory;
	d->stats.frag_overlap = d->frag.counts.overlap;
	d->stats.frag_bad = d->frag.counts.bad;
	d->stats.tcp_gap = d->tcp.counts.gap;
	d->stats.tcp_evicted = d->tcp.counts.evicted;
	d->stats.tcp_memory = d->tcp.counts.memory;
	d->stats.tcp_unfinished = d->tcp.counts.unfinished;
}

void dr_decoder_fini(struct dr_decoder *d)
{
	d->stats.frag_unfinished += dr_frag_pending(&d->frag);
	dr_frag_fini(&d->frag);
	dr_tcp_fini(&d->tcp);
	sync_counts(d);
}

const struct dr_param dr_decode_params[DR_DECODE_NPARAMS] = {
	[DR_DECODE_FRAG_SETS] = {"frag_sets", 1024, "IP fragment sets held at once",
				 .kind = DR_PARAM_COUNT, .unit = "sets", .min = 16, .max = 1 << 20},
	[DR_DECODE_FRAG_MEMORY] = {"frag_memory", 16 << 20, "octets of IP fragments held at most",
				   .kind = DR_PARAM_COUNT, .unit = "octets", .min = 1 << 16,
				   .max = 4294967295.0},
	[DR_DECODE_FRAG_TIMEOUT] = {"frag_timeout", 30, "seconds a fragment set may wait for the rest",
				    .kind = DR_PARAM_SECONDS, .min = 1, .max = 3600},
	[DR_DECODE_TCP_STREAMS] = {"tcp_streams", 4096, "TCP stream directions followed at once",
				   .kind = DR_PARAM_COUNT, .unit = "streams", .min = 16, .max = 1 << 20},
	[DR_DECODE_TCP_MEMORY] = {"tcp_memory", 32 << 20, "octets of partial TCP messages held at most",
				  .kind = DR_PARAM_COUNT, .unit = "octets", .min = 1 << 16,
				  .max = 4294967295.0},
	[DR_DECODE_TCP_IDLE] = {"tcp_idle", 120, "seconds a TCP stream may stay idle before its slot is reused",
				.kind = DR_PARAM_SECONDS, .min = 1, .max = 86400},
};

void dr_decode_config_apply(struct dr_decode_config *cfg, const double *values)
{
	cfg->frag.sets = (unsigned)values[DR_DECODE_FRAG_SETS];
	cfg->frag.mem_cap = (size_t)values[DR_DECODE_FRAG_MEMORY];
	cfg->frag.timeout_ms = (uint32_t)values[DR_DECODE_FRAG_TIMEOUT] * 1000;
	cfg->tcp.streams = (unsigned)values[DR_DECODE_TCP_STREAMS];
	cfg->tcp.mem_cap = (size_t)values[DR_DECODE_TCP_MEMORY];
	cfg->tcp.idle_ms = (uint32_t)values[DR_DECODE_TCP_IDLE] * 1000;
}

size_t dr_decoder_mem_budget(const struct dr_decoder *d)
{
	return dr_frag_mem_budget(&d->frag) + dr_tcp_mem_budget(&d->tcp);
}

/* A DNS message of len octets, caplen of them at msg (fewer only when the
 * frame is a sampled header cut short on purpose). */
static void emit_cut(struct dr_decoder *d, const uint8_t *msg, uint32_t len, uint32_t caplen)
{
	struct dr_record *r = &d->rec;
	if (len > DR_DNS_MESSAGE_MAX)	/* a frame larger than any datagram */
		len = DR_DNS_MESSAGE_MAX;
	if (caplen > len)
		caplen = len;
	r->payload = msg;
	r->payload_len = len;
	r->payload_caplen = caplen;
	r->kind = DR_KIND_DNS;
	r->packets = r->fragmented && d->frag.done_pieces ? d->frag.done_pieces : 1;
	r->bytes = r->ip_len ? r->ip_len : len;
	r->end_sec = r->ts_sec;
	r->end_nsec = r->ts_nsec;
	r->sampling = 1;
	r->keys.ready = 0;
	d->stats.dns_messages++;
	int bad = dr_dns_parse(msg, caplen, &r->dns);
	if (bad == DR_MAL_TRUNCATED && caplen < len) {
		/* cut by the sampler, not by the sender: what was read stands */
		r->dns.malformed = DR_MAL_NONE;
		r->dns.malformed_at = 0;
		r->dns.len = (uint16_t)len;
		bad = 0;
	}
	if (bad)
		d->stats.dns_malformed++;
	d->on_message(d->ctx, r);
}

static void emit(struct dr_decoder *d, const uint8_t *msg, uint32_t len)
{
	emit_cut(d, msg, len, len);
}

/* A sampled header's later IP fragment: no ports, no DNS, but the packet
 * and its size count (amplification's fragments). */
static void emit_fragment(struct dr_decoder *d, unsigned proto)
{
	struct dr_record *r = &d->rec;
	r->kind = DR_KIND_FLOW;
	r->proto = (uint8_t)proto;
	r->sport = r->dport = 0;
	r->fragmented = 1;
	r->packets = 1;
	r->bytes = r->ip_len;
	r->end_sec = r->ts_sec;
	r->end_nsec = r->ts_nsec;
	r->sampling = 1;
	r->payload = NULL;
	r->payload_len = r->payload_caplen = 0;
	memset(&r->dns, 0, offsetof(struct dr_dns, qname));
	r->keys.ready = 0;
	d->on_message(d->ctx, r);
}

static void tcp_message(void *ctx, const uint8_t *msg, uint32_t len)
{
	struct dr_decoder *d = ctx;
	d->stats.tcp_messages++;
	emit(d, msg, len);
}

static int64_t now_ms(const struct dr_decoder *d)
{
	return d->rec.ts_sec * 1000 + d->rec.ts_nsec / 1000000;
}

static int is_dns(const struct dr_decoder *d, uint16_t sport, uint16_t dport)
{
	return dr_port_test(d->dns_ports, dport) || dr_port_test(d->dns_ports, sport);
}

enum { PORT_VXLAN = 4789, PORT_GENEVE = 6081 };

static void decode_ethernet(struct dr_decoder *d, const uint8_t *p, size_t n, int depth);

/* VXLAN and Geneve: an overlay's inner frame, as tshark unwraps it. */
static int decode_overlay(struct dr_decoder *d, uint16_t dport, const uint8_t *p,
			  size_t n, int depth)
{
	struct dr_cursor c;

	if (depth >= MAX_TUNNEL_DEPTH)
		return 0;
	dr_cur_init(&c, p, n);
	unsigned first = dr_cur_u8(&c);
	dr_cur_skip(&c, 1);		/* reserved, or Geneve's flags */
	unsigned proto = dr_cur_u16(&c);	/* Geneve */
	dr_cur_skip(&c, 4);		/* VNI, reserved */
	if (dr_cur_err(&c))
		return 0;
	if (dport == PORT_VXLAN) {
		if (!(first & 0x08) || dr_cur_avail(&c) < 14)
			return 0;
		d->stats.tunnel++;
		decode_ethernet(d, dr_cur_ptr(&c), dr_cur_avail(&c), depth + 1);
		return 1;
	}
	if (first >> 6)
		return 0;
	dr_cur_skip(&c, (size_t)(first & 0x3f) * 4);	/* options */
	if (dr_cur_err(&c))
		return 0;
	d->stats.tunnel++;
	decode_ethertype(d, proto, dr_cur_ptr(&c), dr_cur_avail(&c), depth + 1);
	return 1;
}

static void decode_udp(struct dr_decoder *d, const uint8_t *p, size_t n, int depth)
{
	struct dr_cursor c;

	d->stats.udp++;
	dr_cur_init(&c, p, n);
	dr_cur_need(&c, 8);
	uint16_t sport = dr_cur_u16(&c), dport = dr_cur_u16(&c), ulen = dr_cur_u16(&c);
	dr_cur_skip(&c, 2);		/* checksum */
	if (dr_cur_err(&c)) {
		d->stats.ip_bad++;
		return;
	}
	const uint8_t *payload = dr_cur_ptr(&c);
	size_t plen = dr_cur_avail(&c);
	if (d->flow_ports && dr_port_test(d->flow_ports, dport)) {
		if (ulen >= 8 && (size_t)ulen - 8 < plen)
			plen = (size_t)ulen - 8;
		d->on_export(d->export_ctx, &d->rec, sport, payload, plen);
		return;
	}
	if ((dport == PORT_VXLAN || dport == PORT_GENEVE) && !dr_port_test(d->dns_ports, dport) &&
	    decode_overlay(d, dport, payload, plen, depth))
		return;
	if (!is_dns(d, sport, dport)) {
		d->stats.other_port++;
		dr_notes_port(&d->notes, IP_UDP, sport);
		if (dport != sport)
			dr_notes_port(&d->notes, IP_UDP, dport);
		return;
	}
	size_t len = plen;
	if (ulen >= 8 && (size_t)ulen - 8 < plen)
		plen = len = (size_t)ulen - 8;	/* trailing padding is not DNS */
	else if (d->sampled && ulen >= 8)
		len = (size_t)ulen - 8;		/* the rest was not sampled */
	d->rec.proto = IP_UDP;
	d->rec.sport = sport;
	d->rec.dport = dport;
	emit_cut(d, payload, (uint32_t)len, (uint32_t)plen);
}

static void decode_tcp(struct dr_decoder *d, const uint8_t *p, size_t n)
{
	struct dr_cursor c;

	d->stats.tcp++;
	dr_cur_init(&c, p, n);
	dr_cur_need(&c, 20);
	uint16_t sport = dr_cur_u16(&c), dport = dr_cur_u16(&c);
	uint32_t seq = dr_cur_u32(&c);
	dr_cur_skip(&c, 4);		/* acknowledgment */
	size_t off = (size_t)(dr_cur_u8(&c) >> 4) * 4;
	uint8_t flags = dr_cur_u8(&c);
	dr_cur_skip(&c, 6);		/* window, checksum, urgent pointer */
	if (dr_cur_err(&c) || off < 20 || off > n) {
		d->stats.ip_bad++;
		return;
	}
	if (!is_dns(d, sport, dport)) {
		d->stats.other_port++;
		dr_notes_port(&d->notes, IP_TCP, sport);
		if (dport != sport)
			dr_notes_port(&d->notes, IP_TCP, dport);
		return;
	}
	if (d->sampled)
		return;		/* one segment of a stream: no message to rebuild */
	dr_cur_skip(&c, off - 20);	/* options: inside the segment, checked above */
	struct dr_tcp_key key;
	memset(&key, 0, sizeof(key));
	key.family = d->rec.family;
	key.sport = sport;
	key.dport = dport;
	memcpy(key.src, d->rec.src, 16);
	memcpy(key.dst, d->rec.dst, 16);
	struct dr_tcp_segment seg = {
		.key = &key, .now_ms = now_ms(d), .seq = seq,
		.syn = (flags & 0x02) != 0, .fin = (flags & 0x01) != 0,
		.rst = (flags & 0x04) != 0, .data = dr_cur_ptr(&c),
		.len = (uint32_t)dr_cur_avail(&c),
	};
	d->rec.proto = IP_TCP;
	d->rec.sport = sport;
	d->rec.dport = dport;
	dr_tcp_add(&d->tcp, &seg, tcp_message, d);
	sync_counts(d);
}

/* GRE (RFC 2784, 2890; version 1 is RFC 2637's enhanced GRE for PPTP). */
static void decode_gre(struct dr_decoder *d, const uint8_t *p, size_t n, int depth)
{
	struct dr_cursor c;

	dr_cur_init(&c, p, n);
	uint16_t fl = dr_cur_u16(&c);
	unsigned proto = dr_cur_u16(&c);
	if (dr_cur_err(&c)) {
		d->stats.ip_bad++;
		return;
	}
	unsigned version = fl & 7;
	if (version > 1) {
		d->stats.other_transport++;
		return;
	}
	if (fl & 0x8000)
		dr_cur_skip(&c, 4);	/* checksum + reserved */
	if (fl & 0x2000)
		dr_cur_skip(&c, 4);	/* key (version 1: payload length + call id) */
	if (fl & 0x1000)
		dr_cur_skip(&c, 4);	/* sequence number */
	if (version == 1 && (fl & 0x0080))
		dr_cur_skip(&c, 4);	/* acknowledgment number */
	if (dr_cur_err(&c)) {
		d->stats.ip_bad++;
		return;
	}
	d->stats.tunnel++;
	decode_ethertype(d, proto, dr_cur_ptr(&c), dr_cur_avail(&c), depth + 1);
}

/* Dispatches on an IP protocol number once the network header is done. */
static void decode_transport(struct dr_decoder *d, unsigned proto,
			     const uint8_t *p, size_t n, int depth)
{
	switch (proto) {
	case IP_UDP:
		decode_udp(d, p, n, depth);
		break;
	case IP_TCP:
		decode_tcp(d, p, n);
		break;
	case IP_IPIP:
	case IP_IPV6:
		if (depth >= MAX_TUNNEL_DEPTH) {
			d->stats.other_transport++;
			break;
		}
		d->stats.tunnel++;
		decode_ip(d, p, n, depth + 1);
		break;
	case IP_GRE:
		if (depth >= MAX_TUNNEL_DEPTH) {
			d->stats.other_transport++;
			break;
		}
		decode_gre(d, p, n, depth);
		break;
	default:
		d->stats.other_transport++;
		break;
	}
}

static void fill_key(struct dr_frag_key *k, const struct dr_record *r,
		     unsigned proto, uint32_t id)
{
	memset(k, 0, sizeof(*k));
	k->family = r->family;
	k->proto = (uint8_t)proto;
	k->id = id;
	memcpy(k->src, r->src, 16);
	memcpy(k->dst, r->dst, 16);
}

/* Hands one IPv4 or IPv6 fragment (key_proto 0 for IPv6) to reassembly.
 * Returns 1 when it completed a datagram: *whole and *wlen give its
 * payload, *next its protocol, and the record says it was reassembled,
 * with the first fragment's TTL and the datagram's length (header_len
 * octets of header added). Returns 0 when it was held or dropped. */
static int add_fragment(struct dr_decoder *d, unsigned key_proto, uint32_t id, uint32_t foff,
			const uint8_t *data, size_t len, int more, uint8_t ttl, uint8_t next_header,
			size_t header_len, const uint8_t **whole, uint32_t *wlen, uint8_t *next)
{
	struct dr_record *r = &d->rec;
	d->stats.frag_seen++;
	if (d->sampled) {	/* one packet of many: nothing to reassemble */
		if (foff) {
			if (next_header == IP_UDP)
				emit_fragment(d, next_header);
			return 0;
		}
		r->fragmented = 1;
		r->ip_ttl = ttl;
		*whole = data;
		*wlen = (uint32_t)len;
		*next = next_header;
		return 1;
	}
	struct dr_frag_key key;
	fill_key(&key, r, key_proto, id);
	struct dr_frag_in in = {
		.key = &key, .now_ms = now_ms(d), .offset = foff,
		.data = data, .len = (uint32_t)len, .more = more,
		.ttl = ttl, .next_header = next_header,
	};
	uint8_t first_ttl;
	int done = dr_frag_add(&d->frag, &in, whole, wlen, &first_ttl, next);
	sync_counts(d);
	if (done != 1)
		return 0;
	d->stats.frag_reassembled++;
	r->fragmented = 1;
	r->ip_ttl = first_ttl;
	r->ip_len = (uint32_t)(*wlen + header_len);
	return 1;
}

/* Walks IPv6 extension headers from `nh` at p; returns the offset of the
 * upper-layer header and sets *proto, or -1 when damaged. A fragment header
 * stops the walk with *proto = IP_FRAGMENT. */
static long ipv6_walk(unsigned *proto, const uint8_t *p, size_t n)
{
	struct dr_cursor c;
	unsigned nh = *proto;

	dr_cur_init(&c, p, n);
	for (int i = 0; i < 16; i++) {
		unsigned next = 0, len = 0;
		switch (nh) {
		case IP_HOPOPT:
		case IP_ROUTING:
		case IP_DSTOPTS:
		case IP_MOBILITY:
		case IP_HIP:
		case IP_SHIM6:
			next = dr_cur_u8(&c);
			len = dr_cur_u8(&c);
			dr_cur_skip(&c, (len + 1) * 8 - 2);
			break;
		case IP_AH:
			next = dr_cur_u8(&c);
			len = dr_cur_u8(&c);
			dr_cur_skip(&c, (len + 2) * 4 - 2);
			break;
		default:
			*proto = nh;
			return (long)c.pos;
		}
		if (dr_cur_err(&c))
			return -1;
		nh = next;
	}
	return -1;
}

static void decode_ipv6(struct dr_decoder *d, const uint8_t *p, size_t n, int depth)
{
	struct dr_record *r = &d->rec;
	struct dr_cursor c;
	uint8_t src[16], dst[16];

	d->stats.ipv6++;
	dr_cur_init(&c, p, n);
	dr_cur_need(&c, 40);
	dr_cur_skip(&c, 4);		/* version, class, flow label */
	size_t plen = dr_cur_u16(&c);
	unsigned proto = dr_cur_u8(&c);
	uint8_t hops = dr_cur_u8(&c);
	dr_cur_copy(&c, src, 16);
	dr_cur_copy(&c, dst, 16);
	if (dr_cur_err(&c)) {
		d->stats.ip_bad++;
		return;
	}
	if (plen + 40 < n)
		n = plen + 40;	/* link-layer padding */
	else if (plen + 40 > n)
		d->stats.ip_short++;
	r->family = 6;
	r->ip_ttl = hops;
	r->ip_len = (uint32_t)(plen + 40);
	memcpy(r->src, src, 16);
	memcpy(r->dst, dst, 16);

	const uint8_t *q = p + 40;
	size_t m = n - 40;
	long off = ipv6_walk(&proto, q, m);
	if (off < 0) {
		d->stats.ip_bad++;
		return;
	}
	q += off;
	m -= (size_t)off;
	if (proto == IP_NONE)
		return;
	if (proto != IP_FRAGMENT) {
		decode_transport(d, proto, q, m, depth);
		return;
	}

	dr_cur_init(&c, q, m);
	unsigned nh = dr_cur_u8(&c);
	dr_cur_skip(&c, 1);		/* reserved */
	uint16_t fo = dr_cur_u16(&c);
	uint32_t id = dr_cur_u32(&c);
	if (dr_cur_err(&c)) {
		d->stats.ip_bad++;
		return;
	}
	const uint8_t *data = dr_cur_ptr(&c);
	size_t dlen = dr_cur_avail(&c);
	uint32_t foff = (uint32_t)(fo >> 3) * 8;
	int more = fo & 1;
	if (foff == 0 && !more) {	/* atomic fragment (RFC 6946) */
		proto = nh;
		off = ipv6_walk(&proto, data, dlen);
		if (off < 0) {
			d->stats.ip_bad++;
			return;
		}
		decode_transport(d, proto, data + off, dlen - (size_t)off, depth);
		return;
	}
	const uint8_t *whole;
	uint32_t wlen;
	uint8_t next;
	if (!add_fragment(d, 0, id, foff, data, dlen, more, hops, (uint8_t)nh, 40, &whole, &wlen,
			  &next))
		return;
	proto = next;
	off = ipv6_walk(&proto, whole, wlen);
	if (off < 0) {
		d->stats.ip_bad++;
		return;
	}
	decode_transport(d, proto, whole + off, wlen - (size_t)off, depth);
}

static void decode_ipv4(struct dr_decoder *d, const uint8_t *p, size_t n, int depth)
{
	struct dr_record *r = &d->rec;
	struct dr_cursor c;
	uint8_t src[4], dst[4];

	d->stats.ipv4++;
	dr_cur_init(&c, p, n);
	dr_cur_need(&c, 20);		/* the fixed header, then its fields */
	size_t hlen = (size_t)(dr_cur_u8(&c) & 0xf) * 4;
	dr_cur_skip(&c, 1);		/* TOS */
	size_t tlen = dr_cur_u16(&c);
	uint16_t id = dr_cur_u16(&c), fo = dr_cur_u16(&c);
	uint8_t ttl = dr_cur_u8(&c);
	unsigned proto = dr_cur_u8(&c);
	dr_cur_skip(&c, 2);		/* checksum */
	dr_cur_copy(&c, src, 4);
	dr_cur_copy(&c, dst, 4);
	if (dr_cur_err(&c) || hlen < 20 || hlen > n || tlen < hlen) {
		d->stats.ip_bad++;
		return;
	}
	if (tlen < n)
		n = tlen;	/* link-layer padding */
	else if (tlen > n)
		d->stats.ip_short++;
	r->family = 4;
	r->ip_ttl = ttl;
	r->ip_len = (uint32_t)tlen;
	memcpy(r->src, src, 4);
	memset(r->src + 4, 0, 12);
	memcpy(r->dst, dst, 4);
	memset(r->dst + 4, 0, 12);

	/* Past the options (inside the datagram, checked above). */
	const uint8_t *payload = p + hlen;
	size_t plen = n - hlen;
	uint32_t foff = (uint32_t)(fo & 0x1fff) * 8;
	int more = (fo & 0x2000) != 0;
	if (!foff && !more) {
		decode_transport(d, proto, payload, plen, depth);
		return;
	}
	const uint8_t *whole;
	uint32_t wlen;
	uint8_t next;
	if (!add_fragment(d, proto, id, foff, payload, plen, more, ttl, (uint8_t)proto, hlen,
			  &whole, &wlen, &next))
		return;
	decode_transport(d, proto, whole, wlen, depth);
}

static void decode_ip(struct dr_decoder *d, const uint8_t *p, size_t n, int depth)
{
	struct dr_cursor c;

	dr_cur_init(&c, p, n);
	unsigned version = dr_cur_u8(&c) >> 4;
	if (dr_cur_err(&c)) {
		d->stats.not_ip++;
		return;
	}
	switch (version) {
	case 4:
		decode_ipv4(d, p, n, depth);
		break;
	case 6:
		decode_ipv6(d, p, n, depth);
		break;
	default:
		d->stats.not_ip++;
		break;
	}
}

static void decode_ppp(struct dr_decoder *d, const uint8_t *p, size_t n, int depth)
{
	struct dr_cursor c;

	dr_cur_init(&c, p, n);
	if (dr_cur_peek_u16(&c) == 0xff03)
		dr_cur_skip(&c, 2);	/* address, control */
	unsigned proto = dr_cur_u8(&c);
	if (!(proto & 1))		/* else protocol field compression */
		proto = proto << 8 | dr_cur_u8(&c);
	if (!dr_cur_err(&c) && (proto == PPP_IPV4 || proto == PPP_IPV6))
		decode_ip(d, dr_cur_ptr(&c), dr_cur_avail(&c), depth);
	else
		d->stats.not_ip++;
}

/* 802.2 LLC: only SNAP carries an ethertype we can follow. */
static void decode_llc(struct dr_decoder *d, const uint8_t *p, size_t n, int depth)
{
	struct dr_cursor c;

	dr_cur_init(&c, p, n);
	unsigned dsap = dr_cur_u8(&c), ssap = dr_cur_u8(&c), control = dr_cur_u8(&c);
	dr_cur_skip(&c, 3);		/* OUI */
	unsigned type = dr_cur_u16(&c);
	if (!dr_cur_err(&c) && dsap == 0xaa && ssap == 0xaa && control == 0x03) {
		decode_ethertype(d, type, dr_cur_ptr(&c), dr_cur_avail(&c), depth);
		return;
	}
	d->stats.not_ip++;
}

static void decode_ethernet(struct dr_decoder *d, const uint8_t *p, size_t n, int depth)
{
	struct dr_cursor c;

	dr_cur_init(&c, p, n);
	dr_cur_skip(&c, 12);		/* destination, source */
	unsigned type = dr_cur_u16(&c);
	if (dr_cur_err(&c)) {
		d->stats.not_ip++;
		return;
	}
	if (type <= 1500) {	/* an 802.3 length: LLC follows */
		decode_llc(d, dr_cur_ptr(&c), dr_cur_avail(&c), depth);
		return;
	}
	decode_ethertype(d, type, dr_cur_ptr(&c), dr_cur_avail(&c), depth);
}

static void decode_ethertype(struct dr_decoder *d, unsigned type,
			     const uint8_t *p, size_t n, int depth)
{
	struct dr_cursor c;

	dr_cur_init(&c, p, n);
	for (int tags = 0; type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD; tags++) {
		dr_cur_skip(&c, 2);	/* tag control */
		type = dr_cur_u16(&c);
		if (dr_cur_err(&c) || tags == MAX_VLAN_TAGS) {
			d->stats.not_ip++;
			return;
		}
	}
	switch (type) {
	case ETH_IPV4:
	case ETH_IPV6:
		decode_ip(d, dr_cur_ptr(&c), dr_cur_avail(&c), depth);
		return;
	case ETH_MPLS:
	case ETH_MPLS_MC:
		for (int i = 0; i < MAX_MPLS_LABELS; i++) {
			uint32_t label = dr_cur_u32(&c);
			if (dr_cur_err(&c))
				break;
			if (label & 0x100) {	/* bottom of stack */
				decode_ip(d, dr_cur_ptr(&c), dr_cur_avail(&c), depth);
				return;
			}
		}
		d->stats.not_ip++;
		return;
	case ETH_PPPOE:
		dr_cur_skip(&c, 6);	/* version/type, code, session, length */
		if (dr_cur_err(&c)) {
			d->stats.not_ip++;
			return;
		}
		decode_ppp(d, dr_cur_ptr(&c), dr_cur_avail(&c), depth);
		return;
	case ETH_PPP:
		decode_ppp(d, dr_cur_ptr(&c), dr_cur_avail(&c), depth);
		return;
	case ETH_TEB:
		if (depth >= MAX_TUNNEL_DEPTH) {
			d->stats.not_ip++;
			return;
		}
		decode_ethernet(d, dr_cur_ptr(&c), dr_cur_avail(&c), depth + 1);
		return;
	default:
		d->stats.not_ip++;
		return;
	}
}

static int null_family_is(uint32_t af, int v6)
{
	if (!v6)
		return af == 2;
	return af == 10 || af == 24 || af == 28 || af == 30;
}

void dr_decoder_packet(struct dr_decoder *d, const struct dr_packet *pkt)
{
	const uint8_t *p = pkt->data;
	size_t n = pkt->caplen;
	struct dr_record *r = &d->rec;
	struct dr_cursor c;
	unsigned type;

	d->stats.frames++;
	d->stats.bytes += pkt->wirelen;
	r->frame = pkt->frame;
	r->file = pkt->file;
	r->ts_sec = pkt->ts_sec;
	r->ts_nsec = pkt->ts_nsec;
	r->wire_len = pkt->wirelen;
	r->fragmented = 0;

	dr_cur_init(&c, p, n);
	switch (pkt->link) {
	case DR_LINK_EXPORT:
		if (!d->on_export) {
			d->stats.link_unsupported++;
			return;
		}
		r->family = pkt->peer[0];
		memset(r->src, 0, sizeof(r->src));
		memcpy(r->src, pkt->peer + 1, r->family == 4 ? 4 : 16);
		d->on_export(d->export_ctx, r, pkt->peer_port, p, n);
		return;
	case DR_LINK_ETHERNET:
		decode_ethernet(d, p, n, 0);
		return;
	case DR_LINK_LINUX_SLL:
		dr_cur_skip(&c, 14);	/* packet type, ARPHRD, address */
		type = dr_cur_u16(&c);
		break;
	case DR_LINK_LINUX_SLL2:
		type = dr_cur_u16(&c);
		dr_cur_skip(&c, 18);	/* reserved .. address */
		break;
	case DR_LINK_C_HDLC:
		dr_cur_skip(&c, 2);	/* address, control */
		type = dr_cur_u16(&c);
		break;
	case DR_LINK_RAW:
	case DR_LINK_RAW_OPENBSD:
	case DR_LINK_RAW_LINKTYPE:
	case DR_LINK_IPV4:
	case DR_LINK_IPV6:
		decode_ip(d, p, n, 0);
		return;
	case DR_LINK_NULL:
	case DR_LINK_LOOP: {
		uint32_t be = dr_cur_u32(&c);
		if (dr_cur_err(&c)) {
			d->stats.not_ip++;
			return;
		}
		uint32_t le = __builtin_bswap32(be);
		uint32_t af = pkt->link == DR_LINK_LOOP ? be : (be < 256 ? be : le);
		unsigned low = be & 0xffff;
		if (null_family_is(af, 0) || null_family_is(af, 1))
			decode_ip(d, dr_cur_ptr(&c), dr_cur_avail(&c), 0);
		else if (low == ETH_IPV4 || low == ETH_IPV6)
			/* Some systems put an ethertype in the low half; tshark
			 * reads such headers the same way. */
			decode_ethertype(d, low, dr_cur_ptr(&c), dr_cur_avail(&c), 0);
		else
			d->stats.not_ip++;
		return;
	}
	case DR_LINK_FDDI:
		dr_cur_skip(&c, 13);	/* frame control, destination, source */
		if (dr_cur_err(&c)) {
			d->stats.not_ip++;
			return;
		}
		decode_llc(d, dr_cur_ptr(&c), dr_cur_avail(&c), 0);
		return;
	case DR_LINK_PPP:
	case DR_LINK_PPP_SERIAL:
		decode_ppp(d, p, n, 0);
		return;
	default:
		d->stats.link_unsupported++;
		dr_notes_link(&d->notes, (uint32_t)pkt->link);
		return;
	}
	/* The link layers that end in an ethertype. */
	if (dr_cur_err(&c)) {
		d->stats.not_ip++;
		return;
	}
	decode_ethertype(d, type, dr_cur_ptr(&c), dr_cur_avail(&c), 0);
}
