/*
 * fuzz_config.c - libFuzzer harness for the main configuration reader
 * (lib/config.c, config_keys.c, config_values.c): the input is written to
 * a temporary file and loaded; a refusal names the file, a loaded
 * configuration is freed without leaks.  Also feeds the value parsers
 * (durations, sizes, booleans, sockets, CIDRs, proxies, tokens) directly.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "domsec/config.h"
#include "lib/config_internal.h"

static char path[64];

static void remove_input(void)
{
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ds_config cfg;
	char err[1024], *s;
	FILE *f;
	long v;
	int b;

	if (path[0] == '\0') {
		snprintf(path, sizeof path, "/tmp/fuzz-config.%ld.conf", (long)getpid());
		atexit(remove_input);
	}
	f = fopen(path, "w");
	if (f == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	memset(&cfg, 0, sizeof cfg);
	if (ds_config_load(path, &cfg, err, sizeof err) == 0)
		ds_config_free(&cfg);
	else if (err[0] == '\0')
		abort();

	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (ds_parse_duration_ms(s, &v) == 0 && v < 0)
		abort();
	if (ds_parse_size(s, &v) == 0 && v < 0)
		abort();
	ds_parse_bool(s, &b);
	ds_config_check_socket(s);
	ds_config_check_cidr(s);
	ds_config_check_proxy(s);
	ds_config_check_token(s, ".-_");
	ds_config_check_header_name(s);
	ds_config_parse_log_level(s, &b);
	free(s);
	return 0;
}
