/* Rendering of an analysis: an aligned text report for people, one JSON
 * document ({"summary", "decode", "top", "alerts"}) for machines. */
#ifndef DR_REPORT_RENDER_H
#define DR_REPORT_RENDER_H

#include "lib/outbuf.h"
#include "report/report.h"

void dr_render_text(struct dr_out *o, const struct dr_report *r);
void dr_render_json(struct dr_out *o, const struct dr_report *r);

#endif
