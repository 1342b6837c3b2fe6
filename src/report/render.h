/* Rendering of an analysis: an aligned text report for people, one JSON
 * document ({"summary", "decode", "top", "alerts"}) for machines. */
#ifndef DR_REPORT_RENDER_H
#define DR_REPORT_RENDER_H

#include "decode/packet.h"
#include "detect/engine.h"
#include "lib/outbuf.h"
#include "report/alerts.h"
#include "report/stats.h"
#include "report/tables.h"

struct dr_report {
	const struct dr_stats *stats;
	const struct dr_tables *tables;
	const struct dr_decode_stats *decode;
	uint64_t filtered;		/* packets left out by --bpf */
	char *const *files;
	unsigned nfiles;
	char *const *where;		/* the --where conditions as given */
	unsigned nwhere;
	const struct dr_engine *engine;	/* detectors' memory */
	const struct dr_alert_log *alerts;	/* the run's alerts, sorted */
	int show_stats;			/* --stats */
	size_t decode_mem;		/* the decoder's budget */
	size_t ring_mem;		/* records in flight to the detector thread */
	const char *interrupted;	/* "SIGINT" when a signal stopped the reading */
};

void dr_render_text(struct dr_out *o, const struct dr_report *r);
void dr_render_json(struct dr_out *o, const struct dr_report *r);

#endif
