/* The response's table in dry-run (no kernel touched): planning on open
 * and on an update that first reaches the severity, one element shared by
 * two alerts and held until the last closes plus the hold, the cap on
 * actions at once, a lift by hand, and the log's exact commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "action/respond.h"
#include "harness.h"
#include "lib/now.h"

static char said[8192];

static void on_log(void *ctx, const char *line)
{
	(void)ctx;
	size_t n = strlen(said);
	snprintf(said + n, sizeof(said) - n, "%s\n", line);
}

static void flood(struct dr_alert *a, uint64_t id, int last_octet, int severity)
{
	memset(a, 0, sizeof(*a));
	a->id = id;
	a->type = "flood";
	snprintf(a->key, sizeof(a->key), "192.0.2.%d", last_octet);
	a->severity = severity;
	a->ev.kind = DR_EV_FLOOD;
	a->ev.u.flood.by_source = 1;
	a->ev.u.flood.source =
		(struct dr_ev_addr){.family = 4, .prefix_len = 32, .a = {192, 0, 2, (uint8_t)last_octet}};
	a->ev.u.flood.port = 53;
}

static struct dr_respond *open_dry(unsigned max)
{
	struct dr_respond_config c;
	struct dr_respond *r = NULL;
	char err[512];
	dr_respond_config_defaults(&c);
	c.max_actions = max;
	c.hold = 100;
	snprintf(c.state, sizeof(c.state), "/tmp/dnsradar-test-respond-%d.json", (int)getpid());
	CHECK_EQ(dr_respond_open(&r, &c, on_log, NULL, err, sizeof(err)), 0);
	return r;
}

static unsigned in_force(struct dr_respond *r)
{
	struct dr_respond_stats st;
	dr_respond_stats(r, &st);
	return st.in_force;
}

static void test_shared_and_held(void)
{
	struct dr_respond *r = open_dry(8);
	struct dr_alert a, b;
	struct dr_action_view v[8];
	if (!r)
		return;
	said[0] = 0;
	flood(&a, 1, 7, DR_SEV_MEDIUM);
	flood(&b, 2, 7, DR_SEV_HIGH);	/* the same source, another alert */
	dr_respond_event(r, DR_EVENT_OPEN, &a);
	dr_respond_event(r, DR_EVENT_OPEN, &b);
	CHECK_EQ(dr_respond_list(r, v, 8), 1);
	CHECK_EQ(v[0].state, DR_ACTION_DRY);
	CHECK(v[0].lift_at == 0);
	CHECK(strstr(said, "dry-run: action 1 for alert 1 flood 192.0.2.7: drop-source 192.0.2.7 "
			   "to port 53\n") != NULL);
	CHECK(strstr(said, "action 1 would run: nft add element inet dnsradar src4 "
			   "'{ 192.0.2.7 . 53 timeout 3600s }'\n") != NULL);
	/* one alert closes: the other still holds it */
	dr_respond_event(r, DR_EVENT_CLOSE, &a);
	dr_respond_list(r, v, 8);
	CHECK(v[0].lift_at == 0);
	double now = dr_wall_now();
	dr_respond_event(r, DR_EVENT_CLOSE, &b);
	dr_respond_list(r, v, 8);
	CHECK(v[0].lift_at >= now + 100 - 1 && v[0].lift_at <= now + 100 + 5);
	dr_respond_tick(r, now + 50);	/* in its hold */
	CHECK_EQ(in_force(r), 1);
	dr_respond_tick(r, now + 200);
	CHECK_EQ(in_force(r), 0);
	CHECK(strstr(said, "action 1 would run: nft delete element inet dnsradar src4 "
			   "'{ 192.0.2.7 . 53 }'\n") != NULL);
	dr_respond_close(r);
}

static void test_severity_cap_lift(void)
{
	struct dr_respond *r = open_dry(2);
	struct dr_alert a;
	struct dr_respond_stats st;
	struct dr_action_view v[4];
	if (!r)
		return;
	/* below medium: nothing yet; the update at medium plans */
	flood(&a, 1, 1, DR_SEV_LOW);
	dr_respond_event(r, DR_EVENT_OPEN, &a);
	CHECK_EQ(in_force(r), 0);
	a.severity = DR_SEV_MEDIUM;
	dr_respond_event(r, DR_EVENT_UPDATE, &a);
	CHECK_EQ(in_force(r), 1);
	dr_respond_event(r, DR_EVENT_UPDATE, &a);	/* planned once */
	CHECK_EQ(in_force(r), 1);
	flood(&a, 2, 2, DR_SEV_MEDIUM);
	dr_respond_event(r, DR_EVENT_OPEN, &a);
	flood(&a, 3, 3, DR_SEV_MEDIUM);
	dr_respond_event(r, DR_EVENT_OPEN, &a);	/* a third: over max_actions */
	dr_respond_stats(r, &st);
	CHECK_EQ(st.in_force, 2);
	CHECK_EQ(st.capped, 1);
	CHECK_EQ(st.planned, 2);
	CHECK_EQ(st.dry, 2);
	/* lifted by hand: gone, and not planned again while its alert is open */
	CHECK_EQ(dr_respond_list(r, v, 4), 2);
	CHECK_EQ(dr_respond_lift(r, v[0].id), 0);
	CHECK_EQ(dr_respond_lift(r, v[0].id), -1);
	CHECK_EQ(dr_respond_lift(r, 999), -1);
	flood(&a, 1, 1, DR_SEV_HIGH);
	dr_respond_event(r, DR_EVENT_UPDATE, &a);
	CHECK_EQ(in_force(r), 1);
	CHECK_EQ(dr_respond_acting(r), 0);
	dr_respond_close(r);
}

/* A lift by hand lets go of the alerts that held it: one that plans the
 * same action again keeps it after the first alert closes. */
static void test_lift_then_replanned(void)
{
	struct dr_respond *r = open_dry(8);
	struct dr_alert a, b;
	struct dr_action_view v[4];
	if (!r)
		return;
	flood(&a, 1, 9, DR_SEV_MEDIUM);
	dr_respond_event(r, DR_EVENT_OPEN, &a);
	CHECK_EQ(dr_respond_list(r, v, 4), 1);
	CHECK_EQ(dr_respond_lift(r, v[0].id), 0);
	flood(&b, 2, 9, DR_SEV_MEDIUM);
	dr_respond_event(r, DR_EVENT_OPEN, &b);
	dr_respond_event(r, DR_EVENT_CLOSE, &a);
	CHECK_EQ(dr_respond_list(r, v, 4), 1);
	CHECK(v[0].lift_at == 0);	/* b holds it still */
	dr_respond_close(r);
}

int main(void)
{
	RUN(test_lift_then_replanned);
	RUN(test_shared_and_held);
	RUN(test_severity_cap_lift);
	TEST_MAIN_END();
}
