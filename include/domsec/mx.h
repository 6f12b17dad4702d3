/*
 * mx.h - where mail for a domain goes (RFC 5321 section 5.1): its MX hosts
 * in preference order, or, when it has no MX records, the domain itself as
 * an implicit MX; each host resolved to its IPv4 and IPv6 addresses.  A null
 * MX (RFC 7505, "MX 0 .") means the domain takes no mail.
 *
 * Lookups use the system resolver (/etc/resolv.conf) unless a struct
 * ds_resolver names one name server (the tests use this to ask their own DNS
 * server on a loopback port).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_MX_H
#define DOMSEC_MX_H

#include <stddef.h>

struct ds_resolver {
	char server[64];      /* numeric IPv4 address; "" = system resolver */
	int port;             /* 0 = 53 */
	int timeout_s;        /* per try; 0 = resolver default */
	int tries;            /* 0 = resolver default */
};

#define DS_MX_MAX_HOSTS 16
#define DS_MX_MAX_ADDRS 8
#define DS_ADDR_TEXT_LEN 46   /* INET6_ADDRSTRLEN */

struct ds_mx_host {
	char name[256];       /* lower case, no trailing dot */
	int preference;       /* -1 for an implicit MX (the domain itself) */
	char addrs[DS_MX_MAX_ADDRS][DS_ADDR_TEXT_LEN]; /* numeric, IPv4 first */
	size_t n_addrs;
	int addr_temporary;   /* 1 when an address lookup failed temporarily */
	char addr_error[384]; /* why n_addrs is 0, in words */
};

enum ds_mx_status {
	DS_MX_OK = 0,         /* hosts[] holds at least one host with addresses */
	DS_MX_TEMPORARY,      /* DNS failure that may go away (SERVFAIL, timeout) */
	DS_MX_NO_DOMAIN,      /* NXDOMAIN, or no MX and no address records */
	DS_MX_NULL_MX,        /* the domain publishes "MX 0 ." */
	DS_MX_NO_ADDRESS      /* MX hosts exist, but none has an address */
};

struct ds_mx_result {
	enum ds_mx_status status;
	char error[512];      /* in words when status != DS_MX_OK */
	struct ds_mx_host hosts[DS_MX_MAX_HOSTS];
	size_t n_hosts;
};

/*
 * Finds the mail hosts of domain (MX, falling back to the domain's own
 * A/AAAA) and their addresses.  r may be NULL (system resolver).  Returns 0
 * with out->status set (never -1 except for bad arguments).
 */
int ds_mx_lookup(const char *domain, const struct ds_resolver *r,
    struct ds_mx_result *out);

/*
 * Resolves one host name (or copies a numeric address) into host->addrs,
 * without MX processing (Postfix "[host]" next hops).  Returns 0 when at least
 * one address was found, -1 otherwise (host->addr_error, addr_temporary).
 */
int ds_host_addresses(const char *name, const struct ds_resolver *r,
    struct ds_mx_host *host);

/*
 * Parses the answer section of a DNS response to an MX query for domain,
 * appending the targets to out->hosts sorted by preference (ties keep answer
 * order), lower-cased, without addresses.  Returns the number of MX records
 * found, -1 when the message is malformed, -2 for a null MX.
 */
int ds_mx_parse_answer(const unsigned char *msg, int len,
    struct ds_mx_result *out);

const char *ds_mx_status_name(enum ds_mx_status s);

#endif
