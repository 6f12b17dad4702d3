/*
 * test_outbound_live.c - the outbound policy's verified path against real
 * servers on loopback: the test PKI (tests/pki/mkpki.sh), the CRL server,
 * a STARTTLS server presenting a partner certificate and tests/dns_server.py.
 * Checks the pinned fingerprint, the cache lifetime (earliest CRL nextUpdate
 * / notAfter), that a secured answer is served from the cache while the
 * server is gone, and that a flush then yields TEMP.
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
#include <time.h>
#include <unistd.h>
#include "domsec/config.h"
#include "domsec/engine.h"
#include "domsec/outbound.h"
#include "domsec/x509info.h"

static char work[64];
static pid_t crl_pid, tls_pid, dns_pid;
static struct ds_config cfg;
static struct ds_engine *engine;
static struct ds_outbound *ob;
static char fp_exact[DS_FP_TEXT_LEN];

static pid_t spawn(char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static int read_port(const char *file)
{
	int port = 0;

	for (int i = 0; i < 200 && port <= 0; i++) {
		FILE *f = fopen(file, "r");

		if (f != NULL) {
			if (fscanf(f, "%d", &port) != 1)
				port = 0;
			fclose(f);
		}
		if (port <= 0)
			usleep(50000);
	}
	return port;
}

static void stop(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGTERM);
		waitpid(*pid, NULL, 0);
		*pid = 0;
	}
}

static int setup_inner(void **state)
{
	char path[256], url[64], cmd[512], err[512], dnsport[256];
	char crldir[128], crlport[128], tlsport[128], chain[128], key[128];
	STACK_OF(X509) *certs;
	unsigned char fp[DS_FP_SHA256_LEN];
	int port;
	FILE *f;

	(void)state;
	snprintf(work, sizeof work, "/tmp/test_outbound_live.XXXXXX");
	if (mkdtemp(work) == NULL)
		return -1;
	snprintf(crldir, sizeof crldir, "%s/pki/crl", work);
	snprintf(cmd, sizeof cmd, "mkdir -p %s", crldir);
	if (system(cmd) != 0)
		return -1;
	snprintf(crlport, sizeof crlport, "%s/crl.port", work);
	crl_pid = spawn((char *[]){ "python3", "tests/crlserver.py", "--dir",
	    crldir, "--port-file", crlport, NULL });
	if ((port = read_port(crlport)) <= 0)
		return -1;
	snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
	snprintf(cmd, sizeof cmd, "sh tests/pki/mkpki.sh %s/pki %s", work, url);
	if (system(cmd) != 0)
		return -1;

	snprintf(chain, sizeof chain, "%s/pki/exact-chain.pem", work);
	snprintf(key, sizeof key, "%s/pki/exact.key", work);
	snprintf(tlsport, sizeof tlsport, "%s/tls.port", work);
	tls_pid = spawn((char *[]){ "python3", "tests/starttls_server.py",
	    "--cert", chain, "--key", key, "--port-file", tlsport, NULL });
	if ((port = read_port(tlsport)) <= 0)
		return -1;

	snprintf(dnsport, sizeof dnsport, "%s/dns.port", work);
	dns_pid = spawn((char *[]){ "python3", "tests/dns_server.py",
	    "--port-file", dnsport,
	    "--record", "woodgrovebank.com MX 10 mx.woodgrovebank.com",
	    "--record", "mx.woodgrovebank.com A 127.0.0.1", NULL });
	int dport = read_port(dnsport);
	if (dport <= 0)
		return -1;

	snprintf(path, sizeof path, "%s/partners", work);
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fputs("woodgrovebank.com direction=send\n", f);
	fclose(f);
	ds_config_defaults(&cfg);
	if (ds_partners_load(path, &cfg.partners, err, sizeof err) != 0)
		return -1;
	snprintf(path, sizeof path, "%s/pki/root.pem", work);
	free(cfg.ca_file);
	cfg.ca_file = strdup(path);
	free(cfg.crl_cache_dir);
	cfg.crl_cache_dir = NULL;
	cfg.probe_port = port;
	cfg.probe_timeout_ms = 5000;
	cfg.outbound_ttl_s = 365L * 86400;   /* so the CRL nextUpdate wins */
	engine = ds_engine_new(&cfg, err, sizeof err);
	if (engine == NULL) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	ob = ds_outbound_new(&cfg, engine, err, sizeof err);
	if (ob == NULL)
		return -1;
	struct ds_resolver r = { .server = "127.0.0.1", .port = dport,
	    .timeout_s = 2, .tries = 1 };
	ds_outbound_set_resolver(ob, &r);

	certs = ds_load_pem_certs(chain, err, sizeof err);
	if (certs == NULL || ds_cert_fingerprint(sk_X509_value(certs, 0), fp) != 0)
		return -1;
	ds_fingerprint_format(fp, fp_exact);
	sk_X509_pop_free(certs, X509_free);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	ds_outbound_free(ob);
	ds_engine_free(engine);
	ds_config_free(&cfg);
	stop(&tls_pid);
	stop(&dns_pid);
	stop(&crl_pid);
	snprintf(cmd, sizeof cmd, "rm -rf %s", work);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_assess_secured(void **state)
{
	struct ds_outbound_key k;
	struct ds_outbound_assessment a;
	time_t now = time(NULL);

	(void)state;
	assert_int_equal(ds_outbound_parse_key("woodgrovebank.com", &k), 0);
	assert_int_equal(ds_outbound_assess(ob, &k, "woodgrovebank.com",
	    &cfg.partners.v[0], &a), 0);
	assert_int_equal(a.outcome, DS_OUTBOUND_SECURED);
	assert_int_equal(a.n_hosts, 1);
	assert_string_equal(a.hosts[0].name, "mx.woodgrovebank.com");
	assert_int_equal(a.hosts[0].preference, 10);
	assert_true(a.hosts[0].secured);
	assert_string_equal(a.hosts[0].fingerprint, fp_exact);
	assert_string_equal(a.hosts[0].vr.matched_name, "woodgrovebank.com");
	/* the test CRLs' nextUpdate is 30 days ahead, the leaf's notAfter two
	 * years: the CRL decides how long the answer may be reused */
	assert_true(a.valid_until > now + 29 * 86400);
	assert_true(a.valid_until < now + 31 * 86400);
	ds_outbound_assessment_free(&a);
}

static void test_policy_pins_and_caches(void **state)
{
	char reply[1024], want[256];

	(void)state;
	snprintf(want, sizeof want, "OK fingerprint match=%s", fp_exact);
	assert_int_equal(ds_outbound_policy(ob, "WoodGroveBank.com", reply,
	    sizeof reply), 0);
	assert_string_equal(reply, want);
	/* the server goes away: the verified answer is still served */
	stop(&tls_pid);
	assert_int_equal(ds_outbound_policy(ob, "woodgrovebank.com.", reply,
	    sizeof reply), 0);
	assert_string_equal(reply, want);
	/* once forgotten, the destination is probed again: refused, TEMP */
	ds_outbound_flush(ob);
	assert_int_equal(ds_outbound_policy(ob, "woodgrovebank.com", reply,
	    sizeof reply), 0);
	assert_true(strncmp(reply, "TEMP ", 5) == 0);
	assert_non_null(strstr(reply, "mx.woodgrovebank.com"));
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
		cmocka_unit_test(test_assess_secured),
		cmocka_unit_test(test_policy_pins_and_caches),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
