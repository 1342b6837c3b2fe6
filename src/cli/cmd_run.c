/* dnsradar run: the long-running service (service/service.h); and
 * dnsradar check-config: every mistake of a configuration file, with its
 * line, before a service is started or reloaded with it. */
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/geo.h"
#include "service/service.h"

enum { OPT_LISTEN = 0x300, OPT_STORE, OPT_CLICKHOUSE, OPT_SENSOR, OPT_HTTP, OPT_HTTP_TOKEN_FILE, OPT_ALERT_LOG, OPT_SYSLOG,
       OPT_WEBHOOK, OPT_EXEC, OPT_LOCAL, OPT_RESOLVER, OPT_AUTHORITATIVE, OPT_SET, OPT_CONFIG,
       OPT_USER, OPT_BPF, OPT_SNAPLEN, OPT_BUFFER, OPT_RCVBUF, OPT_DNS_PORT, OPT_FLOW_PORT,
       OPT_NO_FLOWS, OPT_THREADS, OPT_GEOIP, OPT_ASN, OPT_ACT, OPT_ALLOW, OPT_HOLD, OPT_HTTP_STORE };

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: dnsradar run [--config FILE] [OPTIONS]\n"
		"\n"
		"The long-running service: capture live on interfaces and receive flow\n"
		"exports, run the detectors of analyze on them, keep history in a SQLite\n"
		"store, serve an HTTP API with Prometheus metrics, and send every alert\n"
		"event (open, update, close) to the alert log, syslog, a webhook or a\n"
		"command. Flags win over the file's settings. SIGHUP reloads thresholds,\n"
		"roles and outputs; SIGTERM closes the open alerts, flushes and exits 0.\n"
		"The whole reference: docs/service.md.\n"
		"\n"
		"Input:\n"
		"  -i, --interface IFACE capture on IFACE (libpcap); repeatable\n"
		"  --bpf EXPR            capture only what matches (tcpdump syntax)\n"
		"  --snaplen OCTETS      octets kept of each packet (default 65535)\n"
		"  --buffer SIZE         the kernel's capture ring per interface\n"
		"                        (default 64M; K, M, G)\n"
		"  --listen ADDR:PORT    receive NetFlow, IPFIX or sFlow here; repeatable\n"
		"  --rcvbuf SIZE         each flow socket's receive buffer (default 32M)\n"
		"  --dns-port PORT[,..]  also decode DNS on these ports (53 always is)\n"
		"  --flow-port PORT[,..] also decode flow exports captured at these ports\n"
		"  --no-flows            decode no flow exports\n"
		"  --threads 1|2         2 (default): detection beside capture\n"
		"\n"
		"Detection:\n"
		"  --local CIDR, --resolver ADDR[/LEN], --authoritative ADDR[/LEN]\n"
		"                        network roles, as for analyze; repeatable\n"
		"  --set DETECTOR.THRESHOLD=VALUE, --set store.NAME=VALUE\n"
		"                        a threshold, or a store setting\n"
		"  --geoip FILE, --asn FILE\n"
		"                        MaxMind DB country and ASN databases: country and\n"
		"                        AS in the store's aggregates and records\n"
		"\n"
		"History and API:\n"
		"  --store FILE          the SQLite store (alerts, per-minute aggregates,\n"
		"                        records); read it with dnsradar alerts, top, records\n"
		"  --clickhouse URL      also send every alert event, aggregate and record\n"
		"                        to ClickHouse (its HTTP URL, e.g.\n"
		"                        http://127.0.0.1:8123/?database=dnsradar), spooled\n"
		"                        to disk while it is away; needs --store\n"
		"                        (docs/clickhouse.md; --set clickhouse.NAME=VALUE)\n"
		"  --sensor NAME         this sensor's name in ClickHouse (default: the host)\n"
		"  --http ADDR:PORT      the HTTP API and /metrics (loopback unless\n"
		"                        http_token is set)\n"
		"  --http-token-file FILE\n"
		"                        the bearer token the API asks for\n"
		"  --http-store STORE    what the API reads: a store file or\n"
		"                        clickhouse://HOST:PORT/DATABASE (default: --store)\n"
		"\n"
		"Alert outputs:\n"
		"  --alert-log FILE      every event as a JSON line\n"
		"  --syslog              every event to syslog (facility daemon)\n"
		"  --webhook URL         POST every event as JSON (retried, queued)\n"
		"  --exec CMD            run CMD with the event as JSON on stdin\n"
		"\n"
		"Response (docs/response.md; dry-run unless --act or act = yes):\n"
		"  --act                 act: apply the policy's bans, rate limits, RTBH and\n"
		"                        Flowspec; without it every action is only logged\n"
		"                        with the exact command and listed (dnsradar actions)\n"
		"  --allow ADDR[/LEN]    never act on these addresses; repeatable (resolver\n"
		"                        addresses are on the allowlist already)\n"
		"  --hold SECONDS        wait this long after an alert closes before lifting\n"
		"                        its actions (default 300; 5m, 1h)\n"
		"\n"
		"Service:\n"
		"  --config FILE         read NAME = VALUE settings (docs/service.md)\n"
		"  --user USER           become USER once captures and sockets are open\n"
		"                        (default: dnsradar when it exists and we are root)\n"
		"  -h, --help            this help\n"
		"\n"
		"Example:\n"
		"  dnsradar run -i eth0 --local 198.51.100.0/22 --store /var/lib/dnsradar/store.db \\\n"
		"      --http 127.0.0.1:8053 --alert-log /var/log/dnsradar/alerts.json\n"
		"  dnsradar check-config /etc/dnsradar/dnsradar.conf\n");
}

static void check_usage(FILE *out)
{
	fprintf(out,
		"Usage: dnsradar check-config FILE\n"
		"\n"
		"Read a configuration file for dnsradar run and print every mistake as\n"
		"FILE:LINE: reason, not just the first: unknown settings, bad values,\n"
		"settings given twice, interfaces that do not exist, MaxMind databases\n"
		"that cannot be read, a store whose folder cannot be written, an HTTP\n"
		"address open to the network without a token. Exit status 0 when the\n"
		"file is good (a summary follows), 2 otherwise.\n");
}

/* Reads a token file: its first line. */
static char *read_token(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		dr_cli_error("--http-token-file %s: cannot read it", path);
		return NULL;
	}
	char buf[512];
	char *line = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!line) {
		dr_cli_error("--http-token-file %s: the file is empty", path);
		return NULL;
	}
	buf[strcspn(buf, "\r\n")] = 0;
	return strdup(buf);
}

static int add_flag(struct dr_service_args *a, const char *key, const char *value)
{
	if (a->nflags == DR_SERVICE_FLAGS) {
		dr_cli_error("too many options (at most %d)", DR_SERVICE_FLAGS);
		return -1;
	}
	a->flag[a->nflags].key = key;
	a->flag[a->nflags].value = value;
	a->nflags++;
	return 0;
}

static int run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"interface", required_argument, NULL, 'i'},
		{"listen", required_argument, NULL, OPT_LISTEN},
		{"store", required_argument, NULL, OPT_STORE},
		{"clickhouse", required_argument, NULL, OPT_CLICKHOUSE},
		{"sensor", required_argument, NULL, OPT_SENSOR},
		{"http", required_argument, NULL, OPT_HTTP},
		{"http-token-file", required_argument, NULL, OPT_HTTP_TOKEN_FILE},
		{"http-store", required_argument, NULL, OPT_HTTP_STORE},
		{"alert-log", required_argument, NULL, OPT_ALERT_LOG},
		{"syslog", no_argument, NULL, OPT_SYSLOG},
		{"webhook", required_argument, NULL, OPT_WEBHOOK},
		{"exec", required_argument, NULL, OPT_EXEC},
		{"local", required_argument, NULL, OPT_LOCAL},
		{"resolver", required_argument, NULL, OPT_RESOLVER},
		{"authoritative", required_argument, NULL, OPT_AUTHORITATIVE},
		{"set", required_argument, NULL, OPT_SET},
		{"config", required_argument, NULL, OPT_CONFIG},
		{"user", required_argument, NULL, OPT_USER},
		{"bpf", required_argument, NULL, OPT_BPF},
		{"snaplen", required_argument, NULL, OPT_SNAPLEN},
		{"buffer", required_argument, NULL, OPT_BUFFER},
		{"rcvbuf", required_argument, NULL, OPT_RCVBUF},
		{"dns-port", required_argument, NULL, OPT_DNS_PORT},
		{"flow-port", required_argument, NULL, OPT_FLOW_PORT},
		{"no-flows", no_argument, NULL, OPT_NO_FLOWS},
		{"threads", required_argument, NULL, OPT_THREADS},
		{"geoip", required_argument, NULL, OPT_GEOIP},
		{"asn", required_argument, NULL, OPT_ASN},
		{"act", no_argument, NULL, OPT_ACT},
		{"allow", required_argument, NULL, OPT_ALLOW},
		{"hold", required_argument, NULL, OPT_HOLD},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	/* the flag -> config key of each option taking one */
	static const struct { int opt; const char *key; } keys[] = {
		{'i', "interface"}, {OPT_LISTEN, "listen"}, {OPT_STORE, "store"},
		{OPT_CLICKHOUSE, "clickhouse"}, {OPT_SENSOR, "clickhouse.sensor"},
		{OPT_HTTP, "http"}, {OPT_HTTP_STORE, "http_store"}, {OPT_ALERT_LOG, "alert_log"},
		{OPT_WEBHOOK, "webhook"},
		{OPT_EXEC, "exec"}, {OPT_LOCAL, "local"}, {OPT_RESOLVER, "resolver"},
		{OPT_AUTHORITATIVE, "authoritative"}, {OPT_USER, "user"}, {OPT_BPF, "bpf"},
		{OPT_SNAPLEN, "snaplen"}, {OPT_BUFFER, "capture_buffer"}, {OPT_RCVBUF, "rcvbuf"},
		{OPT_DNS_PORT, "dns_port"}, {OPT_FLOW_PORT, "flow_port"}, {OPT_THREADS, "threads"},
		{OPT_GEOIP, "geoip"}, {OPT_ASN, "asn"}, {OPT_ALLOW, "allow"}, {OPT_HOLD, "hold"},
	};
	struct dr_service_args *a = calloc(1, sizeof(*a));
	char *token = NULL;
	int opt, ret = DR_EXIT_USAGE;
	if (!a) {
		dr_cli_error("out of memory");
		return DR_EXIT_FAIL;
	}
	optind = 1;
	while ((opt = getopt_long(argc, argv, "hi:", longopts, NULL)) != -1) {
		int bad = 0;
		switch (opt) {
		case 'h':
			usage(stdout);
			ret = DR_EXIT_OK;
			goto out;
		case OPT_CONFIG:
			a->config = optarg;
			break;
		case OPT_SYSLOG:
			bad = add_flag(a, "syslog", "yes");
			break;
		case OPT_NO_FLOWS:
			bad = add_flag(a, "flows", "no");
			break;
		case OPT_ACT:
			bad = add_flag(a, "act", "yes");
			break;
		case OPT_HTTP_TOKEN_FILE:
			if (token) {	/* the first one's text stays in use */
				dr_cli_error("--http-token-file: given twice");
				goto out;
			}
			if (!(token = read_token(optarg)))
				goto out;
			bad = add_flag(a, "http_token", token);
			break;
		case OPT_SET: {
			char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg) {
				dr_cli_error("--set '%s': give NAME=VALUE", optarg);
				goto out;
			}
			*eq = 0;	/* argv is ours to cut */
			bad = add_flag(a, optarg, eq + 1);
			break;
		}
		case '?':
			dr_cli_usage_hint("run");
			goto out;
		default:
			bad = -1;
			for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
				if (keys[k].opt == opt)
					bad = add_flag(a, keys[k].key, optarg);
			break;
		}
		if (bad)
			goto out;
	}
	if (optind < argc) {
		dr_cli_error("run: '%s': run takes no files (dnsradar analyze reads captures)",
			     argv[optind]);
		dr_cli_usage_hint("run");
		goto out;
	}
	ret = dr_service_run(a);
out:
	free(token);
	free(a);
	return ret;
}

struct check {
	const char *file;
	unsigned mistakes;
};

static void check_mistake(void *ctx, const char *file, unsigned line, const char *why)
{
	struct check *c = ctx;
	c->mistakes++;
	if (line)
		fprintf(stderr, "%s:%u: %s\n", file, line, why);
	else
		fprintf(stderr, "%s: %s\n", file, why);
}

/* What can be checked without starting: the interfaces exist, the
 * databases open, the store's folder can be written. */
static void check_world(struct check *k, const struct dr_service_config *c)
{
	char why[1100];
	for (unsigned i = 0; i < c->nifaces; i++)
		if (!if_nametoindex(c->ifaces[i])) {
			snprintf(why, sizeof(why), "interface = %s: no such interface here",
				 c->ifaces[i]);
			check_mistake(k, k->file, 0, why);
		}
	const char *db[2] = {c->geoip, c->asn}, *kind[2] = {"country", "asn"};
	for (int i = 0; i < 2; i++) {
		struct dr_geo g = {0};
		if (!db[i][0])
			continue;
		if (dr_geo_open(&g, kind[i], db[i], why, sizeof(why)) < 0) {
			char line[1200];
			snprintf(line, sizeof(line), "%s = %s", i ? "asn" : "geoip", why);
			check_mistake(k, k->file, 0, line);
		}
		dr_geo_close(&g);
	}
	if (c->store[0]) {
		char dir[DR_CONF_VALUE];
		snprintf(dir, sizeof(dir), "%s", c->store);
		char *slash = strrchr(dir, '/');
		if (slash)
			*(slash == dir ? slash + 1 : slash) = 0;
		else
			snprintf(dir, sizeof(dir), ".");
		if (access(c->store, F_OK) != 0 && access(dir, W_OK) != 0) {
			snprintf(why, sizeof(why), "store = %.480s: its folder %.480s cannot be written",
				 c->store, dir);
			check_mistake(k, k->file, 0, why);
		}
	}
	if (c->clickhouse[0]) {
		struct dr_ch_config chc;
		char spool[DR_CONF_VALUE + 8];
		dr_service_clickhouse_config(c, &chc, spool, sizeof(spool));
		if (dr_ch_check(&chc, why, sizeof(why)) < 0)
			check_mistake(k, k->file, 0, why);
	}
}

static int check_config(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		check_usage(stdout);
		return DR_EXIT_OK;
	}
	if (argc != 2) {
		dr_cli_error("check-config: give one configuration file");
		dr_cli_usage_hint("check-config");
		return DR_EXIT_USAGE;
	}
	struct dr_service_config *c = malloc(sizeof(*c));
	if (!c) {
		dr_cli_error("out of memory");
		return DR_EXIT_FAIL;
	}
	struct check k = {argv[1], 0};
	char why[1024];
	dr_service_config_defaults(c);
	int n = dr_service_config_load(c, argv[1], check_mistake, &k);
	if (n >= 0) {
		if (dr_service_config_check(c, why, sizeof(why)) < 0)
			check_mistake(&k, argv[1], 0, why);
		check_world(&k, c);
	}
	int ret = DR_EXIT_USAGE;
	if (n < 0) {
		/* the reason is printed */
	} else if (k.mistakes) {
		fprintf(stderr, "%s: %u mistake%s\n", argv[1], k.mistakes, k.mistakes == 1 ? "" : "s");
	} else {
		printf("%s: ok: %u interfaces, %u flow sockets, store %s, http %s, "
		       "%u local prefixes, %u resolvers; response %s, firewall %s, bgp %s, "
		       "%u allowlist entries\n", argv[1], c->nifaces, c->nlisten,
		       c->store[0] ? c->store : "none", c->http[0] ? c->http : "none",
		       c->engine.roles.nlocal, c->engine.roles.nresolvers,
		       c->respond.act ? "acting" : "dry-run",
		       c->respond.firewall[0] ? c->respond.firewall : "none",
		       c->respond.bgp[0] ? c->respond.bgp : "none", c->respond.policy.nallow);
		ret = DR_EXIT_OK;
	}
	free(c);
	return ret;
}

const struct dr_command dr_cmd_run = {
	.name = "run",
	.summary = "the service: live capture and flows, history, API, alert outputs",
	.run = run,
};

const struct dr_command dr_cmd_check_config = {
	.name = "check-config",
	.summary = "check a configuration file of run: every mistake, with its line",
	.run = check_config,
};
