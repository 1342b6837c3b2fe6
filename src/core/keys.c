/* Deriving a record's keys once. */
#include "core/keys.h"

/* ASCII capitals of eight octets to small letters, other octets kept. */
static inline uint64_t lower8(uint64_t x)
{
	uint64_t low7 = x & 0x7f7f7f7f7f7f7f7fULL;
	uint64_t above_z = low7 + 0x2525252525252525ULL;	/* top bit: > 'Z' */
	uint64_t from_a = low7 + 0x3f3f3f3f3f3f3f3fULL;		/* top bit: >= 'A' */
	uint64_t upper = ~x & (from_a ^ above_z) & 0x8080808080808080ULL;
	return x | upper >> 2;
}

/* Word i of a name of len octets (words in all), lower-cased into dst on
 * the way when dst is given, and with the octets past the end masked. */
static inline uint64_t name_word(uint8_t *dst, const uint8_t *src, size_t i, size_t words,
				 size_t len)
{
	uint64_t v = dr_load_le64(src + 8 * i);
	if (dst) {
		v = lower8(v);
		dr_store_le64(dst + 8 * i, v);
	}
	return i + 1 == words ? v & dr_tail_mask(len) : v;
}

/* Hashes a name of len octets a word at a time, from the words in
 * registers: with dst, the name is lower-cased into it (its length octets,
 * at most 63, are below 'A' and so unchanged) and the lower-cased words are
 * hashed, not read back. Reads up to 7 octets past the end of src, which
 * must be addressable (the name arrays are padded for it). */
static inline uint64_t name_hash(uint8_t *dst, const uint8_t *src, size_t len)
{
	size_t words = (len + 7) / 8;
	uint64_t acc = len * DR_HASH_LEN_PRIME;
	for (size_t i = 0; i < words; i += 2) {
		uint64_t a = name_word(dst, src, i, words, len);
		uint64_t b = i + 1 < words ? name_word(dst, src, i + 1, words, len) : 0;
		acc = dr_hash_step(acc, a, b);
	}
	return dr_avalanche64(acc);
}

void dr_keys_compute(const struct dr_record *r, struct dr_keys *k, struct dr_regdom *rd)
{
	dr_akey_set(&k->src, r->family, r->src);
	dr_akey_set(&k->dst, r->family, r->dst);
	k->zone = -1;
	k->qname_len = 0;
	k->qname_hash = k->zone_hash = 0;
	if (r->dns.has_question) {
		size_t len = r->dns.qname_len;
		k->qname_len = (uint8_t)len;
		k->qname_hash = name_hash(k->qname, r->dns.qname, len);
		k->zone = (int16_t)(rd ? dr_regdom_offset(rd, k->qname_hash, k->qname, len) : -1);
		k->zone_hash = k->zone > 0 ? name_hash(NULL, k->qname + k->zone, len - (size_t)k->zone)
					   : k->qname_hash;
	}
	k->ready = 1;
}
