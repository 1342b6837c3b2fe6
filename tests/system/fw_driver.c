/* Drives one firewall backend from the command line, as the response
 * worker would, for test_ipset.py: prepare, apply, lift and list in the
 * network namespace it runs in.
 *
 * usage: fw_driver BACKEND [-p SET_PREFIX] [-k HOOK] prepare
 *        fw_driver BACKEND ... apply drop-source ADDR PORT TTL
 *        fw_driver BACKEND ... apply drop-peer PEER PORT SERVER TTL
 *        fw_driver BACKEND ... lift drop-source ADDR PORT
 *        fw_driver BACKEND ... lift drop-peer PEER PORT SERVER
 *        fw_driver BACKEND ... list      (one action a line, and its seconds left)
 * Exit 0 on success, 1 with the backend's error on stderr, 2 on bad usage. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "action/backend.h"
#include "action/respond.h"

static int addr(struct dr_ev_addr *a, const char *s)
{
	int six = strchr(s, ':') != NULL;
	a->family = six ? 6 : 4;
	a->prefix_len = six ? 128 : 32;
	return inet_pton(six ? AF_INET6 : AF_INET, s, a->a) == 1 ? 0 : -1;
}

static void found(void *ctx, const struct dr_action *a, double left)
{
	char d[256];
	(void)ctx;
	dr_action_describe(a, d, sizeof(d));
	printf("%s left %.0f\n", d, left);
}

static int usage(void)
{
	fprintf(stderr, "usage: fw_driver BACKEND [-p PREFIX] [-k HOOK] prepare|apply|lift|list ...\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct dr_respond_config c;
	char err[512] = "";
	void *st = NULL;
	int rc = 1, opt;
	dr_respond_config_defaults(&c);
	if (argc < 2)
		return usage();
	const struct dr_backend *b = dr_backend_find(argv[1]);
	if (!b) {
		fprintf(stderr, "fw_driver: no backend %s\n", argv[1]);
		return 2;
	}
	optind = 2;
	while ((opt = getopt(argc, argv, "p:k:")) != -1) {
		if (opt == 'p')
			snprintf(c.set_prefix, sizeof(c.set_prefix), "%s", optarg);
		else if (opt == 'k')
			snprintf(c.hook, sizeof(c.hook), "%s", optarg);
		else
			return usage();
	}
	if (optind >= argc)
		return usage();
	const char *op = argv[optind++];
	int n = argc - optind;
	char **v = argv + optind;
	struct dr_action a;
	memset(&a, 0, sizeof(a));
	double ttl = 0;
	if (!strcmp(op, "apply") || !strcmp(op, "lift")) {
		int apply = op[0] == 'a';
		if (n >= 1 && !strcmp(v[0], "drop-source") && n == 3 + apply) {
			a.kind = DR_ACT_DROP_SOURCE;
			if (addr(&a.addr, v[1]) < 0)
				return usage();
			a.port = (uint16_t)atoi(v[2]);
			ttl = apply ? atof(v[3]) : 0;
		} else if (n >= 1 && !strcmp(v[0], "drop-peer") && n == 4 + apply) {
			a.kind = DR_ACT_DROP_PEER;
			if (addr(&a.addr, v[1]) < 0 || addr(&a.addr2, v[3]) < 0)
				return usage();
			a.port = (uint16_t)atoi(v[2]);
			a.port2 = 53;
			ttl = apply ? atof(v[4]) : 0;
		} else {
			return usage();
		}
	} else if (strcmp(op, "prepare") && strcmp(op, "list")) {
		return usage();
	}
	if (b->open(&st, &c, err, sizeof(err)) < 0)
		goto out;
	if (!strcmp(op, "prepare"))
		rc = b->prepare(st, err, sizeof(err)) < 0;
	else if (!strcmp(op, "apply"))
		rc = b->apply(st, &a, ttl, err, sizeof(err)) < 0;
	else if (!strcmp(op, "lift"))
		rc = b->lift(st, &a, err, sizeof(err)) < 0;
	else
		rc = b->list(st, found, NULL, err, sizeof(err)) < 0;
	b->close(st);
out:
	if (rc)
		fprintf(stderr, "fw_driver: %s\n", err);
	return rc;
}
