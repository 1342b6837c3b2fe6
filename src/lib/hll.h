/* HyperLogLog distinct counters (Flajolet et al. 2007), in two sizes that
 * share one implementation: 2^12 one-byte registers (4 KiB, about 1.6%
 * standard error) for report tables, 2^8 (256 octets, about 6.5%) for the
 * per-key windows of detectors. */
#ifndef DR_LIB_HLL_H
#define DR_LIB_HLL_H

#include <stdint.h>

#define DR_HLL_BITS 12
#define DR_HLL_REGS (1u << DR_HLL_BITS)
#define DR_HLL_SMALL_BITS 8

/* The table-sized counter keeps the sum its estimate needs as it goes
 * (a register changes seldom once warm), so that estimating costs nothing
 * however often a report is rendered. */
#define DR_HLL_SUM_SCALE 50	/* sum of 2^-reg, times 2^50, in integers */

struct dr_hll {
	uint64_t scaled_sum;	/* sum over the registers of 2^(50 - reg) */
	uint32_t zeros;		/* registers still 0 */
	uint8_t reg[DR_HLL_REGS];
};

struct dr_hll_small {
	uint8_t reg[1u << DR_HLL_SMALL_BITS];
};

/* Adds an item by its 64-bit hash to 2^bits registers. */
static inline void dr_hll_add_regs(uint8_t *reg, unsigned bits, uint64_t hash)
{
	uint32_t idx = (uint32_t)(hash >> (64 - bits));
	uint64_t rest = hash << bits | (1ull << (bits - 1));
	uint8_t rank = (uint8_t)(__builtin_clzll(rest) + 1);
	if (rank > reg[idx])
		reg[idx] = rank;
}

/* Estimated number of distinct items in 2^bits registers, with the
 * small-range (linear counting) correction. */
double dr_hll_estimate(const uint8_t *reg, unsigned bits);

void dr_hll_init(struct dr_hll *h);

static inline uint64_t dr_hll_term(unsigned rank)
{
	return rank <= DR_HLL_SUM_SCALE ? 1ull << (DR_HLL_SUM_SCALE - rank) : 0;
}

static inline void dr_hll_add(struct dr_hll *h, uint64_t hash)
{
	uint32_t idx = (uint32_t)(hash >> (64 - DR_HLL_BITS));
	uint64_t rest = hash << DR_HLL_BITS | (1ull << (DR_HLL_BITS - 1));
	uint8_t rank = (uint8_t)(__builtin_clzll(rest) + 1);
	uint8_t old = h->reg[idx];
	if (rank <= old)
		return;
	h->reg[idx] = rank;
	h->scaled_sum += dr_hll_term(rank) - dr_hll_term(old);	/* wraps back: unsigned */
	h->zeros -= old == 0;
}

/* Estimated number of distinct items added, rounded. */
uint64_t dr_hll_count(const struct dr_hll *h);

static inline void dr_hll_small_add(struct dr_hll_small *h, uint64_t hash)
{
	dr_hll_add_regs(h->reg, DR_HLL_SMALL_BITS, hash);
}

static inline double dr_hll_small_count(const struct dr_hll_small *h)
{
	return dr_hll_estimate(h->reg, DR_HLL_SMALL_BITS);
}

#endif
