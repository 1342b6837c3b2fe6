/* Turns the aggregates into ranked tables of printable rows. */
#include "report/tables.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"
#include "lib/hash.h"
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
		     const char *key_head, const char *count_head, const struct dr_topk *k,
		     const struct dr_hll *h, int is_addr, unsigned top)
{
	struct dr_table *t = add_table(ts, id, title, key_head, count_head, top);
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
	t->approximate = !dr_topk_exact(k);
	return 0;
}

/* A top-N table over a flat array of n counters indexed by value (with
 * their low 16 bits apart in lo, for ports), of which only those whose
 * bit is set in `used` were counted (stats.h): the walk costs the values
 * in use, not n. */
static int from_array(struct dr_tables *ts, const char *id, const char *title,
		      const char *key_head, const char *count_head, const uint64_t *counts_hi,
		      const uint16_t *lo, const uint64_t *used, size_t n,
		      const char *(*namer)(unsigned), unsigned top)
{
	struct dr_table *t = add_table(ts, id, title, key_head, count_head, top);
	if (!t)
		return DR_ENOMEM;
	for (size_t w = 0; w < n / 64; w++) {
		for (uint64_t bits = used[w]; bits; bits &= bits - 1) {
			size_t v = w << 6 | (size_t)__builtin_ctzll(bits);
			uint64_t count = lo ? dr_stats_port_count(counts_hi, lo, (unsigned)v)
					    : dr_stats_count(counts_hi, (unsigned)v);
			t->total += count;
			t->distinct++;
			/* Insertion into the sorted top rows (count desc, value asc). */
			unsigned pos = t->nrows;
			while (pos > 0 && t->rows[pos - 1].count < count)
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
			r->count = count;
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
	t->nextra = 1;
	t->extra_head[0] = "bytes";
	t->extra_json[0] = "bytes";
	uint32_t lo = 0;
	for (unsigned b = 0; b < DR_SIZE_BUCKETS; b++) {
		uint32_t hi = dr_size_bucket_max[b];
		if (s->resp_size[b]) {
			struct dr_row *r = &t->rows[t->nrows++];
			snprintf(r->key, sizeof(r->key), "%u-%u", lo, hi);
			r->value = hi;
			r->count = s->resp_size[b];
			r->extra[0] = s->resp_size_bytes[b];
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
	t->nextra = 1;
	t->extra_head[0] = "queries";
	t->extra_json[0] = "queries";
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
		r->extra[0] = queries[b];
		t->distinct++;
	}
	t->approximate = !dr_topk_exact(&s->sources);
	return 0;
}

/* One source of the sources table, placed on the map. */
struct placed {
	char cc[3];
	uint32_t asn;
	uint64_t prefix;	/* hash of its /24 or /48 */
	uint64_t count;
	uint32_t entry;
};

static int by_cc_prefix(const void *a, const void *b)
{
	const struct placed *x = a, *y = b;
	int c = strcmp(x->cc, y->cc);
	return c ? c : (x->prefix > y->prefix) - (x->prefix < y->prefix);
}

static int by_cc_asn(const void *a, const void *b)
{
	const struct placed *x = a, *y = b;
	int c = strcmp(x->cc, y->cc);
	return c ? c : (x->asn > y->asn) - (x->asn < y->asn);
}

static int by_asn_prefix(const void *a, const void *b)
{
	const struct placed *x = a, *y = b;
	if (x->asn != y->asn)
		return x->asn < y->asn ? -1 : 1;
	return (x->prefix > y->prefix) - (x->prefix < y->prefix);
}

static int by_count_desc(const void *a, const void *b)
{
	const struct dr_row *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* Ranks `n` candidate rows and keeps the top ones in t. */
static void keep_top(struct dr_table *t, struct dr_row *rows, unsigned n, unsigned top)
{
	qsort(rows, n, sizeof(*rows), by_count_desc);
	t->distinct = n;
	t->nrows = n < top ? n : top;
	memcpy(t->rows, rows, t->nrows * sizeof(*rows));
}

/* Sources by country and by autonomous system, from the sources table:
 * messages, sources, distinct /24 (/48) prefixes and, per country,
 * distinct ASes: the break-down an authoritative operator sends to the
 * networks an attack comes from. */
static int geo_tables(struct dr_tables *ts, const struct dr_stats *s, const struct dr_geo *g,
		      unsigned top)
{
	const struct dr_topk *k = &s->sources;
	uint32_t n = k->used;
	struct placed *p = calloc(n ? n : 1, sizeof(*p));
	struct dr_row *rows = calloc(n ? n : 1, sizeof(*rows));
	if (!p || !rows) {
		free(p);
		free(rows);
		return DR_ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *key = dr_topk_key(k, i);
		int family = key[0];
		uint8_t masked[16] = {0};
		memcpy(masked, key + 1, family == 4 ? 3 : 6);
		p[i].prefix = dr_hash64(masked, sizeof(masked)) ^ (uint64_t)family;
		p[i].count = k->count[i];
		p[i].entry = i;
		dr_geo_country(g, family, key + 1, p[i].cc);
		p[i].asn = dr_geo_asn(g, family, key + 1, NULL, 0);
	}
	int rc = 0;
	if (g->country) {
		struct dr_table *t = add_table(ts, "countries", "Sources by country", "country",
					       "messages", top);
		if (!t) {
			rc = DR_ENOMEM;
			goto out;
		}
		t->nextra = g->asn ? 3 : 2;
		t->extra_head[0] = t->extra_json[0] = "sources";
		t->extra_head[1] = t->extra_json[1] = "prefixes";
		t->extra_head[2] = "ASes";
		t->extra_json[2] = "ases";
		t->total = k->total;
		t->approximate = !dr_topk_exact(k);
		unsigned nrows = 0;
		qsort(p, n, sizeof(*p), by_cc_prefix);
		for (uint32_t i = 0; i < n;) {
			struct dr_row *r = &rows[nrows++];
			memset(r, 0, sizeof(*r));
			r->value = -1;
			snprintf(r->key, sizeof(r->key), "%s", p[i].cc);
			uint32_t j = i;
			for (; j < n && strcmp(p[j].cc, p[i].cc) == 0; j++) {
				r->count += p[j].count;
				r->extra[0]++;
				r->extra[1] += j == i || p[j].prefix != p[j - 1].prefix;
			}
			i = j;
		}
		qsort(p, n, sizeof(*p), by_cc_asn);
		for (uint32_t i = 0, row = 0; i < n; row++) {
			uint32_t j = i;
			for (; j < n && strcmp(p[j].cc, p[i].cc) == 0; j++)
				rows[row].extra[2] += p[j].asn && (j == i || p[j].asn != p[j - 1].asn);
			i = j;
		}
		keep_top(t, rows, nrows, top);
	}
	if (g->asn) {
		struct dr_table *t = add_table(ts, "ases", "Sources by autonomous system", "AS",
					       "messages", top);
		if (!t) {
			rc = DR_ENOMEM;
			goto out;
		}
		t->nextra = 2;
		t->extra_head[0] = t->extra_json[0] = "sources";
		t->extra_head[1] = t->extra_json[1] = "prefixes";
		t->total = k->total;
		t->approximate = !dr_topk_exact(k);
		unsigned nrows = 0;
		qsort(p, n, sizeof(*p), by_asn_prefix);
		for (uint32_t i = 0; i < n;) {
			struct dr_row *r = &rows[nrows++];
			memset(r, 0, sizeof(*r));
			r->value = p[i].asn ? (int64_t)p[i].asn : -1;
			uint32_t j = i;
			for (; j < n && p[j].asn == p[i].asn; j++) {
				r->count += p[j].count;
				r->extra[0]++;
				r->extra[1] += j == i || p[j].prefix != p[j - 1].prefix;
			}
			char org[128];
			const uint8_t *key = dr_topk_key(k, p[i].entry);
			if (p[i].asn && dr_geo_asn(g, key[0], key + 1, org, sizeof(org)) && org[0])
				snprintf(r->key, sizeof(r->key), "AS%u %s", p[i].asn, org);
			else if (p[i].asn)
				snprintf(r->key, sizeof(r->key), "AS%u", p[i].asn);
			else
				snprintf(r->key, sizeof(r->key), "unknown");
			i = j;
		}
		keep_top(t, rows, nrows, top);
	}
out:
	free(p);
	free(rows);
	return rc;
}

/* Octets of the character (escape, UTF-8 sequence or octet) at s. */
static size_t char_len(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	if (u[0] == '\\' && u[1] >= '0' && u[1] <= '9' && u[2] >= '0' && u[2] <= '9' &&
	    u[3] >= '0' && u[3] <= '9')
		return 4;
	if (u[0] == '\\' && u[1])
		return 2;
	size_t n = 1;
	if (u[0] >= 0xc0)
		while (n < 4 && (u[n] & 0xc0) == 0x80)
			n++;
	return n;
}

void dr_key_shorten(const char *key, char *out, size_t width)
{
	static const char mark[] = "...";
	size_t len = strlen(key);
	if (len <= width) {
		memcpy(out, key, len + 1);
		return;
	}
	size_t room = width - (sizeof(mark) - 1);
	size_t head_room = room / 3;
	/* head: whole characters that fit in a third */
	size_t head = 0;
	while (head < len) {
		size_t n = char_len(key + head);
		if (head + n > head_room)
			break;
		head += n;
	}
	/* tail: the latest character boundary from which the rest fits */
	size_t tail = len, at = head;
	while (at < len) {
		if (len - at <= room - head) {
			tail = at;
			break;
		}
		at += char_len(key + at);
	}
	memcpy(out, key, head);
	memcpy(out + head, mark, sizeof(mark) - 1);
	memcpy(out + head + sizeof(mark) - 1, key + tail, len - tail + 1);
}

int dr_tables_build(struct dr_tables *out, const struct dr_stats *s, unsigned top,
		    const struct dr_geo *geo)
{
	memset(out, 0, sizeof(*out));
	if (from_topk(out, "sources", "Top sources", "source", "messages", &s->sources,
		      &s->sources_hll, 1, top) ||
	    from_topk(out, "destinations", "Top destinations", "destination", "messages",
		      &s->destinations, &s->destinations_hll, 1, top) ||
	    from_array(out, "source_ports", "Top source ports", "port", "messages",
		       s->sports, s->sports_lo, s->sports_used, 65536, NULL, top) ||
	    from_array(out, "destination_ports", "Top destination ports", "port", "messages",
		       s->dports, s->dports_lo, s->dports_used, 65536, NULL, top) ||
	    from_topk(out, "qnames", "Top query names", "name", "messages", &s->qnames,
		      &s->qnames_hll, 0, top) ||
	    from_topk(out, "domains", "Top registered domains", "domain", "messages", &s->domains,
		      &s->domains_hll, 0, top) ||
	    from_array(out, "qtypes", "Query types", "type", "messages", s->qtypes,
		       NULL, s->qtypes_used, 65536, dr_qtype_name, top) ||
	    from_array(out, "rcodes", "Response codes", "rcode", "responses", s->rcodes,
		       NULL, s->rcodes_used, 4096, dr_rcode_name, top) ||
	    response_sizes(out, s) || qps_distribution(out, s) ||
	    /* flow exports: the hosts of DNS-port flows, which the message
	     * tables above cannot weigh (a flow is many packets, no message) */
	    (s->flow_dns_records &&
	     (from_topk(out, "flow_sources", "Top sources of DNS-port flows", "source", "packets",
			&s->flow_sources, &s->flow_sources_hll, 1, top) ||
	      from_topk(out, "flow_destinations", "Top destinations of DNS-port flows",
			"destination", "packets", &s->flow_destinations,
			&s->flow_destinations_hll, 1, top))) ||
	    (geo && (geo->country || geo->asn) && geo_tables(out, s, geo, top))) {
		dr_tables_free(out);
		return DR_ENOMEM;
	}
	for (unsigned i = 0; i < out->n; i++)
		for (unsigned j = 0; j < out->t[i].nrows; j++)
			dr_key_shorten(out->t[i].rows[j].key, out->t[i].rows[j].shown, DR_KEY_SHOWN);
	return 0;
}

void dr_tables_free(struct dr_tables *t)
{
	for (unsigned i = 0; i < t->n; i++)
		free(t->t[i].rows);
	t->n = 0;
}
