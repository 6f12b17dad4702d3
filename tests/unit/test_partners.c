/*
 * test_partners.c - the partner table: parsing, defaults, file checks,
 * line-precise errors, lookup precedence and From-alignment coverage.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "domsec/partners.h"

static char dir[] = "/tmp/domsec-test-partners.XXXXXX";
static char path[512];

static void write_file(const char *name, const char *content)
{
	char p[600];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void write_cert_file(const char *name)
{
	char p[600];
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	assert_non_null(key);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"Partner Root", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	PEM_write_X509(f, x);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(key);
}

static int setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof path, "%s/partners", dir);
	write_cert_file("root.pem");
	write_cert_file("pin.pem");
	write_file("empty.pem", "not a certificate\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];
	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Loads content; returns the load result, the table in *t, error in err. */
static int load(const char *content, struct ds_partner_table *t, char *err,
    size_t errlen)
{
	write_file("partners", content);
	return ds_partners_load(path, t, err, errlen);
}

static void good_table(void **state)
{
	struct ds_partner_table t = { 0 };
	char err[1024] = "";
	(void)state;

	int rc = load("# partners\n"
	    "\n"
	    "WoodGroveBank.com.  direction=both mode=enforce revocation=require \\\n"
	    "    ca=root.pem pin=pin.pem   # continued\n"
	    ".tailspin.com  mode=monitor revocation=soft direction=receive\n"
	    "fabrikam.com ca=root.pem ca=ROOT.pem.missing-not-used\n", &t, err,
	    sizeof err);
	/* The last line names a missing file: an error on line 6. */
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err, ":6: "));
	assert_non_null(strstr(err, "ROOT.pem.missing-not-used"));
	assert_null(t.v);

	rc = load("# partners\n"
	    "\n"
	    "WoodGroveBank.com.  direction=both mode=enforce revocation=require \\\n"
	    "    ca=root.pem pin=pin.pem   # continued\n"
	    ".tailspin.com  mode=monitor revocation=soft direction=receive\n"
	    "fabrikam.com ca=root.pem\n"
	    "contoso.com direction=send revocation=none\n", &t, err, sizeof err);
	assert_int_equal(rc, 0);
	assert_int_equal(t.n, 4);

	assert_string_equal(t.v[0].domain, "woodgrovebank.com");
	assert_int_equal(t.v[0].subdomains, 0);
	assert_int_equal(t.v[0].direction, DS_DIR_BOTH);
	assert_int_equal(t.v[0].mode, DS_MODE_ENFORCE);
	assert_int_equal(t.v[0].revocation, DS_REVOCATION_REQUIRE);
	assert_int_equal(t.v[0].ca_files.n, 1);
	assert_int_equal(t.v[0].pin_files.n, 1);
	assert_non_null(strstr(t.v[0].ca_files.v[0], dir));   /* resolved */
	assert_int_equal(t.v[0].line, 3);
	assert_string_equal(t.v[0].source, path);

	assert_string_equal(t.v[1].domain, "tailspin.com");
	assert_int_equal(t.v[1].subdomains, 1);
	assert_int_equal(t.v[1].direction, DS_DIR_RECEIVE);
	assert_int_equal(t.v[1].mode, DS_MODE_MONITOR);
	assert_int_equal(t.v[1].revocation, DS_REVOCATION_SOFT);
	assert_int_equal(t.v[1].line, 5);

	/* Defaults. */
	assert_int_equal(t.v[2].direction, DS_DIR_BOTH);
	assert_int_equal(t.v[2].mode, DS_MODE_ENFORCE);
	assert_int_equal(t.v[2].revocation, DS_REVOCATION_REQUIRE);
	assert_int_equal(t.v[2].pin_files.n, 0);

	assert_int_equal(t.v[3].direction, DS_DIR_SEND);
	assert_int_equal(t.v[3].revocation, DS_REVOCATION_NONE);
	ds_partners_free(&t);
	assert_int_equal(t.n, 0);
}

static void empty_table(void **state)
{
	struct ds_partner_table t = { 0 };
	char err[256];
	(void)state;
	assert_int_equal(load("# nothing\n\n   \n", &t, err, sizeof err), 0);
	assert_int_equal(t.n, 0);
	assert_null(ds_partners_lookup(&t, "woodgrovebank.com", DS_DIR_RECEIVE));
	ds_partners_free(&t);
}

/* Expects content to fail with "partners:LINE:" and needle in the message,
 * and *out untouched. */
static void expect_error(const char *content, int line, const char *needle)
{
	struct ds_partner_table t = { (struct ds_partner *)0x1, 42 };
	char err[1024] = "", where[64];
	assert_int_equal(load(content, &t, err, sizeof err), -1);
	snprintf(where, sizeof where, "partners:%d: ", line);
	if (strstr(err, where) == NULL || strstr(err, needle) == NULL)
		fail_msg("error \"%s\" lacks \"%s\" or \"%s\"", err, where, needle);
	assert_ptr_equal(t.v, (struct ds_partner *)0x1);
	assert_int_equal(t.n, 42);
}

static void errors(void **state)
{
	(void)state;
	expect_error("a.example\nwoodgrovebank.com colour=blue\n", 2,
	    "unknown partner option \"colour\"");
	expect_error("woodgrovebank.com direction=sideways\n", 1, "direction=sideways");
	expect_error("woodgrovebank.com mode=strict\n", 1, "mode=strict");
	expect_error("woodgrovebank.com revocation=maybe\n", 1, "revocation=maybe");
	expect_error("woodgrovebank.com mode=monitor mode=enforce\n", 1, "twice");
	expect_error("woodgrovebank.com enforce\n", 1, "not key=value");
	expect_error("woodgrovebank.com ca=\n", 1, "no value");
	expect_error("woodgrovebank.com\nx.example\nWOODGROVEBANK.COM.\n", 3,
	    "listed twice (first at line 1)");
	expect_error(".tailspin.com\n.tailspin.com mode=monitor\n", 2, "listed twice");
	expect_error("woodgrovebank.com pin=missing.pem\n", 1, "missing.pem");
	expect_error("woodgrovebank.com pin=empty.pem\n", 1, "no PEM certificate");
	expect_error("woodgrovebank.com ca=.\n", 1, "not a regular file");
	expect_error("wood_grove.com\n", 1, "not a valid domain");
	expect_error("*.woodgrovebank.com\n", 1, "not a wildcard");
	expect_error("com\n", 1, "top-level");
	expect_error("a.example\nco.uk\n", 2, "partner \"co.uk\" is a public suffix");
	expect_error(".co.uk\n", 1, "partner \".co.uk\" is a public suffix");
	expect_error("github.io\n", 1, "public suffix");
	expect_error("CO.UK.\n", 1, "public suffix");
	expect_error("192.0.2.1\n", 1, "not a valid domain");
	expect_error("mode=monitor\n", 1, "starts with its domain");
	expect_error("woodgrovebank.com mode=monitor \\\n", 1, "backslash");
	expect_error("a.example\n\\\nb.example\n", 2, "continued line");
}

static void nul_byte(void **state)
{
	struct ds_partner_table t = { 0 };
	char err[256] = "";
	(void)state;
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fwrite("a.example\nb.exa\0mple\n", 1, 21, f);
	fclose(f);
	assert_int_equal(ds_partners_load(path, &t, err, sizeof err), -1);
	assert_non_null(strstr(err, "partners:2: "));
	assert_non_null(strstr(err, "NUL"));
}

static void missing_file(void **state)
{
	struct ds_partner_table t = { 0 };
	char err[256] = "";
	(void)state;
	assert_int_equal(ds_partners_load("/nonexistent/partners", &t, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "/nonexistent/partners"));
}

static void lookup_precedence(void **state)
{
	struct ds_partner_table t = { 0 };
	char err[512] = "";
	(void)state;
	assert_int_equal(load(".tailspin.com mode=monitor\n"
	    ".sales.tailspin.com\n"
	    "eu.sales.tailspin.com direction=send\n"
	    "woodgrovebank.com direction=receive\n"
	    ".woodgrovebank.com direction=both\n", &t, err, sizeof err), 0);

	const struct ds_partner *p;
	p = ds_partners_lookup(&t, "mail.tailspin.com", DS_DIR_RECEIVE);
	assert_non_null(p);
	assert_string_equal(p->domain, "tailspin.com");
	/* Longest dot entry wins. */
	p = ds_partners_lookup(&t, "x.sales.tailspin.com", DS_DIR_RECEIVE);
	assert_non_null(p);
	assert_string_equal(p->domain, "sales.tailspin.com");
	/* Exact wins over dot; direction filters first. */
	p = ds_partners_lookup(&t, "eu.sales.tailspin.com", DS_DIR_SEND);
	assert_non_null(p);
	assert_int_equal(p->subdomains, 0);
	p = ds_partners_lookup(&t, "EU.Sales.Tailspin.COM.", DS_DIR_RECEIVE);
	assert_non_null(p);
	assert_string_equal(p->domain, "sales.tailspin.com");
	assert_int_equal(p->subdomains, 1);
	/* A dot entry does not cover its apex. */
	assert_null(ds_partners_lookup(&t, "tailspin.com", DS_DIR_RECEIVE));
	assert_null(ds_partners_lookup(&t, "xtailspin.com", DS_DIR_RECEIVE));
	/* Exact receive-only entry: not for send, dot entry doesn't cover apex. */
	p = ds_partners_lookup(&t, "WoodGroveBank.com", DS_DIR_RECEIVE);
	assert_non_null(p);
	assert_int_equal(p->direction, DS_DIR_RECEIVE);
	assert_null(ds_partners_lookup(&t, "woodgrovebank.com", DS_DIR_SEND));
	p = ds_partners_lookup(&t, "mail.woodgrovebank.com", DS_DIR_SEND);
	assert_non_null(p);
	assert_int_equal(p->subdomains, 1);
	/* DS_DIR_BOTH asks for both directions. */
	assert_null(ds_partners_lookup(&t, "woodgrovebank.com", DS_DIR_BOTH));
	/* Odd input. */
	assert_null(ds_partners_lookup(&t, "", DS_DIR_RECEIVE));
	assert_null(ds_partners_lookup(&t, ".", DS_DIR_RECEIVE));
	assert_null(ds_partners_lookup(&t, NULL, DS_DIR_RECEIVE));
	assert_null(ds_partners_lookup(NULL, "tailspin.com", DS_DIR_RECEIVE));
	ds_partners_free(&t);
}

static void covers(void **state)
{
	struct ds_partner_table t = { 0 };
	char err[512] = "";
	(void)state;
	assert_int_equal(load("woodgrovebank.com\n.tailspin.com\n", &t, err,
	    sizeof err), 0);
	const struct ds_partner *exact = &t.v[0], *dot = &t.v[1];
	assert_int_equal(ds_partner_covers(exact, "woodgrovebank.com"), 1);
	assert_int_equal(ds_partner_covers(exact, "WOODGROVEBANK.COM."), 1);
	assert_int_equal(ds_partner_covers(exact, "mail.woodgrovebank.com"), 0);
	assert_int_equal(ds_partner_covers(exact, "evil.example"), 0);
	assert_int_equal(ds_partner_covers(dot, "sales.tailspin.com"), 1);
	assert_int_equal(ds_partner_covers(dot, "a.b.tailspin.com"), 1);
	assert_int_equal(ds_partner_covers(dot, "tailspin.com"), 0);
	assert_int_equal(ds_partner_covers(dot, "eviltailspin.com"), 0);
	assert_int_equal(ds_partner_covers(dot, ""), 0);
	assert_int_equal(ds_partner_covers(NULL, "tailspin.com"), 0);
	ds_partners_free(&t);
}

static void names(void **state)
{
	(void)state;
	assert_string_equal(ds_direction_name(DS_DIR_RECEIVE), "receive");
	assert_string_equal(ds_direction_name(DS_DIR_SEND), "send");
	assert_string_equal(ds_direction_name(DS_DIR_BOTH), "both");
	assert_string_equal(ds_mode_name(DS_MODE_MONITOR), "monitor");
	assert_string_equal(ds_mode_name(DS_MODE_ENFORCE), "enforce");
	assert_string_equal(ds_revocation_name(DS_REVOCATION_SOFT), "soft");
	assert_string_equal(ds_revocation_name(DS_REVOCATION_NONE), "none");
	assert_string_equal(ds_revocation_name(DS_REVOCATION_REQUIRE), "require");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_table),
		cmocka_unit_test(empty_table),
		cmocka_unit_test(errors),
		cmocka_unit_test(nul_byte),
		cmocka_unit_test(missing_file),
		cmocka_unit_test(lookup_precedence),
		cmocka_unit_test(covers),
		cmocka_unit_test(names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
