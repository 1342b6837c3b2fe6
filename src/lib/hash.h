/* The project's hashes: xxHash3 (libxxhash, inlined) for general keys, and
 * word-at-a-time hashes for the keys derived from every record (addresses
 * here; query names in core/keys.c, from the steps below), built from the
 * same 128-bit multiply-fold as XXH3 but fed from registers, so that a key
 * just written is not read back through memory in pieces of another size
 * (a stall on every load). */
#ifndef DR_LIB_HASH_H
#define DR_LIB_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

static inline uint64_t dr_hash64(const void *p, size_t n)
{
	return XXH3_64bits(p, n);
}

/* The 128-bit product of a and b, folded to 64 bits. */
static inline uint64_t dr_fold64(uint64_t a, uint64_t b)
{
	__uint128_t m = (__uint128_t)a * b;
	return (uint64_t)m ^ (uint64_t)(m >> 64);
}

/* XXH3's final mix: every input bit reaches every output bit. */
static inline uint64_t dr_avalanche64(uint64_t h)
{
	h ^= h >> 37;
	h *= 0x165667919E3779F9ULL;
	return h ^ (h >> 32);
}

static inline uint64_t dr_load_le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline void dr_store_le64(uint8_t *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(p, &v, 8);
}

#define DR_HASH_LEN_PRIME 0xC2B2AE3D27D4EB4FULL
#define DR_HASH_K0 0xbe4ba423396cfeb8ULL	/* XXH3's default secret, words 0-3 */
#define DR_HASH_K1 0x1cad21f72c81017cULL
#define DR_HASH_K2 0xdb979083e96dd4deULL
#define DR_HASH_K3 0x1f67b3b7a4a44072ULL

/* An address: family 4 (4 octets) or 6 (16 octets). */
static inline uint64_t dr_hash_addr(int family, const uint8_t *addr)
{
	uint64_t a, b = 0;
	if (family == 4) {
		uint32_t v;
		memcpy(&v, addr, 4);
		a = v;
	} else {
		a = dr_load_le64(addr);
		b = dr_load_le64(addr + 8);
	}
	return dr_avalanche64(dr_fold64(a ^ DR_HASH_K0, b ^ DR_HASH_K1 ^ (uint64_t)family));
}

/* One step over 16 octets; the running value is multiplied in, so blocks
 * in another order give another hash. */
static inline uint64_t dr_hash_step(uint64_t acc, uint64_t a, uint64_t b)
{
	return acc * 0x9E3779B185EBCA87ULL + dr_fold64(a ^ DR_HASH_K2, b ^ DR_HASH_K3);
}

/* The mask keeping the first n % 8 octets of the last word (all if 0). */
static inline uint64_t dr_tail_mask(size_t n)
{
	return n % 8 ? ~0ULL >> (64 - 8 * (n % 8)) : ~0ULL;
}

#endif
