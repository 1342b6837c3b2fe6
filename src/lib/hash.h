/* The project's hash: xxHash3 (libxxhash), inlined. */
#ifndef DR_LIB_HASH_H
#define DR_LIB_HASH_H

#include <stddef.h>
#include <stdint.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

static inline uint64_t dr_hash64(const void *p, size_t n)
{
	return XXH3_64bits(p, n);
}

#endif
