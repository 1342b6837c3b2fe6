/* Turns the aggregates into ranked tables of printable rows. */
#include "report/tables.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "lib/outbuf.h"

static struct dr_table *add_table(struct dr_tables *ts, const char *id, const char *title,
				  const char *key_head, const char *count_head, unsigned rows)
{
	struct dr_table *t = &ts->t[ts->n++];
	memset(t, 0, sizeof(*t));
	t->id = id;
	t->title = title;
	t->key_head = key_head;
	t->count_head = count_head;
	t->ranked = 1;
	t->rows = calloc(rows ? rows : 1, sizeof(*t->rows));
	return t->rows ? t : NULL;
}

static int from_topk(struct dr_tables *ts, const char *id, const char *title,
		     const char *key_head, const struct dr_topk *k, const struct dr_hll *h,
		     int is_addr, unsigned top)
{
	struct dr_table *t = add_table(ts, id, title, key_head, "messages", top);
	if (!t)
		return DR_ENOMEM;
	uint32_t *idx = calloc(top ? top : 1, sizeof(*idx));
	if (!idx)
		return DR_ENOMEM;
	t->nrows = dr_topk_top(k, idx, top);
	for (unsigned i = 0; i < t->nrows; i++) {
		struct dr_row *r = &t->rows[i];
		const uint8_t *key = dr_topk_key(k, idx[i]);
		if (is_addr)
			dr_addr_text(key[0], key + 1, r->key);
		else
			dr_name_to_text(key, k->key_len[idx[i]], r->key);
		r->value = -1;
		r->count = k->count[idx[i]];
		r->error = k->error[idx[i]];
	}
	free(idx);
	t->total = k->total;
	t->distinct = dr_stats_distinct(k, h);
	t->approximate = k->evictions > 0;
	return 0;
}

/* A top-N table over a flat array of counters indexed by value. */
static int from_array(struct dr_tables *ts, const char *id, const char *title,
		      const char *key_head, const char *count_head, const uint64_t *counts,
		      size_t n, const char *(*namer)(unsigned), unsigned top)
{
	struct dr_table *t = add_table(ts, id, title, key_head, count_head, top);
	if (!t)
		return DR_ENOMEM;
	for (size_t v = 0; v < n; v++) {
		if (!counts[v])
			continue;
		t->total += counts[v];
		t->distinct++;
		/* Insertion into the sorted top rows (count desc, value asc). */
		unsigned pos = t->nrows;
		while (pos > 0 && t->rows[pos - 1].count < counts[v])
			pos--;
		if (pos >= top)
			continue;
		unsigned last = t->nrows < top ? t->nrows : top - 1;
		memmove(&t->rows[pos + 1], &t->rows[pos], (last - pos) * sizeof(t->rows[0]));
		if (t->nrows < top)
			t->nrows++;
		struct dr_row *r = &t->rows[pos];
		memset(r, 0, sizeof(*r));
		r->value = (int64_t)v;
		r->count = counts[v];
		const char *name = namer ? namer((unsigned)v) : NULL;
		if (name)
			snprintf(r->key, sizeof(r->key), "%s", name);
		else if (namer == dr_qtype_name)
			snprintf(r->key, sizeof(r->key), "TYPE%zu", v);
		else if (namer)
			snprintf(r->key, sizeof(r->key), "RCODE%zu", v);
		else
			snprintf(r->key, sizeof(r->key), "%zu", v);
	}
	return 0;
}

static int response_sizes(struct dr_tables *ts, const struct dr_stats *s)
{
	struct dr_table *t = add_table(ts, "response_sizes", "Response sizes",
				       "octets", "responses", DR_SIZE_BUCKETS);
	if (!t)
		return DR_ENOMEM;
	t->ranked = 0;
	t->extra_head = "bytes";
	t->extra_json = "bytes";
	uint32_t lo = 0;
	for (unsigned b = 0; b < DR_SIZE_BUCKETS; b++) {
		uint32_t hi = dr_size_bucket_max[b];
		if (s->resp_size[b]) {
			struct dr_row *r = &t->rows[t->nrows++];
			snprintf(r->key, sizeof(r->key), "%u-%u", lo, hi);
			r->value = hi;
			r->count = s->resp_size[b];
			r->extra = s->resp_size_bytes[b];
			t->distinct++;
		}
		t->total += s->resp_size[b];
		lo = hi + 1;
	}
	return 0;
}

static int qps_distribution(struct dr_tables *ts, const struct dr_stats *s)
{
	struct dr_table *t = add_table(ts, "source_qps", "Sources by peak queries per second",
				       "peak q/s", "sources", DR_QPS_BUCKETS);
	if (!t)
		return DR_ENOMEM;
	t->ranked = 0;
	t->extra_head = "queries";
	t->extra_json = "queries";
	uint64_t sources[DR_QPS_BUCKETS], queries[DR_QPS_BUCKETS];
	dr_stats_qps_distribution(s, sources, queries);
	for (unsigned b = 0; b < DR_QPS_BUCKETS; b++) {
		t->total += sources[b];
		if (!sources[b])
			continue;
		struct dr_row *r = &t->rows[t->nrows++];
		uint32_t lo = dr_qps_bucket_min[b];
		if (b + 1 < DR_QPS_BUCKETS && dr_qps_bucket_min[b + 1] - 1 == lo)
			snprintf(r->key, sizeof(r->key), "%u", lo);
		else if (b + 1 < DR_QPS_BUCKETS)
			snprintf(r->key, sizeof(r->key), "%u-%u", lo, dr_qps_bucket_min[b + 1] - 1);
		else
			snprintf(r->key, sizeof(r->key), "%u+", lo);
		r->value = lo;
		r->count = sources[b];
		r->extra = queries[b];
		t->distinct++;
	}
	t->approximate = s->sources.evictions > 0;
	return 0;
}

int dr_tables_build(struct dr_tables *out, const struct dr_stats *s, unsigned top)
{
	memset(out, 0, sizeof(*out));
	if (from_topk(out, "sources", "Top sources", "source", &s->sources,
		      &s->sources_hll, 1, top) ||
	    from_topk(out, "destinations", "Top destinations", "destination",
		      &s->destinations, &s->destinations_hll, 1, top) ||
	    from_array(out, "source_ports", "Top source ports", "port", "messages",
		       s->sports, 65536, NULL, top) ||
	    from_array(out, "destination_ports", "Top destination ports", "port", "messages",
		       s->dports, 65536, NULL, top) ||
	    from_topk(out, "qnames", "Top query names", "name", &s->qnames,
		      &s->qnames_hll, 0, top) ||
	    from_topk(out, "domains", "Top registered domains", "domain", &s->domains,
		      &s->domains_hll, 0, top) ||
	    from_array(out, "qtypes", "Query types", "type", "messages", s->qtypes,
		       65536, dr_qtype_name, top) ||
	    from_array(out, "rcodes", "Response codes", "rcode", "responses", s->rcodes,
		       4096, dr_rcode_name, top) ||
	    response_sizes(out, s) || qps_distribution(out, s)) {
		dr_tables_free(out);
		return DR_ENOMEM;
	}
	return 0;
}

void dr_tables_free(struct dr_tables *t)
{
	for (unsigned i = 0; i < t->n; i++)
		free(t->t[i].rows);
	t->n = 0;
}
