/* Shared detector helpers. */
#include "detect/common.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lib/strbuf.h"

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

void dr_top4_json(struct dr_sb *sb, const struct dr_top4 *t, const char *count_name,
		  const char *suffix4, const char *suffix6)
{
	unsigned order[DR_FEW_TOP], n = 0;
	for (unsigned i = 0; i < DR_FEW_TOP; i++)
		if (t->count[i])
			order[n++] = i;
	for (unsigned i = 1; i < n; i++)	/* heaviest first */
		for (unsigned j = i; j > 0 && t->count[order[j]] > t->count[order[j - 1]]; j--) {
			unsigned x = order[j];
			order[j] = order[j - 1];
			order[j - 1] = x;
		}
	dr_sb_printf(sb, "[");
	for (unsigned i = 0; i < n; i++) {
		char who[64];
		const uint8_t *key = t->key[order[i]];
		dr_akey_text(key, who);
		if (suffix4)
			strcat(who, key[0] == 4 ? suffix4 : suffix6);
		dr_sb_printf(sb, "%s{\"address\":", i ? "," : "");
		dr_sb_json_str(sb, who);
		dr_sb_printf(sb, ",\"%s\":%u}", count_name, t->count[order[i]]);
	}
	dr_sb_printf(sb, "]");
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
