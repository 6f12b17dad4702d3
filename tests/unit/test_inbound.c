/*
 * test_inbound.c - inbound decisions end to end in the library, over the
 * test PKI with the real engine, a real CRL server (tests/crlserver.py) and
 * a real STARTTLS listener for discovery: every verdict with its reply and
 * log line, enforce and monitor modes, trusted relays, From alignment, the
 * headers of a secured message, forged header recognition through the
 * configuration, and the counters file.  The session rules (hand-off,
 * binding, one verdict per message) are in test_session.c.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "domsec/config.h"
#include "domsec/engine.h"
#include "domsec/inbound.h"
#include "domsec/log.h"
#include "domsec/verdict_log.h"

#include "inbound_fixture.h"

static struct ds_decision decide(const struct ds_facts *f, const char *domain,
    const char **log)
{
	struct ds_decision d;

	/* One message: decided, then concluded (counted and logged). */
	capture_begin();
	assert_int_equal(ds_inbound_decide(in, f, domain, &d), 0);
	ds_inbound_conclude(in, &d, f, NULL);
	*log = capture_end();
	return d;
}
/* ---- tests ---- */

static void test_non_partner(void **state)
{
	struct ds_facts f = tls_facts(NULL, "someone@example.org");
	const char *log;
	struct ds_decision d;

	(void)state;
	f.tls = 0;
	d = decide(&f, NULL, &log);                 /* domain from the sender */
	assert_int_equal(d.is_partner, 0);
	assert_int_equal(d.refuse, 0);
	assert_string_equal(d.domain, "example.org");
	assert_null(strstr(log, "verdict="));        /* no verdict line */
	/* A send-only partner is not checked inbound. */
	d = decide(&f, "sendonly.example", &log);
	assert_int_equal(d.is_partner, 0);
	assert_int_equal(d.refuse, 0);
	/* Null sender without a From domain: nothing to check. */
	f.sender[0] = '\0';
	d = decide(&f, "", &log);
	assert_int_equal(d.is_partner, 0);
}

static void test_no_tls(void **state)
{
	struct ds_facts f = tls_facts(NULL, "a@woodgrovebank.com");
	const char *log;
	struct ds_decision d;
	unsigned long before = ds_counter_get(DS_COUNT_VERDICT_BASE + DS_VERDICT_NO_TLS);

	(void)state;
	f.tls = 0;
	f.tls_version[0] = f.cipher[0] = '\0';
	d = decide(&f, "WoodGroveBank.COM.", &log);
	assert_int_equal(d.is_partner, 1);
	assert_string_equal(d.domain, "woodgrovebank.com");
	assert_int_equal(d.verdict, DS_VERDICT_NO_TLS);
	assert_int_equal(d.refuse, 1);
	assert_string_equal(d.reply.rcode, "530");
	assert_string_equal(d.reply.xcode, "5.7.0");
	assert_non_null(strstr(d.reply.text, "woodgrovebank.com"));
	assert_string_equal(d.action, "reject");
	assert_non_null(strstr(log, "verdict=no-tls mode=enforce action=reject "
	    "domain=woodgrovebank.com client=127.0.0.1:41234 "
	    "helo=\"mail.woodgrovebank.com\" tls=none"));
	assert_int_equal(count_lines_with(log, "verdict="), 1);
	assert_int_equal(ds_counter_get(DS_COUNT_VERDICT_BASE + DS_VERDICT_NO_TLS),
	    before + 1);
	/* TLS state unknown is treated as not encrypted, and said so. */
	f.tls = -1;
	d = decide(&f, "woodgrovebank.com", &log);
	assert_int_equal(d.verdict, DS_VERDICT_NO_TLS);
	assert_non_null(strstr(d.reason, "did not report TLS"));
}

static void test_no_certificate(void **state)
{
	struct ds_facts f = tls_facts(NULL, "a@woodgrovebank.com");
	const char *log;
	struct ds_decision d;

	(void)state;
	d = decide(&f, "woodgrovebank.com", &log);
	assert_int_equal(d.verdict, DS_VERDICT_NO_CERTIFICATE);
	assert_int_equal(d.refuse, 1);
	assert_string_equal(d.reply.rcode, "550");
	assert_string_equal(d.reply.xcode, "5.7.1");
	assert_non_null(strstr(log, "verdict=no-certificate"));
	assert_non_null(strstr(log, "cipher=\"TLS_AES_256_GCM_SHA384\""));
}

static void test_no_fingerprint(void **state)
{
	struct ds_facts f = tls_facts(NULL, "a@woodgrovebank.com");
	const char *log;
	struct ds_decision d;

	(void)state;
	/* Postfix milter alone: the MTA verified, gives names, no fingerprint. */
	f.cert_presented = 1;
	f.mta_verified = 1;
	snprintf(f.cert_subject, sizeof f.cert_subject, "woodgrovebank.com");
	d = decide(&f, "woodgrovebank.com", &log);
	assert_int_equal(d.verdict, DS_VERDICT_UNKNOWN_CERTIFICATE);
	assert_int_equal(d.refuse, 1);
	assert_string_equal(d.reply.rcode, "451");
	assert_string_equal(d.reply.xcode, "4.7.5");
	assert_string_equal(d.action, "defer");
	assert_non_null(strstr(log, "smtpd_tls_fingerprint_digest = sha256"));
	/* Even with revocation=none a certificate never seen is not tagged. */
	d = decide(&f, "relaxed.example", &log);
	assert_int_equal(d.verdict, DS_VERDICT_UNKNOWN_CERTIFICATE);
}

static void test_secured_pinned(void **state)
{
	struct ds_facts f = tls_facts("exact", "alice@woodgrovebank.com");
	struct ds_header h[DS_HEADERS_MAX];
	const char *log;
	struct ds_decision d;
	unsigned long rec = ds_counter_get(DS_COUNT_SECURED_RECEIVED);
	size_t n;

	(void)state;
	d = decide(&f, "woodgrovebank.com", &log);
	assert_int_equal(d.verdict, DS_VERDICT_SECURED);
	assert_int_equal(d.refuse, 0);
	assert_string_equal(d.action, "accept");
	assert_string_equal(d.cert_source, "pinned");
	assert_string_equal(d.matched_name, "woodgrovebank.com");
	assert_int_equal(d.have_leaf, 1);
	assert_string_equal(d.leaf.subject, "CN=woodgrovebank.com");
	assert_int_equal(ds_counter_get(DS_COUNT_SECURED_RECEIVED), rec + 1);
	/* The log line carries the protocol-log fields. */
	assert_non_null(strstr(log, "verdict=secured mode=enforce action=accept "
	    "domain=woodgrovebank.com client=127.0.0.1:41234"));
	assert_non_null(strstr(log,
	    "source=pinned subject=\"CN=woodgrovebank.com\""));
	assert_non_null(strstr(log, "issuer=\"CN=domsec Test Issuing CA"));
	char want[2000];
	snprintf(want, sizeof want, "serial=%s thumbprint=%s fingerprint=%s "
	    "altnames=\"woodgrovebank.com\" matched=\"woodgrovebank.com\"",
	    d.leaf.serial, d.leaf.thumbprint, d.leaf.fingerprint);
	assert_non_null(strstr(log, want));
	assert_int_equal(strlen(d.leaf.thumbprint), 40);

	/* Headers: Authentication-Results, then ours on top. */
	n = ds_inbound_headers(in, &d, &f, h, DS_HEADERS_MAX);
	assert_int_equal(n, 2);
	assert_string_equal(h[0].name, "Authentication-Results");
	assert_true(strncmp(h[0].value, "mx.contoso.com; x-domainsecurity=pass", 37) == 0);
	assert_non_null(strstr(h[0].value, "smtp.mailfrom=woodgrovebank.com"));
	assert_string_equal(h[1].name, "X-Domain-Secured");
	snprintf(want, sizeof want, "mx.contoso.com; domain=woodgrovebank.com; "
	    "result=secured; subject=\"CN=woodgrovebank.com\"; issuer=\"%s\"; "
	    "fingerprint=%s; tls=TLSv1.3", d.leaf.issuer, d.leaf.fingerprint);
	assert_string_equal(h[1].value, want);
	/* Our own headers are what a forger would copy: recognised. */
	assert_true(ds_inbound_header_is_ours(in, h[0].name, h[0].value));
	assert_true(ds_inbound_header_is_ours(in, h[1].name, h[1].value));
	assert_false(ds_inbound_header_is_ours(in, "Authentication-Results",
	    "mx.fabrikam.com; spf=pass"));
	/* Not with a smaller max. */
	assert_int_equal(ds_inbound_headers(in, &d, &f, h, 1), 1);
}

static void expect_refused(const char *leaf, enum ds_verdict v,
    const char *rcode, const char *reason_part)
{
	struct ds_facts f = tls_facts(leaf, "a@woodgrovebank.com");
	struct ds_header h[DS_HEADERS_MAX];
	const char *log;
	struct ds_decision d = decide(&f, "woodgrovebank.com", &log);
	char want[128];

	if (d.verdict != v)
		fail_msg("%s: verdict %s (%s), wanted %s", leaf,
		    ds_verdict_name(d.verdict), d.reason, ds_verdict_name(v));
	assert_int_equal(d.refuse, 1);
	assert_string_equal(d.reply.rcode, rcode);
	assert_non_null(strstr(d.reply.text, "woodgrovebank.com"));
	if (reason_part != NULL && strstr(d.reason, reason_part) == NULL)
		fail_msg("%s: reason '%s' lacks '%s'", leaf, d.reason, reason_part);
	snprintf(want, sizeof want, "verdict=%s mode=enforce", ds_verdict_name(v));
	assert_non_null(strstr(log, want));
	snprintf(want, sizeof want, "reply=\"%s ", rcode);
	assert_non_null(strstr(log, want));
	assert_int_equal(count_lines_with(log, "verdict="), 1);
	assert_int_equal(ds_inbound_headers(in, &d, &f, h, DS_HEADERS_MAX), 0);
}

static void test_refusing_verdicts(void **state)
{
	(void)state;
	expect_refused("revoked", DS_VERDICT_REVOKED, "550", "revoked");
	expect_refused("untrusted", DS_VERDICT_UNTRUSTED, "550", "not trusted");
	expect_refused("expired", DS_VERDICT_UNTRUSTED, "550", "expired");
	expect_refused("suffix", DS_VERDICT_NAME_MISMATCH, "550",
	    "woodgrovebank.com.evil.example");
	expect_refused("nocrl", DS_VERDICT_REVOCATION_UNAVAILABLE, "451", NULL);
}

static void test_unknown_certificate_says_how_to_pin(void **state)
{
	struct ds_facts f = tls_facts("onedeep", "a@woodgrovebank.com");
	const char *log;
	struct ds_decision d;
	char want[2000];

	(void)state;
	/* Not pinned, and nothing listens on the probe port. */
	d = decide(&f, "woodgrovebank.com", &log);
	assert_int_equal(d.verdict, DS_VERDICT_UNKNOWN_CERTIFICATE);
	assert_string_equal(d.reply.rcode, "451");
	assert_non_null(strstr(d.reason, "connection refused"));
	snprintf(want, sizeof want, "PinnedCertDir %s/pinned (fingerprint %s)",
	    fx.dir, d.fingerprint);
	assert_non_null(strstr(log, want));
	assert_non_null(strstr(log, "verdict=unknown-certificate"));
	snprintf(want, sizeof want, "fingerprint=%s", d.fingerprint);
	assert_non_null(strstr(log, want));
}

/* The verdict cache: a known certificate's verdict is reused; a CRL
 * swapped in or a reload (a new struct ds_inbound) makes it miss; a
 * transient verdict is never cached. */
static void test_verdict_cache(void **state)
{
	struct ds_facts f = tls_facts("exact", "a@woodgrovebank.com");
	struct ds_facts u = tls_facts("onedeep", "a@woodgrovebank.com");
	struct ds_inbound *in2;
	unsigned long h0, m0, h, m;
	const char *log;
	struct ds_decision d;
	char err[256];

	(void)state;
	d = decide(&f, "woodgrovebank.com", &log);
	assert_int_equal(d.verdict, DS_VERDICT_SECURED);
	ds_inbound_cache_stats(in, &h0, &m0);
	/* hit: the same verdict, the same log fields */
	d = decide(&f, "woodgrovebank.com", &log);
	ds_inbound_cache_stats(in, &h, &m);
	assert_int_equal(h, h0 + 1);
	assert_int_equal(m, m0);
	assert_int_equal(d.verdict, DS_VERDICT_SECURED);
	assert_string_equal(d.cert_source, "pinned");
	assert_string_equal(d.leaf.subject, "CN=woodgrovebank.com");
	assert_non_null(strstr(log,
	    "source=pinned subject=\"CN=woodgrovebank.com\""));
	/* another partner domain for the same certificate: its own entry */
	d = decide(&f, "fabrikam.com", &log);
	ds_inbound_cache_stats(in, &h, &m);
	assert_int_equal(h, h0 + 1);
	/* a CRL swapped in: verified again */
	ds_crl_generation_bump();
	d = decide(&f, "woodgrovebank.com", &log);
	ds_inbound_cache_stats(in, &h, &m);
	assert_int_equal(h, h0 + 1);
	assert_int_equal(m, m0 + 2);
	assert_int_equal(d.verdict, DS_VERDICT_SECURED);
	d = decide(&f, "woodgrovebank.com", &log);
	ds_inbound_cache_stats(in, &h, &m);
	assert_int_equal(h, h0 + 2);
	/* a reload: the new configuration's inbound core starts empty */
	in2 = ds_inbound_new(&cfg, engine, err, sizeof err);
	assert_non_null(in2);
	assert_int_equal(ds_inbound_decide(in2, &f, "woodgrovebank.com", &d),
	    0);
	assert_int_equal(d.verdict, DS_VERDICT_SECURED);
	ds_inbound_cache_stats(in2, &h, &m);
	assert_int_equal(h, 0);
	assert_int_equal(m, 1);
	ds_inbound_free(in2);
	/* transient (unknown-certificate): never cached */
	ds_inbound_cache_stats(in, &h0, &m0);
	for (int i = 0; i < 2; i++) {
		d = decide(&u, "woodgrovebank.com", &log);
		assert_int_equal(d.verdict, DS_VERDICT_UNKNOWN_CERTIFICATE);
	}
	ds_inbound_cache_stats(in, &h, &m);
	assert_int_equal(h, h0);
	assert_int_equal(m, m0 + 2);
}

static void test_secured_by_discovery(void **state)
{
	struct ds_facts f = tls_facts("wildcard", "a@woodgrovebank.com");
	const char *log;
	struct ds_decision d;

	(void)state;
	assert_int_equal(tls_server_start_on(&fx, "wildcard", "127.0.0.1",
	    probe_port, NULL), probe_port);
	d = decide(&f, "woodgrovebank.com", &log);
	tls_server_stop(&fx);
	assert_int_equal(d.verdict, DS_VERDICT_SECURED);
	assert_string_equal(d.cert_source, "discovered");
	assert_string_equal(d.matched_name, "*.woodgrovebank.com");
	assert_non_null(strstr(log, "source=discovered"));
	/* Cached: the same certificate is found with the listener gone. */
	d = decide(&f, "woodgrovebank.com", &log);
	assert_int_equal(d.verdict, DS_VERDICT_SECURED);
}

static void test_partner_anchor(void **state)
{
	struct ds_facts f = tls_facts("fabrikam", "b@fabrikam.com");
	const char *log;
	struct ds_decision d = decide(&f, "fabrikam.com", &log);

	(void)state;
	if (d.verdict != DS_VERDICT_SECURED)
		fail_msg("fabrikam: %s: %s", ds_verdict_name(d.verdict), d.reason);
	assert_string_equal(d.leaf.issuer, "CN=Fabrikam Private Root, O=domsec tests");
}

static void test_monitor_mode(void **state)
{
	struct ds_facts f = tls_facts(NULL, "c@sales.tailspin.com");
	struct ds_header h[DS_HEADERS_MAX];
	const char *log;
	struct ds_decision d;

	(void)state;
	f.tls = 0;
	d = decide(&f, "sales.tailspin.com", &log);
	assert_int_equal(d.is_partner, 1);
	assert_int_equal(d.mode, DS_MODE_MONITOR);
	assert_int_equal(d.verdict, DS_VERDICT_NO_TLS);
	assert_int_equal(d.refuse, 0);
	assert_string_equal(d.action, "accept");
	assert_non_null(strstr(log, "verdict=no-tls mode=monitor action=accept "
	    "would=reject domain=sales.tailspin.com"));
	/* Secured in monitor mode: logged, nothing added. */
	f = tls_facts("tailspin", "c@sales.tailspin.com");
	unsigned long rec = ds_counter_get(DS_COUNT_SECURED_RECEIVED);
	d = decide(&f, "sales.tailspin.com", &log);
	assert_int_equal(d.verdict, DS_VERDICT_SECURED);
	assert_non_null(strstr(log, "verdict=secured mode=monitor action=accept"));
	assert_int_equal(ds_inbound_headers(in, &d, &f, h, DS_HEADERS_MAX), 0);
	assert_int_equal(ds_counter_get(DS_COUNT_SECURED_RECEIVED), rec);
}

static void test_trusted_relay(void **state)
{
	struct ds_facts f = tls_facts(NULL, "a@woodgrovebank.com");
	const char *log;
	struct ds_decision d;

	(void)state;
	f.tls = 0;
	snprintf(f.client_addr, sizeof f.client_addr, "10.9.9.9");
	d = decide(&f, "woodgrovebank.com", &log);
	assert_int_equal(d.trusted_relay, 1);
	assert_int_equal(d.is_partner, 0);
	assert_int_equal(d.refuse, 0);
	assert_true(ds_inbound_relay_trusted(in, "10.9.9.200"));
	assert_true(ds_inbound_relay_trusted(in, "IPv6:2001:db8:9::25"));
	assert_false(ds_inbound_relay_trusted(in, "10.9.10.1"));
	assert_false(ds_inbound_relay_trusted(in, "127.0.0.1"));
	assert_false(ds_inbound_relay_trusted(in, ""));
}

static void test_alignment(void **state)
{
	struct ds_facts f = tls_facts("exact", "a@woodgrovebank.com");
	struct ds_header h[DS_HEADERS_MAX];
	const char *log;
	struct ds_decision d, copy;
	const char *good[] = { "woodgrovebank.com", "WoodGroveBank.com." };
	const char *bad[] = { "woodgrovebank.com", "evil.example" };
	const char *sub[] = { "mail.woodgrovebank.com" };

	(void)state;
	d = decide(&f, "woodgrovebank.com", &log);
	copy = d;
	assert_int_equal(ds_inbound_align(in, &d, good, 2, NULL), DS_VERDICT_SECURED);

	unsigned long secured = ds_counter_get(DS_COUNT_VERDICT_BASE + DS_VERDICT_SECURED);
	unsigned long unaligned = ds_counter_get(DS_COUNT_VERDICT_BASE + DS_VERDICT_UNALIGNED);
	unsigned long rec = ds_counter_get(DS_COUNT_SECURED_RECEIVED);
	d = copy;
	capture_begin();
	assert_int_equal(ds_inbound_align(in, &d, bad, 2, NULL), DS_VERDICT_UNALIGNED);
	ds_inbound_conclude(in, &d, &f, "4XyZ12");
	log = capture_end();
	/* one verdict line for the message: the final one */
	assert_int_equal(count_lines_with(log, "verdict="), 1);
	assert_non_null(strstr(log, "4XyZ12: verdict=unaligned"));
	assert_int_equal(d.verdict, DS_VERDICT_UNALIGNED);
	assert_int_equal(d.refuse, 0);
	assert_non_null(strstr(d.reason, "evil.example"));
	assert_non_null(strstr(log, "verdict=unaligned mode=enforce action=accept "
	    "domain=woodgrovebank.com client=127.0.0.1:41234 "
	    "helo=\"mail.woodgrovebank.com\" tls=TLSv1.3"));
	assert_int_equal(ds_inbound_headers(in, &d, &f, h, DS_HEADERS_MAX), 0);
	assert_int_equal(ds_counter_get(DS_COUNT_VERDICT_BASE + DS_VERDICT_SECURED),
	    secured);
	assert_int_equal(ds_counter_get(DS_COUNT_VERDICT_BASE + DS_VERDICT_UNALIGNED),
	    unaligned + 1);
	assert_int_equal(ds_counter_get(DS_COUNT_SECURED_RECEIVED), rec);
	/* a From header that did not parse: the reason says so */
	const char *unreadable[] = { "" };
	d = copy;
	assert_int_equal(ds_inbound_align(in, &d, unreadable, 1, "text after an "
	    "address"), DS_VERDICT_UNALIGNED);
	assert_non_null(strstr(d.reason, "not a clean RFC 5322 address list "
	    "(text after an address)"));
	/* An exact entry does not cover subdomains; no From at all is not
	 * aligned either. */
	d = copy;
	capture_begin();
	assert_int_equal(ds_inbound_align(in, &d, sub, 1, NULL), DS_VERDICT_UNALIGNED);
	capture_end();
	d = copy;
	capture_begin();
	assert_int_equal(ds_inbound_align(in, &d, NULL, 0, NULL), DS_VERDICT_UNALIGNED);
	capture_end();
	/* Refusing verdicts stay what they are. */
	d = copy;
	d.verdict = DS_VERDICT_REVOKED;
	assert_int_equal(ds_inbound_align(in, &d, bad, 2, NULL), DS_VERDICT_REVOKED);

	/* Dot entry: any From under the same entry is aligned. */
	f = tls_facts("tailspin", "c@sales.tailspin.com");
	d = decide(&f, "sales.tailspin.com", &log);
	const char *other_sub[] = { "other.tailspin.com" };
	assert_int_equal(ds_inbound_align(in, &d, other_sub, 1, NULL), DS_VERDICT_SECURED);
}

static void test_exchange_headers_and_null_sender(void **state)
{
	struct ds_facts f;
	struct ds_header h[DS_HEADERS_MAX];
	const char *log;
	struct ds_decision d;
	size_t n;

	(void)state;
	free_core();
	assert_int_equal(build_core("ExchangeHeaders yes\nHeaderName X-Partner-Secured\n"), 0);
	f = tls_facts("exact", "");                   /* a bounce */
	d = decide(&f, "woodgrovebank.com", &log);     /* From domain passed */
	assert_int_equal(d.verdict, DS_VERDICT_SECURED);
	n = ds_inbound_headers(in, &d, &f, h, DS_HEADERS_MAX);
	assert_int_equal(n, 5);
	assert_string_equal(h[0].name, "X-MS-Exchange-Organization-AuthSource");
	assert_string_equal(h[0].value, "mx.contoso.com");
	assert_string_equal(h[1].name, "X-MS-Exchange-Organization-AuthDomain");
	assert_string_equal(h[1].value, "woodgrovebank.com");
	assert_string_equal(h[2].name, "X-MS-Exchange-Organization-AuthAs");
	assert_string_equal(h[2].value, "Partner");
	assert_string_equal(h[3].name, "Authentication-Results");
	assert_non_null(strstr(h[3].value, "header.from=woodgrovebank.com"));
	assert_string_equal(h[4].name, "X-Partner-Secured");
	assert_true(ds_inbound_header_is_ours(in, "X-MS-Exchange-Organization-AuthAs",
	    "Partner"));
	assert_true(ds_inbound_header_is_ours(in, "X-Partner-Secured", ""));
	assert_false(ds_inbound_header_is_ours(in, "X-Domain-Secured", "x"));
	free_core();
	assert_int_equal(build_core("AuthenticationResults no\n"), 0);
	d = decide(&f, "woodgrovebank.com", &log);
	n = ds_inbound_headers(in, &d, &f, h, DS_HEADERS_MAX);
	assert_int_equal(n, 1);
	assert_string_equal(h[0].name, "X-Domain-Secured");
}

static void test_crl_server_down_then_back(void **state)
{
	struct ds_facts f = tls_facts("onedeep", "a@woodgrovebank.com");
	const char *log;
	struct ds_decision d;
	char from[600], to[600];

	(void)state;
	/* A fresh core with an empty CRL cache, the CRL server stopped. */
	free_core();
	snprintf(from, sizeof from, "%s/onedeep-chain.pem", fx.pki);
	snprintf(to, sizeof to, "%s/pinned/onedeep.pem", fx.dir);
	assert_int_equal(copy_file(from, to), 0);
	char cache[500];
	snprintf(cache, sizeof cache, "%s/crlcache2", fx.dir);
	assert_int_equal(mkdir(cache, 0700), 0);
	crl_cache_name = "crlcache2";
	assert_int_equal(build_core(NULL), 0);
	/* The same store, but retrying a failed URL after 1 s instead of 30 s
	 * so that the test does not wait for the default backoff. */
	struct ds_crl_opts opts = {
		.cache_dir = cfg.crl_cache_dir,
		.connect_timeout_ms = cfg.crl_connect_timeout_ms,
		.timeout_ms = cfg.crl_timeout_ms,
		.max_size = cfg.crl_max_size,
		.max_redirects = cfg.crl_max_redirects,
		.refresh_before_s = cfg.crl_refresh_before_s,
		.retry_backoff_s = 1,
	};
	char err[256];
	ds_crl_store_free(engine->crls);
	engine->crls = ds_crl_store_new(&opts, err, sizeof err);
	assert_non_null(engine->crls);
	stop_pid(&fx.crlserver);
	d = decide(&f, "woodgrovebank.com", &log);
	assert_int_equal(d.verdict, DS_VERDICT_REVOCATION_UNAVAILABLE);
	assert_int_equal(d.refuse, 1);
	assert_string_equal(d.reply.rcode, "451");
	assert_string_equal(d.reply.xcode, "4.7.5");
	assert_non_null(strstr(log, "action=defer"));
	/* revocation-unavailable is transient: never taken from the cache */
	unsigned long h0, m0, h1, m1;
	ds_inbound_cache_stats(in, &h0, &m0);
	d = decide(&f, "woodgrovebank.com", &log);
	assert_int_equal(d.verdict, DS_VERDICT_REVOCATION_UNAVAILABLE);
	ds_inbound_cache_stats(in, &h1, &m1);
	assert_int_equal(h1, h0);
	assert_int_equal(m1, m0 + 1);
	/* The sender retries once the CRL server is back: delivered. */
	assert_true(crl_server_start(&fx) > 0);
	struct timespec ts = { 1, 100000000 };      /* past the fetch backoff */
	nanosleep(&ts, NULL);
	for (int i = 0; i < 30; i++) {
		d = decide(&f, "woodgrovebank.com", &log);
		if (d.verdict == DS_VERDICT_SECURED)
			break;
		nanosleep(&ts, NULL);
	}
	if (d.verdict != DS_VERDICT_SECURED)
		fail_msg("after the CRL server came back: %s: %s",
		    ds_verdict_name(d.verdict), d.reason);
	unlink(to);
}

static void test_counters_file(void **state)
{
	char path[500], text[4096];
	FILE *fp;
	size_t n;

	(void)state;
	assert_string_equal(ds_counter_name(DS_COUNT_SECURED_RECEIVED),
	    "Domain-Secured Messages Received");
	assert_string_equal(ds_counter_name(DS_COUNT_SECURED_SENT),
	    "Domain-Secured Messages Sent");
	assert_string_equal(ds_counter_name(DS_COUNT_OUTBOUND_FAILURES),
	    "Domain-Secured Outbound Session Failures");
	assert_string_equal(ds_counter_name(DS_COUNT_VERDICT_BASE + DS_VERDICT_REVOKED),
	    "verdict revoked");
	assert_string_equal(ds_counter_name(DS_COUNTERS), "invalid");

	snprintf(path, sizeof path, "%s/counters", fx.dir);
	unsigned long revoked = ds_counter_get(DS_COUNT_VERDICT_BASE + DS_VERDICT_REVOKED);
	assert_true(revoked >= 1);
	assert_int_equal(ds_counters_save(path), 0);
	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(text, 1, sizeof text - 1, fp);
	fclose(fp);
	text[n] = '\0';
	char want[100];
	snprintf(want, sizeof want, "verdict revoked: %lu\n", revoked);
	assert_non_null(strstr(text, want));
	assert_non_null(strstr(text, "Domain-Secured Messages Received: "));
	/* one line per counter, then one per partner and verdict seen */
	assert_int_equal(count_lines_with(text, "\n") -
	    count_lines_with(text, "\npartner "), DS_COUNTERS);
	assert_non_null(strstr(text, "\npartner woodgrovebank.com verdict revoked: "));

	/* Load restores the values (domsecd restart). */
	ds_counter_set(DS_COUNT_VERDICT_BASE + DS_VERDICT_REVOKED, 0);
	assert_int_equal(ds_counters_load(path), 0);
	assert_int_equal(ds_counter_get(DS_COUNT_VERDICT_BASE + DS_VERDICT_REVOKED),
	    revoked);
	snprintf(path, sizeof path, "%s/missing", fx.dir);
	assert_int_equal(ds_counters_load(path), 0);
	capture_begin();
	assert_int_equal(ds_counters_save("/nonexistent/dir/counters"), -1);
	assert_non_null(strstr(capture_end(), "cannot write /nonexistent/dir/counters"));
	/* Never below zero. */
	ds_counter_set(DS_COUNT_SECURED_SENT, 0);
	ds_counter_sub(DS_COUNT_SECURED_SENT, 5);
	assert_int_equal(ds_counter_get(DS_COUNT_SECURED_SENT), 0);
}

static void test_log_line_format(void **state)
{
	struct ds_decision d;
	struct ds_facts f;
	char line[4096];

	(void)state;
	memset(&d, 0, sizeof d);
	ds_facts_init(&f);
	d.is_partner = 1;
	d.verdict = DS_VERDICT_REVOKED;
	d.mode = DS_MODE_ENFORCE;
	snprintf(d.action, sizeof d.action, "reject");
	snprintf(d.domain, sizeof d.domain, "woodgrovebank.com");
	snprintf(f.client_addr, sizeof f.client_addr, "2001:db8::5");
	f.client_port = 2525;
	snprintf(f.helo, sizeof f.helo, "evil \"helo\"\r\nX: y");
	f.tls = 1;
	snprintf(f.tls_version, sizeof f.tls_version, "TLSv1.2");
	snprintf(d.reason, sizeof d.reason, "certificate revoked");
	ds_verdict_log_format(&d, &f, line, sizeof line);
	assert_string_equal(line, "verdict=revoked mode=enforce action=reject "
	    "domain=woodgrovebank.com client=[2001:db8::5]:2525 "
	    "helo=\"evil \\\"helo\\\"\\0D\\0AX: y\" tls=TLSv1.2 "
	    "reason=\"certificate revoked\"");
	assert_string_equal(ds_verdict_action(DS_VERDICT_UNKNOWN_CERTIFICATE), "defer");
	assert_string_equal(ds_verdict_action(DS_VERDICT_UNALIGNED), "accept");
	assert_string_equal(ds_verdict_action(DS_VERDICT_NAME_MISMATCH), "reject");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_non_partner),
		cmocka_unit_test(test_no_tls),
		cmocka_unit_test(test_no_certificate),
		cmocka_unit_test(test_no_fingerprint),
		cmocka_unit_test(test_secured_pinned),
		cmocka_unit_test(test_refusing_verdicts),
		cmocka_unit_test(test_unknown_certificate_says_how_to_pin),
		cmocka_unit_test(test_verdict_cache),
		cmocka_unit_test(test_secured_by_discovery),
		cmocka_unit_test(test_partner_anchor),
		cmocka_unit_test(test_monitor_mode),
		cmocka_unit_test(test_trusted_relay),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_exchange_headers_and_null_sender),
		cmocka_unit_test(test_crl_server_down_then_back),
		cmocka_unit_test(test_counters_file),
		cmocka_unit_test(test_log_line_format),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
