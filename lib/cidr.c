/*
 * cidr.c - IPv4 and IPv6 address ranges for TrustedRelays, and parsing of
 * client addresses in the forms MTAs report them.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include "domsec/cidr.h"

static const unsigned char v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

int ds_addr_parse(const char *s, int *family, unsigned char addr[16])
{
	char buf[128];
	size_t n;

	if (s == NULL)
		return -1;
	while (isspace((unsigned char)*s))
		s++;
	if (strncasecmp(s, "IPv6:", 5) == 0)
		s += 5;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n > 0 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *zone = strchr(buf, '%');
	if (zone != NULL)
		*zone = '\0';

	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, addr) == 1) {
		if (memcmp(addr, v4mapped_prefix, 12) == 0) {
			memmove(addr, addr + 12, 4);
			memset(addr + 4, 0, 12);
			*family = AF_INET;
		} else {
			*family = AF_INET6;
		}
		return 0;
	}
	return -1;
}

void ds_addr_canonical(const char *s, char *out, size_t outlen)
{
	unsigned char a[16];
	int family;
	char text[INET6_ADDRSTRLEN];

	if (outlen == 0)
		return;
	if (ds_addr_parse(s, &family, a) == 0 &&
	    inet_ntop(family, a, text, sizeof text) != NULL)
		snprintf(out, outlen, "%s", text);
	else
		snprintf(out, outlen, "%s", s ? s : "");
}

static void clear_host_bits(unsigned char *a, int bytes, int prefix)
{
	for (int i = 0; i < bytes; i++) {
		int bits = prefix - i * 8;
		if (bits >= 8)
			continue;
		if (bits <= 0)
			a[i] = 0;
		else
			a[i] &= (unsigned char)(0xff << (8 - bits));
	}
}

int ds_cidr_parse(const char *s, struct ds_cidr *out)
{
	char buf[160];
	const char *slash;
	int max, prefix;

	if (s == NULL || strlen(s) >= sizeof buf)
		return -1;
	snprintf(buf, sizeof buf, "%s", s);
	slash = strchr(buf, '/');
	if (slash != NULL)
		buf[slash - buf] = '\0';
	if (ds_addr_parse(buf, &out->family, out->addr) != 0)
		return -1;
	max = out->family == AF_INET ? 32 : 128;
	prefix = max;
	if (slash != NULL) {
		const char *p = s + (slash - buf) + 1;
		char *endp;
		long v;
		if (!isdigit((unsigned char)*p))
			return -1;
		errno = 0;
		v = strtol(p, &endp, 10);
		if (errno != 0 || *endp != '\0' || v < 0)
			return -1;
		/* "::ffff:10.0.0.0/104" written as IPv6 but parsed as IPv4. */
		if (out->family == AF_INET && v > 32 && strchr(buf, ':') != NULL) {
			/* below /96 it is no longer an IPv4-mapped range */
			if (v < 96)
				return -1;
			v -= 96;
		}
		if (v > max)
			return -1;
		prefix = (int)v;
	}
	out->prefix = prefix;
	clear_host_bits(out->addr, max / 8, prefix);
	return 0;
}

static int add_range(struct ds_cidr_list *l, const struct ds_cidr *c)
{
	struct ds_cidr *nv = realloc(l->v, (l->n + 1) * sizeof *nv);
	if (nv == NULL)
		return -1;
	l->v = nv;
	l->v[l->n++] = *c;
	return 0;
}

int ds_cidr_list_build(struct ds_cidr_list *l, const struct ds_strlist *entries,
    char *err, size_t errlen)
{
	l->v = NULL;
	l->n = 0;
	if (entries == NULL)
		return 0;
	for (size_t i = 0; i < entries->n; i++) {
		char *copy = strdup(entries->v[i]), *save = NULL, *tok;
		if (copy == NULL) {
			snprintf(err, errlen, "TrustedRelays: out of memory");
			ds_cidr_list_free(l);
			return -1;
		}
		for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
		    tok = strtok_r(NULL, ", \t", &save)) {
			struct ds_cidr c;
			if (ds_cidr_parse(tok, &c) != 0) {
				snprintf(err, errlen, "TrustedRelays: '%s' is not an "
				    "address or CIDR range (e.g. 192.0.2.0/24, "
				    "2001:db8::/32)", tok);
				free(copy);
				ds_cidr_list_free(l);
				return -1;
			}
			if (add_range(l, &c) != 0) {
				snprintf(err, errlen, "TrustedRelays: out of memory");
				free(copy);
				ds_cidr_list_free(l);
				return -1;
			}
		}
		free(copy);
	}
	return 0;
}

void ds_cidr_list_free(struct ds_cidr_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int in_range(const struct ds_cidr *c, int family, const unsigned char *a)
{
	unsigned char masked[16];
	int bytes;

	if (c->family != family)
		return 0;
	bytes = family == AF_INET ? 4 : 16;
	memcpy(masked, a, 16);
	clear_host_bits(masked, bytes, c->prefix);
	return memcmp(masked, c->addr, (size_t)bytes) == 0;
}

int ds_cidr_list_match(const struct ds_cidr_list *l, const char *addr)
{
	unsigned char a[16];
	int family;

	if (l == NULL || l->n == 0 || ds_addr_parse(addr, &family, a) != 0)
		return 0;
	for (size_t i = 0; i < l->n; i++)
		if (in_range(&l->v[i], family, a))
			return 1;
	return 0;
}
