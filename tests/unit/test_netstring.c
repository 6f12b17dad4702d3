/*
 * test_netstring.c - netstring decoding (complete, partial, pipelined,
 * malformed, oversize) and encoding.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "domsec/netstring.h"

static enum ds_netstring_status dec(const char *s, size_t max,
    const char **p, size_t *pl, size_t *used)
{
	return ds_netstring_decode(s, strlen(s), max, p, pl, used);
}

static void test_complete(void **state)
{
	const char *p;
	size_t pl, used;

	(void)state;
	assert_int_equal(dec("21:tlspolicy example.com,", 100, &p, &pl, &used),
	    DS_NETSTRING_OK);
	assert_int_equal(pl, 21);
	assert_memory_equal(p, "tlspolicy example.com", 21);
	assert_int_equal(used, 25);
	assert_int_equal(dec("0:,", 100, &p, &pl, &used), DS_NETSTRING_OK);
	assert_int_equal(pl, 0);
	assert_int_equal(used, 3);
}

static void test_incomplete_prefixes(void **state)
{
	const char *full = "12:hello world!,";
	const char *p;
	size_t pl, used;

	(void)state;
	for (size_t n = 0; n < strlen(full); n++)
		assert_int_equal(ds_netstring_decode(full, n, 100, &p, &pl, &used),
		    DS_NETSTRING_INCOMPLETE);
	assert_int_equal(ds_netstring_decode(full, strlen(full), 100, &p, &pl,
	    &used), DS_NETSTRING_OK);
}

static void test_pipelined(void **state)
{
	const char *buf = "5:a b.c,11:transport x,3:x y,4:ab";
	size_t len = strlen(buf), off = 0, count = 0;
	const char *want[] = { "a b.c", "transport x", "x y" };
	const char *p;
	size_t pl, used;

	(void)state;
	for (;;) {
		enum ds_netstring_status st = ds_netstring_decode(buf + off,
		    len - off, 100, &p, &pl, &used);
		if (st != DS_NETSTRING_OK) {
			assert_int_equal(st, DS_NETSTRING_INCOMPLETE);
			break;
		}
		assert_true(count < 3);
		assert_int_equal(pl, strlen(want[count]));
		assert_memory_equal(p, want[count], pl);
		count++;
		off += used;
	}
	assert_int_equal(count, 3);
	assert_string_equal(buf + off, "4:ab");
}

static void test_malformed(void **state)
{
	const char *bad[] = {
		":abc,", "3abc,", "3:abc;", "03:abc,", "00:,", "-1:a,",
		" 3:abc,", "3:abcd,", "x", "3;abc,",
	};
	const char *p;
	size_t pl, used;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(dec(bad[i], 100, &p, &pl, &used),
		    DS_NETSTRING_MALFORMED);
}

static void test_oversize(void **state)
{
	const char *p;
	size_t pl, used;

	(void)state;
	/* refused from the length alone, before any body arrives */
	assert_int_equal(dec("101:", 100, &p, &pl, &used), DS_NETSTRING_TOO_LONG);
	assert_int_equal(dec("100:", 100, &p, &pl, &used), DS_NETSTRING_INCOMPLETE);
	assert_int_equal(dec("99999999999999999999999999:", (size_t)-1, &p, &pl,
	    &used), DS_NETSTRING_TOO_LONG);
	assert_int_equal(dec("18446744073709551616:", (size_t)-1, &p, &pl, &used),
	    DS_NETSTRING_TOO_LONG);
}

static void test_encode(void **state)
{
	char out[32];
	char tiny[8];
	const char *p;
	size_t pl, used;

	(void)state;
	assert_int_equal(ds_netstring_encode("OK secure", 9, out, sizeof out), 12);
	assert_string_equal(out, "9:OK secure,");
	assert_int_equal(ds_netstring_encode("", 0, out, sizeof out), 3);
	assert_string_equal(out, "0:,");
	assert_int_equal(ds_netstring_encode("NOTFOUND ", 9, tiny, sizeof tiny), -1);
	/* round trip with a NUL byte inside */
	long n = ds_netstring_encode("a\0b", 3, out, sizeof out);
	assert_int_equal(n, 6);
	assert_int_equal(ds_netstring_decode(out, (size_t)n, 10, &p, &pl, &used),
	    DS_NETSTRING_OK);
	assert_int_equal(pl, 3);
	assert_memory_equal(p, "a\0b", 3);
	assert_non_null(ds_netstring_status_text(DS_NETSTRING_TOO_LONG));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete),
		cmocka_unit_test(test_incomplete_prefixes),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_encode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
