/* Checks a Prometheus text exposition (format 0.0.4) the way a scraper and
 * promtool would: every sample's family has HELP and TYPE before it, once;
 * names are dnsradar_ and valid; counters end in _total and gauges do not;
 * label values are quoted; values are numbers; no sample is repeated.
 * Returns the number of problems, each printed on stderr. */
#ifndef DR_TEST_EXPO_CHECK_H
#define DR_TEST_EXPO_CHECK_H

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPO_FAMILIES 512
#define EXPO_SAMPLES 4096

static int expo_name_ok(const char *s, size_t n)
{
	if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
			return 0;
	return 1;
}

static int expo_check(const char *text, int *nsamples)
{
	static char fam[EXPO_FAMILIES][128], kind[EXPO_FAMILIES][16], help[EXPO_FAMILIES][128];
	static char seen[EXPO_SAMPLES][256];
	unsigned nfam = 0, nseen = 0, bad = 0;
	const char *line = text;
	*nsamples = 0;
	while (*line) {
		const char *end = strchr(line, '\n');
		if (!end) {
			fprintf(stderr, "expo: the last line has no newline\n");
			return (int)bad + 1;
		}
		size_t len = (size_t)(end - line);
		char buf[1024];
		snprintf(buf, sizeof(buf), "%.*s", (int)len, line);
		line = end + 1;
		if (strncmp(buf, "# HELP ", 7) == 0) {
			char *name = buf + 7, *sp = strchr(name, ' ');
			if (!sp) {
				fprintf(stderr, "expo: HELP without text: %s\n", buf);
				bad++;
				continue;
			}
			*sp = 0;
			for (unsigned i = 0; i < nfam; i++)
				if (strcmp(help[i], name) == 0) {
					fprintf(stderr, "expo: HELP twice for %s\n", name);
					bad++;
				}
			if (nfam < EXPO_FAMILIES)
				snprintf(help[nfam], sizeof(help[0]), "%s", name);
			continue;
		}
		if (strncmp(buf, "# TYPE ", 7) == 0) {
			char *name = buf + 7, *sp = strchr(name, ' ');
			if (!sp || nfam == EXPO_FAMILIES) {
				bad++;
				continue;
			}
			*sp = 0;
			const char *k = sp + 1;
			if (strcmp(k, "counter") && strcmp(k, "gauge") && strcmp(k, "histogram") &&
			    strcmp(k, "summary") && strcmp(k, "untyped")) {
				fprintf(stderr, "expo: unknown type %s of %s\n", k, name);
				bad++;
			}
			for (unsigned i = 0; i < nfam; i++)
				if (strcmp(fam[i], name) == 0) {
					fprintf(stderr, "expo: TYPE twice for %s\n", name);
					bad++;
				}
			if (strcmp(help[nfam], name) != 0) {
				fprintf(stderr, "expo: TYPE of %s without its HELP just before\n", name);
				bad++;
			}
			size_t nl = strlen(name);
			if (!strcmp(k, "counter") && (nl < 6 || strcmp(name + nl - 6, "_total"))) {
				fprintf(stderr, "expo: counter %s does not end in _total\n", name);
				bad++;
			}
			if (!strcmp(k, "gauge") && nl >= 6 && !strcmp(name + nl - 6, "_total")) {
				fprintf(stderr, "expo: gauge %s ends in _total\n", name);
				bad++;
			}
			snprintf(fam[nfam], sizeof(fam[0]), "%s", name);
			snprintf(kind[nfam], sizeof(kind[0]), "%s", k);
			nfam++;
			continue;
		}
		if (buf[0] == '#' || buf[0] == 0) {
			fprintf(stderr, "expo: unexpected line '%s'\n", buf);
			bad++;
			continue;
		}
		/* a sample: name[{labels}] value */
		size_t nl = strcspn(buf, "{ ");
		char name[128];
		snprintf(name, sizeof(name), "%.*s", (int)nl, buf);
		if (!expo_name_ok(name, strlen(name)) || strncmp(name, "dnsradar_", 9) != 0) {
			fprintf(stderr, "expo: bad metric name '%s'\n", name);
			bad++;
		}
		int typed = 0;
		/* the family declared last must be this sample's */
		if (nfam && strcmp(fam[nfam - 1], name) == 0)
			typed = 1;
		if (!typed) {
			fprintf(stderr, "expo: sample of %s without its TYPE before it\n", name);
			bad++;
		}
		const char *p = buf + nl;
		if (*p == '{') {
			const char *close = p + 1;
			int inq = 0;
			for (; *close && (inq || *close != '}'); close++) {
				if (*close == '\\' && inq && close[1])
					close++;
				else if (*close == '"')
					inq = !inq;
			}
			if (*close != '}' || !strstr(p, "=\"")) {
				fprintf(stderr, "expo: bad labels in '%s'\n", buf);
				bad++;
				continue;
			}
			p = close + 1;
		}
		size_t keylen = (size_t)(p - buf);
		if (*p != ' ') {
			fprintf(stderr, "expo: no space before the value in '%s'\n", buf);
			bad++;
			continue;
		}
		char *vend;
		strtod(p + 1, &vend);
		if (vend == p + 1 || *vend) {
			fprintf(stderr, "expo: value is not a number in '%s'\n", buf);
			bad++;
		}
		for (unsigned i = 0; i < nseen; i++)
			if (strlen(seen[i]) == keylen && strncmp(seen[i], buf, keylen) == 0) {
				fprintf(stderr, "expo: sample repeated: %.*s\n", (int)keylen, buf);
				bad++;
			}
		if (nseen < EXPO_SAMPLES)
			snprintf(seen[nseen++], sizeof(seen[0]), "%.*s", (int)keylen, buf);
		(*nsamples)++;
	}
	return (int)bad;
}

#endif
