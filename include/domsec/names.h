/*
 * names.h - Exchange Domain Security name matching (DESIGN.md section 4).
 *
 * A certificate's DNS names are its dNSName SANs and its subject CNs that are
 * valid ASCII host names.  A name N matches domain D when, compared
 * case-insensitively after removing one trailing dot:
 *   N == D; or N == "*." P where D is P or any subdomain of P, and P has
 *   at least two labels and is not a public suffix (libpsl, ICANN and
 *   private sections) (a wildcard covers its domain and all its
 *   subdomains, as the whitepaper says); or N is exactly one label
 *   followed by "." D (one node deep).
 * Only a whole leftmost "*" label is a wildcard.  Malformed names never match,
 * and nothing matches a domain that is a public suffix or a single label.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_NAMES_H
#define DOMSEC_NAMES_H

#include <stddef.h>
#include <openssl/x509.h>

/* 1 when name matches domain under the rules above, else 0. */
int ds_name_matches(const char *name, const char *domain);

/* 1 when name (one trailing dot ignored, any case) is a public suffix of
 * the Public Suffix List (ICANN or private section; no implicit "*" rule
 * for unlisted top-level labels), 0 when not, -1 when no list could be
 * loaded. */
int ds_is_public_suffix(const char *name);

/* 1 when s is a syntactically valid ASCII host name (LDH labels, optional
 * leftmost "*" label allowed when allow_wildcard), else 0. */
int ds_hostname_valid(const char *s, int allow_wildcard);

/*
 * 1 when every dNSName SAN of cert without a "*" is a well-formed host name
 * (RFC 5280 4.2.1.6 preferred name syntax: no empty label, no leading dot,
 * no underscore, no IP address) and no leftmost-label wildcard SAN covers an
 * ICANN public suffix or a single label ("*.com", "*.co.uk": a mis-issued
 * certificate, none of whose names is trusted; a private-section one such
 * as "*.s3.amazonaws.com" is its owner's and simply never matches).  Misplaced wildcards
 * ("m*.x", "*") are left to ds_name_matches, which never matches them.
 * Else 0 with the first offending name in bad.
 */
int ds_cert_dns_sans_wellformed(X509 *cert, char *bad, size_t badlen);

/*
 * Searches cert's DNS names for one matching domain.  Returns 1 and copies
 * the matching name into matched (if not NULL) on a match, else 0.
 */
int ds_cert_matches_domain(X509 *cert, const char *domain, char *matched,
    size_t matchedlen);

#endif
