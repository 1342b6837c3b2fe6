/* The GoBGP backend: RTBH routes with the blackhole community and Flowspec
 * (RFC 8955, RFC 8956) discard rules in gobgpd's global RIB, through the
 * gobgp command (run without a shell, under a timeout), and what of ours
 * is there read back from its JSON for reconciliation.
 *
 * Reading the RIB runs gobgp four times, which may take seconds when
 * gobgpd does not answer. prepare() (which the worker's reconciliation
 * calls just before list()) reads it, so that a gobgpd that does not
 * answer is a backend not ready, and list() reports what that read found. */
#define _GNU_SOURCE	/* memmem, pipe2, posix_spawn_file_actions_addclosefrom_np */
#include "action/backend.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "action/respond.h"
#include "lib/now.h"

extern char **environ;

#define GOBGP_TIMEOUT 5.0	/* seconds a gobgp command may run */
#define GOBGP_ARGS 40		/* words of one command */
#define GOBGP_OUT_MAX (16u << 20)	/* octets of one command's output */
#define GOBGP_FOUND_MAX (2 * DR_ACTIONS_CAP)	/* rules of ours one read keeps */

/* A route or rule of ours in gobgpd's RIB. */
struct gobgp_found {
	uint8_t kind;
	uint8_t rule;		/* Flowspec: 1 the UDP rule, 2 the fragment rule */
	uint16_t length;
	struct dr_ev_addr addr;
};

struct gobgp {
	const struct dr_respond_config *c;
	char host[64], port[8];
	struct gobgp_found *found;	/* the last read of the RIB (GOBGP_FOUND_MAX) */
	unsigned nfound;
};

/* One command's words, and the text they point into. */
struct argv_buf {
	char *argv[GOBGP_ARGS + 1];
	int argc;
	char text[1024];
	size_t used;
	int err;
};

static void arg(struct argv_buf *b, const char *s)
{
	size_t n = strlen(s) + 1;
	if (b->argc >= GOBGP_ARGS || b->used + n > sizeof(b->text)) {
		b->err = 1;
		return;
	}
	memcpy(b->text + b->used, s, n);
	b->argv[b->argc++] = b->text + b->used;
	b->argv[b->argc] = NULL;
	b->used += n;
}

static unsigned prefix_len(const struct dr_ev_addr *a)
{
	unsigned max = a->family == 4 ? 32 : 128;
	return a->prefix_len && a->prefix_len <= max ? a->prefix_len : max;
}

/* "HOST:PORT", "[V6]:PORT". 0 or -1. */
static int split_api(const char *api, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon = strrchr(api, ':');
	if (!colon || colon == api || !colon[1] || strspn(colon + 1, "0123456789") !=
	    strlen(colon + 1) || strlen(colon + 1) >= plen || atoi(colon + 1) < 1 ||
	    atoi(colon + 1) > 65535)
		return -1;
	const char *h = api;
	size_t n = (size_t)(colon - api);
	if (*h == '[' && n >= 2 && h[n - 1] == ']') {
		h++;
		n -= 2;
	}
	if (!n || n >= hlen)
		return -1;
	memcpy(host, h, n);
	host[n] = 0;
	snprintf(port, plen, "%s", colon + 1);
	return 0;
}

/* The next hop of a family: the setting's address of that family (it is
 * "self", an address, or an IPv4 and an IPv6 address with a comma between),
 * else "" (none given: gobgpd sends its own address on the session). -1
 * when the setting is none of those. */
static void base_args(struct argv_buf *b, const struct dr_respond_config *c, const char *host,
		      const char *port)
{
	b->argc = 0;
	b->used = 0;
	b->err = 0;
	arg(b, c->gobgp_cli[0] ? c->gobgp_cli : "gobgp");
	arg(b, "-u");
	arg(b, host);
	arg(b, "-p");
	arg(b, port);
}

/* The commands of an action: up to two argv (a Flowspec action is the
 * UDP rule and the fragment rule). Returns how many, -1 when the action
 * is not one of ours. */
static int commands(const struct dr_respond_config *c, const char *host, const char *port,
		    const struct dr_action *a, int lift, struct argv_buf out[2])
{
	char addr[INET6_ADDRSTRLEN + 8], nh[INET6_ADDRSTRLEN], tmp[32];
	char a_only[INET6_ADDRSTRLEN];
	if (dr_action_addr_text(&a->addr, a_only, sizeof(a_only)) < 0)
		return -1;
	snprintf(addr, sizeof(addr), "%s/%u", a_only, prefix_len(&a->addr));
	const char *verb = lift ? "del" : "add";
	int v4 = a->addr.family == 4;
	if (a->kind == DR_ACT_BLACKHOLE) {
		if (dr_respond_next_hop(c, a->addr.family, "", nh, sizeof(nh)) < 0)
			return -1;
		struct argv_buf *b = &out[0];
		base_args(b, c, host, port);
		arg(b, "global"); arg(b, "rib"); arg(b, verb);
		arg(b, "-a"); arg(b, v4 ? "ipv4" : "ipv6");
		arg(b, addr);
		if (!lift) {
			if (nh[0]) {
				arg(b, "nexthop");
				arg(b, nh);
			}
			arg(b, "community");
			arg(b, c->community[0] ? c->community : "65535:666");
		}
		return b->err ? -1 : 1;
	}
	if (a->kind != DR_ACT_FLOWSPEC)
		return -1;
	for (int i = 0; i < 2; i++) {
		struct argv_buf *b = &out[i];
		base_args(b, c, host, port);
		arg(b, "global"); arg(b, "rib"); arg(b, verb);
		arg(b, "-a"); arg(b, v4 ? "ipv4-flowspec" : "ipv6-flowspec");
		arg(b, "match"); arg(b, "destination"); arg(b, addr);
		if (i == 0) {
			arg(b, "protocol"); arg(b, "udp");
			arg(b, "source-port"); arg(b, "==53");
			if (a->length) {
				snprintf(tmp, sizeof(tmp), ">%u", a->length);
				arg(b, "packet-length");
				arg(b, tmp);
			}
		} else {
			arg(b, "fragment"); arg(b, "is-fragment");
		}
		if (!lift) {
			arg(b, "then");
			arg(b, "discard");
		}
		if (b->err)
			return -1;
	}
	return 2;
}

/* One word as a POSIX shell needs it: as is when it holds only safe
 * characters, else in single quotes. */
static int shell_word(char *buf, size_t len, size_t *at, const char *w)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789_./:,@%+-";
	int quote = !*w || strspn(w, safe) != strlen(w);
	if (quote && *at < len)
		buf[(*at)++] = '\'';
	for (const char *p = w; *p; p++) {
		if (*p == '\'') {
			const char *esc = "'\\''";
			for (const char *e = esc; *e; e++)
				if (*at < len)
					buf[(*at)++] = *e;
		} else if (*at < len) {
			buf[(*at)++] = *p;
		}
	}
	if (quote && *at < len)
		buf[(*at)++] = '\'';
	return *at < len ? 0 : -1;
}

static int gobgp_render(const struct dr_respond_config *c, const struct dr_action *a, int lift,
			double ttl, char *buf, size_t len)
{
	struct argv_buf cmds[2];
	char host[64], port[8];
	(void)ttl;	/* BGP routes have no lifetime; the worker withdraws them */
	if (split_api(c->gobgp_api, host, sizeof(host), port, sizeof(port)) < 0)
		return -1;
	int n = commands(c, host, port, a, lift, cmds);
	if (n < 0 || !len)
		return -1;
	size_t at = 0;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < cmds[i].argc; j++) {
			if (shell_word(buf, len, &at, cmds[i].argv[j]) < 0)
				return -1;
			if (at >= len)
				return -1;
			if (j + 1 < cmds[i].argc)
				buf[at++] = ' ';
			else if (i + 1 < n)
				buf[at++] = '\n';	/* between lines, none after the last */
		}
	if (at >= len)
		return -1;
	buf[at] = 0;
	return 0;
}

/* Runs argv, its standard output and error together in *out (malloc'd,
 * NUL-terminated, the caller frees), killed after GOBGP_TIMEOUT. Returns
 * its exit status, or -1 with why in err. */
static int run(char *const argv[], char **out, char *err, size_t errlen)
{
	int pipefd[2] = {-1, -1}, status = -1, rc = -1;
	pid_t pid = -1;
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	posix_spawn_file_actions_t fa;
	int fa_ok = 0;
	*out = NULL;
	if (!buf || pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "gobgp: %s", buf ? strerror(errno) : "out of memory");
		goto out;
	}
	if (posix_spawn_file_actions_init(&fa) != 0) {
		snprintf(err, errlen, "gobgp: out of memory");
		goto out;
	}
	fa_ok = 1;
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	/* the service's captures and sockets are not gobgp's */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	int e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	if (e) {
		snprintf(err, errlen, "respond.gobgp_cli: cannot run %s: %s", argv[0], strerror(e));
		pid = -1;
		goto out;
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	double deadline = dr_mono_now() + GOBGP_TIMEOUT;
	for (;;) {
		double left = deadline - dr_mono_now();
		if (left <= 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			pid = -1;
			snprintf(err, errlen, "gobgp took more than %.0f s (is gobgpd up?): killed",
				 GOBGP_TIMEOUT);
			goto out;
		}
		struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
		int r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		if (cap - len < 4096) {
			if (cap >= GOBGP_OUT_MAX) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				pid = -1;
				snprintf(err, errlen, "gobgp wrote more than %u MiB", GOBGP_OUT_MAX >> 20);
				goto out;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				snprintf(err, errlen, "gobgp: out of memory");
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(pipefd[0], buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	/* its output ended; it may still linger, but not past the deadline */
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			snprintf(err, errlen, "gobgp: waitpid: %s", strerror(errno));
			pid = -1;
			goto out;
		}
		if (dr_mono_now() >= deadline) {
			snprintf(err, errlen, "gobgp took more than %.0f s (is gobgpd up?): killed",
				 GOBGP_TIMEOUT);
			goto out;	/* killed and reaped below */
		}
		usleep(10000);
	}
	pid = -1;
	buf[len] = 0;
	if (WIFEXITED(status)) {
		rc = WEXITSTATUS(status);
	} else {
		snprintf(err, errlen, "gobgp ended by signal %d", WTERMSIG(status));
		goto out;
	}
	*out = buf;
	buf = NULL;
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	free(buf);
	return rc;
}

/* The first line of a command's output, for an error message. */
static void first_line(const char *out, char *buf, size_t len)
{
	size_t n = strcspn(out, "\n");
	snprintf(buf, len, "%.*s", (int)(n < 200 ? n : 200), out);
}

/* Runs a command and wants status 0. 0, or -1 with why. */
static int run_ok(struct argv_buf *b, char *err, size_t errlen)
{
	char *out = NULL, line[256];
	int rc = run(b->argv, &out, err, errlen);
	if (rc < 0)
		return -1;
	if (rc != 0) {
		first_line(out, line, sizeof(line));
		snprintf(err, errlen, "%s %s %s: exit %d: %s", b->argv[0], b->argv[5], b->argv[6],
			 rc, line[0] ? line : "(no output)");
	}
	free(out);
	return rc ? -1 : 0;
}

static int gobgp_open(void **state, const struct dr_respond_config *c, char *err, size_t errlen)
{
	struct gobgp *g;
	char nh[INET6_ADDRSTRLEN];
	char host[64], port[8];
	if (split_api(c->gobgp_api, host, sizeof(host), port, sizeof(port)) < 0) {
		snprintf(err, errlen, "respond.gobgp_api: give HOST:PORT of gobgpd's API, e.g. "
			 "127.0.0.1:50051");
		return -1;
	}
	if (dr_respond_next_hop(c, 4, "", nh, sizeof(nh)) < 0) {
		snprintf(err, errlen, "respond.next_hop: give self, an address, or an IPv4 and an IPv6 "
			 "address with a comma between (10.1.0.1,2001:db8:1::1)");
		return -1;
	}
	const char *cli = c->gobgp_cli[0] ? c->gobgp_cli : "gobgp";
	if (strchr(cli, '/') ? access(cli, X_OK) < 0 : 0) {
		snprintf(err, errlen, "respond.gobgp_cli: %s: %s", cli, strerror(errno));
		return -1;
	}
	if (!strchr(cli, '/')) {
		/* in PATH: found now, not at the first attack */
		const char *path = getenv("PATH");
		char try[1024];
		int found = 0;
		for (const char *p = path ? path : "/usr/bin:/bin"; *p && !found;) {
			size_t n = strcspn(p, ":");
			snprintf(try, sizeof(try), "%.*s/%s", (int)n, p, cli);
			found = access(try, X_OK) == 0;
			p += n + (p[n] == ':');
		}
		if (!found) {
			snprintf(err, errlen, "respond.gobgp_cli: no %s in PATH (Debian's gobgpd "
				 "package has it)", cli);
			return -1;
		}
	}
	g = calloc(1, sizeof(*g));
	if (g)
		g->found = calloc(GOBGP_FOUND_MAX, sizeof(*g->found));
	if (!g || !g->found) {
		free(g);
		snprintf(err, errlen, "gobgp: out of memory");
		return -1;
	}
	g->c = c;
	memcpy(g->host, host, sizeof(host));
	memcpy(g->port, port, sizeof(port));
	*state = g;
	return 0;
}

static int each(struct gobgp *g, const struct dr_action *a, int lift, char *err, size_t errlen)
{
	struct argv_buf cmds[2];
	int n = commands(g->c, g->host, g->port, a, lift, cmds);
	if (n < 0) {
		snprintf(err, errlen, "gobgp: carries no %s of this address",
			 a->kind < DR_ACT_KINDS ? dr_action_kind_names[a->kind] : "such action");
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (run_ok(&cmds[i], err, errlen) < 0)
			return -1;
	return 0;
}

static int gobgp_apply(void *state, const struct dr_action *a, double ttl, char *err,
		       size_t errlen)
{
	(void)ttl;
	return each(state, a, 0, err, errlen);
}

static int gobgp_lift(void *state, const struct dr_action *a, char *err, size_t errlen)
{
	return each(state, a, 1, err, errlen);
}

/* Reading gobgp's JSON: an object whose keys are the routes (a prefix, or
 * a Flowspec rule's text) and whose values are arrays of paths. Only the
 * keys are parsed; a value is skipped as a balanced span and searched. */
struct json_cur {
	const char *p, *end;
	int err;
};

static void skip_ws(struct json_cur *j)
{
	while (j->p < j->end && strchr(" \t\r\n", *j->p))
		j->p++;
}

/* A string at the cursor into buf (\u00XX and simple escapes decoded). */
static void read_string(struct json_cur *j, char *buf, size_t len)
{
	size_t n = 0;
	if (j->p >= j->end || *j->p != '"') {
		j->err = 1;
		return;
	}
	j->p++;
	while (j->p < j->end && *j->p != '"') {
		char ch = *j->p++;
		if (ch == '\\' && j->p < j->end) {
			ch = *j->p++;
			if (ch == 'u') {
				unsigned v;
				if (j->end - j->p < 4 || sscanf(j->p, "%4x", &v) != 1 || v > 0x7f) {
					j->err = 1;
					return;
				}
				ch = (char)v;
				j->p += 4;
			} else if (ch == 'n') {
				ch = '\n';
			} else if (ch == 't') {
				ch = '\t';
			}
		}
		if (n + 1 < len)
			buf[n++] = ch;
		else
			j->err = 1;
	}
	if (j->p >= j->end) {
		j->err = 1;
		return;
	}
	j->p++;
	buf[n] = 0;
}

/* Past a string at the cursor, however long. */
static void skip_string(struct json_cur *j)
{
	for (j->p++; j->p < j->end && *j->p != '"'; j->p += *j->p == '\\' ? 2 : 1)
		;
	if (j->p >= j->end)
		j->err = 1;
	else
		j->p++;
}

/* Past one value: a string, a scalar, or a balanced object or array. */
static void skip_value(struct json_cur *j)
{
	int depth = 0;
	do {
		if (j->p >= j->end) {
			j->err = 1;
			return;
		}
		char ch = *j->p;
		if (ch == '"') {
			skip_string(j);
			if (j->err)
				return;
			continue;
		}
		if (ch == '{' || ch == '[') {
			depth++;
		} else if (ch == '}' || ch == ']') {
			depth--;
		} else if (!depth) {
			while (j->p < j->end && !strchr(",}] \t\r\n", *j->p))
				j->p++;
			return;
		}
		j->p++;
	} while (depth > 0);
}

/* Whether the array of paths [p, end) holds one put there by this host
 * (gobgpd names the peer of a received path in "neighbor-ip") with needle
 * in it. */
static int local_path_with(const char *p, const char *end, const char *needle)
{
	int depth = 0;
	const char *start = NULL;
	for (const char *q = p; q < end; q++) {
		if (*q == '"') {
			for (q++; q < end && *q != '"'; q += *q == '\\' ? 2 : 1)
				;
			continue;
		}
		if (*q == '{') {
			if (depth++ == 0)
				start = q;
		} else if (*q == '}' && --depth == 0 && start) {
			size_t n = (size_t)(q - start + 1);
			if (!memmem(start, n, "\"neighbor-ip\"", 13) &&
			    memmem(start, n, needle, strlen(needle)))
				return 1;
			start = NULL;
		}
	}
	return 0;
}

static int parse_prefix(const char *text, struct dr_ev_addr *a)
{
	char buf[INET6_ADDRSTRLEN + 8];
	snprintf(buf, sizeof(buf), "%s", text);
	char *slash = strchr(buf, '/');
	if (!slash)
		return -1;
	*slash = 0;
	char *end;
	unsigned long len = strtoul(slash + 1, &end, 10);
	if (dr_action_addr_parse(buf, a) < 0)
		return -1;
	/* IPv6 Flowspec prints an offset after the length: "/128/0" */
	if (end == slash + 1 || (*end && strcmp(end, "/0")) || len > (a->family == 4 ? 32u : 128u))
		return -1;
	a->prefix_len = (uint8_t)len;
	return 0;
}

/* A Flowspec rule's text in one of our two shapes: 1 the UDP rule (its
 * length in *length), 2 the fragment rule, 0 neither. */
static int our_flow(const char *key, struct dr_ev_addr *a, unsigned *length)
{
	char dst[INET6_ADDRSTRLEN + 16];
	int n = 0;
	*length = 0;
	if (sscanf(key, "[destination: %59[^]]]%n", dst, &n) != 1 || !n || parse_prefix(dst, a) < 0)
		return 0;
	const char *rest = key + n;
	if (!strcmp(rest, "[fragment: is-fragment]"))
		return 2;
	const char *udp = "[protocol: ==udp][source-port: ==53]";
	if (strncmp(rest, udp, strlen(udp)))
		return 0;
	rest += strlen(udp);
	if (!*rest)
		return 1;
	int m = 0;
	if (sscanf(rest, "[packet-length: >%u]%n", length, &m) == 1 && m && !rest[m])
		return 1;
	return 0;
}

static int same_dst(const struct dr_ev_addr *x, const struct dr_ev_addr *y)
{
	return x->family == y->family && x->prefix_len == y->prefix_len &&
	       !memcmp(x->a, y->a, x->family == 4 ? 4 : 16);
}

/* One route of the answer: its key and its array of paths [v, end); kept
 * in g->found when it is ours. */
static void one_route(struct gobgp *g, int flow, const char *key, const char *v, const char *end,
		      const char *community)
{
	struct gobgp_found f;
	unsigned length = 0;
	memset(&f, 0, sizeof(f));
	if (g->nfound >= GOBGP_FOUND_MAX)
		return;	/* the rest on a later read, once these are lifted */
	if (!flow) {
		if (parse_prefix(key, &f.addr) < 0 ||
		    f.addr.prefix_len != (f.addr.family == 4 ? 32 : 128))
			return;
		/* the community as a whole element of the list */
		char n1[56], n2[56], n3[56];
		snprintf(n1, sizeof(n1), "[%s]", community);
		snprintf(n2, sizeof(n2), "[%s,", community);
		snprintf(n3, sizeof(n3), ",%s]", community);
		if (!local_path_with(v, end, n1) && !local_path_with(v, end, n2) &&
		    !local_path_with(v, end, n3))
			return;
		f.kind = DR_ACT_BLACKHOLE;
	} else {
		int shape = our_flow(key, &f.addr, &length);
		/* discard is a traffic-rate of 0 */
		if (!shape || !local_path_with(v, end, "\"rate\":0"))
			return;
		f.kind = DR_ACT_FLOWSPEC;
		f.rule = (uint8_t)shape;
		f.length = (uint16_t)length;
	}
	g->found[g->nfound++] = f;
}

/* A family's answer: {"ROUTE": [PATH, ...], ...}. 0, or -1 when it is not that. */
static int parse_rib(struct gobgp *g, int flow, const char *out, const char *community)
{
	struct json_cur j = {out, out + strlen(out), 0};
	skip_ws(&j);
	if (j.p == j.end || !strncmp(j.p, "Network not in table", 20))
		return 0;
	if (*j.p != '{')
		return -1;
	j.p++;
	skip_ws(&j);
	while (!j.err && j.p < j.end && *j.p != '}') {
		char key[512];
		read_string(&j, key, sizeof(key));
		skip_ws(&j);
		if (j.err || j.p >= j.end || *j.p != ':')
			return -1;
		j.p++;
		skip_ws(&j);
		const char *v = j.p;
		skip_value(&j);
		if (j.err)
			return -1;
		one_route(g, flow, key, v, j.p, community);
		skip_ws(&j);
		if (j.p < j.end && *j.p == ',') {
			j.p++;
			skip_ws(&j);
		}
	}
	return j.err || j.p >= j.end ? -1 : 0;
}

/* Reads what of ours gobgpd holds into g->found; it answering is what
 * prepare() needs to know. 0, or -1 with why (g->found then empty). */
static int gobgp_prepare(void *state, char *err, size_t errlen)
{
	struct gobgp *g = state;
	static const char *const families[] = {"ipv4", "ipv6", "ipv4-flowspec", "ipv6-flowspec"};
	unsigned hi, lo;
	char community[24];
	g->nfound = 0;
	if (sscanf(g->c->community[0] ? g->c->community : "65535:666", "%u:%u", &hi, &lo) != 2) {
		snprintf(err, errlen, "respond.community: give ASN:VALUE");
		return -1;
	}
	/* gobgpd's JSON writes a community as one 32-bit number */
	snprintf(community, sizeof(community), "%lu", (unsigned long)hi << 16 | lo);
	for (unsigned f = 0; f < 4; f++) {
		struct argv_buf b;
		char *text = NULL, line[256];
		base_args(&b, g->c, g->host, g->port);
		arg(&b, "-j"); arg(&b, "global"); arg(&b, "rib"); arg(&b, "-a"); arg(&b, families[f]);
		int st = run(b.argv, &text, err, errlen);
		if (st < 0) {
			g->nfound = 0;
			return -1;
		}
		if (st != 0 || parse_rib(g, f >= 2, text, community) < 0) {
			first_line(text, line, sizeof(line));
			snprintf(err, errlen, "gobgp -j global rib -a %s: %s: %s", families[f],
				 st ? "failed (is gobgpd up?)" : "not the JSON expected", line);
			free(text);
			g->nfound = 0;
			return -1;
		}
		free(text);
	}
	return 0;
}

/* What prepare() found. A Flowspec action is two rules; a fragment rule
 * alone (the UDP rule's lift went through, the fragment's did not) is
 * reported with the policy's length, so that lifting it lifts what is
 * left. */
static int gobgp_list(void *state, dr_backend_found_fn found, void *ctx, char *err,
		      size_t errlen)
{
	struct gobgp *g = state;
	(void)err;
	(void)errlen;
	for (unsigned i = 0; i < g->nfound; i++) {
		const struct gobgp_found *f = &g->found[i];
		struct dr_action a;
		if (f->rule == 2) {
			unsigned k = 0;
			while (k < g->nfound && !(g->found[k].rule == 1 &&
						  same_dst(&g->found[k].addr, &f->addr)))
				k++;
			if (k < g->nfound)
				continue;	/* goes with its UDP rule */
		}
		memset(&a, 0, sizeof(a));
		a.kind = f->kind;
		a.addr = f->addr;
		a.length = f->rule == 2 ? (uint16_t)g->c->policy.length : f->length;
		found(ctx, &a, g->c->ttl);	/* a route has no lifetime of its own */
	}
	return 0;
}

static void gobgp_close(void *state)
{
	struct gobgp *g = state;
	if (g)
		free(g->found);
	free(g);
}

const struct dr_backend dr_backend_gobgp = {
	.name = "gobgp",
	.owns_all = 0,
	.kinds = 1u << DR_ACT_BLACKHOLE | 1u << DR_ACT_FLOWSPEC,
	.open = gobgp_open,
	.prepare = gobgp_prepare,
	.apply = gobgp_apply,
	.lift = gobgp_lift,
	.list = gobgp_list,
	.close = gobgp_close,
	.render = gobgp_render,
	.render_setup = NULL,
};
