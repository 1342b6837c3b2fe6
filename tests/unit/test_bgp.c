/* The BGP backends without a BGP speaker: the exact ExaBGP API text and
 * gobgp commands of each action (IPv4 and IPv6, apply and lift), and the
 * ExaBGP backend's socket protocol against a fake ExaBGP on a thread (no
 * bridge, replies, errors, silence, a new bridge re-announcing). */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "action/backend.h"
#include "action/respond.h"
#include "harness.h"

static void config(struct dr_respond_config *c)
{
	memset(c, 0, sizeof(*c));
	c->ttl = 3600;
	c->policy.length = 512;
	snprintf(c->gobgp_api, sizeof(c->gobgp_api), "127.0.0.1:50051");
	snprintf(c->gobgp_cli, sizeof(c->gobgp_cli), "gobgp");
	snprintf(c->next_hop, sizeof(c->next_hop), "self");
	snprintf(c->community, sizeof(c->community), "65535:666");
}

static struct dr_action action(int kind, const char *addr, unsigned length)
{
	struct dr_action a;
	memset(&a, 0, sizeof(a));
	a.kind = (uint8_t)kind;
	a.length = (uint16_t)length;
	if (inet_pton(AF_INET, addr, a.addr.a) == 1)
		a.addr.family = 4, a.addr.prefix_len = 32;
	else if (inet_pton(AF_INET6, addr, a.addr.a) == 1)
		a.addr.family = 6, a.addr.prefix_len = 128;
	return a;
}

static const char *render(const struct dr_backend *b, const struct dr_respond_config *c,
			  int kind, const char *addr, unsigned length, int lift)
{
	static char buf[DR_ACTION_TEXT];
	struct dr_action a = action(kind, addr, length);
	if (b->render(c, &a, lift, 3600, buf, sizeof(buf)) < 0)
		return "(refused)";
	return buf;
}

static void test_exabgp_render(void)
{
	struct dr_respond_config c;
	const struct dr_backend *b = &dr_backend_exabgp;
	config(&c);
	CHECK_STR(render(b, &c, DR_ACT_BLACKHOLE, "198.51.100.7", 0, 0),
		  "announce route 198.51.100.7/32 next-hop self community [65535:666]");
	CHECK_STR(render(b, &c, DR_ACT_BLACKHOLE, "198.51.100.7", 0, 1),
		  "withdraw route 198.51.100.7/32 next-hop self");
	CHECK_STR(render(b, &c, DR_ACT_FLOWSPEC, "198.51.100.8", 512, 0),
		  "announce flow route { match { destination 198.51.100.8/32; protocol udp; "
		  "source-port =53; packet-length >512; } then { discard; } }\n"
		  "announce flow route { match { destination 198.51.100.8/32; "
		  "fragment [ is-fragment ]; } then { discard; } }");
	CHECK_STR(render(b, &c, DR_ACT_FLOWSPEC, "198.51.100.8", 512, 1),
		  "withdraw flow route { match { destination 198.51.100.8/32; protocol udp; "
		  "source-port =53; packet-length >512; } }\n"
		  "withdraw flow route { match { destination 198.51.100.8/32; "
		  "fragment [ is-fragment ]; } }");
	CHECK_STR(render(b, &c, DR_ACT_FLOWSPEC, "2001:db8::7", 1200, 0),
		  "announce flow route { match { destination 2001:db8::7/128; next-header udp; "
		  "source-port =53; packet-length >1200; } then { discard; } }\n"
		  "announce flow route { match { destination 2001:db8::7/128; "
		  "fragment [ is-fragment ]; } then { discard; } }");
	/* an IPv4 next hop is for IPv4 routes; IPv6 ones keep self */
	snprintf(c.next_hop, sizeof(c.next_hop), "10.1.0.1");
	snprintf(c.community, sizeof(c.community), "64500:666");
	CHECK_STR(render(b, &c, DR_ACT_BLACKHOLE, "198.51.100.7", 0, 0),
		  "announce route 198.51.100.7/32 next-hop 10.1.0.1 community [64500:666]");
	CHECK_STR(render(b, &c, DR_ACT_BLACKHOLE, "2001:db8::7", 0, 0),
		  "announce route 2001:db8::7/128 next-hop self community [64500:666]");
	snprintf(c.next_hop, sizeof(c.next_hop), "2001:db8:1::1");
	CHECK_STR(render(b, &c, DR_ACT_BLACKHOLE, "2001:db8::7", 0, 1),
		  "withdraw route 2001:db8::7/128 next-hop 2001:db8:1::1");
	/* one of each family */
	snprintf(c.next_hop, sizeof(c.next_hop), "10.1.0.1,2001:db8:1::1");
	CHECK_STR(render(b, &c, DR_ACT_BLACKHOLE, "198.51.100.7", 0, 1),
		  "withdraw route 198.51.100.7/32 next-hop 10.1.0.1");
	CHECK_STR(render(b, &c, DR_ACT_BLACKHOLE, "2001:db8::7", 0, 1),
		  "withdraw route 2001:db8::7/128 next-hop 2001:db8:1::1");
	snprintf(c.next_hop, sizeof(c.next_hop), "10.1.0.1,10.1.0.2");
	CHECK_STR(render(b, &c, DR_ACT_BLACKHOLE, "198.51.100.7", 0, 0), "(refused)");
	void *st = NULL;
	char err[256];
	snprintf(c.exabgp_socket, sizeof(c.exabgp_socket), "/nonexistent/exabgp.sock");
	CHECK(b->open(&st, &c, err, sizeof(err)) < 0 && strstr(err, "respond.next_hop: ") == err);
	/* the firewall's kinds, a bad next hop, no address: refused */
	CHECK_STR(render(b, &c, DR_ACT_DROP_SOURCE, "198.51.100.7", 0, 0), "(refused)");
	snprintf(c.next_hop, sizeof(c.next_hop), "10.1.0.300");
	CHECK_STR(render(b, &c, DR_ACT_BLACKHOLE, "198.51.100.7", 0, 0), "(refused)");
	struct dr_action none = action(DR_ACT_BLACKHOLE, "x", 0);
	char buf[256];
	CHECK(b->render(&c, &none, 0, 0, buf, sizeof(buf)) < 0);
	/* too small a buffer is an error, not a cut */
	config(&c);
	struct dr_action f = action(DR_ACT_FLOWSPEC, "198.51.100.8", 512);
	CHECK(b->render(&c, &f, 0, 0, buf, 100) < 0);
}

static void test_gobgp_render(void)
{
	struct dr_respond_config c;
	const struct dr_backend *b = &dr_backend_gobgp;
	config(&c);
	CHECK_STR(render(b, &c, DR_ACT_BLACKHOLE, "198.51.100.7", 0, 0),
		  "gobgp -u 127.0.0.1 -p 50051 global rib add -a ipv4 198.51.100.7/32 "
		  "community 65535:666");
	CHECK_STR(render(b, &c, DR_ACT_BLACKHOLE, "198.51.100.7", 0, 1),
		  "gobgp -u 127.0.0.1 -p 50051 global rib del -a ipv4 198.51.100.7/32");
	CHECK_STR(render(b, &c, DR_ACT_FLOWSPEC, "198.51.100.8", 512, 0),
		  "gobgp -u 127.0.0.1 -p 50051 global rib add -a ipv4-flowspec match destination "
		  "198.51.100.8/32 protocol udp source-port '==53' packet-length '>512' then "
		  "discard\n"
		  "gobgp -u 127.0.0.1 -p 50051 global rib add -a ipv4-flowspec match destination "
		  "198.51.100.8/32 fragment is-fragment then discard");
	CHECK_STR(render(b, &c, DR_ACT_FLOWSPEC, "2001:db8::7", 512, 1),
		  "gobgp -u 127.0.0.1 -p 50051 global rib del -a ipv6-flowspec match destination "
		  "2001:db8::7/128 protocol udp source-port '==53' packet-length '>512'\n"
		  "gobgp -u 127.0.0.1 -p 50051 global rib del -a ipv6-flowspec match destination "
		  "2001:db8::7/128 fragment is-fragment");
	snprintf(c.next_hop, sizeof(c.next_hop), "2001:db8:1::1");
	snprintf(c.gobgp_api, sizeof(c.gobgp_api), "[::1]:50052");
	snprintf(c.gobgp_cli, sizeof(c.gobgp_cli), "/opt/go bgp/gobgp");
	CHECK_STR(render(b, &c, DR_ACT_BLACKHOLE, "2001:db8::7", 0, 0),
		  "'/opt/go bgp/gobgp' -u ::1 -p 50052 global rib add -a ipv6 2001:db8::7/128 "
		  "nexthop 2001:db8:1::1 community 65535:666");
	CHECK_STR(render(b, &c, DR_ACT_BLACKHOLE, "198.51.100.7", 0, 0),
		  "'/opt/go bgp/gobgp' -u ::1 -p 50052 global rib add -a ipv4 198.51.100.7/32 "
		  "community 65535:666");
	snprintf(c.next_hop, sizeof(c.next_hop), "self,10.1.0.1");
	CHECK_STR(render(b, &c, DR_ACT_BLACKHOLE, "198.51.100.7", 0, 0),
		  "'/opt/go bgp/gobgp' -u ::1 -p 50052 global rib add -a ipv4 198.51.100.7/32 "
		  "nexthop 10.1.0.1 community 65535:666");
	CHECK_STR(render(b, &c, DR_ACT_RATE_LIMIT, "198.51.100.7", 0, 0), "(refused)");
	snprintf(c.gobgp_api, sizeof(c.gobgp_api), "localhost");
	CHECK_STR(render(b, &c, DR_ACT_BLACKHOLE, "198.51.100.7", 0, 0), "(refused)");
}

/* A fake ExaBGP behind a bridge: connects to the socket, answers each
 * line by a rule, and records what it got. */
struct fake {
	char path[DR_RESPOND_TEXT];
	char got[4096];
	int silent;		/* 1: never answer (an address ExaBGP chokes on) */
	int refuse;		/* 1: answer "error" */
	int lines;		/* stop after this many lines */
};

static void *fake_exabgp(void *arg)
{
	struct fake *f = arg;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.107s", f->path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return NULL;
	}
	FILE *in = fdopen(dup(fd), "r");
	char line[1024];
	for (int n = 0; n < f->lines && fgets(line, sizeof(line), in); n++) {
		strncat(f->got, line, sizeof(f->got) - strlen(f->got) - 1);
		if (f->silent)
			continue;
		const char *reply = f->refuse ? "error\n" : "done\n";
		if (write(fd, reply, strlen(reply)) < 0)
			break;
	}
	fclose(in);
	close(fd);
	return NULL;
}

static unsigned nfound;
static struct dr_action last;
static void count_found(void *ctx, const struct dr_action *a, double ttl)
{
	(void)ctx;
	(void)ttl;
	nfound++;
	last = *a;
}

static void test_exabgp_socket(void)
{
	struct dr_respond_config c;
	char dir[] = "/tmp/dr-test-bgp-XXXXXX", err[512];
	void *st = NULL;
	config(&c);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(c.exabgp_socket, sizeof(c.exabgp_socket), "%s/run/exabgp.sock", dir);
	/* a missing directory is made */
	const struct dr_backend *b = &dr_backend_exabgp;
	CHECK_EQ(b->open(&st, &c, err, sizeof(err)), 0);
	if (!st)
		return;
	b->close(st);
	st = NULL;
	/* a stale socket (its listener gone, the file left) is moved out of the way */
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.107s", c.exabgp_socket);
	int stale = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(stale, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	close(stale);
	CHECK_EQ(b->open(&st, &c, err, sizeof(err)), 0);
	if (!st)
		return;
	struct stat sb;
	CHECK(stat(c.exabgp_socket, &sb) == 0 && S_ISSOCK(sb.st_mode) &&
	      (sb.st_mode & 0777) == 0660);
	/* a second listener on the same path is refused */
	void *st2 = NULL;
	CHECK(b->open(&st2, &c, err, sizeof(err)) < 0 && strstr(err, "in use"));

	struct dr_action bh = action(DR_ACT_BLACKHOLE, "198.51.100.7", 0);
	struct dr_action fl = action(DR_ACT_FLOWSPEC, "2001:db8::7", 512);
	err[0] = 0;
	CHECK(b->apply(st, &bh, 60, err, sizeof(err)) < 0);
	char want[1200];
	snprintf(want, sizeof(want), "no ExaBGP connected to %s: is `dnsradar exabgp-bridge %s` "
		 "in exabgp.conf's process?", c.exabgp_socket, c.exabgp_socket);
	CHECK_STR(err, want);

	/* a bridge: each command answered "done" */
	struct fake f = {.lines = 3};
	snprintf(f.path, sizeof(f.path), "%s", c.exabgp_socket);
	pthread_t t;
	pthread_create(&t, NULL, fake_exabgp, &f);
	usleep(100000);	/* connected: the next call accepts it */
	CHECK_EQ(b->apply(st, &bh, 60, err, sizeof(err)), 0);
	CHECK_EQ(b->apply(st, &fl, 60, err, sizeof(err)), 0);
	pthread_join(t, NULL);
	CHECK_STR(f.got, "announce route 198.51.100.7/32 next-hop self community [65535:666]\n"
			 "announce flow route { match { destination 2001:db8::7/128; next-header "
			 "udp; source-port =53; packet-length >512; } then { discard; } }\n"
			 "announce flow route { match { destination 2001:db8::7/128; fragment "
			 "[ is-fragment ]; } then { discard; } }\n");
	/* that bridge went away: the next command says so */
	CHECK(b->lift(st, &bh, err, sizeof(err)) < 0);
	CHECK(strstr(err, "went away") || strstr(err, "no ExaBGP connected"));

	/* a new bridge met by a lift: everything applied is announced again
	 * first, then the lift */
	struct fake g = {.lines = 4};
	snprintf(g.path, sizeof(g.path), "%s", c.exabgp_socket);
	pthread_create(&t, NULL, fake_exabgp, &g);
	usleep(100000);
	CHECK_EQ(b->lift(st, &bh, err, sizeof(err)), 0);
	pthread_join(t, NULL);
	CHECK_STR(g.got, "announce route 198.51.100.7/32 next-hop self community [65535:666]\n"
			 "announce flow route { match { destination 2001:db8::7/128; next-header "
			 "udp; source-port =53; packet-length >512; } then { discard; } }\n"
			 "announce flow route { match { destination 2001:db8::7/128; fragment "
			 "[ is-fragment ]; } then { discard; } }\n"
			 "withdraw route 198.51.100.7/32 next-hop self\n");

	/* "error" and silence are failures with the command in the message */
	struct fake h = {.lines = 1, .refuse = 1};
	snprintf(h.path, sizeof(h.path), "%s", c.exabgp_socket);
	pthread_create(&t, NULL, fake_exabgp, &h);
	usleep(100000);
	struct dr_action bh2 = action(DR_ACT_BLACKHOLE, "192.0.2.9", 0);
	CHECK(b->apply(st, &bh2, 60, err, sizeof(err)) < 0);	/* the flowspec's again: refused */
	CHECK(strstr(err, "ExaBGP refused: announce flow route") != NULL);
	pthread_join(t, NULL);
	struct fake s = {.lines = 3, .silent = 1};
	snprintf(s.path, sizeof(s.path), "%s", c.exabgp_socket);
	pthread_create(&t, NULL, fake_exabgp, &s);
	usleep(100000);
	CHECK(b->apply(st, &bh2, 60, err, sizeof(err)) < 0);
	CHECK(strstr(err, "no answer in 5 s") != NULL);
	/* a new bridge met by prepare (the worker's, at every reconciliation):
	 * 1, the speaker may have lost everything; the backend forgets what it
	 * applied (list() finds nothing) and the worker applies it again */
	struct fake p = {.lines = 1};
	snprintf(p.path, sizeof(p.path), "%s", c.exabgp_socket);
	pthread_t t2;
	pthread_create(&t2, NULL, fake_exabgp, &p);
	usleep(100000);
	CHECK_EQ(b->prepare(st, err, sizeof(err)), 1);
	CHECK_EQ(b->prepare(st, err, sizeof(err)), 0);
	nfound = 0;
	CHECK_EQ(b->list(st, count_found, NULL, err, sizeof(err)), 0);
	CHECK_EQ(nfound, 0);
	CHECK_EQ(b->apply(st, &bh2, 60, err, sizeof(err)), 0);
	CHECK_STR(p.got, "announce route 192.0.2.9/32 next-hop self community [65535:666]\n");
	CHECK_EQ(b->list(st, count_found, NULL, err, sizeof(err)), 0);
	CHECK_EQ(nfound, 1);
	CHECK(dr_action_same(&last, &bh2));
	pthread_join(t2, NULL);
	b->close(st);	/* ends the silent one's wait for more */
	pthread_join(t, NULL);
	CHECK(stat(c.exabgp_socket, &sb) < 0);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "%s/run", dir);
	rmdir(cmd);
	rmdir(dir);
}

/* A gobgp that prints a RIB: list() finds ours (our community on a /32,
 * our two Flowspec shapes, paths of this host only). */
static void test_gobgp_list(void)
{
	struct dr_respond_config c;
	char dir[] = "/tmp/dr-test-gobgp-XXXXXX", err[512], path[128];
	config(&c);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/gobgp", dir);
	FILE *f = fopen(path, "w");
	/* what gobgpd 3.10 printed, one of ours and one not for each family */
	fprintf(f, "#!/bin/sh\ncase \"$*\" in\n"
		"*'-a ipv4') echo '{\"198.51.100.7/32\":[{\"nlri\":{\"prefix\":\"198.51.100.7/32\"},"
		"\"attrs\":[{\"type\":8,\"communities\":[4294902426]}]}],"
		"\"198.51.100.9/32\":[{\"nlri\":{\"prefix\":\"198.51.100.9/32\"},"
		"\"attrs\":[{\"type\":8,\"communities\":[4259840001]}]}],"
		"\"198.51.100.10/32\":[{\"nlri\":{\"prefix\":\"198.51.100.10/32\"},"
		"\"neighbor-ip\":\"10.1.0.2\",\"attrs\":[{\"type\":8,\"communities\":[4294902426]}]}]}' ;;\n"
		"*'-a ipv6') echo '{}' ;;\n"
		"*'-a ipv4-flowspec') echo '{\"[destination: 198.51.100.8/32][fragment: is-fragment]\":"
		"[{\"attrs\":[{\"type\":16,\"value\":[{\"type\":128,\"subtype\":6,\"as\":0,\"rate\":0}]}]}],"
		"\"[destination: 198.51.100.8/32][protocol: ==udp][source-port: ==53][packet-length: \\u003e512]\":"
		"[{\"attrs\":[{\"type\":16,\"value\":[{\"type\":128,\"subtype\":6,\"as\":0,\"rate\":0}]}]}],"
		"\"[destination: 198.51.100.9/32][protocol: ==tcp]\":[{\"attrs\":[]}]}' ;;\n"
		"*'-a ipv6-flowspec') echo '{\"[destination: 2001:db8::7/128/0][fragment: is-fragment]\":"
		"[{\"attrs\":[{\"type\":16,\"value\":[{\"type\":128,\"subtype\":6,\"as\":0,\"rate\":0}]}]}]}' ;;\n"
		"*) echo \"error: $*\"; exit 1 ;;\nesac");
	fclose(f);
	chmod(path, 0755);
	snprintf(c.gobgp_cli, sizeof(c.gobgp_cli), "%s", path);
	void *st = NULL;
	const struct dr_backend *b = &dr_backend_gobgp;
	CHECK_EQ(b->open(&st, &c, err, sizeof(err)), 0);
	nfound = 0;
	CHECK_EQ(b->prepare(st, err, sizeof(err)), 0);	/* reads the RIB */
	CHECK_EQ(b->list(st, count_found, NULL, err, sizeof(err)), 0);
	/* 198.51.100.7 blackhole, 198.51.100.8 flowspec, 2001:db8::7's fragment rule alone */
	CHECK_EQ(nfound, 3);
	CHECK_EQ(last.kind, DR_ACT_FLOWSPEC);
	CHECK_EQ(last.addr.family, 6);
	CHECK_EQ(last.length, 512);
	/* a failing gobgp: its first line in the error */
	struct dr_action bh = action(DR_ACT_BLACKHOLE, "198.51.100.7", 0);
	CHECK(b->apply(st, &bh, 60, err, sizeof(err)) < 0);
	CHECK(strstr(err, "exit 1: error: -u 127.0.0.1") != NULL);
	b->close(st);
	/* a gobgp that hangs is killed at 5 s */
	f = fopen(path, "w");
	fprintf(f, "#!/bin/sh\nexec sleep 30\n");
	fclose(f);
	CHECK_EQ(b->open(&st, &c, err, sizeof(err)), 0);
	CHECK(b->apply(st, &bh, 60, err, sizeof(err)) < 0);
	CHECK(strstr(err, "gobgp took more than 5 s (is gobgpd up?): killed") != NULL);
	b->close(st);
	snprintf(c.gobgp_cli, sizeof(c.gobgp_cli), "%s/none", dir);
	CHECK(b->open(&st, &c, err, sizeof(err)) < 0 && strstr(err, "respond.gobgp_cli"));
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	RUN(test_exabgp_render);
	RUN(test_gobgp_render);
	RUN(test_exabgp_socket);
	RUN(test_gobgp_list);
	TEST_MAIN_END();
}
