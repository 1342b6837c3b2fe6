/* DNS message parser (RFC 1035, RFC 6891). Reads through memory only, with
 * every access checked against the message length.
 *
 * Wire format:
 *   offset size  field
 *        0    2  ID
 *        2    2  flags: QR(1) OPCODE(4) AA TC RD RA Z AD CD RCODE(4)
 *        4    2  QDCOUNT
 *        6    2  ANCOUNT
 *        8    2  NSCOUNT
 *       10    2  ARCOUNT
 *       12       QDCOUNT questions:  NAME, TYPE(2), CLASS(2)
 *                then AN+NS+AR RRs: NAME, TYPE(2), CLASS(2), TTL(4),
 *                                   RDLENGTH(2), RDATA(RDLENGTH)
 *   NAME: labels of 1..63 octets each preceded by its length (top bits 00),
 *         ended by a zero octet or by a 2-octet pointer (top bits 11, 14-bit
 *         offset from the start of the message); 01 and 10 are reserved.
 *         At most 255 octets once uncompressed.
 *   OPT RR (TYPE 41, owner the root): CLASS = UDP payload size;
 *         TTL = EXTENDED-RCODE(8) VERSION(8) DO(1) Z(15);
 *         RDATA = { OPTION-CODE(2) OPTION-LENGTH(2) OPTION-DATA }...
 */
#include "decode/dns.h"

#include <string.h>

#include "lib/cursor.h"

#define DNS_HEADER_LEN 12
#define TYPE_OPT 41
/* A legitimate name has at most 127 labels, so at most 127 pointers. */
#define MAX_POINTER_HOPS 127

#define NAME_CACHE 8

/* Names of this message already walked and found good: a pointer to one
 * (the usual "c0 0c" to the question) need not be walked again. */
struct name_cache {
	unsigned n;
	uint16_t off[NAME_CACHE];
	uint16_t len[NAME_CACHE];	/* uncompressed length, root included */
};

static void cache_add(struct name_cache *nc, size_t off, size_t len)
{
	if (off >= 0x4000)
		return;	/* no pointer can reach it */
	for (unsigned i = 0; i < nc->n; i++)
		if (nc->off[i] == off)
			return;
	unsigned slot = nc->n < NAME_CACHE ? nc->n++ : off % NAME_CACHE;
	nc->off[slot] = (uint16_t)off;
	nc->len[slot] = (uint16_t)len;
}

static int cache_len(const struct name_cache *nc, size_t off)
{
	for (unsigned i = 0; i < nc->n; i++)
		if (nc->off[i] == off)
			return nc->len[i];
	return -1;
}

/* Reads the name at *pos. When out is not NULL the uncompressed wire form
 * is copied there (DR_NAME_MAX bytes) and its length stored in *out_len.
 * On success *pos is advanced past the name's octets at its own place.
 * Returns 0 or an enum dr_malformed reason, with *fault_at set. */
static int read_name(const uint8_t *msg, size_t len, size_t *pos,
		     uint8_t *out, uint8_t *out_len, size_t *fault_at,
		     struct name_cache *nc)
{
	size_t p = *pos;
	size_t resume = 0;	/* where the caller continues, once known */
	size_t total = 0;	/* uncompressed octets so far */
	size_t first_target = 0, before_jump = 0;
	unsigned hops = 0;
	uint16_t visited[MAX_POINTER_HOPS];	/* pointer targets followed */

	for (;;) {
		/* A run of ordinary labels is walked by its length octets
		 * alone and copied in one piece. */
		size_t run = p;
		uint8_t b;
		for (;;) {
			if (p >= len) {
				*fault_at = p;
				return DR_MAL_TRUNCATED;
			}
			b = msg[p];
			if (b == 0 || (b & 0xc0))
				break;
			if (p + 1 + b > len) {
				*fault_at = p;
				return DR_MAL_TRUNCATED;
			}
			/* + 1 for the root label still to come */
			if (total + (p - run) + 1 + b + 1 > DR_NAME_MAX) {
				*fault_at = p;
				return DR_MAL_NAME_TOO_LONG;
			}
			p += 1 + (size_t)b;
		}
		if (p > run) {
			if (out)
				memcpy(out + total, msg + run, p - run);
			total += p - run;
		}
		if (b == 0) {
			if (out)
				out[total] = 0;
			total++;
			if (!hops)
				resume = p + 1;
			break;
		}
		switch (b & 0xc0) {
		case 0xc0: {
			if (p + 1 >= len) {
				*fault_at = p;
				return DR_MAL_TRUNCATED;
			}
			size_t target = (size_t)(b & 0x3f) << 8 | msg[p + 1];
			if (!hops)
				resume = p + 2;
			if (target >= len) {
				*fault_at = p;
				return DR_MAL_BAD_POINTER;
			}
			/* Following a target twice means a loop; a chain longer
			 * than any real name can need is one too. */
			for (unsigned i = 0; i < hops; i++) {
				if (visited[i] == target) {
					*fault_at = p;
					return DR_MAL_POINTER_LOOP;
				}
			}
			if (hops == MAX_POINTER_HOPS) {
				*fault_at = p;
				return DR_MAL_POINTER_LOOP;
			}
			if (!out) {
				int known = cache_len(nc, target);
				if (known >= 0) {
					if (total + (size_t)known > DR_NAME_MAX) {
						*fault_at = p;
						return DR_MAL_NAME_TOO_LONG;
					}
					total += (size_t)known;
					goto done;
				}
			}
			if (!hops) {
				first_target = target;
				before_jump = total;
			}
			visited[hops++] = (uint16_t)target;
			p = target;
			break;
		}
		default:
			*fault_at = p;
			return DR_MAL_BAD_LABEL;
		}
	}
	if (hops)
		cache_add(nc, first_target, total - before_jump);
done:
	cache_add(nc, *pos, total);
	if (out_len)
		*out_len = (uint8_t)total;
	*pos = resume;
	return DR_MAL_NONE;
}

static void note_option(struct dr_dns *d, uint16_t code)
{
	for (unsigned i = 0; i < d->edns_nopts; i++)
		if (d->edns_opts[i] == code)
			return;
	if (d->edns_nopts < DR_EDNS_OPTS_MAX)
		d->edns_opts[d->edns_nopts++] = code;
}

static void read_opt(struct dr_dns *d, uint16_t udp, uint32_t ttl,
		     const uint8_t *rdata, size_t rdlen)
{
	if (d->edns)
		return;		/* only the first OPT counts (RFC 6891 6.1.1) */
	d->edns = 1;
	d->edns_udp = udp;
	d->rcode_ext = (uint16_t)((ttl >> 24) << 4 | (d->flags & 0xf));
	d->edns_version = (uint8_t)(ttl >> 16);
	d->edns_do = (ttl >> 15) & 1;

	struct dr_cursor c;
	dr_cur_init(&c, rdata, rdlen);
	while (dr_cur_avail(&c) >= 4) {
		uint16_t code = dr_cur_u16(&c);
		uint16_t olen = dr_cur_u16(&c);
		dr_cur_skip(&c, olen);
		if (dr_cur_err(&c))
			break;
		note_option(d, code);
	}
}

static int fault(struct dr_dns *d, int reason, size_t at)
{
	d->malformed = (uint8_t)reason;
	d->malformed_at = (uint16_t)(at > 0xffff ? 0xffff : at);
	return reason;
}

int dr_dns_parse(const uint8_t *msg, size_t len, struct dr_dns *d)
{
	memset(d, 0, offsetof(struct dr_dns, qname));
	d->len = (uint16_t)(len > 0xffff ? 0xffff : len);

	if (len < DNS_HEADER_LEN) {
		/* Give whatever header fields are complete. */
		if (len >= 2)
			d->id = dr_get16(msg);
		if (len >= 4)
			d->flags = dr_get16(msg + 2);
		if (len >= 6)
			d->qdcount = dr_get16(msg + 4);
		if (len >= 8)
			d->ancount = dr_get16(msg + 6);
		if (len >= 10)
			d->nscount = dr_get16(msg + 8);
		d->rcode_ext = d->flags & 0xf;
		return fault(d, DR_MAL_SHORT_HEADER, len);
	}
	d->id = dr_get16(msg);
	d->flags = dr_get16(msg + 2);
	d->qdcount = dr_get16(msg + 4);
	d->ancount = dr_get16(msg + 6);
	d->nscount = dr_get16(msg + 8);
	d->arcount = dr_get16(msg + 10);
	d->rcode_ext = d->flags & 0xf;

	/* Opcodes 3 and 7..15 are unassigned: what arrives with one is junk
	 * aimed at port 53 (floods, loops), not a DNS message. */
	unsigned opcode = dr_dns_opcode(d);
	if (opcode == 3 || opcode > 6)
		return fault(d, DR_MAL_NOT_DNS, 2);

	size_t pos = DNS_HEADER_LEN;
	size_t at = 0;
	int rc;
	struct name_cache nc;
	nc.n = 0;

	for (unsigned i = 0; i < d->qdcount; i++) {
		if (i == 0) {
			rc = read_name(msg, len, &pos, d->qname, &d->qname_len, &at, &nc);
		} else {
			rc = read_name(msg, len, &pos, NULL, NULL, &at, &nc);
		}
		if (rc)
			return fault(d, rc, at);
		if (len - pos < 4)
			return fault(d, DR_MAL_TRUNCATED, pos);
		if (i == 0) {
			d->qtype = dr_get16(msg + pos);
			d->qclass = dr_get16(msg + pos + 2);
			d->has_question = 1;
		}
		pos += 4;
	}

	unsigned rrs = (unsigned)d->ancount + d->nscount + d->arcount;
	unsigned additional_from = (unsigned)d->ancount + d->nscount;
	for (unsigned i = 0; i < rrs; i++) {
		size_t owner = pos;
		/* The usual owner: a pointer to a name already walked. What
		 * read_name would do with it, without the call. */
		int known = -1;
		if (len - pos >= 2 && (msg[pos] & 0xc0) == 0xc0) {
			size_t target = (size_t)(msg[pos] & 0x3f) << 8 | msg[pos + 1];
			if (target < len)
				known = cache_len(&nc, target);
		}
		if (known >= 0) {
			cache_add(&nc, pos, (size_t)known);
			pos += 2;
		} else {
			rc = read_name(msg, len, &pos, NULL, NULL, &at, &nc);
			if (rc)
				return fault(d, rc, at);
		}
		if (len - pos < 10)
			return fault(d, DR_MAL_TRUNCATED, pos);
		uint16_t type = dr_get16(msg + pos);
		uint16_t klass = dr_get16(msg + pos + 2);
		uint32_t ttl = dr_get32(msg + pos + 4);
		uint16_t rdlen = dr_get16(msg + pos + 8);
		pos += 10;
		if (len - pos < rdlen)
			return fault(d, DR_MAL_TRUNCATED, pos);
		if (type == TYPE_OPT && i >= additional_from && msg[owner] == 0)
			read_opt(d, klass, ttl, msg + pos, rdlen);
		pos += rdlen;
		d->rr_parsed++;
	}

	if (pos < len) {
		/* Nothing at all after a header with no sections is not DNS. */
		if (d->qdcount == 0 && rrs == 0)
			return fault(d, DR_MAL_NOT_DNS, pos);
		return fault(d, DR_MAL_TRAILING, pos);
	}
	return DR_MAL_NONE;
}

size_t dr_name_to_text(const uint8_t *wire, size_t wire_len, char *out)
{
	static const char special[] = ".\\\"();@$";
	size_t o = 0;
	size_t p = 0;

	while (p < wire_len && wire[p] != 0) {
		size_t lab = wire[p++];
		if (lab > wire_len - p)
			lab = wire_len - p;
		if (o)
			out[o++] = '.';
		for (size_t i = 0; i < lab; i++) {
			uint8_t ch = wire[p + i];
			if (ch > 0x20 && ch < 0x7f && !strchr(special, ch)) {
				out[o++] = (char)ch;
			} else if (ch > 0x20 && ch < 0x7f) {
				out[o++] = '\\';
				out[o++] = (char)ch;
			} else {
				out[o++] = '\\';
				out[o++] = (char)('0' + ch / 100);
				out[o++] = (char)('0' + ch / 10 % 10);
				out[o++] = (char)('0' + ch % 10);
			}
		}
		p += lab;
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = 0;
	return o;
}

void dr_name_lower(uint8_t *wire, size_t wire_len)
{
	size_t p = 0;
	while (p < wire_len && wire[p] != 0) {
		size_t lab = wire[p++];
		for (size_t i = 0; i < lab && p + i < wire_len; i++) {
			uint8_t ch = wire[p + i];
			if (ch >= 'A' && ch <= 'Z')
				wire[p + i] = (uint8_t)(ch + 32);
		}
		p += lab;
	}
}

int dr_name_from_text(const char *text, uint8_t *wire)
{
	size_t o = 0;
	const char *s = text;

	if (s[0] == '.' && s[1] == 0) {
		wire[0] = 0;
		return 1;
	}
	while (*s) {
		size_t lab_at = o++;
		size_t lab = 0;
		while (*s && *s != '.') {
			int ch = (unsigned char)*s++;
			if (ch == '\\') {
				if (s[0] >= '0' && s[0] <= '9') {
					if (!(s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9'))
						return -1;
					ch = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
					if (ch > 255)
						return -1;
					s += 3;
				} else if (*s) {
					ch = (unsigned char)*s++;
				} else {
					return -1;
				}
			}
			if (lab == 63 || o + 2 > DR_NAME_MAX)
				return -1;
			wire[o++] = (uint8_t)ch;
			lab++;
		}
		if (lab == 0)
			return -1;	/* empty label */
		wire[lab_at] = (uint8_t)lab;
		if (*s == '.')
			s++;
	}
	wire[o++] = 0;
	return (int)o;
}

const char *dr_malformed_name(int reason)
{
	static const char *const names[] = {
#define DR_MAL_TEXT(name, text) text,
		DR_MALFORMED(DR_MAL_TEXT)
#undef DR_MAL_TEXT
	};
	if (reason < 0 || reason >= DR_MAL_COUNT)
		return "unknown";
	return names[reason];
}
