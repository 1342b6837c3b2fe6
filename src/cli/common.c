/* Option handling shared by the subcommands that read captures. */
#define _GNU_SOURCE	/* sigabbrev_np */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

void dr_cli_error(const char *fmt, ...)
{
	va_list ap;
	fputs("dnsradar: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *dr_cli_signal_name(int sig)
{
	static char name[32];
	if (!sig)
		return NULL;
	const char *abbrev = sigabbrev_np(sig);
	snprintf(name, sizeof(name), "SIG%s", abbrev ? abbrev : "?");
	return name;
}

void dr_cli_usage_hint(const char *command)
{
	fprintf(stderr, "Try 'dnsradar %s --help' for more information.\n", command);
}

int dr_cli_size(const char *arg, int *out)
{
	char *end;
	unsigned long long v = strtoull(arg, &end, 10);
	if (end == arg || *arg == '-')
		return -1;
	unsigned shift = 0;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (*end || v > (1ull << 30) || (v << shift) > (1ull << 30) || (v << shift) < (1ull << 20))
		return -1;
	*out = (int)(v << shift);
	return 0;
}

static int add_ports(uint8_t *bitmap, const char *flag, const char *arg)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", arg);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *end;
		long port = strtol(tok, &end, 10);
		if (*end || end == tok || port < 1 || port > 65535) {
			dr_cli_error("%s '%s': '%s' is not a port number (1-65535)", flag, arg, tok);
			return -1;
		}
		dr_port_set(bitmap, (uint16_t)port);
	}
	return 0;
}

int dr_cli_common(struct dr_pipeline *p, int opt, const char *arg)
{
	char err[512];
	switch (opt) {
	case DR_OPT_BPF:
		p->bpf = arg;
		return 0;
	case DR_OPT_DNS_PORT:
		return add_ports(p->dns_ports, "--dns-port", arg);
	case DR_OPT_FLOW_PORT:
		return add_ports(p->flow_ports, "--flow-port", arg);
	case DR_OPT_NO_FLOWS:
		p->flows = 0;
		return 0;
	case DR_OPT_WHERE:
		if (dr_where_add(&p->where, arg, err, sizeof(err)) < 0) {
			dr_cli_error("%s", err);
			return -1;
		}
		return 0;
	case DR_OPT_NO_PROGRESS:
		p->progress = 0;
		return 0;
	default:
		return 1;
	}
}
