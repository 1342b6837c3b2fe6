/* Small fixed-size helpers the detectors share: address keys, a few-slot
 * heavy-hitter list, a saturating distinct set, a 256-register HLL, and
 * the text forms alerts use. */
#ifndef DR_DETECT_COMMON_H
#define DR_DETECT_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/keys.h"
#include "core/record.h"
#include "decode/packet.h"
#include "lib/hash.h"
#include "lib/outbuf.h"

/* Copies src into dst[cap], cut short if need be; always terminated. */
static inline void dr_copy_cut(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

/* Text of a key made by dr_akey_set (buf >= 48 bytes). */
static inline void dr_akey_text(const uint8_t *key, char *buf)
{
	dr_addr_text(key[0], key + 1, buf);
}

/* The few heaviest keys of a stream (Space-Saving with DR_FEW_TOP slots). */
#define DR_FEW_TOP 4
struct dr_top4 {
	uint32_t count[DR_FEW_TOP];
	uint8_t key[DR_FEW_TOP][DR_AKEY];
};

static inline void dr_top4_add(struct dr_top4 *t, const uint8_t *key)
{
	unsigned min = 0;
	for (unsigned i = 0; i < DR_FEW_TOP; i++) {
		if (t->count[i] && memcmp(t->key[i], key, DR_AKEY) == 0) {
			t->count[i]++;
			return;
		}
		if (t->count[i] < t->count[min])
			min = i;
	}
	memcpy(t->key[min], key, DR_AKEY);
	t->count[min]++;
}

/* Index of the heaviest slot (count 0 when empty). */
static inline unsigned dr_top4_best(const struct dr_top4 *t)
{
	unsigned best = 0;
	for (unsigned i = 1; i < DR_FEW_TOP; i++)
		if (t->count[i] > t->count[best])
			best = i;
	return best;
}

/* Distinct items up to DR_FEW_MAX, exactly; saturates there. */
#define DR_FEW_MAX 32
struct dr_few {
	uint32_t n;
	uint32_t h[DR_FEW_MAX];
};

static inline void dr_few_add(struct dr_few *f, uint64_t hash)
{
	uint32_t h = (uint32_t)hash | 1;
	for (uint32_t i = 0; i < f->n; i++)
		if (f->h[i] == h)
			return;
	if (f->n < DR_FEW_MAX)
		f->h[f->n++] = h;
}

/* HyperLogLog with 256 registers (about 6.5% error) for per-key windows. */
struct dr_hll8 {
	uint8_t reg[256];
};

static inline void dr_hll8_add(struct dr_hll8 *h, uint64_t hash)
{
	uint32_t idx = (uint32_t)(hash >> 56);
	uint64_t rest = hash << 8 | 0x80;
	uint8_t rank = (uint8_t)(__builtin_clzll(rest) + 1);
	if (rank > h->reg[idx])
		h->reg[idx] = rank;
}

double dr_hll8_count(const struct dr_hll8 *h);

struct dr_sb;

/* Appends a top-4 list as a JSON array of {"address": A, COUNT_NAME: N},
 * heaviest first; with suffixes, "/24" or "/48" style is appended to each
 * IPv4 or IPv6 address. */
void dr_top4_json(struct dr_sb *sb, const struct dr_top4 *t, const char *count_name,
		  const char *suffix4, const char *suffix6);

/* A bit rate for people: "25.3 Mbit/s". */
void dr_fmt_bps(char *buf, size_t len, double bps);

#endif
