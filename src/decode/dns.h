/* DNS message parser: header, first question, a bounds-checked walk over
 * every resource record, and EDNS(0). Works on a memory buffer only. */
#ifndef DR_DECODE_DNS_H
#define DR_DECODE_DNS_H

#include <stddef.h>
#include <stdint.h>

#define DR_NAME_MAX 255		/* wire octets of a name, root included */
#define DR_NAME_TEXT_MAX 1024	/* presentation form, \DDD escapes included */
#define DR_EDNS_OPTS_MAX 8	/* distinct option codes remembered */
#define DR_DNS_MESSAGE_MAX 65535	/* the most any transport carries */

/* Why a message is not well formed; the first fault found wins. */
#define DR_MALFORMED(X) \
	X(DR_MAL_NONE,          "") \
	X(DR_MAL_SHORT_HEADER,  "short_header") \
	X(DR_MAL_NOT_DNS,       "not_dns") \
	X(DR_MAL_BAD_LABEL,     "bad_label") \
	X(DR_MAL_NAME_TOO_LONG, "name_too_long") \
	X(DR_MAL_BAD_POINTER,   "bad_pointer") \
	X(DR_MAL_POINTER_LOOP,  "pointer_loop") \
	X(DR_MAL_TRUNCATED,     "truncated") \
	X(DR_MAL_TRAILING,      "trailing_bytes")

#define DR_MAL_ENUM(name, text) name,
enum dr_malformed { DR_MALFORMED(DR_MAL_ENUM) DR_MAL_COUNT };
#undef DR_MAL_ENUM

/* What the parser learnt of one message. Fields the parser did not reach
 * keep their zero values; has_question and edns say what was reached. */
struct dr_dns {
	uint16_t id;
	uint16_t flags;		/* raw header flags; see the accessors below */
	uint16_t qdcount, ancount, nscount, arcount;
	uint8_t has_question;	/* the first question was read completely */
	uint8_t qname_len;	/* wire length of qname, root label included */
	uint16_t qtype, qclass;
	uint8_t edns;		/* an OPT record was found */
	uint8_t edns_version;
	uint8_t edns_do;
	uint8_t edns_nopts;	/* distinct option codes in edns_opts */
	uint16_t edns_udp;	/* requestor's UDP payload size */
	uint16_t rcode_ext;	/* 12-bit RCODE: header RCODE plus EDNS bits */
	uint16_t edns_opts[DR_EDNS_OPTS_MAX];
	uint16_t rr_parsed;	/* answer, authority and additional RRs read */
	uint16_t len;		/* message length in octets */
	uint8_t malformed;	/* enum dr_malformed */
	uint16_t malformed_at;	/* offset of the fault */
	/* Last, so that a copy of a record can stop after qname_len octets
	 * (see dr_record_copy). */
	/* Uncompressed wire form, case kept; one octet more than a name can
	 * hold, so that it can be read in whole 8-octet words. */
	uint8_t qname[DR_NAME_MAX + 1];
};

static inline unsigned dr_dns_qr(const struct dr_dns *d) { return d->flags >> 15; }
static inline unsigned dr_dns_opcode(const struct dr_dns *d) { return (d->flags >> 11) & 0xf; }
static inline unsigned dr_dns_aa(const struct dr_dns *d) { return (d->flags >> 10) & 1; }
static inline unsigned dr_dns_tc(const struct dr_dns *d) { return (d->flags >> 9) & 1; }
static inline unsigned dr_dns_rd(const struct dr_dns *d) { return (d->flags >> 8) & 1; }
static inline unsigned dr_dns_ra(const struct dr_dns *d) { return (d->flags >> 7) & 1; }
static inline unsigned dr_dns_ad(const struct dr_dns *d) { return (d->flags >> 5) & 1; }
static inline unsigned dr_dns_cd(const struct dr_dns *d) { return (d->flags >> 4) & 1; }
static inline unsigned dr_dns_rcode(const struct dr_dns *d) { return d->flags & 0xf; }

/* Parses the message msg[0..len). Always fills every field it could read
 * before a fault; returns the enum dr_malformed reason (0 when well formed),
 * which is also stored in out->malformed. Never reads outside the buffer. */
int dr_dns_parse(const uint8_t *msg, size_t len, struct dr_dns *out);

/* Writes the RFC 1035 presentation form of a wire name (no trailing dot,
 * the root as "."), escaping special bytes as BIND does (\. \\ \" \; \( \)
 * \@ \$ and \DDD for bytes outside 0x21..0x7e). out must hold
 * DR_NAME_TEXT_MAX bytes; the result is NUL terminated. Returns its length. */
size_t dr_name_to_text(const uint8_t *wire, size_t wire_len, char *out);

/* Lower-cases ASCII letters of a wire name in place (labels untouched). */
void dr_name_lower(uint8_t *wire, size_t wire_len);

/* Parses a presentation-form name ("www.example.com", "." or with a trailing
 * dot; \DDD and \X escapes) into wire form. Returns the wire length, or -1
 * when the text is not a valid name. */
int dr_name_from_text(const char *text, uint8_t *wire);

/* The reason's short name ("" for DR_MAL_NONE). */
const char *dr_malformed_name(int reason);

/* Mnemonics: "A", "NXDOMAIN", "QUERY"; NULL when the value has none. */
const char *dr_qtype_name(unsigned qtype);
const char *dr_rcode_name(unsigned rcode);
const char *dr_opcode_name(unsigned opcode);
/* Reverse look-ups accepting a mnemonic (any case) or a decimal number
 * ("TYPE65" too for types); return -1 when unknown. */
int dr_qtype_parse(const char *s);
int dr_rcode_parse(const char *s);

#endif
