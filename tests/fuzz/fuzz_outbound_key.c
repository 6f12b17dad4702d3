/*
 * fuzz_outbound_key.c - libFuzzer harness for socketmap lookup keys
 * (lib/outbound_key.c): a key that parses formats to a canonical text that
 * parses again to the same key (idempotent normalisation), in lower case.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "domsec/outbound.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ds_outbound_key k, k2;
	char *key = malloc(size + 1), text[400], tiny[5];

	if (key == NULL)
		return 0;
	memcpy(key, data, size);
	key[size] = '\0';
	if (ds_outbound_parse_key(key, &k) == 0) {
		if (k.host[0] == '\0' || k.port < 0 || k.port > 65535)
			abort();
		for (const char *c = k.host; *c; c++)
			if (isupper((unsigned char)*c))
				abort();
		ds_outbound_key_format(&k, text, sizeof text);
		if (ds_outbound_parse_key(text, &k2) != 0 ||
		    memcmp(&k, &k2, sizeof k) != 0)
			abort();
		ds_outbound_key_format(&k, tiny, sizeof tiny);
	}
	free(key);
	return 0;
}
