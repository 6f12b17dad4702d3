/*
 * fuzz_names.c - libFuzzer harness for Exchange name matching (lib/names.c)
 * with the invariants of DESIGN.md section 4 checked independently:
 * a non-wildcard name N matches D only when N is D or exactly one label
 * followed by "." D; a wildcard "*.P" matches only when D is P or under P
 * and P has two labels or more; no other '*' ever matches.  In every case
 * the matched name ends with D's labels, or (wildcard) D ends with P's.
 *
 * Input: name NUL domain.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "domsec/names.h"

static void lower_strip(const char *s, char *out, size_t outlen)
{
	size_t n = strlen(s);
	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n >= outlen)
		n = outlen - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[n] = '\0';
}

/* 1 when s equals base or ends with "." base */
static int ends_with_labels(const char *s, const char *base)
{
	size_t ls = strlen(s), lb = strlen(base);
	if (ls == lb)
		return strcmp(s, base) == 0;
	return ls > lb && s[ls - lb - 1] == '.' && strcmp(s + ls - lb, base) == 0;
}

static size_t dots(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '.';
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), n[600], d[600];
	const char *name, *domain, *z;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	name = buf;
	z = memchr(buf, '\0', size);
	domain = z != NULL ? z + 1 : "";

	(void)ds_hostname_valid(name, 0);
	(void)ds_hostname_valid(name, 1);
	if (ds_name_matches(name, domain)) {
		lower_strip(name, n, sizeof n);
		lower_strip(domain, d, sizeof d);
		if (d[0] == '\0' || strchr(d, '*') != NULL)
			abort();                       /* D is never a pattern */
		if (!ds_hostname_valid(name, 1) || !ds_hostname_valid(domain, 0))
			abort();
		if (n[0] == '*') {
			const char *base = n + 2;
			if (n[1] != '.' || strchr(base, '*') != NULL)
				abort();
			if (dots(base) < 1 || !ends_with_labels(d, base))
				abort();
		} else {
			if (strchr(n, '*') != NULL)
				abort();
			if (!ends_with_labels(n, d))
				abort();
			/* at most one node deeper than D */
			if (dots(n) > dots(d) + 1)
				abort();
		}
	}
	free(buf);
	return 0;
}
