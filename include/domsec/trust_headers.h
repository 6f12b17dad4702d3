/*
 * trust_headers.h - the header values domsec writes for a Domain Secured
 * message, and the recognition of copies of them arriving from outside.
 *
 * Our header (default X-Domain-Secured), one line, never folded:
 *   AUTHSERV-ID; domain=D; result=secured; subject="DN"; issuer="DN";
 *   fingerprint=AB:CD:...; tls=TLSv1.3
 * Authentication-Results (RFC 8601), method "x-domainsecurity":
 *   AUTHSERV-ID; x-domainsecurity=pass (client certificate verified for D)
 *   smtp.mailfrom=D policy.cert-sha256=ABCD...
 * (header.from=D instead of smtp.mailfrom for the null sender).
 * Quoted values escape '"' and '\' with a backslash and write bytes outside
 * printable ASCII as \XX (RFC 4514 style); over-long subjects and issuers
 * are cut and end in "...".
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_TRUST_HEADERS_H
#define DOMSEC_TRUST_HEADERS_H

#include <stddef.h>
#include "domsec/inbound.h"

/* Longest value we write (name + ": " + value stays under 998). */
#define DS_HEADER_VALUE_MAX 900

/* Our header's value for a secured decision.  tls_version may be "" (the
 * key is then left out).  Returns 0, -1 when out is too small. */
int ds_trust_header_value(const char *authserv_id, const struct ds_decision *d,
    const char *tls_version, char *out, size_t outlen);

/* The Authentication-Results value; null_sender selects header.from. */
int ds_auth_results_value(const char *authserv_id, const struct ds_decision *d,
    int null_sender, char *out, size_t outlen);

/*
 * The authserv-id of an Authentication-Results value (after optional
 * CFWS, a token or quoted string, optionally followed by a version and
 * then ';').  Returns 0 when the value parses that far, -1 when it does not
 * (out then holds the first token, possibly "").
 */
int ds_auth_results_authserv_id(const char *value, char *out, size_t outlen);

/*
 * 1 when a header arriving from outside must be removed: name equals
 * our_header (any value); Authentication-Results whose authserv-id equals
 * ours (case-insensitive, one trailing dot ignored), or that does not parse
 * and mentions ours anywhere; X-MS-Exchange-Organization-Auth* when
 * exchange_headers.
 */
int ds_trust_header_is_ours(const char *our_header, const char *authserv_id,
    int exchange_headers, const char *name, const char *value);

/* Copies s into out as a quoted string ("..." with escapes), cut to at most
 * max_chars characters of content.  Returns the length written. */
size_t ds_quote_value(const char *s, size_t max_chars, char *out, size_t outlen);

#endif
