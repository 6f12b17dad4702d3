/*
 * cmd_reload.c - `domsecctl reload [--config FILE]`: checks the
 * configuration (as domsecd -n would read it; errors as FILE:LINE, exit 78,
 * and nothing is sent) and then asks the running domsecd, found through
 * PidFile, to reload it (SIGHUP).  domsecd logs whether the reload took;
 * a configuration it refuses leaves the running one in place.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "domsec/config.h"
#include "domsec/verdict.h"

static void usage(FILE *to)
{
	fprintf(to, "usage: domsecctl reload [--config FILE]\n");
}

/* The pid in path, or -1 with err. */
static long read_pid(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char buf[32];
	char *end;
	long pid;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s (is domsecd running?)", path,
		    strerror(errno));
		return -1;
	}
	if (fgets(buf, sizeof buf, f) == NULL)
		buf[0] = '\0';
	fclose(f);
	pid = strtol(buf, &end, 10);
	if (pid <= 1 || (*end != '\n' && *end != '\0')) {
		snprintf(err, errlen, "%s: no process id in it", path);
		return -1;
	}
	return pid;
}

int cmd_reload(int argc, char **argv)
{
	const char *config = "/etc/domsec/domsec.conf";
	char err[1024];
	struct ds_config cfg;
	long pid;

	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) &&
		    i + 1 < argc) {
			config = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return DS_EXIT_OK;
		} else {
			usage(stderr);
			return DS_EXIT_USAGE;
		}
	}
	if (ds_config_load(config, &cfg, err, sizeof err) < 0) {
		fprintf(stderr, "domsecctl: not reloading: %s\n", err);
		return DS_EXIT_CONFIG;
	}
	if (cfg.pid_file == NULL || cfg.pid_file[0] == '\0') {
		fprintf(stderr, "domsecctl: %s sets no PidFile, so the running "
		    "domsecd cannot be found; use systemctl reload domsec, or "
		    "kill -HUP its process\n", config);
		ds_config_free(&cfg);
		return DS_EXIT_CONFIG;
	}
	pid = read_pid(cfg.pid_file, err, sizeof err);
	ds_config_free(&cfg);
	if (pid < 0) {
		fprintf(stderr, "domsecctl: %s\n", err);
		return DS_EXIT_FAIL;
	}
	if (kill((pid_t)pid, SIGHUP) != 0) {
		fprintf(stderr, "domsecctl: cannot signal domsecd (pid %ld): %s\n",
		    pid, strerror(errno));
		return DS_EXIT_FAIL;
	}
	printf("domsecd (pid %ld) is reloading %s; its log says whether the new "
	    "configuration took\n", pid, config);
	return DS_EXIT_OK;
}
