/*
 * cmd_counters.c - `domsecctl counters`: prints the counters domsecd saves
 * in StateDir/counters ("name: value" lines, written atomically), aligned;
 * as JSON with machine keys (--json, --format json); or as Prometheus text
 * (--format prometheus: StateDir/metrics.prom, which domsecd writes with
 * the gauges too, else rendered from the counters).  --file reads another
 * counters file.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "commands.h"
#include "domsec/config.h"
#include "domsec/counters.h"
#include "domsec/metrics.h"
#include "domsec/verdict.h"

static void usage(FILE *to)
{
	fprintf(to, "usage: domsecctl counters [--config FILE] [--file FILE] "
	    "[--json | --format text|json|prometheus]\n");
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

struct json_partner {
	int first;
	char last[256];
};

static void json_partner(const char *partner, enum ds_verdict v,
    unsigned long n, void *arg)
{
	struct json_partner *j = arg;

	if (strcmp(j->last, partner) != 0) {
		printf("%s\n    ", j->first ? "" : "\n    },");
		json_string(partner);
		printf(": {");
		snprintf(j->last, sizeof j->last, "%s", partner);
		j->first = 0;
		printf("\n      \"%s\": %lu", ds_verdict_name(v), n);
		return;
	}
	printf(",\n      \"%s\": %lu", ds_verdict_name(v), n);
}

/* JSON with machine keys: the counters, then "partners": {partner:
 * {verdict: n}}. */
static void print_json(void)
{
	struct json_partner j = { 1, "" };

	printf("{");
	for (int c = 0; c < DS_COUNTERS; c++)
		printf("%s\n  \"%s\": %lu", c ? "," : "",
		    ds_counter_key((enum ds_counter)c),
		    ds_counter_get((enum ds_counter)c));
	printf(",\n  \"partners\": {");
	ds_counter_partner_foreach(json_partner, &j);
	printf("%s\n  }\n}\n", j.first ? "" : "\n    }");
}

static void text_partner(const char *partner, enum ds_verdict v,
    unsigned long n, void *arg)
{
	char name[400];

	(void)arg;
	snprintf(name, sizeof name, "partner %s verdict %s", partner,
	    ds_verdict_name(v));
	printf("%-45s %lu\n", name, n);
}

/* The Prometheus text domsecd saved, or one rendered from counters. */
static int print_prometheus(const char *counters_file)
{
	char path[4200], buf[8192];
	FILE *f = NULL;
	size_t n;

	if (ds_metrics_path(counters_file, path, sizeof path) == 0)
		f = fopen(path, "r");
	if (f == NULL)
		return ds_metrics_write(stdout, NULL, time(NULL)) == 0 ?
		    DS_EXIT_OK : DS_EXIT_FAIL;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
	return DS_EXIT_OK;
}

int cmd_counters(int argc, char **argv)
{
	const char *config = "/etc/domsec/domsec.conf", *file = NULL;
	const char *format = "text";
	int explicit_config = 0;
	char path[4096], err[512];
	struct ds_config cfg;

	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) &&
		    i + 1 < argc) {
			config = argv[++i];
			explicit_config = 1;
		} else if (strcmp(argv[i], "--file") == 0 && i + 1 < argc) {
			file = argv[++i];
		} else if (strcmp(argv[i], "--json") == 0) {
			format = "json";
		} else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
			format = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return DS_EXIT_OK;
		} else {
			usage(stderr);
			return DS_EXIT_USAGE;
		}
	}
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0 &&
	    strcmp(format, "prometheus") != 0) {
		usage(stderr);
		return DS_EXIT_USAGE;
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
	if (access(file, R_OK) != 0 || ds_counters_load(file) != 0) {
		fprintf(stderr, "domsecctl counters: cannot read %s: %s (domsecd "
		    "writes it while it runs; StateDir is readable by the group "
		    "domsec)\n", file, strerror(errno));
		return DS_EXIT_FAIL;
	}
	if (strcmp(format, "prometheus") == 0)
		return print_prometheus(file);
	if (strcmp(format, "json") == 0) {
		print_json();
		return DS_EXIT_OK;
	}
	for (int c = 0; c < DS_COUNTERS; c++)
		printf("%-45s %lu\n", ds_counter_name((enum ds_counter)c),
		    ds_counter_get((enum ds_counter)c));
	ds_counter_partner_foreach(text_partner, NULL);
	return DS_EXIT_OK;
}
