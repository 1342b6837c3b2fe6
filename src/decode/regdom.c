/* Registered-domain look-ups through libpsl with a direct-mapped cache. */
#include "decode/regdom.h"

#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/dns.h"
#include "lib/hash.h"

static uint64_t parent_tag(uint64_t h)
{
	return h | 1;	/* never 0, the empty slot */
}

/* Adds a parent's hash; -1 when the set is half full (it must stay
 * sparse for its probes to end quickly). */
static int parent_add(struct dr_regdom *rd, uint64_t h)
{
	uint64_t tag = parent_tag(h);
	for (size_t i = h & (DR_PARENT_SLOTS - 1);; i = (i + 1) & (DR_PARENT_SLOTS - 1)) {
		if (rd->parent[i] == tag)
			return 0;
		if (!rd->parent[i]) {
			if (rd->nparents >= DR_PARENT_SLOTS / 2)
				return -1;
			rd->parent[i] = tag;
			rd->nparents++;
			return 0;
		}
	}
}

static int is_parent(const struct dr_regdom *rd, uint64_t h)
{
	uint64_t tag = parent_tag(h);
	for (size_t i = h & (DR_PARENT_SLOTS - 1);; i = (i + 1) & (DR_PARENT_SLOTS - 1)) {
		if (rd->parent[i] == tag)
			return 1;
		if (!rd->parent[i])
			return 0;
	}
}

/* Adds a rule's parent, given as text, to the set; an IDN parent is left
 * out (see may_be_public). 0, or -1 on a name that cannot be read. */
static int parent_of_rule(struct dr_regdom *rd, const char *parent)
{
	for (const char *c = parent; *c; c++)
		if ((unsigned char)*c >= 0x80)
			return 0;
	uint8_t wire[DR_NAME_MAX + 1];
	int len = dr_name_from_text(parent, wire);
	if (len <= 1)
		return 0;
	dr_name_lower(wire, (size_t)len);
	/* hashed as compute() hashes suffixes: without the root */
	return parent_add(rd, dr_hash64(wire, (size_t)len - 1));
}

/* Reads the rules of the list file: for each, its parent (the rule less
 * its first label; "!" and "*" rules alike) in wire form into the parent
 * set. A parent that is not plain ASCII (an IDN rule) is left out: names
 * are asked about as they come, and IDN parents are never trusted to be
 * absent (see may_be_public). 0, or -1 when the file cannot be read or
 * holds more parents than the set has room for. */
static int read_parents(struct dr_regdom *rd, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[512];
	int rc = 0;
	while (fgets(line, sizeof(line), f)) {
		char *s = line + strspn(line, " \t");
		if (s[0] == '/' && s[1] == '/')
			continue;
		s[strcspn(s, " \t\r\n")] = 0;
		if (*s == '!')
			s++;
		/* "*.P" makes P public as well, in libpsl: its parent counts too */
		for (int pass = 0; pass < 2; pass++) {
			char *dot = strchr(s, '.');
			if (!*s || !dot)
				break;	/* a TLD rule has no parent */
			const char *parent = dot + 1;
			if (parent_of_rule(rd, parent) < 0) {
				rc = -1;
				break;
			}
			if (s[0] != '*' || s[1] != '.')
				break;
			s += 2;
		}
		if (rc)
			break;
	}
	if (ferror(f))
		rc = -1;
	fclose(f);
	return rc;
}

struct dr_regdom *dr_regdom_new(void)
{
	struct dr_regdom *rd = calloc(1, sizeof(*rd));
	if (!rd)
		return NULL;
	/* The list libpsl was built from, loaded by libpsl (into its hash
	 * tables: faster to ask than its compiled copy, for a few
	 * milliseconds at start) and read here for the rules' parents, so
	 * that the parents are those of libpsl's own rules. */
	const char *path = psl_builtin_filename();
	if (path) {
		rd->psl = psl_load_file(path);
		if (rd->psl && read_parents(rd, path) == 0) {
			rd->have_parents = 1;
			return rd;
		}
		if (rd->psl)
			psl_free(rd->psl);
		memset(rd->parent, 0, sizeof(rd->parent));
		rd->nparents = 0;
	}
	rd->psl = psl_latest(NULL);
	return rd;
}

void dr_regdom_free(struct dr_regdom *rd)
{
	if (!rd)
		return;
	if (rd->psl)
		psl_free(rd->psl);
	free(rd);
}

/* Whether a suffix whose parent (the suffix less its first label) is
 * `parent` might be public: only if the parent parents some rule. Parents
 * with an IDN label ("xn--", or octets from 0x80 up) are not in the set
 * and always might. */
static int may_be_public(struct dr_regdom *rd, const uint8_t *parent, size_t len)
{
	if (!rd->have_parents)
		return 1;
	for (size_t p = 0; p < len && parent[p]; p += 1 + parent[p]) {
		const uint8_t *lab = parent + p + 1;
		size_t n = parent[p];
		if (n >= 4 && lab[0] == 'x' && lab[1] == 'n' && lab[2] == '-' && lab[3] == '-')
			return 1;
		for (size_t i = 0; i < n; i++)
			if (lab[i] >= 0x80)
				return 1;
	}
	if (is_parent(rd, dr_hash64(parent, len)))
		return 1;
	rd->psl_spared++;
	return 0;
}

/* Is the suffix public? From the cache, else from libpsl (and cached).
 * A single label always is (the PSL's implicit "*" rule), as in libpsl;
 * one whose parent parents no rule never is. */
static int is_public(struct dr_regdom *rd, const uint8_t *wire, size_t len,
		     const char *text, int last)
{
	if (last)
		return 1;
	size_t first = 1 + (size_t)wire[0];
	if (!may_be_public(rd, wire + first, len - first))
		return 0;
	uint64_t h = dr_hash64(wire, len);
	uint64_t *slot = &rd->suffix[h & (DR_SUFFIX_SLOTS - 1)];
	uint64_t tag = (h | 2) & ~(uint64_t)1;	/* never 0, the empty slot */
	if ((*slot & ~(uint64_t)1) == tag)
		return (int)(*slot & 1);
	rd->psl_calls++;
	int pub = psl_is_public_suffix(rd->psl, text) ? 1 : 0;
	*slot = tag | (uint64_t)pub;
	return pub;
}

/* Whether a label holds an octet no rule of the list can hold: a C0
 * control, space, DEL (the list's parser splits its lines on white space)
 * or '.', which as text would split the label in two (and NUL, which would
 * end the string). Such a label never equals a rule's label, so it is
 * asked about as REGDOM_PLACEHOLDER, which equals none either; a wildcard
 * rule still matches it, an exception rule never does. */
static int unmatchable(const uint8_t *label, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (label[i] <= 0x20 || label[i] == 0x7f || label[i] == '.')
			return 1;
	return 0;
}

#define REGDOM_PLACEHOLDER " "	/* white space: no rule holds it */

/* psl_registrable_domain's walk: from the left, the first suffix that is
 * public ends it, and the registered domain is the suffix one label
 * longer (none when the whole name is public). Every label is handed to
 * libpsl as its octets (upper case was folded by the caller, octets from
 * 0x80 up are kept as they are, as libpsl compares them), except the
 * unmatchable ones above; so labels left of the public suffix never
 * decide anything, whatever they hold. */
static int compute(struct dr_regdom *rd, const uint8_t *wire, size_t len)
{
	char text[DR_NAME_MAX + 1];
	uint8_t wire_at[128];	/* label index -> wire offset */
	uint8_t text_at[128];	/* label index -> text offset */
	size_t o = 0, p = 0;
	unsigned labels = 0;

	if (!rd->psl)
		return -1;
	while (p < len && wire[p] != 0 && labels < 128) {
		size_t lab = wire[p];
		if (p + 1 + lab > len)
			return -1;
		if (o)
			text[o++] = '.';
		wire_at[labels] = (uint8_t)p;
		text_at[labels] = (uint8_t)o;
		labels++;
		if (unmatchable(wire + p + 1, lab)) {
			memcpy(text + o, REGDOM_PLACEHOLDER, sizeof(REGDOM_PLACEHOLDER) - 1);
			o += sizeof(REGDOM_PLACEHOLDER) - 1;
		} else {
			memcpy(text + o, wire + p + 1, lab);
			o += lab;
		}
		p += 1 + lab;
	}
	if (labels == 0 || (p < len && wire[p] != 0))
		return -1;
	text[o] = 0;
	for (unsigned i = 0; i < labels; i++)
		if (is_public(rd, wire + wire_at[i], p - wire_at[i], text + text_at[i],
			      i + 1 == labels))
			return i ? wire_at[i - 1] : -1;
	return -1;
}

int dr_regdom_offset(struct dr_regdom *rd, uint64_t hash, const uint8_t *wire, size_t wire_len)
{
	uint64_t tag = hash | 1;	/* never 0, the empty slot */
	size_t i = hash & (DR_REGDOM_SLOTS - 1);
	rd->lookups++;
	if (rd->slot[i].tag == tag)
		return rd->slot[i].offset;
	rd->misses++;
	int off = compute(rd, wire, wire_len);
	rd->slot[i].tag = tag;
	rd->slot[i].offset = (int16_t)off;
	return off;
}
