/*
 * test_mx.c - MX lookup against tests/dns_server.py on a loopback port:
 * preference order, RFC 5321 fallback to address records, NXDOMAIN, SERVFAIL,
 * null MX, hosts without addresses, malformed answers.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "domsec/mx.h"

static pid_t dns_pid;
static char dns_dir[64];
static struct ds_resolver resolver;

static int start_dns_inner(void **state)
{
	char portfile[128];
	FILE *f;
	int port = 0;

	(void)state;
	snprintf(dns_dir, sizeof dns_dir, "/tmp/test_mx.XXXXXX");
	if (mkdtemp(dns_dir) == NULL)
		return -1;
	snprintf(portfile, sizeof portfile, "%s/port", dns_dir);
	dns_pid = fork();
	if (dns_pid == 0) {
		execlp("python3", "python3", "tests/dns_server.py",
		    "--port-file", portfile,
		    "--record", "multi.test MX 20 mx-b.multi.test",
		    "--record", "multi.test MX 10 MX-A.Multi.Test.",
		    "--record", "multi.test MX 20 mx-c.multi.test",
		    "--record", "multi.test MX 30 mx-b.multi.test",
		    "--record", "mx-a.multi.test A 127.0.0.11",
		    "--record", "mx-a.multi.test AAAA ::1",
		    "--record", "mx-b.multi.test A 127.0.0.12",
		    "--record", "mx-b.multi.test A 127.0.0.13",
		    "--record", "mx-c.multi.test A 127.0.0.14",
		    "--record", "implicit.test A 127.0.0.21",
		    "--record", "implicit.test TXT hello",
		    "--record", "textonly.test TXT nothing here",
		    "--record", "nullmx.test MX 0 .",
		    "--record", "noaddr.test MX 10 ghost.noaddr.test",
		    "--record", "tempaddr.test MX 10 broken.tempaddr.test",
		    "--servfail", "broken.tempaddr.test",
		    "--servfail", "servfail.test",
		    (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		f = fopen(portfile, "r");
		if (f != NULL) {
			if (fscanf(f, "%d", &port) != 1)
				port = 0;
			fclose(f);
			if (port > 0)
				break;
		}
		usleep(50000);
	}
	if (port <= 0)
		return -1;
	snprintf(resolver.server, sizeof resolver.server, "127.0.0.1");
	resolver.port = port;
	resolver.timeout_s = 2;
	resolver.tries = 1;
	return 0;
}

static int stop_dns(void **state)
{
	char cmd[128];

	(void)state;
	if (dns_pid > 0) {
		kill(dns_pid, SIGTERM);
		waitpid(dns_pid, NULL, 0);
	}
	snprintf(cmd, sizeof cmd, "rm -rf %s", dns_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_preference_order(void **state)
{
	struct ds_mx_result r;

	(void)state;
	assert_int_equal(ds_mx_lookup("MULTI.test.", &resolver, &r), 0);
	assert_int_equal(r.status, DS_MX_OK);
	assert_int_equal(r.n_hosts, 3);          /* mx-b listed twice: once */
	assert_string_equal(r.hosts[0].name, "mx-a.multi.test");
	assert_int_equal(r.hosts[0].preference, 10);
	assert_string_equal(r.hosts[1].name, "mx-b.multi.test");
	assert_int_equal(r.hosts[1].preference, 20);
	assert_string_equal(r.hosts[2].name, "mx-c.multi.test");
	assert_int_equal(r.hosts[0].n_addrs, 2);
	assert_string_equal(r.hosts[0].addrs[0], "127.0.0.11");
	assert_string_equal(r.hosts[0].addrs[1], "::1");
	assert_int_equal(r.hosts[1].n_addrs, 2);
	assert_string_equal(r.hosts[2].addrs[0], "127.0.0.14");
}

static void test_implicit_mx(void **state)
{
	struct ds_mx_result r;

	(void)state;
	assert_int_equal(ds_mx_lookup("implicit.test", &resolver, &r), 0);
	assert_int_equal(r.status, DS_MX_OK);
	assert_int_equal(r.n_hosts, 1);
	assert_string_equal(r.hosts[0].name, "implicit.test");
	assert_int_equal(r.hosts[0].preference, -1);
	assert_int_equal(r.hosts[0].n_addrs, 1);
	assert_string_equal(r.hosts[0].addrs[0], "127.0.0.21");
}

static void test_no_domain(void **state)
{
	struct ds_mx_result r;

	(void)state;
	assert_int_equal(ds_mx_lookup("nosuch.test", &resolver, &r), 0);
	assert_int_equal(r.status, DS_MX_NO_DOMAIN);
	assert_non_null(strstr(r.error, "nosuch.test"));
	assert_int_equal(ds_mx_lookup("textonly.test", &resolver, &r), 0);
	assert_int_equal(r.status, DS_MX_NO_DOMAIN);
}

static void test_servfail_is_temporary(void **state)
{
	struct ds_mx_result r;

	(void)state;
	assert_int_equal(ds_mx_lookup("servfail.test", &resolver, &r), 0);
	assert_int_equal(r.status, DS_MX_TEMPORARY);
	assert_int_equal(ds_mx_lookup("tempaddr.test", &resolver, &r), 0);
	assert_int_equal(r.status, DS_MX_TEMPORARY);
	assert_non_null(strstr(r.error, "broken.tempaddr.test"));
}

static void test_null_mx_and_no_address(void **state)
{
	struct ds_mx_result r;

	(void)state;
	assert_int_equal(ds_mx_lookup("nullmx.test", &resolver, &r), 0);
	assert_int_equal(r.status, DS_MX_NULL_MX);
	assert_int_equal(ds_mx_lookup("noaddr.test", &resolver, &r), 0);
	assert_int_equal(r.status, DS_MX_NO_ADDRESS);
	assert_non_null(strstr(r.error, "ghost.noaddr.test"));
}

static void test_unreachable_server_is_temporary(void **state)
{
	struct ds_resolver dead = resolver;
	struct ds_mx_result r;

	(void)state;
	dead.port = 9;      /* discard: nothing answers on loopback */
	dead.timeout_s = 1;
	assert_int_equal(ds_mx_lookup("multi.test", &dead, &r), 0);
	assert_int_equal(r.status, DS_MX_TEMPORARY);
}

static void test_host_addresses_literal(void **state)
{
	struct ds_mx_host h;

	(void)state;
	memset(&h, 0, sizeof h);
	assert_int_equal(ds_host_addresses("192.0.2.7", &resolver, &h), 0);
	assert_int_equal(h.n_addrs, 1);
	assert_string_equal(h.addrs[0], "192.0.2.7");
	assert_int_equal(ds_host_addresses("mx-c.multi.test", &resolver, &h), 0);
	assert_string_equal(h.addrs[0], "127.0.0.14");
	assert_int_equal(ds_host_addresses("ghost.noaddr.test", &resolver, &h), -1);
	assert_int_equal(h.addr_temporary, 0);
}

static void test_parse_malformed(void **state)
{
	struct ds_mx_result r;
	/* header claims one answer, then the message ends */
	static const unsigned char truncated[] = {
		0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
		4, 't', 'e', 's', 't', 0, 0, 15, 0, 1,
	};
	/* an MX answer whose rdata is too short */
	static const unsigned char shortrd[] = {
		0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
		4, 't', 'e', 's', 't', 0, 0, 15, 0, 1,
		0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 1, 0,
	};
	static const unsigned char garbage[] = { 1, 2, 3 };

	(void)state;
	memset(&r, 0, sizeof r);
	assert_int_equal(ds_mx_parse_answer(truncated, sizeof truncated, &r), -1);
	assert_int_equal(ds_mx_parse_answer(shortrd, sizeof shortrd, &r), -1);
	assert_int_equal(ds_mx_parse_answer(garbage, sizeof garbage, &r), -1);
	assert_int_equal(r.n_hosts, 0);
}

/* A failed setup cleans up after itself (cmocka then skips the teardown). */
static int start_dns(void **state)
{
	if (start_dns_inner(state) == 0)
		return 0;
	stop_dns(state);
	return -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_preference_order),
		cmocka_unit_test(test_implicit_mx),
		cmocka_unit_test(test_no_domain),
		cmocka_unit_test(test_servfail_is_temporary),
		cmocka_unit_test(test_null_mx_and_no_address),
		cmocka_unit_test(test_unreachable_server_is_temporary),
		cmocka_unit_test(test_host_addresses_literal),
		cmocka_unit_test(test_parse_malformed),
	};
	return cmocka_run_group_tests(tests, start_dns, stop_dns);
}
