/* Registered domain of a DNS name (Public Suffix List, via libpsl), with
 * two small direct-mapped caches: one keyed by the whole name's hash, so a
 * repeated name costs no PSL look-up, and one of "is this suffix public?"
 * keyed by the suffix's hash, so a name never seen before costs one libpsl
 * call for the name itself instead of one per label (a random-subdomain
 * attack is nothing but names never seen before). Exact: the answer is
 * libpsl's own rule, psl_registrable_domain's left-to-right walk, made of
 * psl_is_public_suffix answers. Fixed size; never grows.
 *
 * A suffix can only be public if the rest of it, one label shorter, is the
 * parent of some rule of the list ("co.uk" for "*.co.uk", "com" for
 * "blogspot.com"): the parents are read from the same list file libpsl is
 * given, so a label never seen before under a registered domain
 * (x7f3k2.example.com: "example.com" parents no rule) costs no libpsl call
 * at all. Where that cannot be told for sure (the file cannot be read, or
 * a label is an IDN), libpsl is asked. */
#ifndef DR_LIB_REGDOM_H
#define DR_LIB_REGDOM_H

#include <stddef.h>
#include <stdint.h>

#define DR_REGDOM_SLOTS 16384	/* power of two */
#define DR_SUFFIX_SLOTS 65536	/* power of two */
#define DR_PARENT_SLOTS 16384	/* power of two, more than twice the parents */

struct dr_regdom {
	struct { uint64_t tag; int16_t offset; } slot[DR_REGDOM_SLOTS];
	/* per suffix: its hash with the low bit set when it is public */
	uint64_t suffix[DR_SUFFIX_SLOTS];
	/* hashes (never 0) of the wire forms of every rule's parent; used
	 * only when have_parents */
	uint64_t parent[DR_PARENT_SLOTS];
	unsigned nparents;
	int have_parents;
	void *psl;		/* psl_ctx_t */
	uint64_t lookups, misses;	/* whole names */
	uint64_t psl_calls;		/* psl_is_public_suffix */
	uint64_t psl_spared;		/* suffixes whose parent parents no rule */
};

/* Allocates a cache with the list libpsl was built from (its text file,
 * loaded by libpsl and read here for the rules' parents), or when that
 * file cannot be read, libpsl's newest built-in list without the parent
 * shortcut. NULL when out of memory. */
struct dr_regdom *dr_regdom_new(void);
void dr_regdom_free(struct dr_regdom *rd);

/* Wire offset in `wire` (a lower-cased wire name of wire_len octets, with
 * 64-bit hash `hash`) where its registered domain starts, or -1 when it has
 * none (a public suffix itself, the root, or a wire form that does not end
 * within wire_len). Labels may hold any octets: a label holding one no rule
 * can hold (0x00-0x20, '.', 0x7f) is judged as a label no rule names, so
 * only wildcard rules match it; every other label as its octets, so the
 * answer is libpsl's psl_registrable_domain wherever libpsl can take the
 * name as text. Octets from 0x80 up are compared as they are, never
 * case-folded. */
int dr_regdom_offset(struct dr_regdom *rd, uint64_t hash, const uint8_t *wire, size_t wire_len);

static inline void dr_regdom_prefetch(const struct dr_regdom *rd, uint64_t hash)
{
	__builtin_prefetch(&rd->slot[hash & (DR_REGDOM_SLOTS - 1)]);
}

#endif
