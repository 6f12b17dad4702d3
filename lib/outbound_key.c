/*
 * outbound_key.c - the lookup keys Postfix sends to the TLS policy and
 * transport maps ("example.com", "[mx.example.com]:25", ".example.com",
 * ...): taken apart and written back in canonical form.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "domsec/outbound.h"

static int host_char_ok(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_' ||
	    c == ':' || c == '*';
}

static int parse_port(const char *s, size_t n, int *port)
{
	long v = 0;

	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

int ds_outbound_parse_key(const char *key, struct ds_outbound_key *out)
{
	const char *start, *end, *host, *host_end;
	size_t hl;

	memset(out, 0, sizeof *out);
	if (key == NULL)
		return -1;
	start = key;
	while (*start == ' ' || *start == '\t')
		start++;
	end = start + strlen(start);
	while (end > start && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r' || end[-1] == '\n'))
		end--;
	if (start == end)
		return -1;
	if (*start == '[') {
		const char *close = memchr(start, ']', (size_t)(end - start));

		if (close == NULL)
			return -1;
		host = start + 1;
		host_end = close;
		out->literal = 1;
		if (close + 1 < end) {
			if (close[1] != ':' ||
			    parse_port(close + 2, (size_t)(end - close - 2), &out->port) != 0)
				return -1;
		}
	} else {
		const char *colon = memchr(start, ':', (size_t)(end - start));

		host = start;
		host_end = end;
		if (colon != NULL) {
			/* "host:port"; a bare IPv6 address has more than one ':'
			 * and is not a key Postfix sends without brackets. */
			if (memchr(colon + 1, ':', (size_t)(end - colon - 1)) != NULL)
				return -1;
			if (parse_port(colon + 1, (size_t)(end - colon - 1), &out->port) != 0)
				return -1;
			host_end = colon;
		}
		if (*host == '.') {
			out->parent = 1;
			host++;
		}
	}
	if (host_end > host && host_end[-1] == '.')
		host_end--;
	hl = (size_t)(host_end - host);
	if (hl == 0 || hl >= sizeof out->host)
		return -1;
	for (size_t i = 0; i < hl; i++) {
		if (!host_char_ok(host[i]))
			return -1;
		out->host[i] = (char)tolower((unsigned char)host[i]);
	}
	out->host[hl] = '\0';
	if (!out->literal && strchr(out->host, ':') != NULL)
		return -1;
	/* No empty label: "a..b", "..a" or "a.." (one trailing dot is gone
	 * already) would not format back to the same key. */
	if (out->host[0] == '.' || out->host[hl - 1] == '.' ||
	    strstr(out->host, "..") != NULL)
		return -1;
	return 0;
}

void ds_outbound_key_format(const struct ds_outbound_key *k, char *out,
    size_t outlen)
{
	if (k->literal && k->port)
		snprintf(out, outlen, "[%s]:%d", k->host, k->port);
	else if (k->literal)
		snprintf(out, outlen, "[%s]", k->host);
	else if (k->port)
		snprintf(out, outlen, "%s%s:%d", k->parent ? "." : "", k->host, k->port);
	else
		snprintf(out, outlen, "%s%s", k->parent ? "." : "", k->host);
}
