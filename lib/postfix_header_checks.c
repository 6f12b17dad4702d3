/*
 * postfix_header_checks.c - the header_checks table of PostfixHeaderChecks
 * (see domsec/postfix_header_checks.h): regular expressions built from the
 * configured header name and authserv-id.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "domsec/fileio.h"
#include "domsec/postfix_header_checks.h"

/* Appends s to out at *o; -1 when it does not fit. */
static int put(char *out, size_t outlen, size_t *o, const char *s)
{
	size_t n = strlen(s);

	if (*o + n + 1 > outlen)
		return -1;
	memcpy(out + *o, s, n + 1);
	*o += n;
	return 0;
}

/* One character matched literally: letters and digits as they are, any
 * other in a bracket expression (only '.', '-' and '_' occur in the
 * names and ids the configuration accepts; ']', '^' and '\\' never). */
static int put_char(char *out, size_t outlen, size_t *o, char c)
{
	char lit[4] = { c, '\0', '\0', '\0' };

	if (!isalnum((unsigned char)c)) {
		lit[0] = '[';
		lit[1] = c;
		lit[2] = ']';
	}
	return put(out, outlen, o, lit);
}

static int header_name_rule(const char *name, char *out, size_t outlen)
{
	size_t o = 0;

	if (put(out, outlen, &o, "^") != 0)
		return -1;
	for (const char *p = name; *p != '\0'; p++)
		if (put_char(out, outlen, &o, *p) != 0)
			return -1;
	return put(out, outlen, &o, "[[:space:]]*:");
}

/* Authentication-Results whose value mentions id, each character
 * optionally preceded by a backslash (a quoted-pair). */
static int auth_results_rule(const char *id, char *out, size_t outlen)
{
	size_t o = 0, n = strlen(id);

	if (n > 0 && id[n - 1] == '.')
		n--;            /* "mx.example." and "mx.example" alike */
	if (put(out, outlen, &o, "^Authentication-Results[[:space:]]*:.*") != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (put(out, outlen, &o, "\\\\?") != 0 ||
		    put_char(out, outlen, &o, id[i]) != 0)
			return -1;
	return 0;
}

size_t ds_postfix_header_patterns(const struct ds_config *cfg,
    char pats[][1024], size_t max)
{
	size_t n = 0;

	if (n < max && cfg->header_name != NULL &&
	    cfg->header_name[0] != '\0' &&
	    header_name_rule(cfg->header_name, pats[n], 1024) == 0)
		n++;
	if (n < max && cfg->authserv_id != NULL &&
	    cfg->authserv_id[0] != '\0' &&
	    auth_results_rule(cfg->authserv_id, pats[n], 1024) == 0)
		n++;
	if (n < max && cfg->exchange_headers)
		snprintf(pats[n++], 1024, "^X-MS-Exchange-Organization-Auth");
	return n;
}

int ds_postfix_header_checks(const struct ds_config *cfg, char *out,
    size_t outlen)
{
	char pats[3][1024], line[1200];
	size_t n = ds_postfix_header_patterns(cfg, pats, 3), o = 0;
	int len;

	static const char head[] =
	    "# domsec's trust headers, removed by Postfix's cleanup from\n"
	    "# every message (SMTP and local submission) before any milter\n"
	    "# sees it (PostfixHeaderChecks).  Written by domsecctl\n"
	    "# postfix-config; run it again after changing HeaderName,\n"
	    "# AuthservID or ExchangeHeaders (domsecd checks that this file\n"
	    "# matches its configuration).\n";

	if (put(out, outlen, &o, head) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		len = snprintf(line, sizeof line, "/%s/ IGNORE\n", pats[i]);
		if (len < 0 || (size_t)len >= sizeof line ||
		    put(out, outlen, &o, line) != 0)
			return -1;
	}
	return (int)o;
}

int ds_postfix_header_checks_current(const struct ds_config *cfg, char *why,
    size_t whylen)
{
	char want[4096];
	unsigned char *have = NULL;
	size_t have_len = 0;
	int len, same;

	if (cfg->postfix_header_checks == NULL) {
		snprintf(why, whylen, "PostfixHeaderChecks is off");
		return 0;
	}
	len = ds_postfix_header_checks(cfg, want, sizeof want);
	if (len < 0) {
		snprintf(why, whylen, "the table does not fit");
		return 0;
	}
	if (ds_file_read(cfg->postfix_header_checks, &have, &have_len,
	    65536) != 0) {
		snprintf(why, whylen, "%s: %s", cfg->postfix_header_checks,
		    errno == ENOENT ? "missing" : "cannot read it");
		return 0;
	}
	same = have_len == (size_t)len && memcmp(have, want, have_len) == 0;
	free(have);
	if (!same)
		snprintf(why, whylen, "%s: not the table of this "
		    "configuration (HeaderName, AuthservID or ExchangeHeaders "
		    "changed since domsecctl postfix-config wrote it)",
		    cfg->postfix_header_checks);
	return same;
}
