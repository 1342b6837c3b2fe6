/* --where FIELD=VALUE conditions, ANDed, that narrow which DNS messages an
 * analysis or a records listing keeps. */
#ifndef DR_REPORT_WHERE_H
#define DR_REPORT_WHERE_H

#include <stddef.h>
#include <stdint.h>

#include "decode/record.h"
#include "lib/cidr.h"

#define DR_WHERE_MAX 32

enum dr_where_field { DR_W_SRC, DR_W_DST, DR_W_SPORT, DR_W_DPORT, DR_W_QNAME,
		      DR_W_QTYPE, DR_W_RCODE, DR_W_QR, DR_W_PROTO, DR_W_MALFORMED };

struct dr_where_cond {
	enum dr_where_field field;
	uint8_t family;		/* src/dst */
	uint8_t prefix;		/* src/dst: prefix length */
	uint8_t addr[16];
	uint8_t suffix;		/* qname: "*.zone" matches the zone and below */
	uint8_t name_len;
	uint8_t name[DR_NAME_MAX];	/* qname, lower-cased wire form */
	int value;		/* ports, qtype, rcode, qr, proto, malformed */
};

struct dr_where {
	unsigned n;
	struct dr_where_cond cond[DR_WHERE_MAX];
};

/* Parses one "FIELD=VALUE" and adds it. Returns 0, or -1 with the reason
 * in errbuf. Fields: src, dst (address or CIDR), sport, dport, qname
 * (a name, or *.zone), qtype (A, AAAA, 28, TYPE65...), rcode (NXDOMAIN, 3),
 * qr (0 = query, 1 = response), proto (udp, tcp), malformed (a reason,
 * "any" or "none"). */
int dr_where_add(struct dr_where *w, const char *spec, char *errbuf, size_t errlen);

/* Whether the record satisfies every condition. */
int dr_where_match(const struct dr_where *w, const struct dr_record *r);

/* Parses "ADDR" or "ADDR/LEN" into family, addr and prefix; 0 or -1. */

#endif
