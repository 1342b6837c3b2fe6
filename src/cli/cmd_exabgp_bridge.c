/* dnsradar exabgp-bridge: the process ExaBGP runs for dnsradar. It joins
 * the service's Unix socket (the exabgp backend) to ExaBGP's process API:
 * command lines from the socket go to standard output, ExaBGP's replies
 * on standard input go back to the socket. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/now.h"

#define BRIDGE_LINE 8192	/* octets of one command line, newline included */

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: dnsradar exabgp-bridge SOCKET\n"
		"\n"
		"Run by ExaBGP as a process of its configuration: connects to SOCKET,\n"
		"where 'dnsradar run' (respond.bgp = exabgp) listens, copies each command\n"
		"line from it to standard output and each of ExaBGP's replies from\n"
		"standard input back to it. While SOCKET is absent or refuses, and after\n"
		"the service goes away, it tries again every second, so the service and\n"
		"ExaBGP start and restart in any order. It ends, with status 0, when\n"
		"standard input ends (ExaBGP stopped).\n"
		"\n"
		"  -h, --help            this help\n"
		"\n"
		"In exabgp.conf:\n"
		"  process dnsradar {\n"
		"      run /usr/bin/dnsradar exabgp-bridge /run/dnsradar/exabgp.sock;\n"
		"      encoder text;\n"
		"  }\n"
		"and 'api { processes [ dnsradar ]; }' in each neighbor.\n");
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int try_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int bridge(const char *path)
{
	static char cmd[BRIDGE_LINE];	/* from the service, up to a whole line */
	size_t cmdlen = 0;
	int sock = -1, logged = 0;
	double next_try = 0;	/* monotonic: when to connect again */
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		if (sock < 0 && dr_mono_now() >= next_try) {
			sock = try_connect(path);
			if (sock >= 0) {
				fprintf(stderr, "dnsradar exabgp-bridge: connected to %s\n", path);
				logged = 0;
				cmdlen = 0;
			} else {
				if (!logged)
					fprintf(stderr, "dnsradar exabgp-bridge: cannot connect to %s "
						"(%s); trying every second\n", path, strerror(errno));
				logged = 1;
				next_try = dr_mono_now() + 1;
			}
		}
		int timeout = -1;
		if (sock < 0) {
			double left = next_try - dr_mono_now();
			timeout = left > 0 ? (int)(left * 1000) + 1 : 0;
		}
		struct pollfd p[2] = {{.fd = 0, .events = POLLIN}, {.fd = sock, .events = POLLIN}};
		int r = poll(p, sock >= 0 ? 2 : 1, timeout);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			dr_cli_error("exabgp-bridge: poll: %s", strerror(errno));
			return DR_EXIT_FAIL;
		}
		if (p[0].revents) {
			char buf[4096];
			ssize_t n = read(0, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;	/* ExaBGP stopped */
			/* a reply with nobody to take it (no service) is dropped */
			if (sock >= 0 && write_all(sock, buf, (size_t)n) < 0) {
				close(sock);
				sock = -1;
			}
		}
		if (sock >= 0 && p[1].revents) {
			ssize_t n = read(sock, cmd + cmdlen, sizeof(cmd) - cmdlen);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				/* the service stopped; a half line it left is not a command */
				fprintf(stderr, "dnsradar exabgp-bridge: %s closed; trying every "
					"second\n", path);
				close(sock);
				sock = -1;
				next_try = dr_mono_now() + 1;
				logged = 1;
				continue;
			}
			cmdlen += (size_t)n;
			/* whole lines only: ExaBGP must never see half a command */
			char *end = NULL;
			for (char *q = cmd; q < cmd + cmdlen; q++)
				if (*q == '\n')
					end = q;
			if (end) {
				size_t whole = (size_t)(end - cmd) + 1;
				if (write_all(1, cmd, whole) < 0)
					break;	/* ExaBGP is gone */
				memmove(cmd, cmd + whole, cmdlen - whole);
				cmdlen -= whole;
			} else if (cmdlen == sizeof(cmd)) {
				cmdlen = 0;	/* longer than any command: dropped */
			}
		}
	}
	if (sock >= 0)
		close(sock);
	return DR_EXIT_OK;
}

static int run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			return DR_EXIT_OK;
		}
		dr_cli_usage_hint("exabgp-bridge");
		return DR_EXIT_USAGE;
	}
	if (argc - optind != 1) {
		dr_cli_error("exabgp-bridge: give one SOCKET, the service's respond.exabgp_socket");
		dr_cli_usage_hint("exabgp-bridge");
		return DR_EXIT_USAGE;
	}
	const char *path = argv[optind];
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path) || !*path) {
		dr_cli_error("exabgp-bridge: %s: a socket path is at most %zu characters", path,
			     sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return DR_EXIT_USAGE;
	}
	return bridge(path);
}

const struct dr_command dr_cmd_exabgp_bridge = {
	.name = "exabgp-bridge",
	.summary = "the process ExaBGP runs to announce dnsradar's routes",
	.run = run,
};
