/*
 * domsecctl.c - the administrator's command: dispatches to one subcommand.
 */
#include <stdio.h>
#include <string.h>
#include "commands.h"
#include "domsec/verdict.h"

static const struct {
	const char *name;
	int (*run)(int, char **);
	const char *usage;
} commands[] = {
	{ "verify", cmd_verify,
	  "verify --domain DOMAIN [--config FILE] [--ca FILE]... [--chain FILE]...\n"
	  "         [--crl FILE]... [--cache-dir DIR] [--at TIME] [--json] CERTFILE" },
	{ "probe", cmd_probe,
	  "probe [--config FILE] [--json] DOMAIN | HOST[:PORT]" },
	{ "crl", cmd_crl, "crl list|refresh [--config FILE]" },
	{ "counters", cmd_counters, "counters [--config FILE]" },
	{ "check-config", cmd_check_config, "check-config [--config FILE]" },
	{ "cert", cmd_cert,
	  "cert csr|selfsigned --name FQDN [--domain DOMAIN]... --key FILE --out FILE" },
	{ "sendmail-access", cmd_sendmail_access, "sendmail-access [--config FILE]" },
	{ "reload", cmd_reload, "reload [--config FILE]" },
	{ "postfix-config", cmd_postfix_config,
	  "postfix-config [--config FILE] [-c POSTFIX_DIR] [--apply | --dry-run]\n"
	  "         [--client-chain FILE] [--postconf PROGRAM]" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: domsecctl COMMAND [options]\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  domsecctl %s\n", commands[i].usage);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return DS_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return DS_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "domsecctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return DS_EXIT_USAGE;
}
