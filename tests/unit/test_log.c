/*
 * test_log.c - log lines: one printable line per message whatever the
 * message carries (CR, LF, escapes from a peer), level filtering, facility
 * names.
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
#include <unistd.h>
#include "domsec/log.h"

/* Runs ds_log with stderr sent to a temporary file; returns what it wrote. */
static char *capture(int level, const char *msg)
{
	static char out[4096];
	char path[] = "/tmp/test_log.XXXXXX";
	int fd = mkstemp(path);
	int saved = dup(2);
	FILE *f;
	size_t n;

	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	ds_log(level, "%s", msg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(out, 1, sizeof out - 1, f);
	out[n] = '\0';
	fclose(f);
	unlink(path);
	return out;
}

static void test_one_printable_line(void **state)
{
	(void)state;
	ds_log_open("t", 0, 1, LOG_MAIL, LOG_DEBUG);
	char *got = capture(LOG_INFO, "reply 250\r\nfake: line\x1b[31m red\x07 bell\x7f");
	assert_string_equal(got, "t: info: reply 250  fake: line?[31m red? bell?\n");
}

static void test_level_filter(void **state)
{
	(void)state;
	ds_log_open("t", 0, 1, LOG_MAIL, LOG_NOTICE);
	assert_string_equal(capture(LOG_INFO, "hidden"), "");
	assert_string_equal(capture(LOG_ERR, "shown"), "t: error: shown\n");
}

static void test_facility_names(void **state)
{
	(void)state;
	assert_int_equal(ds_log_facility_parse("mail"), LOG_MAIL);
	assert_int_equal(ds_log_facility_parse("LOCAL3"), LOG_LOCAL3);
	assert_int_equal(ds_log_facility_parse("kern"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_printable_line),
		cmocka_unit_test(test_level_filter),
		cmocka_unit_test(test_facility_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
