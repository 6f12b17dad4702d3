/*
 * domsecctl.c - the administrator's command: dispatches to one subcommand.
 *
 * Every subcommand that takes --config reads the daemon's configuration by
 * default when it exists ($DOMSEC_CONFIG, else /etc/domsec/domsec.conf;
 * DOMSEC_CONFIG set but empty means none), so that `domsecctl probe` judges
 * a partner as the running domsecd does; --no-config asks for the built-in
 * defaults instead.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "commands.h"
#include "domsec/verdict.h"
#include "domsec/version.h"

#define DEFAULT_CONFIG "/etc/domsec/domsec.conf"

static const struct {
	const char *name;
	int (*run)(int, char **);
	int default_config;   /* reads the default configuration unless told */
	const char *usage;
} commands[] = {
	{ "verify", cmd_verify, 1,
	  "verify --domain DOMAIN [--config FILE | --no-config] [--ca FILE]...\n"
	  "         [--chain FILE]... [--crl FILE]... [--cache-dir DIR] [--at TIME]\n"
	  "         [--json] CERTFILE" },
	{ "probe", cmd_probe, 1,
	  "probe [--config FILE | --no-config] [--json] DOMAIN | HOST[:PORT]" },
	{ "crl", cmd_crl, 1, "crl list|refresh [--config FILE | --no-config]" },
	{ "counters", cmd_counters, 0, "counters [--config FILE]" },
	{ "check-config", cmd_check_config, 0, "check-config [--config FILE]" },
	{ "cert", cmd_cert, 0,
	  "cert csr|selfsigned --name FQDN [--domain DOMAIN]... --key FILE --out FILE" },
	{ "sendmail-access", cmd_sendmail_access, 1,
	  "sendmail-access [--config FILE | --no-config | --partners FILE]" },
	{ "reload", cmd_reload, 0, "reload [--config FILE]" },
	{ "postfix-config", cmd_postfix_config, 0,
	  "postfix-config [--config FILE] [-c POSTFIX_DIR] [--apply | --dry-run]\n"
	  "         [--client-chain FILE] [--postconf PROGRAM]" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: domsecctl COMMAND [options]\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  domsecctl %s\n", commands[i].usage);
}

static int has_arg(int argc, char **argv, const char *a, const char *b)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], a) == 0 || (b != NULL && strcmp(argv[i], b) == 0))
			return 1;
	return 0;
}

/*
 * Runs a subcommand that reads the configuration: --no-config is taken
 * out; without it and without --config (or --partners), the default
 * configuration is appended when the file exists.
 */
static int run_with_config(int (*run)(int, char **), int argc, char **argv)
{
	const char *env = getenv("DOMSEC_CONFIG");
	const char *path = env != NULL ? env : DEFAULT_CONFIG;
	char **args = calloc((size_t)argc + 3, sizeof *args);
	int n = 0, explicit = 0, rc;

	if (args == NULL)
		return run(argc, argv);
	explicit = has_arg(argc, argv, "--config", "-c") ||
	    has_arg(argc, argv, "--partners", NULL) ||
	    has_arg(argc, argv, "--help", NULL);
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--no-config") == 0)
			explicit = 1;
		else
			args[n++] = argv[i];
	if (!explicit && path[0] != '\0' && access(path, F_OK) == 0) {
		args[n++] = "--config";
		args[n++] = (char *)path;
	}
	args[n] = NULL;
	rc = run(n, args);
	free(args);
	return rc;
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
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("domsecctl %s\n", DOMSEC_VERSION);
		return DS_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].default_config ?
			    run_with_config(commands[i].run, argc - 1, argv + 1) :
			    commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "domsecctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return DS_EXIT_USAGE;
}
