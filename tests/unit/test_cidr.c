/*
 * test_cidr.c - TrustedRelays ranges: IPv4 and IPv6 parsing, prefix edges,
 * host bits, IPv4-mapped clients, MTA address spellings, list building with
 * commas and spaces, and errors that name the bad entry.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <sys/socket.h>
#include "domsec/cidr.h"

static struct ds_cidr_list make(const char *a, const char *b)
{
	struct ds_strlist entries = { 0 };
	struct ds_cidr_list l;
	char err[256];

	if (a)
		assert_int_equal(ds_strlist_add(&entries, a), 0);
	if (b)
		assert_int_equal(ds_strlist_add(&entries, b), 0);
	assert_int_equal(ds_cidr_list_build(&l, &entries, err, sizeof err), 0);
	ds_strlist_free(&entries);
	return l;
}

static void test_parse(void **state)
{
	struct ds_cidr c;

	(void)state;
	assert_int_equal(ds_cidr_parse("192.0.2.0/24", &c), 0);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.prefix, 24);
	assert_int_equal(ds_cidr_parse("192.0.2.77/24", &c), 0); /* host bits cleared */
	assert_int_equal(c.addr[3], 0);
	assert_int_equal(ds_cidr_parse("10.1.2.3", &c), 0);
	assert_int_equal(c.prefix, 32);
	assert_int_equal(ds_cidr_parse("2001:db8::/32", &c), 0);
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(c.prefix, 32);
	assert_int_equal(ds_cidr_parse("::1", &c), 0);
	assert_int_equal(c.prefix, 128);
	assert_int_equal(ds_cidr_parse("0.0.0.0/0", &c), 0);
	assert_int_equal(ds_cidr_parse("::ffff:10.0.0.0/104", &c), 0);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.prefix, 8);
}

static void test_parse_errors(void **state)
{
	struct ds_cidr c;

	(void)state;
	assert_int_equal(ds_cidr_parse("10.0.0.0/33", &c), -1);
	assert_int_equal(ds_cidr_parse("2001:db8::/129", &c), -1);
	assert_int_equal(ds_cidr_parse("10.0.0.0/", &c), -1);
	assert_int_equal(ds_cidr_parse("10.0.0.0/-1", &c), -1);
	assert_int_equal(ds_cidr_parse("10.0.0.0/8x", &c), -1);
	assert_int_equal(ds_cidr_parse("10.0.0/8", &c), -1);
	assert_int_equal(ds_cidr_parse("mail.example.com", &c), -1);
	assert_int_equal(ds_cidr_parse("", &c), -1);
	assert_int_equal(ds_cidr_parse(NULL, &c), -1);
	/* Found by tests/fuzz/fuzz_cidr: an IPv4-mapped range written with
	 * an IPv6 prefix under /96 got a negative prefix and then matched
	 * every IPv4 client (all of them trusted relays). */
	assert_int_equal(ds_cidr_parse("::ffff:192.0.2.1/64", &c), -1);
	assert_int_equal(ds_cidr_parse("IPv6:0.0.0.0/34", &c), -1);
	assert_int_equal(ds_cidr_parse("::ffff:10.0.0.0/95", &c), -1);
	assert_int_equal(ds_cidr_parse("::ffff:10.0.0.0/104", &c), 0);
	assert_int_equal(c.prefix, 8);
	{
		struct ds_strlist entries = { 0 };
		struct ds_cidr_list l;
		char err[256];
		ds_strlist_add(&entries, "::ffff:192.0.2.1/64");
		if (ds_cidr_list_build(&l, &entries, err, sizeof err) == 0) {
			int all = ds_cidr_list_match(&l, "203.0.113.9");
			ds_cidr_list_free(&l);
			ds_strlist_free(&entries);
			fail_msg("'::ffff:192.0.2.1/64' was accepted (matches "
			    "203.0.113.9: %d)", all);
		}
		ds_strlist_free(&entries);
	}
}

static void test_match_ipv4(void **state)
{
	struct ds_cidr_list l = make("192.0.2.0/24", "10.0.0.1");

	(void)state;
	assert_int_equal(ds_cidr_list_match(&l, "192.0.2.1"), 1);
	assert_int_equal(ds_cidr_list_match(&l, "192.0.2.255"), 1);
	assert_int_equal(ds_cidr_list_match(&l, "192.0.3.0"), 0);
	assert_int_equal(ds_cidr_list_match(&l, "10.0.0.1"), 1);
	assert_int_equal(ds_cidr_list_match(&l, "10.0.0.2"), 0);
	assert_int_equal(ds_cidr_list_match(&l, "::ffff:192.0.2.9"), 1);
	assert_int_equal(ds_cidr_list_match(&l, "[192.0.2.9]"), 1);
	assert_int_equal(ds_cidr_list_match(&l, "2001:db8::1"), 0);
	assert_int_equal(ds_cidr_list_match(&l, "garbage"), 0);
	assert_int_equal(ds_cidr_list_match(&l, ""), 0);
	assert_int_equal(ds_cidr_list_match(&l, NULL), 0);
	ds_cidr_list_free(&l);
}

static void test_match_ipv6(void **state)
{
	struct ds_cidr_list l = make("2001:db8:1::/48, ::1", NULL);

	(void)state;
	assert_int_equal(l.n, 2);
	assert_int_equal(ds_cidr_list_match(&l, "2001:db8:1:ffff::5"), 1);
	assert_int_equal(ds_cidr_list_match(&l, "2001:DB8:1::5"), 1);
	assert_int_equal(ds_cidr_list_match(&l, "IPv6:2001:db8:1::5"), 1);
	assert_int_equal(ds_cidr_list_match(&l, "2001:db8:2::5"), 0);
	assert_int_equal(ds_cidr_list_match(&l, "::1"), 1);
	assert_int_equal(ds_cidr_list_match(&l, "fe80::1%eth0"), 0);
	assert_int_equal(ds_cidr_list_match(&l, "127.0.0.1"), 0);
	ds_cidr_list_free(&l);
}

static void test_odd_prefixes(void **state)
{
	struct ds_cidr_list l = make("172.16.0.0/12 2001:db8::/31", NULL);

	(void)state;
	assert_int_equal(ds_cidr_list_match(&l, "172.31.255.255"), 1);
	assert_int_equal(ds_cidr_list_match(&l, "172.32.0.0"), 0);
	assert_int_equal(ds_cidr_list_match(&l, "2001:db9::1"), 1);
	assert_int_equal(ds_cidr_list_match(&l, "2001:dba::1"), 0);
	ds_cidr_list_free(&l);

	l = make("0.0.0.0/0", NULL);
	assert_int_equal(ds_cidr_list_match(&l, "203.0.113.4"), 1);
	assert_int_equal(ds_cidr_list_match(&l, "2001:db8::1"), 0);
	ds_cidr_list_free(&l);
}

static void test_list_errors(void **state)
{
	struct ds_strlist entries = { 0 };
	struct ds_cidr_list l;
	char err[256];

	(void)state;
	ds_strlist_add(&entries, "10.0.0.0/8, 10.0.0.0/33");
	assert_int_equal(ds_cidr_list_build(&l, &entries, err, sizeof err), -1);
	assert_non_null(strstr(err, "'10.0.0.0/33'"));
	assert_int_equal(l.n, 0);
	assert_null(l.v);
	ds_strlist_free(&entries);

	assert_int_equal(ds_cidr_list_build(&l, NULL, err, sizeof err), 0);
	assert_int_equal(ds_cidr_list_match(&l, "10.0.0.1"), 0);
	ds_cidr_list_free(&l);
}

static void test_canonical(void **state)
{
	char out[64];

	(void)state;
	ds_addr_canonical("IPv6:2001:DB8:0::1", out, sizeof out);
	assert_string_equal(out, "2001:db8::1");
	ds_addr_canonical("::ffff:127.0.0.1", out, sizeof out);
	assert_string_equal(out, "127.0.0.1");
	ds_addr_canonical("[10.0.0.1]", out, sizeof out);
	assert_string_equal(out, "10.0.0.1");
	ds_addr_canonical("unknown", out, sizeof out);
	assert_string_equal(out, "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_match_ipv4),
		cmocka_unit_test(test_match_ipv6),
		cmocka_unit_test(test_odd_prefixes),
		cmocka_unit_test(test_list_errors),
		cmocka_unit_test(test_canonical),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
