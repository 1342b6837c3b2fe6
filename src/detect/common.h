/* Small fixed-size helpers the detectors share: address keys, a few-slot
 * heavy-hitter list, a saturating distinct set, what a
 * record is (query or response, also for aggregates), and filling typed
 * evidence. */
#ifndef DR_DETECT_COMMON_H
#define DR_DETECT_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/keys.h"
#include "decode/record.h"
#include "decode/packet.h"
#include "detect/detector.h"
#include "detect/evidence.h"
#include "detect/kwin.h"
#include "lib/hash.h"
#include "lib/hll.h"
#include "lib/outbuf.h"

/* Copies src into dst[cap], cut short if need be; always terminated. */
static inline void dr_copy_cut(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

/* Text of a key made by dr_akey_set (buf >= 48 bytes). */
static inline void dr_akey_text(const uint8_t *key, char *buf)
{
	dr_addr_text(key[0], key + 1, buf);
}

/* A response: from a DNS port, with QR set (an aggregate carries no DNS
 * header: from a DNS port is all it can say). */
static inline int dr_is_response(const struct dr_detect_env *env, const struct dr_record *r)
{
	return dr_port_test(env->dns_ports, r->sport) &&
	       (r->kind == DR_KIND_FLOW || dr_dns_qr(&r->dns));
}

/* A query: to a DNS port, QR clear (for an aggregate: to a DNS port and
 * not from one). */
static inline int dr_is_query(const struct dr_detect_env *env, const struct dr_record *r)
{
	if (!dr_port_test(env->dns_ports, r->dport))
		return 0;
	return r->kind == DR_KIND_FLOW ? !dr_port_test(env->dns_ports, r->sport)
				       : !dr_dns_qr(&r->dns);
}

/* An address key (dr_akey_set) as evidence, as a prefix of prefix4 or
 * prefix6 bits (32 and 128 for the host). */
static inline void dr_ev_addr_set(struct dr_ev_addr *a, const uint8_t *key, unsigned prefix4,
				  unsigned prefix6)
{
	memset(a, 0, sizeof(*a));
	a->family = key[0];
	if (key[0] == 4 || key[0] == 6) {
		memcpy(a->a, key + 1, key[0] == 4 ? 4 : 16);
		a->prefix_len = (uint8_t)(key[0] == 4 ? prefix4 : prefix6);
	}
}

/* The operations of a detector whose whole state is one table. */
void dr_ktable_on_tick(void *state, int64_t before, const struct dr_detect_env *env);

/* The few heaviest keys of a stream (Space-Saving with DR_FEW_TOP slots). */
#define DR_FEW_TOP 4
struct dr_top4 {
	uint64_t count[DR_FEW_TOP];
	uint8_t key[DR_FEW_TOP][DR_AKEY];
};

/* Counts key `weight` times (what the record stands for). */
static inline void dr_top4_add(struct dr_top4 *t, const uint8_t *key, uint64_t weight)
{
	unsigned min = 0;
	for (unsigned i = 0; i < DR_FEW_TOP; i++) {
		if (t->count[i] && memcmp(t->key[i], key, DR_AKEY) == 0) {
			t->count[i] += weight;
			return;
		}
		if (t->count[i] < t->count[min])
			min = i;
	}
	memcpy(t->key[min], key, DR_AKEY);
	t->count[min] += weight;
}

/* Index of the heaviest slot (count 0 when empty). */
static inline unsigned dr_top4_best(const struct dr_top4 *t)
{
	unsigned best = 0;
	for (unsigned i = 1; i < DR_FEW_TOP; i++)
		if (t->count[i] > t->count[best])
			best = i;
	return best;
}

/* Distinct items up to DR_FEW_MAX, exactly; saturates there. */
#define DR_FEW_MAX 32
struct dr_few {
	uint32_t n;
	uint32_t h[DR_FEW_MAX];
};

static inline void dr_few_add(struct dr_few *f, uint64_t hash)
{
	uint32_t h = (uint32_t)hash | 1;
	for (uint32_t i = 0; i < f->n; i++)
		if (f->h[i] == h)
			return;
	if (f->n < DR_FEW_MAX)
		f->h[f->n++] = h;
}


/* A top-4 list as evidence, heaviest first, each address as a prefix of
 * prefix4 or prefix6 bits; distinct and at_least say how large the set
 * was. */
void dr_ev_list_set(struct dr_ev_list *l, const struct dr_top4 *t, unsigned prefix4,
		    unsigned prefix6, uint32_t distinct, int at_least);

/* A name in wire form as evidence text, cut to cap octets. */
void dr_ev_name(char *dst, size_t cap, const uint8_t *wire, size_t wire_len);

/* Hands a firing window to the alert list: run totals since the last fire
 * (so an alert covers the whole attack), this window's rates. */
void dr_fire_window(const struct dr_detect_env *env, const char *type, const char *key,
		    struct dr_run *run, const struct dr_kwin *w, double pps, int severity,
		    const struct dr_evidence *ev);

#endif
