/*
 * test_facts.c - session facts: defaults, xtext decoding (well-formed and
 * malformed escapes, truncation, in place), and the domain of envelope and
 * header addresses in every shape MTAs and mail clients write them.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "domsec/facts.h"

static void test_facts_init(void **state)
{
	struct ds_facts f;

	(void)state;
	memset(&f, 0x5a, sizeof f);
	ds_facts_init(&f);
	assert_int_equal(f.client_port, -1);
	assert_int_equal(f.tls, -1);
	assert_int_equal(f.cert_presented, -1);
	assert_int_equal(f.mta_verified, -1);
	assert_int_equal(f.have_fp, 0);
	assert_int_equal(f.cipher_bits, 0);
	assert_string_equal(f.client_addr, "");
	assert_string_equal(f.sender, "");
	assert_string_equal(f.cert_subject, "");
}

static void test_xtext(void **state)
{
	char out[64];

	(void)state;
	ds_xtext_decode("CN+3Dmail.example.com", out, sizeof out);
	assert_string_equal(out, "CN=mail.example.com");
	ds_xtext_decode("/C=US/O=Wood+2Bgrove+20Bank", out, sizeof out);
	assert_string_equal(out, "/C=US/O=Wood+grove Bank");
	ds_xtext_decode("a+2cb", out, sizeof out);          /* lower-case hex */
	assert_string_equal(out, "a,b");
	ds_xtext_decode("plain", out, sizeof out);
	assert_string_equal(out, "plain");
	ds_xtext_decode("", out, sizeof out);
	assert_string_equal(out, "");
	ds_xtext_decode(NULL, out, sizeof out);
	assert_string_equal(out, "");
}

static void test_xtext_malformed(void **state)
{
	char out[64];

	(void)state;
	ds_xtext_decode("a+", out, sizeof out);             /* dangling + */
	assert_string_equal(out, "a+");
	ds_xtext_decode("a+4", out, sizeof out);            /* one digit */
	assert_string_equal(out, "a+4");
	ds_xtext_decode("a+GZb", out, sizeof out);          /* not hex */
	assert_string_equal(out, "a+GZb");
	ds_xtext_decode("+2+41", out, sizeof out);          /* "+2+" bad, then +41 */
	assert_string_equal(out, "+2A");
	ds_xtext_decode("x+00y", out, sizeof out);          /* NUL never ends it */
	assert_string_equal(out, "x?y");
}

static void test_xtext_truncation_and_in_place(void **state)
{
	char out[5], buf[32];

	(void)state;
	memset(out, 'Z', sizeof out);
	ds_xtext_decode("abcdefgh", out, sizeof out);
	assert_string_equal(out, "abcd");
	ds_xtext_decode("+41+42+43+44+45", out, sizeof out);
	assert_string_equal(out, "ABCD");
	ds_xtext_decode("abc", out, 1);
	assert_string_equal(out, "");
	ds_xtext_decode("abc", out, 0);                     /* no write at all */
	snprintf(buf, sizeof buf, "%s", "CN+3Dx+2By");
	ds_xtext_decode(buf, buf, sizeof buf);
	assert_string_equal(buf, "CN=x+y");
}

static void domain_is(const char *addr, const char *want)
{
	char out[256];

	assert_int_equal(ds_address_domain(addr, out, sizeof out), 0);
	assert_string_equal(out, want);
}

static void domain_bad(const char *addr)
{
	char out[256];

	assert_int_equal(ds_address_domain(addr, out, sizeof out), -1);
	assert_string_equal(out, "");
}

static void test_address_domain(void **state)
{
	(void)state;
	domain_is("user@Example.COM", "example.com");
	domain_is("<user@woodgrovebank.com>", "woodgrovebank.com");
	domain_is("  <user@woodgrovebank.com>  ", "woodgrovebank.com");
	domain_is("user@woodgrovebank.com.", "woodgrovebank.com");
	domain_is("<@relay1.example,@relay2.example:joe@Tailspin.com>",
	    "tailspin.com");
	domain_is("\"a@b\"@example.org", "example.org");
	domain_is("\"odd <name>\"@example.org", "example.org");
	domain_is("Joe Bloggs <joe@fabrikam.com>", "fabrikam.com");
	domain_is("\"Bloggs, Joe\" <joe@fabrikam.com>", "fabrikam.com");
	domain_is("joe@fabrikam.com (Joe)", "fabrikam.com");
	domain_is("\"x@evil.example\" <joe@fabrikam.com>", "fabrikam.com");
	domain_is("user@[192.0.2.1]", "[192.0.2.1]");
}

static void test_address_null_and_no_domain(void **state)
{
	(void)state;
	domain_is("<>", "");
	domain_is("", "");
	domain_is("  < >  ", "");
	domain_is(NULL, "");
	domain_is("postmaster", "");
	domain_is("<postmaster>", "");
}

static void test_address_malformed(void **state)
{
	char small[4];

	(void)state;
	domain_bad("user@");
	domain_bad("<user@example.com");                    /* no '>' */
	domain_bad("\"unterminated@example.com");
	domain_bad("user@exa mple.com");
	domain_bad("user@example..com");
	domain_bad("user@.example.com");
	domain_bad("<@relay-without-colon>");
	domain_bad("user@ex\x01mple.com");
	domain_bad("user@ex\xc3\xa4mple.com");              /* raw UTF-8 */
	domain_bad("(unterminated comment user@example.com");
	assert_int_equal(ds_address_domain("u@example.com", small, sizeof small), -1);
	assert_string_equal(small, "");
	assert_int_equal(ds_address_domain("u@example.com", NULL, 0), -1);
}

/* Random strings from an alphabet rich in the characters that matter:
 * never a crash, always a terminated, plausible result. */
static void test_random_input(void **state)
{
	static const char alphabet[] = "a@<>\"\\(),:;.+ -_[]\t\x01\xc3Z09";
	unsigned seed = 12345;
	char in[64], out[32], xt[64];

	(void)state;
	for (int round = 0; round < 200000; round++) {
		size_t n = (seed = seed * 1103515245u + 12345u) % sizeof in;
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
		}
		in[n] = '\0';
		memset(out, 'X', sizeof out);
		int rc = ds_address_domain(in, out, sizeof out);
		assert_true(rc == 0 || rc == -1);
		assert_non_null(memchr(out, '\0', sizeof out));
		if (rc == -1)
			assert_string_equal(out, "");
		for (const char *p = out; *p; p++)
			assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			    strchr(".-_[]:", *p) != NULL);
		ds_xtext_decode(in, xt, sizeof xt);
		assert_true(strlen(xt) <= n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_facts_init),
		cmocka_unit_test(test_xtext),
		cmocka_unit_test(test_xtext_malformed),
		cmocka_unit_test(test_xtext_truncation_and_in_place),
		cmocka_unit_test(test_address_domain),
		cmocka_unit_test(test_address_null_and_no_domain),
		cmocka_unit_test(test_address_malformed),
		cmocka_unit_test(test_random_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
