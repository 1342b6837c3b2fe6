/* TCP stream reassembly for DNS. Each direction of a connection is one
 * stream in a set-associative table (DR_TCP_WAYS per bucket, the least
 * recently used one evicted). Segments are taken in sequence order; a
 * retransmission is trimmed to its new bytes, and a gap (lost or reordered
 * data) drops the partial message and resynchronises at the new segment.
 * A complete message inside one segment is handed over without a copy. */
#include "decode/tcp.h"

#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"

static uint32_t key_hash(const struct dr_tcp_key *k)
{
	uint32_t h = 2166136261u ^ k->family;
	unsigned n = k->family == 4 ? 4 : 16;
	for (unsigned j = 0; j < n; j++)
		h = (h ^ k->src[j]) * 16777619u;
	for (unsigned j = 0; j < n; j++)
		h = (h ^ k->dst[j]) * 16777619u;
	h ^= (uint32_t)k->sport << 16 | k->dport;
	h *= 0x9e3779b1u;
	return h ^ h >> 15;
}

static int key_eq(const struct dr_tcp_key *a, const struct dr_tcp_key *b)
{
	return a->sport == b->sport && a->dport == b->dport && a->family == b->family &&
	       memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0;
}

static void drop_buffer(struct dr_tcp_table *t, struct dr_tcp_stream *s)
{
	t->mem_used -= s->cap;
	free(s->buf);
	s->buf = NULL;
	s->cap = 0;
	s->have = 0;
}

static void release(struct dr_tcp_table *t, struct dr_tcp_stream *s)
{
	if (s->have)
		t->counts.unfinished++;
	drop_buffer(t, s);
	memset(s, 0, sizeof(*s));
}

int dr_tcp_init(struct dr_tcp_table *t, const struct dr_tcp_config *cfg)
{
	memset(t, 0, sizeof(*t));
	unsigned streams = cfg->streams ? cfg->streams : 4096;
	t->nbuckets = (streams + DR_TCP_WAYS - 1) / DR_TCP_WAYS;
	t->streams = calloc((size_t)t->nbuckets * DR_TCP_WAYS, sizeof(*t->streams));
	if (!t->streams)
		return DR_ENOMEM;
	t->mem_cap = cfg->mem_cap ? cfg->mem_cap : 32u << 20;
	t->idle_ms = cfg->idle_ms ? cfg->idle_ms : 120000;
	return 0;
}

void dr_tcp_fini(struct dr_tcp_table *t)
{
	if (!t->streams)
		return;
	for (size_t i = 0; i < (size_t)t->nbuckets * DR_TCP_WAYS; i++)
		if (t->streams[i].used)
			release(t, &t->streams[i]);
	free(t->streams);
	t->streams = NULL;
}

static struct dr_tcp_stream *find_stream(struct dr_tcp_table *t,
					 const struct dr_tcp_segment *seg, int create)
{
	struct dr_tcp_stream *bucket = t->streams +
		(size_t)(key_hash(seg->key) % t->nbuckets) * DR_TCP_WAYS;
	struct dr_tcp_stream *free_s = NULL, *lru = NULL;

	for (unsigned w = 0; w < DR_TCP_WAYS; w++) {
		struct dr_tcp_stream *s = &bucket[w];
		if (!s->used) {
			if (!free_s)
				free_s = s;
			continue;
		}
		if (key_eq(&s->key, seg->key))
			return s;
		if (!lru || s->last_ms < lru->last_ms)
			lru = s;
	}
	if (!create)
		return NULL;
	if (!free_s) {
		/* An idle stream is simply over; a busy one is a loss. */
		if (seg->now_ms - lru->last_ms <= (int64_t)t->idle_ms || lru->have)
			t->counts.evicted++;
		release(t, lru);
		free_s = lru;
	}
	free_s->used = 1;
	free_s->key = *seg->key;
	return free_s;
}

/* Makes room for `need` bytes in the stream buffer; 0 or -1. */
static int reserve(struct dr_tcp_table *t, struct dr_tcp_stream *s, uint32_t need)
{
	if (need <= s->cap)
		return 0;
	if (t->mem_used + (need - s->cap) > t->mem_cap)
		return -1;
	uint8_t *buf = realloc(s->buf, need);
	if (!buf)
		return -1;
	t->mem_used += need - s->cap;
	s->buf = buf;
	s->cap = need;
	return 0;
}

/* Appends in-order bytes, emitting every message they complete. */
static void consume(struct dr_tcp_table *t, struct dr_tcp_stream *s,
		    const uint8_t *p, uint32_t n, dr_tcp_message_fn fn, void *ctx)
{
	while (n) {
		if (s->have == 0) {
			/* Fast path: whole messages straight from the segment. */
			while (n >= 2 && n - 2 >= (uint32_t)(p[0] << 8 | p[1])) {
				uint32_t mlen = (uint32_t)(p[0] << 8 | p[1]);
				fn(ctx, p + 2, mlen);
				p += 2 + mlen;
				n -= 2 + mlen;
			}
			if (!n)
				return;
		}
		/* Buffer until the length prefix, then the message, is whole. */
		uint32_t want = s->have < 2 ? 2 : 2 + (uint32_t)(s->buf[0] << 8 | s->buf[1]);
		if (reserve(t, s, want) < 0) {
			t->counts.memory++;
			drop_buffer(t, s);
			s->synced = 0;
			return;
		}
		uint32_t take = want - s->have;
		if (take > n)
			take = n;
		memcpy(s->buf + s->have, p, take);
		s->have += take;
		p += take;
		n -= take;
		if (s->have == want && want > 2) {
			fn(ctx, s->buf + 2, want - 2);
			s->have = 0;
		} else if (s->have == 2 && want == 2 &&
			   (s->buf[0] << 8 | s->buf[1]) == 0) {
			fn(ctx, s->buf + 2, 0);
			s->have = 0;
		}
	}
}

void dr_tcp_add(struct dr_tcp_table *t, const struct dr_tcp_segment *seg,
		dr_tcp_message_fn fn, void *ctx)
{
	int closing = seg->fin || seg->rst;
	struct dr_tcp_stream *s = find_stream(t, seg, seg->len || seg->syn);

	if (!s)
		return;
	s->last_ms = seg->now_ms;
	uint32_t seq = seg->seq;
	if (seg->syn) {
		/* A new connection; data in a SYN (TCP Fast Open) follows ISN. */
		if (s->have)
			t->counts.unfinished++;
		s->have = 0;
		s->next_seq = seq + 1;
		s->synced = 1;
		seq += 1;
	}
	if (seg->len) {
		const uint8_t *p = seg->data;
		uint32_t n = seg->len;
		if (!s->synced) {
			s->next_seq = seq;
			s->synced = 1;
		}
		/* Sequence space wraps: compare in modular arithmetic. */
		uint32_t ahead = seq - s->next_seq;	/* new data starts this far on */
		if (ahead != 0 && ahead < 0x80000000u) {
			t->counts.gap++;
			if (s->have)
				t->counts.unfinished++;
			s->have = 0;
			s->next_seq = seq;
		} else if (ahead != 0) {
			uint32_t old = s->next_seq - seq;	/* bytes already seen */
			if (old >= n)
				goto out;	/* a pure retransmission */
			p += old;
			n -= old;
		}
		s->next_seq += n;
		consume(t, s, p, n, fn, ctx);
	}
out:
	if (closing)
		release(t, s);
}
