/* The store's per-minute aggregator and record sampler, private to
 * src/store: what the detection thread counts a minute at a time, and the
 * batches it hands the writer thread (store.c). */
#ifndef DR_STORE_MINUTE_H
#define DR_STORE_MINUTE_H

#include <stddef.h>
#include <stdint.h>

#include "decode/record.h"
#include "lib/topk.h"

/* The dimensions of the agg table, in the order of dr_store_dim_names. */
enum dr_store_dim {
	DR_DIM_TOTAL, DR_DIM_SRC, DR_DIM_DST, DR_DIM_SPORT, DR_DIM_DPORT, DR_DIM_QNAME,
	DR_DIM_ZONE, DR_DIM_QTYPE, DR_DIM_RCODE, DR_DIM_COUNTRY, DR_DIM_ASN,
	DR_DIM_DIRECTION, DR_DIM_EXPORTER, DR_DIM_KIND, DR_DIM_COUNT
};
extern const char *const dr_store_dim_names[DR_DIM_COUNT];

/* Keys that are not a value of the dimension. */
#define DR_STORE_KEY_ALL "(all)"	/* the total's one row */
#define DR_STORE_KEY_OTHER "(other)"	/* below the top keys */
#define DR_STORE_KEY_NONE "(none)"	/* records without the field (a flow's qname) */

struct dr_store_counts {
	uint64_t messages, packets, bytes;
};

/* A record as the records table keeps it: what the columns need, copied
 * from the borrowed dr_record, without its payload. */
struct dr_store_row {
	double ts;
	uint64_t packets, bytes;
	uint32_t len;
	uint16_t sport, dport;
	uint16_t id, flags, rcode, qtype, qclass, an, ns, ar, edns_udp;
	uint8_t kind, family, proto, has_question, edns, edns_do, malformed;
	uint8_t why;			/* DR_WHY_* */
	uint8_t qname_len;		/* wire octets of qname, 0: none */
	int16_t zone;			/* offset of the zone in qname_lc, -1: none */
	uint8_t src[16], dst[16];
	uint8_t qname[DR_NAME_MAX + 1];	/* case kept */
	uint8_t qname_lc[DR_NAME_MAX + 1];	/* lower-cased, for the zone */
};

enum { DR_WHY_SAMPLE, DR_WHY_ALERT };

void dr_store_row_fill(struct dr_store_row *row, const struct dr_record *r, int why);

/* One row of agg; its key is text at `key` in the batch's text. */
struct dr_store_agg {
	uint32_t dim;
	uint32_t key;
	struct dr_store_counts c;
};

/* A source address and its counts, for the country and asn dimensions,
 * which the writer fills from the geo databases (off the hot path). */
struct dr_store_addr {
	uint8_t family;
	uint8_t addr[16];
	struct dr_store_counts c;
};

/* A minute handed to the writer: its aggregate rows, its sources for the
 * geo dimensions, and its sample. Owned by whoever holds it; one malloc'd
 * block per array. */
struct dr_store_minute {
	int64_t minute;
	uint32_t top;			/* rows per dimension */
	struct dr_store_counts total;
	struct dr_store_agg *rows;
	uint32_t nrows, rows_cap;
	char *text;
	size_t text_len, text_cap;
	struct dr_store_addr *srcs;	/* every source the src table holds */
	uint32_t nsrcs;
	struct dr_store_row *samples;
	uint32_t nsamples;
	double weight;			/* records each sample stands for */
};

void dr_store_minute_free(struct dr_store_minute *b);

/* Adds a row (the key copied); 0 or -1 when out of memory. */
int dr_store_minute_row(struct dr_store_minute *b, unsigned dim, const char *key,
			const struct dr_store_counts *c);

/* Direction keys: a flow's as its exporter saw it, a DNS message's by QR. */
enum { DR_SDIR_UNKNOWN, DR_SDIR_INGRESS, DR_SDIR_EGRESS, DR_SDIR_QUERY, DR_SDIR_RESPONSE,
       DR_SDIR_COUNT };

/* Counts of values a 16-bit field takes (ports, types): flat arrays and a
 * bitmap of those used, so a count is an add, and the minute's end walks
 * only what was used. */
struct dr_store_values {
	struct dr_store_counts *c;
	uint64_t *used;
	uint32_t n;
};

/* What one minute is gathering. Sized at init; nothing is allocated per
 * record. */
struct dr_minute {
	int64_t minute;
	int active;			/* something was counted in `minute` */
	uint32_t top;			/* rows per dimension */
	struct dr_store_counts total;
	struct dr_store_counts none[DR_DIM_COUNT];
	struct dr_topk src, dst, qname, zone, exporter;	/* extra: dr_store_counts */
	struct dr_store_values sport, dport, qtype, rcode;
	struct dr_store_counts direction[DR_SDIR_COUNT], kind[2];
	/* a reservoir sample of the records not kept under an alert */
	struct dr_store_row *reservoir;
	uint32_t sample_cap, nsample;
	uint64_t sample_seen;		/* records offered to the reservoir */
	uint64_t rng;
	/* scratch for the ranking of a value array, at the minute's end */
	struct dr_store_rank { uint64_t messages; uint32_t value; } *rank;
};

/* 0 or DR_ENOMEM (m then holds nothing to free). */
int dr_minute_init(struct dr_minute *m, uint32_t top, uint32_t sample);
void dr_minute_fini(struct dr_minute *m);

/* Counts r (its keys filled) in every dimension. */
void dr_minute_count(struct dr_minute *m, const struct dr_record *r);

/* Offers r to the reservoir. */
void dr_minute_sample(struct dr_minute *m, const struct dr_record *r);

/* Turns the minute into a batch and empties it for the next. NULL when
 * out of memory (the minute is emptied either way). */
struct dr_store_minute *dr_minute_take(struct dr_minute *m);

#endif
