/* Packet decoder: from a captured frame to DNS messages.
 *
 * Link layers:
 *   Ethernet   dst(6) src(6) type(2); 802.1Q/802.1ad/QinQ tags (0x8100,
 *              0x88a8, 0x9100) are tag(2) type(2) each; MPLS (0x8847) label
 *              stack of 4 octets each to bottom-of-stack; PPPoE session
 *              (0x8864) 6 octets then a PPP protocol(2)
 *   Linux SLL  packet type(2) ARPHRD(2) addr len(2) addr(8) protocol(2) = 16
 *   Linux SLL2 protocol(2) reserved(2) ifindex(4) ARPHRD(2) type(1)
 *              addr len(1) addr(8) = 20
 *   NULL/LOOP  address family(4), host order (NULL) or network order (LOOP)
 *   RAW, IPV4, IPV6: the IP header itself
 *   PPP, C-HDLC: address/control then protocol(2)
 *   FDDI       frame control(1) dst(6) src(6), then 802.2 LLC/SNAP:
 *              DSAP(1)=0xaa SSAP(1)=0xaa control(1)=3 OUI(3) type(2); the
 *              same LLC/SNAP follows an 802.3 length on Ethernet
 * IPv4: version/IHL(1) TOS(1) length(2) id(2) flags/offset(2) TTL(1)
 *       protocol(1) checksum(2) src(4) dst(4) options
 * IPv6: version/class/label(4) payload length(2) next header(1) hop limit(1)
 *       src(16) dst(16), then extension headers: hop-by-hop(0), routing(43),
 *       destination(60), mobility(135), HIP(139), shim6(140) of (len+1)*8
 *       octets; AH(51) of (len+2)*4; fragment(44) of 8:
 *       next(1) reserved(1) offset/M(2) id(4)
 * Tunnels: IPv4-in-IP (4), IPv6-in-IP (41), GRE (47) version 0 and 1
 *       (flags/version(2) protocol(2) [checksum(4)] [key(4)] [seq(4)] [ack(4)])
 * UDP: src port(2) dst port(2) length(2) checksum(2); VXLAN (port 4789,
 *       flags(1) reserved(3) VNI(3) reserved(1), then Ethernet) and Geneve
 *       (port 6081, version/option length(1) flags(1) protocol(2) VNI(3)
 *       reserved(1) options(4 * option length)) are unwrapped
 * TCP: src port(2) dst port(2) seq(4) ack(4) offset(1) flags(1) window(2)...
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

size_t dr_decoder_mem_budget(const struct dr_decoder *d)
{
	return dr_frag_mem_budget(&d->frag) + dr_tcp_mem_budget(&d->tcp);
}

static void emit(struct dr_decoder *d, const uint8_t *msg, uint32_t len)
{
	struct dr_record *r = &d->rec;
	if (len > DR_DNS_MESSAGE_MAX)	/* a frame larger than any datagram */
		len = DR_DNS_MESSAGE_MAX;
	r->payload = msg;
	r->payload_len = len;
	r->payload_caplen = len;
	r->kind = DR_KIND_DNS;
	r->packets = r->fragmented && d->frag.done_pieces ? d->frag.done_pieces : 1;
	r->bytes = r->ip_len ? r->ip_len : len;
	r->end_sec = r->ts_sec;
	r->end_nsec = r->ts_nsec;
	r->sampling = 1;
	r->keys.ready = 0;
	d->stats.dns_messages++;
	if (dr_dns_parse(msg, len, &r->dns))
		d->stats.dns_malformed++;
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
	if (depth >= MAX_TUNNEL_DEPTH)
		return 0;
	if (dport == PORT_VXLAN && n >= 8 + 14 && (p[0] & 0x08)) {
		d->stats.tunnel++;
		decode_ethernet(d, p + 8, n - 8, depth + 1);
		return 1;
	}
	if (dport == PORT_GENEVE && n >= 8 && (p[0] >> 6) == 0) {
		size_t off = 8 + (size_t)(p[0] & 0x3f) * 4;
		if (off > n)
			return 0;
		d->stats.tunnel++;
		decode_ethertype(d, dr_get16(p + 2), p + off, n - off, depth + 1);
		return 1;
	}
	return 0;
}

static void decode_udp(struct dr_decoder *d, const uint8_t *p, size_t n, int depth)
{
	d->stats.udp++;
	if (n < 8) {
		d->stats.ip_bad++;
		return;
	}
	uint16_t sport = dr_get16(p), dport = dr_get16(p + 2), ulen = dr_get16(p + 4);
	if ((dport == PORT_VXLAN || dport == PORT_GENEVE) && !dr_port_test(d->dns_ports, dport) &&
	    decode_overlay(d, dport, p + 8, n - 8, depth))
		return;
	if (!is_dns(d, sport, dport)) {
		d->stats.other_port++;
		dr_notes_port(&d->notes, IP_UDP, sport);
		if (dport != sport)
			dr_notes_port(&d->notes, IP_UDP, dport);
		return;
	}
	size_t plen = n - 8;
	if (ulen >= 8 && (size_t)ulen - 8 < plen)
		plen = (size_t)ulen - 8;	/* trailing padding is not DNS */
	d->rec.proto = IP_UDP;
	d->rec.sport = sport;
	d->rec.dport = dport;
	emit(d, p + 8, (uint32_t)plen);
}

static void decode_tcp(struct dr_decoder *d, const uint8_t *p, size_t n)
{
	d->stats.tcp++;
	if (n < 20) {
		d->stats.ip_bad++;
		return;
	}
	uint16_t sport = dr_get16(p), dport = dr_get16(p + 2);
	size_t off = (size_t)(p[12] >> 4) * 4;
	if (off < 20 || off > n) {
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
	struct dr_tcp_key key;
	memset(&key, 0, sizeof(key));
	key.family = d->rec.family;
	key.sport = sport;
	key.dport = dport;
	memcpy(key.src, d->rec.src, 16);
	memcpy(key.dst, d->rec.dst, 16);
	uint8_t flags = p[13];
	struct dr_tcp_segment seg = {
		.key = &key, .now_ms = now_ms(d), .seq = dr_get32(p + 4),
		.syn = (flags & 0x02) != 0, .fin = (flags & 0x01) != 0,
		.rst = (flags & 0x04) != 0, .data = p + off, .len = (uint32_t)(n - off),
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
	if (n < 4) {
		d->stats.ip_bad++;
		return;
	}
	uint16_t fl = dr_get16(p);
	unsigned version = fl & 7;
	size_t off = 4;
	if (version > 1) {
		d->stats.other_transport++;
		return;
	}
	if (fl & 0x8000)
		off += 4;	/* checksum + reserved */
	if (fl & 0x2000)
		off += 4;	/* key (version 1: payload length + call id) */
	if (fl & 0x1000)
		off += 4;	/* sequence number */
	if (version == 1 && (fl & 0x0080))
		off += 4;	/* acknowledgment number */
	if (off > n) {
		d->stats.ip_bad++;
		return;
	}
	d->stats.tunnel++;
	decode_ethertype(d, dr_get16(p + 2), p + off, n - off, depth + 1);
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

/* Walks IPv6 extension headers from `nh` at p; returns the offset of the
 * upper-layer header and sets *proto, or -1 when damaged. A fragment header
 * stops the walk with *proto = IP_FRAGMENT. */
static long ipv6_walk(struct dr_decoder *d, unsigned *proto, const uint8_t *p, size_t n)
{
	size_t off = 0;
	unsigned nh = *proto;

	for (int i = 0; i < 16; i++) {
		size_t hlen;
		switch (nh) {
		case IP_HOPOPT:
		case IP_ROUTING:
		case IP_DSTOPTS:
		case IP_MOBILITY:
		case IP_HIP:
		case IP_SHIM6:
			if (n - off < 8)
				return -1;
			hlen = ((size_t)p[off + 1] + 1) * 8;
			break;
		case IP_AH:
			if (n - off < 8)
				return -1;
			hlen = ((size_t)p[off + 1] + 2) * 4;
			break;
		default:
			*proto = nh;
			return (long)off;
		}
		if (hlen > n - off)
			return -1;
		nh = p[off];
		off += hlen;
	}
	(void)d;
	return -1;
}

static void decode_ipv6(struct dr_decoder *d, const uint8_t *p, size_t n, int depth)
{
	struct dr_record *r = &d->rec;

	d->stats.ipv6++;
	if (n < 40) {
		d->stats.ip_bad++;
		return;
	}
	size_t plen = dr_get16(p + 4);
	if (plen + 40 < n)
		n = plen + 40;	/* link-layer padding */
	else if (plen + 40 > n)
		d->stats.ip_short++;
	r->family = 6;
	r->ip_ttl = p[7];
	r->ip_len = (uint32_t)(plen + 40);
	memcpy(r->src, p + 8, 16);
	memcpy(r->dst, p + 24, 16);

	unsigned proto = p[6];
	const uint8_t *q = p + 40;
	size_t m = n - 40;
	long off = ipv6_walk(d, &proto, q, m);
	if (off < 0) {
		d->stats.ip_bad++;
		return;
	}
	q += off;
	m -= (size_t)off;
	if (proto == IP_FRAGMENT) {
		if (m < 8) {
			d->stats.ip_bad++;
			return;
		}
		uint16_t fo = dr_get16(q + 2);
		unsigned nh = q[0];
		uint32_t foff = (uint32_t)(fo >> 3) * 8;
		int more = fo & 1;
		if (foff == 0 && !more) {	/* atomic fragment (RFC 6946) */
			proto = nh;
			off = ipv6_walk(d, &proto, q + 8, m - 8);
			if (off < 0) {
				d->stats.ip_bad++;
				return;
			}
			decode_transport(d, proto, q + 8 + off, m - 8 - (size_t)off, depth);
			return;
		}
		d->stats.frag_seen++;
		struct dr_frag_key key;
		fill_key(&key, r, 0, dr_get32(q + 4));
		struct dr_frag_in in = {
			.key = &key, .now_ms = now_ms(d), .offset = foff,
			.data = q + 8, .len = (uint32_t)(m - 8), .more = more,
			.ttl = p[7], .next_header = (uint8_t)nh,
		};
		const uint8_t *whole;
		uint32_t wlen;
		uint8_t ttl, next;
		if (dr_frag_add(&d->frag, &in, &whole, &wlen, &ttl, &next) != 1) {
			sync_counts(d);
			return;
		}
		sync_counts(d);
		d->stats.frag_reassembled++;
		r->fragmented = 1;
		r->ip_ttl = ttl;
		r->ip_len = wlen + 40;
		proto = next;
		off = ipv6_walk(d, &proto, whole, wlen);
		if (off < 0) {
			d->stats.ip_bad++;
			return;
		}
		decode_transport(d, proto, whole + off, wlen - (size_t)off, depth);
		return;
	}
	if (proto == IP_NONE)
		return;
	decode_transport(d, proto, q, m, depth);
}

static void decode_ipv4(struct dr_decoder *d, const uint8_t *p, size_t n, int depth)
{
	struct dr_record *r = &d->rec;

	d->stats.ipv4++;
	if (n < 20) {
		d->stats.ip_bad++;
		return;
	}
	size_t hlen = (size_t)(p[0] & 0xf) * 4;
	size_t tlen = dr_get16(p + 2);
	if (hlen < 20 || hlen > n || tlen < hlen) {
		d->stats.ip_bad++;
		return;
	}
	if (tlen < n)
		n = tlen;	/* link-layer padding */
	else if (tlen > n)
		d->stats.ip_short++;
	r->family = 4;
	r->ip_ttl = p[8];
	r->ip_len = (uint32_t)tlen;
	memcpy(r->src, p + 12, 4);
	memset(r->src + 4, 0, 12);
	memcpy(r->dst, p + 16, 4);
	memset(r->dst + 4, 0, 12);

	unsigned proto = p[9];
	uint16_t fo = dr_get16(p + 6);
	uint32_t foff = (uint32_t)(fo & 0x1fff) * 8;
	int more = (fo & 0x2000) != 0;
	if (foff || more) {
		d->stats.frag_seen++;
		struct dr_frag_key key;
		fill_key(&key, r, proto, dr_get16(p + 4));
		struct dr_frag_in in = {
			.key = &key, .now_ms = now_ms(d), .offset = foff,
			.data = p + hlen, .len = (uint32_t)(n - hlen), .more = more,
			.ttl = p[8], .next_header = (uint8_t)proto,
		};
		const uint8_t *whole;
		uint32_t wlen;
		uint8_t ttl, next;
		int done = dr_frag_add(&d->frag, &in, &whole, &wlen, &ttl, &next);
		sync_counts(d);
		if (done != 1)
			return;
		d->stats.frag_reassembled++;
		r->fragmented = 1;
		r->ip_ttl = ttl;
		r->ip_len = (uint32_t)(wlen + hlen);
		decode_transport(d, proto, whole, wlen, depth);
		return;
	}
	decode_transport(d, proto, p + hlen, n - hlen, depth);
}

static void decode_ip(struct dr_decoder *d, const uint8_t *p, size_t n, int depth)
{
	if (n < 1) {
		d->stats.not_ip++;
		return;
	}
	switch (p[0] >> 4) {
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
	if (n >= 2 && p[0] == 0xff && p[1] == 0x03) {
		p += 2;
		n -= 2;
	}
	unsigned proto;
	if (n >= 1 && (p[0] & 1)) {	/* protocol field compression */
		proto = p[0];
		p += 1;
		n -= 1;
	} else if (n >= 2) {
		proto = dr_get16(p);
		p += 2;
		n -= 2;
	} else {
		d->stats.not_ip++;
		return;
	}
	if (proto == PPP_IPV4 || proto == PPP_IPV6)
		decode_ip(d, p, n, depth);
	else
		d->stats.not_ip++;
}

/* 802.2 LLC: only SNAP carries an ethertype we can follow. */
static void decode_llc(struct dr_decoder *d, const uint8_t *p, size_t n, int depth)
{
	if (n >= 8 && p[0] == 0xaa && p[1] == 0xaa && p[2] == 0x03) {
		decode_ethertype(d, dr_get16(p + 6), p + 8, n - 8, depth);
		return;
	}
	d->stats.not_ip++;
}

static void decode_ethernet(struct dr_decoder *d, const uint8_t *p, size_t n, int depth)
{
	if (n < 14) {
		d->stats.not_ip++;
		return;
	}
	unsigned type = dr_get16(p + 12);
	if (type <= 1500) {	/* an 802.3 length: LLC follows */
		decode_llc(d, p + 14, n - 14, depth);
		return;
	}
	decode_ethertype(d, type, p + 14, n - 14, depth);
}

static void decode_ethertype(struct dr_decoder *d, unsigned type,
			     const uint8_t *p, size_t n, int depth)
{
	for (int tags = 0; type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD; tags++) {
		if (n < 4 || tags == MAX_VLAN_TAGS) {
			d->stats.not_ip++;
			return;
		}
		type = dr_get16(p + 2);
		p += 4;
		n -= 4;
	}
	switch (type) {
	case ETH_IPV4:
	case ETH_IPV6:
		decode_ip(d, p, n, depth);
		return;
	case ETH_MPLS:
	case ETH_MPLS_MC:
		for (int i = 0; i < MAX_MPLS_LABELS; i++) {
			if (n < 4)
				break;
			int bottom = p[2] & 1;
			p += 4;
			n -= 4;
			if (bottom) {
				decode_ip(d, p, n, depth);
				return;
			}
		}
		d->stats.not_ip++;
		return;
	case ETH_PPPOE:
		if (n < 6) {
			d->stats.not_ip++;
			return;
		}
		decode_ppp(d, p + 6, n - 6, depth);
		return;
	case ETH_PPP:
		decode_ppp(d, p, n, depth);
		return;
	case ETH_TEB:
		if (depth >= MAX_TUNNEL_DEPTH) {
			d->stats.not_ip++;
			return;
		}
		decode_ethernet(d, p, n, depth + 1);
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

	d->stats.frames++;
	d->stats.bytes += pkt->wirelen;
	r->frame = pkt->frame;
	r->file = pkt->file;
	r->ts_sec = pkt->ts_sec;
	r->ts_nsec = pkt->ts_nsec;
	r->wire_len = pkt->wirelen;
	r->fragmented = 0;

	switch (pkt->link) {
	case DR_LINK_ETHERNET:
		decode_ethernet(d, p, n, 0);
		return;
	case DR_LINK_LINUX_SLL:
		if (n < 16) {
			d->stats.not_ip++;
			return;
		}
		decode_ethertype(d, dr_get16(p + 14), p + 16, n - 16, 0);
		return;
	case DR_LINK_LINUX_SLL2:
		if (n < 20) {
			d->stats.not_ip++;
			return;
		}
		decode_ethertype(d, dr_get16(p), p + 20, n - 20, 0);
		return;
	case DR_LINK_RAW:
	case DR_LINK_RAW_OPENBSD:
	case DR_LINK_RAW_LINKTYPE:
	case DR_LINK_IPV4:
	case DR_LINK_IPV6:
		decode_ip(d, p, n, 0);
		return;
	case DR_LINK_NULL:
	case DR_LINK_LOOP: {
		if (n < 4) {
			d->stats.not_ip++;
			return;
		}
		uint32_t be = dr_get32(p);
		uint32_t le = (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
			      (uint32_t)p[1] << 8 | p[0];
		uint32_t af = pkt->link == DR_LINK_LOOP ? be : (be < 256 ? be : le);
		unsigned low = be & 0xffff;
		if (null_family_is(af, 0) || null_family_is(af, 1))
			decode_ip(d, p + 4, n - 4, 0);
		else if (low == ETH_IPV4 || low == ETH_IPV6)
			/* Some systems put an ethertype in the low half; tshark
			 * reads such headers the same way. */
			decode_ethertype(d, low, p + 4, n - 4, 0);
		else
			d->stats.not_ip++;
		return;
	}
	case DR_LINK_FDDI:
		if (n < 13) {
			d->stats.not_ip++;
			return;
		}
		decode_llc(d, p + 13, n - 13, 0);
		return;
	case DR_LINK_PPP:
	case DR_LINK_PPP_SERIAL:
		decode_ppp(d, p, n, 0);
		return;
	case DR_LINK_C_HDLC:
		if (n < 4) {
			d->stats.not_ip++;
			return;
		}
		decode_ethertype(d, dr_get16(p + 2), p + 4, n - 4, 0);
		return;
	default:
		d->stats.link_unsupported++;
		dr_notes_link(&d->notes, (uint32_t)pkt->link);
		return;
	}
}
