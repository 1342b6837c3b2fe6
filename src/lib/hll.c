/* HyperLogLog estimate with the small-range (linear counting) correction. */
#include "lib/hll.h"

#include <math.h>
#include <string.h>

void dr_hll_init(struct dr_hll *h)
{
	memset(h->reg, 0, sizeof(h->reg));
}

uint64_t dr_hll_count(const struct dr_hll *h)
{
	double m = DR_HLL_REGS, sum = 0;
	unsigned zeros = 0;
	for (unsigned i = 0; i < DR_HLL_REGS; i++) {
		sum += ldexp(1.0, -h->reg[i]);
		zeros += h->reg[i] == 0;
	}
	double alpha = 0.7213 / (1 + 1.079 / m);
	double est = alpha * m * m / sum;
	if (est <= 2.5 * m && zeros)
		est = m * log(m / zeros);
	return (uint64_t)(est + 0.5);
}
