/*
 * test_chain.c - unit tests for lib/chain.c over the test PKI: anchors from
 * a file, a directory and per-partner files, intermediates presented or
 * configured, the cross-certificate, validity window, EKU, signatures and the
 * wording of reasons.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/x509.h>
#include "domsec/chain.h"
#include "domsec/x509info.h"
#include "fixture.h"

static STACK_OF(X509) *load(const char *name)
{
	char err[256];
	STACK_OF(X509) *sk = ds_load_pem_certs(pki_path(name), err, sizeof err);
	if (sk == NULL)
		fail_msg("%s", err);
	return sk;
}

static struct ds_trust *trust(const char *ca_file, const char *chain_file)
{
	char err[256] = "";
	struct ds_strlist chains = { 0 };
	if (chain_file)
		assert_int_equal(ds_strlist_add(&chains, pki_path(chain_file)), 0);
	struct ds_trust *t = ds_trust_new(ca_file ? pki_path(ca_file) : NULL,
	    NULL, &chains, err, sizeof err);
	ds_strlist_free(&chains);
	if (t == NULL)
		fail_msg("ds_trust_new: %s", err);
	return t;
}

/* Verifies certfile under t (with an optional extra anchor) and returns
 * res.ok; the reason is copied to reason. */
static int verify(struct ds_trust *t, const char *extra_anchor,
    const char *certfile, time_t at, char *reason, int *chain_len)
{
	char err[256] = "";
	struct ds_strlist extra = { 0 };
	if (extra_anchor)
		assert_int_equal(ds_strlist_add(&extra, pki_path(extra_anchor)), 0);
	STACK_OF(X509) *sk = load(certfile);
	struct ds_chain_result res;
	if (ds_chain_verify(t, &extra, sk, at, &res, err, sizeof err) != 0)
		fail_msg("ds_chain_verify: %s", err);
	snprintf(reason, 256, "%s", res.reason);   /* callers pass char[256] */
	if (chain_len)
		*chain_len = res.chain ? sk_X509_num(res.chain) : 0;
	int ok = res.ok;
	if (ok)
		assert_non_null(res.chain);
	else
		assert_null(res.chain);
	ds_chain_result_free(&res);
	sk_X509_pop_free(sk, X509_free);
	ds_strlist_free(&extra);
	return ok;
}

static void test_good_chains(void **state)
{
	(void)state;
	char reason[256];
	int len = 0;
	struct ds_trust *t = trust("root.pem", NULL);
	assert_true(verify(t, NULL, "exact-chain.pem", 0, reason, &len));
	assert_int_equal(len, 3);
	assert_true(verify(t, NULL, "serveronly-chain.pem", 0, reason, NULL));
	assert_true(verify(t, NULL, "wildcard-chain.pem", 0, reason, NULL));
	/* the revoked CA's chain is fine as a chain: revocation is not ours */
	assert_true(verify(t, NULL, "revokedinter-chain.pem", 0, reason, NULL));

	/* the verified chain is leaf first, anchor last */
	char err[256];
	STACK_OF(X509) *sk = load("exact-chain.pem");
	struct ds_chain_result res;
	assert_int_equal(ds_chain_verify(t, NULL, sk, 0, &res, err, sizeof err), 0);
	assert_true(res.ok);
	assert_int_equal(res.error_depth, -1);
	struct ds_cert_info first, last;
	ds_cert_info_get(sk_X509_value(res.chain, 0), &first);
	ds_cert_info_get(sk_X509_value(res.chain, 2), &last);
	assert_string_equal(first.subject, "CN=woodgrovebank.com");
	assert_string_equal(last.subject, "CN=domsec Test Root CA, O=domsec tests");
	ds_chain_result_free(&res);
	sk_X509_pop_free(sk, X509_free);
	ds_trust_free(t);
}

static void test_missing_intermediate(void **state)
{
	(void)state;
	char reason[256];
	struct ds_trust *t = trust("root.pem", NULL);
	assert_false(verify(t, NULL, "exact.pem", 0, reason, NULL));
	assert_non_null(strstr(reason, "unable to get issuer certificate: "
	    "CN=domsec Test Issuing CA"));
	ds_trust_free(t);

	/* the same leaf with the intermediate from a configured chain file */
	t = trust("root.pem", "inter.pem");
	assert_true(verify(t, NULL, "exact.pem", 0, reason, NULL));
	ds_trust_free(t);
}

static void test_validity_window(void **state)
{
	(void)state;
	char reason[256];
	struct ds_trust *t = trust("root.pem", NULL);
	assert_false(verify(t, NULL, "expired-chain.pem", 0, reason, NULL));
	assert_non_null(strstr(reason, "certificate has expired (notAfter 20"));
	assert_false(verify(t, NULL, "notyet-chain.pem", 0, reason, NULL));
	assert_non_null(strstr(reason, "certificate is not yet valid (notBefore 20"));

	/* as of a time inside their windows, both verify */
	time_t at;
	assert_int_equal(ds_time_parse("2021-06-01", &at), 0);
	assert_true(verify(t, NULL, "expired-chain.pem", at, reason, NULL));
	assert_int_equal(ds_time_parse("@" "1861920000", &at), 0); /* 2029-01 */
	assert_true(verify(t, NULL, "notyet-chain.pem", at, reason, NULL));
	/* and the good leaf is not valid back then */
	assert_int_equal(ds_time_parse("2021-06-01", &at), 0);
	assert_false(verify(t, NULL, "exact-chain.pem", at, reason, NULL));
	assert_non_null(strstr(reason, "not yet valid"));
	ds_trust_free(t);
}

static void test_unknown_root(void **state)
{
	(void)state;
	char reason[256];
	struct ds_trust *t = trust("root.pem", NULL);
	assert_false(verify(t, NULL, "untrusted-chain.pem", 0, reason, NULL));
	assert_non_null(strstr(reason, "unable to get issuer certificate: "
	    "CN=Unknown Root CA, O=domsec tests is not a trust anchor"));
	/* presenting the unknown root itself does not make it trusted */
	char cmd[800];
	snprintf(cmd, sizeof cmd, "cat %s %s > %s", pki_path("untrusted.pem"),
	    pki_path("unknown-root.pem"), pki_path("untrusted-full.pem"));
	assert_int_equal(system(cmd), 0);
	assert_false(verify(t, NULL, "untrusted-full.pem", 0, reason, NULL));
	assert_non_null(strstr(reason, "self-signed certificate CN=Unknown Root CA"));
	ds_trust_free(t);

	t = trust("unknown-root.pem", NULL);
	assert_true(verify(t, NULL, "untrusted-chain.pem", 0, reason, NULL));
	assert_false(verify(t, NULL, "exact-chain.pem", 0, reason, NULL));
	ds_trust_free(t);
}

static void test_extended_key_usage(void **state)
{
	(void)state;
	char reason[256];
	struct ds_trust *t = trust("root.pem", NULL);
	assert_false(verify(t, NULL, "emailonly-chain.pem", 0, reason, NULL));
	assert_non_null(strstr(reason, "neither serverAuth nor clientAuth"));
	assert_true(verify(t, NULL, "serveronly-chain.pem", 0, reason, NULL));
	ds_trust_free(t);
}

static void test_partner_anchor_and_cross(void **state)
{
	(void)state;
	char reason[256];
	int len = 0;
	struct ds_trust *t = trust("root.pem", NULL);
	assert_false(verify(t, NULL, "fabrikam.pem", 0, reason, NULL));
	assert_non_null(strstr(reason, "Fabrikam Private Root"));
	/* per-partner extra anchor */
	assert_true(verify(t, "private-root.pem", "fabrikam.pem", 0, reason, &len));
	assert_int_equal(len, 2);
	/* the extra anchor is for that call only */
	assert_false(verify(t, NULL, "fabrikam.pem", 0, reason, NULL));
	ds_trust_free(t);

	/* cross-certificate as a configured untrusted intermediate */
	t = trust("root.pem", "cross.pem");
	assert_true(verify(t, NULL, "fabrikam.pem", 0, reason, &len));
	assert_int_equal(len, 3);
	ds_trust_free(t);

	/* or presented by the peer after its leaf */
	char cmd[800];
	snprintf(cmd, sizeof cmd, "cat %s %s > %s", pki_path("fabrikam.pem"),
	    pki_path("cross.pem"), pki_path("fabrikam-cross.pem"));
	assert_int_equal(system(cmd), 0);
	t = trust("root.pem", NULL);
	assert_true(verify(t, NULL, "fabrikam-cross.pem", 0, reason, &len));
	assert_int_equal(len, 3);
	ds_trust_free(t);
}

static void test_direct_trust_in_leaf(void **state)
{
	(void)state;
	char reason[256];
	/* the administrator trusts the partner's own certificate */
	struct ds_trust *t = trust("exact.pem", NULL);
	assert_true(verify(t, NULL, "exact.pem", 0, reason, NULL));
	assert_false(verify(t, NULL, "wildcard.pem", 0, reason, NULL));
	ds_trust_free(t);
}

static void test_ca_directory(void **state)
{
	(void)state;
	char cmd[800], err[256] = "", reason[256];
	snprintf(cmd, sizeof cmd, "mkdir -p %s && cp %s %s/ && openssl rehash %s",
	    pki_path("cadir"), pki_path("root.pem"), pki_path("cadir"),
	    pki_path("cadir"));
	assert_int_equal(system(cmd), 0);
	struct ds_trust *t = ds_trust_new(NULL, pki_path("cadir"), NULL, err,
	    sizeof err);
	assert_non_null(t);
	assert_true(verify(t, NULL, "exact-chain.pem", 0, reason, NULL));
	/* a partner anchor combines with the directory */
	assert_true(verify(t, "private-root.pem", "fabrikam.pem", 0, reason, NULL));
	ds_trust_free(t);
}

static void test_bad_signature(void **state)
{
	(void)state;
	char err[256] = "", reason[256];
	STACK_OF(X509) *sk = load("exact-chain.pem");
	unsigned char *der = NULL;
	int len = i2d_X509(sk_X509_value(sk, 0), &der);
	assert_true(len > 100);
	der[len - 5] ^= 0x01;   /* inside the signature value */
	const unsigned char *p = der;
	X509 *bad = d2i_X509(NULL, &p, len);
	OPENSSL_free(der);
	assert_non_null(bad);
	X509_free(sk_X509_value(sk, 0));
	sk_X509_set(sk, 0, bad);
	struct ds_trust *t = trust("root.pem", NULL);
	struct ds_chain_result res;
	assert_int_equal(ds_chain_verify(t, NULL, sk, 0, &res, err, sizeof err), 0);
	assert_false(res.ok);
	snprintf(reason, sizeof reason, "%s", res.reason);
	assert_non_null(strstr(reason, "does not verify"));
	assert_int_equal(res.error_depth, 0);
	ds_chain_result_free(&res);
	sk_X509_pop_free(sk, X509_free);
	ds_trust_free(t);
}

static void test_weak_key_refused(void **state)
{
	(void)state;
	char cmd[1200], reason[256];
	const char *fmt = "openssl req -x509 -newkey rsa:%d -nodes -keyout %s "
	    "-out %s -subj /CN=weak.example -days 30 -addext "
	    "subjectAltName=DNS:weak.example 2>/dev/null";
	snprintf(cmd, sizeof cmd, fmt, 1024, pki_path("weak.key"),
	    pki_path("weak.pem"));
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof cmd, fmt, 2048, pki_path("strong.key"),
	    pki_path("strong.pem"));
	assert_int_equal(system(cmd), 0);
	/* trusted directly, the 2048-bit one verifies, the 1024-bit not */
	struct ds_trust *t = trust("strong.pem", NULL);
	assert_true(verify(t, NULL, "strong.pem", 0, reason, NULL));
	ds_trust_free(t);
	t = trust("weak.pem", NULL);
	assert_false(verify(t, NULL, "weak.pem", 0, reason, NULL));
	assert_non_null(strstr(reason, "too weak"));
	ds_trust_free(t);
}

/* Writes an openssl config with one extension section "ext". */
static void write_ext(const char *name, const char *lines)
{
	FILE *f = fopen(pki_path(name), "w");
	assert_non_null(f);
	fprintf(f, "[ext]\n%s\n", lines);
	fclose(f);
}

static void test_strict_rules_spare_the_anchor_only(void **state)
{
	(void)state;
	char cmd[2000], reason[256];
	const char *key = "openssl genpkey -algorithm EC -pkeyopt "
	    "ec_paramgen_curve:P-256 -out %s";
	/* an old-style root: basicConstraints not critical, no keyUsage */
	write_ext("old-root.cnf", "basicConstraints = CA:TRUE\n"
	    "subjectKeyIdentifier = hash");
	write_ext("old-leaf.cnf", "basicConstraints = CA:FALSE\n"
	    "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n"
	    "subjectAltName = DNS:old.example\n"
	    "extendedKeyUsage = serverAuth, clientAuth");
	snprintf(cmd, sizeof cmd, key, pki_path("old-root.key"));
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof cmd, key, pki_path("old-leaf.key"));
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "openssl req -new -key %s -subj '/CN=Old Root' "
	    "-out %s && openssl x509 -req -in %s -key %s -days 30 -extfile %s "
	    "-extensions ext -out %s 2>/dev/null",
	    pki_path("old-root.key"), pki_path("old-root.csr"),
	    pki_path("old-root.csr"), pki_path("old-root.key"),
	    pki_path("old-root.cnf"), pki_path("old-root.pem"));
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "openssl req -new -key %s -subj '/CN=old.example' "
	    "-out %s && openssl x509 -req -in %s -CA %s -CAkey %s "
	    "-CAcreateserial -days 30 -extfile %s -extensions ext -out %s "
	    "2>/dev/null",
	    pki_path("old-leaf.key"), pki_path("old-leaf.csr"),
	    pki_path("old-leaf.csr"), pki_path("old-root.pem"),
	    pki_path("old-root.key"), pki_path("old-leaf.cnf"),
	    pki_path("old-leaf.pem"));
	assert_int_equal(system(cmd), 0);
	struct ds_trust *t = trust("old-root.pem", NULL);
	if (!verify(t, NULL, "old-leaf.pem", 0, reason, NULL))
		fail_msg("old root as anchor: %s", reason);
	ds_trust_free(t);

	/* the same root as an intermediate below a trusted root: strict */
	snprintf(cmd, sizeof cmd, "openssl x509 -req -in %s -CA %s -CAkey %s "
	    "-CAcreateserial -days 30 -extfile %s -extensions ext -out %s "
	    "2>/dev/null && cat %s %s > %s",
	    pki_path("old-root.csr"), pki_path("root.pem"), pki_path("root.key"),
	    pki_path("old-root.cnf"), pki_path("old-inter.pem"),
	    pki_path("old-leaf.pem"), pki_path("old-inter.pem"),
	    pki_path("old-chain.pem"));
	assert_int_equal(system(cmd), 0);
	t = trust("root.pem", NULL);
	assert_false(verify(t, NULL, "old-chain.pem", 0, reason, NULL));
	if (strstr(reason, "CN=Old Root") == NULL || (strstr(reason, "critical") == NULL &&
	    strstr(reason, "key usage") == NULL))
		fail_msg("old intermediate refused for another reason: %s", reason);
	ds_trust_free(t);
}

static void test_errors(void **state)
{
	(void)state;
	char err[256] = "";
	assert_null(ds_trust_new(pki_path("nope.pem"), NULL, NULL, err, sizeof err));
	assert_non_null(strstr(err, "nope.pem: cannot open"));

	struct ds_strlist chains = { 0 };
	ds_strlist_add(&chains, pki_path("exact.key"));
	err[0] = '\0';
	assert_null(ds_trust_new(pki_path("root.pem"), NULL, &chains, err,
	    sizeof err));
	assert_non_null(strstr(err, "exact.key: no certificate found"));
	ds_strlist_free(&chains);

	err[0] = '\0';
	assert_null(ds_trust_new(NULL, pki_path("no-such-dir"), NULL, err,
	    sizeof err));
	assert_non_null(strstr(err, "no-such-dir"));

	/* an unreadable per-partner anchor file is an internal error */
	struct ds_trust *t = trust("root.pem", NULL);
	struct ds_strlist extra = { 0 };
	ds_strlist_add(&extra, pki_path("missing-anchor.pem"));
	STACK_OF(X509) *sk = load("exact-chain.pem");
	struct ds_chain_result res;
	err[0] = '\0';
	assert_int_equal(ds_chain_verify(t, &extra, sk, 0, &res, err, sizeof err), -1);
	assert_non_null(strstr(err, "missing-anchor.pem"));
	ds_strlist_free(&extra);

	/* an empty presented chain */
	STACK_OF(X509) *empty = sk_X509_new_null();
	assert_int_equal(ds_chain_verify(t, NULL, empty, 0, &res, err, sizeof err), -1);
	sk_X509_free(empty);
	sk_X509_pop_free(sk, X509_free);
	ds_trust_free(t);
}

static void test_system_default_bundle(void **state)
{
	(void)state;
	char err[256] = "", reason[256];
	struct ds_trust *t = ds_trust_new(NULL, NULL, NULL, err, sizeof err);
	if (t == NULL)
		fail_msg("system bundle: %s", err);
	/* our test root is not in the system bundle */
	assert_false(verify(t, NULL, "exact-chain.pem", 0, reason, NULL));
	assert_non_null(strstr(reason, "domsec Test Root CA"));
	/* but a partner anchor still works on top of it */
	assert_true(verify(t, "root.pem", "exact-chain.pem", 0, reason, NULL));
	ds_trust_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_chains),
		cmocka_unit_test(test_missing_intermediate),
		cmocka_unit_test(test_validity_window),
		cmocka_unit_test(test_unknown_root),
		cmocka_unit_test(test_extended_key_usage),
		cmocka_unit_test(test_partner_anchor_and_cross),
		cmocka_unit_test(test_direct_trust_in_leaf),
		cmocka_unit_test(test_ca_directory),
		cmocka_unit_test(test_bad_signature),
		cmocka_unit_test(test_weak_key_refused),
		cmocka_unit_test(test_strict_rules_spare_the_anchor_only),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_system_default_bundle),
	};
	return cmocka_run_group_tests_name("chain", tests,
	    pki_group_setup, pki_group_teardown);
}
