/*
 * verdict.c - verdict names, SMTP replies and exit statuses (DESIGN.md §4).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <string.h>
#include "domsec/verdict.h"

static const char *const verdict_names[DS_VERDICT_COUNT] = {
	[DS_VERDICT_SECURED] = "secured",
	[DS_VERDICT_NO_TLS] = "no-tls",
	[DS_VERDICT_NO_CERTIFICATE] = "no-certificate",
	[DS_VERDICT_UNTRUSTED] = "untrusted",
	[DS_VERDICT_NAME_MISMATCH] = "name-mismatch",
	[DS_VERDICT_REVOKED] = "revoked",
	[DS_VERDICT_REVOCATION_UNAVAILABLE] = "revocation-unavailable",
	[DS_VERDICT_UNKNOWN_CERTIFICATE] = "unknown-certificate",
	[DS_VERDICT_UNALIGNED] = "unaligned",
};

const char *ds_verdict_name(enum ds_verdict v)
{
	if ((unsigned)v >= DS_VERDICT_COUNT)
		return "invalid";
	return verdict_names[v];
}

int ds_verdict_parse(const char *name, enum ds_verdict *out)
{
	for (int i = 0; i < DS_VERDICT_COUNT; i++) {
		if (strcmp(name, verdict_names[i]) == 0) {
			*out = (enum ds_verdict)i;
			return 0;
		}
	}
	return -1;
}

int ds_verdict_is_temporary(enum ds_verdict v)
{
	return v == DS_VERDICT_REVOCATION_UNAVAILABLE ||
	    v == DS_VERDICT_UNKNOWN_CERTIFICATE;
}

int ds_verdict_accepts(enum ds_verdict v)
{
	return v == DS_VERDICT_SECURED || v == DS_VERDICT_UNALIGNED;
}

/* Cuts text to at most max bytes at a word boundary, ending in "...". */
static void cut_at_word(char *text, size_t max)
{
	size_t n = strlen(text), end;

	if (n <= max || max < 8)
		return;
	end = max - 3;
	while (end > max / 2 && text[end] != ' ')
		end--;
	if (text[end] != ' ')
		end = max - 3;          /* one long word: cut inside it */
	while (end > 0 && (text[end - 1] == ' ' || text[end - 1] == ',' ||
	    text[end - 1] == ';' || text[end - 1] == ':'))
		end--;
	memcpy(text + end, "...", 4);
}

int ds_verdict_reply(enum ds_verdict v, const char *domain, const char *reason,
    struct ds_reply *out)
{
	const char *rcode, *xcode, *what;
	char text[1024];
	int detail = 1;   /* the reason adds to what the verdict says */

	switch (v) {
	case DS_VERDICT_NO_TLS:
		rcode = "530"; xcode = "5.7.0";
		what = "requires TLS: the session was not encrypted";
		detail = 0;
		break;
	case DS_VERDICT_NO_CERTIFICATE:
		rcode = "550"; xcode = "5.7.1";
		what = "requires a TLS client certificate: none was presented";
		detail = 0;
		break;
	case DS_VERDICT_UNTRUSTED:
		rcode = "550"; xcode = "5.7.1";
		what = "certificate not trusted";
		break;
	case DS_VERDICT_NAME_MISMATCH:
		rcode = "550"; xcode = "5.7.1";
		what = "certificate names do not match the domain";
		break;
	case DS_VERDICT_REVOKED:
		rcode = "550"; xcode = "5.7.1";
		what = "certificate revoked";
		break;
	case DS_VERDICT_REVOCATION_UNAVAILABLE:
		rcode = "451"; xcode = "4.7.5";
		what = "certificate revocation status unavailable, try again later";
		break;
	case DS_VERDICT_UNKNOWN_CERTIFICATE:
		rcode = "451"; xcode = "4.7.5";
		what = "full client certificate not available for revocation "
		    "check, try again later";
		break;
	default:
		return 1;
	}
	memcpy(out->rcode, rcode, 4);
	snprintf(out->xcode, sizeof out->xcode, "%s", xcode);
	if (detail && reason != NULL && reason[0] != '\0')
		snprintf(text, sizeof text, "Domain Security for %s: %s (%s)",
		    domain ? domain : "?", what, reason);
	else
		snprintf(text, sizeof text, "Domain Security for %s: %s",
		    domain ? domain : "?", what);
	/* Front ends send at most DS_REPLY_TEXT_MAX bytes: cut here, between
	 * words, rather than mid-word there. */
	cut_at_word(text, DS_REPLY_TEXT_MAX);
	size_t n = strlen(text);
	if (n >= sizeof out->text)
		n = sizeof out->text - 1;
	memcpy(out->text, text, n);
	out->text[n] = '\0';
	/* SMTP replies must not carry CR/LF or non-printable bytes. */
	for (char *p = out->text; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	return 0;
}

int ds_verdict_exit_status(enum ds_verdict v)
{
	switch (v) {
	case DS_VERDICT_SECURED:
		return DS_EXIT_OK;
	case DS_VERDICT_REVOCATION_UNAVAILABLE:
	case DS_VERDICT_UNKNOWN_CERTIFICATE:
		return DS_EXIT_TEMPFAIL;
	default:
		return DS_EXIT_FAIL;
	}
}
