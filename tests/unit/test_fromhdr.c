/*
 * test_fromhdr.c - the From header reader (lib/fromhdr.c): domains of
 * well-formed mailbox lists and groups, and the conservative refusal of
 * every shape that is not a clean RFC 5322 address-list.
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
#include "domsec/fromhdr.h"

/* Appends s to the string in buf (size cap). */
static void append(char *buf, size_t cap, const char *s)
{
	size_t n = strlen(buf);
	snprintf(buf + n, cap - n, "%s", s);
}

/* ---- From header ---- */

static void expect_domains(const char *value, size_t n, const char *d0, const char *d1)
{
	struct ds_from_domains fd;
	memset(&fd, 0, sizeof fd);
	assert_int_equal(ds_from_domains_parse(value, &fd), n);
	assert_int_equal(fd.n, n);
	if (n > 0)
		assert_string_equal(fd.v[0], d0);
	if (n > 1)
		assert_string_equal(fd.v[1], d1);
}

static void test_from_simple(void **state)
{
	(void)state;
	expect_domains("a@WoodGroveBank.COM", 1, "woodgrovebank.com", NULL);
	expect_domains("Alice <alice@woodgrovebank.com>", 1, "woodgrovebank.com", NULL);
	expect_domains("  <a@woodgrovebank.com.> ", 1, "woodgrovebank.com", NULL);
}

static void test_from_tricky(void **state)
{
	(void)state;
	/* '@' and ',' in quoted display names and comments do not count */
	expect_domains("\"evil@example.net, x\" <a@woodgrovebank.com>", 1,
	    "woodgrovebank.com", NULL);
	expect_domains("a@woodgrovebank.com (sent by x@evil.example)", 1,
	    "woodgrovebank.com", NULL);
	expect_domains("a@woodgrovebank.com, b@evil.example", 2,
	    "woodgrovebank.com", "evil.example");
	expect_domains("friends: a@woodgrovebank.com, b@fabrikam.com;", 2,
	    "woodgrovebank.com", "fabrikam.com");
}

static void test_from_malformed(void **state)
{
	struct ds_from_domains fd;
	(void)state;
	/* nothing readable: one "" that never aligns */
	expect_domains("", 1, "", NULL);
	expect_domains("undisclosed-recipients:;", 1, "", NULL);
	expect_domains("no address here", 1, "", NULL);
	expect_domains("a@bad domain!", 1, "", NULL);
	expect_domains("\"unterminated <a@woodgrovebank.com>", 1, "", NULL);
	expect_domains("(unterminated a@woodgrovebank.com", 1, "", NULL);
	/* never more than DS_FROM_DOMAINS_MAX */
	char many[4000] = "";
	for (int i = 0; i < 40; i++)
		append(many, sizeof many, "x@example.com, ");
	memset(&fd, 0, sizeof fd);
	ds_from_domains_parse(many, &fd);
	assert_int_equal(fd.n, DS_FROM_DOMAINS_MAX);
	/* a very long value is cut, not overrun */
	char huge[10000];
	memset(huge, 'a', sizeof huge - 1);
	huge[sizeof huge - 1] = '\0';
	huge[100] = '@';
	memset(&fd, 0, sizeof fd);
	ds_from_domains_parse(huge, &fd);
	assert_int_equal(fd.n, 1);
	assert_string_equal(fd.v[0], "");
}

/* 1 when some entry is "" (the list can never align). */
static int has_unreadable(const struct ds_from_domains *fd)
{
	for (size_t i = 0; i < fd->n; i++)
		if (fd->v[i][0] == '\0')
			return 1;
	return 0;
}

/* Found while fuzzing milter/fromhdr.c: addresses past the 16th, or past
 * the 4095 bytes read, were dropped, so that a From header listing a
 * partner address 16 times (or padded) hid an evil one and aligned. */
static void test_from_overflow_never_aligns(void **state)
{
	struct ds_from_domains fd;
	char v[6000] = "";
	(void)state;

	for (int i = 0; i < DS_FROM_DOMAINS_MAX; i++)
		append(v, sizeof v, "a@woodgrovebank.com, ");
	append(v, sizeof v, "x@evil.example");
	memset(&fd, 0, sizeof fd);
	ds_from_domains_parse(v, &fd);
	assert_int_equal(fd.n, DS_FROM_DOMAINS_MAX);
	assert_true(has_unreadable(&fd));

	/* exactly 16 still align */
	v[0] = '\0';
	for (int i = 0; i < DS_FROM_DOMAINS_MAX; i++)
		append(v, sizeof v, i ? ", a@woodgrovebank.com" : "a@woodgrovebank.com");
	memset(&fd, 0, sizeof fd);
	ds_from_domains_parse(v, &fd);
	assert_int_equal(fd.n, DS_FROM_DOMAINS_MAX);
	assert_false(has_unreadable(&fd));

	/* a second From header without an address, on a full list */
	ds_from_domains_parse("undisclosed-recipients:;", &fd);
	assert_true(has_unreadable(&fd));

	/* padding pushes the evil address past what is read */
	memset(v, 0, sizeof v);
	snprintf(v, sizeof v, "%s", "a@woodgrovebank.com");
	memset(v + strlen(v), ' ', 4500);
	append(v, sizeof v, ", x@evil.example");
	memset(&fd, 0, sizeof fd);
	ds_from_domains_parse(v, &fd);
	assert_true(has_unreadable(&fd));

	/* the cut falls inside the domain: "...woodgrovebank.com|.evil.example" */
	memset(v, 0, sizeof v);
	v[0] = '"';
	memset(v + 1, 'x', 4095 - 1 - strlen("\" <a@woodgrovebank.com"));
	append(v, sizeof v, "\" <a@woodgrovebank.com.evil.example>");
	memset(&fd, 0, sizeof fd);
	ds_from_domains_parse(v, &fd);
	assert_int_equal(fd.n, 1);
	assert_string_equal(fd.v[0], "");
}


/* Shapes that common parsers (Python's email package, mail clients) read
 * as carrying a foreign address: never aligned, with a reason. */
static void expect_refused(const char *value, const char *why_part)
{
	struct ds_from_domains fd;
	memset(&fd, 0, sizeof fd);
	assert_int_equal(ds_from_domains_parse(value, &fd), 1);
	assert_int_equal(fd.n, 1);
	assert_string_equal(fd.v[0], "");
	assert_non_null(strstr(fd.problem, why_part));
}

static void test_from_not_clean_never_aligns(void **state)
{
	(void)state;
	expect_refused("x@evil.example <a@woodgrovebank.com>", "display name");
	expect_refused("x@evil.example:a@woodgrovebank.com", "group name");
	expect_refused("<a@woodgrovebank.com> <x@evil.example>", "more than one");
	expect_refused("<a@woodgrovebank.com> x@evil.example", "after an address");
	expect_refused("a@woodgrovebank.com x@evil.example", "after an address");
	expect_refused("Name <a@woodgrovebank.com", "not closed");
	expect_refused("friends: a@woodgrovebank.com", "not closed by ';'");
	expect_refused("\"open <a@woodgrovebank.com>", "quoted string");
	expect_refused("(open a@woodgrovebank.com", "comment");
	expect_refused("a@woodgrovebank.com)", "unbalanced");
	expect_refused("<@relay.example:a@woodgrovebank.com>", "local part");
	expect_refused(",", "without a mailbox");
	expect_refused("a\\b@woodgrovebank.com", "backslash");
}

static void test_from_clean_shapes(void **state)
{
	(void)state;
	expect_domains("\"Doe, John\" <john@woodgrovebank.com>", 1,
	    "woodgrovebank.com", NULL);
	expect_domains("John Q. Public <jqp@woodgrovebank.com>", 1,
	    "woodgrovebank.com", NULL);
	expect_domains("first.last@Mail.WoodGroveBank.com", 1,
	    "mail.woodgrovebank.com", NULL);
	expect_domains("\"a@b\"@woodgrovebank.com", 1, "woodgrovebank.com", NULL);
	expect_domains("team: Ann <a@woodgrovebank.com>, b@woodgrovebank.com;, "
	    "c@fabrikam.com", 3, "woodgrovebank.com", "woodgrovebank.com");
	expect_domains("Folded\r\n <a@woodgrovebank.com>", 1,
	    "woodgrovebank.com", NULL);
	expect_domains("a@[192.0.2.1]", 1, "", NULL);
	expect_domains(", a@woodgrovebank.com, ,", 1, "woodgrovebank.com", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_simple),
		cmocka_unit_test(test_from_tricky),
		cmocka_unit_test(test_from_malformed),
		cmocka_unit_test(test_from_overflow_never_aligns),
		cmocka_unit_test(test_from_not_clean_never_aligns),
		cmocka_unit_test(test_from_clean_shapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
