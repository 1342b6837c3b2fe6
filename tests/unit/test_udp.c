/* Unit tests of the flow export input (input/udp.c): datagrams sent over
 * loopback come back with their sender, lengths and socket; bad --listen
 * values and busy ports give one line; kernel drops are counted; a signal
 * ends the input. Loopback only, ephemeral ports only. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "core/pipeline.h"
#include "input/input.h"

static struct dr_packet pkts[DR_INPUT_BATCH];

static int have_ipv6(void)
{
	static int known = -1;
	if (known < 0) {
		int fd = socket(AF_INET6, SOCK_DGRAM, 0);
		struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
		known = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
		if (fd >= 0)
			close(fd);
		if (!known)
			printf("SKIP: no IPv6 loopback here, the [::1] tests do not run\n");
	}
	return known;
}

/* The port at the end of a socket's name, "127.0.0.1:40001". */
static unsigned name_port(const char *name)
{
	const char *c = strrchr(name, ':');
	return c ? (unsigned)atoi(c + 1) : 0;
}

/* A sender socket bound to loopback (v6: ::1), and its port. */
static int sender(int family, unsigned *port)
{
	int fd = socket(family, SOCK_DGRAM, 0);
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
	}
	CHECK(bind(fd, (struct sockaddr *)&ss, len) == 0);
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	*port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
				       : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

static void send_to(int fd, int family, unsigned port, const void *data, size_t n)
{
	ssize_t rc;
	if (family == AF_INET) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		rc = sendto(fd, data, n, 0, (struct sockaddr *)&a, sizeof(a));
	} else {
		struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
					 .sin6_addr = IN6ADDR_LOOPBACK_INIT};
		rc = sendto(fd, data, n, 0, (struct sockaddr *)&a, sizeof(a));
	}
	CHECK_EQ(rc, (long long)n);
}

/* Reads until want packets came (copied into out, data kept in bufs) or
 * 5 s passed without one. Returns how many. */
static uint8_t bufs[8][9000];
static struct dr_packet got[8];

static unsigned read_n(struct dr_input *in, unsigned want)
{
	unsigned n = 0;
	while (n < want) {
		int rc = dr_input_read(in, pkts, DR_INPUT_BATCH);
		CHECK(rc >= 0);
		if (rc < 0)
			break;
		if (rc == 0) {
			struct pollfd pfd = {.fd = in->ops->fd(in), .events = POLLIN};
			if (poll(&pfd, 1, 5000) <= 0)
				break;
			continue;
		}
		for (int i = 0; i < rc && n < 8; i++, n++) {
			got[n] = pkts[i];
			memcpy(bufs[n], pkts[i].data, pkts[i].caplen < 9000 ? pkts[i].caplen : 9000);
		}
	}
	return n;
}

static int open_listen(struct dr_input *in, char **listen, unsigned n, int rcvbuf, char *err)
{
	struct dr_input_spec spec = {.listen = listen, .nlisten = n, .rcvbuf = rcvbuf};
	err[0] = 0;
	return dr_input_open(in, &spec, err, 512);
}

static void test_ipv4(void)
{
	struct dr_input in;
	char err[512], *listen[] = {"127.0.0.1:0"};
	CHECK_EQ(open_listen(&in, listen, 1, 0, err), 0);
	if (!in.ops) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK_STR(in.ops->name, "udp");
	CHECK_EQ(in.nsockets, 1);
	CHECK(strncmp(in.sockets[0].name, "127.0.0.1:", 10) == 0);
	unsigned port = name_port(in.sockets[0].name);
	CHECK(port > 0);
	CHECK(in.ops->fd(&in) >= 0);
	CHECK_EQ(dr_input_read(&in, pkts, DR_INPUT_BATCH), 0);	/* nothing sent yet */
	uint64_t done = 1, total = 1;
	in.ops->progress(&in, &done, &total);
	CHECK_EQ(done, 0);
	CHECK_EQ(total, 0);

	unsigned sport;
	int s = sender(AF_INET, &sport);
	static uint8_t data[3][9000];
	static const size_t lens[3] = {10, 1400, 9000};
	for (int i = 0; i < 3; i++) {
		memset(data[i], 'a' + i, lens[i]);
		send_to(s, AF_INET, port, data[i], lens[i]);
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	CHECK_EQ(read_n(&in, 3), 3);
	uint8_t peer[DR_AKEY] = {4, 127, 0, 0, 1};
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(got[i].link, DR_LINK_EXPORT);
		CHECK_EQ(got[i].caplen, lens[i]);
		CHECK_EQ(got[i].wirelen, lens[i]);
		CHECK(memcmp(bufs[i], data[i], lens[i]) == 0);
		CHECK(memcmp(got[i].peer, peer, DR_AKEY) == 0);
		CHECK_EQ(got[i].peer_port, sport);
		CHECK_EQ(got[i].file, 0);
		CHECK_EQ(got[i].frame, i + 1);
		CHECK(got[i].ts_sec >= now.tv_sec - 5 && got[i].ts_sec <= now.tv_sec + 5);
		CHECK(got[i].ts_nsec < 1000000000u);
	}
	CHECK_EQ(in.sockets[0].datagrams, 3);
	CHECK_EQ(in.sockets[0].octets, 10 + 1400 + 9000);
	CHECK_EQ(in.sockets[0].drops, 0);
	CHECK_EQ(in.sockets[0].truncated, 0);
	CHECK(in.sockets[0].rcvbuf > 0);
	close(s);
	dr_input_close(&in);
}

static void test_ipv6(void)
{
	if (!have_ipv6())
		return;
	struct dr_input in;
	char err[512], *listen[] = {"[::1]:0"};
	CHECK_EQ(open_listen(&in, listen, 1, 0, err), 0);
	if (!in.ops)
		return;
	CHECK(strncmp(in.sockets[0].name, "[::1]:", 6) == 0);
	unsigned port = name_port(in.sockets[0].name), sport;
	int s = sender(AF_INET6, &sport);
	send_to(s, AF_INET6, port, "hello", 5);
	CHECK_EQ(read_n(&in, 1), 1);
	uint8_t peer[DR_AKEY] = {6};
	peer[16] = 1;
	CHECK(memcmp(got[0].peer, peer, DR_AKEY) == 0);
	CHECK_EQ(got[0].peer_port, sport);
	CHECK_EQ(got[0].caplen, 5);
	CHECK(memcmp(bufs[0], "hello", 5) == 0);
	close(s);
	dr_input_close(&in);
}

/* "[::]" alone takes IPv4 too; an IPv4 sender is family 4, as on an IPv4
 * socket. */
static void test_dual_stack(void)
{
	if (!have_ipv6())
		return;
	struct dr_input in;
	char err[512], *listen[] = {"[::]:0"};
	CHECK_EQ(open_listen(&in, listen, 1, 0, err), 0);
	if (!in.ops)
		return;
	CHECK(strncmp(in.sockets[0].name, "[::]:", 5) == 0);
	unsigned port = name_port(in.sockets[0].name), sport4, sport6;
	int s4 = sender(AF_INET, &sport4), s6 = sender(AF_INET6, &sport6);
	send_to(s4, AF_INET, port, "four", 4);
	CHECK_EQ(read_n(&in, 1), 1);
	uint8_t peer4[DR_AKEY] = {4, 127, 0, 0, 1};
	CHECK(memcmp(got[0].peer, peer4, DR_AKEY) == 0);
	CHECK_EQ(got[0].peer_port, sport4);
	send_to(s6, AF_INET6, port, "six", 3);
	CHECK_EQ(read_n(&in, 1), 1);
	uint8_t peer6[DR_AKEY] = {6};
	peer6[16] = 1;
	CHECK(memcmp(got[0].peer, peer6, DR_AKEY) == 0);
	CHECK_EQ(got[0].peer_port, sport6);
	CHECK_EQ(got[0].frame, 2);
	CHECK_EQ(in.sockets[0].datagrams, 2);
	close(s4);
	close(s6);
	dr_input_close(&in);
}

/* A free port, found by binding port 0 (it may be taken again before use,
 * which on a test machine does not happen in practice). */
static unsigned free_port(void)
{
	unsigned port;
	int fd = sender(AF_INET, &port);
	close(fd);
	return port;
}

/* 0.0.0.0:P and [::]:P together: [::] keeps to IPv6, so both bind and
 * IPv4 arrives on the first. Two sockets also mean an epoll descriptor. */
static void test_both_families(void)
{
	if (!have_ipv6())
		return;
	char a[32], b[32], *listen[] = {a, b}, err[512];
	unsigned port = free_port(), sport4, sport6;
	snprintf(a, sizeof(a), "0.0.0.0:%u", port);
	snprintf(b, sizeof(b), "[::]:%u", port);
	struct dr_input in;
	CHECK_EQ(open_listen(&in, listen, 2, 0, err), 0);
	if (!in.ops) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK_EQ(in.nsockets, 2);
	CHECK_STR(in.sockets[0].name, a);
	CHECK_STR(in.sockets[1].name, b);
	int s4 = sender(AF_INET, &sport4), s6 = sender(AF_INET6, &sport6);
	send_to(s4, AF_INET, port, "four", 4);
	CHECK_EQ(read_n(&in, 1), 1);
	CHECK_EQ(got[0].file, 0);
	CHECK_EQ(got[0].peer[0], 4);
	send_to(s6, AF_INET6, port, "six", 3);
	CHECK_EQ(read_n(&in, 1), 1);
	CHECK_EQ(got[0].file, 1);
	CHECK_EQ(got[0].peer[0], 6);
	CHECK_EQ(got[0].frame, 1);
	close(s4);
	close(s6);
	dr_input_close(&in);
}

static void expect_error(char **listen, unsigned n, int rcvbuf, const char *want)
{
	struct dr_input in;
	char err[512];
	CHECK_EQ(open_listen(&in, listen, n, rcvbuf, err), -1);
	CHECK(in.ops == NULL);
	CHECK(strchr(err, '\n') == NULL);
	CHECK_STR(err, want);
}

static void test_bad_addresses(void)
{
	static const struct {
		char *text;
		const char *why;
	} cases[] = {
		{"127.0.0.1", "expected ADDR:PORT, e.g. 0.0.0.0:2055 or [::]:2055"},
		{"127.0.0.1:", "port '' is not a number from 0 to 65535"},
		{"127.0.0.1:65536", "port '65536' is not a number from 0 to 65535"},
		{"127.0.0.1:20x5", "port '20x5' is not a number from 0 to 65535"},
		{"127.0.0.1:-1", "port '-1' is not a number from 0 to 65535"},
		{"localhost:2055", "'localhost' is not a numeric IPv4 address"},
		{"127.0.0.256:2055", "'127.0.0.256' is not a numeric IPv4 address"},
		{":2055", "no address before the port (0.0.0.0 or [::] listens on all)"},
		{"::1:2055", "an IPv6 address goes in brackets, e.g. [::1]:2055"},
		{"[::1]2055", "expected [IPV6]:PORT, e.g. [::]:2055"},
		{"[::1]", "expected [IPV6]:PORT, e.g. [::]:2055"},
		{"[127.0.0.1]:2055", "'127.0.0.1' is not a numeric IPv6 address"},
		{"[fe80::1%nosuchif0]:2055", "no interface 'nosuchif0'"},
		{"[]:2055", "no address before the port (0.0.0.0 or [::] listens on all)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[512], *listen[] = {"127.0.0.1:0", cases[i].text};
		snprintf(want, sizeof(want), "--listen '%s': %s", cases[i].text, cases[i].why);
		/* the good one before it is not left open */
		expect_error(listen, 2, 0, want);
	}
	char *many[DR_LISTEN_MAX + 1];
	for (unsigned i = 0; i <= DR_LISTEN_MAX; i++)
		many[i] = "127.0.0.1:0";
	expect_error(many, DR_LISTEN_MAX + 1, 0, "--listen: 17 addresses given, at most 16");
	char *one[] = {"127.0.0.1:0"};
	expect_error(one, 1, -5, "rcvbuf -5: not a size in octets (0 asks for 32 MiB)");
	char *gone[] = {"192.0.2.1:0"};
	expect_error(gone, 1, 0, "--listen '192.0.2.1:0': cannot bind: Cannot assign requested "
		     "address (not an address of this host)");
}

static void test_port_in_use(void)
{
	unsigned port;
	int blocker = sender(AF_INET, &port);
	char a[32], want[256], *listen[] = {a};
	snprintf(a, sizeof(a), "127.0.0.1:%u", port);
	snprintf(want, sizeof(want), "--listen '%s': cannot bind: Address already in use "
		 "(another program receives on it)", a);
	expect_error(listen, 1, 0, want);
	close(blocker);

	/* A second collector on the port one already holds fails too, rather
	 * than sharing it and silently taking the exports (SO_REUSEADDR). */
	struct dr_input first;
	char err[512];
	CHECK_EQ(open_listen(&first, listen, 1, 0, err), 0);
	if (!first.ops)
		return;
	expect_error(listen, 1, 0, want);
	dr_input_close(&first);

	/* The same address named twice */
	char *twice[] = {a, a};
	expect_error(twice, 2, 0, want);
	/* and whatever failed left the port free */
	CHECK_EQ(open_listen(&first, listen, 1, 0, err), 0);
	if (first.ops)
		dr_input_close(&first);
}

/* A tiny receive buffer and 2000 datagrams sent before any is read: the
 * kernel drops most, and its count makes up exactly what did not come. */
static void test_drops(void)
{
	struct dr_input in;
	char err[512], *listen[] = {"127.0.0.1:0"};
	CHECK_EQ(open_listen(&in, listen, 1, 4096, err), 0);
	if (!in.ops)
		return;
	CHECK(in.sockets[0].rcvbuf < 65536);
	unsigned port = name_port(in.sockets[0].name), sport;
	int s = sender(AF_INET, &sport);
	uint8_t data[200];
	memset(data, 0x5a, sizeof(data));
	for (int i = 0; i < 2000; i++)
		send_to(s, AF_INET, port, data, sizeof(data));
	const struct dr_input_socket *k = &in.sockets[0];
	uint64_t octets = 0;
	for (int idle = 0; k->datagrams + k->drops < 2000 && idle < 50;) {
		int rc = dr_input_read(&in, pkts, DR_INPUT_BATCH);
		CHECK(rc >= 0);
		if (rc < 0)
			break;
		for (int i = 0; i < rc; i++) {
			octets += pkts[i].wirelen;
			CHECK_EQ(pkts[i].frame, k->datagrams - (uint64_t)rc + (uint64_t)i + 1);
		}
		if (rc == 0) {	/* the loopback may still be delivering */
			struct pollfd pfd = {.fd = in.ops->fd(&in), .events = POLLIN};
			poll(&pfd, 1, 100);
			idle++;
		}
	}
	CHECK(k->drops > 0);
	CHECK(k->datagrams > 0);
	CHECK_EQ(k->datagrams + k->drops, 2000);
	CHECK_EQ(k->octets, octets);
	CHECK_EQ(octets, k->datagrams * sizeof(data));
	printf("drops: %llu of 2000 datagrams with a %d-octet receive buffer\n",
	       (unsigned long long)k->drops, k->rcvbuf);
	close(s);
	dr_input_close(&in);
}

/* A socket that never runs dry is never asked for its drop count: the
 * count then comes with the datagrams (SO_RXQ_OVFL), each carrying the
 * kernel's count when it was queued. */
static void test_drops_while_busy(void)
{
	struct dr_input in;
	char err[512], *listen[] = {"127.0.0.1:0"};
	CHECK_EQ(open_listen(&in, listen, 1, 4096, err), 0);
	if (!in.ops)
		return;
	unsigned port = name_port(in.sockets[0].name), sport;
	int s = sender(AF_INET, &sport);
	uint8_t data[200];
	memset(data, 0x5a, sizeof(data));
	for (int i = 0; i < 100; i++)
		send_to(s, AF_INET, port, data, sizeof(data));
	/* one at a time, topping the queue up after each, so that no read
	 * finds it empty */
	int empty = 0;
	for (int i = 0; i < 40 && !empty; i++) {
		empty = dr_input_read(&in, pkts, 1) != 1;
		send_to(s, AF_INET, port, data, sizeof(data));
	}
	CHECK(!empty);
	CHECK(in.sockets[0].drops >= 90);
	close(s);
	dr_input_close(&in);
}

/* A socket that never runs dry does not keep another one from being read:
 * the first batch holds the quiet socket's datagrams too. */
static void test_round_robin(void)
{
	struct dr_input in;
	char err[512], *listen[] = {"127.0.0.1:0", "127.0.0.1:0"};
	CHECK_EQ(open_listen(&in, listen, 2, 1 << 20, err), 0);
	if (!in.ops)
		return;
	unsigned busy = name_port(in.sockets[0].name), quiet = name_port(in.sockets[1].name);
	unsigned sport;
	int s = sender(AF_INET, &sport);
	for (int i = 0; i < 200; i++)
		send_to(s, AF_INET, busy, "busy", 4);
	for (int i = 0; i < 5; i++)
		send_to(s, AF_INET, quiet, "quiet", 5);
	struct pollfd pfd = {.fd = in.ops->fd(&in), .events = POLLIN};
	CHECK_EQ(poll(&pfd, 1, 5000), 1);
	int rc = dr_input_read(&in, pkts, DR_INPUT_BATCH);
	CHECK_EQ(rc, DR_INPUT_BATCH);
	int from_quiet = 0;
	for (int i = 0; i < rc; i++)
		from_quiet += pkts[i].file == 1;
	CHECK_EQ(from_quiet, 5);
	CHECK_EQ(in.sockets[0].drops + in.sockets[1].drops, 0);
	close(s);
	dr_input_close(&in);
}

/* Without CAP_NET_ADMIN a buffer above net.core.rmem_max is cut to it,
 * and the input says so. Run in a child that drops its capabilities. */
static void test_small_buffer_note(void)
{
	FILE *f = fopen("/proc/sys/net/core/rmem_max", "r");
	long rmem_max = 0;
	if (!f || fscanf(f, "%ld", &rmem_max) != 1 || rmem_max <= 0 || rmem_max > (1L << 28)) {
		printf("SKIP: net.core.rmem_max unreadable, the note test does not run\n");
		if (f)
			fclose(f);
		return;
	}
	fclose(f);
	pid_t pid = fork();
	if (pid == 0) {
		struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
		struct __user_cap_data_struct none[2];
		memset(none, 0, sizeof(none));
		if (syscall(SYS_capset, &hdr, none) < 0)
			_exit(3);
		struct dr_input in;
		char err[512], *listen[] = {"127.0.0.1:0"};
		int ask = (int)rmem_max * 4;
		if (open_listen(&in, listen, 1, ask, err) < 0)
			_exit(4);
		int ok = in.sockets[0].rcvbuf < ask && strstr(in.note, "net.core.rmem_max") &&
			 strncmp(in.note, in.sockets[0].name, strlen(in.sockets[0].name)) == 0;
		if (!ok)
			fprintf(stderr, "rcvbuf %d of %d, note '%s'\n", in.sockets[0].rcvbuf, ask,
				in.note);
		dr_input_close(&in);
		_exit(ok ? 0 : 5);
	}
	int status = 0;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);

	/* a buffer the kernel grants gives no note; with CAP_NET_ADMIN that
	 * is one above rmem_max too (SO_RCVBUFFORCE) */
	int probe = socket(AF_INET, SOCK_DGRAM, 0), ask = (int)rmem_max * 4;
	int forced = setsockopt(probe, SOL_SOCKET, SO_RCVBUFFORCE, &ask, sizeof(ask)) == 0;
	close(probe);
	if (!forced)
		printf("SKIP: no CAP_NET_ADMIN, a buffer above net.core.rmem_max is not tried\n");
	struct dr_input in;
	char err[512], *listen[] = {"127.0.0.1:0"};
	CHECK_EQ(open_listen(&in, listen, 1, forced ? ask : 65536, err), 0);
	if (!in.ops)
		return;
	CHECK_STR(in.note, "");
	CHECK(in.sockets[0].rcvbuf >= (forced ? ask : 65536));
	dr_input_close(&in);
}

/* ---- through the pipeline: NetFlow v5 into a flow record ---------------- */

static volatile int stop_sending;
static unsigned pipe_port;

static size_t netflow_v5(uint8_t *b)
{
	memset(b, 0, 72);
	b[1] = 5;			/* version */
	b[3] = 1;			/* count */
	b[7] = 100;			/* sysUptime 100 ms */
	uint32_t secs = htonl((uint32_t)time(NULL));
	memcpy(b + 8, &secs, 4);
	uint8_t *r = b + 24;
	memcpy(r, (uint8_t[]){192, 0, 2, 1}, 4);
	memcpy(r + 4, (uint8_t[]){198, 51, 100, 2}, 4);
	r[19] = 10;			/* dPkts */
	r[22] = 0x13;			/* dOctets 5000 */
	r[23] = 0x88;
	r[27] = 50;			/* First */
	r[31] = 90;			/* Last */
	r[33] = 53;			/* srcport */
	r[34] = 0x9c;			/* dstport 40000 */
	r[35] = 0x40;
	r[38] = 17;			/* UDP */
	return 72;
}

static void *pipe_sender(void *arg)
{
	(void)arg;
	unsigned sport;
	uint8_t dg[72];
	size_t n = netflow_v5(dg);
	int s = sender(AF_INET, &sport);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)pipe_port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	/* until the pipeline has it: it may not be listening yet */
	for (int i = 0; i < 500 && !stop_sending; i++) {
		sendto(s, dg, n, 0, (struct sockaddr *)&a, sizeof(a));
		struct timespec ms = {0, 10 * 1000 * 1000};
		nanosleep(&ms, NULL);
	}
	close(s);
	return NULL;
}

static struct dr_record flow_seen;
static int flows_seen;

static void on_flow(void *ctx, const struct dr_record *r)
{
	(void)ctx;
	if (r->kind == DR_KIND_FLOW && !flows_seen++)
		flow_seen = *r;
	stop_sending = 1;
	dr_input_interrupt = SIGINT;	/* ends the input at its next batch */
}

static void test_pipeline(void)
{
	static struct dr_pipeline p;
	char a[32], *listen[] = {a};
	pipe_port = free_port();
	snprintf(a, sizeof(a), "127.0.0.1:%u", pipe_port);
	dr_pipeline_init(&p);
	p.listen = listen;
	p.nlisten = 1;
	p.rcvbuf = 1 << 20;
	p.progress = 0;
	p.catch_signals = 0;
	pthread_t tid;
	CHECK_EQ(pthread_create(&tid, NULL, pipe_sender, NULL), 0);
	int rc = dr_pipeline_run(&p, on_flow, NULL);
	stop_sending = 1;
	pthread_join(tid, NULL);
	dr_input_interrupt = 0;
	CHECK_EQ(rc, 0);
	if (rc)
		fprintf(stderr, "%s\n", p.error);
	CHECK_EQ(p.interrupted, SIGINT);
	CHECK_EQ(p.nsockets, 1);
	CHECK_STR(p.sockets[0].name, a);
	CHECK(p.sockets[0].datagrams >= 1);
	CHECK_EQ(p.sockets[0].octets, p.sockets[0].datagrams * 72);
	CHECK(p.sockets[0].rcvbuf >= 1 << 20);
	CHECK_EQ(flows_seen, 1);
	CHECK_EQ(flow_seen.sport, 53);
	CHECK_EQ(flow_seen.dport, 40000);
	CHECK_EQ(flow_seen.packets, 10);
	CHECK_EQ(flow_seen.bytes, 5000);
	uint8_t exporter[DR_AKEY] = {4, 127, 0, 0, 1};
	CHECK(memcmp(flow_seen.exporter, exporter, DR_AKEY) == 0);
}

/* Sockets named win over paths, "-" included (collect hands its --listen
 * values over as paths too): the socket kind is asked before stdin. */
static void test_sockets_before_paths(void)
{
	int saved = dup(STDIN_FILENO), null = open("/dev/null", O_RDONLY);
	CHECK(saved >= 0 && null >= 0);
	dup2(null, STDIN_FILENO);	/* read as a capture it would be empty */
	close(null);
	char *paths[] = {"-"}, *listen[] = {"127.0.0.1:0"}, err[512] = "";
	struct dr_input_spec spec = {.paths = paths, .npaths = 1, .listen = listen, .nlisten = 1};
	struct dr_input in;
	CHECK_EQ(dr_input_open(&in, &spec, err, sizeof(err)), 0);
	if (in.ops) {
		CHECK_STR(in.ops->name, "udp");
		dr_input_close(&in);
	} else {
		fprintf(stderr, "%s\n", err);
	}
	dup2(saved, STDIN_FILENO);
	close(saved);
}

static void test_interrupt(void)
{
	struct dr_input in;
	char err[512], *listen[] = {"127.0.0.1:0"};
	CHECK_EQ(open_listen(&in, listen, 1, 0, err), 0);
	if (!in.ops)
		return;
	unsigned port = name_port(in.sockets[0].name), sport;
	int s = sender(AF_INET, &sport);
	send_to(s, AF_INET, port, "x", 1);
	dr_input_interrupt = SIGTERM;
	CHECK_EQ(dr_input_read(&in, pkts, DR_INPUT_BATCH), DR_INPUT_END);
	CHECK_EQ(dr_input_read(&in, pkts, DR_INPUT_BATCH), DR_INPUT_END);
	dr_input_interrupt = 0;
	close(s);
	dr_input_close(&in);
}

int main(void)
{
	RUN(test_ipv4);
	RUN(test_ipv6);
	RUN(test_dual_stack);
	RUN(test_both_families);
	RUN(test_bad_addresses);
	RUN(test_port_in_use);
	RUN(test_drops);
	RUN(test_drops_while_busy);
	RUN(test_round_robin);
	RUN(test_small_buffer_note);
	RUN(test_pipeline);
	RUN(test_sockets_before_paths);
	RUN(test_interrupt);
	TEST_MAIN_END();
}
