/*
 * test_config.c - the main configuration: defaults, every key, value
 * parsers, line-precise errors, and "never half-applied".
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "domsec/config.h"
#include "domsec/outbound.h"

static char dir[] = "/tmp/domsec-test-config.XXXXXX";
static char conf[512];

static void write_file(const char *name, const char *content)
{
	char p[600];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void write_cert_file(const char *name)
{
	char p[600];
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	assert_non_null(key);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 9);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"Test Root", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	PEM_write_X509(f, x);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(key);
}

static int setup(void **state)
{
	char p[600];
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(conf, sizeof conf, "%s/domsec.conf", dir);
	write_cert_file("root.pem");
	write_cert_file("inter.pem");
	write_file("nocert.pem", "hello\n");
	write_file("crl.der", "pretend CRL\n");
	write_file("partners", "woodgrovebank.com ca=root.pem\n.tailspin.com mode=monitor\n");
	write_file("badpartners", "woodgrovebank.com\nfabrikam.com colour=blue\n");
	snprintf(p, sizeof p, "%s/pins", dir);
	return mkdir(p, 0700);
}

static int teardown(void **state)
{
	char cmd[600];
	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void defaults(void **state)
{
	struct ds_config c;
	(void)state;
	ds_config_defaults(&c);
	assert_null(c.ca_file);
	assert_null(c.partner_table);
	assert_int_equal(c.partners.n, 0);
	assert_string_equal(c.crl_cache_dir, "/var/cache/domsec/crl");
	assert_int_equal(c.crl_connect_timeout_ms, 5000);
	assert_int_equal(c.crl_timeout_ms, 15000);
	assert_int_equal(c.crl_max_size, 256L * 1024 * 1024);
	assert_null(c.crl_proxy);
	assert_int_equal(c.crl_max_redirects, 3);
	assert_int_equal(c.crl_grace_s, 0);
	assert_int_equal(c.crl_refresh_before_s, 3600);
	assert_int_equal(c.crl_retry_backoff_s, 30);
	assert_null(c.milter_socket);
	assert_string_equal(c.state_dir, "/var/lib/domsec");
	assert_int_equal(c.syslog, 1);
	assert_int_equal(c.syslog_facility, LOG_MAIL);
	assert_int_equal(c.log_level, LOG_INFO);
	assert_null(c.user);
	char host[256];
	assert_int_equal(gethostname(host, sizeof host), 0);
	assert_string_equal(c.authserv_id, host);
	assert_string_equal(c.helo_name, host);
	assert_string_equal(c.header_name, "X-Domain-Secured");
	assert_int_equal(c.add_auth_results, 1);
	assert_int_equal(c.exchange_headers, 0);
	assert_int_equal(c.discovery, 1);
	assert_int_equal(c.probe_port, 25);
	assert_int_equal(c.probe_timeout_ms, 10000);
	assert_int_equal(c.discovery_ttl_s, 86400);
	assert_int_equal(c.discovery_negative_ttl_s, 600);
	assert_int_equal(c.outbound_ttl_s, 3600);
	assert_string_equal(c.outbound_transport, "domsec-partner");
	ds_config_free(&c);
}

static void every_key(void **state)
{
	struct ds_config c;
	char err[1024] = "";
	(void)state;
	write_file("domsec.conf",
	    "# every key\n"
	    "CAFile root.pem\n"
	    "CAPath .\n"
	    "ChainFile inter.pem\n"
	    "chainfile   root.pem   # repeatable, any case\n"
	    "PartnerTable partners\n"
	    "PinnedCertDir pins\n"
	    "CRLCacheDir /tmp/crlcache\n"
	    "CRLFile crl.der\n"
	    "CRLConnectTimeout 500ms\n"
	    "CRLTimeout 2m\n"
	    "CRLMaxSize 64M\n"
	    "CRLProxy http://proxy.example:3128\n"
	    "CRLMaxRedirects 0\n"
	    "CRLGrace 1d\n"
	    "CRLRefreshBefore 30m\n"
	    "CRLRetryBackoff 2m\n"
	    "MilterSocket inet:8891@127.0.0.1\n"
	    "PolicySocket unix:/run/domsec/policy.sock\n"
	    "SocketmapSocket inet:localhost:8893\n"
	    "PidFile /run/domsec.pid\n"
	    "StateDir state\n"
	    "Syslog no\n"
	    "SyslogFacility local3\n"
	    "LogLevel debug\n"
	    "UserID root\n"
	    "AuthservID mx.contoso.com\n"
	    "HeaderName X-Partner-Secured\n"
	    "AuthenticationResults false\n"
	    "ExchangeHeaders yes\n"
	    "TrustedRelays 127.0.0.1, 10.0.0.0/8 ::1\n"
	    "TrustedRelays 2001:db8::/32\n"
	    "Discovery 0\n"
	    "ProbePort 2525\n"
	    "ProbeTimeout 3s\n"
	    "DiscoveryCacheTTL 2h\n"
	    "DiscoveryNegativeTTL 60\n"
	    "HeloName mx.contoso.com.\n"
	    "OutboundCacheTTL 5m\n"
	    "OutboundTransport smtp-partner_2.tls\n");
	int rc = ds_config_load(conf, &c, err, sizeof err);
	if (rc != 0)
		fail_msg("%s", err);
	assert_string_equal(c.source_path, conf);
	assert_non_null(strstr(c.ca_file, dir));
	assert_non_null(c.ca_path);
	assert_int_equal(c.chain_files.n, 2);
	assert_non_null(strstr(c.partner_table, "/partners"));
	assert_int_equal(c.partners.n, 2);
	assert_string_equal(c.partners.v[1].domain, "tailspin.com");
	assert_non_null(strstr(c.pinned_cert_dir, "/pins"));
	assert_string_equal(c.crl_cache_dir, "/tmp/crlcache");
	assert_int_equal(c.crl_files.n, 1);
	assert_int_equal(c.crl_connect_timeout_ms, 500);
	assert_int_equal(c.crl_timeout_ms, 120000);
	assert_int_equal(c.crl_max_size, 64L * 1024 * 1024);
	assert_string_equal(c.crl_proxy, "http://proxy.example:3128");
	assert_int_equal(c.crl_max_redirects, 0);
	assert_int_equal(c.crl_grace_s, 86400);
	assert_int_equal(c.crl_refresh_before_s, 1800);
	assert_string_equal(c.milter_socket, "inet:8891@127.0.0.1");
	assert_string_equal(c.policy_socket, "unix:/run/domsec/policy.sock");
	assert_string_equal(c.socketmap_socket, "inet:localhost:8893");
	assert_string_equal(c.pid_file, "/run/domsec.pid");
	assert_non_null(strstr(c.state_dir, "/state"));
	assert_int_equal(c.syslog, 0);
	assert_int_equal(c.syslog_facility, LOG_LOCAL3);
	assert_int_equal(c.log_level, LOG_DEBUG);
	assert_string_equal(c.user, "root");
	assert_string_equal(c.authserv_id, "mx.contoso.com");
	assert_string_equal(c.header_name, "X-Partner-Secured");
	assert_int_equal(c.add_auth_results, 0);
	assert_int_equal(c.exchange_headers, 1);
	assert_int_equal(c.trusted_relays.n, 4);
	assert_string_equal(c.trusted_relays.v[0], "127.0.0.1");
	assert_string_equal(c.trusted_relays.v[1], "10.0.0.0/8");
	assert_string_equal(c.trusted_relays.v[2], "::1");
	assert_string_equal(c.trusted_relays.v[3], "2001:db8::/32");
	assert_int_equal(c.discovery, 0);
	assert_int_equal(c.probe_port, 2525);
	assert_int_equal(c.probe_timeout_ms, 3000);
	assert_int_equal(c.discovery_ttl_s, 7200);
	assert_int_equal(c.discovery_negative_ttl_s, 60);
	assert_string_equal(c.helo_name, "mx.contoso.com.");
	assert_int_equal(c.outbound_ttl_s, 300);
	assert_int_equal(c.crl_retry_backoff_s, 120);
	assert_string_equal(c.outbound_transport, "smtp-partner_2.tls");
	ds_config_free(&c);
}

static void empty_file_gives_defaults(void **state)
{
	struct ds_config c;
	char err[256];
	(void)state;
	write_file("domsec.conf", "# nothing\n\n");
	assert_int_equal(ds_config_load(conf, &c, err, sizeof err), 0);
	assert_int_equal(c.crl_timeout_ms, 15000);
	assert_int_equal(c.partners.n, 0);
	ds_config_free(&c);
}

/* content must fail with "domsec.conf:LINE: " (or, with file set, that file)
 * and needle; *out must stay untouched. */
static void expect_error_in(const char *content, const char *file, int line,
    const char *needle)
{
	struct ds_config c;
	char err[1024] = "", where[128];
	memset(&c, 0x5a, sizeof c);
	write_file("domsec.conf", content);
	assert_int_equal(ds_config_load(conf, &c, err, sizeof err), -1);
	snprintf(where, sizeof where, "%s:%d: ", file, line);
	if (strstr(err, where) == NULL || strstr(err, needle) == NULL)
		fail_msg("error \"%s\" lacks \"%s\" or \"%s\"", err, where, needle);
	unsigned char *bytes = (unsigned char *)&c;
	for (size_t i = 0; i < sizeof c; i++)
		if (bytes[i] != 0x5a)
			fail_msg("config touched at byte %zu on error", i);
}

static void expect_error(const char *content, int line, const char *needle)
{
	expect_error_in(content, "domsec.conf", line, needle);
}

static void errors(void **state)
{
	(void)state;
	expect_error("LogLevel info\nFrobnicate yes\n", 2, "unknown key \"Frobnicate\"");
	expect_error("CRLTimeout 15x\n", 1, "CRLTimeout");
	expect_error("CRLTimeout -5s\n", 1, "not a duration");
	expect_error("CRLTimeout 2h\n", 1, "out of range");
	expect_error("CRLTimeout 0\n", 1, "out of range");
	expect_error("CRLGrace 1500ms\n", 1, "whole number of seconds");
	expect_error("CRLMaxSize lots\n", 1, "not a size");
	expect_error("CRLMaxSize 9G\n", 1, "out of range");
	expect_error("CRLMaxRedirects 99\n", 1, "CRLMaxRedirects");
	expect_error("Syslog maybe\n", 1, "Syslog");
	expect_error("SyslogFacility kern\n", 1, "unknown syslog facility");
	expect_error("LogLevel loud\n", 1, "unknown log level");
	expect_error("MilterSocket 8891\n", 1, "not a socket");
	expect_error("MilterSocket unix:relative\n", 1, "not a socket");
	expect_error("MilterSocket inet:99999@127.0.0.1\n", 1, "not a socket");
	expect_error("MilterSocket inet:8891@bad_host!\n", 1, "not a socket");
	expect_error("MilterSocket inet6:8891@127.0.0.1:\n", 1, "not a socket");
	expect_error("PolicySocket inet:127.0.0.1:\n", 1, "not a socket");
	expect_error("PolicySocket tcp:25\n", 1, "not a socket");
	expect_error("CAFile missing.pem\n", 1, "missing.pem");
	expect_error("CAFile nocert.pem\n", 1, "no PEM certificate");
	expect_error("ChainFile root.pem\nChainFile nocert.pem\n", 2, "ChainFile");
	expect_error("CAPath root.pem\n", 1, "not a directory");
	expect_error("UserID no-such-user-here\n", 1, "no such user");
	expect_error("AuthservID two words\n", 1, "authserv-id");
	expect_error("AuthservID ..\n", 1, "authserv-id");
	expect_error("AuthservID -._\n", 1, "authserv-id");
	{
		char longid[300 + 13];
		memcpy(longid, "AuthservID ", 11);
		memset(longid + 11, 'a', 300);
		memcpy(longid + 311, "\n", 2);
		expect_error(longid, 1, "authserv-id");
	}
	expect_error("HeaderName X-Bad:Name\n", 1, "header field name");
	expect_error("HeloName -bad-\n", 1, "host name");
	expect_error("TrustedRelays 10.0.0.0/33\n", 1, "CIDR");
	expect_error("TrustedRelays example.com\n", 1, "CIDR");
	expect_error("TrustedRelays ,\n", 1, "at least one");
	expect_error("CRLProxy proxy.example:3128\n", 1, "proxy URL");
	expect_error("ProbePort 0\n", 1, "ProbePort");
	expect_error("CRLRetryBackoff 0\n", 1, "out of range (1s to 1d)");
	expect_error("CRLRetryBackoff 2d\n", 1, "out of range");
	expect_error("CRLRetryBackoff 1500ms\n", 1, "whole number of seconds");
	expect_error("OutboundTransport smtp:partner\n", 1,
	    "not a Postfix transport name");
	expect_error("OutboundTransport domsec/partner\n", 1,
	    "not a Postfix transport name");
	expect_error("CAFile\n", 1, "needs a value");
	expect_error("LogLevel=info\n", 1, "not '='");
	expect_error("LogLevel info\r\nSyslog no\r\nSyslog yes\r\n", 3, "already set");
	expect_error("\n\nLogLevel info\nloglevel debug\n", 4,
	    "already set at line 3");
	expect_error("CRLConnectTimeout 20s\nCRLTimeout 10s\n", 2,
	    "longer than CRLTimeout");
	expect_error("MilterSocket inet:8891@127.0.0.1\nPolicySocket inet:8892@127.0.0.1\n"
	    "SocketmapSocket INET:8891@127.0.0.1\n", 3,
	    "already used by MilterSocket (line 1)");
	expect_error("PartnerTable missing-partners\n", 1, "missing-partners");
	expect_error_in("LogLevel info\nPartnerTable badpartners\n", "badpartners",
	    2, "unknown partner option \"colour\"");
}

static void good_sockets(void **state)
{
	static const char *specs[] = {
		"unix:/run/domsec/milter.sock", "local:/var/run/m.sock",
		"inet:8891@127.0.0.1", "inet:0@localhost", "inet6:8891@::1",
		"inet6:8891@[::1]", "inet:127.0.0.1:8891", "inet:[::1]:8891",
		"INET:25@mx.example.com", "inet:8891", "/run/domsec/m.sock",
		"inet:8891@*", "inet6:[::1]:8891",
	};
	(void)state;
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		struct ds_config c;
		char text[256], err[512] = "";
		snprintf(text, sizeof text, "MilterSocket %s\n", specs[i]);
		write_file("domsec.conf", text);
		if (ds_config_load(conf, &c, err, sizeof err) != 0)
			fail_msg("%s rejected: %s", specs[i], err);
		assert_string_equal(c.milter_socket, specs[i]);
		ds_config_free(&c);
	}
}

static void proxy_none(void **state)
{
	struct ds_config c;
	char err[256];
	(void)state;
	write_file("domsec.conf", "CRLProxy none\n");
	assert_int_equal(ds_config_load(conf, &c, err, sizeof err), 0);
	assert_null(c.crl_proxy);
	ds_config_free(&c);
}

/* OutboundTransport reaches the transport map answer; the longest name is
 * accepted, one character more is refused with the key's line. */
static void outbound_transport(void **state)
{
	struct ds_config c;
	char err[512] = "", reply[256], text[512], name[DS_CONFIG_TRANSPORT_MAX + 2];
	(void)state;
	write_file("domsec.conf", "PartnerTable partners\n"
	    "OutboundTransport partner-tls\n");
	assert_int_equal(ds_config_load(conf, &c, err, sizeof err), 0);
	struct ds_outbound *ob = ds_outbound_new(&c, NULL, err, sizeof err);
	assert_non_null(ob);
	ds_outbound_transport(ob, "user@woodgrovebank.com", reply, sizeof reply);
	assert_string_equal(reply, "OK partner-tls:");
	ds_outbound_transport(ob, "fabrikam.com", reply, sizeof reply);
	assert_string_equal(reply, "NOTFOUND ");
	ds_outbound_free(ob);
	ds_config_free(&c);

	memset(name, 'a', DS_CONFIG_TRANSPORT_MAX);
	name[DS_CONFIG_TRANSPORT_MAX] = '\0';
	snprintf(text, sizeof text, "OutboundTransport %s\n", name);
	write_file("domsec.conf", text);
	assert_int_equal(ds_config_load(conf, &c, err, sizeof err), 0);
	assert_string_equal(c.outbound_transport, name);
	ds_config_free(&c);
	name[strlen(name) + 1] = '\0';
	name[strlen(name)] = 'a';
	snprintf(text, sizeof text, "LogLevel info\nOutboundTransport %s\n", name);
	expect_error(text, 2, "at most 127 characters");
}

static void missing_config(void **state)
{
	struct ds_config c;
	char err[256] = "";
	(void)state;
	assert_int_equal(ds_config_load("/nonexistent/domsec.conf", &c, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "/nonexistent/domsec.conf"));
}

static void durations(void **state)
{
	long v;
	(void)state;
	assert_int_equal(ds_parse_duration_ms("15", &v), 0);
	assert_int_equal(v, 15000);
	assert_int_equal(ds_parse_duration_ms("250ms", &v), 0);
	assert_int_equal(v, 250);
	assert_int_equal(ds_parse_duration_ms("2s", &v), 0);
	assert_int_equal(v, 2000);
	assert_int_equal(ds_parse_duration_ms("3m", &v), 0);
	assert_int_equal(v, 180000);
	assert_int_equal(ds_parse_duration_ms("1h", &v), 0);
	assert_int_equal(v, 3600000);
	assert_int_equal(ds_parse_duration_ms("7d", &v), 0);
	assert_int_equal(v, 7L * 86400000);
	assert_int_equal(ds_parse_duration_ms("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ds_parse_duration_ms("", &v), -1);
	assert_int_equal(ds_parse_duration_ms("s", &v), -1);
	assert_int_equal(ds_parse_duration_ms("-1s", &v), -1);
	assert_int_equal(ds_parse_duration_ms("1.5s", &v), -1);
	assert_int_equal(ds_parse_duration_ms("5 s", &v), -1);
	assert_int_equal(ds_parse_duration_ms("5w", &v), -1);
	assert_int_equal(ds_parse_duration_ms("99999999999999999999", &v), -1);
	assert_int_equal(ds_parse_duration_ms("9999999999999999d", &v), -1);
	assert_int_equal(ds_parse_duration_ms(NULL, &v), -1);
}

static void sizes(void **state)
{
	long v;
	(void)state;
	assert_int_equal(ds_parse_size("100", &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(ds_parse_size("4k", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(ds_parse_size("256M", &v), 0);
	assert_int_equal(v, 256L * 1024 * 1024);
	assert_int_equal(ds_parse_size("2G", &v), 0);
	assert_int_equal(v, 2L * 1024 * 1024 * 1024);
	assert_int_equal(ds_parse_size("2T", &v), -1);
	assert_int_equal(ds_parse_size("M", &v), -1);
	assert_int_equal(ds_parse_size("-1", &v), -1);
	assert_int_equal(ds_parse_size("99999999999999999G", &v), -1);
}

static void booleans(void **state)
{
	int v;
	(void)state;
	static const char *yes[] = { "yes", "YES", "true", "1" };
	static const char *no[] = { "no", "False", "0" };
	for (size_t i = 0; i < 4; i++) {
		v = -1;
		assert_int_equal(ds_parse_bool(yes[i], &v), 0);
		assert_int_equal(v, 1);
	}
	for (size_t i = 0; i < 3; i++) {
		v = -1;
		assert_int_equal(ds_parse_bool(no[i], &v), 0);
		assert_int_equal(v, 0);
	}
	assert_int_equal(ds_parse_bool("y", &v), -1);
	assert_int_equal(ds_parse_bool("", &v), -1);
	assert_int_equal(ds_parse_bool("2", &v), -1);
}

static void resolve_path(void **state)
{
	(void)state;
	char *p = ds_config_resolve_path("/etc/domsec/domsec.conf", "partners");
	assert_string_equal(p, "/etc/domsec/partners");
	free(p);
	p = ds_config_resolve_path("/etc/domsec/domsec.conf", "/abs/x");
	assert_string_equal(p, "/abs/x");
	free(p);
	p = ds_config_resolve_path("domsec.conf", "x");
	assert_string_equal(p, "x");
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(every_key),
		cmocka_unit_test(empty_file_gives_defaults),
		cmocka_unit_test(errors),
		cmocka_unit_test(good_sockets),
		cmocka_unit_test(proxy_none),
		cmocka_unit_test(outbound_transport),
		cmocka_unit_test(missing_config),
		cmocka_unit_test(durations),
		cmocka_unit_test(sizes),
		cmocka_unit_test(booleans),
		cmocka_unit_test(resolve_path),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
