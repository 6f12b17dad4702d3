/*
 * test_postfix_header_checks.c - the header_checks table of
 * PostfixHeaderChecks (lib/postfix_header_checks.c) against the milter's
 * own rule as the oracle: every header ds_trust_header_is_ours() would
 * remove must match a rule of the table, compiled as Postfix compiles
 * regexp tables (POSIX extended, case-insensitive, "." across the newline
 * of a folded header).  Checked over hand-picked forgeries and a seeded
 * random set (case, comments, quoting with quoted-pairs, trailing dot,
 * folding, long ids).  Also: the table's text, and the check that a table
 * file belongs to the configuration.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "domsec/postfix_header_checks.h"
#include "domsec/trust_headers.h"

#define ID "mx.contoso.com"

static struct ds_config cfg;
static regex_t rules[3];
static size_t n_rules;

static void load(const char *header_name, const char *id, int exchange)
{
	char pats[3][1024];

	for (size_t i = 0; i < n_rules; i++)
		regfree(&rules[i]);
	memset(&cfg, 0, sizeof cfg);
	cfg.header_name = (char *)header_name;
	cfg.authserv_id = (char *)id;
	cfg.exchange_headers = exchange;
	n_rules = ds_postfix_header_patterns(&cfg, pats, 3);
	for (size_t i = 0; i < n_rules; i++)
		assert_int_equal(regcomp(&rules[i], pats[i],
		    REG_EXTENDED | REG_ICASE | REG_NOSUB), 0);
}

/* 1 when Postfix would IGNORE the header "name: value". */
static int table_removes(const char *name, const char *value)
{
	char line[4096];

	snprintf(line, sizeof line, "%s: %s", name, value);
	for (size_t i = 0; i < n_rules; i++)
		if (regexec(&rules[i], line, 0, NULL, 0) == 0)
			return 1;
	return 0;
}

static int milter_removes(const char *name, const char *value)
{
	return ds_trust_header_is_ours(cfg.header_name, cfg.authserv_id,
	    cfg.exchange_headers, name, value);
}

/* The oracle: what the milter removes, the table removes. */
static void superset(const char *name, const char *value)
{
	if (milter_removes(name, value) && !table_removes(name, value)) {
		fprintf(stderr, "the table keeps what the milter removes: "
		    "%s: %s\n", name, value);
		fail();
	}
}

static void test_hand_picked(void **state)
{
	static const char *const ar[] = {
		ID "; x-domainsecurity=pass",
		"MX.CONTOSO.COM; x-domainsecurity=pass",
		ID ".; x-domainsecurity=pass",
		"(relay) " ID "; none",
		"(a (nested) comment) " ID " 1; none",
		"\"" ID "\"; none",
		"\"mx\\.contoso\\.com\"; none",
		"\"\\m\\x\\.\\c\\o\\n\\t\\o\\s\\o\\.\\c\\o\\m\"; none",
		"\n\t" ID ";\n\tx-domainsecurity=pass",
		ID,
		ID "(comment); none",
		"\"unterminated " ID,
	};

	(void)state;
	load("X-Domain-Secured", ID, 1);
	for (size_t i = 0; i < sizeof ar / sizeof ar[0]; i++) {
		assert_true(milter_removes("Authentication-Results", ar[i]));
		superset("Authentication-Results", ar[i]);
		superset("authentication-results", ar[i]);
		superset("Authentication-Results ", ar[i]);
	}
	assert_true(table_removes("X-Domain-Secured", "anything"));
	assert_true(table_removes("x-DOMAIN-secured", ""));
	assert_true(table_removes("X-Domain-Secured\t", "folded\n\tvalue"));
	assert_true(table_removes("X-MS-Exchange-Organization-AuthAs",
	    "Partner"));
	/* a foreign authserv-id that mentions ours further on is removed
	 * too (the table's documented superset), the milter keeps it */
	assert_false(milter_removes("Authentication-Results",
	    "garbage ;; " ID));
	assert_true(table_removes("Authentication-Results",
	    "garbage ;; " ID));
	/* kept: other headers, foreign authserv-ids, a longer header name */
	assert_false(table_removes("Authentication-Results",
	    "other.example; spf=pass smtp.mailfrom=example.org"));
	assert_false(table_removes("X-Domain-Secured-By", "x"));
	assert_false(table_removes("Subject", ID));
	assert_false(table_removes("Received", "from " ID));
	/* a trailing dot in the configured id changes nothing */
	load("X-Domain-Secured", ID ".", 0);
	superset("Authentication-Results", ID "; none");
	assert_false(table_removes("X-MS-Exchange-Organization-AuthAs",
	    "Partner"));
}

/* Random forgeries of our id: case, comments, quoting with quoted-pairs,
 * a trailing dot, folding, a version, junk before or after. */
static void random_value(char *out, size_t outlen, const char *id)
{
	size_t o = 0;
	int quoted = rand() % 3 == 0;

	out[0] = '\0';
#define EMIT(...) do { int w_ = snprintf(out + o, outlen - o, __VA_ARGS__); \
	if (w_ > 0 && (size_t)w_ < outlen - o) o += (size_t)w_; } while (0)
	switch (rand() % 5) {
	case 0: EMIT("(c) "); break;
	case 1: EMIT("\n\t"); break;
	case 2: EMIT(" (a\n\t(b)) "); break;
	case 3: EMIT("junk ;; "); break;
	default: break;
	}
	if (quoted)
		EMIT("\"");
	for (const char *p = id; *p != '\0'; p++) {
		char c = *p;
		if (rand() % 2)
			c = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
		if (quoted && rand() % 4 == 0)
			EMIT("\\");
		EMIT("%c", c);
	}
	if (rand() % 4 == 0)
		EMIT(".");
	if (quoted)
		EMIT("\"");
	switch (rand() % 4) {
	case 0: EMIT("; x-domainsecurity=pass"); break;
	case 1: EMIT(" 1; none"); break;
	case 2: EMIT("\n\t; spf=pass"); break;
	default: break;
	}
#undef EMIT
}

static void test_random_forgeries(void **state)
{
	char value[1024];
	int ours = 0;

	(void)state;
	srand(20261129);
	load("X-Domain-Secured", ID, 0);
	for (int i = 0; i < 20000; i++) {
		random_value(value, sizeof value,
		    rand() % 8 ? ID : "mx.contoso.co");
		ours += milter_removes("Authentication-Results", value);
		superset("Authentication-Results", value);
	}
	/* the set did hold forgeries the milter removes */
	assert_true(ours > 10000);
}

static void test_table_text_and_currency(void **state)
{
	char text[4096], path[] = "/tmp/domsec-hc-XXXXXX", why[512];
	int fd, len;

	(void)state;
	load("X-Domain-Secured", ID, 0);
	len = ds_postfix_header_checks(&cfg, text, sizeof text);
	assert_true(len > 0);
	assert_non_null(strstr(text,
	    "\n/^X[-]Domain[-]Secured[[:space:]]*:/ IGNORE\n"));
	assert_non_null(strstr(text,
	    "/^Authentication-Results[[:space:]]*:.*"));
	/* every rule line is "/pattern/ IGNORE" with no '/' inside */
	for (char *l = text; *l != '\0'; l = strchr(l, '\n') + 1) {
		char *e = strchr(l, '\n');
		assert_non_null(e);
		if (*l == '#')
			continue;
		assert_int_equal(*l, '/');
		assert_memory_equal(e - 8, "/ IGNORE", 8);
		assert_ptr_equal(memchr(l + 1, '/', (size_t)(e - l - 1)),
		    e - 8);
	}
	/* too small a buffer: refused, not cut */
	assert_int_equal(ds_postfix_header_checks(&cfg, text, 40), -1);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	cfg.postfix_header_checks = path;
	assert_false(ds_postfix_header_checks_current(&cfg, why, sizeof why));
	assert_non_null(strstr(why, "missing"));
	len = ds_postfix_header_checks(&cfg, text, sizeof text);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fwrite(text, 1, (size_t)len, f);
	fclose(f);
	assert_true(ds_postfix_header_checks_current(&cfg, why, sizeof why));
	/* AuthservID changed since: outdated */
	cfg.authserv_id = (char *)"mx2.contoso.com";
	assert_false(ds_postfix_header_checks_current(&cfg, why, sizeof why));
	assert_non_null(strstr(why, "not the table of this configuration"));
	cfg.postfix_header_checks = NULL;
	assert_false(ds_postfix_header_checks_current(&cfg, why, sizeof why));
	unlink(path);
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < n_rules; i++)
		regfree(&rules[i]);
	n_rules = 0;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand_picked),
		cmocka_unit_test(test_random_forgeries),
		cmocka_unit_test(test_table_text_and_currency),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
