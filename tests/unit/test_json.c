/*
 * test_json.c - unit tests for lib/json.c: structure, commas, escaping,
 * invalid UTF-8 and misuse detection.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "domsec/json.h"

static void test_nested_document(void **state)
{
	(void)state;
	struct ds_json j;
	ds_json_init(&j);
	ds_json_object_begin(&j);
	ds_json_kv_string(&j, "verdict", "secured");
	ds_json_kv_int(&j, "n", -42);
	ds_json_kv_double(&j, "x", 1.5);
	ds_json_kv_double(&j, "nan", 0.0 / 0.0);
	ds_json_kv_bool(&j, "ok", 1);
	ds_json_kv_null(&j, "none");
	ds_json_key(&j, "list");
	ds_json_array_begin(&j);
	ds_json_int(&j, 1);
	ds_json_string(&j, "two");
	ds_json_object_begin(&j);
	ds_json_kv_bool(&j, "f", 0);
	ds_json_object_end(&j);
	ds_json_array_begin(&j);
	ds_json_array_end(&j);
	ds_json_string(&j, NULL);
	ds_json_array_end(&j);
	ds_json_key(&j, "empty");
	ds_json_object_begin(&j);
	ds_json_object_end(&j);
	ds_json_object_end(&j);
	assert_true(ds_json_ok(&j));
	assert_string_equal(ds_json_text(&j),
	    "{\"verdict\":\"secured\",\"n\":-42,\"x\":1.5,\"nan\":null,\"ok\":true,\"none\":null,"
	    "\"list\":[1,\"two\",{\"f\":false},[],null],\"empty\":{}}");
	ds_json_free(&j);
}

static void test_escaping(void **state)
{
	(void)state;
	struct ds_json j;
	ds_json_init(&j);
	ds_json_array_begin(&j);
	ds_json_string(&j, "a\"b\\c\n\r\t\b\f\x01\x1f\x7f/");
	ds_json_string(&j, "m\xc3\xaf" "crosoft");          /* valid UTF-8 kept */
	ds_json_string(&j, "\xe2\x82\xac \xf0\x9f\x98\x80"); /* 3- and 4-byte */
	ds_json_string(&j, "bad\xff\xc3(\xc0\xaf\xed\xa0\x80.");   /* invalid */
	ds_json_string(&j, "\xe2\x82");                      /* truncated */
	ds_json_string_n(&j, "nul\0inside", 10);
	ds_json_array_end(&j);
	assert_true(ds_json_ok(&j));
	assert_string_equal(ds_json_text(&j),
	    "[\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f/\","
	    "\"m\xc3\xaf" "crosoft\","
	    "\"\xe2\x82\xac \xf0\x9f\x98\x80\","
	    "\"bad\\ufffd\\ufffd(\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd.\","
	    "\"\\ufffd\\ufffd\","
	    "\"nul\\u0000inside\"]");
	ds_json_free(&j);
}

static void test_misuse_detected(void **state)
{
	(void)state;
	struct ds_json j;

	ds_json_init(&j);                /* value without a key in an object */
	ds_json_object_begin(&j);
	ds_json_string(&j, "x");
	ds_json_object_end(&j);
	assert_false(ds_json_ok(&j));
	ds_json_free(&j);

	ds_json_init(&j);                /* unbalanced */
	ds_json_object_begin(&j);
	assert_false(ds_json_ok(&j));
	ds_json_array_end(&j);
	assert_false(ds_json_ok(&j));
	ds_json_free(&j);

	ds_json_init(&j);                /* key then close */
	ds_json_object_begin(&j);
	ds_json_key(&j, "k");
	ds_json_object_end(&j);
	assert_false(ds_json_ok(&j));
	ds_json_free(&j);

	ds_json_init(&j);                /* key in an array */
	ds_json_array_begin(&j);
	ds_json_key(&j, "k");
	ds_json_array_end(&j);
	assert_false(ds_json_ok(&j));
	ds_json_free(&j);

	ds_json_init(&j);                /* two top-level values */
	ds_json_int(&j, 1);
	ds_json_int(&j, 2);
	assert_false(ds_json_ok(&j));
	ds_json_free(&j);

	ds_json_init(&j);                /* too deep */
	for (int i = 0; i < DS_JSON_MAX_DEPTH + 1; i++)
		ds_json_array_begin(&j);
	for (int i = 0; i < DS_JSON_MAX_DEPTH + 1; i++)
		ds_json_array_end(&j);
	assert_false(ds_json_ok(&j));
	ds_json_free(&j);

	ds_json_init(&j);                /* nothing written */
	assert_false(ds_json_ok(&j));
	assert_string_equal(ds_json_text(&j), "");
	assert_int_equal(ds_json_print(&j, stdout), -1);
	ds_json_free(&j);
}

static void test_large_document_grows(void **state)
{
	(void)state;
	struct ds_json j;
	ds_json_init(&j);
	ds_json_array_begin(&j);
	for (int i = 0; i < 10000; i++)
		ds_json_string(&j, "0123456789");
	ds_json_array_end(&j);
	assert_true(ds_json_ok(&j));
	assert_int_equal(strlen(ds_json_text(&j)), 2 + 10000 * 12 + 9999);
	ds_json_free(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_document),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_misuse_detected),
		cmocka_unit_test(test_large_document_grows),
	};
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
