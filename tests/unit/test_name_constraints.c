/*
 * test_name_constraints.c - unit tests for lib/name_constraints.c: the
 * dNSName subtree rule, and permitted/excluded constraints of a chain
 * applied to names OpenSSL never checked (a CN next to a SAN, the partner
 * domain a wildcard stands for).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "domsec/name_constraints.h"
#include "domsec/x509info.h"
#include "fixture.h"

static void test_subtree_rule(void **state)
{
	(void)state;
	assert_true(ds_dns_within_subtree("allowed.example", "allowed.example"));
	assert_true(ds_dns_within_subtree("mail.allowed.example",
	    "allowed.example"));
	assert_true(ds_dns_within_subtree("MAIL.Allowed.Example.",
	    "allowed.example"));
	assert_true(ds_dns_within_subtree("*.allowed.example",
	    "allowed.example"));
	assert_false(ds_dns_within_subtree("notallowed.example",
	    "allowed.example"));
	assert_false(ds_dns_within_subtree("allowed.example.evil",
	    "allowed.example"));
	assert_false(ds_dns_within_subtree("example", "allowed.example"));
	/* a leading dot: proper subdomains only */
	assert_true(ds_dns_within_subtree("a.example.com", ".example.com"));
	assert_false(ds_dns_within_subtree("example.com", ".example.com"));
	/* an empty base admits everything */
	assert_true(ds_dns_within_subtree("anything.example", ""));
	assert_false(ds_dns_within_subtree(NULL, "x"));
}

static STACK_OF(X509) *leaf_chain(const char *leaf, const char *inter)
{
	char err[256];
	STACK_OF(X509) *sk = ds_load_pem_certs(pki_path(leaf), err, sizeof err);
	STACK_OF(X509) *more = ds_load_pem_certs(pki_path(inter), err,
	    sizeof err);
	STACK_OF(X509) *root = ds_load_pem_certs(pki_path("root.pem"), err,
	    sizeof err);
	assert_non_null(sk);
	assert_non_null(more);
	assert_non_null(root);
	assert_true(sk_X509_push(sk, sk_X509_shift(more)) > 0);
	assert_true(sk_X509_push(sk, sk_X509_shift(root)) > 0);
	sk_X509_pop_free(more, X509_free);
	sk_X509_pop_free(root, X509_free);
	return sk;
}

static void test_chain_constraints(void **state)
{
	(void)state;
	char reason[300];
	STACK_OF(X509) *c = leaf_chain("nccn.pem", "nc-inter.pem");
	assert_true(ds_name_constraints_ok(c, "mail.allowed.example", reason,
	    sizeof reason));
	assert_false(ds_name_constraints_ok(c, "woodgrovebank.com", reason,
	    sizeof reason));
	assert_non_null(strstr(reason, "permitted"));
	assert_non_null(strstr(reason, "allowed.example"));
	assert_non_null(strstr(reason, "domsec Constrained CA"));
	sk_X509_pop_free(c, X509_free);

	c = leaf_chain("ncwild.pem", "ncx-inter.pem");
	assert_true(ds_name_constraints_ok(c, "other.example.com", reason,
	    sizeof reason));
	assert_true(ds_name_constraints_ok(c, "*.example.com", reason,
	    sizeof reason));
	assert_false(ds_name_constraints_ok(c, "secret.example.com", reason,
	    sizeof reason));
	assert_non_null(strstr(reason, "excluded"));
	assert_false(ds_name_constraints_ok(c, "a.secret.example.com", reason,
	    sizeof reason));
	sk_X509_pop_free(c, X509_free);

	/* an unconstrained chain admits any name; the leaf's own (absent)
	 * extension is never consulted */
	c = leaf_chain("exact.pem", "inter.pem");
	assert_true(ds_name_constraints_ok(c, "anything.example", reason,
	    sizeof reason));
	sk_X509_pop_free(c, X509_free);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subtree_rule),
		cmocka_unit_test(test_chain_constraints),
	};
	return cmocka_run_group_tests(tests,
	    pki_group_setup, pki_group_teardown);
}
