/* The response's policy: what each alert type's evidence plans, the
 * allowlist, the severity gate, the settings and their mistakes; and the
 * state file's round trip. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "action/action.h"
#include "action/journal.h"
#include "action/respond.h"
#include "harness.h"

static struct dr_ev_addr v4(const char *t)
{
	struct dr_ev_addr a = {.family = 4, .prefix_len = 32};
	inet_pton(AF_INET, t, a.a);
	return a;
}

static struct dr_ev_addr v6(const char *t)
{
	struct dr_ev_addr a = {.family = 6, .prefix_len = 128};
	inet_pton(AF_INET6, t, a.a);
	return a;
}

static void alert(struct dr_alert *a, const char *type, int kind, int severity)
{
	memset(a, 0, sizeof(*a));
	a->id = 7;
	a->type = type;
	snprintf(a->key, sizeof(a->key), "key");
	a->severity = severity;
	a->ev.kind = (uint8_t)kind;
}

static void test_flood(void)
{
	struct dr_policy p;
	struct dr_alert a;
	struct dr_action out[DR_ACTIONS_PER_ALERT];
	unsigned allowed = 0;
	char text[256];
	dr_policy_defaults(&p);
	alert(&a, "flood", DR_EV_FLOOD, DR_SEV_MEDIUM);
	a.ev.u.flood.by_source = 1;
	a.ev.u.flood.source = v4("198.51.100.7");
	a.ev.u.flood.port = 53;
	CHECK_EQ(dr_policy_plan(&p, &a, out, DR_ACTIONS_PER_ALERT, &allowed), 1);
	CHECK_EQ(out[0].kind, DR_ACT_DROP_SOURCE);
	CHECK_EQ(out[0].port, 53);
	CHECK_EQ(out[0].alert, 7);
	dr_action_describe(&out[0], text, sizeof(text));
	CHECK_STR(text, "drop-source 198.51.100.7 to port 53");
	/* a target seen from spread sources: the rate limit, not a ban */
	a.ev.u.flood.by_source = 0;
	a.ev.u.flood.target = v6("2001:db8::53");
	CHECK_EQ(dr_policy_plan(&p, &a, out, DR_ACTIONS_PER_ALERT, &allowed), 1);
	CHECK_EQ(out[0].kind, DR_ACT_RATE_LIMIT);
	CHECK_EQ(out[0].rate, 100);
	CHECK_EQ(out[0].addr.prefix_len, 128);
	/* below the severity: nothing */
	a.severity = DR_SEV_LOW;
	CHECK_EQ(dr_policy_plan(&p, &a, out, DR_ACTIONS_PER_ALERT, &allowed), 0);
	CHECK(dr_policy_rule_for(&p, "flood") != NULL);
	CHECK(dr_policy_rule_for(&p, "nonsense") == NULL);
}

static void test_allowlist(void)
{
	struct dr_policy p;
	struct dr_alert a;
	struct dr_action out[DR_ACTIONS_PER_ALERT];
	unsigned allowed = 0;
	char why[512];
	dr_policy_defaults(&p);
	CHECK_EQ(dr_policy_set(&p, "allow", "198.51.100.0/24", why, sizeof(why)), 0);
	alert(&a, "flood", DR_EV_FLOOD, DR_SEV_HIGH);
	a.ev.u.flood.by_source = 1;
	a.ev.u.flood.source = v4("198.51.100.7");
	CHECK_EQ(dr_policy_plan(&p, &a, out, DR_ACTIONS_PER_ALERT, &allowed), 0);
	CHECK_EQ(allowed, 1);
	a.ev.u.flood.source = v4("198.51.101.7");
	CHECK_EQ(dr_policy_plan(&p, &a, out, DR_ACTIONS_PER_ALERT, &allowed), 1);
	/* never: loopback, unspecified, multicast, no address */
	struct dr_ev_addr lo = v4("127.0.0.1"), zero = v4("0.0.0.0"), mc = v4("239.1.1.1");
	struct dr_ev_addr lo6 = v6("::1"), none = {0};
	CHECK(dr_policy_allowed(&p, &lo) && dr_policy_allowed(&p, &zero) &&
	      dr_policy_allowed(&p, &mc) && dr_policy_allowed(&p, &lo6) &&
	      dr_policy_allowed(&p, &none));
	struct dr_ev_addr ok6 = v6("2001:db8::1");
	CHECK(!dr_policy_allowed(&p, &ok6));
}

static void test_each_type(void)
{
	struct dr_policy p;
	struct dr_alert a;
	struct dr_action out[DR_ACTIONS_PER_ALERT];
	unsigned allowed = 0;
	dr_policy_defaults(&p);
	/* loop: the peer's address and port, towards the server's port */
	alert(&a, "loop", DR_EV_LOOP, DR_SEV_MEDIUM);
	a.ev.u.loop.server = v4("192.0.2.53");
	a.ev.u.loop.peer = v4("203.0.113.9");
	a.ev.u.loop.server_port = 53;
	a.ev.u.loop.peer_port = 5353;
	CHECK_EQ(dr_policy_plan(&p, &a, out, DR_ACTIONS_PER_ALERT, &allowed), 1);
	CHECK(out[0].kind == DR_ACT_DROP_PEER && out[0].port == 5353 && out[0].port2 == 53);
	/* reflection: towards each of a few known victims */
	alert(&a, "reflection", DR_EV_REFLECTION, DR_SEV_HIGH);
	a.ev.u.reflection.responder = v4("192.0.2.10");
	a.ev.u.reflection.victims.n = 2;
	a.ev.u.reflection.victims.distinct = 2;
	a.ev.u.reflection.victims.item[0].addr = v4("203.0.113.1");
	a.ev.u.reflection.victims.item[1].addr = v4("203.0.113.2");
	CHECK_EQ(dr_policy_plan(&p, &a, out, DR_ACTIONS_PER_ALERT, &allowed), 2);
	CHECK(out[0].kind == DR_ACT_DROP_RESPONSES && out[1].addr2.a[3] == 2);
	/* ...or to anyone when they are too many to name */
	a.ev.u.reflection.victims.distinct = 900;
	CHECK_EQ(dr_policy_plan(&p, &a, out, DR_ACTIONS_PER_ALERT, &allowed), 1);
	CHECK_EQ(out[0].addr2.family, 0);
	/* amplification: Flowspec and the firewall's drop, over 512 octets */
	alert(&a, "amplification", DR_EV_AMPLIFICATION, DR_SEV_HIGH);
	a.ev.u.amplification.victim = v4("198.51.100.20");
	CHECK_EQ(dr_policy_plan(&p, &a, out, DR_ACTIONS_PER_ALERT, &allowed), 2);
	CHECK(out[0].kind == DR_ACT_DROP_REFLECTED && out[1].kind == DR_ACT_FLOWSPEC);
	CHECK_EQ(out[1].length, 512);
	/* random subdomain: the zone */
	alert(&a, "random_subdomain", DR_EV_RANDOM_SUBDOMAIN, DR_SEV_MEDIUM);
	snprintf(a.ev.u.random_subdomain.zone, sizeof(a.ev.u.random_subdomain.zone), "example.com");
	CHECK_EQ(dr_policy_plan(&p, &a, out, DR_ACTIONS_PER_ALERT, &allowed), 1);
	CHECK(out[0].kind == DR_ACT_RRL && !strcmp(out[0].zone, "example.com"));
	/* evidence of another kind than the type's: nothing */
	alert(&a, "flood", DR_EV_LOOP, DR_SEV_HIGH);
	CHECK_EQ(dr_policy_plan(&p, &a, out, DR_ACTIONS_PER_ALERT, &allowed), 0);
}

static void test_settings(void)
{
	struct dr_respond_config c;
	char why[512];
	dr_respond_config_defaults(&c);
	CHECK_EQ(c.act, 0);	/* dry-run unless asked */
	CHECK_EQ(dr_respond_config_set(&c, "act", "yes", why, sizeof(why)), 0);
	CHECK_EQ(c.act, 1);
	CHECK_EQ(dr_respond_config_set(&c, "hold", "5m", why, sizeof(why)), 0);
	CHECK(c.hold == 300);
	CHECK_EQ(dr_respond_config_set(&c, "respond.flood", "blackhole, drop-source", why,
				       sizeof(why)), 0);
	CHECK_EQ(c.policy.rule[3].kinds, 1u << DR_ACT_BLACKHOLE | 1u << DR_ACT_DROP_SOURCE);
	CHECK_EQ(dr_respond_config_set(&c, "respond.loop", "none", why, sizeof(why)), 0);
	CHECK_EQ(c.policy.rule[4].kinds, 0);
	CHECK_EQ(dr_respond_config_set(&c, "respond.flood.severity", "high", why, sizeof(why)), 0);
	CHECK_EQ(c.policy.rule[3].min_severity, DR_SEV_HIGH);
	CHECK_EQ(dr_respond_config_set(&c, "respond.flood", "ban-everyone", why, sizeof(why)), -1);
	CHECK(strstr(why, "no action 'ban-everyone'") != NULL);
	CHECK_EQ(dr_respond_config_set(&c, "act", "maybe", why, sizeof(why)), -1);
	CHECK_EQ(dr_respond_config_set(&c, "allow", "10.0.0.300", why, sizeof(why)), -1);
	CHECK_EQ(dr_respond_config_set(&c, "respond.community", "65535:666:1", why, sizeof(why)), -1);
	CHECK_EQ(dr_respond_config_set(&c, "respond.hook", "output", why, sizeof(why)), -1);
	CHECK_EQ(dr_respond_config_set(&c, "respond.max_actions", "0", why, sizeof(why)), -1);
	CHECK_EQ(dr_respond_config_set(&c, "respond.firewall", "iptables", why, sizeof(why)), -1);
	CHECK_EQ(dr_respond_config_set(&c, "respond.nonsense", "1", why, sizeof(why)), 1);
	CHECK_EQ(dr_respond_config_set(&c, "interface", "eth0", why, sizeof(why)), 1);
}

static void test_journal(void)
{
	char path[] = "/tmp/dnsradar-test-journal-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	struct dr_action_view v[2], back[4];
	memset(v, 0, sizeof(v));
	v[0].id = 3;
	v[0].action.kind = DR_ACT_DROP_PEER;
	v[0].action.addr = v4("203.0.113.9");
	v[0].action.addr2 = v4("192.0.2.53");
	v[0].action.port = 5353;
	v[0].action.port2 = 53;
	snprintf(v[0].action.type, sizeof(v[0].action.type), "loop");
	snprintf(v[0].backend, sizeof(v[0].backend), "nftables");
	v[0].state = DR_ACTION_ACTIVE;
	v[0].since = 1700000000.5;
	v[1] = v[0];
	v[1].id = 4;
	v[1].action.kind = DR_ACT_RRL;
	snprintf(v[1].action.zone, sizeof(v[1].action.zone), "example.com");
	v[1].lift_at = 1700000300;
	v[1].state = DR_ACTION_LIFTING;
	char err[512];
	unsigned n, bad;
	CHECK_EQ(dr_journal_write(path, v, 2, err, sizeof(err)), 0);
	CHECK_EQ(dr_journal_read(path, back, 4, &n, &bad, err, sizeof(err)), 0);
	CHECK_EQ(n, 2);
	CHECK_EQ(bad, 0);
	CHECK(dr_action_same(&back[0].action, &v[0].action));
	CHECK(dr_action_same(&back[1].action, &v[1].action));
	CHECK_EQ(back[1].state, DR_ACTION_LIFTING);
	CHECK(back[1].lift_at == 1700000300 && back[0].since == 1700000000.5);
	/* a damaged entry is counted and skipped; a damaged file is an error */
	FILE *f = fopen(path, "w");
	fputs("{\"version\": 1, \"actions\": [{\"id\": 1, \"kind\": \"nuke\"}, 5]}", f);
	fclose(f);
	CHECK_EQ(dr_journal_read(path, back, 4, &n, &bad, err, sizeof(err)), 0);
	CHECK_EQ(n, 0);
	CHECK_EQ(bad, 2);
	f = fopen(path, "w");
	fputs("{\"version\": 1, \"actions\": [", f);
	fclose(f);
	CHECK_EQ(dr_journal_read(path, back, 4, &n, &bad, err, sizeof(err)), -1);
	CHECK(strstr(err, path) != NULL);
	unlink(path);
	/* absent: none, no error */
	CHECK_EQ(dr_journal_read(path, back, 4, &n, &bad, err, sizeof(err)), 0);
	CHECK_EQ(n, 0);
}

int main(void)
{
	RUN(test_flood);
	RUN(test_allowlist);
	RUN(test_each_type);
	RUN(test_settings);
	RUN(test_journal);
	TEST_MAIN_END();
}
