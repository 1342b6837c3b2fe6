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

double dr_hll_estimate(const uint8_t *reg, unsigned bits)
{
	unsigned nreg = 1u << bits;
	double m = nreg, sum = 0;
	unsigned zeros = 0;
	for (unsigned i = 0; i < nreg; i++) {
		sum += 1.0 / (double)(1ull << reg[i]);	/* ranks are at most 65 - bits */
		zeros += reg[i] == 0;
	}
	double alpha = 0.7213 / (1 + 1.079 / m);
	double est = alpha * m * m / sum;
	if (est <= 2.5 * m && zeros)
		est = m * log(m / zeros);
	return est;
}

uint64_t dr_hll_count(const struct dr_hll *h)
{
	double m = DR_HLL_REGS;
	double sum = (double)h->scaled_sum / (double)(1ull << DR_HLL_SUM_SCALE);
	double alpha = 0.7213 / (1 + 1.079 / m);
	double est = alpha * m * m / sum;
	if (est <= 2.5 * m && h->zeros)
		est = m * log(m / h->zeros);
	return (uint64_t)(est + 0.5);
}
