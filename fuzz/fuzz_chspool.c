/* Fuzz target: a file in ClickHouse's spool folder, read back at every
 * start (store/ch_batch.c): a damaged or hostile file must be set aside
 * or taken as a batch of the size its header says, never crash; the sink
 * then closes without sending anything. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/clickhouse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[64], path[128];
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/dr_fuzz_chspool_%d", (int)getpid());
		mkdir(dir, 0700);
	}
	/* the first octet picks the file's table, the rest is the file */
	static const char *const names[] = {"alert_events", "agg", "records", "agg.damaged"};
	const char *table = names[size ? data[0] % 4 : 0];
	snprintf(path, sizeof(path), "%s/%020u.%s", dir, 42u, table);
	FILE *f = fopen(path, "wb");
	if (!f)
		return 0;
	if (size > 1)
		fwrite(data + 1, 1, size - 1, f);
	fclose(f);
	struct dr_ch_config c;
	struct dr_ch *ch;
	char err[256];
	dr_ch_config_defaults(&c);
	c.url = "http://127.0.0.1:9/";
	c.sensor = "fuzz";
	c.spool = dir;
	if (dr_ch_open(&ch, &c, err, sizeof(err)) == 0) {
		struct dr_ch_stats st;
		dr_ch_stats(ch, &st);
		if (st.spool_batches > 1)
			__builtin_trap();	/* one file, at most one batch */
		dr_ch_close(ch, 0);
	}
	unlink(path);
	char aside[160];
	snprintf(aside, sizeof(aside), "%s.damaged", path);
	unlink(aside);
	return 0;
}
