/*
 * test_x509info.c - unit tests for lib/x509info.c over the test PKI:
 * certificate facts cross-checked against the openssl command, fingerprint
 * parsing, PEM loading errors, time parsing and formatting.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <openssl/pem.h>
#include "domsec/x509info.h"
#include "fixture.h"

static X509 *load_one(const char *name)
{
	char err[256];
	STACK_OF(X509) *sk = ds_load_pem_certs(pki_path(name), err, sizeof err);
	assert_non_null(sk);
	X509 *x = sk_X509_shift(sk);
	sk_X509_pop_free(sk, X509_free);
	return x;
}

static void test_info_matches_openssl(void **state)
{
	(void)state;
	X509 *x = load_one("exact.pem");
	struct ds_cert_info info;
	assert_int_equal(ds_cert_info_get(x, &info), 0);
	assert_string_equal(info.subject, "CN=woodgrovebank.com");
	assert_string_equal(info.issuer, "CN=domsec Test Issuing CA, O=domsec tests");
	assert_string_equal(info.alt_names, "woodgrovebank.com");

	char cmd[700], want[256];
	snprintf(cmd, sizeof cmd, "openssl x509 -in %s -noout -serial",
	    pki_path("exact.pem"));
	snprintf(want, sizeof want, "serial=%s", info.serial);
	assert_string_equal(shell_line(cmd), want);

	snprintf(cmd, sizeof cmd,
	    "openssl x509 -in %s -noout -fingerprint -sha256",
	    pki_path("exact.pem"));
	snprintf(want, sizeof want, "sha256 Fingerprint=%s", info.fingerprint);
	assert_string_equal(shell_line(cmd), want);

	snprintf(cmd, sizeof cmd,
	    "openssl x509 -in %s -noout -fingerprint -sha1 | tr -d :",
	    pki_path("exact.pem"));
	snprintf(want, sizeof want, "sha1 Fingerprint=%s", info.thumbprint);
	assert_string_equal(shell_line(cmd), want);

	snprintf(cmd, sizeof cmd, "date -u -d \"$(openssl x509 -in %s -noout "
	    "-enddate | cut -d= -f2)\" +%%s", pki_path("exact.pem"));
	assert_int_equal((long long)info.not_after, atoll(shell_line(cmd)));
	assert_true(info.not_before < info.not_after);
	X509_free(x);
}

static void test_alt_names_joined(void **state)
{
	(void)state;
	X509 *x = load_one("contoso.pem");
	struct ds_cert_info info;
	assert_int_equal(ds_cert_info_get(x, &info), 0);
	assert_string_equal(info.alt_names, "mail.contoso.com;contoso.com");
	X509_free(x);

	x = load_one("cnonly.pem");
	assert_int_equal(ds_cert_info_get(x, &info), 0);
	assert_string_equal(info.alt_names, "");
	assert_string_equal(info.subject, "CN=mail.woodgrovebank.com");
	X509_free(x);

	x = load_one("cnnonascii.pem");
	assert_int_equal(ds_cert_info_get(x, &info), 0);
	assert_string_equal(info.subject, "CN=m\xc3\xaf" "crosoft.woodgrovebank.com");
	X509_free(x);
}

static void test_fingerprint_roundtrip(void **state)
{
	(void)state;
	X509 *x = load_one("exact.pem");
	unsigned char fp[DS_FP_SHA256_LEN], back[DS_FP_SHA256_LEN];
	char text[DS_FP_TEXT_LEN], lower[DS_FP_TEXT_LEN], bare[DS_FP_TEXT_LEN];
	assert_int_equal(ds_cert_fingerprint(x, fp), 0);
	ds_fingerprint_format(fp, text);
	assert_int_equal(strlen(text), 95);
	assert_int_equal(ds_fingerprint_parse(text, back), 0);
	assert_memory_equal(fp, back, sizeof fp);

	size_t j = 0;
	for (size_t i = 0; text[i]; i++) {
		lower[i] = (char)tolower((unsigned char)text[i]);
		lower[i + 1] = '\0';
		if (text[i] != ':')
			bare[j++] = text[i];
	}
	bare[j] = '\0';
	memset(back, 0, sizeof back);
	assert_int_equal(ds_fingerprint_parse(lower, back), 0);
	assert_memory_equal(fp, back, sizeof fp);
	memset(back, 0, sizeof back);
	assert_int_equal(ds_fingerprint_parse(bare, back), 0);
	assert_memory_equal(fp, back, sizeof fp);

	/* wrong lengths and characters */
	assert_int_equal(ds_fingerprint_parse("", back), -1);
	assert_int_equal(ds_fingerprint_parse("AB:CD", back), -1);
	bare[10] = 'G';
	assert_int_equal(ds_fingerprint_parse(bare, back), -1);
	char longer[DS_FP_TEXT_LEN + 4];
	snprintf(longer, sizeof longer, "%s:00", text);
	assert_int_equal(ds_fingerprint_parse(longer, back), -1);
	char split[DS_FP_TEXT_LEN];
	snprintf(split, sizeof split, "%s", text);
	split[1] = ':';   /* "A:..." : separator inside a byte */
	assert_int_equal(ds_fingerprint_parse(split, back), -1);
	assert_int_equal(ds_fingerprint_parse(NULL, back), -1);
	X509_free(x);
}

static void write_bytes(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void test_load_pem_chain_and_errors(void **state)
{
	(void)state;
	char err[256];
	STACK_OF(X509) *sk = ds_load_pem_certs(pki_path("exact-chain.pem"),
	    err, sizeof err);
	assert_non_null(sk);
	assert_int_equal(sk_X509_num(sk), 2);
	struct ds_cert_info info;
	assert_int_equal(ds_cert_info_get(sk_X509_value(sk, 1), &info), 0);
	assert_string_equal(info.subject, "CN=domsec Test Issuing CA, O=domsec tests");
	sk_X509_pop_free(sk, X509_free);

	err[0] = '\0';
	assert_null(ds_load_pem_certs(pki_path("no-such.pem"), err, sizeof err));
	assert_non_null(strstr(err, "no-such.pem: cannot open"));

	write_bytes(pki_path("garbage.pem"), "hello world\n", 12);
	err[0] = '\0';
	assert_null(ds_load_pem_certs(pki_path("garbage.pem"), err, sizeof err));
	assert_non_null(strstr(err, "garbage.pem: no certificate found"));

	write_bytes(pki_path("empty.pem"), "", 0);
	assert_null(ds_load_pem_certs(pki_path("empty.pem"), err, sizeof err));

	/* a PEM block whose base64 body is damaged */
	const char *bad = "-----BEGIN CERTIFICATE-----\nMIIB!!!!notbase64\n"
	    "-----END CERTIFICATE-----\n";
	write_bytes(pki_path("bad.pem"), bad, strlen(bad));
	err[0] = '\0';
	assert_null(ds_load_pem_certs(pki_path("bad.pem"), err, sizeof err));
	assert_non_null(strstr(err, "bad.pem: certificate 1 is malformed"));

	/* a good certificate followed by a truncated one */
	char cmd[800];
	snprintf(cmd, sizeof cmd, "cat %s > %s && head -c 300 %s >> %s",
	    pki_path("exact.pem"), pki_path("trunc.pem"),
	    pki_path("inter.pem"), pki_path("trunc.pem"));
	assert_int_equal(system(cmd), 0);
	err[0] = '\0';
	assert_null(ds_load_pem_certs(pki_path("trunc.pem"), err, sizeof err));
	assert_non_null(strstr(err, "certificate 2 is malformed"));

	/* DER is accepted too */
	snprintf(cmd, sizeof cmd, "openssl x509 -in %s -outform DER -out %s",
	    pki_path("exact.pem"), pki_path("exact.der"));
	assert_int_equal(system(cmd), 0);
	sk = ds_load_pem_certs(pki_path("exact.der"), err, sizeof err);
	assert_non_null(sk);
	assert_int_equal(sk_X509_num(sk), 1);
	sk_X509_pop_free(sk, X509_free);
}

static void test_time_parse_and_format(void **state)
{
	(void)state;
	time_t t;
	char buf[64];
	assert_int_equal(ds_time_parse("2026-11-22", &t), 0);
	assert_int_equal((long long)t, 1795305600LL);
	assert_int_equal(ds_time_parse("2026-11-22T16:50:36Z", &t), 0);
	assert_int_equal((long long)t, 1795305600LL + 16 * 3600 + 50 * 60 + 36);
	ds_time_format(t, buf, sizeof buf);
	assert_string_equal(buf, "2026-11-22 16:50:36Z");
	time_t t2;
	assert_int_equal(ds_time_parse("2026-11-22 16:50:36", &t2), 0);
	assert_int_equal((long long)t, (long long)t2);
	assert_int_equal(ds_time_parse(buf, &t2), 0);   /* our own output */
	assert_int_equal((long long)t, (long long)t2);
	assert_int_equal(ds_time_parse("@1700000000", &t), 0);
	assert_int_equal((long long)t, 1700000000LL);
	assert_int_equal(ds_time_parse("2024-02-29", &t), 0);

	const char *bad[] = { "", "2026", "2026-13-01", "2026-02-30",
	    "2023-02-29", "2026-11-22T25:00:00Z", "2026-11-22X", "@", "@12x",
	    "2026-+1-01", " 2026-11-22", "2026-11-22T1:2:3Z", "yesterday",
	    "2026-11-22T16:50:36Zjunk" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (ds_time_parse(bad[i], &t) == 0)
			fail_msg("accepted bad time \"%s\"", bad[i]);
	}
}

static void test_asn1_time(void **state)
{
	(void)state;
	ASN1_TIME *a = ASN1_TIME_new();
	assert_non_null(a);
	assert_int_equal(ASN1_TIME_set_string(a, "20460101000000Z"), 1);
	time_t t;
	assert_int_equal(ds_asn1_time_to_time_t(a, &t), 0);
	assert_int_equal((long long)t, 2398377600LL);
	assert_int_equal(ds_asn1_time_to_time_t(NULL, &t), -1);
	ASN1_TIME_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_info_matches_openssl),
		cmocka_unit_test(test_alt_names_joined),
		cmocka_unit_test(test_fingerprint_roundtrip),
		cmocka_unit_test(test_load_pem_chain_and_errors),
		cmocka_unit_test(test_time_parse_and_format),
		cmocka_unit_test(test_asn1_time),
	};
	return cmocka_run_group_tests_name("x509info", tests,
	    pki_group_setup, pki_group_teardown);
}
