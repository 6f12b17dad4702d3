/*
 * fuzz_session.c - libFuzzer harness for the core session API
 * (lib/session.c): the input is a sequence of front-end events for three
 * client address/port slots (policy requests with or without the partner's
 * fingerprint, HELO facts with or without TLS and with either cipher,
 * MAIL, RCPT, headers, end of message, abort, close).  Invariant: a header
 * is added only in a session whose own facts say TLS and whose decision is
 * a verified, secured partner certificate.
 *
 * At start it builds the test PKI with tests/pki/mkpki.sh (DOMSEC_TOP, or
 * the current directory) in a temporary directory and pins the partner's
 * certificate with revocation=none, so that no network is touched.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "domsec/config.h"
#include "domsec/engine.h"
#include "domsec/log.h"
#include "domsec/session.h"
#include "domsec/x509info.h"
#include "lib/session_internal.h"

static struct ds_config cfg;
static struct ds_engine *engine;
static struct ds_core *core;
static unsigned char partner_fp[DS_FP_SHA256_LEN];
static char work_dir[] = "/tmp/fuzz_session.XXXXXX";

static void remove_work_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", work_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_session: cannot remove %s\n", work_dir);
}

static void die(const char *what)
{
	fprintf(stderr, "fuzz_session: %s\n", what);
	abort();
}

static void setup(void)
{
	char *dir = work_dir, cmd[1024], path[512], err[512];
	const char *top = getenv("DOMSEC_TOP");
	STACK_OF(X509) *chain;
	FILE *f;

	if (mkdtemp(dir) == NULL)
		die("mkdtemp");
	atexit(remove_work_dir);
	snprintf(cmd, sizeof cmd, "'%s/tests/pki/mkpki.sh' '%s/pki' "
	    "http://127.0.0.1:9 && mkdir -p '%s/pins' && cp '%s/pki/exact-chain.pem' "
	    "'%s/pins/'", top != NULL ? top : ".", dir, dir, dir, dir);
	if (system(cmd) != 0)
		die("cannot build the test PKI (set DOMSEC_TOP)");
	snprintf(path, sizeof path, "%s/partners", dir);
	if ((f = fopen(path, "w")) == NULL)
		die("partners");
	fprintf(f, "woodgrovebank.com mode=enforce revocation=none\n");
	fclose(f);
	snprintf(path, sizeof path, "%s/domsec.conf", dir);
	if ((f = fopen(path, "w")) == NULL)
		die("config");
	fprintf(f, "CAFile %s/pki/root.pem\nChainFile %s/pki/inter.pem\n"
	    "PartnerTable %s/partners\nPinnedCertDir %s/pins\n"
	    "CRLCacheDir %s/crl\nStateDir %s\nDiscovery no\n"
	    "AuthservID mx.contoso.com\nMaxForgedHeaders 20\n"
	    "MilterSocket inet:1@127.0.0.1\n", dir, dir, dir, dir, dir, dir);
	fclose(f);
	if (ds_config_load(path, &cfg, err, sizeof err) != 0)
		die(err);
	engine = ds_engine_new(&cfg, err, sizeof err);
	core = engine != NULL ? ds_core_new(&cfg, engine, err, sizeof err) : NULL;
	if (core == NULL)
		die(err);
	snprintf(path, sizeof path, "%s/pki/exact.pem", dir);
	chain = ds_load_pem_certs(path, err, sizeof err);
	if (chain == NULL || ds_cert_fingerprint(sk_X509_value(chain, 0),
	    partner_fp) != 0)
		die("fingerprint");
	sk_X509_pop_free(chain, X509_free);
	ds_log_open("fuzz_session", 0, 0, LOG_MAIL, LOG_ERR);
}

static struct ds_facts facts(int tls, int cipher, int with_fp, int port)
{
	struct ds_facts f;

	ds_facts_init(&f);
	snprintf(f.client_addr, sizeof f.client_addr, "192.0.2.7");
	f.client_port = port;
	f.tls = tls;
	if (tls) {
		snprintf(f.tls_version, sizeof f.tls_version, "TLSv1.3");
		snprintf(f.cipher, sizeof f.cipher, "%s", cipher ?
		    "TLS_CHACHA20_POLY1305_SHA256" : "TLS_AES_256_GCM_SHA384");
	}
	f.cert_presented = tls ? (with_fp ? 1 : -1) : 0;
	if (tls && with_fp) {
		f.have_fp = 1;
		memcpy(f.fp, partner_fp, sizeof f.fp);
	}
	return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *senders[] = { "a@woodgrovebank.com", "",
	    "b@example.org", "<a@WoodGroveBank.com.>" };
	static const char *froms[] = { "a@woodgrovebank.com",
	    "x@evil.example <a@woodgrovebank.com>", "a@woodgrovebank.com, x@evil.example",
	    "\"a\" <a@woodgrovebank.com>" };
	static const char *names[] = { "From", "X-Domain-Secured",
	    "Authentication-Results", "Subject" };
	struct ds_session *s[3] = { 0 };
	int own_tls[3] = { 0 };

	if (core == NULL)
		setup();
	for (size_t i = 0; i + 1 < size && i < 2048; i += 2) {
		int k = data[i] % 3, port = 40000 + k, arg = data[i + 1];
		struct ds_answer a;
		struct ds_edits e;
		struct ds_facts f;

		if (s[k] == NULL) {
			s[k] = ds_session_open(core, "192.0.2.7", port);
			own_tls[k] = -1;
		}
		switch ((data[i] / 3) % 9) {
		case 0:
			f = facts(arg & 1, (arg >> 1) & 1, (arg >> 2) & 1, port);
			snprintf(f.sender, sizeof f.sender, "%s", senders[(arg >> 3) % 4]);
			ds_core_policy(core, &f, (arg >> 5) & 1 ? "RCPT" : "MAIL", "", &a);
			break;
		case 1:   /* HELO macros; Sendmail may give the fingerprint itself */
			f = facts(arg & 1, (arg >> 1) & 1, (arg >> 2) & 1, port);
			ds_session_facts(s[k], &f);
			own_tls[k] = arg & 1;
			break;
		case 2:
			ds_session_mail(s[k], senders[arg % 4], &a);
			break;
		case 3:
			ds_session_rcpt(s[k], &a);
			break;
		case 4:
			ds_session_header(s[k], names[arg % 4], arg % 4 == 0 ?
			    froms[(arg >> 2) % 4] : "mx.contoso.com; forged", &a);
			break;
		case 5:
			ds_session_eom(s[k], "Q", &a, &e);
			if (e.n_add > 0 && (own_tls[k] != 1 ||
			    ds_session_own_facts(s[k])->tls != 1 ||
			    s[k]->decision.verdict != DS_VERDICT_SECURED ||
			    !s[k]->decision.have_leaf ||
			    strcmp(s[k]->decision.domain, "woodgrovebank.com") != 0))
				abort();   /* a tag without TLS and a verified cert */
			break;
		case 6:
			ds_session_abort(s[k]);
			break;
		default:
			ds_session_close(s[k]);
			s[k] = NULL;
			break;
		}
	}
	for (int k = 0; k < 3; k++)
		ds_session_close(s[k]);
	return 0;
}
