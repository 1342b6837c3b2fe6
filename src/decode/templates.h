/* The template cache of NetFlow v9 and IPFIX (netflow.c reads the sets
 * that fill and use it). */
#ifndef DR_DECODE_TEMPLATES_H
#define DR_DECODE_TEMPLATES_H

#include <stdint.h>

#include "decode/flow.h"

/*
 * A template is kept per (exporter address, protocol, source ID or
 * observation domain, template ID) in a table of cfg.templates entries
 * allocated at init: entries chained from hash buckets, and a list from
 * the entry refreshed longest ago to the latest, whose head gives way
 * when the table is full. A template lives cfg.template_lifetime seconds
 * of export time after it was last sent (ipfixcol2 judges by export time
 * too), checked when a data set uses it. A field is kept as its element
 * ID and length; an enterprise-specific field (IPFIX), a NetFlow v9
 * options scope field (whose types are not element IDs) and element 0
 * are kept as ID 0: skipped by their length. */

#define DR_TMPL_VARLEN 65535u	/* IPFIX: the length comes with the value */

struct nf_field {
	uint16_t id;		/* 0: a field nothing reads, skipped by its length */
	uint16_t len;
	uint16_t off;		/* where it starts in a record without variable-length fields */
};

struct nf_template {
	uint8_t addr[DR_AKEY];
	uint8_t proto;		/* 0: the entry is free */
	uint8_t options;	/* an options template: its records tell sampling */
	uint8_t varlen;		/* has a field of variable length */
	uint16_t id;
	uint16_t nfields;
	uint16_t min_len;	/* octets of its shortest record */
	uint16_t pad;
	uint32_t domain;
	int64_t refreshed;	/* export time it was last sent, seconds */
	uint64_t gen;		/* the message that last sent it */
	uint32_t hnext;		/* next in its bucket */
	uint32_t older, newer;	/* neighbours in refresh order */
	struct nf_field field[DR_NETFLOW_FIELDS];
	/* the fields something reads, in order: a record without variable-
	 * length fields is read through these alone, at their offsets */
	uint8_t nused;
	uint8_t used[DR_NETFLOW_FIELDS];
};

_Static_assert(sizeof(struct nf_template) + 2 * sizeof(uint32_t) <= DR_NETFLOW_TEMPLATE_OCTETS,
	       "DR_NETFLOW_TEMPLATE_OCTETS is below a template entry's size");
_Static_assert(sizeof(struct nf_template) + sizeof(uint32_t) >= DR_NETFLOW_TEMPLATE_OCTETS / 2,
	       "DR_NETFLOW_TEMPLATE_OCTETS is far above a template entry's size");

struct dr_netflow_templates {
	struct nf_template *t;
	uint32_t n;		/* entries */
	uint32_t used;
	uint32_t *bucket;	/* nbuckets, a power of two */
	uint32_t mask;
	uint32_t free;		/* chain of free entries, through hnext */
	uint32_t oldest, newest;
	uint64_t gen;		/* messages seen */
};

/* The template of (addr, proto, domain, id), or NULL. */
struct nf_template *dr_tmpl_find(struct dr_netflow_templates *c, const uint8_t *addr,
				 uint8_t proto, uint32_t domain, uint16_t id);

/* Takes t out of the table. */
void dr_tmpl_drop(struct dr_netflow_templates *c, struct nf_template *t);

/* Forgets the templates of one exporter and domain, but those the message
 * `keep` sent (0: none kept), only options templates or only the others
 * when asked; returns how many. */
unsigned dr_tmpl_forget(struct dr_flow_decoder *f, const uint8_t *addr, uint8_t proto,
			uint32_t domain, uint64_t keep, int options_only, int data_only);

/* Forgets every template of exporter x (a restart). */
void dr_netflow_forget(struct dr_flow_decoder *f, const struct dr_flow_exporter *x);

/* The entry for a template of x being learned: its own when known, else a
 * free one, else the one refreshed longest ago (counted). */
struct nf_template *dr_tmpl_slot(struct dr_flow_decoder *f, const struct dr_flow_exporter *x,
				 uint16_t id);

#endif
