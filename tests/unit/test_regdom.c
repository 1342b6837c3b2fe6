/* Registered domains (lib/regdom) against libpsl's own
 * psl_registrable_domain, on names made from every rule of the Public
 * Suffix List: each rule, and one, two and three labels under it, looked
 * up in an order that leaves the caches warm with each other's suffixes,
 * and then again from the caches. */
#include <libpsl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/dns.h"
#include "harness.h"
#include "lib/hash.h"
#include "lib/regdom.h"

#define PSL_DAT "/usr/share/publicsuffix/public_suffix_list.dat"
#define MAX_NAMES 200000

struct name {
	uint8_t wire[DR_NAME_MAX + 1 + 8];
	size_t len;
	char text[DR_NAME_MAX + 1];
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

/* The answer libpsl gives for the whole name at once, as a wire offset. */
static int reference(const psl_ctx_t *psl, const struct name *n)
{
	char text[DR_NAME_MAX + 1];
	int at[128];
	size_t o = 0, p = 0;
	unsigned labels = 0;
	while (p < n->len && n->wire[p] != 0) {
		size_t lab = n->wire[p];
		if (o)
			text[o++] = '.';
		at[labels++] = (int)o;
		for (size_t i = 0; i < lab; i++) {
			uint8_t ch = n->wire[p + 1 + i];
			if (ch <= 0x20 || ch >= 0x7f || ch == '.')
				return -1;	/* no host name has these bytes */
			text[o++] = (char)ch;
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
		add(r);
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
	CHECK(nnames > 20000);
	struct dr_regdom *rd = dr_regdom_new();
	CHECK(rd != NULL && rd->psl != NULL);
	if (!rd || !rd->psl) {
		dr_regdom_free(rd);
		free(names);
		return;
	}
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
	printf("%zu names from %s, twice, agree with psl_registrable_domain\n", nnames, PSL_DAT);
	dr_regdom_free(rd);
	free(names);
	names = NULL;
	nnames = 0;
}

/* Names never seen before under a known domain cost one libpsl call
 * each (for the whole name), not one per label. */
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
	/* the first name also asks about cdn.example.co.uk, example.co.uk,
	 * co.uk; "uk" is a single label, public without asking */
	CHECK_EQ(rd->psl_calls, count + 3);
	CHECK_EQ(rd->misses, count);
	dr_regdom_free(rd);
}

int main(void)
{
	RUN(test_against_libpsl);
	RUN(test_one_call_per_new_name);
	TEST_MAIN_END();
}
