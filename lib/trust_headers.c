/*
 * trust_headers.c - the values of the headers domsec adds to a Domain
 * Secured message (its own header and Authentication-Results), and the test
 * that decides whether a header arriving from outside is a forged copy of
 * one of them.  Formats are documented in include/domsec/trust_headers.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "domsec/trust_headers.h"

size_t ds_quote_value(const char *s, size_t max_chars, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0, used = 0;
	int cut = 0;

	if (outlen < 3) {
		if (outlen > 0)
			out[0] = '\0';
		return 0;
	}
	out[o++] = '"';
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char piece[4];
		size_t plen;
		if (c == '"' || c == '\\') {
			piece[0] = '\\';
			piece[1] = (char)c;
			plen = 2;
		} else if (c < 0x20 || c > 0x7e) {
			piece[0] = '\\';
			piece[1] = hex[c >> 4];
			piece[2] = hex[c & 15];
			plen = 3;
		} else {
			piece[0] = (char)c;
			plen = 1;
		}
		/* Room for the piece, "...", the closing quote and NUL. */
		if (used + plen > max_chars || o + plen + 5 > outlen) {
			cut = 1;
			break;
		}
		memcpy(out + o, piece, plen);
		o += plen;
		used += plen;
	}
	if (cut && o + 5 <= outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '"';
	out[o] = '\0';
	return o;
}

/* Appends formatted text; returns -1 once out is full. */
static int append(char *out, size_t outlen, size_t *pos, const char *text)
{
	size_t n = strlen(text);

	if (*pos + n + 1 > outlen)
		return -1;
	memcpy(out + *pos, text, n + 1);
	*pos += n;
	return 0;
}

/* Keeps only characters that are safe in an unquoted header token. */
static void token_copy(const char *s, char *out, size_t outlen)
{
	size_t o = 0;

	for (; s != NULL && *s != '\0' && o + 1 < outlen; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || strchr(".-_:+/", c) != NULL)
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

int ds_trust_header_value(const char *authserv_id, const struct ds_decision *d,
    const char *tls_version, char *out, size_t outlen)
{
	char id[256], dom[256], tok[128], q[400];
	size_t pos = 0;
	int bad = 0;

	if (outlen == 0)
		return -1;
	if (outlen > DS_HEADER_VALUE_MAX + 1)
		outlen = DS_HEADER_VALUE_MAX + 1;
	out[0] = '\0';
	token_copy(authserv_id, id, sizeof id);
	token_copy(d->domain, dom, sizeof dom);
	bad |= append(out, outlen, &pos, id);
	bad |= append(out, outlen, &pos, "; domain=");
	bad |= append(out, outlen, &pos, dom);
	bad |= append(out, outlen, &pos, "; result=");
	bad |= append(out, outlen, &pos, ds_verdict_name(d->verdict));
	if (d->have_leaf) {
		ds_quote_value(d->leaf.subject, 250, q, sizeof q);
		bad |= append(out, outlen, &pos, "; subject=");
		bad |= append(out, outlen, &pos, q);
		ds_quote_value(d->leaf.issuer, 250, q, sizeof q);
		bad |= append(out, outlen, &pos, "; issuer=");
		bad |= append(out, outlen, &pos, q);
		bad |= append(out, outlen, &pos, "; fingerprint=");
		bad |= append(out, outlen, &pos, d->leaf.fingerprint);
	}
	token_copy(tls_version, tok, sizeof tok);
	if (tok[0] != '\0') {
		bad |= append(out, outlen, &pos, "; tls=");
		bad |= append(out, outlen, &pos, tok);
	}
	return bad ? -1 : 0;
}

int ds_auth_results_value(const char *authserv_id, const struct ds_decision *d,
    int null_sender, char *out, size_t outlen)
{
	char id[256], dom[256], hexfp[80];
	size_t pos = 0, h = 0;
	int bad = 0;

	if (outlen == 0)
		return -1;
	if (outlen > DS_HEADER_VALUE_MAX + 1)
		outlen = DS_HEADER_VALUE_MAX + 1;
	out[0] = '\0';
	token_copy(authserv_id, id, sizeof id);
	token_copy(d->domain, dom, sizeof dom);
	bad |= append(out, outlen, &pos, id);
	bad |= append(out, outlen, &pos, "; x-domainsecurity=");
	bad |= append(out, outlen, &pos,
	    d->verdict == DS_VERDICT_SECURED ? "pass" : "fail");
	bad |= append(out, outlen, &pos, " (client certificate verified for ");
	bad |= append(out, outlen, &pos, dom);
	bad |= append(out, outlen, &pos, null_sender ? ") header.from=" :
	    ") smtp.mailfrom=");
	bad |= append(out, outlen, &pos, dom);
	if (d->have_leaf) {
		for (const char *p = d->leaf.fingerprint; *p && h + 1 < sizeof hexfp; p++)
			if (*p != ':')
				hexfp[h++] = *p;
		hexfp[h] = '\0';
		bad |= append(out, outlen, &pos, " policy.cert-sha256=");
		bad |= append(out, outlen, &pos, hexfp);
	}
	return bad ? -1 : 0;
}

/* Skips white space (folding included) and comments; NULL when a comment
 * does not close. */
static const char *skip_cfws(const char *p)
{
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			return p;
		int depth = 0;
		for (; *p != '\0'; p++) {
			if (*p == '\\' && p[1] != '\0') {
				p++;
				continue;
			}
			if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0) {
				p++;
				break;
			}
		}
		if (depth > 0)
			return NULL;
	}
}

static int token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* An authserv-id is an RFC 2045 token or quoted string; '/' is accepted
 * in the token too so that a sloppy id is still recognised. */
static int id_char(unsigned char c)
{
	return token_char(c) || c == '/';
}

int ds_auth_results_authserv_id(const char *value, char *out, size_t outlen)
{
	const char *p;
	size_t o = 0;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	if (value == NULL)
		return -1;
	p = skip_cfws(value);
	if (p == NULL)
		return -1;
	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (*p == '\0') {
				out[0] = '\0';
				return -1;
			}
			if (*p == '\\' && p[1] != '\0')
				p++;
			if (o + 1 < outlen)
				out[o++] = *p;
		}
		p++;
		out[o] = '\0';
	} else {
		while (id_char((unsigned char)*p)) {
			if (o + 1 < outlen)
				out[o++] = *p;
			p++;
		}
		out[o] = '\0';
	}
	if (out[0] == '\0')
		return -1;
	p = skip_cfws(p);
	if (p == NULL)
		return -1;
	if (isdigit((unsigned char)*p)) {          /* authres-version */
		while (isdigit((unsigned char)*p))
			p++;
		p = skip_cfws(p);
		if (p == NULL)
			return -1;
	}
	return *p == ';' ? 0 : -1;
}

/* Case-insensitive equality ignoring one trailing dot on either side. */
static int same_id(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la > 0 && la == lb && strncasecmp(a, b, la) == 0;
}

static int contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0)
		return 0;
	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

static int name_is(const char *name, const char *want)
{
	size_t n;

	while (*name == ' ' || *name == '\t')
		name++;
	n = strlen(want);
	if (strncasecmp(name, want, n) != 0)
		return 0;
	for (name += n; *name != '\0'; name++)
		if (*name != ' ' && *name != '\t')
			return 0;
	return 1;
}

int ds_trust_header_is_ours(const char *our_header, const char *authserv_id,
    int exchange_headers, const char *name, const char *value)
{
	char id[256];

	if (name == NULL)
		return 0;
	if (value == NULL)
		value = "";
	if (our_header != NULL && our_header[0] != '\0' && name_is(name, our_header))
		return 1;
	if (name_is(name, "Authentication-Results") && authserv_id != NULL &&
	    authserv_id[0] != '\0') {
		char ours[256];
		size_t n;
		snprintf(ours, sizeof ours, "%s", authserv_id);
		n = strlen(ours);   /* not authserv_id's: it may have been cut */
		if (n > 0 && ours[n - 1] == '.')
			ours[n - 1] = '\0';
		if (ds_auth_results_authserv_id(value, id, sizeof id) == 0) {
			/* An id that filled the buffer may have been cut: a
			 * forged copy of a long id of ours must still go. */
			if (strlen(id) == sizeof id - 1)
				return strncasecmp(id, authserv_id, sizeof id - 1) == 0;
			return same_id(id, authserv_id);
		}
		/* Unparseable: remove it when it could be read as ours. */
		return same_id(id, authserv_id) || contains_nocase(value, ours);
	}
	if (exchange_headers) {
		const char *p = name;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, "X-MS-Exchange-Organization-Auth", 31) == 0)
			return 1;
	}
	return 0;
}
