/*
 * name_constraints.h - dNSName name constraints (RFC 5280 4.2.1.10) applied
 * to the name domsec matched, not only to the names OpenSSL looked at.
 *
 * OpenSSL checks a subject CN against name constraints only when the leaf
 * has no DNS SAN, and it never sees the partner domain that an Exchange-rule
 * match (wildcard, one node deep, CN) stands for.  So after a match, the
 * partner domain and the matched name are each checked here against every
 * permitted and excluded dNSName subtree of every CA certificate of the
 * verified chain (the anchor included, as OpenSSL does).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_NAME_CONSTRAINTS_H
#define DOMSEC_NAME_CONSTRAINTS_H

#include <stddef.h>
#include <openssl/x509.h>

/*
 * 1 when name (an ASCII host name, possibly with a leftmost "*" label taken
 * literally) satisfies every dNSName constraint of the CA certificates of
 * chain (leaf first; the leaf's own extension is ignored), else 0 with
 * reason naming the constraint and the certificate that carries it.  A
 * malformed name constraints extension (undecodable, not critical, a
 * dNSName with a leading period) fails closed.
 */
int ds_name_constraints_ok(STACK_OF(X509) *chain, const char *name,
    char *reason, size_t reasonlen);

/* 1 when name lies within the dNSName subtree base: equal to it, or base
 * with labels added on the left; a base with a leading dot admits only
 * proper subdomains; an empty base admits everything.  Case-insensitive,
 * one trailing dot ignored on either side. */
int ds_dns_within_subtree(const char *name, const char *base);

#endif
