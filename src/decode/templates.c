/* The template cache of NetFlow v9 and IPFIX: a table of cfg.templates
 * entries chained from hash buckets, in refresh order (templates.h). */
#include "decode/templates.h"

#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"
#include "lib/hash.h"

#define NIL UINT32_MAX

int dr_netflow_init(struct dr_flow_decoder *f)
{
	uint32_t n = f->cfg.templates ? f->cfg.templates : 1, nb = 1;
	while (nb < n)
		nb <<= 1;
	struct dr_netflow_templates *c = calloc(1, sizeof(*c));
	if (!c)
		return DR_ENOMEM;
	c->t = calloc(n, sizeof(*c->t));
	c->bucket = malloc((size_t)nb * sizeof(*c->bucket));
	if (!c->t || !c->bucket) {
		free(c->t);
		free(c->bucket);
		free(c);
		return DR_ENOMEM;
	}
	c->n = n;
	c->mask = nb - 1;
	memset(c->bucket, 0xff, (size_t)nb * sizeof(*c->bucket));
	for (uint32_t i = 0; i < n; i++)
		c->t[i].hnext = i + 1 < n ? i + 1 : NIL;
	c->free = 0;
	c->oldest = c->newest = NIL;
	f->tmpl = c;
	return 0;
}

void dr_netflow_fini(struct dr_flow_decoder *f)
{
	if (!f->tmpl)
		return;
	free(f->tmpl->t);
	free(f->tmpl->bucket);
	free(f->tmpl);
	f->tmpl = NULL;
}

size_t dr_netflow_mem(const struct dr_flow_decoder *f)
{
	const struct dr_netflow_templates *c = f->tmpl;
	if (!c)
		return 0;
	return sizeof(*c) + (size_t)c->n * sizeof(*c->t) + ((size_t)c->mask + 1) * sizeof(*c->bucket);
}

static uint32_t tmpl_bucket(const struct dr_netflow_templates *c, const uint8_t *addr,
			    uint8_t proto, uint32_t domain, uint16_t id)
{
	uint64_t h = dr_hash64(addr, DR_AKEY);
	h = dr_avalanche64(h ^ ((uint64_t)domain << 24 | (uint64_t)id << 8 | proto));
	return (uint32_t)h & c->mask;
}

struct nf_template *dr_tmpl_find(struct dr_netflow_templates *c, const uint8_t *addr,
				     uint8_t proto, uint32_t domain, uint16_t id)
{
	for (uint32_t i = c->bucket[tmpl_bucket(c, addr, proto, domain, id)]; i != NIL;
	     i = c->t[i].hnext) {
		struct nf_template *t = &c->t[i];
		if (t->id == id && t->domain == domain && t->proto == proto &&
		    memcmp(t->addr, addr, DR_AKEY) == 0)
			return t;
	}
	return NULL;
}

static void lru_unlink(struct dr_netflow_templates *c, struct nf_template *t)
{
	if (t->older != NIL)
		c->t[t->older].newer = t->newer;
	else
		c->oldest = t->newer;
	if (t->newer != NIL)
		c->t[t->newer].older = t->older;
	else
		c->newest = t->older;
}

static void lru_append(struct dr_netflow_templates *c, struct nf_template *t)
{
	uint32_t i = (uint32_t)(t - c->t);
	t->older = c->newest;
	t->newer = NIL;
	if (c->newest != NIL)
		c->t[c->newest].newer = i;
	else
		c->oldest = i;
	c->newest = i;
}

/* Takes t out of the table, its entry back to the free chain. */
void dr_tmpl_drop(struct dr_netflow_templates *c, struct nf_template *t)
{
	uint32_t i = (uint32_t)(t - c->t);
	uint32_t *link = &c->bucket[tmpl_bucket(c, t->addr, t->proto, t->domain, t->id)];
	while (*link != i && *link != NIL)
		link = &c->t[*link].hnext;
	if (*link == i)
		*link = t->hnext;
	lru_unlink(c, t);
	t->proto = 0;
	t->hnext = c->free;
	c->free = i;
	c->used--;
}

/* Forgets the templates of one exporter and domain, but those the message
 * `keep` sent (0: none kept); returns how many. */
unsigned dr_tmpl_forget(struct dr_flow_decoder *f, const uint8_t *addr, uint8_t proto,
			    uint32_t domain, uint64_t keep, int options_only, int data_only)
{
	struct dr_netflow_templates *c = f->tmpl;
	unsigned n = 0;
	for (uint32_t i = 0; i < c->n && c->used; i++) {
		struct nf_template *t = &c->t[i];
		if (t->proto != proto || t->domain != domain || memcmp(t->addr, addr, DR_AKEY) != 0 ||
		    (keep && t->gen == keep) || (options_only && !t->options) ||
		    (data_only && t->options))
			continue;
		dr_tmpl_drop(c, t);
		n++;
	}
	return n;
}

void dr_netflow_forget(struct dr_flow_decoder *f, const struct dr_flow_exporter *x)
{
	if (f->tmpl && (x->proto == DR_FLOW_NETFLOW9 || x->proto == DR_FLOW_IPFIX))
		dr_tmpl_forget(f, x->addr, x->proto, (uint32_t)x->domain, 0, 0, 0);
}

/* The entry for a template being learned: its own when known, else a
 * free one, else the one refreshed longest ago (counted). */
struct nf_template *dr_tmpl_slot(struct dr_flow_decoder *f, const struct dr_flow_exporter *x,
				     uint16_t id)
{
	struct dr_netflow_templates *c = f->tmpl;
	uint32_t domain = (uint32_t)x->domain;
	struct nf_template *t = dr_tmpl_find(c, x->addr, x->proto, domain, id);
	if (t) {
		lru_unlink(c, t);
		lru_append(c, t);
		return t;
	}
	if (c->free == NIL) {
		f->stats.template_evicted++;
		dr_tmpl_drop(c, &c->t[c->oldest]);
	}
	uint32_t i = c->free;
	t = &c->t[i];
	c->free = t->hnext;
	c->used++;
	memcpy(t->addr, x->addr, DR_AKEY);
	t->proto = x->proto;
	t->domain = domain;
	t->id = id;
	uint32_t *b = &c->bucket[tmpl_bucket(c, t->addr, t->proto, domain, id)];
	t->hnext = *b;
	*b = i;
	lru_append(c, t);
	return t;
}

