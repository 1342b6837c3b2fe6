/* A test helper for test_bgp.py: opens one BGP backend (exabgp or gobgp)
 * from settings on its command line, then runs the operations read from
 * standard input, one a line, answering each on standard output:
 *
 *   prepare                         -> ok | error: WHY
 *   apply|lift KIND ADDR [LENGTH]   -> ok | error: WHY   (KIND blackhole|flowspec)
 *   render apply|lift KIND ADDR [LENGTH] -> the command lines, then "end"
 *   list                            -> "found KIND ADDR/LEN LENGTH" lines, then "end"
 *
 * prepare answers "ok empty" when the backend says it holds nothing (1).
 *
 * usage: bgp_driver exabgp|gobgp [KEY=VALUE...]   (the service's respond.*
 *        settings: exabgp_socket, gobgp_api, next_hop, community, length...) */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action/backend.h"
#include "action/respond.h"

/* "KIND ADDR [LENGTH]" into a; 0 or -1. */
static int action_of(char *words, struct dr_action *a)
{
	char *kind = strtok(words, " \n"), *addr = strtok(NULL, " \n"), *len = strtok(NULL, " \n");
	memset(a, 0, sizeof(*a));
	if (!kind || !addr)
		return -1;
	if (!strcmp(kind, "blackhole"))
		a->kind = DR_ACT_BLACKHOLE;
	else if (!strcmp(kind, "flowspec"))
		a->kind = DR_ACT_FLOWSPEC;
	else if (!strcmp(kind, "drop-source"))
		a->kind = DR_ACT_DROP_SOURCE;	/* one the BGP backends refuse */
	else
		return -1;
	if (inet_pton(AF_INET, addr, a->addr.a) == 1)
		a->addr.family = 4, a->addr.prefix_len = 32;
	else if (inet_pton(AF_INET6, addr, a->addr.a) == 1)
		a->addr.family = 6, a->addr.prefix_len = 128;
	else
		return -1;
	a->length = len ? (uint16_t)atoi(len) : 0;
	return 0;
}

static void found_one(void *ctx, const struct dr_action *a, double ttl_left)
{
	char text[INET6_ADDRSTRLEN];
	(void)ctx;
	(void)ttl_left;
	inet_ntop(a->addr.family == 4 ? AF_INET : AF_INET6, a->addr.a, text, sizeof(text));
	printf("found %s %s/%u %u\n", dr_action_kind_names[a->kind], text, a->addr.prefix_len,
	       a->length);
}

int main(int argc, char **argv)
{
	static struct dr_respond_config c;
	const struct dr_backend *b = NULL;
	void *state = NULL;
	char err[512], line[512];
	if (argc < 2) {
		fprintf(stderr, "usage: bgp_driver exabgp|gobgp [KEY=VALUE...]\n");
		return 2;
	}
	if (!strcmp(argv[1], "exabgp"))
		b = &dr_backend_exabgp;
	else if (!strcmp(argv[1], "gobgp"))
		b = &dr_backend_gobgp;
	if (!b) {
		fprintf(stderr, "bgp_driver: no backend %s\n", argv[1]);
		return 2;
	}
	dr_respond_config_defaults(&c);
	for (int i = 2; i < argc; i++) {
		char key[128], why[256];
		const char *eq = strchr(argv[i], '=');
		if (!eq || (size_t)(eq - argv[i]) >= sizeof(key)) {
			fprintf(stderr, "bgp_driver: %s: give KEY=VALUE\n", argv[i]);
			return 2;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - argv[i]), argv[i]);
		int r = dr_respond_config_set(&c, key, eq + 1, why, sizeof(why));
		if (r != 0) {
			fprintf(stderr, "bgp_driver: %s: %s\n", key, r > 0 ? "no such setting" : why);
			return 2;
		}
	}
	if (b->open(&state, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	printf("open\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		struct dr_action a;
		char *rest = strchr(line, ' ');
		if (rest)
			*rest++ = 0;
		line[strcspn(line, "\n")] = 0;
		int r = 0;
		err[0] = 0;
		if (!strcmp(line, "prepare")) {
			r = b->prepare(state, err, sizeof(err));
		} else if (!strcmp(line, "apply") || !strcmp(line, "lift")) {
			if (!rest || action_of(rest, &a) < 0) {
				printf("error: bad action\n");
				fflush(stdout);
				continue;
			}
			r = line[0] == 'a' ? b->apply(state, &a, c.ttl, err, sizeof(err))
					   : b->lift(state, &a, err, sizeof(err));
		} else if (!strcmp(line, "render")) {
			char *verb = rest ? strtok(rest, " ") : NULL;
			char *words = verb ? strtok(NULL, "\n") : NULL;
			char text[DR_ACTION_TEXT];
			if (!words || action_of(words, &a) < 0 ||
			    b->render(&c, &a, !strcmp(verb, "lift"), c.ttl, text, sizeof(text)) < 0)
				printf("error: cannot render\n");
			else
				printf("%s\nend\n", text);
			fflush(stdout);
			continue;
		} else if (!strcmp(line, "list")) {
			r = b->list(state, found_one, NULL, err, sizeof(err));
			if (r == 0) {
				printf("end\n");
				fflush(stdout);
				continue;
			}
		} else {
			printf("error: no operation %s\n", line);
			fflush(stdout);
			continue;
		}
		if (r < 0)
			printf("error: %s\n", err);
		else
			printf(r == 1 ? "ok empty\n" : "ok\n");
		fflush(stdout);
	}
	b->close(state);
	return 0;
}
