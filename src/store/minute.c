/* The per-minute aggregator and sampler of the store: heavy hitters per
 * dimension (lib/topk.h) and flat counters for 16-bit fields, a reservoir
 * of records, and the batch a minute becomes for the writer thread. */
#include "store/minute.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/dns.h"
#include "lib/errors.h"
#include "lib/hash.h"
#include "lib/outbuf.h"

const char *const dr_store_dim_names[DR_DIM_COUNT] = {
	[DR_DIM_TOTAL] = "total", [DR_DIM_SRC] = "src", [DR_DIM_DST] = "dst",
	[DR_DIM_SPORT] = "sport", [DR_DIM_DPORT] = "dport", [DR_DIM_QNAME] = "qname",
	[DR_DIM_ZONE] = "zone", [DR_DIM_QTYPE] = "qtype", [DR_DIM_RCODE] = "rcode",
	[DR_DIM_COUNTRY] = "country", [DR_DIM_ASN] = "asn", [DR_DIM_DIRECTION] = "direction",
	[DR_DIM_EXPORTER] = "exporter", [DR_DIM_KIND] = "kind",
};

static const char *const direction_names[DR_SDIR_COUNT] = {
	"unknown", "ingress", "egress", "query", "response",
};

void dr_store_row_fill(struct dr_store_row *row, const struct dr_record *r, int why)
{
	row->ts = dr_record_time(r);
	row->packets = r->packets;
	row->bytes = r->bytes;
	row->sport = r->sport;
	row->dport = r->dport;
	row->kind = r->kind;
	row->family = r->family;
	row->proto = r->proto;
	row->why = (uint8_t)why;
	memcpy(row->src, r->src, 16);
	memcpy(row->dst, r->dst, 16);
	if (r->kind != DR_KIND_DNS) {
		/* an aggregate: its packets' mean size stands for a length */
		row->len = r->packets ? (uint32_t)(r->bytes / r->packets) : 0;
		row->has_question = 0;
		row->qname_len = 0;
		row->zone = -1;
		return;
	}
	const struct dr_dns *d = &r->dns;
	row->len = r->payload_len;
	row->id = d->id;
	row->flags = d->flags;
	row->rcode = d->rcode_ext;
	row->an = d->ancount;
	row->ns = d->nscount;
	row->ar = d->arcount;
	row->edns = d->edns;
	row->edns_udp = d->edns_udp;
	row->edns_do = d->edns_do;
	row->malformed = d->malformed;
	row->has_question = d->has_question;
	row->qtype = d->qtype;
	row->qclass = d->qclass;
	row->qname_len = d->has_question ? d->qname_len : 0;
	row->zone = -1;
	if (row->qname_len) {
		memcpy(row->qname, d->qname, row->qname_len);
		if (r->keys.ready && r->keys.qname_len == row->qname_len) {
			memcpy(row->qname_lc, r->keys.qname, row->qname_len);
			row->zone = r->keys.zone;
		} else {
			memcpy(row->qname_lc, d->qname, row->qname_len);
			dr_name_lower(row->qname_lc, row->qname_len);
		}
	}
}

static int values_init(struct dr_store_values *v, uint32_t n)
{
	v->n = n;
	v->c = calloc(n, sizeof(*v->c));
	v->used = calloc(n / 64, sizeof(*v->used));
	return v->c && v->used ? 0 : DR_ENOMEM;
}

static void values_fini(struct dr_store_values *v)
{
	free(v->c);
	free(v->used);
	memset(v, 0, sizeof(*v));
}

/* Of the sampled entries, the one with the smallest count goes. */
static uint32_t least_counted(const struct dr_topk *t, const uint32_t *cand, unsigned n, void *ctx)
{
	(void)ctx;
	uint32_t best = cand[0];
	for (unsigned i = 1; i < n; i++)
		if (t->count[cand[i]] < t->count[best])
			best = cand[i];
	return best;
}

int dr_minute_init(struct dr_minute *m, uint32_t top, uint32_t sample)
{
	memset(m, 0, sizeof(*m));
	m->top = top;
	m->sample_cap = sample;
	m->rng = 0x9E3779B97F4A7C15ull;
	/* Room beyond the rows kept, so that the top keys are those of the
	 * minute and not only of its last moments (Space-Saving). */
	uint32_t cap = top * 8 < 1024 ? 1024 : top * 8;
	size_t extra = sizeof(struct dr_store_counts);
	if (dr_topk_init(&m->src, cap, DR_AKEY, extra) < 0 ||
	    dr_topk_init(&m->dst, cap, DR_AKEY, extra) < 0 ||
	    dr_topk_init(&m->exporter, cap, DR_AKEY, extra) < 0 ||
	    dr_topk_init(&m->qname, cap, DR_NAME_MAX + 1, extra) < 0 ||
	    dr_topk_init(&m->zone, cap, DR_NAME_MAX + 1, extra) < 0 ||
	    values_init(&m->sport, 65536) < 0 || values_init(&m->dport, 65536) < 0 ||
	    values_init(&m->qtype, 65536) < 0 || values_init(&m->rcode, 4096) < 0)
		goto fail;
	/* Lazy tables: an eviction costs a look at 8 entries, not a heap
	 * walk (several times the cost of a record under churn); the counts
	 * written are those since a key came in anyway (topk_rows). */
	dr_topk_set_lazy(&m->src, least_counted, NULL);
	dr_topk_set_lazy(&m->dst, least_counted, NULL);
	dr_topk_set_lazy(&m->exporter, least_counted, NULL);
	dr_topk_set_lazy(&m->qname, least_counted, NULL);
	dr_topk_set_lazy(&m->zone, least_counted, NULL);
	m->rank = malloc(65536 * sizeof(*m->rank));
	m->reservoir = sample ? malloc((size_t)sample * sizeof(*m->reservoir)) : NULL;
	if (!m->rank || (sample && !m->reservoir))
		goto fail;
	return 0;
fail:
	dr_minute_fini(m);
	return DR_ENOMEM;
}

void dr_minute_fini(struct dr_minute *m)
{
	dr_topk_fini(&m->src);
	dr_topk_fini(&m->dst);
	dr_topk_fini(&m->exporter);
	dr_topk_fini(&m->qname);
	dr_topk_fini(&m->zone);
	values_fini(&m->sport);
	values_fini(&m->dport);
	values_fini(&m->qtype);
	values_fini(&m->rcode);
	free(m->rank);
	free(m->reservoir);
	memset(m, 0, sizeof(*m));
}

static inline void counts_add(struct dr_store_counts *c, uint64_t msgs, uint64_t packets,
			      uint64_t bytes)
{
	c->messages += msgs;
	c->packets += packets;
	c->bytes += bytes;
}

/* A key refused by a full table is counted nowhere here: the minute's end
 * puts it under '(other)', as the difference from the total. */
static inline void topk_count(struct dr_topk *t, const void *key, uint32_t len, uint64_t hash,
			      uint64_t msgs, uint64_t packets, uint64_t bytes)
{
	int fresh;
	uint32_t e = dr_topk_add(t, key, len, (uint32_t)hash, msgs, &fresh);
	if (e != DR_TOPK_REFUSED)
		counts_add(dr_topk_extra(t, e), msgs, packets, bytes);
}

static inline void values_count(struct dr_store_values *v, unsigned value, uint64_t msgs,
				uint64_t packets, uint64_t bytes)
{
	v->used[value >> 6] |= 1ull << (value & 63);
	counts_add(&v->c[value], msgs, packets, bytes);
}

void dr_minute_count(struct dr_minute *m, const struct dr_record *r)
{
	uint64_t msgs = dr_record_messages(r), packets = r->packets, bytes = r->bytes;
	const struct dr_keys *k = &r->keys;
	/* the tables' cache misses overlap instead of following one another */
	dr_topk_prefetch(&m->src, (uint32_t)k->src.hash);
	dr_topk_prefetch(&m->dst, (uint32_t)k->dst.hash);
	if (r->kind == DR_KIND_DNS) {
		dr_topk_prefetch(&m->qname, (uint32_t)k->qname_hash);
		dr_topk_prefetch(&m->zone, (uint32_t)k->zone_hash);
	}
	m->active = 1;
	counts_add(&m->total, msgs, packets, bytes);
	topk_count(&m->src, k->src.b, k->src.len, k->src.hash, msgs, packets, bytes);
	topk_count(&m->dst, k->dst.b, k->dst.len, k->dst.hash, msgs, packets, bytes);
	values_count(&m->sport, r->sport, msgs, packets, bytes);
	values_count(&m->dport, r->dport, msgs, packets, bytes);
	if (r->exporter[0] == 4 || r->exporter[0] == 6) {
		uint32_t len = r->exporter[0] == 4 ? 5 : 17;
		topk_count(&m->exporter, r->exporter, len, dr_hash64(r->exporter, len), msgs,
			   packets, bytes);
	} else {
		counts_add(&m->none[DR_DIM_EXPORTER], msgs, packets, bytes);
	}
	if (r->kind == DR_KIND_DNS) {
		const struct dr_dns *d = &r->dns;
		counts_add(&m->kind[0], msgs, packets, bytes);
		unsigned qr = dr_dns_qr(d);
		counts_add(&m->direction[qr ? DR_SDIR_RESPONSE : DR_SDIR_QUERY], msgs, packets, bytes);
		if (qr)
			values_count(&m->rcode, d->rcode_ext & 0xfff, msgs, packets, bytes);
		else
			counts_add(&m->none[DR_DIM_RCODE], msgs, packets, bytes);
		if (d->has_question && k->qname_len) {
			values_count(&m->qtype, d->qtype, msgs, packets, bytes);
			topk_count(&m->qname, k->qname, k->qname_len, k->qname_hash, msgs, packets,
				   bytes);
			if (k->zone >= 0 && k->zone < k->qname_len)
				topk_count(&m->zone, k->qname + k->zone,
					   (uint32_t)(k->qname_len - k->zone), k->zone_hash, msgs,
					   packets, bytes);
			else
				counts_add(&m->none[DR_DIM_ZONE], msgs, packets, bytes);
			return;
		}
	} else {
		counts_add(&m->kind[1], msgs, packets, bytes);
		unsigned dir = r->direction < 3 ? r->direction : DR_SDIR_UNKNOWN;
		counts_add(&m->direction[dir], msgs, packets, bytes);
		counts_add(&m->none[DR_DIM_RCODE], msgs, packets, bytes);
	}
	counts_add(&m->none[DR_DIM_QTYPE], msgs, packets, bytes);
	counts_add(&m->none[DR_DIM_QNAME], msgs, packets, bytes);
	counts_add(&m->none[DR_DIM_ZONE], msgs, packets, bytes);
}

/* xorshift64*: the sample depends on the records alone, never on a clock. */
static inline uint64_t next_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

void dr_minute_sample(struct dr_minute *m, const struct dr_record *r)
{
	uint64_t seen = ++m->sample_seen;
	if (m->nsample < m->sample_cap) {
		dr_store_row_fill(&m->reservoir[m->nsample++], r, DR_WHY_SAMPLE);
		return;
	}
	if (!m->sample_cap)
		return;
	/* Algorithm R: the record replaces a kept one with probability cap/seen */
	uint64_t j = (uint64_t)(((__uint128_t)next_rand(&m->rng) * seen) >> 64);
	if (j < m->sample_cap)
		dr_store_row_fill(&m->reservoir[j], r, DR_WHY_SAMPLE);
}

/* ------------------------------------------------------------------ */
/* The minute's end */

void dr_store_minute_free(struct dr_store_minute *b)
{
	if (!b)
		return;
	free(b->rows);
	free(b->text);
	free(b->srcs);
	free(b->samples);
	free(b);
}

int dr_store_minute_row(struct dr_store_minute *b, unsigned dim, const char *key,
			const struct dr_store_counts *c)
{
	size_t n = strlen(key) + 1;
	if (b->nrows == b->rows_cap) {
		uint32_t cap = b->rows_cap ? b->rows_cap * 2 : 256;
		void *p = realloc(b->rows, cap * sizeof(*b->rows));
		if (!p)
			return -1;
		b->rows = p;
		b->rows_cap = cap;
	}
	if (b->text_cap - b->text_len < n) {
		size_t cap = b->text_cap ? b->text_cap * 2 : 16384;
		while (cap - b->text_len < n)
			cap *= 2;
		void *p = realloc(b->text, cap);
		if (!p)
			return -1;
		b->text = p;
		b->text_cap = cap;
	}
	memcpy(b->text + b->text_len, key, n);
	b->rows[b->nrows++] = (struct dr_store_agg){.dim = dim, .key = (uint32_t)b->text_len, .c = *c};
	b->text_len += n;
	return 0;
}

static void counts_sub(struct dr_store_counts *a, const struct dr_store_counts *b)
{
	a->messages = a->messages > b->messages ? a->messages - b->messages : 0;
	a->packets = a->packets > b->packets ? a->packets - b->packets : 0;
	a->bytes = a->bytes > b->bytes ? a->bytes - b->bytes : 0;
}

static int counts_zero(const struct dr_store_counts *c)
{
	return !c->messages && !c->packets && !c->bytes;
}

/* The rest of a dimension after its top rows and its '(none)': the total
 * less what the rows hold, so that the rows sum to the total. */
static int rest_rows(struct dr_store_minute *b, const struct dr_minute *m, unsigned dim,
		     const struct dr_store_counts *in_rows)
{
	struct dr_store_counts other = m->total;
	counts_sub(&other, in_rows);
	counts_sub(&other, &m->none[dim]);
	if (!counts_zero(&other) && dr_store_minute_row(b, dim, DR_STORE_KEY_OTHER, &other) < 0)
		return -1;
	if (!counts_zero(&m->none[dim]) &&
	    dr_store_minute_row(b, dim, DR_STORE_KEY_NONE, &m->none[dim]) < 0)
		return -1;
	return 0;
}

/* The top rows of a heavy-hitter table. A key's counts are those since it
 * entered the table (exact while nothing was evicted); the rest of the
 * minute is '(other)'. */
static int topk_rows(struct dr_store_minute *b, struct dr_minute *m, unsigned dim,
		     const struct dr_topk *t, int names)
{
	uint32_t *order = (uint32_t *)m->rank;	/* scratch: top <= its room */
	uint32_t n = dr_topk_top(t, order, m->top);
	struct dr_store_counts in_rows = {0};
	char text[DR_NAME_TEXT_MAX];
	for (uint32_t i = 0; i < n; i++) {
		const struct dr_store_counts *c = dr_topk_extra(t, order[i]);
		const uint8_t *key = dr_topk_key(t, order[i]);
		if (names)
			dr_name_to_text(key, t->key_len[order[i]], text);
		else
			dr_addr_text(key[0], key + 1, text);
		if (dr_store_minute_row(b, dim, text, c) < 0)
			return -1;
		counts_add(&in_rows, c->messages, c->packets, c->bytes);
	}
	return rest_rows(b, m, dim, &in_rows);
}

static int rank_cmp(const void *pa, const void *pb)
{
	const struct dr_store_rank *a = pa, *b = pb;
	if (a->messages != b->messages)
		return a->messages > b->messages ? -1 : 1;
	return a->value < b->value ? -1 : a->value > b->value;
}

/* Whether a ranks after b (fewer messages, then the larger value). */
static inline int rank_worse(const struct dr_store_rank *a, const struct dr_store_rank *b)
{
	return a->messages != b->messages ? a->messages < b->messages : a->value > b->value;
}

static void worst_sift(struct dr_store_rank *h, uint32_t n, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, w = i;
		if (l < n && rank_worse(&h[l], &h[w]))
			w = l;
		if (l + 1 < n && rank_worse(&h[l + 1], &h[w]))
			w = l + 1;
		if (w == i)
			return;
		struct dr_store_rank t = h[i];
		h[i] = h[w];
		h[w] = t;
		i = w;
	}
}

/* Moves the best k of r[0..n) to its front, best first: a heap of the k
 * best so far (its root the worst of them), not a sort of all n. */
static uint32_t select_top(struct dr_store_rank *r, uint32_t n, uint32_t k)
{
	if (k > n)
		k = n;
	if (!k)
		return 0;
	for (uint32_t i = k / 2; i-- > 0;)
		worst_sift(r, k, i);
	for (uint32_t i = k; i < n; i++)
		if (rank_worse(&r[0], &r[i])) {
			struct dr_store_rank t = r[0];
			r[0] = r[i];
			r[i] = t;
			worst_sift(r, k, 0);
		}
	qsort(r, k, sizeof(*r), rank_cmp);
	return k;
}

/* The top values of a 16-bit field, and the array emptied for the next
 * minute (only the entries used are touched). */
static int values_rows(struct dr_store_minute *b, struct dr_minute *m, unsigned dim,
		       struct dr_store_values *v)
{
	uint32_t n = 0;
	for (uint32_t w = 0; w < v->n / 64; w++)
		for (uint64_t bits = v->used[w]; bits; bits &= bits - 1) {
			uint32_t value = w << 6 | (uint32_t)__builtin_ctzll(bits);
			m->rank[n++] = (struct dr_store_rank){v->c[value].messages, value};
		}
	uint32_t top = select_top(m->rank, n, m->top);
	struct dr_store_counts in_rows = {0};
	int rc = b ? 0 : -1;	/* no batch (out of memory): only empty them */
	for (uint32_t i = 0; i < top && rc == 0; i++) {
		unsigned value = m->rank[i].value;
		const struct dr_store_counts *c = &v->c[value];
		char text[32];
		const char *name = dim == DR_DIM_QTYPE ? dr_qtype_name(value)
				 : dim == DR_DIM_RCODE ? dr_rcode_name(value) : NULL;
		if (name)
			snprintf(text, sizeof(text), "%s", name);
		else if (dim == DR_DIM_QTYPE)
			snprintf(text, sizeof(text), "TYPE%u", value);
		else if (dim == DR_DIM_RCODE)
			snprintf(text, sizeof(text), "RCODE%u", value);
		else
			snprintf(text, sizeof(text), "%u", value);
		rc = dr_store_minute_row(b, dim, text, c);
		counts_add(&in_rows, c->messages, c->packets, c->bytes);
	}
	for (uint32_t i = 0; i < n; i++)
		memset(&v->c[m->rank[i].value], 0, sizeof(v->c[0]));
	memset(v->used, 0, v->n / 8);
	return rc < 0 ? rc : rest_rows(b, m, dim, &in_rows);
}

static int small_rows(struct dr_store_minute *b, unsigned dim, const struct dr_store_counts *c,
		      const char *const *names, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (!counts_zero(&c[i]) && dr_store_minute_row(b, dim, names[i], &c[i]) < 0)
			return -1;
	return 0;
}

static int take_sources(struct dr_store_minute *b, const struct dr_topk *t)
{
	if (!t->used)
		return 0;
	b->srcs = malloc((size_t)t->used * sizeof(*b->srcs));
	if (!b->srcs)
		return -1;
	for (uint32_t e = 0; e < t->used; e++) {
		const uint8_t *key = dr_topk_key(t, e);
		struct dr_store_addr *a = &b->srcs[b->nsrcs++];
		a->family = key[0];
		memset(a->addr, 0, 16);
		memcpy(a->addr, key + 1, key[0] == 4 ? 4 : 16);
		a->c = *(const struct dr_store_counts *)dr_topk_extra(t, e);
	}
	return 0;
}

static void minute_empty(struct dr_minute *m)
{
	dr_topk_clear(&m->src);
	dr_topk_clear(&m->dst);
	dr_topk_clear(&m->exporter);
	dr_topk_clear(&m->qname);
	dr_topk_clear(&m->zone);
	memset(&m->total, 0, sizeof(m->total));
	memset(m->none, 0, sizeof(m->none));
	memset(m->direction, 0, sizeof(m->direction));
	memset(m->kind, 0, sizeof(m->kind));
	m->nsample = 0;
	m->sample_seen = 0;
	m->active = 0;
}

struct dr_store_minute *dr_minute_take(struct dr_minute *m)
{
	static const char *const kind_names[2] = {"dns", "flow"};
	struct dr_store_minute *b = calloc(1, sizeof(*b));
	int rc = b ? 0 : -1;
	if (rc == 0) {
		b->minute = m->minute;
		b->top = m->top;
		b->total = m->total;
		rc = dr_store_minute_row(b, DR_DIM_TOTAL, DR_STORE_KEY_ALL, &m->total);
	}
	if (rc == 0)
		rc = topk_rows(b, m, DR_DIM_SRC, &m->src, 0);
	if (rc == 0)
		rc = topk_rows(b, m, DR_DIM_DST, &m->dst, 0);
	if (rc == 0)
		rc = topk_rows(b, m, DR_DIM_EXPORTER, &m->exporter, 0);
	if (rc == 0)
		rc = topk_rows(b, m, DR_DIM_QNAME, &m->qname, 1);
	if (rc == 0)
		rc = topk_rows(b, m, DR_DIM_ZONE, &m->zone, 1);
	/* the value arrays are emptied as they are read: always read them */
	if (values_rows(b, m, DR_DIM_SPORT, &m->sport) < 0)
		rc = -1;
	if (values_rows(b, m, DR_DIM_DPORT, &m->dport) < 0)
		rc = -1;
	if (values_rows(b, m, DR_DIM_QTYPE, &m->qtype) < 0)
		rc = -1;
	if (values_rows(b, m, DR_DIM_RCODE, &m->rcode) < 0)
		rc = -1;
	if (rc == 0)
		rc = small_rows(b, DR_DIM_DIRECTION, m->direction, direction_names, DR_SDIR_COUNT);
	if (rc == 0)
		rc = small_rows(b, DR_DIM_KIND, m->kind, kind_names, 2);
	if (rc == 0)
		rc = take_sources(b, &m->src);
	if (rc == 0 && m->nsample) {
		b->samples = malloc((size_t)m->nsample * sizeof(*b->samples));
		if (b->samples) {
			memcpy(b->samples, m->reservoir, (size_t)m->nsample * sizeof(*b->samples));
			b->nsamples = m->nsample;
			b->weight = (double)m->sample_seen / m->nsample;
		} else {
			rc = -1;
		}
	}
	minute_empty(m);
	if (rc < 0) {
		dr_store_minute_free(b);
		return NULL;
	}
	return b;
}
