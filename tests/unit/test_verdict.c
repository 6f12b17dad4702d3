/*
 * test_verdict.c - the SMTP replies of the verdicts (lib/verdict.c): codes,
 * a text that names domain and reason without repeating itself, and long
 * reasons cut between words within DS_REPLY_TEXT_MAX bytes.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "domsec/verdict.h"

static void test_codes_and_text(void **state)
{
	struct ds_reply r;

	(void)state;
	assert_int_equal(ds_verdict_reply(DS_VERDICT_NO_TLS, "woodgrovebank.com",
	    "mail from woodgrovebank.com must arrive over TLS; this session was "
	    "not encrypted", &r), 0);
	assert_string_equal(r.rcode, "530");
	assert_string_equal(r.xcode, "5.7.0");
	/* the reason only repeats the verdict: not appended */
	assert_string_equal(r.text, "Domain Security for woodgrovebank.com: "
	    "requires TLS: the session was not encrypted");
	assert_int_equal(ds_verdict_reply(DS_VERDICT_REVOKED, "woodgrovebank.com",
	    "serial 1A2B listed on http://crl.example/a.crl", &r), 0);
	assert_string_equal(r.rcode, "550");
	assert_string_equal(r.text, "Domain Security for woodgrovebank.com: "
	    "certificate revoked (serial 1A2B listed on http://crl.example/a.crl)");
	assert_int_equal(ds_verdict_reply(DS_VERDICT_REVOCATION_UNAVAILABLE, "d.example",
	    "x", &r), 0);
	assert_string_equal(r.rcode, "451");
	assert_string_equal(r.xcode, "4.7.5");
	assert_int_equal(ds_verdict_reply(DS_VERDICT_SECURED, "d.example", "x", &r), 1);
}

static void test_long_reason_cut_between_words(void **state)
{
	char reason[1000] = "";
	struct ds_reply r;
	size_t n;

	(void)state;
	while (strlen(reason) < 900)
		strncat(reason, "certificate chain element ", sizeof reason - strlen(reason) - 1);
	assert_int_equal(ds_verdict_reply(DS_VERDICT_UNTRUSTED, "woodgrovebank.com",
	    reason, &r), 0);
	n = strlen(r.text);
	assert_true(n <= DS_REPLY_TEXT_MAX);
	assert_true(n > DS_REPLY_TEXT_MAX / 2);
	assert_string_equal(r.text + n - 3, "...");
	/* the last word before "..." is whole */
	const char *words[] = { "certificate", "chain", "element" };
	const char *last = strrchr(r.text, ' ');
	assert_non_null(last);
	char tail[64];
	snprintf(tail, sizeof tail, "%.*s", (int)(n - 3 - (size_t)(last + 1 - r.text)), last + 1);
	int whole = 0;
	for (int i = 0; i < 3; i++)
		whole |= strcmp(tail, words[i]) == 0;
	assert_true(whole);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codes_and_text),
		cmocka_unit_test(test_long_reason_cut_between_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
