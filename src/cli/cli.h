/* Subcommands are constant structs listed in one table (main.c). */
#ifndef DR_CLI_CLI_H
#define DR_CLI_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "core/pipeline.h"

struct dr_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

extern const struct dr_command dr_cmd_records;
extern const struct dr_command dr_cmd_analyze;
extern const struct dr_command dr_cmd_collect;
extern const struct dr_command dr_cmd_top;
extern const struct dr_command dr_cmd_alerts;
extern const struct dr_command dr_cmd_run;
extern const struct dr_command dr_cmd_check_config;
extern const struct dr_command dr_cmd_actions;
extern const struct dr_command dr_cmd_exabgp_bridge;
extern const struct dr_command dr_cmd_rules;

struct dr_alert;
struct dr_respond_config;
/* Prints the actions c's policy plans for an alert and every backend's
 * text for each (cmd_rules.c; analyze --rules too); adds the backends
 * that rendered (bits of their index in dr_backends) to *used. run > 0
 * names the store's run. 0, or -1 out of memory. */
int dr_rules_print(FILE *out, const struct dr_respond_config *c, const struct dr_alert *a,
		   long run, unsigned *used);
/* Then, once, the setup of those backends. 0, or -1 out of memory. */
int dr_rules_print_setup(FILE *out, const struct dr_respond_config *c, unsigned used);

/* Exit statuses. */
enum { DR_EXIT_OK = 0, DR_EXIT_FAIL = 1, DR_EXIT_USAGE = 2 };

/* Long options every capture-reading subcommand takes. */
enum { DR_OPT_BPF = 0x100, DR_OPT_DNS_PORT, DR_OPT_WHERE, DR_OPT_NO_PROGRESS,
       DR_OPT_FLOW_PORT, DR_OPT_NO_FLOWS };

#define DR_COMMON_LONGOPTS \
	{"bpf", required_argument, NULL, DR_OPT_BPF}, \
	{"dns-port", required_argument, NULL, DR_OPT_DNS_PORT}, \
	{"where", required_argument, NULL, DR_OPT_WHERE}, \
	{"no-progress", no_argument, NULL, DR_OPT_NO_PROGRESS}, \
	{"flow-port", required_argument, NULL, DR_OPT_FLOW_PORT}, \
	{"no-flows", no_argument, NULL, DR_OPT_NO_FLOWS}, \
	{"help", no_argument, NULL, 'h'}

#define DR_COMMON_HELP \
	"Input:\n" \
	"  FILE...               pcap or pcapng captures, plain, gzip or zstd;\n" \
	"                        '-' reads standard input. Several files are\n" \
	"                        merged in timestamp order.\n" \
	"  --bpf EXPR            keep only packets matching a BPF filter\n" \
	"                        (tcpdump syntax), e.g. --bpf 'host 192.0.2.1'\n" \
	"  --dns-port PORT[,..]  also decode DNS on these UDP/TCP ports\n" \
	"                        (port 53 always is)\n" \
	"  --flow-port PORT[,..] also decode flow exports (NetFlow v5/v9,\n" \
	"                        IPFIX, sFlow) sent to these UDP ports; 2055,\n" \
	"                        4739, 6343, 9995 and 9996 always are\n" \
	"  --no-flows            decode no flow exports, at any port\n" \
	"  --where FIELD=VALUE   keep only DNS messages where FIELD is VALUE;\n" \
	"                        repeat to AND. Fields: src, dst (address or\n" \
	"                        CIDR), sport, dport, qname (name or *.zone),\n" \
	"                        qtype (A, 28, TYPE65), rcode (NXDOMAIN, 3),\n" \
	"                        qr (query|response), proto (udp|tcp),\n" \
	"                        malformed (any|none|REASON)\n" \
	"  --no-progress         no progress bar (it is drawn on stderr only\n" \
	"                        when stderr is a terminal)\n" \
	"  -h, --help            this help\n"

/* Handles a common option. Returns 0 when handled, -1 after printing an
 * error, 1 when opt is not a common option. */
int dr_cli_common(struct dr_pipeline *p, int opt, const char *arg);

/* Parses a size in octets, "65536", "512K", "64M", "1G" (powers of 1024),
 * from 1 MiB to 1 GiB. Returns 0, or -1 when it is not one. */
int dr_cli_size(const char *arg, int *out);

/* Prints "dnsradar: MESSAGE" on stderr. */
void dr_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "SIGINT" for a signal number (a static string), NULL for 0. */
const char *dr_cli_signal_name(int sig);

/* Prints the usage hint for a command after a usage error. */
void dr_cli_usage_hint(const char *command);

#endif
