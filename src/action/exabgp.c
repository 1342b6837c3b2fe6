/* The ExaBGP backend: RTBH announcements with the blackhole community and
 * Flowspec (RFC 8955) discard rules, sent as ExaBGP API text to the
 * `dnsradar exabgp-bridge` process ExaBGP runs, over a Unix socket.
 *
 * ExaBGP reads API commands from a child process's standard output and
 * writes "done" or "error" to its standard input. The bridge is that child:
 * it connects to the socket this backend listens on and copies lines both
 * ways. A connection is accepted lazily, at each operation, without
 * blocking, so the service starts whether ExaBGP runs or not.
 *
 * Restarts. A new connection means a new bridge, and ExaBGP may have
 * restarted with it and lost every route (a stopped ExaBGP takes its BGP
 * session, hence its routes, down with it). The backend keeps the actions
 * it applied over the current connection. prepare() (the worker's, before
 * work and at every reconciliation) that finds a new bridge forgets them
 * and returns 1, and the worker applies again everything in force; an
 * apply or lift that finds one first announces them all again itself, so
 * nothing waits for the next reconciliation. Announcing a route ExaBGP
 * still holds (its bridge died, ExaBGP did not) is harmless. list()
 * reports those actions: after dnsradar itself restarts there are none,
 * so the worker applies every action of its records again. */
#define _GNU_SOURCE	/* accept4 */
#include "action/backend.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "action/respond.h"
#include "lib/now.h"

#define EXA_TIMEOUT 5.0		/* seconds to wait for ExaBGP's reply */
#define EXA_LINE 512		/* octets of one command */

struct exabgp {
	int listen_fd;
	int conn_fd;		/* the bridge, -1 none */
	int fresh;		/* 1: a new bridge came, not yet told */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const struct dr_respond_config *c;
	char inbuf[4096];	/* ExaBGP's reply, up to its newline */
	size_t inlen;
	struct dr_action *routes;	/* applied over this connection, as applied */
	unsigned nroutes, cap;
};

static unsigned prefix_len(const struct dr_ev_addr *a)
{
	unsigned max = a->family == 4 ? 32 : 128;
	return a->prefix_len && a->prefix_len <= max ? a->prefix_len : max;
}

/* The next hop of a family: the setting's address of that family (it is
 * "self", an address, or an IPv4 and an IPv6 address with a comma between),
 * else "self", ExaBGP's own address on the session. -1 when the setting is
 * none of those. */
/* The command lines of an action, one per element of out (at most 2).
 * Returns how many, or -1 when the action is not one of ours. */
static int commands(const struct dr_respond_config *c, const struct dr_action *a, int lift,
		    char out[2][EXA_LINE])
{
	char addr[INET6_ADDRSTRLEN], nh[INET6_ADDRSTRLEN];
	if (dr_action_addr_text(&a->addr, addr, sizeof(addr)) < 0)
		return -1;
	unsigned plen = prefix_len(&a->addr);
	int n;
	if (a->kind == DR_ACT_BLACKHOLE) {
		if (dr_respond_next_hop(c, a->addr.family, "self", nh, sizeof(nh)) < 0)
			return -1;
		if (lift)
			n = snprintf(out[0], EXA_LINE, "withdraw route %s/%u next-hop %s", addr, plen,
				     nh);
		else
			n = snprintf(out[0], EXA_LINE,
				     "announce route %s/%u next-hop %s community [%s]", addr, plen,
				     nh, c->community[0] ? c->community : "65535:666");
		return n > 0 && n < EXA_LINE ? 1 : -1;
	}
	if (a->kind != DR_ACT_FLOWSPEC)
		return -1;
	/* RFC 8955 for IPv4; RFC 8956 for IPv6 names the protocol next-header. */
	const char *proto = a->addr.family == 4 ? "protocol" : "next-header";
	char length[32] = "";
	if (a->length)
		snprintf(length, sizeof(length), " packet-length >%u;", a->length);
	const char *verb = lift ? "withdraw" : "announce";
	const char *then = lift ? "" : " then { discard; }";
	n = snprintf(out[0], EXA_LINE,
		     "%s flow route { match { destination %s/%u; %s udp; source-port =53;%s }%s }",
		     verb, addr, plen, proto, length, then);
	if (n <= 0 || n >= EXA_LINE)
		return -1;
	n = snprintf(out[1], EXA_LINE,
		     "%s flow route { match { destination %s/%u; fragment [ is-fragment ]; }%s }",
		     verb, addr, plen, then);
	return n > 0 && n < EXA_LINE ? 2 : -1;
}

static int exabgp_render(const struct dr_respond_config *c, const struct dr_action *a, int lift,
			 double ttl, char *buf, size_t len)
{
	char lines[2][EXA_LINE];
	(void)ttl;	/* BGP routes have no lifetime; the worker withdraws them */
	int n = commands(c, a, lift, lines);
	if (n < 0)
		return -1;
	/* lines between newlines, none after the last (as the others render) */
	int w = n == 1 ? snprintf(buf, len, "%s", lines[0])
		       : snprintf(buf, len, "%s\n%s", lines[0], lines[1]);
	return w >= 0 && (size_t)w < len ? 0 : -1;
}

/* Makes the socket's directory (one level, like a RuntimeDirectory) and
 * moves a stale socket out of the way; refuses one another process
 * listens on, and a file that is not a socket. */
static int make_room(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "respond.exabgp_socket: cannot make %s: %s", dir,
				 strerror(errno));
			return -1;
		}
	}
	struct stat st;
	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "respond.exabgp_socket: %s exists and is not a socket", path);
		return -1;
	}
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		snprintf(err, errlen, "respond.exabgp_socket: %s is in use by another process",
			 path);
		return -1;
	}
	if (fd >= 0)
		close(fd);
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "respond.exabgp_socket: cannot remove the stale %s: %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

static int exabgp_open(void **state, const struct dr_respond_config *c, char *err, size_t errlen)
{
	struct exabgp *x = NULL;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char nh[INET6_ADDRSTRLEN];
	if (!c->exabgp_socket[0] || c->exabgp_socket[0] != '/') {
		snprintf(err, errlen, "respond.exabgp_socket: give an absolute path, e.g. "
			 "/run/dnsradar/exabgp.sock");
		return -1;
	}
	if (strlen(c->exabgp_socket) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "respond.exabgp_socket: longer than %zu characters",
			 sizeof(sa.sun_path) - 1);
		return -1;
	}
	if (dr_respond_next_hop(c, 4, "self", nh, sizeof(nh)) < 0) {
		snprintf(err, errlen, "respond.next_hop: give self, an address, or an IPv4 and an IPv6 "
			 "address with a comma between (10.1.0.1,2001:db8:1::1)");
		return -1;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		goto nomem;
	/* as many as may be in force; more are applied but not kept, so the
	 * next reconciliation, not finding them, applies them again */
	x->cap = c->max_actions ? c->max_actions : DR_ACTIONS_CAP;
	x->routes = calloc(x->cap, sizeof(*x->routes));
	if (!x->routes)
		goto nomem;
	x->listen_fd = x->conn_fd = -1;
	x->c = c;
	snprintf(x->path, sizeof(x->path), "%s", c->exabgp_socket);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->exabgp_socket);
	if (make_room(x->path, err, errlen) < 0)
		goto fail;
	x->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (x->listen_fd < 0 || bind(x->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(x->path, 0660) < 0 || listen(x->listen_fd, 4) < 0) {
		snprintf(err, errlen, "respond.exabgp_socket: cannot listen at %s: %s", x->path,
			 strerror(errno));
		goto fail;
	}
	*state = x;
	return 0;
nomem:
	snprintf(err, errlen, "exabgp: out of memory");
fail:
	if (x) {
		if (x->listen_fd >= 0)
			close(x->listen_fd);
		free(x->routes);
		free(x);
	}
	return -1;
}

static void drop_bridge(struct exabgp *x)
{
	if (x->conn_fd >= 0)
		close(x->conn_fd);
	x->conn_fd = -1;
	x->inlen = 0;
}

/* Takes the newest bridge waiting, if any (an older one is gone or about
 * to be: ExaBGP runs one). */
static void accept_bridge(struct exabgp *x)
{
	for (;;) {
		int fd = accept4(x->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		drop_bridge(x);
		x->conn_fd = fd;
		x->fresh = 1;
	}
}

/* Reads what is waiting without blocking: a late reply to a command that
 * timed out is thrown away so it is not taken for the next one's. -1 when
 * the bridge has gone. */
static int drain(struct exabgp *x)
{
	char junk[1024];
	for (;;) {
		ssize_t n = recv(x->conn_fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0 && errno == EINTR)
			continue;
		drop_bridge(x);
		return -1;
	}
	x->inlen = 0;
	return 0;
}

/* One line from the bridge, up to deadline (monotonic). 1 with the line
 * in buf, 0 on timeout, -1 when the bridge went away. */
static int read_line(struct exabgp *x, double deadline, char *buf, size_t len)
{
	for (;;) {
		char *nl = memchr(x->inbuf, '\n', x->inlen);
		if (nl) {
			size_t n = (size_t)(nl - x->inbuf);
			size_t keep = n < len ? n : len - 1;
			memcpy(buf, x->inbuf, keep);
			buf[keep] = 0;
			if (keep && buf[keep - 1] == '\r')
				buf[keep - 1] = 0;
			memmove(x->inbuf, nl + 1, x->inlen - n - 1);
			x->inlen -= n + 1;
			return 1;
		}
		if (x->inlen == sizeof(x->inbuf))
			x->inlen = 0;	/* a line longer than any reply: not one */
		double left = deadline - dr_mono_now();
		if (left <= 0)
			return 0;
		struct pollfd p = {.fd = x->conn_fd, .events = POLLIN};
		int r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		ssize_t n = recv(x->conn_fd, x->inbuf + x->inlen, sizeof(x->inbuf) - x->inlen, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return -1;
		x->inlen += (size_t)n;
	}
}

/* Sends one command and waits for "done". 0, or -1 with why. */
static int send_command(struct exabgp *x, const char *cmd, char *err, size_t errlen)
{
	char line[EXA_LINE + 1], reply[256];
	int n = snprintf(line, sizeof(line), "%s\n", cmd);
	if (drain(x) < 0)
		goto gone;
	for (int off = 0; off < n;) {
		ssize_t w = send(x->conn_fd, line + off, (size_t)(n - off), MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = {.fd = x->conn_fd, .events = POLLOUT};
			if (poll(&p, 1, (int)(EXA_TIMEOUT * 1000)) <= 0) {
				snprintf(err, errlen, "ExaBGP's bridge at %s takes no commands",
					 x->path);
				drop_bridge(x);
				return -1;
			}
			continue;
		}
		if (w <= 0) {
			drop_bridge(x);
			goto gone;
		}
		off += (int)w;
	}
	double deadline = dr_mono_now() + EXA_TIMEOUT;
	for (;;) {
		int r = read_line(x, deadline, reply, sizeof(reply));
		if (r < 0) {
			drop_bridge(x);
			goto gone;
		}
		if (r == 0) {
			snprintf(err, errlen, "ExaBGP gave no answer in %.0f s to: %s", EXA_TIMEOUT,
				 cmd);
			return -1;
		}
		if (!strcmp(reply, "done"))
			return 0;
		if (!strcmp(reply, "error")) {
			snprintf(err, errlen, "ExaBGP refused: %s", cmd);
			return -1;
		}
		/* anything else (a message ExaBGP was told to send) is not a reply */
	}
gone:
	snprintf(err, errlen, "ExaBGP's bridge at %s went away (ExaBGP stopped or restarts)",
		 x->path);
	return -1;
}

static int send_action(struct exabgp *x, const struct dr_action *a, int lift, char *err,
		       size_t errlen)
{
	char lines[2][EXA_LINE];
	int n = commands(x->c, a, lift, lines);
	if (n < 0) {
		snprintf(err, errlen, "exabgp: carries no %s of this address",
			 a->kind < DR_ACT_KINDS ? dr_action_kind_names[a->kind] : "such action");
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (send_command(x, lines[i], err, errlen) < 0)
			return -1;
	return 0;
}

/* A bridge to talk to. A new one: from prepare(), the actions are
 * forgotten and 1 returned (the worker applies them again); from apply or
 * lift, announced again here. 0, 1, or -1 with why. */
static int ready(struct exabgp *x, int from_prepare, char *err, size_t errlen)
{
	accept_bridge(x);
	/* one that came and went (a bridge of a stopped ExaBGP, a probe) is none */
	if (x->conn_fd >= 0)
		drain(x);
	if (x->conn_fd < 0) {
		snprintf(err, errlen, "no ExaBGP connected to %s: is `dnsradar exabgp-bridge %s` "
			 "in exabgp.conf's process?", x->path, x->path);
		return -1;
	}
	if (!x->fresh)
		return 0;
	if (from_prepare) {
		x->nroutes = 0;
		x->fresh = 0;
		return 1;
	}
	for (unsigned i = 0; i < x->nroutes; i++)
		if (send_action(x, &x->routes[i], 0, err, errlen) < 0)
			return -1;	/* still fresh: the next call starts over */
	x->fresh = 0;
	return 0;
}

static int find_route(const struct exabgp *x, const struct dr_action *a)
{
	for (unsigned i = 0; i < x->nroutes; i++)
		if (dr_action_same(&x->routes[i], a))
			return (int)i;
	return -1;
}

static int exabgp_prepare(void *state, char *err, size_t errlen)
{
	return ready(state, 1, err, errlen);
}

static int exabgp_apply(void *state, const struct dr_action *a, double ttl, char *err,
			size_t errlen)
{
	struct exabgp *x = state;
	(void)ttl;
	if (ready(x, 0, err, errlen) < 0 || send_action(x, a, 0, err, errlen) < 0)
		return -1;
	if (find_route(x, a) < 0 && x->nroutes < x->cap)
		x->routes[x->nroutes++] = *a;
	return 0;
}

static int exabgp_lift(void *state, const struct dr_action *a, char *err, size_t errlen)
{
	struct exabgp *x = state;
	if (ready(x, 0, err, errlen) < 0 || send_action(x, a, 1, err, errlen) < 0)
		return -1;
	int i = find_route(x, a);
	if (i >= 0)
		x->routes[i] = x->routes[--x->nroutes];
	return 0;
}

/* What was applied over this connection; a local call. */
static int exabgp_list(void *state, dr_backend_found_fn found, void *ctx, char *err,
		       size_t errlen)
{
	struct exabgp *x = state;
	(void)err;
	(void)errlen;
	for (unsigned i = 0; i < x->nroutes; i++)
		found(ctx, &x->routes[i], x->c->ttl);	/* a route has no lifetime of its own */
	return 0;
}

static void exabgp_close(void *state)
{
	struct exabgp *x = state;
	if (!x)
		return;
	drop_bridge(x);
	if (x->listen_fd >= 0) {
		close(x->listen_fd);
		unlink(x->path);
	}
	free(x->routes);
	free(x);
}

const struct dr_backend dr_backend_exabgp = {
	.name = "exabgp",
	.owns_all = 1,
	.kinds = 1u << DR_ACT_BLACKHOLE | 1u << DR_ACT_FLOWSPEC,
	.open = exabgp_open,
	.prepare = exabgp_prepare,
	.apply = exabgp_apply,
	.lift = exabgp_lift,
	.list = exabgp_list,
	.close = exabgp_close,
	.render = exabgp_render,
	.render_setup = NULL,
};
