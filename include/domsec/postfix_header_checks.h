/*
 * postfix_header_checks.h - the Postfix header_checks table that removes
 * domsec's trust headers from every message before any milter sees it
 * (PostfixHeaderChecks yes; written by `domsecctl postfix-config`).
 *
 * The table removes (IGNORE) at least every header the milter would remove
 * as forged (ds_trust_header_is_ours), so that the milter may leave mail it
 * will not tag at MAIL:
 *   - our header name, with any value, any white space before the colon;
 *   - Authentication-Results mentioning our authserv-id anywhere in its
 *     value, each character optionally backslash-escaped (a quoted-pair in
 *     a quoted authserv-id), one trailing dot ignored: a superset of "its
 *     authserv-id is ours" and of "unparseable and mentions ours";
 *   - X-MS-Exchange-Organization-Auth* when ExchangeHeaders is on.
 * Postfix matches regexp tables case-insensitively and, without the m
 * flag, "." matches the newline of a folded header.  Postfix applies
 * header_checks to primary headers only, in cleanup, for SMTP and local
 * submission alike, and not to headers a milter adds (those go through
 * milter_header_checks), so domsec's own header survives.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_POSTFIX_HEADER_CHECKS_H
#define DOMSEC_POSTFIX_HEADER_CHECKS_H

#include <stddef.h>
#include "domsec/config.h"

/* The table's text (comment lines, then one rule a line) into out;
 * returns its length, or -1 when outlen is too small. */
int ds_postfix_header_checks(const struct ds_config *cfg, char *out,
    size_t outlen);

/* 1 when the file cfg->postfix_header_checks holds exactly the table of
 * this configuration; 0 (why says what: missing, unreadable, outdated)
 * otherwise, or when PostfixHeaderChecks is off. */
int ds_postfix_header_checks_current(const struct ds_config *cfg, char *why,
    size_t whylen);

/* The POSIX extended regular expressions of the table, one per rule, in
 * the table's order (for tests: compile with REG_EXTENDED | REG_ICASE |
 * REG_NOSUB, as Postfix does).  Returns how many were written (at most
 * max, each into its own buffer of patlen). */
size_t ds_postfix_header_patterns(const struct ds_config *cfg,
    char pats[][1024], size_t max);

#endif
