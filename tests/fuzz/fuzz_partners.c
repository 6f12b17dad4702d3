/*
 * fuzz_partners.c - libFuzzer harness for the partner table loader
 * (lib/partners.c): the input is written to a temporary file and loaded;
 * a refusal must name "FILE:LINE:", a loaded table must answer lookups
 * and be freed without leaks.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "domsec/partners.h"

static char path[64];

static void remove_input(void)
{
	unlink(path);
}

static void write_input(const uint8_t *data, size_t size)
{
	FILE *f;

	if (path[0] == '\0') {
		snprintf(path, sizeof path, "/tmp/fuzz-partners.%ld", (long)getpid());
		atexit(remove_input);
	}
	f = fopen(path, "w");
	if (f == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ds_partner_table t = { 0 };
	char err[1024];

	write_input(data, size);
	if (ds_partners_load(path, &t, err, sizeof err) != 0) {
		if (strncmp(err, path, strlen(path)) != 0)
			abort();
		return 0;
	}
	for (size_t i = 0; i < t.n; i++) {
		const struct ds_partner *p = &t.v[i];
		char sub[300];
		if (p->domain == NULL || p->domain[0] == '\0')
			abort();
		if (!p->subdomains &&
		    ds_partners_lookup(&t, p->domain, p->direction) == NULL)
			abort();
		snprintf(sub, sizeof sub, "x.%s.", p->domain);
		(void)ds_partners_lookup(&t, sub, DS_DIR_RECEIVE);
		if (p->subdomains && !ds_partner_covers(p, sub))
			abort();
	}
	(void)ds_partners_lookup(&t, (const char *)"", DS_DIR_SEND);
	ds_partners_free(&t);
	return 0;
}
