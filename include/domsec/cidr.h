/*
 * cidr.h - address ranges ("192.0.2.0/24", "2001:db8::/32", or a single
 * address) for TrustedRelays, IPv4 and IPv6.  An IPv4-mapped IPv6 client
 * address (::ffff:192.0.2.1) matches IPv4 ranges.  Client addresses may come
 * as MTAs write them: "IPv6:2001:db8::1" (Sendmail), "[192.0.2.1]".
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_CIDR_H
#define DOMSEC_CIDR_H

#include <stddef.h>
#include "domsec/strlist.h"

struct ds_cidr {
	int family;               /* AF_INET or AF_INET6 */
	unsigned char addr[16];   /* network byte order, host bits cleared */
	int prefix;               /* 0..32 or 0..128 */
};

struct ds_cidr_list {
	struct ds_cidr *v;
	size_t n;
};

/* Parses one range; returns 0, or -1 when it is not an address or range. */
int ds_cidr_parse(const char *s, struct ds_cidr *out);

/*
 * Builds a list from entries, each of which may hold several ranges
 * separated by commas or white space.  Returns 0, or -1 with err naming the
 * bad entry ("TrustedRelays: '10.0.0.0/33' is not an address or CIDR range").
 */
int ds_cidr_list_build(struct ds_cidr_list *l, const struct ds_strlist *entries,
    char *err, size_t errlen);
void ds_cidr_list_free(struct ds_cidr_list *l);

/* 1 when addr (as an MTA reports it) lies in one of the ranges, else 0. */
int ds_cidr_list_match(const struct ds_cidr_list *l, const char *addr);

/*
 * Parses a client address as MTAs report it ("IPv6:" prefix, brackets,
 * "%zone" suffix tolerated).  IPv4-mapped IPv6 addresses become IPv4.
 * Returns 0 with *family and addr (4 or 16 bytes), -1 when not an address.
 */
int ds_addr_parse(const char *s, int *family, unsigned char addr[16]);

/* The canonical text form of a client address (inet_ntop of the parsed
 * address), or a copy of s when it does not parse.  Used as a map key. */
void ds_addr_canonical(const char *s, char *out, size_t outlen);

#endif
