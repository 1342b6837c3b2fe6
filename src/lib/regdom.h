/* Registered domain of a DNS name (Public Suffix List, via libpsl), with a
 * small direct-mapped cache keyed by the name's hash, so a repeated name
 * costs no PSL look-up. Fixed size; never grows. */
#ifndef DR_LIB_REGDOM_H
#define DR_LIB_REGDOM_H

#include <stddef.h>
#include <stdint.h>

#define DR_REGDOM_SLOTS 16384	/* power of two */

struct dr_regdom {
	struct { uint64_t tag; int16_t offset; } slot[DR_REGDOM_SLOTS];
	void *psl;		/* psl_ctx_t */
	uint64_t lookups, misses;
};

/* Allocates a cache with the newest of libpsl's built-in list and the
 * system's publicsuffix package. NULL when out of memory. */
struct dr_regdom *dr_regdom_new(void);
void dr_regdom_free(struct dr_regdom *rd);

/* Wire offset in `wire` (a lower-cased wire name of wire_len octets, with
 * 64-bit hash `hash`) where its registered domain starts, or -1 when it has
 * none (a public suffix itself, the root, or bytes no host name has). */
int dr_regdom_offset(struct dr_regdom *rd, uint64_t hash, const uint8_t *wire, size_t wire_len);

static inline void dr_regdom_prefetch(const struct dr_regdom *rd, uint64_t hash)
{
	__builtin_prefetch(&rd->slot[hash & (DR_REGDOM_SLOTS - 1)]);
}

#endif
