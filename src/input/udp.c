/* Flow export input: NetFlow, IPFIX and sFlow datagrams received on up to
 * DR_LISTEN_MAX UDP sockets, handed over as DR_LINK_EXPORT packets with
 * their sender, the kernel's receive time, and per-socket counts of what
 * the kernel dropped because we did not read fast enough. */
#define _GNU_SOURCE	/* recvmmsg */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/sock_diag.h>	/* SK_MEMINFO_DROPS */

#include "input/input.h"

/* Every datagram gets a slot as large as any UDP payload can be, so none
 * is ever cut (exporters on jumbo-frame links send 9000 octets and more).
 * 64 slots of 64 KiB are 4 MiB of address space; the kernel writes only
 * what arrives, so only the pages that datagrams touch are resident. */
#define UDP_SLOTS DR_INPUT_BATCH
#define UDP_SLOT 65536
#define UDP_RCVBUF_DEFAULT (32 << 20)

/* The ancillary data asked for: the receive time (SO_TIMESTAMPNS) and the
 * socket's cumulative drop counter (SO_RXQ_OVFL). */
union udp_control {
	char buf[CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(uint32_t)) + 64];
	struct cmsghdr align;
};

struct udp_input {
	int fds[DR_LISTEN_MAX];
	unsigned n;
	int epfd;			/* over all sockets when there are several */
	unsigned next;			/* the socket served first by the next batch */
	uint32_t drops_seen[DR_LISTEN_MAX];	/* the kernel's last 32-bit count */
	uint8_t *slots;			/* UDP_SLOTS x UDP_SLOT */
	struct mmsghdr msgs[UDP_SLOTS];
	struct iovec iov[UDP_SLOTS];
	struct sockaddr_storage from[UDP_SLOTS];
	union udp_control control[UDP_SLOTS];
};

/* ---- opening ------------------------------------------------------------ */

/* Parses "A.B.C.D:PORT" or "[IPV6]:PORT" (an IPv6 address may carry a
 * "%interface" zone). Returns 0, or -1 with the reason in why. */
static int parse_listen(const char *text, struct sockaddr_storage *ss, socklen_t *sslen,
			char *why, size_t whylen)
{
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	const char *port, *colon = strrchr(text, ':');
	size_t hostlen;
	int v6 = text[0] == '[';

	if (v6) {
		const char *close = strchr(text, ']');
		if (!close || close[1] != ':') {
			snprintf(why, whylen, "expected [IPV6]:PORT, e.g. [::]:2055");
			return -1;
		}
		hostlen = (size_t)(close - text - 1);
		memcpy(host, text + 1, hostlen < sizeof(host) ? hostlen : 0);
		port = close + 2;
	} else {
		if (!colon) {
			snprintf(why, whylen, "expected ADDR:PORT, e.g. 0.0.0.0:2055 or [::]:2055");
			return -1;
		}
		if (memchr(text, ':', (size_t)(colon - text))) {
			snprintf(why, whylen, "an IPv6 address goes in brackets, e.g. [::1]:2055");
			return -1;
		}
		hostlen = (size_t)(colon - text);
		memcpy(host, text, hostlen < sizeof(host) ? hostlen : 0);
		port = colon + 1;
	}
	if (hostlen == 0 || hostlen >= sizeof(host)) {
		snprintf(why, whylen, hostlen ? "address too long"
			 : "no address before the port (0.0.0.0 or [::] listens on all)");
		return -1;
	}
	host[hostlen] = 0;

	unsigned long p = 0;
	size_t digits = strspn(port, "0123456789");
	if (digits == 0 || port[digits] || digits > 5 || (p = strtoul(port, NULL, 10)) > 65535) {
		snprintf(why, whylen, "port '%s' is not a number from 0 to 65535", port);
		return -1;
	}

	memset(ss, 0, sizeof(*ss));
	if (!v6) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
			snprintf(why, whylen, "'%s' is not a numeric IPv4 address", host);
			return -1;
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p);
		*sslen = sizeof(*sin);
		return 0;
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char *zone = strchr(host, '%');
	if (zone) {
		*zone++ = 0;
		sin6->sin6_scope_id = if_nametoindex(zone);
		if (!sin6->sin6_scope_id) {
			snprintf(why, whylen, "no interface '%s'", zone);
			return -1;
		}
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
		snprintf(why, whylen, "'%s' is not a numeric IPv6 address", host);
		return -1;
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)p);
	*sslen = sizeof(*sin6);
	return 0;
}

/* The address a socket is bound to, with the port the kernel picked for
 * port 0: "127.0.0.1:40001", "[::]:6343". */
static void bound_name(int fd, char *out, size_t outlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char addr[INET6_ADDRSTRLEN];
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		snprintf(out, outlen, "?");
		return;
	}
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		snprintf(out, outlen, "%s:%u", addr, ntohs(sin->sin_port));
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
		snprintf(out, outlen, "[%s]:%u", addr, ntohs(sin6->sin6_port));
	}
}

/* Is "[::]:PORT" to receive IPv4 as well? Yes (the usual wish of a
 * collector on a dual-stack host), unless the same port is also named on
 * 0.0.0.0: that socket takes the IPv4 exports, and the two could not both
 * be bound otherwise. */
static int dual_stack(const struct sockaddr_in6 *sin6, const struct sockaddr_storage *all,
		      unsigned n)
{
	if (!IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr))
		return IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr);	/* an IPv4 address */
	for (unsigned i = 0; i < n; i++) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&all[i];
		if (sin->sin_family == AF_INET && sin->sin_addr.s_addr == htonl(INADDR_ANY) &&
		    sin->sin_port == sin6->sin6_port && sin->sin_port != 0)
			return 0;
	}
	return 1;
}

/* Sets the receive buffer: SO_RCVBUFFORCE first (it passes
 * net.core.rmem_max with CAP_NET_ADMIN), else SO_RCVBUF, which the kernel
 * caps at rmem_max. Returns what the kernel reports it gave (its own
 * bookkeeping included: about twice the data it holds). */
static int set_rcvbuf(int fd, int want)
{
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
	int got = 0;
	socklen_t len = sizeof(got);
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) < 0)
		got = 0;
	return got;
}

/* Opens and binds one socket. Returns its descriptor, or -1 with one
 * line in errbuf. */
static int open_socket(struct dr_input *in, const char *text, const struct sockaddr_storage *ss,
		       socklen_t sslen, int dual, int want, char *errbuf, size_t errlen)
{
	static const int one = 1;
	int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(errbuf, errlen, "--listen '%s': cannot open a socket: %s", text,
			 strerror(errno));
		return -1;
	}
	/* No SO_REUSEADDR: UDP has no TIME_WAIT for it to help with, and on
	 * UDP it lets a second collector bind the same port and silently
	 * take the exports; without it that second one fails at bind. */
	if (ss->ss_family == AF_INET6) {
		int v6only = !dual;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	}
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	int got = set_rcvbuf(fd, want);
	if (bind(fd, (const struct sockaddr *)ss, sslen) < 0) {
		int e = errno;
		const char *hint = e == EADDRNOTAVAIL ? " (not an address of this host)"
			: e == EACCES ? " (ports below 1024 need CAP_NET_BIND_SERVICE)"
			: e == EADDRINUSE ? " (another program receives on it)" : "";
		snprintf(errbuf, errlen, "--listen '%s': cannot bind: %s%s", text, strerror(e), hint);
		close(fd);
		return -1;
	}
	struct dr_input_socket *s = &in->sockets[in->nsockets];
	bound_name(fd, s->name, sizeof(s->name));
	s->rcvbuf = got;
	if (got < want && !in->note[0])
		snprintf(in->note, sizeof(in->note),
			 "%s: the kernel gave a receive buffer of %d KiB of the %d KiB asked for, "
			 "so bursts may be dropped; raise net.core.rmem_max",
			 s->name, got >> 10, want >> 10);
	return fd;
}

static void udp_close(struct dr_input *in)
{
	struct udp_input *u = in->priv;
	if (!u)
		return;
	for (unsigned i = 0; i < u->n; i++)
		close(u->fds[i]);
	if (u->epfd >= 0)
		close(u->epfd);
	free(u->slots);
	free(u);
	in->priv = NULL;
}

static int udp_open(struct dr_input *in, const struct dr_input_spec *spec,
		    char *errbuf, size_t errlen)
{
	struct sockaddr_storage addrs[DR_LISTEN_MAX];
	socklen_t lens[DR_LISTEN_MAX];
	char why[256];

	if (spec->nlisten > DR_LISTEN_MAX) {
		snprintf(errbuf, errlen, "--listen: %u addresses given, at most %d",
			 spec->nlisten, DR_LISTEN_MAX);
		return -1;
	}
	if (spec->rcvbuf < 0) {
		snprintf(errbuf, errlen, "rcvbuf %d: not a size in octets (0 asks for 32 MiB)",
			 spec->rcvbuf);
		return -1;
	}
	for (unsigned i = 0; i < spec->nlisten; i++)
		if (parse_listen(spec->listen[i], &addrs[i], &lens[i], why, sizeof(why)) < 0) {
			snprintf(errbuf, errlen, "--listen '%s': %s", spec->listen[i], why);
			return -1;
		}

	struct udp_input *u = calloc(1, sizeof(*u));
	if (!u || !(u->slots = malloc((size_t)UDP_SLOTS * UDP_SLOT))) {
		free(u);
		snprintf(errbuf, errlen, "--listen: out of memory");
		return -1;
	}
	u->epfd = -1;
	in->priv = u;
	int want = spec->rcvbuf ? spec->rcvbuf : UDP_RCVBUF_DEFAULT;
	for (unsigned i = 0; i < spec->nlisten; i++) {
		int dual = addrs[i].ss_family == AF_INET6 &&
			dual_stack((const struct sockaddr_in6 *)&addrs[i], addrs, spec->nlisten);
		int fd = open_socket(in, spec->listen[i], &addrs[i], lens[i], dual, want,
				     errbuf, errlen);
		if (fd < 0)
			goto fail;
		u->fds[u->n++] = fd;
		in->nsockets++;
	}
	if (u->n > 1) {
		u->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (u->epfd < 0) {
			snprintf(errbuf, errlen, "--listen: epoll: %s", strerror(errno));
			goto fail;
		}
		for (unsigned i = 0; i < u->n; i++) {
			struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
			if (epoll_ctl(u->epfd, EPOLL_CTL_ADD, u->fds[i], &ev) < 0) {
				snprintf(errbuf, errlen, "--listen: epoll: %s", strerror(errno));
				goto fail;
			}
		}
	}
	for (unsigned j = 0; j < UDP_SLOTS; j++) {
		u->iov[j].iov_base = u->slots + (size_t)j * UDP_SLOT;
		u->iov[j].iov_len = UDP_SLOT;
	}
	return 0;
fail:
	udp_close(in);
	in->nsockets = 0;
	in->note[0] = 0;
	memset(in->sockets, 0, sizeof(in->sockets));
	return -1;
}

/* ---- reading ------------------------------------------------------------ */

/* Takes the kernel's cumulative 32-bit drop count for socket i. A value
 * older than one already seen (a datagram queued before an earlier
 * reading) is ignored; the count may wrap. */
static void take_drops(struct dr_input *in, struct udp_input *u, unsigned i, uint32_t count)
{
	uint32_t delta = count - u->drops_seen[i];
	if (delta == 0 || delta > UINT32_MAX / 2)
		return;
	u->drops_seen[i] = count;
	in->sockets[i].drops += delta;
}

/* The socket's drop count now. The one SO_RXQ_OVFL attaches to a datagram
 * is the count when it was queued, so drops after the last datagram read
 * show only here. */
static void read_drops(struct dr_input *in, struct udp_input *u, unsigned i)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);
	if (getsockopt(u->fds[i], SOL_SOCKET, SO_MEMINFO, mem, &len) == 0 &&
	    len > SK_MEMINFO_DROPS * sizeof(uint32_t))
		take_drops(in, u, i, mem[SK_MEMINFO_DROPS]);
}

/* The sender as an address key; an IPv4 sender on a dual-stack socket
 * (::ffff:a.b.c.d) is family 4, as it would be on an IPv4 socket. */
static void peer_key(const struct sockaddr_storage *ss, struct dr_packet *pkt)
{
	memset(pkt->peer, 0, sizeof(pkt->peer));
	pkt->peer_port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		pkt->peer[0] = 4;
		memcpy(pkt->peer + 1, &sin->sin_addr, 4);
		pkt->peer_port = ntohs(sin->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			pkt->peer[0] = 4;
			memcpy(pkt->peer + 1, sin6->sin6_addr.s6_addr + 12, 4);
		} else {
			pkt->peer[0] = 6;
			memcpy(pkt->peer + 1, sin6->sin6_addr.s6_addr, 16);
		}
		pkt->peer_port = ntohs(sin6->sin6_port);
	}
}

/* Receives up to want datagrams from socket i into slots and packets
 * [at, at + want). Returns how many. */
static unsigned receive(struct dr_input *in, struct udp_input *u, unsigned i,
			struct dr_packet *pkts, unsigned at, unsigned want,
			struct timespec *now)
{
	for (unsigned j = at; j < at + want; j++) {
		struct msghdr *h = &u->msgs[j].msg_hdr;
		h->msg_name = &u->from[j];
		h->msg_namelen = sizeof(u->from[j]);
		h->msg_iov = &u->iov[j];
		h->msg_iovlen = 1;
		h->msg_control = u->control[j].buf;
		h->msg_controllen = sizeof(u->control[j].buf);
		h->msg_flags = 0;
	}
	/* MSG_TRUNC: msg_len is the datagram's length even when cut. */
	int got = recvmmsg(u->fds[i], u->msgs + at, want, MSG_DONTWAIT | MSG_TRUNC, NULL);
	if (got < 0)
		got = 0;	/* EAGAIN: empty; EINTR or ENOMEM: try again later */
	if ((unsigned)got < want)
		read_drops(in, u, i);	/* the queue ran dry */

	struct dr_input_socket *s = &in->sockets[i];
	for (unsigned j = at; j < at + (unsigned)got; j++) {
		struct msghdr *h = &u->msgs[j].msg_hdr;
		struct dr_packet *pkt = &pkts[j];
		int have_ts = 0;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm)) {
			if (cm->cmsg_level != SOL_SOCKET)
				continue;
			if (cm->cmsg_type == SCM_TIMESTAMPNS &&
			    cm->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
				struct timespec ts;
				memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
				pkt->ts_sec = ts.tv_sec;
				pkt->ts_nsec = (uint32_t)ts.tv_nsec;
				have_ts = 1;
			} else if (cm->cmsg_type == SO_RXQ_OVFL &&
				   cm->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
				uint32_t count;
				memcpy(&count, CMSG_DATA(cm), sizeof(count));
				take_drops(in, u, i, count);
			}
		}
		if (!have_ts) {
			if (!now->tv_sec)
				clock_gettime(CLOCK_REALTIME, now);
			pkt->ts_sec = now->tv_sec;
			pkt->ts_nsec = (uint32_t)now->tv_nsec;
		}
		uint32_t len = u->msgs[j].msg_len;
		pkt->data = u->iov[j].iov_base;
		pkt->wirelen = len;
		pkt->caplen = len < UDP_SLOT ? len : UDP_SLOT;
		pkt->link = DR_LINK_EXPORT;
		pkt->file = i;
		pkt->frame = ++s->datagrams;
		peer_key(&u->from[j], pkt);
		s->octets += len;
		if (h->msg_flags & MSG_TRUNC)
			s->truncated++;
	}
	return (unsigned)got;
}

/* Serves the sockets in turn, each first up to its share of the batch,
 * then the ones that still had more fill what is left; the socket served
 * first moves on by one every batch. So a socket that never runs dry
 * cannot starve another one into dropping. */
static int udp_read(struct dr_input *in, struct dr_packet *pkts, unsigned max)
{
	struct udp_input *u = in->priv;
	struct timespec now = {0, 0};
	unsigned n = 0, share, busy[DR_LISTEN_MAX], nbusy = 0;

	if (dr_input_interrupt)
		return DR_INPUT_END;
	if (max > UDP_SLOTS)
		max = UDP_SLOTS;
	share = max / u->n ? max / u->n : 1;
	for (unsigned k = 0; k < u->n && n < max; k++) {
		unsigned i = (u->next + k) % u->n;
		unsigned want = share < max - n ? share : max - n;
		unsigned got = receive(in, u, i, pkts, n, want, &now);
		n += got;
		if (got == want)
			busy[nbusy++] = i;
	}
	for (unsigned k = 0; k < nbusy && n < max; k++)
		n += receive(in, u, busy[k], pkts, n, max - n, &now);
	u->next = (u->next + 1) % u->n;
	return (int)n;
}

static int udp_match(const struct dr_input_spec *spec)
{
	return spec->nlisten > 0;
}

static int udp_fd(const struct dr_input *in)
{
	const struct udp_input *u = in->priv;
	return u->n > 1 ? u->epfd : u->fds[0];
}

static void udp_progress(const struct dr_input *in, uint64_t *done, uint64_t *total)
{
	(void)in;
	*done = *total = 0;	/* a live input has no end to measure against */
}

const struct dr_input_ops dr_input_udp = {
	.name = "udp", .match = udp_match, .open = udp_open,
	.read_batch = udp_read, .fd = udp_fd, .progress = udp_progress,
	.close = udp_close,
};
