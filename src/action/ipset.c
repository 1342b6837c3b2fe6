/* The ipset backend, for hosts still on iptables: one set per kind and
 * family with per-element timeouts, and iptables/ip6tables rules that
 * match them, created once. Commands run through posix_spawn with an argv
 * (no shell), a deadline and their stderr kept for the error. */
#define _GNU_SOURCE	/* posix_spawn_file_actions_addclosefrom_np */
#include "action/backend.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "action/respond.h"
#include "lib/now.h"

extern char **environ;

#define CMD_TIMEOUT 10.0	/* seconds one ipset or iptables command may take */
#define CMD_OUT_MAX (32u << 20)	/* octets of a listing kept: 65,536 elements fit */
#define ARGS_MAX 40
#define TTL_MAX 2147483		/* the largest ipset timeout */

/* The sets: one per kind and family. Elements are formatted from binary
 * addresses (inet_ntop), never from text that came with the traffic. */
enum set_id { S_SRC, S_RL, S_PEER, S_RESP, S_RESP_ANY, S_REFL, S_SETS };

static const struct {
	const char *suffix;	/* "-src" + "4" or "6" */
	const char *type;	/* ipset type */
	const char *match;	/* --match-set directions */
} sets[S_SETS] = {
	[S_SRC] = {"-src", "hash:ip,port", "src,dst"},
	[S_RL] = {"-rl", "hash:ip,port", "dst,dst"},
	[S_PEER] = {"-peer", "hash:ip,port,ip", "src,src,dst"},
	[S_RESP] = {"-resp", "hash:ip,port,ip", "src,src,dst"},
	[S_RESP_ANY] = {"-respany", "hash:ip,port", "src,src"},
	[S_REFL] = {"-refl", "hash:ip", "dst"},
};

#define NAME_MAX_LEN 31		/* IPSET_MAXNAMELEN - 1 */
#define LONGEST_SUFFIX 9	/* "-respany4" */

struct ipset_state {
	struct dr_respond_config c;
	char *out;		/* the last command's stdout (list) */
	size_t outn;
};

static const char *in_table(const struct dr_respond_config *c)
{
	return !strcmp(c->hook, "prerouting") ? "raw" : "filter";
}

/* Where a set's rule goes: traffic towards the servers in the chain of
 * the hook; drop-responses where a local responder's answers leave (input:
 * OUTPUT); and drop-source a second time there, so that a flood the host
 * itself sends (a compromised web application, seed 003) is stopped too
 * (forward: FORWARD already sees both ways). NULL: no such rule. */
static const char *chain_of(const struct dr_respond_config *c, int set, int which)
{
	int fwd = !strcmp(c->hook, "forward"), pre = !strcmp(c->hook, "prerouting");
	int out = set == S_RESP || set == S_RESP_ANY || (set == S_SRC && which == 1);
	if (set == S_SRC && which == 1 && fwd)
		return NULL;
	if (fwd)
		return "FORWARD";
	if (out)
		return pre && set == S_SRC ? "OUTPUT" : pre ? "PREROUTING" : "OUTPUT";
	return pre ? "PREROUTING" : "INPUT";
}

static void set_name(const struct dr_respond_config *c, int set, int family, char *buf,
		     size_t len)
{
	snprintf(buf, len, "%s%s%c", c->set_prefix, sets[set].suffix, family == 6 ? '6' : '4');
}

static int set_of_kind(int kind)
{
	switch (kind) {
	case DR_ACT_DROP_SOURCE: return S_SRC;
	case DR_ACT_RATE_LIMIT: return S_RL;
	case DR_ACT_DROP_PEER: return S_PEER;
	case DR_ACT_DROP_RESPONSES: return S_RESP;
	case DR_ACT_DROP_REFLECTED: return S_REFL;
	default: return -1;
	}
}

static unsigned rule_length(const struct dr_respond_config *c)
{
	return c->policy.length >= 65535 ? 65535 : c->policy.length + 1;
}

/* One rule as argv words after "iptables -w 5 -t TABLE -X CHAIN": the rules
 * of a set (drop-reflected has two: long answers and fragments). The words
 * point into buf. Returns how many words, 0 when the set has no such rule. */
static int rule_words(const struct dr_respond_config *c, int set, int family, int which,
		      char *buf, size_t len, const char **w)
{
	char name[64];
	int n = 0;
	set_name(c, set, family, name, sizeof(name));
	/* buf holds the set's name, then a rate or length */
	int off = snprintf(buf, len, "%s", name) + 1;
	char *num = buf + off;
	if (which > 1 || (which == 1 && set != S_REFL && set != S_SRC) || !chain_of(c, set, which))
		return 0;
	if (set == S_REFL && which == 1) {
		/* fragments after the first carry no port: drop every one to the victim */
		if (family == 4)
			w[n++] = "-f";
		w[n++] = "-m";
		w[n++] = "set";
		w[n++] = "--match-set";
		w[n++] = buf;
		w[n++] = sets[set].match;
		if (family == 6) {
			w[n++] = "-m";
			w[n++] = "frag";
		}
		w[n++] = "-j";
		w[n++] = "DROP";
		return n;
	}
	w[n++] = "-p";
	w[n++] = "udp";
	if (set == S_REFL) {
		w[n++] = "--sport";
		w[n++] = "53";
	}
	w[n++] = "-m";
	w[n++] = "set";
	w[n++] = "--match-set";
	w[n++] = buf;
	w[n++] = sets[set].match;
	if (set == S_RL) {
		snprintf(num, len - (size_t)off, "%u/sec%c%u", c->policy.rate, 0, c->policy.rate);
		w[n++] = "-m";
		w[n++] = "hashlimit";
		w[n++] = "--hashlimit-above";
		w[n++] = num;
		w[n++] = "--hashlimit-burst";
		w[n++] = num + strlen(num) + 1;
		w[n++] = "--hashlimit-mode";
		w[n++] = "dstip,dstport";
		w[n++] = "--hashlimit-name";
		w[n++] = buf;
	}
	if (set == S_REFL) {
		snprintf(num, len - (size_t)off, "%u:65535", rule_length(c));
		w[n++] = "-m";
		w[n++] = "length";
		w[n++] = "--length";
		w[n++] = num;
	}
	w[n++] = "-j";
	w[n++] = "DROP";
	return n;
}

/* Appends argv as an operator would type it (every word here is safe
 * unquoted: names, numbers, addresses formatted by us). */
static int append_words(char *buf, size_t len, size_t *at, const char *const *w, int n,
			const char *tail)
{
	for (int i = 0; i < n; i++) {
		int k = snprintf(buf + *at, len - *at, "%s%s", i ? " " : "", w[i]);
		if (k < 0 || (size_t)k >= len - *at)
			return -1;
		*at += (size_t)k;
	}
	int k = snprintf(buf + *at, len - *at, "%s", tail);
	if (k < 0 || (size_t)k >= len - *at)
		return -1;
	*at += (size_t)k;
	return 0;
}

/* The iptables argv of a rule: "iptables -w 5 -t T OP CHAIN" + words. */
static int rule_argv(const struct dr_respond_config *c, int set, int family, int which,
		     const char *op, char *buf, size_t len, const char **argv)
{
	const char *w[ARGS_MAX];
	int n = rule_words(c, set, family, which, buf, len, w);
	if (!n)
		return 0;
	int k = 0;
	argv[k++] = family == 6 ? "ip6tables" : "iptables";
	argv[k++] = "-w";
	argv[k++] = "5";
	argv[k++] = "-t";
	argv[k++] = in_table(c);
	argv[k++] = op;
	argv[k++] = chain_of(c, set, which);
	for (int i = 0; i < n; i++)
		argv[k++] = w[i];
	argv[k] = NULL;
	return k;
}

static int create_argv(const struct dr_respond_config *c, int set, int family, char *name,
		       size_t namelen, const char **argv)
{
	int k = 0;
	set_name(c, set, family, name, namelen);
	argv[k++] = "ipset";
	argv[k++] = "-exist";
	argv[k++] = "create";
	argv[k++] = name;
	argv[k++] = sets[set].type;
	argv[k++] = "family";
	argv[k++] = family == 6 ? "inet6" : "inet";
	argv[k++] = "timeout";
	argv[k++] = "0";	/* per-element timeouts, none by default */
	argv[k] = NULL;
	return k;
}

static int addr_ok(const struct dr_ev_addr *a)
{
	return (a->family == 4 && a->prefix_len == 32) || (a->family == 6 && a->prefix_len == 128);
}

static int addr_text(const struct dr_ev_addr *a, char *buf, size_t len)
{
	return inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->a, buf, (socklen_t)len) ? 0 : -1;
}

/* The set and element of an action: 0, or -1 with why. */
static int element(const struct dr_respond_config *c, const struct dr_action *a, char *set,
		   size_t setlen, char *elem, size_t elemlen, char *err, size_t errlen)
{
	char x[INET6_ADDRSTRLEN], y[INET6_ADDRSTRLEN];
	int s = set_of_kind(a->kind);
	if (s < 0) {
		snprintf(err, errlen, "ipset carries no %s action",
			 a->kind < DR_ACT_KINDS ? dr_action_kind_names[a->kind] : "such");
		return -1;
	}
	if (!addr_ok(&a->addr) || addr_text(&a->addr, x, sizeof(x)) < 0) {
		snprintf(err, errlen, "ipset: %s needs one host address", dr_action_kind_names[a->kind]);
		return -1;
	}
	if (s == S_RESP && !a->addr2.family)
		s = S_RESP_ANY;
	int two = s == S_PEER || s == S_RESP;
	if (two && (!addr_ok(&a->addr2) || a->addr2.family != a->addr.family ||
		    addr_text(&a->addr2, y, sizeof(y)) < 0)) {
		snprintf(err, errlen, "ipset: %s needs a second host address of the same family",
			 dr_action_kind_names[a->kind]);
		return -1;
	}
	if (s == S_PEER && a->port2 != 53) {
		/* the set has no field for it: what list reads back must be what
		 * was applied, or the response would re-apply it for ever */
		snprintf(err, errlen, "ipset: drop-peer to server port %u: the ipset backend "
			 "carries loops on port 53 only (nftables carries any)", a->port2);
		return -1;
	}
	if (s == S_RL && a->rate != c->policy.rate) {
		snprintf(err, errlen, "ipset: rate-limit at %u/s, but the rule limits at %u/s "
			 "(respond.rate)", a->rate, c->policy.rate);
		return -1;
	}
	if (s == S_REFL && a->length != c->policy.length) {
		snprintf(err, errlen, "ipset: drop-reflected over %u octets, but the rule drops "
			 "over %u (respond.length)", a->length, c->policy.length);
		return -1;
	}
	set_name(c, s, a->addr.family, set, setlen);
	switch (s) {
	case S_SRC:
	case S_RL:
		snprintf(elem, elemlen, "%s,udp:%u", x, a->port);
		break;
	case S_PEER:
		snprintf(elem, elemlen, "%s,udp:%u,%s", x, a->port, y);
		break;
	case S_RESP:
		snprintf(elem, elemlen, "%s,udp:53,%s", x, y);
		break;
	case S_RESP_ANY:
		snprintf(elem, elemlen, "%s,udp:53", x);
		break;
	default:
		snprintf(elem, elemlen, "%s", x);
	}
	return 0;
}

static unsigned ttl_secs(double ttl)
{
	if (!(ttl >= 1))
		return 1;
	if (ttl >= TTL_MAX)
		return TTL_MAX;
	return (unsigned)ceil(ttl);
}

/* The argv of apply (lift: 0) or lift (1). */
static int change_argv(const struct dr_respond_config *c, const struct dr_action *a, int lift,
		       double ttl, char *set, size_t setlen, char *elem, size_t elemlen, char *secs,
		       size_t secslen, const char **argv, char *err, size_t errlen)
{
	int k = 0;
	if (element(c, a, set, setlen, elem, elemlen, err, errlen) < 0)
		return -1;
	argv[k++] = "ipset";
	argv[k++] = "-exist";	/* add refreshes the timeout; del of an absent one succeeds */
	argv[k++] = lift ? "del" : "add";
	argv[k++] = set;
	argv[k++] = elem;
	if (!lift) {
		snprintf(secs, secslen, "%u", ttl_secs(ttl));
		argv[k++] = "timeout";
		argv[k++] = secs;
	}
	argv[k] = NULL;
	return k;
}

/* Running a command. */

/* The program's path: the sbin directories first, since a service's PATH
 * often lacks them. */
static int find_program(const char *name, char *buf, size_t len)
{
	static const char *const dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(buf, len, "%s/%s", dirs[i], name);
		if (access(buf, X_OK) == 0)
			return 0;
	}
	return -1;
}

static void command_text(const char *const *argv, char *buf, size_t len)
{
	size_t at = 0;
	buf[0] = 0;
	for (int i = 0; argv[i]; i++)
		if (append_words(buf, len, &at, &argv[i], 1, argv[i + 1] ? " " : "") < 0)
			break;
}

/* The first line of what a command wrote on stderr, cut. */
static void first_line(const char *s, char *buf, size_t len)
{
	size_t n = strcspn(s, "\n");
	if (n >= len)
		n = len - 1;
	memcpy(buf, s, n);
	buf[n] = 0;
}

/* Runs argv; its stdout goes to st->out. Returns the exit status (0-255),
 * or -1 with why in err when it could not run or took too long. On a
 * nonzero status err holds the command and its stderr's first line. */
static int run(struct ipset_state *st, const char *const *argv, char *err, size_t errlen)
{
	int po[2] = {-1, -1}, pe[2] = {-1, -1};
	char path[256], ebuf[512], cmd[DR_ACTION_TEXT];
	size_t en = 0, cap = 0;
	int status = -1, have_fa = 0, have_attr = 0;
	pid_t pid = 0;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	ebuf[0] = 0;
	st->outn = 0;
	command_text(argv, cmd, sizeof(cmd));
	if (find_program(argv[0], path, sizeof(path)) < 0) {
		snprintf(err, errlen, "%s: not installed (no %s in /usr/sbin, /sbin, /usr/bin, /bin)",
			 argv[0], argv[0]);
		return -1;
	}
	if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "%s: pipe: %s", argv[0], strerror(errno));
		goto out;
	}
	if (posix_spawn_file_actions_init(&fa) != 0)
		goto spawn_failed;
	have_fa = 1;
	if (posix_spawnattr_init(&attr) != 0)
		goto spawn_failed;
	have_attr = 1;
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, po[1], 1) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, pe[1], 2) != 0 ||
	    posix_spawn_file_actions_addclosefrom_np(&fa, 3) != 0 ||
	    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) != 0 ||
	    posix_spawnattr_setsigmask(&attr, &none) != 0 ||
	    posix_spawnattr_setsigdefault(&attr, &all) != 0)
		goto spawn_failed;
	int rc = posix_spawn(&pid, path, &fa, &attr, (char *const *)argv, environ);
	if (rc != 0) {
		errno = rc;
		goto spawn_failed;
	}
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	double deadline = dr_mono_now() + CMD_TIMEOUT;
	int open_fds = 2, timed_out = 0, too_long = 0;
	while (open_fds) {
		struct pollfd p[2] = {{.fd = po[0], .events = POLLIN}, {.fd = pe[0], .events = POLLIN}};
		double left = deadline - dr_mono_now();
		if (left <= 0) {
			timed_out = 1;
			break;
		}
		int r = poll(p, 2, (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (p[0].revents) {
			if (cap - st->outn < 4096) {
				size_t ncap = cap ? cap * 2 : 65536;
				char *nb = ncap <= CMD_OUT_MAX ? realloc(st->out, ncap + 1) : NULL;
				if (!nb) {
					too_long = 1;
					break;
				}
				st->out = nb;
				cap = ncap;
			}
			ssize_t k = read(po[0], st->out + st->outn, cap - st->outn);
			if (k > 0) {
				st->outn += (size_t)k;
			} else if (k == 0 || errno != EINTR) {
				close(po[0]);
				po[0] = -1;
				open_fds--;
			}
		}
		if (p[1].revents) {
			char tmp[512];
			ssize_t k = read(pe[0], tmp, sizeof(tmp));
			if (k > 0) {
				size_t take = (size_t)k < sizeof(ebuf) - 1 - en ? (size_t)k
									   : sizeof(ebuf) - 1 - en;
				memcpy(ebuf + en, tmp, take);
				en += take;
				ebuf[en] = 0;
			} else if (k == 0 || errno != EINTR) {
				close(pe[0]);
				pe[0] = -1;
				open_fds--;
			}
		}
	}
	if (st->out)
		st->out[st->outn] = 0;
	if (open_fds) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		snprintf(err, errlen, "%s: %s", cmd,
			 timed_out ? "no answer in 10 s, killed"
				   : too_long ? "more than 32 MiB of output" : strerror(errno));
		status = -1;
		goto out;
	}
	int ws;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
	if (status) {
		char line[256];
		first_line(ebuf, line, sizeof(line));
		snprintf(err, errlen, "%s: %s (exit %d)", cmd, line[0] ? line : "failed", status);
	}
	goto out;
spawn_failed:
	snprintf(err, errlen, "%s: cannot start: %s", path, strerror(errno));
out:
	if (have_fa)
		posix_spawn_file_actions_destroy(&fa);
	if (have_attr)
		posix_spawnattr_destroy(&attr);
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	return status;
}

/* The operations. */

static int check_config(const struct dr_respond_config *c, char *err, size_t errlen)
{
	size_t n = strlen(c->set_prefix);
	if (!n || strspn(c->set_prefix, "abcdefghijklmnopqrstuvwxyz0123456789_") != n) {
		snprintf(err, errlen, "respond.set_prefix: give lower-case letters, digits and _");
		return -1;
	}
	if (n + LONGEST_SUFFIX > NAME_MAX_LEN) {
		snprintf(err, errlen, "respond.set_prefix: at most %d characters (ipset names "
			 "hold %d, and dnsradar adds up to %d)", NAME_MAX_LEN - LONGEST_SUFFIX,
			 NAME_MAX_LEN, LONGEST_SUFFIX);
		return -1;
	}
	if (strcmp(c->hook, "input") && strcmp(c->hook, "forward") && strcmp(c->hook, "prerouting")) {
		snprintf(err, errlen, "respond.hook: give input, forward or prerouting");
		return -1;
	}
	return 0;
}

static int ipset_open(void **state, const struct dr_respond_config *c, char *err, size_t errlen)
{
	char path[256];
	if (check_config(c, err, errlen) < 0)
		return -1;
	static const char *const progs[] = {"ipset", "iptables", "ip6tables"};
	for (size_t i = 0; i < 3; i++)
		if (find_program(progs[i], path, sizeof(path)) < 0) {
			snprintf(err, errlen, "respond.firewall: ipset needs %s, which is not "
				 "installed (apt-get install ipset iptables)", progs[i]);
			return -1;
		}
	struct ipset_state *st = calloc(1, sizeof(*st));
	if (!st) {
		snprintf(err, errlen, "respond.firewall: out of memory");
		return -1;
	}
	st->c = *c;
	*state = st;
	return 0;
}

static int ipset_prepare(void *state, char *err, size_t errlen)
{
	struct ipset_state *st = state;
	const char *argv[ARGS_MAX];
	char name[64], buf[128];
	for (int s = 0; s < S_SETS; s++)
		for (int f = 4; f <= 6; f += 2) {
			create_argv(&st->c, s, f, name, sizeof(name), argv);
			if (run(st, argv, err, errlen) != 0)
				return -1;
		}
	/* each rule once: -C tells whether it is there (exit 1: no such rule) */
	for (int s = 0; s < S_SETS; s++)
		for (int f = 4; f <= 6; f += 2)
			for (int which = 0; which < 2; which++) {
				if (!rule_argv(&st->c, s, f, which, "-C", buf, sizeof(buf), argv))
					continue;
				int r = run(st, argv, err, errlen);
				if (r == 0)
					continue;
				if (r != 1)
					return -1;
				rule_argv(&st->c, s, f, which, "-I", buf, sizeof(buf), argv);
				if (run(st, argv, err, errlen) != 0)
					return -1;
			}
	return 0;
}

static int ipset_apply(void *state, const struct dr_action *a, double ttl, char *err,
		       size_t errlen)
{
	struct ipset_state *st = state;
	const char *argv[ARGS_MAX];
	char set[64], elem[128], secs[16];
	if (change_argv(&st->c, a, 0, ttl, set, sizeof(set), elem, sizeof(elem), secs,
			sizeof(secs), argv, err, errlen) < 0)
		return -1;
	return run(st, argv, err, errlen) == 0 ? 0 : -1;
}

static int ipset_lift(void *state, const struct dr_action *a, char *err, size_t errlen)
{
	struct ipset_state *st = state;
	const char *argv[ARGS_MAX];
	char set[64], elem[128], secs[16];
	if (change_argv(&st->c, a, 1, 0, set, sizeof(set), elem, sizeof(elem), secs, sizeof(secs),
			argv, err, errlen) < 0)
		return -1;
	return run(st, argv, err, errlen) == 0 ? 0 : -1;
}

/* "ADDR" or "ADDR,udp:PORT" or "ADDR,udp:PORT,ADDR" as the set's type
 * prints it: 0 with the parts, -1 when it is not one. */
static int parse_elem(const char *s, int family, int set, struct dr_action *a)
{
	char x[INET6_ADDRSTRLEN + 1], y[INET6_ADDRSTRLEN + 1];
	const char *comma = strchr(s, ',');
	size_t n = comma ? (size_t)(comma - s) : strlen(s);
	int want_port = set != S_REFL, want_two = set == S_PEER || set == S_RESP;
	if (n >= sizeof(x) || (want_port != !!comma))
		return -1;
	memcpy(x, s, n);
	x[n] = 0;
	a->addr.family = (uint8_t)family;
	a->addr.prefix_len = family == 6 ? 128 : 32;
	if (inet_pton(family == 6 ? AF_INET6 : AF_INET, x, a->addr.a) != 1)
		return -1;
	if (!want_port)
		return 0;
	s = comma + 1;
	if (strncmp(s, "udp:", 4))
		return -1;
	s += 4;
	char *end;
	unsigned long port = strtoul(s, &end, 10);
	if (end == s || port > 65535)
		return -1;
	if (set == S_SRC || set == S_RL || set == S_PEER)
		a->port = (uint16_t)port;
	else if (port != 53)
		return -1;
	if (!want_two)
		return *end ? -1 : 0;
	if (*end != ',' || strlen(end + 1) >= sizeof(y))
		return -1;
	snprintf(y, sizeof(y), "%s", end + 1);
	a->addr2.family = (uint8_t)family;
	a->addr2.prefix_len = family == 6 ? 128 : 32;
	return inet_pton(family == 6 ? AF_INET6 : AF_INET, y, a->addr2.a) == 1 ? 0 : -1;
}

static int ipset_list(void *state, dr_backend_found_fn found, void *ctx, char *err, size_t errlen)
{
	struct ipset_state *st = state;
	static const int kind_of[S_SETS] = {
		[S_SRC] = DR_ACT_DROP_SOURCE, [S_RL] = DR_ACT_RATE_LIMIT, [S_PEER] = DR_ACT_DROP_PEER,
		[S_RESP] = DR_ACT_DROP_RESPONSES, [S_RESP_ANY] = DR_ACT_DROP_RESPONSES,
		[S_REFL] = DR_ACT_DROP_REFLECTED,
	};
	for (int s = 0; s < S_SETS; s++)
		for (int f = 4; f <= 6; f += 2) {
			char name[64];
			const char *argv[] = {"ipset", "list", name, "-output", "save", NULL};
			set_name(&st->c, s, f, name, sizeof(name));
			int r = run(st, argv, err, errlen);
			if (r != 0) {
				if (r > 0 && strstr(err, "does not exist"))
					continue;	/* never created: nothing of ours in force */
				return -1;
			}
			/* "add NAME ELEM timeout N", one a line */
			char prefix[80];
			int plen = snprintf(prefix, sizeof(prefix), "add %s ", name);
			char *line = st->out;
			while (line && *line) {
				char *nl = strchr(line, '\n');
				if (nl)
					*nl = 0;
				if (!strncmp(line, prefix, (size_t)plen)) {
					char *e = line + plen, *sp = strchr(e, ' ');
					double left = 0;
					if (sp) {
						*sp = 0;
						if (!strncmp(sp + 1, "timeout ", 8))
							left = strtod(sp + 9, NULL);
					}
					struct dr_action a;
					memset(&a, 0, sizeof(a));
					a.kind = (uint8_t)kind_of[s];
					if (parse_elem(e, f, s, &a) == 0) {
						if (s == S_PEER)
							a.port2 = 53;	/* the only one applied */
						if (s == S_RL)
							a.rate = st->c.policy.rate;
						if (s == S_REFL)
							a.length = (uint16_t)st->c.policy.length;
						found(ctx, &a, left);
					}
				}
				line = nl ? nl + 1 : NULL;
			}
		}
	return 0;
}

static void ipset_close(void *state)
{
	struct ipset_state *st = state;
	if (!st)
		return;
	free(st->out);
	free(st);
}

static int ipset_render(const struct dr_respond_config *c, const struct dr_action *a, int lift,
			double ttl, char *buf, size_t len)
{
	const char *argv[ARGS_MAX];
	char set[64], elem[128], secs[16], why[160];
	size_t at = 0;
	if (change_argv(c, a, lift, ttl, set, sizeof(set), elem, sizeof(elem), secs, sizeof(secs),
			argv, why, sizeof(why)) < 0)
		return -1;
	int n = 0;
	while (argv[n])
		n++;
	return append_words(buf, len, &at, argv, n, "\n");
}

static int ipset_render_setup(const struct dr_respond_config *c, char *buf, size_t len)
{
	const char *argv[ARGS_MAX];
	char name[64], rb[128];
	size_t at = 0;
	buf[0] = 0;
	for (int s = 0; s < S_SETS; s++)
		for (int f = 4; f <= 6; f += 2) {
			int n = create_argv(c, s, f, name, sizeof(name), argv);
			if (append_words(buf, len, &at, argv, n, "\n") < 0)
				return -1;
		}
	for (int s = 0; s < S_SETS; s++)
		for (int f = 4; f <= 6; f += 2)
			for (int which = 0; which < 2; which++) {
				int n = rule_argv(c, s, f, which, "-C", rb, sizeof(rb), argv);
				if (!n)
					continue;
				if (append_words(buf, len, &at, argv, n, " 2>/dev/null || ") < 0)
					return -1;
				rule_argv(c, s, f, which, "-I", rb, sizeof(rb), argv);
				if (append_words(buf, len, &at, argv, n, "\n") < 0)
					return -1;
			}
	return 0;
}

const struct dr_backend dr_backend_ipset = {
	.name = "ipset",
	.owns_all = 1,
	.kinds = 1u << DR_ACT_DROP_SOURCE | 1u << DR_ACT_RATE_LIMIT | 1u << DR_ACT_DROP_PEER |
		 1u << DR_ACT_DROP_RESPONSES | 1u << DR_ACT_DROP_REFLECTED,
	.open = ipset_open,
	.prepare = ipset_prepare,
	.apply = ipset_apply,
	.lift = ipset_lift,
	.list = ipset_list,
	.close = ipset_close,
	.render = ipset_render,
	.render_setup = ipset_render_setup,
};
