/*
 * test_acquire.c - certificate acquisition over the test PKI: the pinned
 * index (PinnedCertDir and partner pin= files, junk skipped, bad pin files
 * refused), and discovery against real STARTTLS listeners
 * (tests/starttls_server.py) on the client's address and on MX hosts from
 * tests/dns_server.py: fingerprint binding, positive and negative caching,
 * shared concurrent probes, time bounds, Discovery off.
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
#include <sys/stat.h>
#include "domsec/acquire.h"
#include "domsec/config.h"
#include "domsec/log.h"
#include <unistd.h>
#include "fixture.h"

static struct tls_fixture fx;

static int setup(void **state)
{
	(void)state;
	ds_log_open("test_acquire", 0, 0, LOG_MAIL, LOG_ERR);
	return tls_fixture_setup(&fx);
}

static int teardown(void **state)
{
	(void)state;
	tls_fixture_teardown(&fx);
	return 0;
}

static void leaf_fp(const char *name, unsigned char fp[DS_FP_SHA256_LEN])
{
	char path[512], err[256];
	STACK_OF(X509) *c;

	snprintf(path, sizeof path, "%s/%s.pem", fx.pki, name);
	c = ds_load_pem_certs(path, err, sizeof err);
	assert_non_null(c);
	assert_int_equal(ds_cert_fingerprint(sk_X509_value(c, 0), fp), 0);
	sk_X509_pop_free(c, X509_free);
}

/* Writes a configuration (extra lines appended) and loads it. */
static void load_config(struct ds_config *cfg, const char *partners,
    const char *extra)
{
	char conf[512], ptab[512], text[4096], err[512];

	snprintf(ptab, sizeof ptab, "%s/partners", fx.dir);
	assert_int_equal(write_file(ptab, partners), 0);
	snprintf(conf, sizeof conf, "%s/domsec.conf", fx.dir);
	snprintf(text, sizeof text,
	    "CAFile %s/root.pem\n"
	    "PartnerTable %s\n"
	    "CRLCacheDir %s\n"
	    "StateDir %s\n"
	    "HeloName probe.contoso.test\n"
	    "%s", fx.pki, ptab, fx.dir, fx.dir, extra);
	assert_int_equal(write_file(conf, text), 0);
	if (ds_config_load(conf, cfg, err, sizeof err) != 0)
		fail_msg("config: %s", err);
}

static void test_pinned_index(void **state)
{
	struct ds_config cfg;
	struct ds_acquire *a;
	char dir[512], path[1100], from[600], extra[700], err[512], file[300];
	unsigned char fp[DS_FP_SHA256_LEN];
	STACK_OF(X509) *chain;

	(void)state;
	snprintf(dir, sizeof dir, "%s/pinned", fx.dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(from, sizeof from, "%s/exact-chain.pem", fx.pki);
	snprintf(path, sizeof path, "%s/wgb.pem", dir);
	assert_int_equal(copy_file(from, path), 0);
	snprintf(path, sizeof path, "%s/README.txt", dir);   /* junk: skipped */
	assert_int_equal(write_file(path, "not a certificate\n"), 0);
	snprintf(path, sizeof path, "%s/.hidden.pem", dir);  /* hidden: ignored */
	assert_int_equal(write_file(path, "junk\n"), 0);
	snprintf(extra, sizeof extra, "PinnedCertDir %s\nDiscovery no\n", dir);
	char partners[1200];
	snprintf(partners, sizeof partners, "woodgrovebank.com\n"
	    "fabrikam.com ca=%s/private-root.pem pin=%s/fabrikam-chain.pem\n",
	    fx.pki, fx.pki);
	load_config(&cfg, partners, extra);

	a = ds_acquire_new(&cfg, err, sizeof err);
	assert_non_null(a);
	assert_int_equal(ds_acquire_pinned_count(a), 2);

	leaf_fp("exact", fp);
	chain = ds_acquire_pinned(a, fp, file, sizeof file);
	assert_non_null(chain);
	assert_int_equal(sk_X509_num(chain), 2);             /* leaf + inter */
	assert_non_null(strstr(file, "wgb.pem"));
	sk_X509_pop_free(chain, X509_free);

	leaf_fp("fabrikam", fp);
	struct ds_acquire_result res;
	assert_int_equal(ds_acquire_find(a, fp, "fabrikam.com", "127.0.0.1", &res), 0);
	assert_string_equal(res.source, "pinned");
	assert_non_null(strstr(res.origin, "fabrikam-chain.pem"));
	ds_acquire_result_free(&res);
	assert_null(res.chain);

	/* Not pinned, discovery off: not found, in words. */
	leaf_fp("wildcard", fp);
	assert_null(ds_acquire_pinned(a, fp, NULL, 0));
	assert_int_equal(ds_acquire_find(a, fp, "woodgrovebank.com", "127.0.0.1",
	    &res), -1);
	assert_null(res.chain);
	assert_non_null(strstr(res.detail, "discovery is off"));
	/* The intermediate of a pinned chain is not a pinned leaf. */
	leaf_fp("inter", fp);
	assert_null(ds_acquire_pinned(a, fp, NULL, 0));

	ds_acquire_free(a);
	ds_config_free(&cfg);
}

static void test_bad_pin_file_is_an_error(void **state)
{
	struct ds_config cfg;
	char err[512], partners[600];

	(void)state;
	snprintf(partners, sizeof partners, "woodgrovebank.com\n");
	load_config(&cfg, partners, "");
	/* The partner loader checks pin= files itself; simulate one that went
	 * missing after loading. */
	ds_strlist_add(&cfg.partners.v[0].pin_files, "/nonexistent/pin.pem");
	assert_null(ds_acquire_new(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent/pin.pem"));
	ds_config_free(&cfg);

	/* A PinnedCertDir that disappeared between loading and starting. */
	char dir[400], extra[500];
	snprintf(dir, sizeof dir, "%s/vanishing", fx.dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(extra, sizeof extra, "PinnedCertDir %s\n", dir);
	load_config(&cfg, partners, extra);
	assert_int_equal(rmdir(dir), 0);
	assert_null(ds_acquire_new(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "vanishing"));
	ds_config_free(&cfg);
}

static struct ds_acquire *discovery_setup(struct ds_config *cfg, int port,
    const char *timeout)
{
	char extra[512], err[512];
	struct ds_acquire *a;
	struct ds_resolver r;

	snprintf(extra, sizeof extra, "Discovery yes\nProbePort %d\n"
	    "ProbeTimeout %s\nDiscoveryCacheTTL 1h\nDiscoveryNegativeTTL 10m\n",
	    port, timeout);
	load_config(cfg, "woodgrovebank.com\n.tailspin.com\n", extra);
	a = ds_acquire_new(cfg, err, sizeof err);
	assert_non_null(a);
	/* MX lookups go to a name server that refuses at once unless a test
	 * started dns_server.py. */
	memset(&r, 0, sizeof r);
	snprintf(r.server, sizeof r.server, "127.0.0.1");
	r.port = fx.dns_port > 0 ? fx.dns_port : free_port();
	r.timeout_s = 1;
	r.tries = 1;
	ds_acquire_set_resolver(a, &r);
	return a;
}

static void test_discovery_client_address(void **state)
{
	struct ds_config cfg;
	struct ds_acquire *a;
	struct ds_acquire_result res;
	unsigned char fp[DS_FP_SHA256_LEN], other[DS_FP_SHA256_LEN];
	int port;

	(void)state;
	port = tls_server_start(&fx, "onedeep", "127.0.0.1", NULL);
	assert_true(port > 0);
	a = discovery_setup(&cfg, port, "3s");
	leaf_fp("onedeep", fp);

	assert_int_equal(ds_acquire_find(a, fp, "woodgrovebank.com", "127.0.0.1",
	    &res), 0);
	assert_string_equal(res.source, "discovered");
	assert_int_equal(res.cached, 0);
	assert_int_equal(sk_X509_num(res.chain), 2);
	unsigned char got[DS_FP_SHA256_LEN];
	ds_cert_fingerprint(sk_X509_value(res.chain, 0), got);
	assert_memory_equal(got, fp, sizeof got);
	char want_origin[64];
	snprintf(want_origin, sizeof want_origin, "127.0.0.1 port %d", port);
	assert_string_equal(res.origin, want_origin);
	ds_acquire_result_free(&res);
	assert_int_equal(ds_acquire_probe_count(a), 1);

	/* Cached: no second probe, even with the server gone. */
	tls_server_stop(&fx);
	assert_int_equal(ds_acquire_find(a, fp, "woodgrovebank.com", "127.0.0.1",
	    &res), 0);
	assert_int_equal(res.cached, 1);
	ds_acquire_result_free(&res);
	assert_int_equal(ds_acquire_probe_count(a), 1);

	/* The cache is per domain too: another partner domain probes again
	 * (and now finds nothing). */
	assert_int_equal(ds_acquire_find(a, fp, "sales.tailspin.com", "127.0.0.1",
	    &res), -1);
	assert_true(ds_acquire_probe_count(a) >= 2);
	assert_non_null(strstr(res.detail, "connection refused"));

	/* A certificate the server does not present is never taken. */
	port = tls_server_start_on(&fx, "onedeep", "127.0.0.1", port, NULL);
	assert_true(port > 0);
	leaf_fp("exact", other);
	unsigned long before = ds_acquire_probe_count(a);
	assert_int_equal(ds_acquire_find(a, other, "woodgrovebank.com",
	    "127.0.0.1", &res), -1);
	assert_null(res.chain);
	assert_non_null(strstr(res.detail, "presented another certificate"));
	assert_non_null(strstr(res.detail, "MX lookup for woodgrovebank.com"));
	assert_int_equal(ds_acquire_probe_count(a), before + 1);
	/* Negative result cached. */
	assert_int_equal(ds_acquire_find(a, other, "woodgrovebank.com",
	    "127.0.0.1", &res), -1);
	assert_int_equal(res.cached, 1);
	assert_non_null(strstr(res.detail, "(cached)"));
	assert_int_equal(ds_acquire_probe_count(a), before + 1);
	/* ... until it expires. */
	cfg.discovery_negative_ttl_s = 0;
	ds_acquire_flush_cache(a);
	assert_int_equal(ds_acquire_find(a, other, "woodgrovebank.com",
	    "127.0.0.1", &res), -1);
	assert_int_equal(res.cached, 0);
	assert_int_equal(ds_acquire_probe_count(a), before + 2);

	tls_server_stop(&fx);
	ds_acquire_free(a);
	ds_config_free(&cfg);
}

static void test_discovery_mx_hosts(void **state)
{
	struct ds_config cfg;
	struct ds_acquire *a;
	struct ds_acquire_result res;
	unsigned char fp[DS_FP_SHA256_LEN];
	int port;
	const char *records[] = {
		"woodgrovebank.com MX 10 mx1.woodgrovebank.com",
		"woodgrovebank.com MX 20 mx2.woodgrovebank.com",
		"mx1.woodgrovebank.com A 127.0.0.3",
		"mx2.woodgrovebank.com A 127.0.0.2",
		NULL
	};

	(void)state;
	assert_true(dns_server_start(&fx, records) > 0);
	/* The partner's MX (127.0.0.2, second preference) serves the
	 * certificate; the connecting client (127.0.0.1) and mx1 do not. */
	port = tls_server_start(&fx, "wildcard", "127.0.0.2", NULL);
	assert_true(port > 0);
	a = discovery_setup(&cfg, port, "2s");
	char want_origin[128];
	snprintf(want_origin, sizeof want_origin,
	    "mx2.woodgrovebank.com [127.0.0.2] port %d", port);

	/* A certificate nobody presents: client, mx1 and mx2 are probed. */
	unsigned char other[DS_FP_SHA256_LEN];
	leaf_fp("exact", other);
	assert_int_equal(ds_acquire_find(a, other, "woodgrovebank.com",
	    "127.0.0.1", &res), -1);
	assert_int_equal(ds_acquire_probe_count(a), 3);
	assert_non_null(strstr(res.detail, "mx2.woodgrovebank.com [127.0.0.2] port"));
	assert_non_null(strstr(res.detail, "presented another certificate"));
	assert_true(file_contains(fx.log, "clear EHLO probe.contoso.test"));
	assert_true(file_contains(fx.log, "sni=mx2.woodgrovebank.com"));

	/* Another unknown fingerprint for the same domain soon after: only
	 * the client is probed, the MX hosts' answers are remembered. */
	leaf_fp("revoked", other);
	assert_int_equal(ds_acquire_find(a, other, "woodgrovebank.com",
	    "127.0.0.1", &res), -1);
	assert_int_equal(ds_acquire_probe_count(a), 4);
	assert_non_null(strstr(res.detail, "were probed less than "
	    "DiscoveryNegativeTTL ago"));

	/* The certificate mx2 did present is found among those answers. */
	leaf_fp("wildcard", fp);
	assert_int_equal(ds_acquire_find(a, fp, "woodgrovebank.com", "127.0.0.1",
	    &res), 0);
	assert_string_equal(res.source, "discovered");
	assert_string_equal(res.origin, want_origin);
	assert_int_equal(ds_acquire_probe_count(a), 5);
	ds_acquire_result_free(&res);

	/* With the caches flushed, a full round finds it on mx2. */
	ds_acquire_flush_cache(a);
	assert_int_equal(ds_acquire_find(a, fp, "woodgrovebank.com", "127.0.0.1",
	    &res), 0);
	assert_string_equal(res.origin, want_origin);
	assert_int_equal(ds_acquire_probe_count(a), 8);   /* client, mx1, mx2 */
	ds_acquire_result_free(&res);

	tls_server_stop(&fx);
	stop_pid(&fx.dns);
	fx.dns_port = 0;
	ds_acquire_free(a);
	ds_config_free(&cfg);
}

struct racer {
	struct ds_acquire *a;
	const unsigned char *fp;
	int rc;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct ds_acquire_result res;

	r->rc = ds_acquire_find(r->a, r->fp, "woodgrovebank.com", "127.0.0.1", &res);
	ds_acquire_result_free(&res);
	return NULL;
}

static void test_concurrent_discoveries_share_one_probe(void **state)
{
	struct ds_config cfg;
	struct ds_acquire *a;
	unsigned char fp[DS_FP_SHA256_LEN];
	pthread_t t[8];
	struct racer r[8];
	int port;

	(void)state;
	port = tls_server_start(&fx, "upper", "127.0.0.1", NULL);
	assert_true(port > 0);
	a = discovery_setup(&cfg, port, "3s");
	leaf_fp("upper", fp);
	for (int i = 0; i < 8; i++) {
		r[i] = (struct racer){ a, fp, -2 };
		pthread_create(&t[i], NULL, race, &r[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(r[i].rc, 0);
	}
	assert_int_equal(ds_acquire_probe_count(a), 1);
	tls_server_stop(&fx);
	ds_acquire_free(a);
	ds_config_free(&cfg);
}

static void test_discovery_is_bounded(void **state)
{
	struct ds_config cfg;
	struct ds_acquire *a;
	struct ds_acquire_result res;
	unsigned char fp[DS_FP_SHA256_LEN];
	struct timespec t0, t1;
	int port;

	(void)state;
	port = tls_server_start(&fx, "exact", "127.0.0.1", "--hang");
	assert_true(port > 0);
	a = discovery_setup(&cfg, port, "600ms");
	leaf_fp("exact", fp);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ds_acquire_find(a, fp, "woodgrovebank.com", "127.0.0.1",
	    &res), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	/* Twice ProbeTimeout for everything, plus a little slack for DNS. */
	assert_true(ms < 2500);
	assert_non_null(strstr(res.detail, "timeout after 600 ms during greeting"));
	tls_server_stop(&fx);
	ds_acquire_free(a);
	ds_config_free(&cfg);
}

static void test_discovery_ipv6_client(void **state)
{
	struct ds_config cfg;
	struct ds_acquire *a;
	struct ds_acquire_result res;
	unsigned char fp[DS_FP_SHA256_LEN];
	int port;

	(void)state;
	port = tls_server_start(&fx, "cnonly", "::1", NULL);
	if (port <= 0)
		skip();                                 /* no IPv6 loopback */
	a = discovery_setup(&cfg, port, "3s");
	leaf_fp("cnonly", fp);
	/* As Sendmail writes an IPv6 client address. */
	assert_int_equal(ds_acquire_find(a, fp, "woodgrovebank.com", "IPv6:::1",
	    &res), 0);
	char want[64];
	snprintf(want, sizeof want, "::1 port %d", port);
	assert_string_equal(res.origin, want);
	ds_acquire_result_free(&res);
	tls_server_stop(&fx);
	ds_acquire_free(a);
	ds_config_free(&cfg);
}

static void test_no_domain_or_client(void **state)
{
	struct ds_config cfg;
	struct ds_acquire *a;
	struct ds_acquire_result res;
	unsigned char fp[DS_FP_SHA256_LEN];

	(void)state;
	a = discovery_setup(&cfg, free_port(), "1s");
	leaf_fp("exact", fp);
	assert_int_equal(ds_acquire_find(a, fp, "", "127.0.0.1", &res), -1);
	assert_non_null(strstr(res.detail, "no partner domain"));
	assert_int_equal(ds_acquire_find(a, fp, "woodgrovebank.com", "not-an-ip",
	    &res), -1);
	assert_int_equal(ds_acquire_find(a, fp, "tailspin.com", NULL, &res), -1);
	assert_int_equal(ds_acquire_probe_count(a), 0);    /* nothing to probe */
	ds_acquire_free(a);
	ds_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pinned_index),
		cmocka_unit_test(test_bad_pin_file_is_an_error),
		cmocka_unit_test(test_discovery_client_address),
		cmocka_unit_test(test_discovery_mx_hosts),
		cmocka_unit_test(test_concurrent_discoveries_share_one_probe),
		cmocka_unit_test(test_discovery_is_bounded),
		cmocka_unit_test(test_discovery_ipv6_client),
		cmocka_unit_test(test_no_domain_or_client),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
