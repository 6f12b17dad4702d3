/*
 * test_postfix_merge.c - unit tests for lib/postfix_merge.c: domsec is
 * merged into existing milter, restriction and macro lists without
 * dropping anything, only once, and its sockets get Postfix's client form.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "domsec/postfix_merge.h"

#define POLICY "inet:127.0.0.1:8892"
#define GROUP "{ inet:127.0.0.1:8892, timeout=30s, default_action=DEFER_IF_PERMIT }"

static void test_split_braces(void **state)
{
	struct ds_strlist l = { 0 };
	(void)state;
	assert_int_equal(ds_pf_split(" a,b  check_policy_service{ inet:x:1, t=2 },c", &l), 0);
	assert_int_equal(l.n, 5);
	assert_string_equal(l.v[2], "check_policy_service");
	assert_string_equal(l.v[3], "{ inet:x:1, t=2 }");
	assert_string_equal(l.v[4], "c");
	ds_strlist_free(&l);
	assert_int_equal(ds_pf_split("a { b", &l), -1);
	ds_strlist_free(&l);
	assert_int_equal(ds_pf_split("a } b", &l), -1);
	ds_strlist_free(&l);
}

static void test_milter_kept_and_added_once(void **state)
{
	int changed;
	char *v, *w;
	(void)state;
	v = ds_pf_merge_milter("inet:127.0.0.1:8891, inet:127.0.0.1:8893",
	    "inet:127.0.0.1:8895", &changed);
	assert_int_equal(changed, 1);
	assert_string_equal(v, "inet:127.0.0.1:8891, inet:127.0.0.1:8893, inet:127.0.0.1:8895");
	w = ds_pf_merge_milter(v, "inet:127.0.0.1:8895", &changed);
	assert_int_equal(changed, 0);
	assert_string_equal(w, v);
	free(v);
	free(w);
	v = ds_pf_merge_milter("{ inet:127.0.0.1:8895, default_action=accept } inet:127.0.0.1:8891",
	    "inet:127.0.0.1:8895", &changed);
	assert_int_equal(changed, 0);
	free(v);
	v = ds_pf_merge_milter("", "unix:/domsec/milter.sock", &changed);
	assert_int_equal(changed, 1);
	assert_string_equal(v, "unix:/domsec/milter.sock");
	free(v);
}

static void test_policy_after_relay_control(void **state)
{
	int changed;
	char *v, *w;
	(void)state;
	v = ds_pf_merge_policy("permit_mynetworks, permit_sasl_authenticated, "
	    "reject_unauth_destination, reject_rbl_client zen.spamhaus.org, "
	    "reject_rbl_client bl.example", POLICY, GROUP, &changed);
	assert_int_equal(changed, 1);
	assert_string_equal(v, "permit_mynetworks, permit_sasl_authenticated, "
	    "reject_unauth_destination, check_policy_service " GROUP
	    ", reject_rbl_client zen.spamhaus.org, "
	    "reject_rbl_client bl.example");
	w = ds_pf_merge_policy(v, POLICY, GROUP, &changed);
	assert_int_equal(changed, 0);
	assert_string_equal(w, v);
	free(v);
	free(w);
	/* the old syntax counts as present */
	v = ds_pf_merge_policy("permit_mynetworks check_policy_service inet:127.0.0.1:8892",
	    POLICY, GROUP, &changed);
	assert_int_equal(changed, 0);
	free(v);
	/* another policy service stays; ours is added */
	v = ds_pf_merge_policy("check_policy_service unix:private/policyd-spf",
	    POLICY, GROUP, &changed);
	assert_int_equal(changed, 1);
	assert_string_equal(v, "check_policy_service " GROUP
	    ", check_policy_service unix:private/policyd-spf");
	free(v);
	v = ds_pf_merge_policy("reject_unauth_pipelining\n    "
	    "reject_unauth_destination  reject_rbl_client x",
	    POLICY, GROUP, &changed);
	assert_int_equal(changed, 1);
	assert_string_equal(v, "reject_unauth_pipelining\n    reject_unauth_destination, "
	    "check_policy_service " GROUP "  reject_rbl_client x");
	free(v);
	v = ds_pf_merge_policy("", POLICY, GROUP, &changed);
	assert_int_equal(changed, 1);
	assert_string_equal(v, "permit_mynetworks, permit_sasl_authenticated, "
	    "check_policy_service " GROUP);
	free(v);
}

static void test_map_first(void **state)
{
	int changed;
	char *v;
	(void)state;
	v = ds_pf_merge_map("hash:/etc/postfix/transport",
	    "socketmap:inet:127.0.0.1:8896:transport",
	    &changed);
	assert_int_equal(changed, 1);
	assert_string_equal(v, "socketmap:inet:127.0.0.1:8896:transport, "
	    "hash:/etc/postfix/transport");
	free(v);
	v = ds_pf_merge_map("socketmap:inet:127.0.0.1:8896:transport hash:/x",
	    "socketmap:inet:127.0.0.1:8896:transport", &changed);
	assert_int_equal(changed, 0);
	assert_string_equal(v, "socketmap:inet:127.0.0.1:8896:transport hash:/x");
	free(v);
	v = ds_pf_merge_map("", "socketmap:inet:127.0.0.1:8896:tlspolicy", &changed);
	assert_int_equal(changed, 1);
	assert_string_equal(v, "socketmap:inet:127.0.0.1:8896:tlspolicy");
	free(v);
}

static void test_macros(void **state)
{
	int changed;
	char *v;
	(void)state;
	v = ds_pf_merge_macros("j {daemon_name} {daemon_addr} v _",
	    "{client_addr} {client_port} j", &changed);
	assert_int_equal(changed, 1);
	assert_string_equal(v, "j {daemon_name} {daemon_addr} v _ {client_addr} {client_port}");
	free(v);
	v = ds_pf_merge_macros("i, {client_addr}", "i {client_addr}", &changed);
	assert_int_equal(changed, 0);
	free(v);
}

static void test_client_spec(void **state)
{
	char out[256];
	(void)state;
	assert_int_equal(ds_pf_client_spec("inet:8895@127.0.0.1", NULL, out, sizeof out), 0);
	assert_string_equal(out, "inet:127.0.0.1:8895");
	assert_int_equal(ds_pf_client_spec("inet:127.0.0.1:8892", NULL, out, sizeof out), 0);
	assert_string_equal(out, "inet:127.0.0.1:8892");
	assert_int_equal(ds_pf_client_spec("inet:8895", NULL, out, sizeof out), 0);
	assert_string_equal(out, "inet:127.0.0.1:8895");
	assert_int_equal(ds_pf_client_spec("inet:8895@*", NULL, out, sizeof out), 0);
	assert_string_equal(out, "inet:127.0.0.1:8895");
	assert_int_equal(ds_pf_client_spec("inet6:8895@::1", NULL, out, sizeof out), 0);
	assert_string_equal(out, "inet:[::1]:8895");
	assert_int_equal(ds_pf_client_spec("inet:[::1]:8895", NULL, out, sizeof out), 0);
	assert_string_equal(out, "inet:[::1]:8895");
	assert_int_equal(ds_pf_client_spec("unix:/var/spool/postfix/domsec/m.sock",
	    "/var/spool/postfix", out, sizeof out), 0);
	assert_string_equal(out, "unix:/domsec/m.sock");
	assert_int_equal(ds_pf_client_spec("unix:/var/spool/postfixx/m.sock",
	    "/var/spool/postfix/", out, sizeof out), 0);
	assert_string_equal(out, "unix:/var/spool/postfixx/m.sock");
	assert_int_equal(ds_pf_client_spec("local:/run/domsec/m.sock", NULL, out, sizeof out), 0);
	assert_string_equal(out, "unix:/run/domsec/m.sock");
	assert_int_equal(ds_pf_client_spec("tcp:25", NULL, out, sizeof out), -1);
	assert_int_equal(ds_pf_client_spec("inet:port@host", NULL, out, sizeof out), -1);
	assert_int_equal(ds_pf_client_spec("unix:relative", NULL, out, sizeof out), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_braces),
		cmocka_unit_test(test_milter_kept_and_added_once),
		cmocka_unit_test(test_policy_after_relay_control),
		cmocka_unit_test(test_map_first),
		cmocka_unit_test(test_macros),
		cmocka_unit_test(test_client_spec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
