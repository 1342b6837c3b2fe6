/* HyperLogLog estimate with the small-range (linear counting) correction. */
#include "lib/hll.h"

#include <math.h>
#include <string.h>

void dr_hll_init(struct dr_hll *h)
{
	memset(h->reg, 0, sizeof(h->reg));
	h->scaled_sum = (uint64_t)DR_HLL_REGS << DR_HLL_SUM_SCALE;
	h->zeros = DR_HLL_REGS;
}

/* The estimate of m registers whose 2^-reg sum to sum, zeros of them 0. */
static double estimate(double m, double sum, unsigned zeros)
{
	double alpha = 0.7213 / (1 + 1.079 / m);
	double est = alpha * m * m / sum;
	if (est <= 2.5 * m && zeros)
		est = m * log(m / zeros);
	return est;
}

double dr_hll_estimate(const uint8_t *reg, unsigned bits)
{
	unsigned nreg = 1u << bits;
	double sum = 0;
	unsigned zeros = 0;
	for (unsigned i = 0; i < nreg; i++) {
		sum += 1.0 / (double)(1ull << reg[i]);	/* ranks are at most 65 - bits */
		zeros += reg[i] == 0;
	}
	return estimate(nreg, sum, zeros);
}

uint64_t dr_hll_count(const struct dr_hll *h)
{
	double sum = (double)h->scaled_sum / (double)(1ull << DR_HLL_SUM_SCALE);
	return (uint64_t)(estimate(DR_HLL_REGS, sum, h->zeros) + 0.5);
}
