/*
 * test_names.c - Exchange name matching: every row of the table in
 * DESIGN.md section 4, malformed names, and certificates built here with
 * the OpenSSL API (SAN, CN only, SAN plus CN, non-ASCII CN, embedded NUL).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "domsec/names.h"

#define D "woodgrovebank.com"

static void table_rows(void **state)
{
	(void)state;
	assert_int_equal(ds_name_matches("woodgrovebank.com", D), 1);
	assert_int_equal(ds_name_matches("*.woodgrovebank.com", D), 1);
	assert_int_equal(ds_name_matches("mail1.woodgrovebank.com", D), 1);
	assert_int_equal(ds_name_matches("mail1.us.woodgrovebank.com", D), 0);
	assert_int_equal(ds_name_matches("*.us.woodgrovebank.com", D), 0);
	assert_int_equal(ds_name_matches("m*.woodgrovebank.com", D), 0);
	assert_int_equal(ds_name_matches("mail.*.com", D), 0);
	assert_int_equal(ds_name_matches("*", D), 0);
	assert_int_equal(ds_name_matches("woodgrovebank.com.evil.example", D), 0);
}

static void case_and_trailing_dot(void **state)
{
	(void)state;
	assert_int_equal(ds_name_matches("MAIL.WoodGroveBank.COM", D), 1);
	assert_int_equal(ds_name_matches("woodgrovebank.com.", D), 1);
	assert_int_equal(ds_name_matches("woodgrovebank.com", "WOODGROVEBANK.COM."), 1);
	assert_int_equal(ds_name_matches("*.WOODGROVEBANK.com.", D "."), 1);
	/* Only one trailing dot is removed. */
	assert_int_equal(ds_name_matches("woodgrovebank.com..", D), 0);
	assert_int_equal(ds_name_matches("woodgrovebank.com", D ".."), 0);
}

static void wildcard_scope(void **state)
{
	(void)state;
	/* "*.contoso.com represents contoso.com and all the sub-domains". */
	assert_int_equal(ds_name_matches("*.woodgrovebank.com", "us.woodgrovebank.com"), 1);
	assert_int_equal(ds_name_matches("*.woodgrovebank.com", "a.b.woodgrovebank.com"), 1);
	assert_int_equal(ds_name_matches("*.us.woodgrovebank.com", "us.woodgrovebank.com"), 1);
	assert_int_equal(ds_name_matches("*.woodgrovebank.com", "woodgrovebank.org"), 0);
	assert_int_equal(ds_name_matches("*.woodgrovebank.com", "xwoodgrovebank.com"), 0);
	/* A wildcard over a top-level domain covers nothing else. */
	assert_int_equal(ds_name_matches("*.com", D), 0);
	assert_int_equal(ds_name_matches("*.com", "com"), 0);
	/* A wildcard over a public suffix (ICANN or private section of
	 * the Public Suffix List, through libpsl) covers nothing. */
	assert_int_equal(ds_name_matches("*.co.uk", "partner.co.uk"), 0);
	assert_int_equal(ds_name_matches("*.co.uk", "co.uk"), 0);
	assert_int_equal(ds_name_matches("*.CO.UK.", "mail.partner.co.uk"), 0);
	assert_int_equal(ds_name_matches("*.github.io", "partner.github.io"), 0);
	assert_int_equal(ds_name_matches("*.com.au", "partner.com.au"), 0);
	/* ... while a registrable domain below one still works */
	assert_int_equal(ds_name_matches("*.partner.co.uk", "partner.co.uk"), 1);
	assert_int_equal(ds_name_matches("*.partner.co.uk", "mail.partner.co.uk"), 1);
	assert_int_equal(ds_name_matches("*.partner.github.io", "partner.github.io"), 1);
	/* exact and one-node-deep matches are not wildcards */
	assert_int_equal(ds_name_matches("mail.partner.co.uk", "partner.co.uk"), 1);
	/* a public suffix is nobody's domain: not even one node deep */
	assert_int_equal(ds_name_matches("example.com", "com"), 0);
	assert_int_equal(ds_name_matches("partner.co.uk", "co.uk"), 0);
	assert_int_equal(ds_name_matches("co.uk", "co.uk"), 0);
	assert_int_equal(ds_name_matches("bucket.s3.amazonaws.com",
	    "s3.amazonaws.com"), 0);
	assert_int_equal(ds_is_public_suffix("co.uk"), 1);
	assert_int_equal(ds_is_public_suffix("github.io"), 1);
	assert_int_equal(ds_is_public_suffix("com"), 1);
	assert_int_equal(ds_is_public_suffix("woodgrovebank.com"), 0);
	assert_int_equal(ds_is_public_suffix("partner.co.uk."), 0);
	assert_int_equal(ds_is_public_suffix("allowed.example"), 0);
	/* Not wildcards. */
	assert_int_equal(ds_name_matches("**.woodgrovebank.com", D), 0);
	assert_int_equal(ds_name_matches("*mail.woodgrovebank.com", D), 0);
	assert_int_equal(ds_name_matches("mail.*", D), 0);
	assert_int_equal(ds_name_matches("*.*.woodgrovebank.com", D), 0);
	/* The domain itself is never a pattern. */
	assert_int_equal(ds_name_matches("mail.woodgrovebank.com", "*.woodgrovebank.com"), 0);
	assert_int_equal(ds_name_matches("*.woodgrovebank.com", "*.woodgrovebank.com"), 0);
}

static void one_node_deep_only(void **state)
{
	(void)state;
	assert_int_equal(ds_name_matches("a.woodgrovebank.com", D), 1);
	assert_int_equal(ds_name_matches("xwoodgrovebank.com", D), 0);
	assert_int_equal(ds_name_matches("woodgrovebank.com", "mail.woodgrovebank.com"), 0);
	assert_int_equal(ds_name_matches("com", D), 0);
	assert_int_equal(ds_name_matches("a.b.c.woodgrovebank.com", D), 0);
}

static void malformed_never_match(void **state)
{
	char longlabel[100], longname[300];
	(void)state;

	assert_int_equal(ds_name_matches("", D), 0);
	assert_int_equal(ds_name_matches(".", D), 0);
	assert_int_equal(ds_name_matches(D, ""), 0);
	assert_int_equal(ds_name_matches(NULL, D), 0);
	assert_int_equal(ds_name_matches(D, NULL), 0);
	assert_int_equal(ds_name_matches(".woodgrovebank.com", D), 0);
	assert_int_equal(ds_name_matches("mail..woodgrovebank.com", D), 0);
	assert_int_equal(ds_name_matches("ma il.woodgrovebank.com", D), 0);
	assert_int_equal(ds_name_matches("mail_1.woodgrovebank.com", D), 0);
	assert_int_equal(ds_name_matches("-mail.woodgrovebank.com", D), 0);
	assert_int_equal(ds_name_matches("mail-.woodgrovebank.com", D), 0);
	assert_int_equal(ds_name_matches("m\xc3\xaf" "crosoft.woodgrovebank.com", D), 0);
	assert_int_equal(ds_name_matches("192.0.2.1", "192.0.2.1"), 0);
	assert_int_equal(ds_name_matches("1.192.0.2.1", "192.0.2.1"), 0);
	assert_int_equal(ds_name_matches("::1", "::1"), 0);
	assert_int_equal(ds_name_matches("[::1]", "[::1]"), 0);

	memset(longlabel, 'a', 64);
	memcpy(longlabel + 64, "." D, sizeof("." D));
	assert_int_equal(ds_name_matches(longlabel, D), 0);
	assert_int_equal(ds_hostname_valid(longlabel, 0), 0);
	longlabel[63] = 'a';
	memcpy(longlabel + 63, "." D, sizeof("." D));   /* 63: the longest label */
	assert_int_equal(ds_name_matches(longlabel, D), 1);

	/* Four labels of 63: 255 characters, over the 253 limit. */
	size_t pos = 0;
	for (int l = 0; l < 4; l++) {
		if (l > 0)
			longname[pos++] = '.';
		memset(longname + pos, 'a', 63);
		pos += 63;
	}
	longname[pos] = '\0';
	assert_true(strlen(longname) > 253);
	assert_int_equal(ds_hostname_valid(longname, 0), 0);
	assert_int_equal(ds_name_matches(longname, longname), 0);
}

static void hostname_validity(void **state)
{
	(void)state;
	assert_int_equal(ds_hostname_valid("mail.woodgrovebank.com", 0), 1);
	assert_int_equal(ds_hostname_valid("mail.woodgrovebank.com.", 0), 1);
	assert_int_equal(ds_hostname_valid("xn--mcrosoft-d2a.example", 0), 1);
	assert_int_equal(ds_hostname_valid("localhost", 0), 1);
	assert_int_equal(ds_hostname_valid("*.woodgrovebank.com", 0), 0);
	assert_int_equal(ds_hostname_valid("*.woodgrovebank.com", 1), 1);
	assert_int_equal(ds_hostname_valid("*", 1), 0);
	assert_int_equal(ds_hostname_valid("mail.*.com", 1), 0);
	assert_int_equal(ds_hostname_valid("10.0.0.1", 0), 0);
	assert_int_equal(ds_hostname_valid("a..b", 0), 0);
	assert_int_equal(ds_hostname_valid("", 0), 0);
	assert_int_equal(ds_hostname_valid(NULL, 0), 0);
}

/* ---- certificates built here ---- */

static EVP_PKEY *test_key;

static int setup(void **state)
{
	(void)state;
	test_key = EVP_EC_gen("P-256");
	return test_key == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(test_key);
	return 0;
}

/* A certificate with the given CN (as a UTF8String, length cnlen; NULL for
 * none) and dNSName SANs (each given with its length, so that NULs can be
 * embedded). */
static X509 *make_cert(const char *cn, int cnlen, int nsans, ...)
{
	X509 *x = X509_new();
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"Test", -1, -1, 0);
	if (cn != NULL)
		assert_int_equal(X509_NAME_add_entry_by_NID(name, NID_commonName,
		    V_ASN1_UTF8STRING, (const unsigned char *)cn, cnlen, -1, 0), 1);
	X509_set_issuer_name(x, name);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, test_key);

	if (nsans > 0) {
		GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
		va_list ap;
		va_start(ap, nsans);
		for (int i = 0; i < nsans; i++) {
			const char *s = va_arg(ap, const char *);
			int len = va_arg(ap, int);
			GENERAL_NAME *gn = GENERAL_NAME_new();
			ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
			ASN1_STRING_set(ia5, s, len);
			GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
			sk_GENERAL_NAME_push(gens, gn);
		}
		va_end(ap);
		assert_int_equal(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
		    X509V3_ADD_DEFAULT), 1);
		GENERAL_NAMES_free(gens);
	}
	assert_true(X509_sign(x, test_key, EVP_sha256()) > 0);
	return x;
}

#define S(lit) lit, (int)(sizeof(lit) - 1)

static void cert_san(void **state)
{
	char matched[256];
	(void)state;
	X509 *x = make_cert(S("unrelated.example"), 2,
	    S("other.example"), S("mail1.woodgrovebank.com"));
	assert_int_equal(ds_cert_matches_domain(x, D, matched, sizeof matched), 1);
	assert_string_equal(matched, "mail1.woodgrovebank.com");
	assert_int_equal(ds_cert_matches_domain(x, "contoso.com", matched,
	    sizeof matched), 0);
	assert_string_equal(matched, "");
	X509_free(x);

	x = make_cert(NULL, 0, 1, S("*.woodgrovebank.com"));
	assert_int_equal(ds_cert_matches_domain(x, D, matched, sizeof matched), 1);
	assert_string_equal(matched, "*.woodgrovebank.com");
	X509_free(x);

	x = make_cert(NULL, 0, 1, S("mail1.us.woodgrovebank.com"));
	assert_int_equal(ds_cert_matches_domain(x, D, NULL, 0), 0);
	X509_free(x);
}

static void cert_cn_only(void **state)
{
	char matched[256];
	(void)state;
	X509 *x = make_cert(S("mail.woodgrovebank.com"), 0);
	assert_int_equal(ds_cert_matches_domain(x, D, matched, sizeof matched), 1);
	assert_string_equal(matched, "mail.woodgrovebank.com");
	X509_free(x);
}

static void cert_cn_with_sans(void **state)
{
	char matched[256];
	(void)state;
	/* Documented choice: CNs count even when SANs are present. */
	X509 *x = make_cert(S("mail.woodgrovebank.com"), 1, S("other.example"));
	assert_int_equal(ds_cert_matches_domain(x, D, matched, sizeof matched), 1);
	assert_string_equal(matched, "mail.woodgrovebank.com");
	X509_free(x);
}

static void cert_non_ascii_cn(void **state)
{
	(void)state;
	X509 *x = make_cert(S("m\xc3\xaf" "crosoft.woodgrovebank.com"), 0);
	assert_int_equal(ds_cert_matches_domain(x, D, NULL, 0), 0);
	X509_free(x);
}

static void cert_embedded_nul(void **state)
{
	char matched[256];
	(void)state;
	X509 *x = make_cert(NULL, 0, 1, S("woodgrovebank.com\0.evil.example"));
	assert_int_equal(ds_cert_matches_domain(x, D, matched, sizeof matched), 0);
	assert_int_equal(ds_cert_matches_domain(x, "evil.example", NULL, 0), 0);
	X509_free(x);

	x = make_cert(S("woodgrovebank.com\0.evil.example"), 0);
	assert_int_equal(ds_cert_matches_domain(x, D, NULL, 0), 0);
	X509_free(x);
}

static void cert_no_names(void **state)
{
	(void)state;
	X509 *x = make_cert(NULL, 0, 0);
	assert_int_equal(ds_cert_matches_domain(x, D, NULL, 0), 0);
	X509_free(x);
	assert_int_equal(ds_cert_matches_domain(NULL, D, NULL, 0), 0);
}

static void cert_matched_truncated(void **state)
{
	char small[8];
	(void)state;
	X509 *x = make_cert(NULL, 0, 1, S("woodgrovebank.com"));
	assert_int_equal(ds_cert_matches_domain(x, D, small, sizeof small), 1);
	assert_int_equal(strlen(small), sizeof small - 1);
	X509_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_rows),
		cmocka_unit_test(case_and_trailing_dot),
		cmocka_unit_test(wildcard_scope),
		cmocka_unit_test(one_node_deep_only),
		cmocka_unit_test(malformed_never_match),
		cmocka_unit_test(hostname_validity),
		cmocka_unit_test(cert_san),
		cmocka_unit_test(cert_cn_only),
		cmocka_unit_test(cert_cn_with_sans),
		cmocka_unit_test(cert_non_ascii_cn),
		cmocka_unit_test(cert_embedded_nul),
		cmocka_unit_test(cert_no_names),
		cmocka_unit_test(cert_matched_truncated),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
