/*
 * inbound_fixture.h - the inbound fixture shared by test_inbound.c and
 * test_session.c: the test PKI with pinned partner certificates, a real CRL
 * server, a configuration with a partner table (enforce, monitor, private
 * anchor, dot entry, send-only, revocation=none), the engine, an inbound
 * core and a session core over it, and a stderr capture for log lines.
 * Header-only (one binary per test); include it once.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef INBOUND_FIXTURE_H
#define INBOUND_FIXTURE_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "domsec/config.h"
#include "domsec/engine.h"
#include "domsec/inbound.h"
#include "domsec/log.h"
#include "domsec/session.h"
#include "fixture.h"

#define HELPER __attribute__((unused)) static

static struct tls_fixture fx;
static struct ds_config cfg;
static struct ds_engine *engine;
static struct ds_inbound *in;
static struct ds_core *core;          /* sessions over the same engine */
static int probe_port __attribute__((unused));
static const char *crl_cache_name __attribute__((unused)) = "crlcache";

/* ---- log capture: stderr goes to a file while a decision is made ---- */

static char log_path[400];
static int saved_stderr = -1;
static char captured[65536];

HELPER void capture_begin(void)
{
	int fd;

	fflush(stderr);
	saved_stderr = dup(2);
	fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	dup2(fd, 2);
	close(fd);
}

HELPER const char *capture_end(void)
{
	FILE *f;
	size_t n;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	f = fopen(log_path, "r");
	assert_non_null(f);
	n = fread(captured, 1, sizeof captured - 1, f);
	fclose(f);
	captured[n] = '\0';
	return captured;
}

HELPER int count_lines_with(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* ---- fixture ---- */

HELPER void pin(const char *name)
{
	char from[600], to[600];

	snprintf(from, sizeof from, "%s/%s-chain.pem", fx.pki, name);
	snprintf(to, sizeof to, "%s/pinned/%s.pem", fx.dir, name);
	assert_int_equal(copy_file(from, to), 0);
}

HELPER int build_core(const char *extra_conf)
{
	char path[600], text[4096], err[512];

	snprintf(path, sizeof path, "%s/partners", fx.dir);
	snprintf(text, sizeof text,
	    "woodgrovebank.com  direction=receive mode=enforce revocation=require\n"
	    "fabrikam.com       ca=%s/private-root.pem\n"
	    ".tailspin.com      mode=monitor\n"
	    "sendonly.example   direction=send\n"
	    "relaxed.example    revocation=none\n", fx.pki);
	if (write_file(path, text) != 0)
		return -1;
	snprintf(path, sizeof path, "%s/domsec.conf", fx.dir);
	snprintf(text, sizeof text,
	    "CAFile %s/root.pem\n"
	    "PartnerTable %s/partners\n"
	    "PinnedCertDir %s/pinned\n"
	    "CRLCacheDir %s/%s\n"
	    "CRLTimeout 3s\nCRLConnectTimeout 1s\n"
	    "StateDir %s\n"
	    "AuthservID mx.contoso.com\n"
	    "TrustedRelays 10.9.9.0/24, 2001:db8:9::/48\n"
	    "Discovery yes\n"
	    "ProbePort %d\n"
	    "ProbeTimeout 2s\n"
	    "HeloName mx.contoso.test\n"
	    "%s", fx.pki, fx.dir, fx.dir, fx.dir, crl_cache_name, fx.dir, probe_port,
	    extra_conf ? extra_conf : "");
	if (write_file(path, text) != 0)
		return -1;
	if (ds_config_load(path, &cfg, err, sizeof err) != 0) {
		fprintf(stderr, "config: %s\n", err);
		return -1;
	}
	engine = ds_engine_new(&cfg, err, sizeof err);
	if (engine == NULL) {
		fprintf(stderr, "engine: %s\n", err);
		return -1;
	}
	in = ds_inbound_new(&cfg, engine, err, sizeof err);
	core = ds_core_new(&cfg, engine, err, sizeof err);
	if (in == NULL || core == NULL) {
		fprintf(stderr, "inbound: %s\n", err);
		return -1;
	}
	return 0;
}

HELPER void free_core(void)
{
	ds_core_free(core);
	ds_inbound_free(in);
	ds_engine_free(engine);
	ds_config_free(&cfg);
	in = NULL;
	core = NULL;
	engine = NULL;
}

HELPER int setup(void **state)
{
	char dir[400];

	(void)state;
	if (tls_fixture_setup(&fx) != 0)
		return -1;
	snprintf(log_path, sizeof log_path, "%s/log", fx.dir);
	snprintf(dir, sizeof dir, "%s/pinned", fx.dir);
	mkdir(dir, 0700);
	snprintf(dir, sizeof dir, "%s/crlcache", fx.dir);
	mkdir(dir, 0700);
	pin("exact");
	pin("revoked");
	pin("untrusted");
	pin("suffix");
	pin("nocrl");
	pin("expired");
	pin("fabrikam");
	pin("tailspin");
	if (crl_server_start(&fx) <= 0)
		return -1;
	probe_port = free_port();
	ds_log_open("test_inbound", 0, 1, LOG_MAIL, LOG_DEBUG);
	return build_core(NULL);
}

HELPER int teardown(void **state)
{
	(void)state;
	free_core();
	tls_fixture_teardown(&fx);
	return 0;
}

HELPER void leaf_fp(const char *name, unsigned char fp[DS_FP_SHA256_LEN])
{
	char path[512], err[256];
	STACK_OF(X509) *c;

	snprintf(path, sizeof path, "%s/%s.pem", fx.pki, name);
	c = ds_load_pem_certs(path, err, sizeof err);
	assert_non_null(c);
	assert_int_equal(ds_cert_fingerprint(sk_X509_value(c, 0), fp), 0);
	sk_X509_pop_free(c, X509_free);
}

/* Facts of a TLS session presenting leaf NAME (NULL: no certificate). */
HELPER struct ds_facts tls_facts(const char *leaf, const char *sender)
{
	struct ds_facts f;

	ds_facts_init(&f);
	snprintf(f.client_addr, sizeof f.client_addr, "127.0.0.1");
	f.client_port = 41234;
	snprintf(f.helo, sizeof f.helo, "mail.woodgrovebank.com");
	f.tls = 1;
	snprintf(f.tls_version, sizeof f.tls_version, "TLSv1.3");
	snprintf(f.cipher, sizeof f.cipher, "TLS_AES_256_GCM_SHA384");
	f.cipher_bits = 256;
	snprintf(f.sender, sizeof f.sender, "%s", sender);
	if (leaf != NULL) {
		f.cert_presented = 1;
		f.have_fp = 1;
		leaf_fp(leaf, f.fp);
	} else {
		f.cert_presented = 0;
	}
	return f;
}


#endif
