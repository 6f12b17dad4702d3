/*
 * test_engine.c - unit tests for lib/engine.c over the test PKI: the order
 * chain -> names -> revocation, partner anchors and revocation policies,
 * reasons that name the domain.  CRLs come from configured files; the
 * distribution points point at a closed loopback port, so a CRL that no file
 * provides is unavailable.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "domsec/engine.h"
#include "domsec/config.h"
#include "fixture.h"

/* An engine trusting root.pem with the given CRL files (NULL-terminated). */
static struct ds_engine *engine_with(const char *const *crl_files)
{
	struct ds_config cfg;
	char err[512] = "";
	ds_config_defaults(&cfg);
	free(cfg.crl_cache_dir);
	cfg.crl_cache_dir = NULL;             /* memory only */
	cfg.crl_connect_timeout_ms = 2000;
	cfg.crl_timeout_ms = 3000;
	cfg.ca_file = strdup(pki_path("root.pem"));
	for (size_t i = 0; crl_files && crl_files[i]; i++)
		assert_int_equal(ds_strlist_add(&cfg.crl_files,
		    pki_path(crl_files[i])), 0);
	struct ds_engine *e = ds_engine_new(&cfg, err, sizeof err);
	if (e == NULL)
		fail_msg("ds_engine_new: %s", err);
	ds_config_free(&cfg);
	return e;
}

static const char *const all_crls[] = { "crl/root.crl", "crl/inter.crl",
	"crl/inter2.crl", "crl/private-root.crl", NULL };

static enum ds_verdict run(struct ds_engine *e, const char *certfile,
    const char *domain, const struct ds_partner *partner,
    struct ds_verify_result *res)
{
	char err[256] = "";
	STACK_OF(X509) *sk = ds_load_pem_certs(pki_path(certfile), err,
	    sizeof err);
	if (sk == NULL)
		fail_msg("%s", err);
	struct ds_verify_request req = { .presented = sk, .domain = domain,
		.partner = partner, .at = 0 };
	if (ds_engine_verify(e, &req, res, err, sizeof err) != 0)
		fail_msg("ds_engine_verify: %s", err);
	sk_X509_pop_free(sk, X509_free);
	return res->verdict;
}

static void test_verdicts_with_crl_files(void **state)
{
	(void)state;
	struct ds_engine *e = engine_with(all_crls);
	struct ds_verify_result *r = calloc(1, sizeof *r);
	const char *wgb = "woodgrovebank.com";

	assert_int_equal(run(e, "exact-chain.pem", wgb, NULL, r),
	    DS_VERDICT_SECURED);
	assert_string_equal(r->matched_name, "woodgrovebank.com");
	assert_true(r->chain_verified);
	assert_int_equal(r->chain_len, 3);
	assert_int_equal(r->rev.status, DS_REV_GOOD);
	assert_true(r->rev.n_reports >= 2);
	assert_non_null(strstr(r->reason, "woodgrovebank.com"));

	assert_int_equal(run(e, "wildcard-chain.pem", wgb, NULL, r),
	    DS_VERDICT_SECURED);
	assert_string_equal(r->matched_name, "*.woodgrovebank.com");

	assert_int_equal(run(e, "revoked-chain.pem", wgb, NULL, r),
	    DS_VERDICT_REVOKED);
	assert_non_null(strstr(r->reason, "certificate for woodgrovebank.com revoked"));
	assert_int_equal(r->rev.revoked_depth, 0);

	assert_int_equal(run(e, "revokedinter-chain.pem", wgb, NULL, r),
	    DS_VERDICT_REVOKED);
	assert_int_equal(r->rev.revoked_depth, 1);

	assert_int_equal(run(e, "twodeep-chain.pem", wgb, NULL, r),
	    DS_VERDICT_NAME_MISMATCH);
	assert_string_equal(r->matched_name, "");
	assert_int_equal(r->rev.n_reports, 0);      /* never reached */
	assert_non_null(strstr(r->reason, "mail1.us.woodgrovebank.com"));

	/* a revoked certificate for another domain is a name mismatch:
	 * names are decided before revocation */
	assert_int_equal(run(e, "revoked-chain.pem", "contoso.com", NULL, r),
	    DS_VERDICT_NAME_MISMATCH);

	assert_int_equal(run(e, "untrusted-chain.pem", wgb, NULL, r),
	    DS_VERDICT_UNTRUSTED);
	assert_false(r->chain_verified);
	assert_int_equal(r->chain_len, 1);          /* as presented */
	assert_int_equal(r->rev.n_reports, 0);
	assert_non_null(strstr(r->reason, "certificate for woodgrovebank.com not trusted"));
	assert_non_null(strstr(r->reason, "Unknown Root CA"));

	assert_int_equal(run(e, "expired-chain.pem", wgb, NULL, r),
	    DS_VERDICT_UNTRUSTED);
	assert_non_null(strstr(r->reason, "expired"));

	assert_int_equal(run(e, "emailonly-chain.pem", wgb, NULL, r),
	    DS_VERDICT_UNTRUSTED);

	free(r);
	ds_engine_free(e);
}

/* Name constraints apply to the partner domain and the matched name,
 * whatever route matched (issue 7, item 1). */
static void test_name_constraints_on_match(void **state)
{
	(void)state;
	static const char *const crls[] = { "crl/root.crl", "crl/nc-inter.crl",
		"crl/ncx-inter.crl", NULL };
	struct ds_engine *e = engine_with(crls);
	struct ds_verify_result *r = calloc(1, sizeof *r);

	/* sub-CA permitted allowed.example; SAN mail.allowed.example, CN
	 * woodgrovebank.com: OpenSSL accepts the chain (the leaf has a DNS
	 * SAN, so the CN is not checked), the CN matches, yet the domain is
	 * outside the constraint */
	assert_int_equal(run(e, "nccn-chain.pem", "woodgrovebank.com", NULL, r),
	    DS_VERDICT_UNTRUSTED);
	assert_true(r->chain_verified);
	assert_non_null(strstr(r->reason, "permitted dNSName constraint "
	    "allowed.example"));
	assert_non_null(strstr(r->reason, "woodgrovebank.com"));
	assert_int_equal(r->rev.n_reports, 0);     /* nothing fetched */
	/* the same certificate, for a domain inside the constraint: the SAN
	 * is one node deep below allowed.example */
	assert_int_equal(run(e, "nccn-chain.pem", "allowed.example", NULL, r),
	    DS_VERDICT_SECURED);

	/* *.example.com below a CA excluding secret.example.com */
	assert_int_equal(run(e, "ncwild-chain.pem", "secret.example.com", NULL,
	    r), DS_VERDICT_UNTRUSTED);
	assert_non_null(strstr(r->reason, "excluded dNSName constraint "
	    "secret.example.com"));
	assert_int_equal(run(e, "ncwild-chain.pem", "SECRET.example.com.",
	    NULL, r), DS_VERDICT_UNTRUSTED);
	assert_int_equal(run(e, "ncwild-chain.pem", "mail.secret.example.com",
	    NULL, r), DS_VERDICT_UNTRUSTED);
	assert_int_equal(run(e, "ncwild-chain.pem", "other.example.com", NULL,
	    r), DS_VERDICT_SECURED);
	free(r);
	ds_engine_free(e);
}

/* The leaf and chain profile (issue 7, item 3). */
static void test_leaf_profile(void **state)
{
	(void)state;
	static const char *const crls[] = { "crl/root.crl", "crl/inter.crl",
		"crl/eku-inter.crl", NULL };
	struct ds_engine *e = engine_with(crls);
	struct ds_verify_result *r = calloc(1, sizeof *r);
	const char *wgb = "woodgrovebank.com";

	assert_int_equal(run(e, "caleaf-chain.pem", wgb, NULL, r),
	    DS_VERDICT_UNTRUSTED);
	assert_non_null(strstr(r->reason, "cA=TRUE"));
	assert_int_equal(run(e, "keyenc-chain.pem", wgb, NULL, r),
	    DS_VERDICT_UNTRUSTED);
	assert_non_null(strstr(r->reason, "digitalSignature"));
	assert_int_equal(run(e, "ekuinter-chain.pem", wgb, NULL, r),
	    DS_VERDICT_UNTRUSTED);
	assert_non_null(strstr(r->reason, "domsec Email-only CA"));
	/* a serverAuth-only leaf is a valid SMTP client certificate */
	assert_int_equal(run(e, "serveronly-chain.pem", wgb, NULL, r),
	    DS_VERDICT_SECURED);
	free(r);
	ds_engine_free(e);
}

/* Issue 7, item 8: an unusable CRLFile is reported and skipped. */
static void test_unusable_crl_file_skipped(void **state)
{
	(void)state;
	static const char *const crls[] = { "crl/root.crl", "exact.pem",
		"crl/no-such.crl", "crl/inter.crl", NULL };
	struct ds_engine *e = engine_with(crls);
	struct ds_verify_result *r = calloc(1, sizeof *r);
	assert_int_equal(e->crl_file_problems.n, 2);
	assert_non_null(strstr(e->crl_file_problems.v[0], "exact.pem"));
	assert_non_null(strstr(e->crl_file_problems.v[0], "not a CRL"));
	assert_non_null(strstr(e->crl_file_problems.v[1], "no-such.crl"));
	/* the usable ones are used */
	assert_int_equal(run(e, "nocrl-chain.pem", "woodgrovebank.com", NULL,
	    r), DS_VERDICT_SECURED);
	free(r);
	ds_engine_free(e);
}

static void test_partner_anchor(void **state)
{
	(void)state;
	struct ds_engine *e = engine_with(all_crls);
	struct ds_verify_result *r = calloc(1, sizeof *r);
	struct ds_partner p;
	memset(&p, 0, sizeof p);
	p.domain = "fabrikam.com";
	p.revocation = DS_REVOCATION_REQUIRE;

	assert_int_equal(run(e, "fabrikam-chain.pem", "fabrikam.com", &p, r),
	    DS_VERDICT_UNTRUSTED);
	assert_int_equal(ds_strlist_add(&p.ca_files, pki_path("private-root.pem")), 0);
	assert_int_equal(run(e, "fabrikam-chain.pem", "fabrikam.com", &p, r),
	    DS_VERDICT_SECURED);
	assert_int_equal(r->chain_len, 2);
	/* the partner's anchor does not help other domains */
	assert_int_equal(run(e, "fabrikam-chain.pem", "fabrikam.com", NULL, r),
	    DS_VERDICT_UNTRUSTED);
	ds_strlist_free(&p.ca_files);
	free(r);
	ds_engine_free(e);
}

static void test_revocation_policies(void **state)
{
	(void)state;
	/* no CRL files and a closed CDP port: nothing obtainable */
	struct ds_engine *e = engine_with(NULL);
	struct ds_verify_result *r = calloc(1, sizeof *r);
	struct ds_partner p;
	memset(&p, 0, sizeof p);
	p.domain = "woodgrovebank.com";

	assert_int_equal(run(e, "exact-chain.pem", "woodgrovebank.com", NULL, r),
	    DS_VERDICT_REVOCATION_UNAVAILABLE);
	assert_int_equal(r->rev.status, DS_REV_UNAVAILABLE);
	assert_non_null(strstr(r->reason, "revocation status of the certificate "
	    "for woodgrovebank.com unavailable"));

	p.revocation = DS_REVOCATION_REQUIRE;
	assert_int_equal(run(e, "exact-chain.pem", "woodgrovebank.com", &p, r),
	    DS_VERDICT_REVOCATION_UNAVAILABLE);

	p.revocation = DS_REVOCATION_SOFT;
	assert_int_equal(run(e, "exact-chain.pem", "woodgrovebank.com", &p, r),
	    DS_VERDICT_SECURED);
	assert_non_null(strstr(r->reason, "revocation=soft"));
	assert_false(r->revocation_skipped);

	p.revocation = DS_REVOCATION_NONE;
	assert_int_equal(run(e, "revoked-chain.pem", "woodgrovebank.com", &p, r),
	    DS_VERDICT_SECURED);
	assert_true(r->revocation_skipped);
	assert_int_equal(r->rev.n_reports, 0);
	assert_non_null(strstr(r->reason, "revocation=none"));

	/* policy never turns a name mismatch into anything else */
	assert_int_equal(run(e, "star-chain.pem", "woodgrovebank.com", &p, r),
	    DS_VERDICT_NAME_MISMATCH);
	free(r);
	ds_engine_free(e);

	/* soft still refuses a certificate that is known to be revoked */
	e = engine_with(all_crls);
	r = calloc(1, sizeof *r);
	p.revocation = DS_REVOCATION_SOFT;
	assert_int_equal(run(e, "revoked-chain.pem", "woodgrovebank.com", &p, r),
	    DS_VERDICT_REVOKED);
	free(r);
	ds_engine_free(e);
}

static void test_errors(void **state)
{
	(void)state;
	struct ds_config cfg;
	char err[512] = "";
	ds_config_defaults(&cfg);
	free(cfg.crl_cache_dir);
	cfg.crl_cache_dir = NULL;
	cfg.ca_file = strdup(pki_path("missing-root.pem"));
	assert_null(ds_engine_new(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "missing-root.pem"));
	free(cfg.ca_file);
	cfg.ca_file = strdup(pki_path("root.pem"));
	assert_int_equal(ds_strlist_add(&cfg.crl_files, pki_path("exact.key")), 0);
	err[0] = '\0';
	/* an unusable CRL file is no longer fatal: reported, skipped */
	struct ds_engine *skipped = ds_engine_new(&cfg, err, sizeof err);
	assert_non_null(skipped);
	assert_int_equal(skipped->crl_file_problems.n, 1);
	assert_non_null(strstr(skipped->crl_file_problems.v[0], "exact.key"));
	ds_engine_free(skipped);
	ds_config_free(&cfg);

	/* several --ca files replace the configured anchors */
	ds_config_defaults(&cfg);
	free(cfg.crl_cache_dir);
	cfg.crl_cache_dir = NULL;
	cfg.ca_file = strdup(pki_path("unknown-root.pem"));
	struct ds_strlist cas = { 0 };
	ds_strlist_add(&cas, pki_path("private-root.pem"));
	ds_strlist_add(&cas, pki_path("root.pem"));
	ds_strlist_add(&cfg.crl_files, pki_path("crl/root.crl"));
	ds_strlist_add(&cfg.crl_files, pki_path("crl/inter.crl"));
	struct ds_engine *e = ds_engine_new_anchors(&cfg, &cas, err, sizeof err);
	assert_non_null(e);
	struct ds_verify_result *r = calloc(1, sizeof *r);
	assert_int_equal(run(e, "exact-chain.pem", "woodgrovebank.com", NULL, r),
	    DS_VERDICT_SECURED);
	assert_int_equal(run(e, "untrusted-chain.pem", "woodgrovebank.com", NULL, r),
	    DS_VERDICT_UNTRUSTED);

	/* direct trust in the partner's own certificate: nothing to revoke */
	struct ds_partner p;
	memset(&p, 0, sizeof p);
	p.domain = "woodgrovebank.com";
	ds_strlist_add(&p.ca_files, pki_path("onedeep.pem"));
	assert_int_equal(run(e, "onedeep.pem", "woodgrovebank.com", &p, r),
	    DS_VERDICT_SECURED);
	assert_int_equal(r->chain_len, 1);
	assert_non_null(strstr(r->reason, "itself a configured trust anchor"));
	ds_strlist_free(&p.ca_files);

	STACK_OF(X509) *empty = sk_X509_new_null();
	struct ds_verify_request req = { .presented = empty,
		.domain = "woodgrovebank.com" };
	assert_int_equal(ds_engine_verify(e, &req, r, err, sizeof err), -1);
	sk_X509_free(empty);
	free(r);
	ds_engine_free(e);
	ds_strlist_free(&cas);
	ds_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts_with_crl_files),
		cmocka_unit_test(test_name_constraints_on_match),
		cmocka_unit_test(test_leaf_profile),
		cmocka_unit_test(test_unusable_crl_file_skipped),
		cmocka_unit_test(test_partner_anchor),
		cmocka_unit_test(test_revocation_policies),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests_name("engine", tests,
	    pki_group_setup, pki_group_teardown);
}
