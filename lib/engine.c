/*
 * engine.c - the verification engine: is this certificate a valid,
 * unrevoked credential for this partner domain?  Answered in the order
 * chain -> names (Exchange rules, then the chain's name constraints on
 * the partner domain and the matched name) -> revocation, so that no
 * distribution point of an unverified or foreign certificate is ever
 * fetched.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "domsec/engine.h"
#include "domsec/fmt.h"
#include "domsec/name_constraints.h"
#include "domsec/names.h"
#include "domsec/x509info.h"

int ds_crl_tls_anchors_from_config(struct ds_crl_store *s,
    const struct ds_config *cfg, char *err, size_t errlen)
{
	struct ds_strlist files = { 0 };
	int rc = 0;

	if (cfg->ca_file)
		ds_strlist_add(&files, cfg->ca_file);
	for (size_t i = 0; i < cfg->partners.n; i++)
		ds_strlist_extend(&files, &cfg->partners.v[i].ca_files);
	for (size_t i = 0; i < files.n && rc == 0; i++) {
		STACK_OF(X509) *sk = ds_load_pem_certs(files.v[i], err, errlen);
		if (sk == NULL || ds_crl_store_add_tls_anchors(s, sk) != 0)
			rc = -1;
		sk_X509_pop_free(sk, X509_free);
	}
	ds_strlist_free(&files);
	return rc;
}

struct ds_engine *ds_engine_new(const struct ds_config *cfg, char *err,
    size_t errlen)
{
	return ds_engine_new_anchors(cfg, NULL, err, errlen);
}

struct ds_engine *ds_engine_new_anchors(const struct ds_config *cfg,
    const struct ds_strlist *ca_files, char *err, size_t errlen)
{
	struct ds_engine *e = calloc(1, sizeof *e);
	if (e == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (ca_files != NULL && ca_files->n > 0)
		e->trust = ds_trust_new_files(ca_files, NULL, &cfg->chain_files,
		    err, errlen);
	else
		e->trust = ds_trust_new(cfg->ca_file, cfg->ca_path,
		    &cfg->chain_files, err, errlen);
	if (e->trust == NULL)
		goto fail;
	struct ds_crl_opts opts = {
		.cache_dir = cfg->crl_cache_dir,
		.connect_timeout_ms = cfg->crl_connect_timeout_ms,
		.timeout_ms = cfg->crl_timeout_ms,
		.download_timeout_ms = cfg->crl_download_timeout_ms,
		.low_speed_limit = cfg->crl_low_speed_limit,
		.low_speed_time_s = cfg->crl_low_speed_time_s,
		.no_proxy = cfg->crl_no_proxy,
		.proxy_ldap = cfg->crl_proxy_ldap,
		.log_large_bytes = 1024L * 1024,
		.max_size = cfg->crl_max_size,
		.proxy = cfg->crl_proxy,
		.max_redirects = cfg->crl_max_redirects,
		.grace_s = cfg->crl_grace_s,
		.refresh_before_s = cfg->crl_refresh_before_s,
		.retry_backoff_s = cfg->crl_retry_backoff_s,
	};
	e->crls = ds_crl_store_new(&opts, err, errlen);
	if (e->crls == NULL ||
	    ds_crl_tls_anchors_from_config(e->crls, cfg, err, errlen) != 0)
		goto fail;
	for (size_t i = 0; i < cfg->crl_files.n; i++) {
		char why[512] = "";
		if (ds_crl_store_add_file(e->crls, cfg->crl_files.v[i], why,
		    sizeof why) != 0 &&
		    ds_strlist_add(&e->crl_file_problems, why) != 0) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	return e;
fail:
	ds_engine_free(e);
	return NULL;
}

struct ds_crl_store *ds_engine_crls(struct ds_engine *e)
{
	return e != NULL ? e->crls : NULL;
}

void ds_engine_free(struct ds_engine *e)
{
	if (e == NULL)
		return;
	ds_trust_free(e->trust);
	ds_crl_store_free(e->crls);
	ds_strlist_free(&e->crl_file_problems);
	free(e);
}

static void describe_chain(STACK_OF(X509) *chain, struct ds_verify_result *res)
{
	res->chain_len = 0;
	for (int i = 0; i < sk_X509_num(chain) && i < DS_CHAIN_INFO_MAX; i++) {
		if (ds_cert_info_get(sk_X509_value(chain, i),
		    &res->chain[res->chain_len]) == 0)
			res->chain_len++;
	}
}

/* The leaf's names for a name-mismatch reason: its SANs, else its subject. */
static const char *leaf_names(const struct ds_verify_result *res)
{
	if (res->chain_len == 0)
		return "none";
	if (res->chain[0].alt_names[0] != '\0')
		return res->chain[0].alt_names;
	return res->chain[0].subject;
}

int ds_engine_verify(struct ds_engine *e, const struct ds_verify_request *req,
    struct ds_verify_result *res, char *err, size_t errlen)
{
	memset(res, 0, sizeof *res);
	res->rev.revoked_depth = -1;
	res->verdict = DS_VERDICT_UNTRUSTED;
	if (e == NULL || req == NULL || req->presented == NULL ||
	    sk_X509_num(req->presented) < 1 || req->domain == NULL) {
		snprintf(err, errlen, "nothing to verify: no certificate or "
		    "no domain");
		return -1;
	}
	const char *domain = req->domain;
	describe_chain(req->presented, res);

	/* 1. The chain.  Nothing else is looked at unless it verifies. */
	const struct ds_strlist *extra = req->partner ?
	    &req->partner->ca_files : NULL;
	struct ds_chain_result chain;
	if (ds_chain_verify(e->trust, extra, req->presented, req->at, &chain,
	    err, errlen) != 0)
		return -1;
	if (!chain.ok) {
		res->verdict = DS_VERDICT_UNTRUSTED;
		ds_format_truncated(res->reason, sizeof res->reason,
		    "certificate for %s not trusted: %s", domain, chain.reason);
		ds_chain_result_free(&chain);
		return 0;
	}
	res->chain_verified = 1;
	describe_chain(chain.chain, res);

	/* 2. The names (Exchange rules), on the leaf. */
	if (!ds_cert_matches_domain(sk_X509_value(chain.chain, 0), domain,
	    res->matched_name, sizeof res->matched_name)) {
		res->verdict = DS_VERDICT_NAME_MISMATCH;
		res->matched_name[0] = '\0';
		ds_format_truncated(res->reason, sizeof res->reason,
		    "certificate for %s does not match: no name of the "
		    "certificate (%s) covers %s", domain, leaf_names(res),
		    domain);
		ds_chain_result_free(&chain);
		return 0;
	}

	/* 2b. Name constraints on what the match stands for: the partner
	 * domain and the matched name (OpenSSL never saw the domain, and
	 * skips a CN when the leaf has DNS SANs). */
	char nc_reason[300];
	if (!ds_name_constraints_ok(chain.chain, domain, nc_reason,
	    sizeof nc_reason) ||
	    !ds_name_constraints_ok(chain.chain, res->matched_name, nc_reason,
	    sizeof nc_reason)) {
		res->verdict = DS_VERDICT_UNTRUSTED;
		ds_format_truncated(res->reason, sizeof res->reason,
		    "certificate for %s not trusted: matched name %s, but %s",
		    domain, res->matched_name, nc_reason);
		ds_chain_result_free(&chain);
		return 0;
	}

	/* 3. Revocation, on the verified chain only. */
	enum ds_revocation policy = req->partner ? req->partner->revocation :
	    DS_REVOCATION_REQUIRE;
	if (policy == DS_REVOCATION_NONE) {
		res->revocation_skipped = 1;
		res->verdict = DS_VERDICT_SECURED;
		ds_format_truncated(res->reason, sizeof res->reason,
		    "certificate for %s verified (name %s); revocation not "
		    "checked (partner revocation=none)", domain,
		    res->matched_name);
		ds_chain_result_free(&chain);
		return 0;
	}
	if (ds_crl_check_chain(e->crls, chain.chain, req->at, &res->rev) != 0) {
		snprintf(err, errlen, "revocation check failed internally for "
		    "the certificate for %s", domain);
		ds_chain_result_free(&chain);
		return -1;
	}
	ds_chain_result_free(&chain);
	switch (res->rev.status) {
	case DS_REV_GOOD:
		res->verdict = DS_VERDICT_SECURED;
		if (res->chain_len == 1)
			ds_format_truncated(res->reason, sizeof res->reason,
			    "certificate for %s verified (name %s; the "
			    "certificate is itself a configured trust anchor, "
			    "so no CRL applies)", domain, res->matched_name);
		else
			ds_format_truncated(res->reason, sizeof res->reason,
			    "certificate for %s verified (name %s, chain to "
			    "%s, not revoked)", domain, res->matched_name,
			    res->chain[res->chain_len - 1].subject);
		break;
	case DS_REV_REVOKED:
		res->verdict = DS_VERDICT_REVOKED;
		ds_format_truncated(res->reason, sizeof res->reason,
		    "certificate for %s revoked: %s", domain, res->rev.reason);
		break;
	case DS_REV_UNAVAILABLE:
	default:
		if (policy == DS_REVOCATION_SOFT) {
			res->verdict = DS_VERDICT_SECURED;
			ds_format_truncated(res->reason, sizeof res->reason,
			    "certificate for %s verified (name %s), but its "
			    "revocation status is unknown and partner "
			    "revocation=soft accepts that: %s", domain,
			    res->matched_name, res->rev.reason);
		} else {
			res->verdict = DS_VERDICT_REVOCATION_UNAVAILABLE;
			ds_format_truncated(res->reason, sizeof res->reason,
			    "revocation status of the certificate for %s "
			    "unavailable: %s", domain, res->rev.reason);
		}
		break;
	}
	return 0;
}
