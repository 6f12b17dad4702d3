/*
 * engine.h - the verification engine: one question, "is this certificate a
 * valid, unrevoked credential for this partner domain?", answered in the
 * order chain -> names -> revocation, so that no distribution point of an
 * unverified certificate is ever fetched.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_ENGINE_H
#define DOMSEC_ENGINE_H

#include <stddef.h>
#include <time.h>
#include <openssl/x509.h>
#include "domsec/config.h"
#include "domsec/partners.h"
#include "domsec/verdict.h"
#include "domsec/x509info.h"
#include "domsec/crl.h"
#include "domsec/chain.h"

#define DS_CHAIN_INFO_MAX 10

struct ds_engine {
	struct ds_trust *trust;
	struct ds_crl_store *crls;
	/* configured CRL files that could not be used ("FILE: reason"): they
	 * are skipped, never fatal; the caller reports them */
	struct ds_strlist crl_file_problems;
};

/* Builds trust anchors and the CRL store from cfg.  Returns NULL with err.
 * An unusable CRLFile does not fail it: it is skipped and described in
 * e->crl_file_problems. */
struct ds_engine *ds_engine_new(const struct ds_config *cfg, char *err,
    size_t errlen);
/* The same, but when ca_files is not NULL and not empty its files are the
 * trust anchors instead of cfg's CAFile and CAPath (domsecctl verify --ca). */
struct ds_engine *ds_engine_new_anchors(const struct ds_config *cfg,
    const struct ds_strlist *ca_files, char *err, size_t errlen);
void ds_engine_free(struct ds_engine *e);

/* Gives s the trust anchors an https distribution point may chain to
 * besides the system CA store: CAFile and every partner's ca= files.
 * Returns 0, or -1 with err (an unreadable file). */
int ds_crl_tls_anchors_from_config(struct ds_crl_store *s,
    const struct ds_config *cfg, char *err, size_t errlen);
/* The CRL store behind the engine (NULL when revocation is not checked). */
struct ds_crl_store *ds_engine_crls(struct ds_engine *e);

struct ds_verify_request {
	STACK_OF(X509) *presented;   /* leaf first, then any chain */
	const char *domain;          /* the partner domain D */
	const struct ds_partner *partner; /* may be NULL: require revocation,
	                                    no extra anchors */
	time_t at;                   /* 0 = now */
};

struct ds_verify_result {
	enum ds_verdict verdict;     /* secured, untrusted, name-mismatch, revoked,
	                                revocation-unavailable */
	char reason[512];            /* in words: "certificate for
	                                woodgrovebank.com revoked (serial 1A2B,
	                                listed on http://...)" */
	char matched_name[256];      /* "" when none */
	struct ds_cert_info chain[DS_CHAIN_INFO_MAX]; /* verified chain when it
	                                verified, else the presented one */
	size_t chain_len;
	int chain_verified;
	struct ds_rev_result rev;    /* n_reports == 0 when not reached */
	int revocation_skipped;      /* partner revocation=none */
};

/* Returns 0 with *res filled, -1 on internal error (err set). */
int ds_engine_verify(struct ds_engine *e, const struct ds_verify_request *req,
    struct ds_verify_result *res, char *err, size_t errlen);

#endif
