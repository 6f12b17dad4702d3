/*
 * test_probe.c - the STARTTLS probe against tests/starttls_server.py on
 * loopback (real TLS, test PKI from tests/pki/mkpki.sh): the chain is
 * recorded leaf first, TLS version and cipher are reported, and every
 * failure (refused, no STARTTLS, 4xx greeting, hang) ends in words within
 * the deadline.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "domsec/probe.h"
#include "domsec/x509info.h"
#include "fixture.h"

static struct tls_fixture fx;

static int setup(void **state)
{
	(void)state;
	return tls_fixture_setup(&fx);
}

static int teardown(void **state)
{
	(void)state;
	tls_fixture_teardown(&fx);
	return 0;
}

static void leaf_name_is(STACK_OF(X509) *chain, const char *leaf_file)
{
	char err[256], path[1024];
	unsigned char want[DS_FP_SHA256_LEN], got[DS_FP_SHA256_LEN];

	snprintf(path, sizeof path, "%s/%s", fx.pki, leaf_file);
	STACK_OF(X509) *ref = ds_load_pem_certs(path, err, sizeof err);
	assert_non_null(ref);
	assert_int_equal(ds_cert_fingerprint(sk_X509_value(ref, 0), want), 0);
	assert_int_equal(ds_cert_fingerprint(sk_X509_value(chain, 0), got), 0);
	assert_memory_equal(want, got, DS_FP_SHA256_LEN);
	sk_X509_pop_free(ref, X509_free);
}

static void test_probe_records_chain(void **state)
{
	struct ds_probe_result res;
	int port;

	(void)state;
	port = tls_server_start(&fx, "exact", "127.0.0.1", NULL);
	assert_true(port > 0);
	assert_int_equal(ds_probe_starttls("127.0.0.1", port, "mail.example",
	    "probe.test", 5000, NULL, NULL, &res), 0);
	assert_non_null(res.chain);
	assert_int_equal(sk_X509_num(res.chain), 2);       /* leaf + inter */
	leaf_name_is(res.chain, "exact.pem");
	assert_string_equal(res.tls_version, "TLSv1.3");
	assert_true(res.cipher[0] != '\0');
	assert_true(strncmp(res.banner, "220", 3) == 0);
	ds_probe_result_free(&res);
	assert_null(res.chain);
	tls_server_stop(&fx);
	/* The server saw EHLO, STARTTLS and QUIT after TLS. */
	assert_true(file_contains(fx.log, "clear EHLO probe.test"));
	assert_true(file_contains(fx.log, "tls QUIT"));
	assert_true(file_contains(fx.log, "sni=mail.example"));
}

static void test_probe_ipv6(void **state)
{
	struct ds_probe_result res;
	int port;

	(void)state;
	port = tls_server_start(&fx, "wildcard", "::1", NULL);
	if (port <= 0) {
		skip();                       /* no IPv6 loopback here */
	}
	assert_int_equal(ds_probe_starttls("::1", port, "::1", "probe.test", 5000,
	    NULL, NULL, &res), 0);
	leaf_name_is(res.chain, "wildcard.pem");
	ds_probe_result_free(&res);
	tls_server_stop(&fx);
	/* An address literal is never sent as SNI. */
	assert_true(file_contains(fx.log, "sni=none"));
}

static void test_probe_client_certificate(void **state)
{
	struct ds_probe_result res;
	char cert[1024], key[1024];
	int port;

	(void)state;
	port = tls_server_start(&fx, "exact", "127.0.0.1", "--client-ca");
	assert_true(port > 0);
	snprintf(cert, sizeof cert, "%s/contoso-chain.pem", fx.pki);
	snprintf(key, sizeof key, "%s/contoso.key", fx.pki);
	assert_int_equal(ds_probe_starttls("127.0.0.1", port, NULL, "probe.test",
	    5000, cert, key, &res), 0);
	ds_probe_result_free(&res);
	tls_server_stop(&fx);
	/* The server logged a client certificate fingerprint, not "none". */
	assert_true(file_contains(fx.log, "client-cert="));
	assert_false(file_contains(fx.log, "client-cert=none"));
}

static void test_probe_bad_client_key(void **state)
{
	struct ds_probe_result res;
	char cert[1024], key[1024];

	(void)state;
	snprintf(cert, sizeof cert, "%s/contoso.pem", fx.pki);
	snprintf(key, sizeof key, "%s/exact.key", fx.pki);   /* wrong key */
	assert_int_equal(ds_probe_starttls("127.0.0.1", 9, NULL, "probe.test",
	    2000, cert, key, &res), -1);
	assert_non_null(strstr(res.error, "does not match"));
	assert_null(res.chain);
}

static void test_probe_refused(void **state)
{
	struct ds_probe_result res;
	int port = free_port();

	(void)state;
	assert_int_equal(ds_probe_starttls("127.0.0.1", port, NULL, "probe.test",
	    2000, NULL, NULL, &res), -1);
	assert_null(res.chain);
	assert_non_null(strstr(res.error, "connection refused"));
	assert_int_equal(res.temporary, 1);
}

static void test_probe_no_starttls(void **state)
{
	struct ds_probe_result res;
	int port;

	(void)state;
	port = tls_server_start(&fx, "exact", "127.0.0.1", "--no-starttls");
	assert_true(port > 0);
	assert_int_equal(ds_probe_starttls("127.0.0.1", port, NULL, "probe.test",
	    5000, NULL, NULL, &res), -1);
	assert_null(res.chain);
	assert_non_null(strstr(res.error, "no STARTTLS offered"));
	assert_int_equal(res.temporary, 0);
	tls_server_stop(&fx);
}

static void test_probe_greeting_4xx(void **state)
{
	struct ds_probe_result res;
	int port;

	(void)state;
	port = tls_server_start(&fx, "exact", "127.0.0.1", "--greeting-code=421");
	assert_true(port > 0);
	assert_int_equal(ds_probe_starttls("127.0.0.1", port, NULL, "probe.test",
	    5000, NULL, NULL, &res), -1);
	assert_non_null(strstr(res.error, "421"));
	assert_int_equal(res.temporary, 1);
	tls_server_stop(&fx);
}

static long elapsed_ms(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

static void test_probe_hang_times_out(void **state)
{
	struct ds_probe_result res;
	struct timespec t0;
	int port;
	long ms;

	(void)state;
	port = tls_server_start(&fx, "exact", "127.0.0.1", "--hang");
	assert_true(port > 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ds_probe_starttls("127.0.0.1", port, NULL, "probe.test",
	    700, NULL, NULL, &res), -1);
	ms = elapsed_ms(&t0);
	assert_true(ms >= 650 && ms < 2000);
	assert_non_null(strstr(res.error, "timeout after 700 ms during greeting"));
	assert_int_equal(res.temporary, 1);
	tls_server_stop(&fx);
}

static void test_probe_hang_in_handshake(void **state)
{
	struct ds_probe_result res;
	struct timespec t0;
	int port;

	(void)state;
	port = tls_server_start(&fx, "exact", "127.0.0.1", "--hang-after-starttls");
	assert_true(port > 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ds_probe_starttls("127.0.0.1", port, NULL, "probe.test",
	    800, NULL, NULL, &res), -1);
	assert_true(elapsed_ms(&t0) < 2000);
	assert_non_null(strstr(res.error, "timeout after 800 ms during TLS handshake"));
	tls_server_stop(&fx);
}

static void test_probe_bad_address(void **state)
{
	struct ds_probe_result res;

	(void)state;
	assert_int_equal(ds_probe_starttls("mail.example.com", 25, NULL, "x", 1000,
	    NULL, NULL, &res), -1);
	assert_non_null(strstr(res.error, "not a numeric"));
	assert_int_equal(ds_probe_starttls(NULL, 25, NULL, "x", 1000, NULL, NULL,
	    &res), -1);
	assert_int_equal(ds_probe_starttls("127.0.0.1", 0, NULL, "x", 1000, NULL,
	    NULL, &res), -1);
	ds_probe_result_free(&res);
	ds_probe_result_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_records_chain),
		cmocka_unit_test(test_probe_ipv6),
		cmocka_unit_test(test_probe_client_certificate),
		cmocka_unit_test(test_probe_bad_client_key),
		cmocka_unit_test(test_probe_refused),
		cmocka_unit_test(test_probe_no_starttls),
		cmocka_unit_test(test_probe_greeting_4xx),
		cmocka_unit_test(test_probe_hang_times_out),
		cmocka_unit_test(test_probe_hang_in_handshake),
		cmocka_unit_test(test_probe_bad_address),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
