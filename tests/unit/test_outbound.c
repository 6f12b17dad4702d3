/*
 * test_outbound.c - outbound policy map: lookup key normalisation, the
 * transport map, non-partners, and the answers for partners whose DNS or
 * servers fail (against tests/dns_server.py on a loopback port): temporary
 * failures answer TEMP and are not cached, definitive ones answer an
 * unsatisfiable fingerprint policy, are counted and cached, monitor mode
 * answers NOTFOUND.  (The verified path, with real Postfix, is in
 * tests/integration/50-outbound.sh.)
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "domsec/config.h"
#include "domsec/inbound.h"
#include "domsec/outbound.h"
#include "domsec/partners.h"

static pid_t dns_pid;
static char work[64];
static struct ds_resolver resolver;
static struct ds_config cfg;
static struct ds_outbound *ob;
static int closed_port;

static const char *impossible = "OK fingerprint match=" DS_OUTBOUND_IMPOSSIBLE_FP;

/* A loopback port nobody listens on (bound, then closed). */
static int unused_port(void)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
		return -1;
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static int setup_inner(void **state)
{
	char path[128], err[256];
	FILE *f;
	int port = 0;

	(void)state;
	snprintf(work, sizeof work, "/tmp/test_outbound.XXXXXX");
	if (mkdtemp(work) == NULL)
		return -1;
	snprintf(path, sizeof path, "%s/port", work);
	dns_pid = fork();
	if (dns_pid == 0) {
		execlp("python3", "python3", "tests/dns_server.py",
		    "--port-file", path,
		    "--record", "nosuch-mx.test MX 10 ghost.nosuch-mx.test",
		    "--record", "refused.test A 127.0.0.1",
		    "--record", "monitor.test MX 0 .",
		    "--servfail", "servfail.test",
		    (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && port <= 0; i++) {
		usleep(50000);
		f = fopen(path, "r");
		if (f != NULL) {
			if (fscanf(f, "%d", &port) != 1)
				port = 0;
			fclose(f);
		}
	}
	if (port <= 0)
		return -1;
	snprintf(resolver.server, sizeof resolver.server, "127.0.0.1");
	resolver.port = port;
	resolver.timeout_s = 2;
	resolver.tries = 1;

	snprintf(path, sizeof path, "%s/partners", work);
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fputs("woodgrovebank.com direction=send\n"
	    ".tailspin.com direction=both\n"
	    "fabrikam.com direction=receive\n"
	    "servfail.test direction=send\n"
	    "nxdomain.test direction=send\n"
	    "nosuch-mx.test direction=both\n"
	    "refused.test direction=send\n"
	    "monitor.test direction=send mode=monitor\n", f);
	fclose(f);
	ds_config_defaults(&cfg);
	if (ds_partners_load(path, &cfg.partners, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	cfg.outbound_ttl_s = 60;
	cfg.probe_timeout_ms = 3000;
	closed_port = unused_port();
	cfg.probe_port = closed_port;
	ob = ds_outbound_new(&cfg, NULL, err, sizeof err);
	if (ob == NULL)
		return -1;
	ds_outbound_set_resolver(ob, &resolver);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	ds_outbound_free(ob);
	ds_config_free(&cfg);
	if (dns_pid > 0) {
		kill(dns_pid, SIGTERM);
		waitpid(dns_pid, NULL, 0);
	}
	snprintf(cmd, sizeof cmd, "rm -rf %s", work);
	return system(cmd) == 0 ? 0 : -1;
}

static void check_key(const char *in, const char *host, int port, int literal,
    int parent, const char *canonical)
{
	struct ds_outbound_key k;
	char text[300];

	assert_int_equal(ds_outbound_parse_key(in, &k), 0);
	assert_string_equal(k.host, host);
	assert_int_equal(k.port, port);
	assert_int_equal(k.literal, literal);
	assert_int_equal(k.parent, parent);
	ds_outbound_key_format(&k, text, sizeof text);
	assert_string_equal(text, canonical);
}

static void test_key_forms(void **state)
{
	(void)state;
	check_key("WoodGroveBank.COM", "woodgrovebank.com", 0, 0, 0,
	    "woodgrovebank.com");
	check_key("woodgrovebank.com.", "woodgrovebank.com", 0, 0, 0,
	    "woodgrovebank.com");
	check_key("  example.com \r\n", "example.com", 0, 0, 0, "example.com");
	check_key("[MX.Example.com]:25", "mx.example.com", 25, 1, 0,
	    "[mx.example.com]:25");
	check_key("[mx.example.com]", "mx.example.com", 0, 1, 0,
	    "[mx.example.com]");
	check_key("[mx.example.com.]:587", "mx.example.com", 587, 1, 0,
	    "[mx.example.com]:587");
	check_key("mx.example.com:2525", "mx.example.com", 2525, 0, 0,
	    "mx.example.com:2525");
	check_key(".Example.com", "example.com", 0, 0, 1, ".example.com");
	check_key("[192.0.2.1]:25", "192.0.2.1", 25, 1, 0, "[192.0.2.1]:25");
	check_key("[::1]:25", "::1", 25, 1, 0, "[::1]:25");
}

static void test_key_malformed(void **state)
{
	static const char *bad[] = {
		"", "   ", "[mx.example.com", "[mx.example.com]x",
		"[mx.example.com]:", "host:", "host:0", "host:65536", "host:12a",
		"host:123456", "a b.com", "exa$mple.com", "::1", "[]", "[]:25",
		".", "a/b", "host:25:26", "ex\x01mple.com",
		/* empty labels (found by tests/fuzz/fuzz_outbound_key) */
		"1..", "example.com..", "a..b.com", "..example.com",
		"[mx..example.com]", "[.]:25",
	};
	struct ds_outbound_key k;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (ds_outbound_parse_key(bad[i], &k) != -1)
			fail_msg("key \"%s\" was accepted", bad[i]);
	}
	assert_int_equal(ds_outbound_parse_key(NULL, &k), -1);
	/* a host name that fills the buffer exactly is refused, not cut */
	char longname[400];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_int_equal(ds_outbound_parse_key(longname, &k), -1);
}

static void transport(const char *key, const char *want)
{
	char reply[256];

	assert_int_equal(ds_outbound_transport(ob, key, reply, sizeof reply), 0);
	if (strcmp(reply, want) != 0)
		fail_msg("transport \"%s\": got \"%s\", want \"%s\"", key, reply, want);
}

static void test_transport(void **state)
{
	(void)state;
	transport("woodgrovebank.com", "OK domsec-partner:");
	transport("WoodGroveBank.COM.", "OK domsec-partner:");
	transport("user@woodgrovebank.com", "OK domsec-partner:");
	transport("\"odd@local\"@WoodGroveBank.com", "OK domsec-partner:");
	transport("sales.tailspin.com", "OK domsec-partner:");
	transport("tailspin.com", "NOTFOUND ");          /* dot entry: not the apex */
	transport("fabrikam.com", "NOTFOUND ");         /* receive only */
	transport("user@fabrikam.com", "NOTFOUND ");
	transport("example.org", "NOTFOUND ");
	transport(".woodgrovebank.com", "NOTFOUND ");
	transport("*", "NOTFOUND ");
	transport("[woodgrovebank.com]", "NOTFOUND ");
	transport("", "NOTFOUND ");
	transport("user@", "NOTFOUND ");
	assert_int_equal(ds_outbound_set_transport(ob, "bad name"), -1);
	assert_int_equal(ds_outbound_set_transport(ob, ""), -1);
	assert_int_equal(ds_outbound_set_transport(ob, "partner-tls"), 0);
	transport("woodgrovebank.com", "OK partner-tls:");
	assert_int_equal(ds_outbound_set_transport(ob,
	    DS_OUTBOUND_TRANSPORT_DEFAULT), 0);
}

static void policy(const char *key, char *reply, size_t len)
{
	assert_int_equal(ds_outbound_policy(ob, key, reply, len), 0);
}

static void test_policy_non_partners(void **state)
{
	char reply[1024];

	(void)state;
	policy("example.org", reply, sizeof reply);
	assert_string_equal(reply, "NOTFOUND ");
	policy("fabrikam.com", reply, sizeof reply);     /* receive only */
	assert_string_equal(reply, "NOTFOUND ");
	policy(".woodgrovebank.com", reply, sizeof reply); /* parent retry */
	assert_string_equal(reply, "NOTFOUND ");
	policy("[192.0.2.1]:25", reply, sizeof reply);
	assert_string_equal(reply, "NOTFOUND ");
	policy("[mx.example.org]:25", reply, sizeof reply);
	assert_string_equal(reply, "NOTFOUND ");
	policy("[mx.fabrikam.com]", reply, sizeof reply);  /* receive only */
	assert_string_equal(reply, "NOTFOUND ");
	policy("exa$mple.com", reply, sizeof reply);
	assert_string_equal(reply, "PERM malformed lookup key");
}

static void test_policy_dns_temporary(void **state)
{
	char reply[2048];
	unsigned long before = ds_counter_get(DS_COUNT_OUTBOUND_FAILURES);

	(void)state;
	policy("ServFail.test", reply, sizeof reply);
	assert_true(strncmp(reply, "TEMP ", 5) == 0);
	assert_non_null(strstr(reply, "servfail.test"));
	assert_int_equal(ds_counter_get(DS_COUNT_OUTBOUND_FAILURES), before);
}

static void test_policy_refused_is_temporary(void **state)
{
	char reply[2048], want[64];

	(void)state;
	/* refused.test has no MX: its A record (127.0.0.1) is the implicit MX,
	 * and nothing listens on the probe port. */
	policy("refused.test", reply, sizeof reply);
	assert_true(strncmp(reply, "TEMP ", 5) == 0);
	snprintf(want, sizeof want, "[127.0.0.1]:%d", closed_port);
	assert_non_null(strstr(reply, want));
	/* the same with an explicit port in the key */
	policy("refused.test:9", reply, sizeof reply);
	assert_true(strncmp(reply, "TEMP ", 5) == 0);
	assert_non_null(strstr(reply, "[127.0.0.1]:9"));
}

static void test_policy_definitive_cached_and_counted(void **state)
{
	char reply[2048];
	unsigned long before = ds_counter_get(DS_COUNT_OUTBOUND_FAILURES);

	(void)state;
	policy("nxdomain.test", reply, sizeof reply);
	assert_string_equal(reply, impossible);
	assert_int_equal(ds_counter_get(DS_COUNT_OUTBOUND_FAILURES), before + 1);
	/* served from the cache: not counted again */
	policy("NXDOMAIN.test.", reply, sizeof reply);
	assert_string_equal(reply, impossible);
	assert_int_equal(ds_counter_get(DS_COUNT_OUTBOUND_FAILURES), before + 1);
	/* an MX host without an address is definitive too */
	policy("nosuch-mx.test", reply, sizeof reply);
	assert_string_equal(reply, impossible);
	assert_int_equal(ds_counter_get(DS_COUNT_OUTBOUND_FAILURES), before + 2);
	/* after a flush the destination is examined again */
	ds_outbound_flush(ob);
	policy("nxdomain.test", reply, sizeof reply);
	assert_string_equal(reply, impossible);
	assert_int_equal(ds_counter_get(DS_COUNT_OUTBOUND_FAILURES), before + 3);
}

static void test_policy_explicit_next_hop(void **state)
{
	char reply[2048];

	(void)state;
	/* "[mx.nxdomain.test]" is a server of partner nxdomain.test: probed,
	 * and it does not resolve (definitive) */
	policy("[mx.nxdomain.test]:25", reply, sizeof reply);
	assert_string_equal(reply, impossible);
	/* two nodes below a partner is not that partner's server */
	policy("[a.b.nxdomain.test]:25", reply, sizeof reply);
	assert_string_equal(reply, "NOTFOUND ");
}

static void test_policy_monitor_mode(void **state)
{
	char reply[2048];

	(void)state;
	/* monitor.test publishes a null MX: a definitive failure, logged,
	 * but monitor mode never changes what Postfix does */
	policy("monitor.test", reply, sizeof reply);
	assert_string_equal(reply, "NOTFOUND ");
}

static void test_policy_small_reply_buffer(void **state)
{
	char reply[16];

	(void)state;
	policy("servfail.test", reply, sizeof reply);
	assert_int_equal(strlen(reply), sizeof reply - 1);
	assert_true(strncmp(reply, "TEMP ", 5) == 0);
}

static void test_reply_for(void **state)
{
	struct ds_outbound_assessment a;
	struct ds_outbound_host hosts[3];
	char reply[512];

	(void)state;
	memset(&a, 0, sizeof a);
	memset(hosts, 0, sizeof hosts);
	a.hosts = hosts;
	a.n_hosts = 3;
	a.outcome = DS_OUTBOUND_SECURED;
	hosts[0].secured = 1;
	snprintf(hosts[0].fingerprint, sizeof hosts[0].fingerprint, "AA:BB");
	hosts[1].secured = 0;
	snprintf(hosts[1].fingerprint, sizeof hosts[1].fingerprint, "CC:DD");
	hosts[2].secured = 1;
	snprintf(hosts[2].fingerprint, sizeof hosts[2].fingerprint, "AA:BB");
	ds_outbound_reply_for(&a, reply, sizeof reply);
	assert_string_equal(reply, "OK fingerprint match=AA:BB");
	snprintf(hosts[2].fingerprint, sizeof hosts[2].fingerprint, "EE:FF");
	ds_outbound_reply_for(&a, reply, sizeof reply);
	assert_string_equal(reply, "OK fingerprint match=AA:BB|EE:FF");
	a.outcome = DS_OUTBOUND_FAILED;
	ds_outbound_reply_for(&a, reply, sizeof reply);
	assert_string_equal(reply, impossible);
	a.outcome = DS_OUTBOUND_TEMPORARY;
	snprintf(a.domain, sizeof a.domain, "example.com");
	snprintf(a.reason, sizeof a.reason, "timeout");
	ds_outbound_reply_for(&a, reply, sizeof reply);
	assert_string_equal(reply,
	    "TEMP domsec: no verified server for example.com yet: timeout");
}

/* A failed setup cleans up after itself (cmocka then skips the teardown). */
static int setup(void **state)
{
	if (setup_inner(state) == 0)
		return 0;
	teardown(state);
	return -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_forms),
		cmocka_unit_test(test_key_malformed),
		cmocka_unit_test(test_transport),
		cmocka_unit_test(test_policy_non_partners),
		cmocka_unit_test(test_policy_dns_temporary),
		cmocka_unit_test(test_policy_refused_is_temporary),
		cmocka_unit_test(test_policy_definitive_cached_and_counted),
		cmocka_unit_test(test_policy_explicit_next_hop),
		cmocka_unit_test(test_policy_monitor_mode),
		cmocka_unit_test(test_policy_small_reply_buffer),
		cmocka_unit_test(test_reply_for),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
