/* Registered domains (decode/regdom) against libpsl's own
 * psl_registrable_domain, on names made from every rule of the Public
 * Suffix List: each rule, and one, two and three labels under it, and all
 * of those again under labels of any octets, looked up in an order that
 * leaves the caches warm with each other's suffixes, and then again from
 * the caches; and the precision cases one by one. */
#include <libpsl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/dns.h"
#include "harness.h"
#include "lib/hash.h"
#include "decode/regdom.h"

#define PSL_DAT "/usr/share/publicsuffix/public_suffix_list.dat"
#define MAX_NAMES 200000

struct name {
	uint8_t wire[DR_NAME_MAX + 1 + 8];
	size_t len;
	char text[DR_NAME_TEXT_MAX];
	int is_rule;	/* the name of a rule itself */
};

/* Dotted text to lower-case wire form, zero-padded for word reads; 0
 * when it is no DNS name. */
static int to_wire(const char *text, struct name *n)
{
	memset(n->wire, 0, sizeof(n->wire));
	int len = dr_name_from_text(text, n->wire);
	if (len < 0)
		return 0;
	n->len = (size_t)len;
	dr_name_lower(n->wire, n->len);
	snprintf(n->text, sizeof(n->text), "%s", text);
	return 1;
}

/* The answer libpsl gives for the whole name at once, as a wire offset.
 * Every label goes to libpsl as its octets, control octets, space, DEL and
 * octets from 0x80 up included; only a label libpsl cannot be given as
 * text (one holding '.', which would split it, or NUL, which would end
 * it) is given as an ASCII label no rule names, the documented answer. */
static int reference(const psl_ctx_t *psl, const struct name *n)
{
	static const char stand_in[] = "x7f3e9q";
	char text[DR_NAME_MAX + sizeof(stand_in) * 128];
	int at[128];
	size_t o = 0, p = 0;
	unsigned labels = 0;
	while (p < n->len && n->wire[p] != 0) {
		size_t lab = n->wire[p];
		if (o)
			text[o++] = '.';
		at[labels++] = (int)o;
		const uint8_t *l = n->wire + p + 1;
		if (memchr(l, 0, lab) || memchr(l, '.', lab)) {
			memcpy(text + o, stand_in, sizeof(stand_in) - 1);
			o += sizeof(stand_in) - 1;
		} else {
			memcpy(text + o, l, lab);
			o += lab;
		}
		p += 1 + lab;
	}
	if (labels == 0)
		return -1;
	text[o] = 0;
	const char *found = psl_registrable_domain(psl, text);
	if (!found)
		return -1;
	/* back to the wire: the label that starts at found */
	size_t w = 0;
	for (unsigned i = 0; i < labels; i++) {
		if (at[i] == (int)(found - text))
			return (int)w;
		w += 1 + n->wire[w];
	}
	return -2;
}

static struct name *names;
static size_t nnames;

static void add(const char *text)
{
	if (nnames < MAX_NAMES && to_wire(text, &names[nnames]))
		nnames++;
}

/* Labels no host name has: control octets, NUL, a dot inside the label,
 * DEL, upper case, octets from 0x80 up (valid UTF-8 and not). */
static const struct { uint8_t len; uint8_t octets[8]; } junk[] = {
	{3, {0x00, 0x01, 0x02}}, {3, {'a', '.', 'b'}}, {3, {0xff, 0xfe, 0x80}},
	{2, {'Q', 0x7f}}, {1, {' '}}, {2, {0xc3, 0x85}}, {4, {'w', 'w', 'w', 0xa0}},
	{5, {'c', 'o', '.', 'u', 'k'}}, {1, {'.'}}, {2, {0xc3, 0xa9}},
};
#define NJUNK (sizeof(junk) / sizeof(junk[0]))

/* Adds junk label j in front of names[base] (lower-cased, as the keys
 * are), then `front` (NULL or a plain label) in front of that. */
static void add_junk(size_t base, size_t j, const char *front)
{
	if (nnames >= MAX_NAMES)
		return;
	const struct name *b = &names[base];
	struct name *n = &names[nnames];
	n->is_rule = 0;
	size_t flen = front ? strlen(front) : 0;
	size_t add_len = 1 + junk[j].len + (front ? 1 + flen : 0);
	if (b->len + add_len > DR_NAME_MAX)
		return;
	memset(n->wire, 0, sizeof(n->wire));
	size_t o = 0;
	if (front) {
		n->wire[o++] = (uint8_t)flen;
		memcpy(n->wire + o, front, flen);
		o += flen;
	}
	n->wire[o++] = junk[j].len;
	memcpy(n->wire + o, junk[j].octets, junk[j].len);
	o += junk[j].len;
	memcpy(n->wire + o, b->wire, b->len);
	n->len = o + b->len;
	dr_name_lower(n->wire, n->len);
	dr_name_to_text(n->wire, n->len, n->text);
	nnames++;
}

/* Every rule of the list, and names under it; 0 when the list is not
 * installed (Debian's publicsuffix package). */
static int load_names(void)
{
	FILE *f = fopen(PSL_DAT, "r");
	if (!f)
		return 0;
	char line[512], buf[sizeof(line) + 16];
	while (fgets(line, sizeof(line), f)) {
		char *r = line;
		r[strcspn(r, " \t\r\n")] = 0;
		if (!*r || (r[0] == '/' && r[1] == '/'))
			continue;
		if (*r == '!')
			r++;
		if (r[0] == '*' && r[1] == '.')
			r += 2;
		size_t before = nnames;
		add(r);
		if (nnames > before)
			names[before].is_rule = 1;
		snprintf(buf, sizeof(buf), "a.%s", r);
		add(buf);
		snprintf(buf, sizeof(buf), "www.a.%s", r);
		add(buf);
		snprintf(buf, sizeof(buf), "x7f3e9.www.a.%s", r);
		add(buf);
	}
	fclose(f);
	/* the list's own examples of the tricky cases, and names no rule has */
	static const char *const extra[] = {
		"forgot.his.name", "his.name", "a.his.name", "x.forgot.his.name",
		"www.ck", "a.www.ck", "b.a.www.ck", "x.ck", "y.x.ck",
		"s3.amazonaws.com", "amazonaws.com", "b.s3.amazonaws.com",
		"example.com", "www.example.com", "com", "invalid-tld-zz",
		"a.invalid-tld-zz", "b.a.invalid-tld-zz", "_dmarc.example.co.uk",
	};
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		add(extra[i]);
	/* Junk in front of every one of those, and a plain label in front of
	 * junk right under each rule: the junk label is then the one left of
	 * the public suffix (or under a wildcard, part of it). */
	size_t plain = nnames;
	for (size_t i = 0; i < plain; i++) {
		add_junk(i, i % NJUNK, NULL);
		if (names[i].is_rule)
			add_junk(i, (i / 4) % NJUNK, "www");
	}
	return 1;
}

static void test_against_libpsl(void)
{
	names = calloc(MAX_NAMES, sizeof(*names));
	CHECK(names != NULL);
	if (!names)
		return;
	if (!load_names()) {
		printf("SKIP test_against_libpsl: %s not installed\n", PSL_DAT);
		free(names);
		return;
	}
	CHECK(nnames > 80000);
	/* With the rules' parents (the shortcut that spares libpsl calls),
	 * and without them (the path taken when the list file cannot be
	 * read), the answers are libpsl's. */
	for (int shortcut = 1; shortcut >= 0; shortcut--) {
	struct dr_regdom *rd = dr_regdom_new();
	CHECK(rd != NULL && rd->psl != NULL);
	if (!rd || !rd->psl) {
		dr_regdom_free(rd);
		free(names);
		return;
	}
	CHECK(rd->have_parents);
	rd->have_parents = shortcut;
	/* Longest names first, so a shorter name's suffixes are answered
	 * from the suffix cache, then everything again from both caches. */
	unsigned bad = 0;
	for (int round = 0; round < 2; round++) {
		for (size_t k = 0; k < nnames; k++) {
			size_t i = round ? k : nnames - 1 - k;
			const struct name *n = &names[i];
			int want = reference(rd->psl, n);
			int got = dr_regdom_offset(rd, dr_hash64(n->wire, n->len), n->wire, n->len);
			if (got != want && bad++ < 10)
				fprintf(stderr, "%s: got offset %d, libpsl says %d\n",
					n->text, got, want);
		}
	}
	CHECK_EQ(bad, 0);
	printf("%zu names from %s, twice, agree with psl_registrable_domain (%s the "
	       "parents shortcut: %llu libpsl calls, %llu spared)\n", nnames, PSL_DAT,
	       shortcut ? "with" : "without", (unsigned long long)rd->psl_calls,
	       (unsigned long long)rd->psl_spared);
	dr_regdom_free(rd);
	}
	free(names);
	names = NULL;
	nnames = 0;
}

/* Names never seen before under a known domain cost no libpsl call:
 * their parent, cdn.example.co.uk, parents no rule of the list, so the
 * whole name cannot be public. Without that shortcut, one call each (for
 * the whole name), not one per label. */
static void test_one_call_per_new_name(void)
{
	struct dr_regdom *rd = dr_regdom_new();
	CHECK(rd != NULL && rd->psl != NULL);
	if (!rd || !rd->psl) {
		dr_regdom_free(rd);
		return;
	}
	struct name n;
	char text[64];
	const unsigned count = 1000;
	for (unsigned i = 0; i < count; i++) {
		snprintf(text, sizeof(text), "%08x.cdn.example.co.uk", i * 2654435761u);
		CHECK(to_wire(text, &n));
		int off = dr_regdom_offset(rd, dr_hash64(n.wire, n.len), n.wire, n.len);
		CHECK_EQ(off, 13);	/* example.co.uk */
	}
	/* the first name asks about example.co.uk and co.uk ("co.uk" and
	 * "uk" parent rules); cdn.example.co.uk and the names themselves are
	 * spared; "uk" is a single label, public without asking */
	CHECK_EQ(rd->psl_calls, 2);
	CHECK_EQ(rd->psl_spared, 2 * count);	/* two suffixes of each name */
	CHECK_EQ(rd->misses, count);
	dr_regdom_free(rd);
	rd = dr_regdom_new();
	if (!rd)
		return;
	rd->have_parents = 0;
	for (unsigned i = 0; i < count; i++) {
		snprintf(text, sizeof(text), "%08x.cdn.example.co.uk", i * 2654435761u);
		CHECK(to_wire(text, &n));
		CHECK_EQ(dr_regdom_offset(rd, dr_hash64(n.wire, n.len), n.wire, n.len), 13);
	}
	CHECK_EQ(rd->psl_calls, count + 3);
	dr_regdom_free(rd);
}

/* The registered domain's wire offset for a wire name given as a C
 * string literal (its own terminating NUL is the root label); the name is
 * lower-cased first, as the keys are. -9 when the look-up is unavailable. */
#define OFFSET(rd, lit) offset_of(rd, (const uint8_t *)(lit), sizeof(lit))
static int offset_of(struct dr_regdom *rd, const uint8_t *wire, size_t len)
{
	uint8_t copy[DR_NAME_MAX + 1 + 8] = {0};
	if (!rd || !rd->psl || len > DR_NAME_MAX)
		return -9;
	memcpy(copy, wire, len);
	dr_name_lower(copy, len);
	return dr_regdom_offset(rd, dr_hash64(copy, len), copy, len);
}

/* A binary label (NUL and control octets) under example.com. */
static void test_binary_label(void)
{
	struct dr_regdom *rd = dr_regdom_new();
	CHECK_EQ(OFFSET(rd, "\004\000\001\002z\007example\003com"), 5);
	CHECK_EQ(OFFSET(rd, "\001\000\007example\003com"), 2);
	CHECK_EQ(OFFSET(rd, "\002 \177\007example\003com"), 3);
	dr_regdom_free(rd);
}

/* Labels of octets from 0x80 up, UTF-8 or not, left of the zone and in it. */
static void test_high_octets(void)
{
	struct dr_regdom *rd = dr_regdom_new();
	CHECK_EQ(OFFSET(rd, "\004\200\377\303\251\007example\003com"), 5);
	CHECK_EQ(OFFSET(rd, "\001a\004\377\376\375\374\003com"), 2);
	/* a raw UTF-8 rule of the list (xn--55qx5d.cn as its own text) */
	CHECK_EQ(OFFSET(rd, "\001\377\001a\006\345\205\254\345\217\270\002cn"), 2);
	dr_regdom_free(rd);
}

/* A label holding '.' is one label: "a.b" under example.com, and "co.uk"
 * as one label under uk is not the suffix co.uk. */
static void test_dot_in_label(void)
{
	struct dr_regdom *rd = dr_regdom_new();
	CHECK_EQ(OFFSET(rd, "\003a.b\007example\003com"), 4);
	CHECK_EQ(OFFSET(rd, "\005co.uk\002uk"), 0);
	CHECK_EQ(OFFSET(rd, "\001x\005co.uk\002uk"), 2);
	CHECK_EQ(OFFSET(rd, "\007example\006co.uk.\002uk"), 8);
	dr_regdom_free(rd);
}

/* Upper case is folded before the look-up, octets from 0x80 up are not. */
static void test_upper_case(void)
{
	struct dr_regdom *rd = dr_regdom_new();
	CHECK_EQ(OFFSET(rd, "\004\303\205BC\007EXAMPLE\003COM"), 5);
	CHECK_EQ(OFFSET(rd, "\004\303\205bc\007example\003com"), 5);
	CHECK_EQ(OFFSET(rd, "\004\303\205BC\007ExAmPlE\002CO\002Uk"), 5);
	dr_regdom_free(rd);
}

/* Multi-label suffixes and wildcard rules with labels of any octets: a
 * wildcard matches any label, an exception rule only its own. */
static void test_multi_label_and_wildcard(void)
{
	struct dr_regdom *rd = dr_regdom_new();
	CHECK_EQ(OFFSET(rd, "\004\200abc\006victim\002co\002uk"), 5);
	CHECK_EQ(OFFSET(rd, "\003\001\377x\002ck"), -1);	/* *.ck: public */
	CHECK_EQ(OFFSET(rd, "\001a\003\001\377x\002ck"), 0);
	CHECK_EQ(OFFSET(rd, "\003\001\377x\003www\002ck"), 4);	/* !www.ck */
	CHECK_EQ(OFFSET(rd, "\002\200\201\004city\010kawasaki\002jp"), 3);
	CHECK_EQ(OFFSET(rd, "\001a\002\200\201\010kawasaki\002jp"), 0);
	CHECK_EQ(OFFSET(rd, "\001a\003a.b\010kawasaki\002jp"), 0);
	dr_regdom_free(rd);
}

/* Random labels two and three levels below the zone. */
static void test_levels_below(void)
{
	struct dr_regdom *rd = dr_regdom_new();
	CHECK_EQ(OFFSET(rd, "\003\377ab\003c\200d\006victim\007example"), 8);
	CHECK_EQ(OFFSET(rd, "\002\001q\003\377ab\003c\200d\006victim\007example"), 11);
	CHECK_EQ(OFFSET(rd, "\003abc\003d.f\001\000\006victim\002co\002uk"), 10);
	dr_regdom_free(rd);
}

int main(void)
{
	RUN(test_against_libpsl);
	RUN(test_one_call_per_new_name);
	RUN(test_binary_label);
	RUN(test_high_octets);
	RUN(test_dot_in_label);
	RUN(test_upper_case);
	RUN(test_multi_label_and_wildcard);
	RUN(test_levels_below);
	TEST_MAIN_END();
}
