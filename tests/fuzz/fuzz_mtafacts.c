/*
 * fuzz_mtafacts.c - libFuzzer harness for the milter macro translation
 * (milter/mtafacts.c, no libmilter needed): the input holds macro values
 * ("{name}=value" lines) served by a getter; the facts it produces stay
 * consistent and terminated, and merging policy facts is safe.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "milter/mtafacts.h"

struct macros {
	char *names[32];
	char *values[32];
	size_t n;
};

static const char *get(void *arg, const char *name)
{
	struct macros *m = arg;
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->names[i], name) == 0)
			return m->values[i];
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct macros m = { .n = 0 };
	struct ds_facts f, policy;
	char *buf = malloc(size + 1), *line, *save = NULL;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (line = strtok_r(buf, "\n", &save); line != NULL && m.n < 32;
	    line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		m.names[m.n] = line;
		m.values[m.n++] = eq + 1;
	}
	ds_facts_init(&f);
	ds_facts_from_macros(&f, get, &m);
	if (f.tls < -1 || f.tls > 1 || f.cipher_bits < 0 ||
	    memchr(f.tls_version, '\0', sizeof f.tls_version) == NULL ||
	    memchr(f.cert_subject, '\0', sizeof f.cert_subject) == NULL ||
	    (f.have_fp && f.cert_presented != 1))
		abort();
	ds_facts_init(&policy);
	ds_facts_from_macros(&policy, get, &m);
	ds_facts_merge_policy(&f, &policy);
	free(buf);
	return 0;
}
