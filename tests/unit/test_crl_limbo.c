/*
 * test_crl_limbo.c - the CRL cases (crl::*) of the public x509-limbo suite
 * (../shared/ext/x509-limbo/limbo.json, found from $DOMSEC_TOP or the
 * current directory) against ds_crl_check_chain().  Each case's chain is
 * built with OpenSSL at the case's validation time, its CRLs are given to
 * the store as configured files, and the leaf is checked against its
 * issuer's CRL: SUCCESS must give DS_REV_GOOD, FAILURE anything else.
 * python3 (stdlib) splits the JSON into PEM files.  Skipped when the suite
 * is not there.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include "domsec/crl.h"
#include "domsec/x509info.h"

static char work[256];
static char limbo[512];

static const char split_script[] =
    "import json, os, sys\n"
    "from datetime import datetime\n"
    "d = json.load(open(sys.argv[1]))\n"
    "out = sys.argv[2]\n"
    "n = 0\n"
    "for t in d['testcases']:\n"
    "    if not t.get('crls'):\n"
    "        continue\n"
    "    c = os.path.join(out, str(n)); n += 1\n"
    "    os.makedirs(c)\n"
    "    open(c + '/trusted.pem', 'w').write(''.join(t['trusted_certs']))\n"
    "    open(c + '/inter.pem', 'w').write(''.join(t['untrusted_intermediates']))\n"
    "    open(c + '/peer.pem', 'w').write(t['peer_certificate'])\n"
    "    for i, crl in enumerate(t['crls']):\n"
    "        open('%s/crl%d.pem' % (c, i), 'w').write(crl)\n"
    "    at = int(datetime.fromisoformat(t['validation_time']).timestamp())\n"
    "    open(c + '/case', 'w').write('%s %s %d %d\\n' % (t['id'],\n"
    "        t['expected_result'], at, len(t['crls'])))\n"
    "print(n)\n";

static int setup(void **state)
{
	const char *top = getenv("DOMSEC_TOP");
	char cmd[2048];
	FILE *f;

	(void)state;
	snprintf(limbo, sizeof limbo, "%s/../shared/ext/x509-limbo/limbo.json",
	    top ? top : ".");
	if (access(limbo, R_OK) != 0) {
		limbo[0] = '\0';
		return 0;
	}
	snprintf(work, sizeof work, "/tmp/domsec-unit-limbo.XXXXXX");
	if (mkdtemp(work) == NULL)
		return -1;
	snprintf(cmd, sizeof cmd, "%s/split.py", work);
	f = fopen(cmd, "w");
	if (f == NULL)
		return -1;
	fputs(split_script, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "python3 %s/split.py '%s' '%s' >/dev/null",
	    work, limbo, work);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[512];
	(void)state;
	if (work[0]) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", work);
	}
	return 0;
}

static const char *path(int c, const char *name)
{
	static char bufs[4][600];
	static int next;
	char *b = bufs[next++ % 4];
	snprintf(b, sizeof bufs[0], "%s/%d/%s", work, c, name);
	return b;
}

/* Builds the chain of peer.pem at time at; returns it or NULL. */
static STACK_OF(X509) *build_chain(int c, time_t at)
{
	char err[256];
	STACK_OF(X509) *trusted = ds_load_pem_certs(path(c, "trusted.pem"), err,
	    sizeof err);
	STACK_OF(X509) *inter = ds_load_pem_certs(path(c, "inter.pem"), err,
	    sizeof err);            /* NULL when empty */
	STACK_OF(X509) *peer = ds_load_pem_certs(path(c, "peer.pem"), err,
	    sizeof err);
	STACK_OF(X509) *chain = NULL;
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();

	assert_non_null(trusted);
	assert_non_null(peer);
	for (int i = 0; i < sk_X509_num(trusted); i++)
		X509_STORE_add_cert(store, sk_X509_value(trusted, i));
	X509_STORE_CTX_init(ctx, store, sk_X509_value(peer, 0), inter);
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), at);
	if (X509_verify_cert(ctx) == 1)
		chain = X509_STORE_CTX_get1_chain(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_pop_free(trusted, X509_free);
	sk_X509_pop_free(inter, X509_free);
	sk_X509_pop_free(peer, X509_free);
	return chain;
}

/* Cases where domsec decides differently from limbo on purpose (the same
 * entries as in tests/limbo/differences.txt). */
static const char *const deliberate[] = {
	/* RFC 5280 6.3.3 does not require CRLNumber; issue 7 item 7: a v2
	 * CRL without it is accepted with a warning */
	"crl::crlnumber-missing",
	NULL
};

static int is_deliberate(const char *id)
{
	for (size_t i = 0; deliberate[i] != NULL; i++)
		if (strcmp(deliberate[i], id) == 0)
			return 1;
	return 0;
}

static void test_limbo_crl_cases(void **state)
{
	int agreed = 0, total = 0;

	(void)state;
	if (limbo[0] == '\0')
		skip();
	for (int c = 0;; c++) {
		char id[256], expected[32], err[256];
		long long at;
		int ncrl;
		FILE *f = fopen(path(c, "case"), "r");
		struct ds_crl_opts o = { .connect_timeout_ms = 500,
		    .timeout_ms = 1000, .retry_backoff_s = 1 };
		struct ds_crl_store *s;
		struct ds_rev_result res;
		STACK_OF(X509) *chain, *two;
		int ok;

		if (f == NULL)
			break;
		assert_int_equal(fscanf(f, "%255s %31s %lld %d", id, expected, &at,
		    &ncrl), 4);
		fclose(f);
		total++;
		chain = build_chain(c, (time_t)at);
		if (chain == NULL)
			fail_msg("%s: the chain does not verify without CRLs", id);
		s = ds_crl_store_new(&o, err, sizeof err);
		assert_non_null(s);
		for (int k = 0; k < ncrl; k++) {
			char name[32];
			snprintf(name, sizeof name, "crl%d.pem", k);
			/* a CRL refused at load (e.g. critical CRLNumber) is simply
			 * not there for the check */
			(void)ds_crl_store_add_file(s, path(c, name), err, sizeof err);
		}
		/* the leaf against its issuer, as OpenSSL's X509_V_FLAG_CRL_CHECK */
		two = sk_X509_new_null();
		sk_X509_push(two, sk_X509_value(chain, 0));
		sk_X509_push(two, sk_X509_value(chain, 1));
		assert_int_equal(ds_crl_check_chain(s, two, (time_t)at, &res), 0);
		ok = (res.status == DS_REV_GOOD) == (strcmp(expected, "SUCCESS") == 0);
		if (is_deliberate(id)) {
			/* a listed difference must still be one */
			if (ok)
				fail_msg("%s is listed as a deliberate difference "
				    "but now agrees: update the list", id);
			ok = 1;
		}
		printf("  %-50s expected %-7s got %-11s %s%s%s\n", id, expected,
		    res.status == DS_REV_GOOD ? "good" :
		    res.status == DS_REV_REVOKED ? "revoked" : "unavailable",
		    ok ? "agree" : "DISAGREE", res.status == DS_REV_GOOD ? "" : ": ",
		    res.status == DS_REV_GOOD ? "" : res.reason);
		agreed += ok;
		sk_X509_free(two);
		sk_X509_pop_free(chain, X509_free);
		ds_crl_store_free(s);
	}
	printf("  x509-limbo CRL cases: %d of %d agree\n", agreed, total);
	assert_true(total >= 8);
	assert_int_equal(agreed, total);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limbo_crl_cases),
	};
	return cmocka_run_group_tests_name("crl_limbo", tests, setup, teardown);
}
