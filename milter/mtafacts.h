/*
 * mtafacts.h - translates milter macros (Postfix and Sendmail vocabulary)
 * into struct ds_facts.  Takes a getter so that it can be tested without
 * libmilter.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_MILTER_MTAFACTS_H
#define DOMSEC_MILTER_MTAFACTS_H

#include "domsec/facts.h"

/* Returns the macro's value ("{tls_version}", "i", ...) or NULL. */
typedef const char *(*ds_macro_getter)(void *arg, const char *name);

/*
 * Fills the TLS and certificate fields of *f from the macros visible now
 * (HELO or MAIL stage).  Postfix: {tls_version} {cipher} {cipher_bits}
 * {cert_subject} {cert_issuer} (CNs, sent only for a certificate Postfix
 * verified).  Sendmail: the same plus {verify} (OK, FAIL, NO, NOT, NONE,
 * CLEAR, TEMP, PROTOCOL, SOFTWARE), full-DN {cert_subject}/{cert_issuer}
 * (xtext), {cn_subject}, {cn_issuer}, {cert_fp} (CertFingerprintAlgorithm
 * sha256).  No {tls_version} means no TLS.
 */
void ds_facts_from_macros(struct ds_facts *f, ds_macro_getter get, void *arg);

/*
 * Adds what the Postfix policy service saw for the same session (notably the
 * fingerprint) to facts the milter gathered: fields the milter does not
 * know are taken from policy.  Returns 1 when a fingerprint was added.
 */
int ds_facts_merge_policy(struct ds_facts *f, const struct ds_facts *policy);

#endif
