/*
 * test_sessions.c - the policy -> milter hand-off table: put/get/replace/
 * remove by address and port, address spellings mapping to one key, expiry
 * on a fake clock, the size bound evicting the oldest entry (a refresh counts
 * as new; a full table keeps its newest entries), and concurrent use from
 * several threads.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "domsec/sessions.h"

struct value {
	int n;
	char text[40];
};

static time_t fake_now = 1000000;
static time_t fake_clock(void)
{
	return fake_now;
}

static void test_put_get_remove(void **state)
{
	struct ds_sessions *s = ds_sessions_new(sizeof(struct value), 600, 100);
	struct value v = { 1, "first" }, out;

	(void)state;
	assert_non_null(s);
	assert_int_equal(ds_sessions_get(s, "192.0.2.1", 4242, &out), 0);
	assert_int_equal(ds_sessions_put(s, "192.0.2.1", 4242, &v), 0);
	assert_int_equal(ds_sessions_get(s, "192.0.2.1", 4242, &out), 1);
	assert_int_equal(out.n, 1);
	assert_string_equal(out.text, "first");
	/* Another port or address is another session. */
	assert_int_equal(ds_sessions_get(s, "192.0.2.1", 4243, &out), 0);
	assert_int_equal(ds_sessions_get(s, "192.0.2.2", 4242, &out), 0);
	/* Replace. */
	v.n = 2;
	assert_int_equal(ds_sessions_put(s, "192.0.2.1", 4242, &v), 0);
	assert_int_equal(ds_sessions_count(s), 1);
	assert_int_equal(ds_sessions_get(s, "192.0.2.1", 4242, &out), 1);
	assert_int_equal(out.n, 2);
	ds_sessions_remove(s, "192.0.2.1", 4242);
	assert_int_equal(ds_sessions_get(s, "192.0.2.1", 4242, &out), 0);
	assert_int_equal(ds_sessions_count(s), 0);
	ds_sessions_remove(s, "192.0.2.1", 4242);      /* absent: harmless */
	ds_sessions_free(s);
	ds_sessions_free(NULL);
}

static void test_address_spellings(void **state)
{
	struct ds_sessions *s = ds_sessions_new(sizeof(struct value), 600, 100);
	struct value v = { 7, "v6" }, out;

	(void)state;
	/* Policy says "2001:db8::1", Sendmail's milter "IPv6:2001:DB8:0::1". */
	ds_sessions_put(s, "2001:db8::1", 25000, &v);
	assert_int_equal(ds_sessions_get(s, "IPv6:2001:DB8:0::1", 25000, &out), 1);
	assert_int_equal(out.n, 7);
	ds_sessions_put(s, "::ffff:10.1.2.3", 1, &v);
	assert_int_equal(ds_sessions_get(s, "10.1.2.3", 1, &out), 1);
	ds_sessions_free(s);
}

static void test_expiry(void **state)
{
	struct ds_sessions *s = ds_sessions_new(sizeof(struct value), 600, 100);
	struct value v = { 1, "x" }, out;

	(void)state;
	ds_sessions_set_clock(s, fake_clock);
	ds_sessions_put(s, "10.0.0.1", 1000, &v);
	fake_now += 599;
	assert_int_equal(ds_sessions_get(s, "10.0.0.1", 1000, &out), 1);
	fake_now += 1;
	assert_int_equal(ds_sessions_get(s, "10.0.0.1", 1000, &out), 0);
	assert_int_equal(ds_sessions_count(s), 0);       /* dropped on sight */
	ds_sessions_free(s);
}

static void test_size_bound(void **state)
{
	struct ds_sessions *s = ds_sessions_new(sizeof(struct value), 600, 3);
	struct value v = { 0, "" }, out;

	(void)state;
	ds_sessions_set_clock(s, fake_clock);
	for (int i = 0; i < 3; i++) {
		v.n = i;
		fake_now++;
		ds_sessions_put(s, "10.0.0.1", 1000 + i, &v);
	}
	assert_int_equal(ds_sessions_count(s), 3);
	fake_now++;
	v.n = 99;
	ds_sessions_put(s, "10.0.0.1", 2000, &v);
	assert_int_equal(ds_sessions_count(s), 3);
	assert_int_equal(ds_sessions_get(s, "10.0.0.1", 1000, &out), 0); /* oldest */
	assert_int_equal(ds_sessions_get(s, "10.0.0.1", 1001, &out), 1);
	assert_int_equal(ds_sessions_get(s, "10.0.0.1", 2000, &out), 1);
	assert_int_equal(out.n, 99);
	/* Expired entries go before live ones. */
	fake_now += 1000;
	ds_sessions_put(s, "10.0.0.2", 1, &v);
	assert_int_equal(ds_sessions_count(s), 1);
	ds_sessions_free(s);
}

/* A refreshed entry counts as new: the one not refreshed is evicted. */
static void test_refresh_moves_entry_to_the_young_end(void **state)
{
	struct ds_sessions *s = ds_sessions_new(sizeof(struct value), 600, 2);
	struct value v = { 1, "" }, out;

	(void)state;
	ds_sessions_set_clock(s, fake_clock);
	fake_now++;
	ds_sessions_put(s, "10.0.0.1", 1, &v);
	fake_now++;
	ds_sessions_put(s, "10.0.0.1", 2, &v);
	fake_now++;
	ds_sessions_put(s, "10.0.0.1", 1, &v);      /* refresh the oldest */
	fake_now++;
	ds_sessions_put(s, "10.0.0.1", 3, &v);
	assert_int_equal(ds_sessions_count(s), 2);
	assert_int_equal(ds_sessions_get(s, "10.0.0.1", 1, &out), 1);
	assert_int_equal(ds_sessions_get(s, "10.0.0.1", 2, &out), 0);
	assert_int_equal(ds_sessions_get(s, "10.0.0.1", 3, &out), 1);
	ds_sessions_free(s);
}

/* A full table keeps its bound and its newest entries over many more puts
 * than it holds (a busy server: every SMTP session is a new key). */
static void test_full_table_keeps_newest(void **state)
{
	const int max = 8192, puts = 200000;
	struct ds_sessions *s = ds_sessions_new(sizeof(struct value), 600, max);
	struct value v, out;

	(void)state;
	ds_sessions_set_clock(s, fake_clock);
	for (int i = 0; i < puts; i++) {
		char addr[32];
		snprintf(addr, sizeof addr, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		v.n = i;
		ds_sessions_put(s, addr, 25, &v);
	}
	assert_int_equal(ds_sessions_count(s), max);
	for (int i = 0; i < puts; i++) {
		char addr[32];
		snprintf(addr, sizeof addr, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		int want = i >= puts - max;
		assert_int_equal(ds_sessions_get(s, addr, 25, &out), want);
		if (want)
			assert_int_equal(out.n, i);
	}
	ds_sessions_free(s);
}

struct worker {
	struct ds_sessions *s;
	int id;
	int errors;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct value v, out;

	for (int i = 0; i < 2000; i++) {
		char addr[32];
		snprintf(addr, sizeof addr, "10.%d.0.%d", w->id, i % 200);
		v.n = w->id * 100000 + i;
		ds_sessions_put(w->s, addr, i, &v);
		if (ds_sessions_get(w->s, addr, i, &out) != 1 || out.n != v.n)
			w->errors++;
		if (i % 3 == 0)
			ds_sessions_remove(w->s, addr, i);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct ds_sessions *s = ds_sessions_new(sizeof(struct value), 600, 100000);
	pthread_t t[8];
	struct worker w[8];

	(void)state;
	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){ s, i, 0 };
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].errors, 0);
	}
	/* 2000 puts per thread, every third removed. */
	assert_int_equal(ds_sessions_count(s), 8 * (2000 - 667));
	ds_sessions_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_remove),
		cmocka_unit_test(test_address_spellings),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_size_bound),
		cmocka_unit_test(test_refresh_moves_entry_to_the_young_end),
		cmocka_unit_test(test_full_table_keeps_newest),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
