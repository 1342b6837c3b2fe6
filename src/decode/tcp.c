/* TCP stream reassembly for DNS. Each direction of a connection is one
 * stream in a set-associative table (DR_TCP_WAYS per bucket, the least
 * recently used one evicted). Segments are taken in sequence order; a
 * retransmission is trimmed to its new bytes, and a gap (lost or reordered
 * data) drops the partial message and resynchronises at the new segment.
 * A complete message inside one segment is handed over without a copy.
 * The table itself (look-up, eviction, the byte cap) is lib/settable.h;
 * this file keeps sequence numbers, gaps and message framing. */
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

static int key_eq(const struct dr_slot *slot, const void *key)
{
	const struct dr_tcp_key *a = &((const struct dr_tcp_stream *)(const void *)slot)->key;
	const struct dr_tcp_key *b = key;
	return a->sport == b->sport && a->dport == b->dport && a->family == b->family &&
	       memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0;
}

static struct dr_tcp_stream *stream_of(struct dr_slot *slot)
{
	return (struct dr_tcp_stream *)(void *)slot;
}

static void drop_buffer(struct dr_tcp_table *t, struct dr_tcp_stream *s)
{
	dr_settable_free_buf(&t->table, &s->slot);
	s->have = 0;
}

static void release(struct dr_tcp_table *t, struct dr_tcp_stream *s)
{
	if (s->have)
		t->counts.unfinished++;
	dr_settable_release(&t->table, &s->slot);
}

int dr_tcp_init(struct dr_tcp_table *t, const struct dr_tcp_config *cfg)
{
	memset(t, 0, sizeof(*t));
	int rc = dr_settable_init(&t->table, cfg->streams ? cfg->streams : 4096, DR_TCP_WAYS,
				  sizeof(struct dr_tcp_stream),
				  cfg->mem_cap ? cfg->mem_cap : 32u << 20);
	if (rc < 0)
		return rc;
	t->idle_ms = cfg->idle_ms ? cfg->idle_ms : 120000;
	return 0;
}

void dr_tcp_fini(struct dr_tcp_table *t)
{
	if (!t->table.slots)
		return;
	for (size_t i = 0; i < dr_settable_nslots(&t->table); i++)
		if (stream_of(dr_settable_slot(&t->table, i))->have)
			t->counts.unfinished++;
	dr_settable_fini(&t->table);
}

size_t dr_tcp_mem_budget(const struct dr_tcp_table *t)
{
	return dr_settable_budget(&t->table);
}

/* The stream of the segment's key, or with `create` a new one in a free way
 * or in place of its bucket's least recently used stream; NULL otherwise. */
static struct dr_tcp_stream *find_stream(struct dr_tcp_table *t,
					 const struct dr_tcp_segment *seg, int create)
{
	struct dr_settable_probe pr;

	dr_settable_probe(&t->table, key_hash(seg->key), seg->key, key_eq, seg->now_ms,
			  -1, &pr);
	if (pr.hit)
		return stream_of(pr.hit);
	if (!create)
		return NULL;
	if (!pr.free_slot) {
		/* An idle stream is simply over; a busy one is a loss. */
		struct dr_tcp_stream *lru = stream_of(pr.oldest);
		if (seg->now_ms - lru->slot.time_ms <= (int64_t)t->idle_ms || lru->have)
			t->counts.evicted++;
		if (lru->have)
			t->counts.unfinished++;
	}
	struct dr_tcp_stream *s = stream_of(dr_settable_claim(&t->table, &pr, seg->now_ms));
	s->key = *seg->key;
	return s;
}

/* Makes room for `need` bytes in the stream buffer; 0 or -1. Reaching the
 * cap shared by all streams refuses the growth; other streams are kept. */
static int reserve(struct dr_tcp_table *t, struct dr_tcp_stream *s, uint32_t need)
{
	return dr_settable_grow(&t->table, &s->slot, need, 0, NULL);
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
		uint32_t want = s->have < 2 ? 2 : 2 + (uint32_t)(s->slot.buf[0] << 8 | s->slot.buf[1]);
		if (reserve(t, s, want) < 0) {
			t->counts.memory++;
			drop_buffer(t, s);
			s->synced = 0;
			return;
		}
		uint32_t take = want - s->have;
		if (take > n)
			take = n;
		memcpy(s->slot.buf + s->have, p, take);
		s->have += take;
		p += take;
		n -= take;
		if (s->have == want && want > 2) {
			fn(ctx, s->slot.buf + 2, want - 2);
			s->have = 0;
		} else if (s->have == 2 && want == 2 &&
			   (s->slot.buf[0] << 8 | s->slot.buf[1]) == 0) {
			fn(ctx, s->slot.buf + 2, 0);
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
	s->slot.time_ms = seg->now_ms;
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
