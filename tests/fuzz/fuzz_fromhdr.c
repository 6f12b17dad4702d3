/*
 * fuzz_fromhdr.c - libFuzzer harness for the From header parser
 * (lib/fromhdr.c): at most DS_FROM_DOMAINS_MAX domains, each terminated
 * and lower case; a header that yields nothing, is longer than what is read,
 * or has more addresses than fit leaves a "" (which never aligns).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "domsec/fromhdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ds_from_domains out;
	char *value = malloc(size + 1);
	size_t n;

	if (value == NULL)
		return 0;
	memcpy(value, data, size);
	value[size] = '\0';
	memset(&out, 0x55, sizeof out);
	out.n = 0;
	n = ds_from_domains_parse(value, &out);
	if (n == 0 || n > DS_FROM_DOMAINS_MAX || out.n != n)
		abort();
	for (size_t i = 0; i < out.n; i++) {
		if (memchr(out.v[i], '\0', sizeof out.v[i]) == NULL)
			abort();
		for (const char *c = out.v[i]; *c; c++)
			if (isupper((unsigned char)*c) || *c == '@' || *c == ' ')
				abort();
	}
	/* a value longer than what is read never aligns */
	if (strlen(value) >= 4096) {
		int unreadable = 0;
		for (size_t i = 0; i < out.n; i++)
			unreadable |= out.v[i][0] == '\0';
		if (!unreadable)
			abort();
	}
	/* appending to a full list is safe, and poisons it */
	out.n = DS_FROM_DOMAINS_MAX;
	if (ds_from_domains_parse(value, &out) != 0 ||
	    out.v[DS_FROM_DOMAINS_MAX - 1][0] != '\0')
		abort();
	free(value);
	return 0;
}
