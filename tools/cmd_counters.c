/*
 * cmd_counters.c - `domsecctl counters`: prints the counters domsecd saves
 * in StateDir/counters ("name: value" lines, written atomically), aligned,
 * or as JSON with --json.  --file reads another file.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "commands.h"
#include "domsec/config.h"
#include "domsec/verdict.h"

static void usage(void)
{
	fprintf(stderr, "usage: domsecctl counters [--config FILE] [--file FILE] "
	    "[--json]\n");
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

int cmd_counters(int argc, char **argv)
{
	const char *config = "/etc/domsec/domsec.conf", *file = NULL;
	int json = 0, explicit_config = 0, first = 1;
	char path[4096], line[512], err[512];
	struct ds_config cfg;
	FILE *f;

	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) &&
		    i + 1 < argc) {
			config = argv[++i];
			explicit_config = 1;
		} else if (strcmp(argv[i], "--file") == 0 && i + 1 < argc) {
			file = argv[++i];
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--help") == 0) {
			fprintf(stdout, "usage: domsecctl counters [--config FILE] "
			    "[--file FILE] [--json]\n");
			return DS_EXIT_OK;
		} else {
			usage();
			return DS_EXIT_USAGE;
		}
	}
	if (file == NULL) {
		FILE *probe = fopen(config, "r");
		if (probe == NULL && !explicit_config) {
			/* No configuration file: the default StateDir. */
			ds_config_defaults(&cfg);
		} else {
			if (probe != NULL)
				fclose(probe);
			if (ds_config_load(config, &cfg, err, sizeof err) != 0) {
				fprintf(stderr, "domsecctl counters: %s\n", err);
				return DS_EXIT_CONFIG;
			}
		}
		snprintf(path, sizeof path, "%s/counters", cfg.state_dir ?
		    cfg.state_dir : "/var/lib/domsec");
		ds_config_free(&cfg);
		file = path;
	}
	f = fopen(file, "r");
	if (f == NULL) {
		fprintf(stderr, "domsecctl counters: cannot read %s: %s (domsecd "
		    "writes it while it runs)\n", file, strerror(errno));
		return DS_EXIT_FAIL;
	}
	if (json)
		printf("{");
	while (fgets(line, sizeof line, f) != NULL) {
		char *colon = strrchr(line, ':');
		unsigned long value;
		if (colon == NULL || sscanf(colon + 1, " %lu", &value) != 1)
			continue;
		*colon = '\0';
		if (json) {
			printf("%s\n  ", first ? "" : ",");
			json_string(line);
			printf(": %lu", value);
		} else {
			printf("%-45s %lu\n", line, value);
		}
		first = 0;
	}
	fclose(f);
	if (json)
		printf("\n}\n");
	return DS_EXIT_OK;
}
