/*
 * verdict_log.h - the one log line per verdict, with the fields of the
 * whitepaper's protocol log (certificate subject, issuer, serial,
 * thumbprint, alternate names) plus client, sender domain, TLS version and
 * cipher.  key=value pairs separated by spaces; free-text values are
 * double-quoted with '"' and '\' escaped and control or non-ASCII bytes
 * written as \XX; fields with nothing to say are left out:
 *
 *   verdict=revoked mode=enforce action=reject domain=woodgrovebank.com
 *   client=127.0.0.1:41234 helo="mail.woodgrovebank.com" tls=TLSv1.3
 *   cipher="TLS_AES_256_GCM_SHA384" source=pinned subject="CN=..."
 *   issuer="CN=..." serial=1A2B thumbprint=E8DA... fingerprint=AB:CD:...
 *   altnames="a;b" matched="..." reply="550 5.7.1" reason="..."
 *
 * In monitor mode action is always "accept" and would=reject|defer tells
 * what enforce mode would have done.  IPv6 clients are written
 * [2001:db8::1]:41234.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_VERDICT_LOG_H
#define DOMSEC_VERDICT_LOG_H

#include <stddef.h>
#include "domsec/facts.h"
#include "domsec/inbound.h"

/* "accept", "reject" (5xx) or "defer" (4xx) for verdict v in enforce mode. */
const char *ds_verdict_action(enum ds_verdict v);

/* Formats the line (without a trailing newline) into out. */
void ds_verdict_log_format(const struct ds_decision *d,
    const struct ds_facts *facts, char *out, size_t outlen);

/* Formats and logs the line (LOG_INFO for accepting verdicts, LOG_NOTICE
 * for the others). */
void ds_verdict_log(const struct ds_decision *d, const struct ds_facts *facts);

#endif
