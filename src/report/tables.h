/* The report model: the top-N tables of an analysis as rows of text keys
 * and counts, built once and rendered as text or JSON. */
#ifndef DR_REPORT_TABLES_H
#define DR_REPORT_TABLES_H

#include <stdint.h>

#include "decode/dns.h"
#include "lib/geo.h"
#include "report/stats.h"

#define DR_EXTRAS 3	/* measures a row may carry besides its count */
#define DR_KEY_SHOWN 60	/* characters of a key in the text report */

struct dr_row {
	char key[DR_NAME_TEXT_MAX];	/* what is counted, as text (JSON: in full) */
	char shown[DR_KEY_SHOWN + 1];	/* key cut for the text report */
	int64_t value;		/* numeric form (port, type, code) or -1 */
	uint64_t count;
	uint64_t extra[DR_EXTRAS];	/* more measures, see dr_table.extra_head */
	uint64_t error;		/* Space-Saving overestimate bound, 0 = exact */
};

struct dr_table {
	const char *id;		/* JSON member name */
	const char *title;	/* "Top sources" */
	const char *key_head;	/* column heading of the key */
	const char *count_head;	/* "messages" */
	unsigned nextra;	/* extra columns in use */
	const char *extra_head[DR_EXTRAS];	/* their headings */
	const char *extra_json[DR_EXTRAS];	/* and JSON names */
	uint64_t total;		/* what shares are taken of */
	uint64_t distinct;	/* distinct keys seen (estimated when approximate) */
	int approximate;	/* the table overflowed; counts carry error bounds */
	int ranked;		/* a top-N table, not a full distribution */
	unsigned nrows;
	struct dr_row *rows;
};

#define DR_TABLES 16	/* ten, the geography's and the flows' */

struct dr_tables {
	unsigned n;
	struct dr_table t[DR_TABLES];
};

/* Builds every table from the aggregates, top rows per ranked table; with
 * geo databases (geo may be NULL), also sources by country and by AS.
 * Names are in presentation form with BIND's escapes (dr_name_to_text);
 * every row's `shown` is its key cut to DR_KEY_SHOWN (dr_key_shorten).
 * Returns 0 or DR_ENOMEM. */
int dr_tables_build(struct dr_tables *out, const struct dr_stats *s, unsigned top,
		    const struct dr_geo *geo);
void dr_tables_free(struct dr_tables *t);

/* Writes key into out (width + 1 bytes) whole when it has at most width
 * characters, else as its head, "..." and its tail (the tail longer: a
 * name's zone is at its end), never splitting a \DDD or \X escape or a
 * UTF-8 sequence. "..." cannot be part of a name in presentation form,
 * which has no empty labels and escapes a dot inside a label. width must
 * be at least 12. */
void dr_key_shorten(const char *key, char *out, size_t width);

#endif
