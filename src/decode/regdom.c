/* Registered-domain look-ups through libpsl with a direct-mapped cache. */
#include "decode/regdom.h"

#include <libpsl.h>
#include <stdlib.h>
#include <string.h>

#include "decode/dns.h"
#include "lib/hash.h"

struct dr_regdom *dr_regdom_new(void)
{
	struct dr_regdom *rd = calloc(1, sizeof(*rd));
	if (rd)
		rd->psl = psl_latest(NULL);
	return rd;
}

void dr_regdom_free(struct dr_regdom *rd)
{
	if (!rd)
		return;
	if (rd->psl)
		psl_free(rd->psl);
	free(rd);
}

/* Is the suffix public? From the cache, else from libpsl (and cached).
 * A single label always is (the PSL's implicit "*" rule), as in libpsl. */
static int is_public(struct dr_regdom *rd, const uint8_t *wire, size_t len,
		     const char *text, int last)
{
	if (last)
		return 1;
	uint64_t h = dr_hash64(wire, len);
	uint64_t *slot = &rd->suffix[h & (DR_SUFFIX_SLOTS - 1)];
	uint64_t tag = (h | 2) & ~(uint64_t)1;	/* never 0, the empty slot */
	if ((*slot & ~(uint64_t)1) == tag)
		return (int)(*slot & 1);
	rd->psl_calls++;
	int pub = psl_is_public_suffix(rd->psl, text) ? 1 : 0;
	*slot = tag | (uint64_t)pub;
	return pub;
}

/* Whether a label holds an octet no rule of the list can hold: a C0
 * control, space, DEL (the list's parser splits its lines on white space)
 * or '.', which as text would split the label in two (and NUL, which would
 * end the string). Such a label never equals a rule's label, so it is
 * asked about as REGDOM_PLACEHOLDER, which equals none either; a wildcard
 * rule still matches it, an exception rule never does. */
static int unmatchable(const uint8_t *label, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (label[i] <= 0x20 || label[i] == 0x7f || label[i] == '.')
			return 1;
	return 0;
}

#define REGDOM_PLACEHOLDER " "	/* white space: no rule holds it */

/* psl_registrable_domain's walk: from the left, the first suffix that is
 * public ends it, and the registered domain is the suffix one label
 * longer (none when the whole name is public). Every label is handed to
 * libpsl as its octets (upper case was folded by the caller, octets from
 * 0x80 up are kept as they are, as libpsl compares them), except the
 * unmatchable ones above; so labels left of the public suffix never
 * decide anything, whatever they hold. */
static int compute(struct dr_regdom *rd, const uint8_t *wire, size_t len)
{
	char text[DR_NAME_MAX + 1];
	uint8_t wire_at[128];	/* label index -> wire offset */
	uint8_t text_at[128];	/* label index -> text offset */
	size_t o = 0, p = 0;
	unsigned labels = 0;

	if (!rd->psl)
		return -1;
	while (p < len && wire[p] != 0 && labels < 128) {
		size_t lab = wire[p];
		if (p + 1 + lab > len)
			return -1;
		if (o)
			text[o++] = '.';
		wire_at[labels] = (uint8_t)p;
		text_at[labels] = (uint8_t)o;
		labels++;
		if (unmatchable(wire + p + 1, lab)) {
			memcpy(text + o, REGDOM_PLACEHOLDER, sizeof(REGDOM_PLACEHOLDER) - 1);
			o += sizeof(REGDOM_PLACEHOLDER) - 1;
		} else {
			memcpy(text + o, wire + p + 1, lab);
			o += lab;
		}
		p += 1 + lab;
	}
	if (labels == 0 || (p < len && wire[p] != 0))
		return -1;
	text[o] = 0;
	for (unsigned i = 0; i < labels; i++)
		if (is_public(rd, wire + wire_at[i], p - wire_at[i], text + text_at[i],
			      i + 1 == labels))
			return i ? wire_at[i - 1] : -1;
	return -1;
}

int dr_regdom_offset(struct dr_regdom *rd, uint64_t hash, const uint8_t *wire, size_t wire_len)
{
	uint64_t tag = hash | 1;	/* never 0, the empty slot */
	size_t i = hash & (DR_REGDOM_SLOTS - 1);
	rd->lookups++;
	if (rd->slot[i].tag == tag)
		return rd->slot[i].offset;
	rd->misses++;
	int off = compute(rd, wire, wire_len);
	rd->slot[i].tag = tag;
	rd->slot[i].offset = (int16_t)off;
	return off;
}
