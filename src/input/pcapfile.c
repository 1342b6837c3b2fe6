/* pcap and pcapng reader.
 *
 * pcap (all fields in the writer's byte order, told by the magic):
 *   offset size  file header
 *        0    4  magic: a1b2c3d4 (us), a1b23c4d (ns), a1b2cd34 (modified)
 *        4    2  major version (2)    6  2  minor version (4)
 *        8    4  thiszone            12  4  sigfigs
 *       16    4  snaplen             20  4  link type (low 16 bits)
 *   record: ts_sec(4) ts_frac(4) incl_len(4) orig_len(4)
 *           [modified format: ifindex(4) protocol(2) type(1) pad(1)]
 *           then incl_len bytes
 * pcapng (blocks; the section header's byte-order magic gives the order):
 *   block: type(4) total_length(4) body total_length(4), padded to 4
 *   0x0a0d0d0a section header: bom 1a2b3c4d(4) major(2) minor(2) length(8)
 *   0x00000001 interface description: link type(2) reserved(2) snaplen(4)
 *              options; if_tsresol (9): 1 byte, 10^-n or 2^-n (top bit);
 *              if_tsoffset (14): 8 bytes of seconds
 *   0x00000006 enhanced packet: interface(4) ts high(4) ts low(4)
 *              captured(4) original(4) data
 *   0x00000003 simple packet: original(4) data (interface 0)
 *   0x00000002 packet (obsolete): interface(2) drops(2) ts high(4)
 *              ts low(4) captured(4) original(4) data
 *   other blocks are skipped; options: code(2) length(2) value, padded
 */
#include "input/pcapfile.h"

#include <stdlib.h>
#include <string.h>

#define STREAM_CHUNK (1u << 20)
#define NG_SHB 0x0a0d0d0au
#define NG_IDB 1u
#define NG_OPB 2u
#define NG_SPB 3u
#define NG_EPB 6u
#define NG_BOM 0x1a2b3c4du

static uint32_t rd32(const struct dr_pcapfile *f, const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return f->swap ? __builtin_bswap32(v) : v;
}

static uint16_t rd16(const struct dr_pcapfile *f, const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return f->swap ? __builtin_bswap16(v) : v;
}

/* Makes n bytes available at data + pos. Returns 1, or 0 when the input
 * ends first (fewer bytes remain). */
static int need(struct dr_pcapfile *f, size_t n)
{
	if (f->len - f->pos >= n)
		return 1;
	if (f->map || f->eof)
		return 0;
	if (f->hold) {	/* records handed over live in the window */
		f->blocked = 1;
		return 0;
	}
	/* Move the rest to the front and read more. In a stream, data is
	 * always buf: after growing it, the rest is at the same offset of
	 * the new buffer. */
	size_t rest = f->len - f->pos;
	if (n > f->buf_cap) {
		size_t cap = f->buf_cap;
		while (cap < n)
			cap *= 2;
		uint8_t *b = realloc(f->buf, cap);
		if (!b)
			return 0;
		f->buf = b;
		f->data = b;
		f->buf_cap = cap;
	}
	memmove(f->buf, f->data + f->pos, rest);
	f->window_off += f->pos;
	f->data = f->buf;
	f->pos = 0;
	f->len = rest;
	while (f->len < n && !f->eof) {
		size_t want = f->buf_cap - f->len;
		size_t got = fread(f->buf + f->len, 1, want, f->fp);
		f->len += got;
		if (got == 0)
			f->eof = 1;
	}
	return f->len >= n;
}

static int fail(struct dr_pcapfile *f, const char *why)
{
	snprintf(f->error, sizeof(f->error), "%s", why);
	return -1;
}

static int cut_short(struct dr_pcapfile *f)
{
	if (f->fp && ferror(f->fp))
		return fail(f, "read error");
	snprintf(f->error, sizeof(f->error),
		 "capture cut short in the middle of packet %llu (at byte offset %llu)",
		 (unsigned long long)f->packets + 1, (unsigned long long)f->record_off);
	return -1;
}

static int open_header(struct dr_pcapfile *f, const uint8_t *map, size_t len, FILE *fp);

int dr_pcapfile_open(struct dr_pcapfile *f, const uint8_t *map, size_t len, FILE *fp)
{
	int rc = open_header(f, map, len, fp);
	if (rc < 0) {	/* a failed open holds nothing */
		free(f->buf);
		f->buf = NULL;
	}
	return rc;
}

static int open_header(struct dr_pcapfile *f, const uint8_t *map, size_t len, FILE *fp)
{
	memset(f, 0, sizeof(*f));
	if (map) {
		f->map = map;
		f->map_len = len;
		f->data = map;
		f->len = len;
	} else {
		f->fp = fp;
		f->buf_cap = STREAM_CHUNK;
		f->buf = malloc(f->buf_cap);
		if (!f->buf)
			return fail(f, "out of memory");
		f->data = f->buf;
	}
	if (!need(f, 4))
		return fail(f, f->len == 0 ? "the file is empty; it holds no capture"
					   : "not a pcap or pcapng capture (too short)");
	uint32_t magic;
	memcpy(&magic, f->data, 4);
	if (magic == NG_SHB) {
		f->ng = 1;
		if (!need(f, 12))
			return fail(f, "the capture's file header is cut short");
		uint32_t bom;
		memcpy(&bom, f->data + 8, 4);
		if (bom == __builtin_bswap32(NG_BOM))
			f->swap = 1;
		else if (bom != NG_BOM)
			return fail(f, "not a pcapng capture (bad byte-order magic)");
		if (!need(f, 14))
			return fail(f, "the capture's file header is cut short");
		if (rd16(f, f->data + 12) != 1)
			return fail(f, "a pcapng version this reader does not know (major version is not 1)");
		return 0;	/* the section header is read as a block */
	}
	switch (magic) {
	case 0xa1b2c3d4: break;
	case 0xa1b23c4d: f->nano = 1; break;
	case 0xa1b2cd34: f->extra16 = 1; break;
	case 0xd4c3b2a1: f->swap = 1; break;
	case 0x4d3cb2a1: f->swap = 1; f->nano = 1; break;
	case 0x34cdb2a1: f->swap = 1; f->extra16 = 1; break;
	default:
		return fail(f, "not a pcap or pcapng capture (unknown file format)");
	}
	if (!need(f, 24))
		return fail(f, "the capture's file header is cut short");
	f->snaplen = rd32(f, f->data + 16);
	f->linktype = rd32(f, f->data + 20) & 0xffff;
	f->pos = 24;
	return 0;
}

static int next_pcap(struct dr_pcapfile *f, struct dr_pcap_record *rec)
{
	size_t hlen = f->extra16 ? 24 : 16;
	f->record_off = dr_pcapfile_offset(f);
	f->blocked = 0;
	if (!need(f, hlen)) {
		if (f->blocked)
			return DR_PCAP_AGAIN;
		if (f->len == f->pos)
			return 0;
		return cut_short(f);
	}
	const uint8_t *h = f->data + f->pos;
	uint32_t caplen = rd32(f, h + 8);
	if (caplen > DR_PCAP_MAX_PACKET) {
		snprintf(f->error, sizeof(f->error),
			 "packet %llu claims %u captured bytes (at byte offset %llu); "
			 "the file is damaged", (unsigned long long)f->packets + 1, caplen,
			 (unsigned long long)f->record_off);
		return -1;
	}
	if (!need(f, hlen + caplen))
		return f->blocked ? DR_PCAP_AGAIN : cut_short(f);
	h = f->data + f->pos;
	rec->ts_sec = rd32(f, h);
	uint32_t frac = rd32(f, h + 4);
	rec->ts_nsec = f->nano ? frac : frac * 1000;
	rec->caplen = caplen;
	rec->len = rd32(f, h + 12);
	if (rec->len < caplen)
		rec->len = caplen;
	rec->linktype = f->linktype;
	rec->data = h + hlen;
	f->pos += hlen + caplen;
	f->packets++;
	return 1;
}

/* Reads the options of an interface description block. */
static void read_idb_options(struct dr_pcapfile *f, struct dr_pcap_iface *ifc,
			     const uint8_t *p, size_t n)
{
	while (n >= 4) {
		uint16_t code = rd16(f, p), olen = rd16(f, p + 2);
		size_t padded = ((size_t)olen + 3) & ~(size_t)3;
		if (code == 0 || 4 + padded > n)
			break;
		if (code == 9 && olen >= 1) {
			uint8_t r = p[4];
			uint64_t units = 1;
			unsigned exp = r & 0x7f;
			if (r & 0x80) {
				units = exp < 64 ? 1ull << exp : 0;
			} else {
				for (unsigned i = 0; i < exp && units; i++)
					units = units > UINT64_MAX / 10 ? 0 : units * 10;
			}
			if (units)
				ifc->units = units;
		} else if (code == 14 && olen == 8) {
			uint64_t v;	/* a 64-bit integer in the section's order */
			memcpy(&v, p + 4, 8);
			ifc->offset = (int64_t)(f->swap ? __builtin_bswap64(v) : v);
		}
		p += 4 + padded;
		n -= 4 + padded;
	}
}

static int add_iface(struct dr_pcapfile *f, const uint8_t *body, size_t n)
{
	if (n < 8)
		return fail(f, "an interface description block is too short; the file is damaged");
	if (f->nifaces == DR_PCAPNG_MAX_IFACES)
		return fail(f, "more than 65536 interfaces; the file is damaged");
	if (f->nifaces == f->ifaces_cap) {
		uint32_t cap = f->ifaces_cap ? f->ifaces_cap * 2 : 8;
		struct dr_pcap_iface *a = realloc(f->ifaces, cap * sizeof(*a));
		if (!a)
			return fail(f, "out of memory");
		f->ifaces = a;
		f->ifaces_cap = cap;
	}
	struct dr_pcap_iface *ifc = &f->ifaces[f->nifaces++];
	ifc->linktype = rd16(f, body);
	ifc->snaplen = rd32(f, body + 4);
	ifc->units = 1000000;
	ifc->offset = 0;
	read_idb_options(f, ifc, body + 8, n - 8);
	return 0;
}

static void ng_time(const struct dr_pcap_iface *ifc, uint32_t hi, uint32_t lo,
		    struct dr_pcap_record *rec)
{
	uint64_t t = (uint64_t)hi << 32 | lo;
	uint64_t sec = t / ifc->units, frac = t % ifc->units;
	rec->ts_sec = (int64_t)sec + ifc->offset;
	rec->ts_nsec = (uint32_t)((unsigned __int128)frac * 1000000000u / ifc->units);
}

static int damaged(struct dr_pcapfile *f, const char *what)
{
	snprintf(f->error, sizeof(f->error), "%s (block at byte offset %llu); the file is damaged",
		 what, (unsigned long long)f->record_off);
	return -1;
}

static int next_pcapng(struct dr_pcapfile *f, struct dr_pcap_record *rec)
{
	for (;;) {
		f->record_off = dr_pcapfile_offset(f);
		f->blocked = 0;
		if (!need(f, 12)) {
			if (f->blocked)
				return DR_PCAP_AGAIN;
			if (f->len == f->pos)
				return 0;
			return cut_short(f);
		}
		const uint8_t *b = f->data + f->pos;
		uint32_t type;
		memcpy(&type, b, 4);
		if (type == NG_SHB) {
			/* A new section may switch byte order. */
			uint32_t bom;
			memcpy(&bom, b + 8, 4);
			if (bom == NG_BOM)
				f->swap = 0;
			else if (bom == __builtin_bswap32(NG_BOM))
				f->swap = 1;
			else
				return damaged(f, "bad byte-order magic in a section header");
			f->nifaces = 0;
		} else {
			type = rd32(f, b);
		}
		uint32_t total = rd32(f, b + 4);
		if (total < 12 || total % 4 || total > DR_PCAP_MAX_PACKET)
			return damaged(f, "bad block length");
		if (!need(f, total))
			return f->blocked ? DR_PCAP_AGAIN : cut_short(f);
		b = f->data + f->pos;
		const uint8_t *body = b + 8;
		size_t n = total - 12;
		if (type == NG_SHB && (n < 16 || rd16(f, body + 4) != 1))
			return damaged(f, "a section header too short or of an unknown pcapng version");
		f->pos += total;

		uint32_t ifid, caplen, len, hi, lo;
		const uint8_t *pkt;
		switch (type) {
		case NG_IDB:
			if (add_iface(f, body, n) < 0)
				return -1;
			continue;
		case NG_EPB:
		case NG_OPB:
			/* Same layout past the interface: EPB has a 4-octet
			 * interface id, the obsolete block 2 octets + drops. */
			if (n < 20)
				return damaged(f, "a packet block is too short");
			ifid = type == NG_EPB ? rd32(f, body) : rd16(f, body);
			hi = rd32(f, body + 4);
			lo = rd32(f, body + 8);
			caplen = rd32(f, body + 12);
			len = rd32(f, body + 16);
			pkt = body + 20;
			if (caplen > n - 20)
				return damaged(f, "a packet runs past its block");
			break;
		case NG_SPB:
			if (n < 4)
				return damaged(f, "a simple packet block is too short");
			ifid = 0;
			hi = lo = 0;
			len = rd32(f, body);
			caplen = (uint32_t)(n - 4);
			if (len < caplen)
				caplen = len;
			pkt = body + 4;
			break;
		default:
			continue;	/* statistics, name resolution, custom... */
		}
		f->packets++;
		if (ifid >= f->nifaces) {
			snprintf(f->error, sizeof(f->error),
				 "packet %llu names interface %u, which was never described "
				 "(block at byte offset %llu); the file is damaged",
				 (unsigned long long)f->packets, ifid,
				 (unsigned long long)f->record_off);
			return -1;
		}
		const struct dr_pcap_iface *ifc = &f->ifaces[ifid];
		if (type == NG_SPB && ifc->snaplen && caplen > ifc->snaplen)
			caplen = ifc->snaplen;
		ng_time(ifc, hi, lo, rec);
		rec->data = pkt;
		rec->caplen = caplen;
		rec->len = len < caplen ? caplen : len;
		rec->linktype = ifc->linktype;
		return 1;
	}
}

int dr_pcapfile_next(struct dr_pcapfile *f, struct dr_pcap_record *rec)
{
	return f->ng ? next_pcapng(f, rec) : next_pcap(f, rec);
}

void dr_pcapfile_close(struct dr_pcapfile *f)
{
	free(f->buf);
	free(f->ifaces);
	memset(f, 0, sizeof(*f));
}
