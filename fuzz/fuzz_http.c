/* Fuzz target: the HTTP API (service/http.c on libmicrohttpd) with raw
 * request bytes from the network: the request line, the query string
 * with its parameters (times, --where conditions, limits, dimensions),
 * the headers and the token. The server runs on 127.0.0.1 against a
 * small store built once, and a dry-run response holding one planned
 * action (GET /api/actions, POST /api/actions/ID/lift); every input is
 * one connection. An answer must come, whatever was sent. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "service/http.h"
#include "../tests/unit/store_build.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dr_http *server;
static struct dr_respond *respond;
static struct dr_metrics_board board = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void start(void)
{
	static char path[128];
	char err[512];
	snprintf(path, sizeof(path), "/tmp/dnsradar-fuzz-http-%d.db", (int)getpid());
	unlink(path);
	sb_build(path);
	board.m.ndetectors = 1;
	board.m.detector[0] = "flood";
	static struct dr_respond_config rc;
	dr_respond_config_defaults(&rc);
	snprintf(rc.state, sizeof(rc.state), "/tmp/dnsradar-fuzz-http-%d.json", (int)getpid());
	if (dr_respond_open(&respond, &rc, NULL, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_http: %s\n", err);
		abort();
	}
	static struct dr_alert a = {.id = 1, .type = "flood", .key = "192.0.2.7",
				    .severity = DR_SEV_HIGH};
	a.ev.kind = DR_EV_FLOOD;
	a.ev.u.flood.by_source = 1;
	a.ev.u.flood.source = (struct dr_ev_addr){.family = 4, .prefix_len = 32, .a = {192, 0, 2, 7}};
	a.ev.u.flood.port = 53;
	dr_respond_event(respond, DR_EVENT_OPEN, &a);
	if (dr_http_open(&server, "127.0.0.1:0", "0123456789abcdef", path, &board, respond, err,
			 sizeof(err)) < 0 || dr_http_start(server, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_http: %s\n", err);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!server)
		start();
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return 0;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)dr_http_port(server))};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return 0;
	}
	/* the request as given, then an end so that a request cut short is
	 * answered (or refused) rather than waited on */
	if (send(fd, data, size, MSG_NOSIGNAL) >= 0)
		shutdown(fd, SHUT_WR);
	/* an answer within 0.3 s (a request cut short is waited on); once it has begun, the rest comes at once
	 * (a kept-alive connection then waits for a next request) */
	char buf[65536];
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int wait = 300;
	while (poll(&p, 1, wait) > 0) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		wait = 20;
	}
	close(fd);
	return 0;
}
