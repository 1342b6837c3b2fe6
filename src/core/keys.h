/* Keys derived from a record for the tables that count it: the source and
 * destination as address keys with their hashes, the lower-cased query
 * name with its hash, and its registered domain. */
#ifndef DR_CORE_KEYS_H
#define DR_CORE_KEYS_H

#include <string.h>

#include "decode/record.h"
#include "lib/hash.h"
#include "decode/regdom.h"

static inline void dr_akey_set(struct dr_akey *k, int family, const uint8_t *addr)
{
	uint32_t n = family == 4 ? 4 : 16;
	memset(k->b, 0, sizeof(k->b));
	k->b[0] = (uint8_t)family;
	memcpy(k->b + 1, addr, n);
	k->len = n + 1;
	k->hash = dr_hash_addr(family, addr);	/* from the source, not from b */
}

/* Computes the keys of r into k; rd may be NULL (no registered domains). */
void dr_keys_compute(const struct dr_record *r, struct dr_keys *k, struct dr_regdom *rd);

/* Fills r->keys unless already done for this record. The record must be
 * the caller's to annotate. */
static inline void dr_keys_fill(struct dr_record *r, struct dr_regdom *rd)
{
	if (!r->keys.ready)
		dr_keys_compute(r, &r->keys, rd);
}

#endif
