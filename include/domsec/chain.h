/*
 * chain.h - certificate chain verification with OpenSSL: trust anchors from a
 * CA file and/or directory (the system bundle by default), per-partner extra
 * anchors, untrusted intermediates and cross-certificates from the presented
 * chain and configured bundles; validity window, signatures, key usage, and
 * extended key usage (the EKUs of the leaf and of every intermediate, where
 * present, must share serverAuth or clientAuth); the leaf must not be a CA
 * (unless it is itself the configured anchor: a pinned self-signed
 * certificate) and its keyUsage, when present, must allow digitalSignature.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_CHAIN_H
#define DOMSEC_CHAIN_H

#include <stddef.h>
#include <time.h>
#include <openssl/x509.h>
#include "domsec/strlist.h"

struct ds_trust;   /* immutable after creation; safe to share between threads */

/*
 * ca_file/ca_path NULL (both) means the system default bundle.  chain_files
 * (may be NULL) hold untrusted intermediates and cross-certificates.
 * Returns NULL with err "FILE: problem" on failure.
 */
struct ds_trust *ds_trust_new(const char *ca_file, const char *ca_path,
    const struct ds_strlist *chain_files, char *err, size_t errlen);
/* The same with several CA files (ca_files NULL or empty, and ca_path NULL,
 * means the system default bundle). */
struct ds_trust *ds_trust_new_files(const struct ds_strlist *ca_files,
    const char *ca_path, const struct ds_strlist *chain_files, char *err,
    size_t errlen);
void ds_trust_free(struct ds_trust *t);

struct ds_chain_result {
	int ok;                  /* 1 when the chain verified */
	char reason[256];        /* why not, in words: "certificate has expired
	                            (notAfter 2025-01-01 00:00:00Z)" */
	int error_depth;         /* depth of the failing certificate, or -1 */
	STACK_OF(X509) *chain;   /* verified chain, leaf first, anchor last;
	                            owned; NULL when !ok */
};

/*
 * Verifies presented (leaf first, then any chain the peer sent) as of at
 * (0 = now).  extra_anchor_files (may be NULL): per-partner trust anchors
 * added to the base anchors for this call only.  Returns 0 when a verdict was
 * reached (see res->ok), -1 on an internal error (err set).
 */
int ds_chain_verify(const struct ds_trust *t,
    const struct ds_strlist *extra_anchor_files, STACK_OF(X509) *presented,
    time_t at, struct ds_chain_result *res, char *err, size_t errlen);

void ds_chain_result_free(struct ds_chain_result *res);

#endif
