/* Shared detector helpers. */
#include "detect/common.h"

#include <math.h>
#include <stdio.h>

double dr_hll8_count(const struct dr_hll8 *h)
{
	double sum = 0;
	unsigned zeros = 0;
	for (unsigned i = 0; i < 256; i++) {
		sum += ldexp(1.0, -h->reg[i]);
		zeros += h->reg[i] == 0;
	}
	double est = 0.7182 * 256 * 256 / sum;
	if (est <= 2.5 * 256 && zeros)
		est = 256 * log(256.0 / zeros);
	return est;
}

void dr_fmt_bps(char *buf, size_t len, double bps)
{
	if (bps >= 1e9)
		snprintf(buf, len, "%.2f Gbit/s", bps / 1e9);
	else if (bps >= 1e6)
		snprintf(buf, len, "%.1f Mbit/s", bps / 1e6);
	else if (bps >= 1e3)
		snprintf(buf, len, "%.1f kbit/s", bps / 1e3);
	else
		snprintf(buf, len, "%.0f bit/s", bps);
}
