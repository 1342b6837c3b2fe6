/* Parsing and matching of --where conditions. */
#include "core/where.h"

#include "lib/cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int parse_uint(const char *s, long max)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	long v = strtol(s, &end, 10);
	if (*end || v > max)
		return -1;
	return (int)v;
}

static const struct {
	const char *name;
	enum dr_where_field field;
} fields[] = {
	{"src", DR_W_SRC}, {"dst", DR_W_DST}, {"sport", DR_W_SPORT},
	{"dport", DR_W_DPORT}, {"qname", DR_W_QNAME}, {"qtype", DR_W_QTYPE},
	{"rcode", DR_W_RCODE}, {"qr", DR_W_QR}, {"proto", DR_W_PROTO},
	{"malformed", DR_W_MALFORMED},
};

int dr_where_add(struct dr_where *w, const char *spec, char *errbuf, size_t errlen)
{
	const char *eq = strchr(spec, '=');
	if (!eq) {
		snprintf(errbuf, errlen, "--where '%s': expected FIELD=VALUE, e.g. src=192.0.2.1", spec);
		return -1;
	}
	if (w->n == DR_WHERE_MAX) {
		snprintf(errbuf, errlen, "--where: at most %d conditions", DR_WHERE_MAX);
		return -1;
	}
	struct dr_where_cond *c = &w->cond[w->n];
	memset(c, 0, sizeof(*c));
	size_t flen = (size_t)(eq - spec);
	const char *v = eq + 1;
	unsigned i;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strlen(fields[i].name) == flen && strncasecmp(spec, fields[i].name, flen) == 0)
			break;
	if (i == sizeof(fields) / sizeof(fields[0])) {
		snprintf(errbuf, errlen, "--where '%s': unknown field; use src, dst, sport, dport, "
			 "qname, qtype, rcode, qr, proto or malformed", spec);
		return -1;
	}
	c->field = fields[i].field;
	int ok = 0;
	switch (c->field) {
	case DR_W_SRC:
	case DR_W_DST:
		ok = dr_cidr_parse(v, &c->family, c->addr, &c->prefix) == 0;
		break;
	case DR_W_SPORT:
	case DR_W_DPORT:
		ok = (c->value = parse_uint(v, 65535)) >= 0;
		break;
	case DR_W_QNAME: {
		if (v[0] == '*' && v[1] == '.') {
			c->suffix = 1;
			v += 2;
		} else if (v[0] == '*' && v[1] == 0) {
			c->suffix = 1;
			v = ".";
		}
		int n = dr_name_from_text(v, c->name);
		ok = n > 0;
		if (ok) {
			c->name_len = (uint8_t)n;
			dr_name_lower(c->name, (size_t)n);
		}
		break;
	}
	case DR_W_QTYPE:
		ok = (c->value = dr_qtype_parse(v)) >= 0;
		break;
	case DR_W_RCODE:
		ok = (c->value = dr_rcode_parse(v)) >= 0;
		break;
	case DR_W_QR:
		if (strcasecmp(v, "query") == 0)
			c->value = 0;
		else if (strcasecmp(v, "response") == 0)
			c->value = 1;
		else
			c->value = parse_uint(v, 1);
		ok = c->value >= 0;
		break;
	case DR_W_PROTO:
		c->value = strcasecmp(v, "udp") == 0 ? 17 : strcasecmp(v, "tcp") == 0 ? 6 : -1;
		ok = c->value >= 0;
		break;
	case DR_W_MALFORMED:
		c->value = -1;
		if (strcasecmp(v, "any") == 0 || strcmp(v, "1") == 0)
			c->value = DR_MAL_COUNT;
		else if (strcasecmp(v, "none") == 0 || strcmp(v, "0") == 0)
			c->value = DR_MAL_NONE;
		for (int m = 1; m < DR_MAL_COUNT && c->value < 0; m++)
			if (strcasecmp(v, dr_malformed_name(m)) == 0)
				c->value = m;
		ok = c->value >= 0;
		break;
	}
	if (!ok) {
		snprintf(errbuf, errlen, "--where '%s': '%s' is not a valid %.*s value",
			 spec, eq + 1, (int)flen, spec);
		return -1;
	}
	w->n++;
	return 0;
}

static int addr_match(const struct dr_where_cond *c, uint8_t family, const uint8_t *a)
{
	if (family != c->family)
		return 0;
	unsigned full = c->prefix / 8, rest = c->prefix % 8;
	if (memcmp(a, c->addr, full) != 0)
		return 0;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((a[full] & mask) != (c->addr[full] & mask))
			return 0;
	}
	return 1;
}

/* Case-insensitive: does the name equal the zone, or (suffix) lie below? */
static int name_match(const struct dr_where_cond *c, const struct dr_dns *d)
{
	if (!d->has_question)
		return 0;
	uint8_t name[DR_NAME_MAX];
	memcpy(name, d->qname, d->qname_len);
	dr_name_lower(name, d->qname_len);
	if (!c->suffix)
		return d->qname_len == c->name_len && memcmp(name, c->name, c->name_len) == 0;
	/* Walk label boundaries looking for the zone as a tail. */
	size_t p = 0;
	while (p < d->qname_len) {
		if (d->qname_len - p == c->name_len && memcmp(name + p, c->name, c->name_len) == 0)
			return 1;
		if (name[p] == 0)
			break;
		p += 1 + (size_t)name[p];
	}
	return 0;
}

int dr_where_match(const struct dr_where *w, const struct dr_record *r)
{
	for (unsigned i = 0; i < w->n; i++) {
		const struct dr_where_cond *c = &w->cond[i];
		int ok;
		switch (c->field) {
		case DR_W_SRC: ok = addr_match(c, r->family, r->src); break;
		case DR_W_DST: ok = addr_match(c, r->family, r->dst); break;
		case DR_W_SPORT: ok = r->sport == c->value; break;
		case DR_W_DPORT: ok = r->dport == c->value; break;
		case DR_W_QNAME: ok = name_match(c, &r->dns); break;
		case DR_W_QTYPE: ok = r->dns.has_question && r->dns.qtype == c->value; break;
		case DR_W_RCODE: ok = r->dns.rcode_ext == c->value; break;
		case DR_W_QR: ok = (int)dr_dns_qr(&r->dns) == c->value; break;
		case DR_W_PROTO: ok = r->proto == c->value; break;
		case DR_W_MALFORMED:
			ok = c->value == DR_MAL_COUNT ? r->dns.malformed != 0 : r->dns.malformed == c->value;
			break;
		default: ok = 0; break;
		}
		if (!ok)
			return 0;
	}
	return 1;
}
