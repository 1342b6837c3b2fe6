/* dnsradar: find DNS abuse in traffic. Dispatches to a subcommand. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#ifndef DR_VERSION
#define DR_VERSION "0.1.0"
#endif

static const struct dr_command *const commands[] = {
	&dr_cmd_analyze,
	&dr_cmd_records,
	&dr_cmd_collect,
	&dr_cmd_run,
	&dr_cmd_check_config,
	&dr_cmd_top,
	&dr_cmd_alerts,
	&dr_cmd_actions,
	&dr_cmd_exabgp_bridge,
	&dr_cmd_rules,
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: dnsradar COMMAND [OPTIONS] FILE...\n"
		"\n"
		"Find DNS abuse in captured traffic, show where it comes from.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-14s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out,
		"\n"
		"Run 'dnsradar COMMAND --help' for a command's options; 'man dnsradar'\n"
		"for the whole manual. Exit status: 0 success, 2 bad usage or input.\n");
}

int main(int argc, char **argv)
{
	/* Tables are sized once at start: allocations from 128 KiB up are
	 * always their own mappings, whose pages the kernel zeroes when first
	 * touched. Without this, glibc raises the threshold after the first
	 * large free and then zeroes tens of megabytes of heap by hand. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	if (argc < 2) {
		usage(stderr);
		return DR_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
		usage(stdout);
		return DR_EXIT_OK;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
		printf("dnsradar %s\n", DR_VERSION);
		return DR_EXIT_OK;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(name, commands[i]->name) == 0)
			return commands[i]->run(argc - 1, argv + 1);
	dr_cli_error("'%s' is not a command; try 'dnsradar --help'", name);
	return DR_EXIT_USAGE;
}
