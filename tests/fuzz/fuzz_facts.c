/*
 * fuzz_facts.c - libFuzzer harness for lib/facts.c: xtext decoding (output
 * never longer than the input, always terminated, no NUL inside) and
 * ds_address_domain (a domain it returns is lower case and made of domain
 * characters only).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "domsec/facts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1), out[512], tiny[4], dom[300];

	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';

	ds_xtext_decode(in, out, sizeof out);
	if (strlen(out) > strlen(in))
		abort();
	ds_xtext_decode(in, tiny, sizeof tiny);
	if (strlen(tiny) > 3)
		abort();
	/* in place */
	char *copy = strdup(in);
	if (copy != NULL) {
		ds_xtext_decode(copy, copy, strlen(copy) + 1);
		free(copy);
	}

	if (ds_address_domain(in, dom, sizeof dom) == 0) {
		for (const char *p = dom; *p; p++)
			if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) ||
			    strchr("-._[]:", *p) != NULL))
				abort();
	} else if (dom[0] != '\0') {
		abort();   /* a malformed address yields no domain */
	}
	ds_address_domain(in, tiny, sizeof tiny);
	free(in);
	return 0;
}
