/*
 * cmd_verify.c - PLACEHOLDER until its owner lands the real command.
 */
#include <stdio.h>
#include "commands.h"
#include "domsec/verdict.h"

int cmd_verify(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "domsecctl: %s: not built yet\n", argv[0]);
	return DS_EXIT_USAGE;
}
