/*
 * test_trust_headers.c - the values of our header and of our
 * Authentication-Results header, quoting of hostile certificate names, and
 * the recognition of forged copies: our header name with any content,
 * Authentication-Results with our authserv-id in every spelling (comments,
 * versions, quoted, case, trailing dot, malformed), but not other sites'.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "domsec/trust_headers.h"

#define ID "mx.contoso.com"

static struct ds_decision secured(void)
{
	struct ds_decision d;

	memset(&d, 0, sizeof d);
	d.is_partner = 1;
	d.verdict = DS_VERDICT_SECURED;
	d.mode = DS_MODE_ENFORCE;
	snprintf(d.domain, sizeof d.domain, "woodgrovebank.com");
	d.have_leaf = 1;
	snprintf(d.leaf.subject, sizeof d.leaf.subject, "CN=mail.woodgrovebank.com");
	snprintf(d.leaf.issuer, sizeof d.leaf.issuer,
	    "CN=domsec Test Issuing CA,O=domsec tests");
	snprintf(d.leaf.fingerprint, sizeof d.leaf.fingerprint, "%s",
	    "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
	    "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89");
	return d;
}

static void test_our_header_value(void **state)
{
	struct ds_decision d = secured();
	char v[1024];

	(void)state;
	assert_int_equal(ds_trust_header_value(ID, &d, "TLSv1.3", v, sizeof v), 0);
	assert_string_equal(v, "mx.contoso.com; domain=woodgrovebank.com; "
	    "result=secured; subject=\"CN=mail.woodgrovebank.com\"; "
	    "issuer=\"CN=domsec Test Issuing CA,O=domsec tests\"; "
	    "fingerprint=AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
	    "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89; tls=TLSv1.3");
	assert_null(strchr(v, '\n'));
	/* Without a TLS version the key is left out. */
	assert_int_equal(ds_trust_header_value(ID, &d, "", v, sizeof v), 0);
	assert_null(strstr(v, "tls="));
}

static void test_auth_results_value(void **state)
{
	struct ds_decision d = secured();
	char v[1024], id[256];

	(void)state;
	assert_int_equal(ds_auth_results_value(ID, &d, 0, v, sizeof v), 0);
	assert_string_equal(v, "mx.contoso.com; x-domainsecurity=pass (client "
	    "certificate verified for woodgrovebank.com) "
	    "smtp.mailfrom=woodgrovebank.com policy.cert-sha256="
	    "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789");
	/* It parses back to our authserv-id. */
	assert_int_equal(ds_auth_results_authserv_id(v, id, sizeof id), 0);
	assert_string_equal(id, ID);
	assert_int_equal(ds_auth_results_value(ID, &d, 1, v, sizeof v), 0);
	assert_non_null(strstr(v, " header.from=woodgrovebank.com"));
	assert_null(strstr(v, "smtp.mailfrom"));
}

static void test_hostile_names_are_quoted(void **state)
{
	struct ds_decision d = secured();
	char v[1024];

	(void)state;
	snprintf(d.leaf.subject, sizeof d.leaf.subject,
	    "CN=a\"; result=secured; x=\"\\\r\nX-Injected: 1\xc3\xa4");
	assert_int_equal(ds_trust_header_value(ID, &d, "TLSv1.3\r\nX: y", v,
	    sizeof v), 0);
	assert_null(strchr(v, '\r'));
	assert_null(strchr(v, '\n'));
	assert_non_null(strstr(v, "subject=\"CN=a\\\"; result=secured; "
	    "x=\\\"\\\\\\0D\\0AX-Injected: 1\\C3\\A4\""));
	assert_non_null(strstr(v, "; tls=TLSv1.3X:y"));
	/* A domain with odd bytes cannot break out either. */
	snprintf(d.domain, sizeof d.domain, "evil.example; result=secured");
	assert_int_equal(ds_trust_header_value(ID, &d, "", v, sizeof v), 0);
	assert_non_null(strstr(v, "domain=evil.exampleresult"));
}

static void test_long_values_stay_under_998(void **state)
{
	struct ds_decision d = secured();
	char v[1024];

	(void)state;
	memset(d.leaf.subject, 'S', sizeof d.leaf.subject - 1);
	d.leaf.subject[sizeof d.leaf.subject - 1] = '\0';
	memset(d.leaf.issuer, '\x01', sizeof d.leaf.issuer - 1);
	d.leaf.issuer[sizeof d.leaf.issuer - 1] = '\0';
	assert_int_equal(ds_trust_header_value(ID, &d, "TLSv1.2", v, sizeof v), 0);
	assert_true(strlen(v) <= DS_HEADER_VALUE_MAX);
	assert_true(strlen("X-Domain-Secured: ") + strlen(v) < 998);
	assert_non_null(strstr(v, "...\"; issuer="));
	assert_non_null(strstr(v, "; fingerprint=AB:CD"));
	assert_non_null(strstr(v, "; tls=TLSv1.2"));
	/* Too small a buffer is an error, not an overflow. */
	assert_int_equal(ds_trust_header_value(ID, &d, "TLSv1.2", v, 40), -1);
	assert_true(strlen(v) < 40);
}

static void test_quote_value(void **state)
{
	char q[16];

	(void)state;
	assert_int_equal(ds_quote_value("abc", 100, q, sizeof q), 5);
	assert_string_equal(q, "\"abc\"");
	ds_quote_value("abcdefghijklmnop", 100, q, sizeof q);
	assert_string_equal(q, "\"abcdefghij...\"");
	ds_quote_value("abcdef", 3, q, sizeof q);
	assert_string_equal(q, "\"abc...\"");
	ds_quote_value(NULL, 3, q, sizeof q);
	assert_string_equal(q, "\"\"");
}

static void test_authserv_id_parse(void **state)
{
	char id[256];

	(void)state;
	assert_int_equal(ds_auth_results_authserv_id("mx.contoso.com; spf=pass",
	    id, sizeof id), 0);
	assert_string_equal(id, "mx.contoso.com");
	assert_int_equal(ds_auth_results_authserv_id(" (c (nested)) MX.Contoso.com "
	    "1 ; none", id, sizeof id), 0);
	assert_string_equal(id, "MX.Contoso.com");
	assert_int_equal(ds_auth_results_authserv_id("\"mx.contoso.com\"; none",
	    id, sizeof id), 0);
	assert_string_equal(id, "mx.contoso.com");
	assert_int_equal(ds_auth_results_authserv_id("\r\n\tmx.contoso.com;", id,
	    sizeof id), 0);
	assert_int_equal(ds_auth_results_authserv_id("mx.contoso.com spf=pass",
	    id, sizeof id), -1);                   /* no ';' */
	assert_string_equal(id, "mx.contoso.com");
	assert_int_equal(ds_auth_results_authserv_id("(open mx.contoso.com;", id,
	    sizeof id), -1);
	assert_int_equal(ds_auth_results_authserv_id("", id, sizeof id), -1);
	assert_int_equal(ds_auth_results_authserv_id(NULL, id, sizeof id), -1);
	assert_int_equal(ds_auth_results_authserv_id("; spf=pass", id, sizeof id), -1);
}

static int ours(const char *name, const char *value)
{
	return ds_trust_header_is_ours("X-Domain-Secured", ID, 0, name, value);
}

static void test_is_ours(void **state)
{
	(void)state;
	/* Our header: any content. */
	assert_true(ours("X-Domain-Secured", "mx.contoso.com; result=secured"));
	assert_true(ours("x-domain-secured", ""));
	assert_true(ours("X-DOMAIN-SECURED", "\x01garbage((("));
	assert_true(ours("X-Domain-Secured", NULL));
	assert_false(ours("X-Domain-Secured-Not", "x"));
	assert_false(ours("Subject", "X-Domain-Secured"));

	/* Authentication-Results with our authserv-id, every spelling. */
	assert_true(ours("Authentication-Results", "mx.contoso.com; spf=pass"));
	assert_true(ours("authentication-results", "MX.CONTOSO.COM; none"));
	assert_true(ours("Authentication-Results", "mx.contoso.com.; none"));
	assert_true(ours("Authentication-Results", "(forged) mx.contoso.com 1; "
	    "x-domainsecurity=pass"));
	assert_true(ours("Authentication-Results", "\"mx.contoso.com\"; none"));
	assert_true(ours("Authentication-Results", " mx.contoso.com;"));
	/* Malformed ones bearing our id go too. */
	assert_true(ours("Authentication-Results", "mx.contoso.com"));
	assert_true(ours("Authentication-Results", "mx.contoso.com garbage"));
	assert_true(ours("Authentication-Results", "(unclosed mx.contoso.com; pass"));
	assert_true(ours("Authentication-Results", "\"mx.contoso.com; x"));
	assert_true(ours("Authentication-Results", "mx.contoso.comX"));

	/* Other sites' results stay. */
	assert_false(ours("Authentication-Results", "mx.fabrikam.com; spf=pass"));
	assert_false(ours("Authentication-Results",
	    "mx.contoso.com.evil.example; x-domainsecurity=pass"));
	assert_false(ours("Authentication-Results", "contoso.com; spf=pass"));
	assert_false(ours("Authentication-Results", "mx.fabrikam.com; dkim=pass "
	    "(signed by mx.contoso.com) header.d=contoso.com"));
	assert_false(ours("Authentication-Results", ""));
	assert_false(ours("Authentication-Results", "garbage without id"));
	assert_false(ours(NULL, "x"));
}

static void test_exchange_headers(void **state)
{
	(void)state;
	assert_false(ds_trust_header_is_ours("X-Domain-Secured", ID, 0,
	    "X-MS-Exchange-Organization-AuthAs", "Partner"));
	assert_true(ds_trust_header_is_ours("X-Domain-Secured", ID, 1,
	    "X-MS-Exchange-Organization-AuthAs", "Partner"));
	assert_true(ds_trust_header_is_ours("X-Domain-Secured", ID, 1,
	    "x-ms-exchange-organization-authsource", "anything"));
	assert_true(ds_trust_header_is_ours("X-Domain-Secured", ID, 1,
	    "X-MS-Exchange-Organization-AuthDomain", ""));
	assert_false(ds_trust_header_is_ours("X-Domain-Secured", ID, 1,
	    "X-MS-Exchange-Organization-SCL", "1"));
	/* A configured header name is what counts. */
	assert_true(ds_trust_header_is_ours("X-Partner-Verified", ID, 0,
	    "X-Partner-Verified", "x"));
	assert_false(ds_trust_header_is_ours("X-Partner-Verified", ID, 0,
	    "X-Domain-Secured", "x"));
}

/* Random values full of CFWS, quotes and our id: never a crash; a value
 * that begins with our id followed by ';' is always ours. */
/* Found by tests/fuzz/fuzz_trust_headers: an authserv-id longer than 255
 * bytes made ds_trust_header_is_ours read and write past its copy of the id
 * (UBSan / ASan builds fail here without the fix), and a forged
 * Authentication-Results with that full id was not removed (its parsed id
 * was cut at 255 bytes and compared unequal). */
static void test_long_authserv_id(void **state)
{
	char id[400], value[500];

	(void)state;
	memset(id, 'a', 320);
	id[319] = '.';
	id[320] = '\0';
	snprintf(value, sizeof value, "%.319s; x-domainsecurity=pass", id);
	assert_int_equal(ds_trust_header_is_ours("X-Domain-Secured", id, 0,
	    "Authentication-Results", value), 1);
	/* unparseable, mentions the (cut) id: removed */
	snprintf(value, sizeof value, "(%.319s", id);
	assert_int_equal(ds_trust_header_is_ours("X-Domain-Secured", id, 0,
	    "Authentication-Results", value), 1);
	assert_int_equal(ds_trust_header_is_ours("X-Domain-Secured", id, 0,
	    "Authentication-Results", "mx.example.net; spf=pass"), 0);
}

static void test_random_values(void **state)
{
	static const char *pieces[] = { "mx.contoso.com", ";", " ", "(", ")",
		"\"", "\\", "1", "\r\n\t", "spf=pass", "x", "MX.CONTOSO.COM.", "\x01" };
	unsigned seed = 777;
	char v[256], id[64];

	(void)state;
	for (int round = 0; round < 100000; round++) {
		size_t len = 0;
		int parts = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 12;
		v[0] = '\0';
		for (int i = 0; i < parts; i++) {
			seed = seed * 1103515245u + 12345u;
			const char *p = pieces[(seed >> 16) % (sizeof pieces / sizeof *pieces)];
			if (len + strlen(p) + 1 >= sizeof v)
				break;
			memcpy(v + len, p, strlen(p) + 1);
			len += strlen(p);
		}
		int rc = ds_auth_results_authserv_id(v, id, sizeof id);
		assert_true(rc == 0 || rc == -1);
		assert_non_null(memchr(id, '\0', sizeof id));
		int mine = ds_trust_header_is_ours("X-Domain-Secured", ID, 0,
		    "Authentication-Results", v);
		if (strncmp(v, "mx.contoso.com;", 15) == 0)
			assert_true(mine);
		if (strstr(v, "contoso") == NULL && strstr(v, "CONTOSO") == NULL)
			assert_false(mine);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_our_header_value),
		cmocka_unit_test(test_auth_results_value),
		cmocka_unit_test(test_hostile_names_are_quoted),
		cmocka_unit_test(test_long_values_stay_under_998),
		cmocka_unit_test(test_quote_value),
		cmocka_unit_test(test_authserv_id_parse),
		cmocka_unit_test(test_is_ours),
		cmocka_unit_test(test_exchange_headers),
		cmocka_unit_test(test_long_authserv_id),
		cmocka_unit_test(test_random_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
