/* The nftables backend against the kernel, in a network namespace of the
 * test's own (unshare): the table made once, each kind applied, listed
 * back as the same action (what the response compares its record with),
 * lifted; a table made with other settings is made again. Needs root:
 * skipped, visibly, without it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "action/backend.h"
#include "action/respond.h"
#include "harness.h"

static struct dr_action got[16];
static unsigned ngot;

static void found(void *ctx, const struct dr_action *a, double ttl_left)
{
	(void)ctx;
	CHECK(ttl_left > 0 && ttl_left <= 600);
	if (ngot < 16)
		got[ngot++] = *a;
}

static struct dr_ev_addr v4(const char *t)
{
	struct dr_ev_addr a;
	dr_action_addr_parse(t, &a);
	return a;
}

static void test_round_trip(void)
{
	const struct dr_backend *b = &dr_backend_nftables;
	struct dr_respond_config c;
	void *st = NULL;
	char err[512];
	dr_respond_config_defaults(&c);
	CHECK_EQ(b->open(&st, &c, err, sizeof(err)), 0);
	CHECK_EQ(b->prepare(st, err, sizeof(err)), 1);	/* made */
	CHECK_EQ(b->prepare(st, err, sizeof(err)), 0);	/* there, whole */
	struct dr_action a[4];
	memset(a, 0, sizeof(a));
	a[0].kind = DR_ACT_DROP_SOURCE, a[0].addr = v4("198.51.100.7"), a[0].port = 53;
	a[1].kind = DR_ACT_DROP_PEER, a[1].addr = v4("203.0.113.9"), a[1].port = 5353;
	a[1].addr2 = v4("192.0.2.53"), a[1].port2 = 53;
	a[2].kind = DR_ACT_DROP_RESPONSES, a[2].addr = v4("192.0.2.10"), a[2].addr2 = v4("203.0.113.1");
	a[3].kind = DR_ACT_RATE_LIMIT, a[3].addr = v4("192.0.2.53"), a[3].port = 53, a[3].rate = 100;
	for (int i = 0; i < 4; i++)
		CHECK_EQ(b->apply(st, &a[i], 600, err, sizeof(err)), 0);
	CHECK_EQ(b->apply(st, &a[1], 600, err, sizeof(err)), 0);	/* a refresh */
	ngot = 0;
	CHECK_EQ(b->list(st, found, NULL, err, sizeof(err)), 0);
	CHECK_EQ(ngot, 4);
	for (int i = 0; i < 4; i++) {
		int same = 0;
		for (unsigned k = 0; k < ngot; k++)
			same |= dr_action_same(&a[i], &got[k]);
		CHECK(same);
	}
	for (int i = 0; i < 4; i++)
		CHECK_EQ(b->lift(st, &a[i], err, sizeof(err)), 0);
	CHECK_EQ(b->lift(st, &a[0], err, sizeof(err)), 0);	/* gone already: fine */
	ngot = 0;
	CHECK_EQ(b->list(st, found, NULL, err, sizeof(err)), 0);
	CHECK_EQ(ngot, 0);
	b->close(st);
	/* another rate: the rules say 100, so the table is made again */
	c.policy.rate = 50;
	CHECK_EQ(b->open(&st, &c, err, sizeof(err)), 0);
	CHECK_EQ(b->prepare(st, err, sizeof(err)), 1);
	CHECK_EQ(b->prepare(st, err, sizeof(err)), 0);
	b->close(st);
}

int main(void)
{
	if (unshare(CLONE_NEWNET) < 0) {
		printf("SKIP: test_nftables needs root (a network namespace of its own)\n");
		return 0;
	}
	RUN(test_round_trip);
	TEST_MAIN_END();
}
