/*
 * bench_verify.c - how fast one partner certificate is judged, side by side
 * in one run:
 *
 *   OpenSSL: a bare X509_verify_cert of leaf + intermediate to the root
 *            (no names, no CRLs): the scale to compare against;
 *   domsec:  ds_engine_verify of the good leaf "exact" (chain, names against
 *            woodgrovebank.com, CRL lookup with the CRLs already loaded) and
 *            of the revoked leaf "revoked";
 *            ds_inbound_decide for a partner session whose certificate is
 *            pinned (facts carry only its SHA-256 fingerprint), on one
 *            thread and on two threads: a known certificate, answered by
 *            the verdict cache; and a cache miss (the CRL generation bumped
 *            before each call, so the full check runs); and for a
 *            non-partner sender.
 *
 * The PKI is made with tests/pki/mkpki.sh in a temporary directory (run from
 * the top of the tree, as `make bench` does, or set DOMSEC_TOP).  Its CRL
 * URLs point at 127.0.0.1:1 and are never fetched: the CRLs are configured
 * as CRLFile, which the store consults first.  Each figure is the best of
 * ROUNDS interleaved rounds, each a loop that runs at least MIN_SECONDS and
 * at most MAX_ITERATIONS times (the thread figures: a fixed count per thread
 * sized from the one-thread rate).  The load average is printed first:
 * other work on the machine skews the thread figures most.  Logging
 * is off (ds_log_open with no sink), so the figures are the decisions alone.
 * Usage: bench_verify
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <pthread.h>
#include <sys/resource.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include "domsec/config.h"
#include "domsec/crl.h"
#include "domsec/engine.h"
#include "domsec/facts.h"
#include "domsec/inbound.h"
#include "domsec/log.h"
#include "domsec/verdict.h"

#define MIN_SECONDS 0.5
#define ROUNDS 3
#define MAX_ITERATIONS 2000000L
#define THREADS 2

static char work_dir[256];

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void remove_work_dir(void)
{
	char cmd[512];
	if (work_dir[0] == '\0')
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", work_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_verify: could not remove %s\n", work_dir);
	work_dir[0] = '\0';
}

static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "bench_verify: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	remove_work_dir();
	exit(1);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0)
		die("cannot write %s", path);
}

static X509 *read_cert(const char *name)
{
	char path[512];
	FILE *f;
	X509 *x;

	snprintf(path, sizeof path, "%s/pki/%s.pem", work_dir, name);
	f = fopen(path, "r");
	if (f == NULL)
		die("cannot open %s", path);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL)
		die("%s holds no certificate", path);
	return x;
}

/* Builds the PKI and the configuration files under work_dir. */
static void make_fixture(void)
{
	const char *top = getenv("DOMSEC_TOP");
	char cmd[4096], path[512], conf[8192];

	snprintf(work_dir, sizeof work_dir, "%s/bench_verify.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(work_dir) == NULL) {
		work_dir[0] = '\0';
		die("cannot create a temporary directory");
	}
	snprintf(cmd, sizeof cmd, "'%s/tests/pki/mkpki.sh' '%s/pki' "
	    "http://127.0.0.1:1 && mkdir -p '%s/pins' '%s/crlcache' '%s/state' "
	    "&& cp '%s/pki/exact.pem' '%s/pki/revoked.pem' '%s/pins/'",
	    top ? top : ".", work_dir, work_dir, work_dir, work_dir,
	    work_dir, work_dir, work_dir);
	if (system(cmd) != 0)
		die("tests/pki/mkpki.sh failed (run from the top of the tree or "
		    "set DOMSEC_TOP)");
	snprintf(path, sizeof path, "%s/partners", work_dir);
	write_file(path, "woodgrovebank.com mode=enforce revocation=require\n");
	snprintf(conf, sizeof conf,
	    "CAFile %1$s/pki/root.pem\n"
	    "ChainFile %1$s/pki/inter.pem\n"
	    "CRLFile %1$s/pki/crl/root.crl\n"
	    "CRLFile %1$s/pki/crl/inter.crl\n"
	    "CRLCacheDir %1$s/crlcache\n"
	    "CRLConnectTimeout 1s\n"
	    "CRLTimeout 2s\n"
	    "PartnerTable %1$s/partners\n"
	    "PinnedCertDir %1$s/pins\n"
	    "StateDir %1$s/state\n"
	    "Syslog no\n"
	    "Discovery no\n"
	    "AuthservID mx.contoso.com\n"
	    "HeloName mx.contoso.com\n", work_dir);
	snprintf(path, sizeof path, "%s/domsec.conf", work_dir);
	write_file(path, conf);
}

/* ---- the measured operations ---- */

struct fixture {
	struct ds_engine *engine;
	struct ds_inbound *inbound;
	X509_STORE *openssl_store;
	X509 *leaf;
	STACK_OF(X509) *untrusted;      /* inter */
	STACK_OF(X509) *presented_good; /* exact, inter */
	STACK_OF(X509) *presented_revoked;
	struct ds_facts partner_facts;
	struct ds_facts stranger_facts;
};

static struct fixture fx;

static int openssl_verify_once(void)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok;

	if (ctx == NULL || !X509_STORE_CTX_init(ctx, fx.openssl_store, fx.leaf,
	    fx.untrusted))
		die("X509_STORE_CTX_init failed");
	ok = X509_verify_cert(ctx);
	X509_STORE_CTX_free(ctx);
	return ok == 1;
}

static enum ds_verdict engine_verify_once(STACK_OF(X509) *presented)
{
	static struct ds_verify_result res;   /* large: kept off the stack */
	struct ds_verify_request req;
	char err[256];

	memset(&req, 0, sizeof req);
	req.presented = presented;
	req.domain = "woodgrovebank.com";
	req.partner = NULL;                   /* revocation required */
	if (ds_engine_verify(fx.engine, &req, &res, err, sizeof err) != 0)
		die("ds_engine_verify: %s", err);
	return res.verdict;
}

static int decide_once(const struct ds_facts *facts, struct ds_decision *d)
{
	ds_inbound_decide(fx.inbound, facts, NULL, d);
	return d->is_partner ? (int)d->verdict : -1;
}

/* ---- timing loops ---- */

enum op { OP_OPENSSL, OP_GOOD, OP_REVOKED, OP_DECIDE_PARTNER, OP_DECIDE_MISS,
    OP_DECIDE_STRANGER };

/* Runs op once; returns 1 when the outcome is the expected one. */
static int run_op(enum op op, struct ds_decision *d)
{
	switch (op) {
	case OP_OPENSSL:
		return openssl_verify_once();
	case OP_GOOD:
		return engine_verify_once(fx.presented_good) == DS_VERDICT_SECURED;
	case OP_REVOKED:
		return engine_verify_once(fx.presented_revoked) == DS_VERDICT_REVOKED;
	case OP_DECIDE_PARTNER:
		return decide_once(&fx.partner_facts, d) == (int)DS_VERDICT_SECURED;
	case OP_DECIDE_MISS:
		ds_crl_generation_bump();     /* as if a CRL was swapped in */
		return decide_once(&fx.partner_facts, d) ==
		    (int)DS_VERDICT_SECURED;
	case OP_DECIDE_STRANGER:
		return decide_once(&fx.stranger_facts, d) == -1;
	}
	return 0;
}

/* Per second, single thread: at least MIN_SECONDS, at most MAX_ITERATIONS. */
static double rate(enum op op, const char *what)
{
	struct ds_decision *d = malloc(sizeof *d);
	double start = now_s(), elapsed;
	long n = 0;

	if (d == NULL)
		die("out of memory");
	do {
		for (int i = 0; i < 100; i++, n++)
			if (!run_op(op, d))
				die("%s: unexpected outcome at iteration %ld", what, n);
		elapsed = now_s() - start;
	} while (elapsed < MIN_SECONDS && n < MAX_ITERATIONS);
	free(d);
	return (double)n / elapsed;
}

struct worker {
	pthread_t thread;
	enum op op;
	long iterations;
	int failed;
	long voluntary_switches;    /* the thread slept (a lock, I/O) */
	long involuntary_switches;  /* the scheduler took the CPU away */
};

/* Context switches of the threads of the last rate_threads() run, per 1000
 * operations: voluntary ones mean waiting on a lock, involuntary ones mean
 * no free CPU (other work on the machine). */
static double last_voluntary_per_k, last_involuntary_per_k;

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct ds_decision *d = malloc(sizeof *d);

	w->voluntary_switches = w->involuntary_switches = 0;
	if (d == NULL) {
		w->failed = 1;
		return NULL;
	}
	struct rusage before, after;

	getrusage(RUSAGE_THREAD, &before);
	for (long i = 0; i < w->iterations; i++)
		if (!run_op(w->op, d))
			w->failed = 1;
	getrusage(RUSAGE_THREAD, &after);
	w->voluntary_switches = after.ru_nvcsw - before.ru_nvcsw;
	w->involuntary_switches = after.ru_nivcsw - before.ru_nivcsw;
	free(d);
	return NULL;
}

/* Per second over `threads` threads, each doing the same count, sized from
 * the single-thread rate so the run lasts about MIN_SECONDS. */
static double rate_threads(enum op op, int threads, double single_rate,
    const char *what)
{
	struct worker w[THREADS];
	long each = (long)(single_rate * MIN_SECONDS);
	double start, elapsed;

	if (each < 100)
		each = 100;
	if (each > MAX_ITERATIONS)
		each = MAX_ITERATIONS;
	start = now_s();
	for (int t = 0; t < threads; t++) {
		w[t].op = op;
		w[t].iterations = each;
		w[t].failed = 0;
		if (pthread_create(&w[t].thread, NULL, worker_main, &w[t]) != 0)
			die("cannot start a thread");
	}
	for (int t = 0; t < threads; t++)
		pthread_join(w[t].thread, NULL);
	elapsed = now_s() - start;
	long vol = 0, invol = 0;
	for (int t = 0; t < threads; t++) {
		if (w[t].failed)
			die("%s: unexpected outcome on thread %d", what, t);
		vol += w[t].voluntary_switches;
		invol += w[t].involuntary_switches;
	}
	last_voluntary_per_k = 1000.0 * (double)vol / (double)(each * threads);
	last_involuntary_per_k = 1000.0 * (double)invol / (double)(each * threads);
	return (double)(each * threads) / elapsed;
}

/* ---- setup ---- */

static STACK_OF(X509) *stack_of(X509 *a, X509 *b)
{
	STACK_OF(X509) *s = sk_X509_new_null();
	if (s == NULL)
		die("out of memory");
	if (a != NULL) {
		X509_up_ref(a);
		sk_X509_push(s, a);
	}
	if (b != NULL) {
		X509_up_ref(b);
		sk_X509_push(s, b);
	}
	return s;
}

static void make_facts(struct ds_facts *f, const char *sender, X509 *cert)
{
	ds_facts_init(f);
	snprintf(f->client_addr, sizeof f->client_addr, "192.0.2.1");
	f->client_port = 40000;
	snprintf(f->helo, sizeof f->helo, "mail.woodgrovebank.com");
	f->tls = 1;
	snprintf(f->tls_version, sizeof f->tls_version, "TLSv1.3");
	snprintf(f->cipher, sizeof f->cipher, "TLS_AES_256_GCM_SHA384");
	f->cipher_bits = 256;
	f->cert_presented = 1;
	f->mta_verified = 0;
	if (ds_cert_fingerprint(cert, f->fp) != 0)
		die("cannot compute a fingerprint");
	f->have_fp = 1;
	snprintf(f->cert_subject, sizeof f->cert_subject, "CN=woodgrovebank.com");
	snprintf(f->cert_issuer, sizeof f->cert_issuer,
	    "O=domsec tests, CN=domsec Test Issuing CA");
	snprintf(f->sender, sizeof f->sender, "%s", sender);
}

static void setup(struct ds_config *cfg)
{
	char path[512], err[512];
	X509 *root, *inter, *revoked;

	make_fixture();
	ds_log_open("bench_verify", 0, 0, LOG_MAIL, LOG_ERR);
	/* ds_config_load fills *cfg from the defaults and the file. */
	snprintf(path, sizeof path, "%s/domsec.conf", work_dir);
	if (ds_config_load(path, cfg, err, sizeof err) != 0)
		die("configuration: %s", err);
	fx.engine = ds_engine_new(cfg, err, sizeof err);
	if (fx.engine == NULL)
		die("engine: %s", err);
	fx.inbound = ds_inbound_new(cfg, fx.engine, err, sizeof err);
	if (fx.inbound == NULL)
		die("inbound: %s", err);

	root = read_cert("root");
	inter = read_cert("inter");
	fx.leaf = read_cert("exact");
	revoked = read_cert("revoked");
	fx.openssl_store = X509_STORE_new();
	if (fx.openssl_store == NULL || !X509_STORE_add_cert(fx.openssl_store, root))
		die("cannot build the OpenSSL store");
	fx.untrusted = stack_of(inter, NULL);
	fx.presented_good = stack_of(fx.leaf, inter);
	fx.presented_revoked = stack_of(revoked, inter);
	make_facts(&fx.partner_facts, "alice@woodgrovebank.com", fx.leaf);
	make_facts(&fx.stranger_facts, "bob@example.net", fx.leaf);
	X509_free(root);
	X509_free(inter);
	X509_free(revoked);
}

static void teardown(struct ds_config *cfg)
{
	ds_inbound_free(fx.inbound);
	ds_engine_free(fx.engine);
	ds_config_free(cfg);
	X509_STORE_free(fx.openssl_store);
	X509_free(fx.leaf);
	sk_X509_pop_free(fx.untrusted, X509_free);
	sk_X509_pop_free(fx.presented_good, X509_free);
	sk_X509_pop_free(fx.presented_revoked, X509_free);
	remove_work_dir();
}

/* Shows where the CRLs of the good chain came from (files, never fetched). */
static void show_crl_sources(void)
{
	static struct ds_verify_result res;
	struct ds_verify_request req;
	char err[256];

	memset(&req, 0, sizeof req);
	req.presented = fx.presented_good;
	req.domain = "woodgrovebank.com";
	if (ds_engine_verify(fx.engine, &req, &res, err, sizeof err) != 0)
		die("ds_engine_verify: %s", err);
	printf("good leaf: verdict %s, matched name %s; CRLs consulted:\n",
	    ds_verdict_name(res.verdict), res.matched_name);
	for (size_t i = 0; i < res.rev.n_reports; i++)
		printf("  depth %d: %s (%s): %s\n", res.rev.reports[i].depth,
		    res.rev.reports[i].source, res.rev.reports[i].origin,
		    res.rev.reports[i].outcome);
}

static void best(double *so_far, double r)
{
	if (r > *so_far)
		*so_far = r;
}

int main(void)
{
	struct ds_config cfg;
	double r_openssl, r_openssl2, r_good, r_revoked, r_partner, r_partner2;
	double r_stranger, r2, r_miss, vol_per_k = 0, invol_per_k = 0;
	char load[128] = "";
	FILE *f;

	setup(&cfg);
	f = fopen("/proc/loadavg", "r");
	if (f != NULL) {
		if (fgets(load, sizeof load, f) == NULL)
			load[0] = '\0';
		fclose(f);
	}
	printf("load average before the run (other work on this machine skews "
	    "the figures): %s", load[0] ? load : "unknown\n");
	show_crl_sources();

	/* Warm up every path once (first CRL use checks its signature). */
	rate(OP_GOOD, "warm-up");

	/* ROUNDS interleaved rounds, best of each: background load on a
	 * shared machine then hurts every figure alike, not just one. */
	r_openssl = r_openssl2 = r_good = r_revoked = 0;
	r_partner = r_partner2 = r_stranger = r_miss = 0;
	for (int round = 0; round < ROUNDS; round++) {
		double r1 = rate(OP_OPENSSL, "X509_verify_cert");
		best(&r_openssl, r1);
		best(&r_openssl2, rate_threads(OP_OPENSSL, THREADS, r1,
		    "X509_verify_cert, threads"));
		best(&r_good, rate(OP_GOOD, "ds_engine_verify good leaf"));
		best(&r_revoked, rate(OP_REVOKED, "ds_engine_verify revoked leaf"));
		r1 = rate(OP_DECIDE_PARTNER, "ds_inbound_decide partner");
		best(&r_partner, r1);
		r2 = rate_threads(OP_DECIDE_PARTNER, THREADS, r1,
		    "ds_inbound_decide partner, threads");
		if (r2 > r_partner2) {
			vol_per_k = last_voluntary_per_k;
			invol_per_k = last_involuntary_per_k;
		}
		best(&r_partner2, r2);
		best(&r_miss, rate(OP_DECIDE_MISS,
		    "ds_inbound_decide partner, cache miss"));
		best(&r_stranger, rate(OP_DECIDE_STRANGER,
		    "ds_inbound_decide non-partner"));
	}

	printf("%-58s %12s %10s\n", "operation (same chain: exact + inter -> root)",
	    "per second", "us each");
	printf("%-58s %12.0f %10.1f\n", "OpenSSL X509_verify_cert (chain only)",
	    r_openssl, 1e6 / r_openssl);
	printf("%-58s %12.0f %10.1f\n", "OpenSSL X509_verify_cert, 2 threads",
	    r_openssl2, 1e6 / r_openssl2 * THREADS);
	printf("%-58s %12.0f %10.1f\n", "ds_engine_verify good leaf (chain+names+CRL)",
	    r_good, 1e6 / r_good);
	printf("%-58s %12.0f %10.1f\n", "ds_engine_verify revoked leaf",
	    r_revoked, 1e6 / r_revoked);
	printf("%-58s %12.0f %10.1f\n",
	    "ds_inbound_decide partner, cache miss (full)", r_miss, 1e6 / r_miss);
	printf("%-58s %12.0f %10.1f\n", "ds_inbound_decide partner, known cert (cache), 1 thread",
	    r_partner, 1e6 / r_partner);
	printf("%-58s %12.0f %10.1f\n", "ds_inbound_decide partner, known cert (cache), 2 threads",
	    r_partner2, 1e6 / r_partner2 * THREADS);
	printf("%-58s %12.0f %10.2f\n", "ds_inbound_decide non-partner sender",
	    r_stranger, 1e6 / r_stranger);
	printf("ratio full check / OpenSSL bare chain check (time per check): "
	    "good %.2fx, revoked %.2fx, inbound decide (miss) %.2fx\n",
	    r_openssl / r_good, r_openssl / r_revoked, r_openssl / r_miss);
	printf("verdict cache: a known certificate costs %.2f us (target <= 5 "
	    "us: %s), a miss %.1f us\n", 1e6 / r_partner,
	    1e6 / r_partner <= 5 ? "met" : "missed", 1e6 / r_miss);
	printf("scaling 1 -> %d threads: inbound decide %.2fx, OpenSSL chain "
	    "check %.2fx (%ld CPUs online)\n", THREADS, r_partner2 / r_partner,
	    r_openssl2 / r_openssl, sysconf(_SC_NPROCESSORS_ONLN));
	printf("context switches per 1000 decisions on %d threads: %.1f "
	    "voluntary (waiting on a lock), %.1f involuntary (no free CPU)\n",
	    THREADS, vol_per_k, invol_per_k);

	teardown(&cfg);
	return 0;
}
