/*
 * test_frontend.c - unit tests for the pure parts of domsecd's front ends:
 * milter macros to facts (milter/mtafacts.c) and Postfix policy requests
 * (policy/request.c), linked from libdomsec-frontend.a.
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
#include "milter/mtafacts.h"
#include "policy/request.h"

/* ---- milter macros ---- */

struct macro { const char *name, *value; };
static const struct macro *macros;

static const char *get_macro(void *arg, const char *name)
{
	(void)arg;
	for (const struct macro *m = macros; m->name != NULL; m++)
		if (strcmp(m->name, name) == 0)
			return m->value;
	return NULL;
}

static void test_macros_postfix(void **state)
{
	static const struct macro verified[] = {
		{ "{tls_version}", "TLSv1.3" }, { "{cipher}", "TLS_AES_256_GCM_SHA384" },
		{ "{cipher_bits}", "256" }, { "{cert_subject}", "woodgrovebank.com" },
		{ "{cert_issuer}", "domsec+20Test+20Issuing+20CA" }, { NULL, NULL } };
	static const struct macro unverified[] = {
		{ "{tls_version}", "TLSv1.2" }, { NULL, NULL } };
	static const struct macro clear[] = { { "i", "ABC" }, { NULL, NULL } };
	struct ds_facts f;
	(void)state;

	ds_facts_init(&f);
	macros = verified;
	ds_facts_from_macros(&f, get_macro, NULL);
	assert_int_equal(f.tls, 1);
	assert_string_equal(f.tls_version, "TLSv1.3");
	assert_int_equal(f.cipher_bits, 256);
	assert_int_equal(f.cert_presented, 1);
	assert_int_equal(f.mta_verified, 1);
	assert_string_equal(f.cert_issuer, "domsec Test Issuing CA");
	assert_int_equal(f.have_fp, 0);

	macros = unverified;
	ds_facts_from_macros(&f, get_macro, NULL);
	assert_int_equal(f.tls, 1);
	assert_int_equal(f.cert_presented, -1);  /* Postfix cannot tell */
	assert_string_equal(f.cert_subject, "");

	macros = clear;
	ds_facts_from_macros(&f, get_macro, NULL);
	assert_int_equal(f.tls, 0);
	assert_int_equal(f.cert_presented, 0);
}

static void test_macros_sendmail(void **state)
{
	static const struct macro ok[] = {
		{ "{tls_version}", "TLSv1.3" }, { "{verify}", "OK" },
		{ "{cert_subject}", "/C=US/O=Woodgrove+20Bank/CN=woodgrovebank.com" },
		{ "{cert_fp}", "aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:"
		    "aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99" },
		{ NULL, NULL } };
	static const struct macro fail[] = {
		{ "{tls_version}", "TLSv1.3" }, { "{verify}", "FAIL" },
		{ "{cert_fp}", "not-a-fingerprint" }, { NULL, NULL } };
	static const struct macro no[] = {
		{ "{tls_version}", "TLSv1.3" }, { "{verify}", "NO" }, { NULL, NULL } };
	static const struct macro none[] = { { "{verify}", "NONE" }, { NULL, NULL } };
	static const struct macro md5[] = {
		{ "{tls_version}", "TLSv1.3" }, { "{verify}", "OK" },
		{ "{cert_fp}", "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99" },
		{ NULL, NULL } };
	struct ds_facts f;
	(void)state;

	ds_facts_init(&f);
	macros = ok;
	ds_facts_from_macros(&f, get_macro, NULL);
	assert_int_equal(f.cert_presented, 1);
	assert_int_equal(f.mta_verified, 1);
	assert_int_equal(f.have_fp, 1);
	assert_int_equal(f.fp[0], 0xaa);
	assert_int_equal(f.fp[31], 0x99);
	/* Sendmail's slash form becomes the RFC 4514 style logged everywhere */
	assert_string_equal(f.cert_subject, "CN=woodgrovebank.com, O=Woodgrove Bank, C=US");

	macros = fail;
	ds_facts_from_macros(&f, get_macro, NULL);
	assert_int_equal(f.cert_presented, 1);
	assert_int_equal(f.mta_verified, 0);
	assert_int_equal(f.have_fp, 0);

	macros = no;
	ds_facts_from_macros(&f, get_macro, NULL);
	assert_int_equal(f.tls, 1);
	assert_int_equal(f.cert_presented, 0);

	macros = none;
	ds_facts_from_macros(&f, get_macro, NULL);
	assert_int_equal(f.tls, 0);

	macros = md5;   /* MD5 (16 bytes) is not a SHA-256 fingerprint */
	ds_facts_from_macros(&f, get_macro, NULL);
	assert_int_equal(f.have_fp, 0);
}

static void test_merge_policy(void **state)
{
	struct ds_facts milter, policy;
	(void)state;
	ds_facts_init(&milter);
	ds_facts_init(&policy);
	milter.tls = 1;
	policy.tls = 1;
	policy.cert_presented = 1;
	policy.mta_verified = 0;
	policy.have_fp = 1;
	policy.fp[0] = 0x42;
	assert_int_equal(ds_facts_merge_policy(&milter, &policy), 1);
	assert_int_equal(milter.have_fp, 1);
	assert_int_equal(milter.fp[0], 0x42);
	assert_int_equal(milter.cert_presented, 1);
	/* a fingerprint the milter already has is kept */
	policy.fp[0] = 0x43;
	assert_int_equal(ds_facts_merge_policy(&milter, &policy), 0);
	assert_int_equal(milter.fp[0], 0x42);
}

/* ---- policy requests ---- */

static void feed(struct ds_policy_request *r, const char *const *lines)
{
	ds_policy_request_init(r);
	for (; *lines != NULL; lines++)
		assert_int_equal(ds_policy_request_line(r, *lines), 0);
	assert_int_equal(ds_policy_request_line(r, ""), 1);
}

static void test_policy_request_tls(void **state)
{
	static const char *const lines[] = {
		"request=smtpd_access_policy", "protocol_state=RCPT",
		"protocol_name=ESMTP", "client_address=192.0.2.1",
		"client_port=41234", "helo_name=mail.woodgrovebank.com",
		"sender=a@woodgrovebank.com", "recipient=b@contoso.com",
		"queue_id=", "encryption_protocol=TLSv1.3",
		"encryption_cipher=TLS_AES_256_GCM_SHA384", "encryption_keysize=256",
		"ccert_subject=woodgrovebank.com",
		"ccert_issuer=domsec+20Test+20Issuing+20CA",
		"ccert_fingerprint=AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:"
		    "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99",
		"ccert_pubkey_fingerprint=11:22", "unknown_attribute=whatever", NULL };
	struct ds_policy_request r;
	struct ds_facts f;
	(void)state;
	feed(&r, lines);
	assert_string_equal(r.problem, "");
	assert_int_equal(ds_policy_request_facts(&r, &f), 0);
	assert_string_equal(f.client_addr, "192.0.2.1");
	assert_int_equal(f.client_port, 41234);
	assert_int_equal(f.tls, 1);
	assert_int_equal(f.cipher_bits, 256);
	assert_int_equal(f.cert_presented, 1);
	assert_int_equal(f.mta_verified, 1);
	assert_int_equal(f.have_fp, 1);
	assert_string_equal(f.cert_issuer, "domsec Test Issuing CA");
	assert_string_equal(f.sender, "a@woodgrovebank.com");
}

static void test_policy_request_clear_and_unverified(void **state)
{
	static const char *const clear[] = {
		"request=smtpd_access_policy", "protocol_state=RCPT",
		"client_address=192.0.2.1", "client_port=1", "encryption_protocol=",
		"sender=", NULL };
	static const char *const unverified[] = {
		"request=smtpd_access_policy", "client_address=2001:db8::1",
		"client_port=25", "encryption_protocol=TLSv1.2", "ccert_subject=",
		"ccert_fingerprint=AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:"
		    "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99",
		NULL };
	static const char *const noport[] = {
		"request=smtpd_access_policy", "client_address=192.0.2.1",
		"client_port=99999", NULL };
	struct ds_policy_request r;
	struct ds_facts f;
	(void)state;
	feed(&r, clear);
	assert_int_equal(ds_policy_request_facts(&r, &f), 0);
	assert_int_equal(f.tls, 0);
	assert_int_equal(f.cert_presented, 0);
	assert_string_equal(f.sender, "");
	feed(&r, unverified);
	assert_int_equal(ds_policy_request_facts(&r, &f), 0);
	assert_int_equal(f.cert_presented, 1);
	assert_int_equal(f.mta_verified, 0);
	assert_int_equal(f.have_fp, 1);
	feed(&r, noport);
	assert_int_equal(ds_policy_request_facts(&r, &f), -1);
}

static void test_policy_request_malformed(void **state)
{
	struct ds_policy_request r;
	char longval[2000];
	(void)state;
	ds_policy_request_init(&r);
	assert_int_equal(ds_policy_request_line(&r, "no equals sign"), 0);
	assert_string_not_equal(r.problem, "");

	ds_policy_request_init(&r);
	assert_int_equal(ds_policy_request_line(&r, "=value"), 0);
	assert_string_not_equal(r.problem, "");

	ds_policy_request_init(&r);
	assert_int_equal(ds_policy_request_line(&r, "sender=a\001b"), 0);
	assert_non_null(strstr(r.problem, "control"));

	ds_policy_request_init(&r);
	memset(longval, 'x', sizeof longval - 1);
	longval[sizeof longval - 1] = '\0';
	memcpy(longval, "sender=", 7);
	ds_policy_request_line(&r, longval);
	assert_non_null(strstr(r.problem, "too long"));
	assert_int_equal(strlen(r.sender), sizeof r.sender - 1);

	ds_policy_request_init(&r);
	for (int i = 0; i < DS_POLICY_MAX_ATTRS + 5; i++)
		ds_policy_request_line(&r, "x=y");
	assert_non_null(strstr(r.problem, "too many"));
}

static void test_policy_action(void **state)
{
	char out[128];
	(void)state;
	ds_policy_format_action(out, sizeof out, NULL, NULL, NULL);
	assert_string_equal(out, "action=DUNNO");
	ds_policy_format_action(out, sizeof out, "550", "5.7.1",
	    "certificate for woodgrovebank.com revoked");
	assert_string_equal(out, "action=550 5.7.1 certificate for woodgrovebank.com revoked");
	/* a newline in the text cannot start a second attribute */
	ds_policy_format_action(out, sizeof out, "451", "4.7.5", "a\nb\r");
	assert_string_equal(out, "action=451 4.7.5 a b ");
	/* long texts are cut */
	char big[1000], line[1200];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ds_policy_format_action(line, sizeof line, "550", "5.7.1", big);
	assert_int_equal(strlen(line), strlen("action=550 5.7.1 ") + DS_REPLY_TEXT_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_macros_postfix),
		cmocka_unit_test(test_macros_sendmail),
		cmocka_unit_test(test_merge_policy),
		cmocka_unit_test(test_policy_request_tls),
		cmocka_unit_test(test_policy_request_clear_and_unverified),
		cmocka_unit_test(test_policy_request_malformed),
		cmocka_unit_test(test_policy_action),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
