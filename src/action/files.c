/* The resolver-configuration backend: for a random-subdomain attack on a
 * zone, per-resolver rate limits for the DNS servers operators run
 * (dnsdist, Knot DNS, BIND), written to rules_dir/rrl-ZONE.conf, since no
 * firewall sees names. The zone came with the traffic: it is rewritten in
 * a strict presentation form before it goes into any syntax. */
#include "action/backend.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "action/respond.h"
#include "lib/now.h"

#define ZONE_TEXT 340		/* an 80-octet name with every byte as \DDD */
#define FILE_TEXT 4096

struct files_state {
	struct dr_respond_config c;
};

static int plain(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
}

/* The zone in a strict presentation form: letters lower-cased, label
 * bytes other than [a-z0-9_-] as \DDD, labels joined by dots; so the text
 * holds only [a-z0-9_.-] and backslashes followed by three digits. The
 * zone as given is presentation form (\. \\ \DDD escapes). Sets *safe
 * when no escape was needed (the name can be a file name). 0, or -1 when
 * it is empty or not presentation form. */
static int strict_zone(const char *in, char *out, size_t len, int *safe)
{
	size_t o = 0;
	*safe = 1;
	if (!in[0] || !strcmp(in, "."))
		return -1;
	for (const char *s = in; *s;) {
		int ch, label_dot = 0;
		if (*s == '\\') {
			if (s[1] >= '0' && s[1] <= '9') {
				if (!(s[2] >= '0' && s[2] <= '9' && s[3] >= '0' && s[3] <= '9'))
					return -1;
				ch = (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
				if (ch > 255)
					return -1;
				s += 4;
			} else if (s[1]) {
				ch = (unsigned char)s[1];
				s += 2;
			} else {
				return -1;
			}
		} else {
			ch = (unsigned char)*s++;
			label_dot = ch == '.';
		}
		if (ch >= 'A' && ch <= 'Z')
			ch += 'a' - 'A';
		if (o + 5 >= len)
			return -1;
		if (label_dot) {
			if (!*s)
				break;	/* a trailing dot */
			out[o++] = '.';
		} else if (plain(ch)) {
			out[o++] = (char)ch;
		} else {
			o += (size_t)snprintf(out + o, len - o, "\\%03d", ch);
			*safe = 0;
		}
	}
	out[o] = 0;
	return o ? 0 : -1;
}

/* The text for Lua: backslashes doubled (the strict form has no quote). */
static void lua_text(const char *z, char *out, size_t len)
{
	size_t o = 0;
	for (; *z && o + 3 < len; z++) {
		if (*z == '\\')
			out[o++] = '\\';
		out[o++] = *z;
	}
	out[o] = 0;
}

static int file_path(const struct dr_respond_config *c, const char *zone, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/rrl-%s.conf", c->rules_dir, zone);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

static unsigned limit_of(const struct dr_respond_config *c, const struct dr_action *a)
{
	return a->rate ? a->rate : c->policy.rate;
}

/* The file's text. */
static int rrl_text(const struct dr_respond_config *c, const struct dr_action *a, double ttl,
		    char *buf, size_t len, char *err, size_t errlen)
{
	char z[ZONE_TEXT], lz[2 * ZONE_TEXT], path[DR_RESPOND_TEXT + ZONE_TEXT];
	int safe;
	if (a->kind != DR_ACT_RRL) {
		snprintf(err, errlen, "files carries only rrl actions");
		return -1;
	}
	if (strict_zone(a->zone, z, sizeof(z), &safe) < 0) {
		snprintf(err, errlen, "files: rrl needs a zone name");
		return -1;
	}
	lua_text(z, lz, sizeof(lz));
	if (!safe || file_path(c, z, path, sizeof(path)) < 0)
		snprintf(path, sizeof(path), "(not written: the name is not fit for a file name)");
	unsigned n = limit_of(c, a);
	unsigned secs = ttl >= 1 && ttl < 1e9 ? (unsigned)ttl : 3600;
	int k = snprintf(buf, len,
		"# dnsradar rrl %s: alert %llu, %u NXDOMAIN a second for each resolver, %u s\n"
		"# %s\n"
		"-- dnsdist (and for all under the zone: addDynBlockSMT({\"%s\"}, \"dnsradar\", %u))\n"
		"do local zone = newSuffixMatchNode() zone:add(\"%s\")\n"
		"addAction(AndRule({SuffixMatchNodeRule(zone), MaxQPSIPRule(%u, 24, 56)}), "
		"DropAction()) end\n"
		"# Knot DNS (knot.conf; the module line goes in the zone's entry)\n"
		"mod-rrl:\n  - id: dnsradar\n    rate-limit: %u\n    slip: 2\n"
		"zone:\n  - domain: %s\n    module: mod-rrl/dnsradar\n"
		"# BIND (named.conf options or view; NXDOMAIN per client /24 and zone)\n"
		"rate-limit { nxdomains-per-second %u; slip 2; window 15; };\n",
		z, (unsigned long long)a->alert, n, secs, path, lz, secs, lz, n, n, z, n);
	if (k < 0 || (size_t)k >= len) {
		snprintf(err, errlen, "files: the rules for %s do not fit", z);
		return -1;
	}
	return 0;
}

static int files_open(void **state, const struct dr_respond_config *c, char *err, size_t errlen)
{
	if (!c->rules_dir[0] || c->rules_dir[0] != '/') {
		snprintf(err, errlen, "respond.rules_dir: give an absolute directory");
		return -1;
	}
	struct files_state *st = calloc(1, sizeof(*st));
	if (!st) {
		snprintf(err, errlen, "respond.rules_dir: out of memory");
		return -1;
	}
	st->c = *c;
	*state = st;
	return 0;
}

/* mkdir -p, 0755. */
static int make_dirs(const char *dir, char *err, size_t errlen)
{
	char p[DR_RESPOND_TEXT];
	snprintf(p, sizeof(p), "%s", dir);
	for (char *s = p + 1;; s++) {
		if (*s == '/' || !*s) {
			char was = *s;
			*s = 0;
			if (mkdir(p, 0755) != 0 && errno != EEXIST) {
				snprintf(err, errlen, "%s: cannot create: %s", p, strerror(errno));
				return -1;
			}
			*s = was;
			if (!was)
				break;
		}
	}
	return 0;
}

static int files_prepare(void *state, char *err, size_t errlen)
{
	struct files_state *st = state;
	return make_dirs(st->c.rules_dir, err, errlen);
}

static int files_apply(void *state, const struct dr_action *a, double ttl, char *err,
		       size_t errlen)
{
	struct files_state *st = state;
	char text[FILE_TEXT], z[ZONE_TEXT], path[DR_RESPOND_TEXT + ZONE_TEXT], tmp[sizeof(path) + 16];
	int safe, fd = -1, rc = -1;
	if (rrl_text(&st->c, a, ttl, text, sizeof(text), err, errlen) < 0)
		return -1;
	strict_zone(a->zone, z, sizeof(z), &safe);
	if (!safe || file_path(&st->c, z, path, sizeof(path)) < 0) {
		snprintf(err, errlen, "files: zone %s is not fit for a file name (only a-z, 0-9, "
			 ". - _); the rules were not written", z);
		return -1;
	}
	if (make_dirs(st->c.rules_dir, err, errlen) < 0)
		return -1;
	/* temp + rename: a reader sees the old file or the new one */
	snprintf(tmp, sizeof(tmp), "%s/.rrl-XXXXXX", st->c.rules_dir);
	if ((fd = mkstemp(tmp)) < 0) {
		snprintf(err, errlen, "%s: cannot create: %s", st->c.rules_dir, strerror(errno));
		return -1;
	}
	size_t n = strlen(text), off = 0;
	while (off < n) {
		ssize_t w = write(fd, text + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	if (fchmod(fd, 0644) != 0 || fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
		goto out;
	}
	tmp[0] = 0;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp[0])
		unlink(tmp);
	return rc;
}

static int files_lift(void *state, const struct dr_action *a, char *err, size_t errlen)
{
	struct files_state *st = state;
	char z[ZONE_TEXT], path[DR_RESPOND_TEXT + ZONE_TEXT];
	int safe;
	if (a->kind != DR_ACT_RRL || strict_zone(a->zone, z, sizeof(z), &safe) < 0) {
		snprintf(err, errlen, "files carries only rrl actions on a zone");
		return -1;
	}
	if (!safe || file_path(&st->c, z, path, sizeof(path)) < 0)
		return 0;	/* never written */
	if (unlink(path) != 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: cannot remove: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Each rrl-ZONE.conf of the directory; the time left from its first line's
 * lifetime and its modification time. */
static int files_list(void *state, dr_backend_found_fn found, void *ctx, char *err, size_t errlen)
{
	struct files_state *st = state;
	DIR *d = opendir(st->c.rules_dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: cannot read: %s", st->c.rules_dir, strerror(errno));
		return -1;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n <= 9 || strncmp(e->d_name, "rrl-", 4) || strcmp(e->d_name + n - 5, ".conf"))
			continue;
		struct dr_action a;
		memset(&a, 0, sizeof(a));
		a.kind = DR_ACT_RRL;
		if (n - 9 >= sizeof(a.zone))
			continue;
		memcpy(a.zone, e->d_name + 4, n - 9);
		a.zone[n - 9] = 0;
		if (strspn(a.zone, "abcdefghijklmnopqrstuvwxyz0123456789.-_") != n - 9)
			continue;	/* not one of ours */
		char path[DR_RESPOND_TEXT + 300], line[512];
		double left = 0;
		struct stat sb;
		snprintf(path, sizeof(path), "%s/%s", st->c.rules_dir, e->d_name);
		FILE *f = fopen(path, "r");
		if (f && fgets(line, sizeof(line), f) && stat(path, &sb) == 0) {
			const char *p = strrchr(line, ',');
			unsigned secs;
			if (p && sscanf(p, ", %u s", &secs) == 1)
				left = (double)sb.st_mtime + secs - dr_wall_now();
			if (left < 0)
				left = 0;
		}
		if (f)
			fclose(f);
		found(ctx, &a, left);
	}
	closedir(d);
	return 0;
}

static void files_close(void *state)
{
	free(state);
}

static int files_render(const struct dr_respond_config *c, const struct dr_action *a, int lift,
			double ttl, char *buf, size_t len)
{
	char why[160], z[ZONE_TEXT], path[DR_RESPOND_TEXT + ZONE_TEXT];
	int safe;
	if (!lift)
		return rrl_text(c, a, ttl, buf, len, why, sizeof(why));
	if (a->kind != DR_ACT_RRL || strict_zone(a->zone, z, sizeof(z), &safe) < 0 || !safe ||
	    file_path(c, z, path, sizeof(path)) < 0)
		return -1;
	/* single quotes, for a rules_dir with spaces or quotes */
	size_t o = 0;
	const char *head = "rm -f '";
	if (strlen(head) + 2 * strlen(path) * 2 + 4 > len)
		return -1;
	o += (size_t)snprintf(buf, len, "%s", head);
	for (const char *p = path; *p; p++) {
		if (*p == '\'') {
			memcpy(buf + o, "'\\''", 4);
			o += 4;
		} else {
			buf[o++] = *p;
		}
	}
	memcpy(buf + o, "'\n", 3);
	return 0;
}

const struct dr_backend dr_backend_files = {
	.name = "files",
	.owns_all = 1,
	.kinds = 1u << DR_ACT_RRL,
	.open = files_open,
	.prepare = files_prepare,
	.apply = files_apply,
	.lift = files_lift,
	.list = files_list,
	.close = files_close,
	.render = files_render,
	.render_setup = NULL,
};
