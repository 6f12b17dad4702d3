/*
 * fuzz_trust_headers.c - libFuzzer harness for lib/trust_headers.c: the
 * forged-header test ds_trust_header_is_ours and the Authentication-Results
 * authserv-id parser on arbitrary names and values.  Invariants: the
 * headers we write ourselves are always recognised as ours, and a value
 * that plainly starts with our authserv-id and ';' (after white space, as
 * an RFC 8601 reader sees it) is always removed.
 *
 * Input: flags octet, then authserv-id NUL header-name NUL value.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "domsec/trust_headers.h"

static const char *next_part(const char **p, const char *end)
{
	const char *s = *p, *z = memchr(s, '\0', (size_t)(end - s));
	*p = z ? z + 1 : end;
	return s;
}

/* What the configuration accepts as AuthservID, less the degenerate ids
 * made of dots only (see the report: "." is accepted but cannot work). */
static int valid_id(const char *s)
{
	int alnum = 0;
	if (*s == '\0' || strlen(s) > 400)
		return 0;
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) && strchr(".-_", *s) == NULL)
			return 0;
		alnum |= *s != '.';
	}
	return alnum;
}

/* A plain reading: optional white space, the id (one trailing dot
 * allowed), optional white space, ';'. */
static int plainly_ours(const char *value, const char *id)
{
	size_t n = strlen(id);
	while (*value == ' ' || *value == '\t')
		value++;
	if (n > 0 && id[n - 1] == '.')
		n--;
	if (n == 0 || strncasecmp(value, id, n) != 0)
		return 0;
	value += n;
	if (*value == '.')
		value++;
	while (*value == ' ' || *value == '\t')
		value++;
	return *value == ';';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, id_out[64], out[DS_HEADER_VALUE_MAX + 1];
	const char *p, *end, *id, *name, *value;
	struct ds_decision d;
	int flags;

	if (size < 1)
		return 0;
	flags = data[0];
	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	p = buf;
	end = buf + size - 1;
	id = next_part(&p, end);
	name = p < end ? next_part(&p, end) : "";
	value = p < end ? next_part(&p, end) : "";

	ds_auth_results_authserv_id(value, id_out, sizeof id_out);
	int ours = ds_trust_header_is_ours("X-Domain-Secured", id, flags & 1,
	    name, value);
	(void)ours;
	if (valid_id(id) && plainly_ours(value, id) &&
	    !ds_trust_header_is_ours("X-Domain-Secured", id, 0,
	    "Authentication-Results", value))
		abort();

	/* Our own values, with fuzzed contents, are always recognised. */
	if (valid_id(id)) {
		memset(&d, 0, sizeof d);
		d.verdict = DS_VERDICT_SECURED;
		snprintf(d.domain, sizeof d.domain, "%s", name);
		d.have_leaf = flags & 2;
		snprintf(d.leaf.subject, sizeof d.leaf.subject, "%s", value);
		snprintf(d.leaf.issuer, sizeof d.leaf.issuer, "%s", name);
		snprintf(d.leaf.fingerprint, sizeof d.leaf.fingerprint, "%s", "AB:CD");
		if (ds_auth_results_value(id, &d, flags & 4, out, sizeof out) == 0 &&
		    !ds_trust_header_is_ours("X-Domain-Secured", id, 0,
		    "authentication-results", out))
			abort();
		if (ds_trust_header_value(id, &d, value, out, sizeof out) == 0 &&
		    strpbrk(out, "\r\n") != NULL)
			abort();   /* one line, never folded */
		ds_quote_value(value, (size_t)flags, out, (size_t)flags % 8 + 1);
	}
	free(buf);
	return 0;
}
