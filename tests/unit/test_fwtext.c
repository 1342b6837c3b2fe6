/* The ipset and files backends without root: the exact commands and
 * configuration text they render, the settings they refuse, and the rrl
 * files written, listed and removed in a directory of the test's own. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "action/backend.h"
#include "action/respond.h"
#include "harness.h"

static void addr(struct dr_ev_addr *a, const char *s)
{
	int six = strchr(s, ':') != NULL;
	a->family = six ? 6 : 4;
	a->prefix_len = six ? 128 : 32;
	inet_pton(six ? AF_INET6 : AF_INET, s, a->a);
}

static struct dr_respond_config cfg(void)
{
	struct dr_respond_config c;
	dr_respond_config_defaults(&c);
	return c;
}

static const char *render(const struct dr_backend *b, const struct dr_respond_config *c,
			  const struct dr_action *a, int lift, double ttl)
{
	static char buf[8192];
	if (b->render(c, a, lift, ttl, buf, sizeof(buf)) < 0)
		return "(refused)";
	return buf;
}

static void test_ipset_elements(void)
{
	struct dr_respond_config c = cfg();
	struct dr_action a;
	memset(&a, 0, sizeof(a));
	a.kind = DR_ACT_DROP_SOURCE;
	addr(&a.addr, "198.51.100.7");
	a.port = 53;
	CHECK_STR(render(&dr_backend_ipset, &c, &a, 0, 3600),
		  "ipset -exist add dnsradar-src4 198.51.100.7,udp:53 timeout 3600\n");
	CHECK_STR(render(&dr_backend_ipset, &c, &a, 1, 0),
		  "ipset -exist del dnsradar-src4 198.51.100.7,udp:53\n");
	/* a fraction of a second more is a second more; the largest ipset takes */
	CHECK_STR(render(&dr_backend_ipset, &c, &a, 0, 0.2),
		  "ipset -exist add dnsradar-src4 198.51.100.7,udp:53 timeout 1\n");
	CHECK_STR(render(&dr_backend_ipset, &c, &a, 0, 1e9),
		  "ipset -exist add dnsradar-src4 198.51.100.7,udp:53 timeout 2147483\n");
	addr(&a.addr, "2001:db8::7");
	a.port = 5353;
	CHECK_STR(render(&dr_backend_ipset, &c, &a, 0, 10.5),
		  "ipset -exist add dnsradar-src6 2001:db8::7,udp:5353 timeout 11\n");

	memset(&a, 0, sizeof(a));
	a.kind = DR_ACT_DROP_PEER;
	addr(&a.addr, "192.0.2.53");
	a.port = 5353;
	addr(&a.addr2, "192.0.2.1");
	a.port2 = 53;
	CHECK_STR(render(&dr_backend_ipset, &c, &a, 0, 60),
		  "ipset -exist add dnsradar-peer4 192.0.2.53,udp:5353,192.0.2.1 timeout 60\n");
	a.port2 = 5353;	/* no field for it in the set: refused, not widened */
	CHECK_STR(render(&dr_backend_ipset, &c, &a, 0, 60), "(refused)");

	memset(&a, 0, sizeof(a));
	a.kind = DR_ACT_DROP_RESPONSES;
	addr(&a.addr, "192.0.2.10");
	CHECK_STR(render(&dr_backend_ipset, &c, &a, 0, 60),
		  "ipset -exist add dnsradar-respany4 192.0.2.10,udp:53 timeout 60\n");
	addr(&a.addr2, "203.0.113.9");
	CHECK_STR(render(&dr_backend_ipset, &c, &a, 0, 60),
		  "ipset -exist add dnsradar-resp4 192.0.2.10,udp:53,203.0.113.9 timeout 60\n");
	addr(&a.addr2, "2001:db8::9");	/* families differ */
	CHECK_STR(render(&dr_backend_ipset, &c, &a, 0, 60), "(refused)");

	memset(&a, 0, sizeof(a));
	a.kind = DR_ACT_RATE_LIMIT;
	addr(&a.addr, "192.0.2.1");
	a.port = 53;
	a.rate = 100;
	CHECK_STR(render(&dr_backend_ipset, &c, &a, 0, 60),
		  "ipset -exist add dnsradar-rl4 192.0.2.1,udp:53 timeout 60\n");
	a.rate = 50;	/* the rule limits at respond.rate */
	CHECK_STR(render(&dr_backend_ipset, &c, &a, 0, 60), "(refused)");

	memset(&a, 0, sizeof(a));
	a.kind = DR_ACT_DROP_REFLECTED;
	addr(&a.addr, "203.0.113.9");
	a.length = 512;
	CHECK_STR(render(&dr_backend_ipset, &c, &a, 0, 60),
		  "ipset -exist add dnsradar-refl4 203.0.113.9 timeout 60\n");
	a.addr.prefix_len = 24;	/* hash:ip holds hosts only */
	CHECK_STR(render(&dr_backend_ipset, &c, &a, 0, 60), "(refused)");

	a.kind = DR_ACT_FLOWSPEC;	/* BGP's, not a firewall's */
	CHECK_STR(render(&dr_backend_ipset, &c, &a, 0, 60), "(refused)");
}

static void test_ipset_setup(void)
{
	struct dr_respond_config c = cfg();
	char buf[16384];
	CHECK_EQ(dr_backend_ipset.render_setup(&c, buf, sizeof(buf)), 0);
	CHECK(strstr(buf, "ipset -exist create dnsradar-src4 hash:ip,port family inet timeout 0\n"));
	CHECK(strstr(buf, "ipset -exist create dnsradar-peer6 hash:ip,port,ip family inet6 timeout 0\n"));
	CHECK(strstr(buf, "iptables -w 5 -t filter -C INPUT -p udp -m set --match-set dnsradar-src4 "
			  "src,dst -j DROP 2>/dev/null || iptables -w 5 -t filter -I INPUT -p udp -m "
			  "set --match-set dnsradar-src4 src,dst -j DROP\n"));
	CHECK(strstr(buf, "-I INPUT -p udp -m set --match-set dnsradar-rl4 dst,dst -m hashlimit "
			  "--hashlimit-above 100/sec --hashlimit-burst 100 --hashlimit-mode "
			  "dstip,dstport --hashlimit-name dnsradar-rl4 -j DROP\n"));
	CHECK(strstr(buf, "-I OUTPUT -p udp -m set --match-set dnsradar-resp4 src,src,dst -j DROP\n"));
	/* drop-source on the way out too: a flood the host itself sends */
	CHECK(strstr(buf, "ip6tables -w 5 -t filter -C OUTPUT -p udp -m set --match-set dnsradar-src6 "
			  "src,dst -j DROP 2>/dev/null || ip6tables -w 5 -t filter -I OUTPUT -p udp -m "
			  "set --match-set dnsradar-src6 src,dst -j DROP\n"));
	CHECK(strstr(buf, "-I INPUT -p udp --sport 53 -m set --match-set dnsradar-refl4 dst -m length "
			  "--length 513:65535 -j DROP\n"));
	CHECK(strstr(buf, "iptables -w 5 -t filter -I INPUT -f -m set --match-set dnsradar-refl4 dst "
			  "-j DROP\n"));
	CHECK(strstr(buf, "ip6tables -w 5 -t filter -I INPUT -m set --match-set dnsradar-refl6 dst "
			  "-m frag -j DROP\n"));
	/* prerouting: the raw table, before conntrack; forward: FORWARD both ways */
	snprintf(c.hook, sizeof(c.hook), "prerouting");
	snprintf(c.set_prefix, sizeof(c.set_prefix), "edge");
	c.policy.rate = 250;
	CHECK_EQ(dr_backend_ipset.render_setup(&c, buf, sizeof(buf)), 0);
	CHECK(strstr(buf, "iptables -w 5 -t raw -I PREROUTING -p udp -m set --match-set edge-src4 "
			  "src,dst -j DROP\n"));
	CHECK(strstr(buf, "--hashlimit-above 250/sec --hashlimit-burst 250"));
	CHECK(strstr(buf, "iptables -w 5 -t raw -I OUTPUT -p udp -m set --match-set edge-src4 "
			  "src,dst -j DROP\n"));
	CHECK(strstr(buf, "iptables -w 5 -t raw -I PREROUTING -p udp -m set --match-set edge-resp4 "
			  "src,src,dst -j DROP\n"));
	CHECK(!strstr(buf, "dnsradar-"));
	snprintf(c.hook, sizeof(c.hook), "forward");
	CHECK_EQ(dr_backend_ipset.render_setup(&c, buf, sizeof(buf)), 0);
	CHECK(strstr(buf, "-I FORWARD -p udp -m set --match-set edge-resp4 src,src,dst -j DROP\n"));
	CHECK(!strstr(buf, "INPUT") && !strstr(buf, "OUTPUT"));
	const char *src4 = strstr(buf, "-I FORWARD -p udp -m set --match-set edge-src4 src,dst");
	CHECK(src4 && !strstr(src4 + 1, "-I FORWARD -p udp -m set --match-set edge-src4 src,dst"));
}

static void test_ipset_open_refuses(void)
{
	struct dr_respond_config c = cfg();
	char err[256] = "";
	void *st = NULL;
	snprintf(c.set_prefix, sizeof(c.set_prefix), "a_prefix_far_too_long_xx");
	CHECK_EQ(dr_backend_ipset.open(&st, &c, err, sizeof(err)), -1);
	CHECK(!strncmp(err, "respond.set_prefix: at most 22 characters", 41));
	snprintf(c.set_prefix, sizeof(c.set_prefix), "Bad-Name");
	CHECK_EQ(dr_backend_ipset.open(&st, &c, err, sizeof(err)), -1);
	CHECK(!strncmp(err, "respond.set_prefix:", 19));
}

static struct dr_action rrl(const char *zone)
{
	struct dr_action a;
	memset(&a, 0, sizeof(a));
	a.kind = DR_ACT_RRL;
	a.alert = 42;
	snprintf(a.zone, sizeof(a.zone), "%s", zone);
	return a;
}

static void test_files_text(void)
{
	struct dr_respond_config c = cfg();
	struct dr_action a = rrl("Example.COM");
	const char *t = render(&dr_backend_files, &c, &a, 0, 600);
	CHECK(!strncmp(t, "# dnsradar rrl example.com: alert 42, 100 NXDOMAIN a second for each "
			  "resolver, 600 s\n# /var/lib/dnsradar/rules/rrl-example.com.conf\n", 120));
	CHECK(strstr(t, "addDynBlockSMT({\"example.com\"}, \"dnsradar\", 600)"));
	CHECK(strstr(t, "do local zone = newSuffixMatchNode() zone:add(\"example.com\")\n"
			"addAction(AndRule({SuffixMatchNodeRule(zone), MaxQPSIPRule(100, 24, 56)}), "
			"DropAction()) end\n"));
	CHECK(strstr(t, "mod-rrl:\n  - id: dnsradar\n    rate-limit: 100\n    slip: 2\n"
			"zone:\n  - domain: example.com\n    module: mod-rrl/dnsradar\n"));
	CHECK(strstr(t, "rate-limit { nxdomains-per-second 100; slip 2; window 15; };\n"));
	CHECK_STR(render(&dr_backend_files, &c, &a, 1, 0),
		  "rm -f '/var/lib/dnsradar/rules/rrl-example.com.conf'\n");

	/* a hostile name: quotes, a newline, a space and an escaped dot stay
	 * inside the strings as \DDD, and no file name is made of it */
	a = rrl("x\\\"),DropAction())--\\010\\032a\\.b.example");
	t = render(&dr_backend_files, &c, &a, 0, 600);
	CHECK(strstr(t, "zone:add(\"x\\\\034\\\\041\\\\044dropaction\\\\040\\\\041\\\\041-"
			"-\\\\010\\\\032a\\\\046b.example\")"));
	CHECK(strstr(t, "  - domain: x\\034\\041\\044dropaction\\040\\041\\041--\\010\\032a\\046b."
			"example\n"));
	CHECK(strstr(t, "(not written: the name is not fit for a file name)"));
	/* every line is one of the template's: the name added none */
	int lines = 0;
	for (const char *p = t; *p; p++)
		lines += *p == '\n';
	CHECK_EQ(lines, 15);
	CHECK(!strchr(strstr(t, "zone:add(\"") + 10, '"') ||
	      strchr(strstr(t, "zone:add(\"") + 10, '"') == strstr(t, "\")\naddAction"));
	CHECK_STR(render(&dr_backend_files, &c, &a, 1, 0), "(refused)");
	a = rrl("");
	CHECK_STR(render(&dr_backend_files, &c, &a, 0, 600), "(refused)");
}

struct seen {
	int n;
	char zone[4][80];
	double left[4];
};

static void found(void *ctx, const struct dr_action *a, double left)
{
	struct seen *s = ctx;
	if (s->n < 4 && a->kind == DR_ACT_RRL) {
		snprintf(s->zone[s->n], sizeof(s->zone[0]), "%s", a->zone);
		s->left[s->n] = left;
	}
	s->n++;
}

static void test_files_apply(void)
{
	char dir[] = "/tmp/dr-fwtext-XXXXXX", err[256] = "", path[600];
	CHECK(mkdtemp(dir) != NULL);
	struct dr_respond_config c = cfg();
	snprintf(c.rules_dir, sizeof(c.rules_dir), "%s/a/b", dir);	/* made on the way */
	void *st = NULL;
	CHECK_EQ(dr_backend_files.open(&st, &c, err, sizeof(err)), 0);
	CHECK_EQ(dr_backend_files.prepare(st, err, sizeof(err)), 0);
	struct dr_action a = rrl("example.com"), bad = rrl("a\\047b.example");
	CHECK_EQ(dr_backend_files.apply(st, &a, 600, err, sizeof(err)), 0);
	CHECK_EQ(dr_backend_files.apply(st, &a, 600, err, sizeof(err)), 0);	/* again: rewrites */
	CHECK_EQ(dr_backend_files.apply(st, &bad, 600, err, sizeof(err)), -1);
	CHECK(strstr(err, "not fit for a file name"));
	snprintf(path, sizeof(path), "%s/rrl-example.com.conf", c.rules_dir);
	FILE *f = fopen(path, "r");
	char text[4096] = "";
	CHECK(f != NULL);
	if (f) {
		text[fread(text, 1, sizeof(text) - 1, f)] = 0;
		fclose(f);
	}
	CHECK_STR(text, render(&dr_backend_files, &c, &a, 0, 600));
	struct seen s = {0};
	CHECK_EQ(dr_backend_files.list(st, found, &s, err, sizeof(err)), 0);
	CHECK_EQ(s.n, 1);
	CHECK_STR(s.zone[0], "example.com");
	CHECK(s.left[0] > 590 && s.left[0] <= 600);
	CHECK_EQ(dr_backend_files.lift(st, &a, err, sizeof(err)), 0);
	CHECK_EQ(dr_backend_files.lift(st, &a, err, sizeof(err)), 0);	/* absent: success */
	CHECK(access(path, F_OK) != 0);
	s.n = 0;
	CHECK_EQ(dr_backend_files.list(st, found, &s, err, sizeof(err)), 0);
	CHECK_EQ(s.n, 0);
	dr_backend_files.close(st);
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_EQ(system(cmd), 0);
	snprintf(c.rules_dir, sizeof(c.rules_dir), "relative/dir");
	CHECK_EQ(dr_backend_files.open(&st, &c, err, sizeof(err)), -1);
	CHECK(!strncmp(err, "respond.rules_dir:", 18));
}

int main(void)
{
	RUN(test_ipset_elements);
	RUN(test_ipset_setup);
	RUN(test_ipset_open_refuses);
	RUN(test_files_text);
	RUN(test_files_apply);
	TEST_MAIN_END();
}
