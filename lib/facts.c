/*
 * facts.c - session facts: initialisation, xtext decoding (the encoding
 * Postfix policy attributes and Sendmail macros use for certificate names)
 * and the domain of an envelope or header address.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <ctype.h>
#include <string.h>
#include "domsec/facts.h"
#include "domsec/hex.h"

void ds_facts_init(struct ds_facts *f)
{
	memset(f, 0, sizeof *f);
	f->client_port = -1;
	f->tls = -1;
	f->cert_presented = -1;
	f->mta_verified = -1;
	f->have_fp = 0;
	f->cipher_bits = 0;
}

/*
 * RFC 3461 xtext: "+XX" stands for the byte 0xXX.  A "+" not followed by two
 * hex digits is copied literally.  The output never grows, so in == out
 * works; it is truncated to outlen - 1 bytes and always NUL-terminated.
 */
void ds_xtext_decode(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	if (out == NULL || outlen == 0)
		return;
	if (in == NULL) {
		out[0] = '\0';
		return;
	}
	for (size_t i = 0; in[i] != '\0' && o + 1 < outlen; ) {
		if (in[i] == '+' && in[i + 1] != '\0' && in[i + 2] != '\0') {
			int hi = ds_hex_value((unsigned char)in[i + 1]);
			int lo = ds_hex_value((unsigned char)in[i + 2]);
			if (hi >= 0 && lo >= 0) {
				int c = hi * 16 + lo;
				/* A decoded NUL would end the string early. */
				out[o++] = c == 0 ? '?' : (char)c;
				i += 3;
				continue;
			}
		}
		out[o++] = in[i++];
	}
	out[o] = '\0';
}

/* Index of the first c in s[from..to) outside quoted strings and comments,
 * or -1.  Sets *bad when quotes or comments do not close. */
static long find_unquoted(const char *s, size_t from, size_t to, char c, int *bad)
{
	int in_quote = 0, depth = 0;

	for (size_t i = from; i < to; i++) {
		if (s[i] == '\\' && (in_quote || depth > 0)) {
			if (i + 1 < to)
				i++;
			continue;
		}
		if (in_quote) {
			if (s[i] == '"')
				in_quote = 0;
			continue;
		}
		if (depth > 0) {
			if (s[i] == '(')
				depth++;
			else if (s[i] == ')')
				depth--;
			continue;
		}
		if (s[i] == c)
			return (long)i;
		if (s[i] == '"')
			in_quote = 1;
		else if (s[i] == '(')
			depth = 1;
	}
	if (in_quote || depth > 0)
		*bad = 1;
	return -1;
}

/* Last c in s[from..to) outside quoted strings and comments, or -1. */
static long find_last_unquoted(const char *s, size_t from, size_t to, char c,
    int *bad)
{
	long last = -1, at;
	size_t pos = from;

	while (pos < to && (at = find_unquoted(s, pos, to, c, bad)) >= 0) {
		last = at;
		pos = (size_t)at + 1;
	}
	return last;
}

static int domain_char_ok(int c, int literal)
{
	if (isalnum(c) || c == '-' || c == '.' || c == '_')
		return 1;
	if (literal && (c == '[' || c == ']' || c == ':'))
		return 1;
	return 0;
}

/*
 * Accepts "user@example.com", "<user@example.com>", "Name <user@example>",
 * "<@relay1,@relay2:user@example.com>" (source route), "\"a@b\"@example.com"
 * (quoted local part), "user@example.com." (one trailing dot dropped).
 * "<>" and "" are the null sender: out = "", returns 0.  An address without
 * a domain ("postmaster") gives "" and 0.
 */
int ds_address_domain(const char *addr, char *out, size_t outlen)
{
	size_t start = 0, end, n;
	long lt, gt, at, colon;
	int bad = 0, literal;

	if (out == NULL || outlen == 0)
		return -1;
	out[0] = '\0';
	if (addr == NULL)
		return 0;
	end = strlen(addr);

	/* Angle address, if any (outside quoted display names). */
	lt = find_unquoted(addr, 0, end, '<', &bad);
	if (bad)
		return -1;
	if (lt >= 0) {
		gt = find_unquoted(addr, (size_t)lt + 1, end, '>', &bad);
		if (gt < 0 || bad)
			return -1;
		start = (size_t)lt + 1;
		end = (size_t)gt;
	}
	while (start < end && isspace((unsigned char)addr[start]))
		start++;
	while (end > start && isspace((unsigned char)addr[end - 1]))
		end--;
	if (start == end)
		return 0;                        /* null sender */

	/* Source route "@a,@b:user@domain". */
	if (addr[start] == '@') {
		colon = find_unquoted(addr, start, end, ':', &bad);
		if (colon < 0 || bad)
			return -1;
		start = (size_t)colon + 1;
	}

	at = find_last_unquoted(addr, start, end, '@', &bad);
	if (bad)
		return -1;
	if (at < 0)
		return 0;                        /* no domain part */
	start = (size_t)at + 1;
	/* A trailing comment: "joe@example.com (Joe)". */
	for (size_t i = start; i < end; i++) {
		if (addr[i] == '(') {
			end = i;
			break;
		}
	}
	while (start < end && isspace((unsigned char)addr[start]))
		start++;
	while (end > start && isspace((unsigned char)addr[end - 1]))
		end--;
	if (end > start && addr[end - 1] == '.')
		end--;
	if (start == end)
		return -1;                       /* "user@" */
	n = end - start;
	if (n >= outlen || n > 255)
		return -1;
	literal = addr[start] == '[';
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)addr[start + i];
		if (!domain_char_ok(c, literal)) {
			out[0] = '\0';
			return -1;
		}
		out[i] = (char)tolower(c);
	}
	out[n] = '\0';
	if (out[0] == '.' || strstr(out, "..") != NULL) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}
