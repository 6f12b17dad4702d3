/*
 * test_crl_cache.c - unit tests for the CRL store and ds_crl_check_chain()
 * against the real tests/crlserver.py and the test PKI (tests/pki/mkpki.sh):
 * good, revoked leaf, revoked intermediate, 404; every fault mode of the
 * server; memory cache without network; disk persistence (0600, cold start,
 * no refetch); conditional GET (304); a bad fetch keeps the good copy;
 * backoff then recovery; single-flight across threads; size cap; protocol
 * allow-list; configured CRL files; ds_crl_store_refresh_due(); the log
 * lines of large downloads.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/x509v3.h>
#include "domsec/crl.h"
#include "lib/crl/crl_internal.h"
#include "lib/crl/crl_store_internal.h"
#include <unistd.h>
#include <openssl/pem.h>
#include "fixture.h"

static int setup(void **state)
{
	char cmd[1024];
	(void)state;
	if (srv_start() != 0)
		return -1;
	if (pki_build(srv_url("")) != 0)
		return -1;
	/* the server serves srv_dir/www: point it at the PKI's CRLs */
	snprintf(cmd, sizeof cmd, "%s/crl", pki_dir);
	if (symlink(cmd, srv_file("www")) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	srv_stop();
	pki_remove();
	return 0;
}

static struct ds_crl_opts test_opts(const char *cache_dir)
{
	struct ds_crl_opts o = {
		.cache_dir = cache_dir,
		.connect_timeout_ms = 1000,
		.timeout_ms = 1500,
		.max_size = 1024 * 1024,
		.proxy = NULL,
		.max_redirects = 3,
		.grace_s = 0,
		.refresh_before_s = 3600,
		.retry_backoff_s = 1,
	};
	return o;
}

static struct ds_crl_store *store(const char *cache_dir)
{
	char err[256] = "";
	struct ds_crl_opts o = test_opts(cache_dir);
	struct ds_crl_store *s = ds_crl_store_new(&o, err, sizeof err);
	if (s == NULL)
		fail_msg("ds_crl_store_new: %s", err);
	return s;
}

/* chain: leaf, its issuer, root (the verified chain, anchor last) */
static STACK_OF(X509) *chain(const char *leaf, const char *issuer)
{
	STACK_OF(X509) *sk = chain_of(pki_path(leaf), pki_path(issuer),
	    strcmp(issuer, "root.pem") ? pki_path("root.pem") : NULL);
	assert_non_null(sk);
	return sk;
}

static enum ds_rev_status check(struct ds_crl_store *s, const char *leaf,
    const char *issuer, struct ds_rev_result *res)
{
	STACK_OF(X509) *sk = chain(leaf, issuer);
	assert_int_equal(ds_crl_check_chain(s, sk, 0, res), 0);
	sk_X509_pop_free(sk, X509_free);
	return res->status;
}

static void test_good_revoked_unavailable(void **state)
{
	struct ds_crl_store *s = store(NULL);
	struct ds_rev_result res;

	(void)state;
	srv_mode("ok");
	srv_log_clear();
	assert_int_equal(check(s, "exact.pem", "inter.pem", &res), DS_REV_GOOD);
	assert_int_equal(res.n_reports, 2);
	assert_string_equal(res.reports[0].origin, "fetched");
	assert_string_equal(res.reports[0].outcome, "good");
	assert_int_equal(res.reports[0].depth, 0);
	assert_non_null(strstr(res.reports[0].source, "/inter.crl"));
	assert_non_null(strstr(res.reports[0].issuer, "domsec Test Issuing CA"));
	assert_true(res.reports[0].this_update > 0);
	assert_int_equal(res.reports[1].depth, 1);
	assert_non_null(strstr(res.reports[1].source, "/root.crl"));

	/* second time: memory, no network */
	assert_int_equal(check(s, "onedeep.pem", "inter.pem", &res), DS_REV_GOOD);
	assert_string_equal(res.reports[0].origin, "cached");
	assert_int_equal(srv_count("GET /inter.crl"), 1);
	assert_int_equal(srv_count("GET /root.crl"), 1);

	assert_int_equal(check(s, "revoked.pem", "inter.pem", &res),
	    DS_REV_REVOKED);
	assert_int_equal(res.revoked_depth, 0);
	assert_true(strlen(res.revoked_serial) > 0);
	assert_non_null(strstr(res.reason, res.revoked_serial));
	assert_non_null(strstr(res.reason, "/inter.crl"));
	assert_non_null(strstr(res.reports[0].outcome, "revoked serial"));

	assert_int_equal(check(s, "revokedinter.pem", "inter2.pem", &res),
	    DS_REV_REVOKED);
	assert_int_equal(res.revoked_depth, 1);

	assert_int_equal(check(s, "nocrl.pem", "inter.pem", &res),
	    DS_REV_UNAVAILABLE);
	assert_non_null(strstr(res.reason, "/missing/inter.crl"));
	assert_non_null(strstr(res.reason, "HTTP 404"));
	ds_crl_store_free(s);
}

/* A fresh memory store per fault mode: the verdict and the words. */
static void expect_mode(const char *mode, enum ds_rev_status want,
    const char *words)
{
	struct ds_crl_store *s = store(NULL);
	struct ds_rev_result res;

	assert_int_equal(srv_mode(mode), 0);
	check(s, "exact.pem", "inter.pem", &res);
	srv_mode("ok");
	if (res.status != want || (words && strstr(res.reason, words) == NULL &&
	    strstr(res.reports[0].outcome, words) == NULL))
		fail_msg("mode %s: status %d, reason '%s', outcome '%s'", mode,
		    res.status, res.reason, res.reports[0].outcome);
	ds_crl_store_free(s);
}

static void test_fault_modes(void **state)
{
	double t0;
	(void)state;
	expect_mode("pem", DS_REV_GOOD, NULL);
	expect_mode("redirect", DS_REV_GOOD, NULL);
	expect_mode("404", DS_REV_UNAVAILABLE, "HTTP 404");
	expect_mode("500", DS_REV_UNAVAILABLE, "HTTP 500");
	expect_mode("garbage", DS_REV_UNAVAILABLE, "not a CRL (garbage)");
	expect_mode("wrongkey", DS_REV_UNAVAILABLE,
	    "signature does not verify with issuer CN=domsec Test");
	expect_mode("expired", DS_REV_UNAVAILABLE, "expired: nextUpdate");
	t0 = now_s();
	expect_mode("hang", DS_REV_UNAVAILABLE, "timed out");
	/* one timeout (1.5 s) per chain: root.crl hangs, the check stops */
	assert_true(now_s() - t0 < 3.0);
}

static int mode_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

static void test_disk_cache(void **state)
{
	char dir[300], path[512], stem[65];
	struct ds_crl_store *s;
	struct ds_rev_result res;

	(void)state;
	snprintf(dir, sizeof dir, "%s/cache", srv_dir);
	srv_mode("ok");
	srv_log_clear();
	s = store(dir);
	assert_int_equal(check(s, "exact.pem", "inter.pem", &res), DS_REV_GOOD);
	ds_crl_store_free(s);

	ds_crl_cache_stem(srv_url("/inter.crl"), stem);
	snprintf(path, sizeof path, "%s/%s.crl", dir, stem);
	assert_int_equal(mode_of(path), 0600);
	snprintf(path, sizeof path, "%s/%s.meta", dir, stem);
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(mode_of(dir), 0700);

	/* cold start: from disk, no request */
	s = store(dir);
	assert_int_equal(check(s, "revoked.pem", "inter.pem", &res),
	    DS_REV_REVOKED);
	assert_string_equal(res.reports[0].origin, "disk");
	assert_int_equal(srv_count("GET /inter.crl"), 1);

	/* conditional GET: forced refresh answers 304 */
	struct ds_crl_report rep;
	assert_int_equal(ds_crl_store_refresh_url(s, srv_url("/inter.crl"), &rep), 0);
	assert_string_equal(rep.origin, "not-modified");
	assert_int_equal(srv_count("GET /inter.crl 304"), 1);

	/* a bad answer never replaces the good copy */
	srv_mode("garbage");
	assert_int_equal(ds_crl_store_refresh_url(s, srv_url("/inter.crl"), &rep), -1);
	assert_non_null(strstr(rep.outcome, "not a CRL"));
	srv_mode("wrongkey");
	sleep(1);     /* past the 1 s backoff is not needed: refresh_url forces */
	assert_int_equal(ds_crl_store_refresh_url(s, srv_url("/inter.crl"), &rep), -1);
	assert_non_null(strstr(rep.outcome, "signature does not verify"));
	srv_mode("ok");
	assert_int_equal(check(s, "exact.pem", "inter.pem", &res), DS_REV_GOOD);
	assert_int_equal(check(s, "revoked.pem", "inter.pem", &res), DS_REV_REVOKED);
	ds_crl_store_free(s);

	/* and on disk the good copy is still there for the next start */
	srv_mode("500");
	s = store(dir);
	assert_int_equal(check(s, "exact.pem", "inter.pem", &res), DS_REV_GOOD);
	assert_string_equal(res.reports[0].origin, "disk");
	ds_crl_store_free(s);
	srv_mode("ok");

	/* no temporary files left behind */
	DIR *d = opendir(dir);
	struct dirent *de;
	int files = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
		    strcmp(de->d_name, "..") == 0))
			continue;
		assert_true(de->d_name[0] != '.');
		files++;
	}
	closedir(d);
	assert_int_equal(files, 4);     /* inter.crl and root.crl: .crl + .meta */
}

static void test_backoff_then_recovery(void **state)
{
	struct ds_crl_store *s = store(NULL);
	struct ds_rev_result res;

	(void)state;
	srv_mode("500");
	srv_log_clear();
	assert_int_equal(check(s, "exact.pem", "inter.pem", &res),
	    DS_REV_UNAVAILABLE);
	assert_int_equal(check(s, "exact.pem", "inter.pem", &res),
	    DS_REV_UNAVAILABLE);
	assert_non_null(strstr(res.reason, "not retried before"));
	/* checked from the anchor down: root.crl failed, inter.crl was not
	 * even tried, and the second check did not hammer the server */
	assert_int_equal(srv_count("GET /root.crl"), 1);
	assert_int_equal(srv_count("GET /inter.crl"), 0);
	srv_mode("ok");
	sleep(2);                                   /* backoff 1 s */
	assert_int_equal(check(s, "exact.pem", "inter.pem", &res), DS_REV_GOOD);
	assert_int_equal(srv_count("GET /root.crl"), 2);
	assert_int_equal(srv_count("GET /inter.crl"), 1);
	ds_crl_store_free(s);
}

struct thread_arg {
	struct ds_crl_store *s;
	STACK_OF(X509) *chain;     /* loaded before the threads start */
	enum ds_rev_status st;
	char reason[512];
};

static void *checker(void *p)
{
	struct thread_arg *a = p;
	struct ds_rev_result res;
	ds_crl_check_chain(a->s, a->chain, 0, &res);
	a->st = res.status;
	memcpy(a->reason, res.reason, sizeof a->reason);
	return NULL;
}

static void test_single_flight(void **state)
{
	enum { N = 8 };
	struct ds_crl_store *s = store(NULL);
	pthread_t th[N];
	struct thread_arg args[N];
	struct ds_crl_opts o = test_opts(NULL);
	char err[256];

	(void)state;
	ds_crl_store_free(s);
	o.timeout_ms = 5000;           /* slow mode answers after 2 s */
	s = ds_crl_store_new(&o, err, sizeof err);
	assert_non_null(s);
	srv_mode("slow");
	srv_log_clear();
	for (int i = 0; i < N; i++) {
		args[i].s = s;
		args[i].chain = chain("exact.pem", "inter.pem");
	}
	for (int i = 0; i < N; i++) {
		pthread_create(&th[i], NULL, checker, &args[i]);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		sk_X509_pop_free(args[i].chain, X509_free);
		if (args[i].st != DS_REV_GOOD)
			fail_msg("thread %d: %s", i, args[i].reason);
	}
	srv_mode("ok");
	assert_int_equal(srv_count("GET /inter.crl"), 1);
	assert_int_equal(srv_count("GET /root.crl"), 1);
	ds_crl_store_free(s);
}

/* ds_crl_fetch with stderr (where ds_log writes in the tests) sent to a
 * file; returns what was logged (static buffer). */
static const char *fetch_logged(const struct ds_crl_opts *o, const char *url,
    const char *etag, struct ds_fetch_result *r)
{
	static char out[8192];
	char path[] = "/tmp/test_crl_log.XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	FILE *f;
	size_t n;

	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	ds_crl_fetch(o, url, etag, NULL, r);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(out, 1, sizeof out - 1, f);
	out[n] = '\0';
	fclose(f);
	unlink(path);
	return out;
}

/* Downloads of log_large_bytes or more are logged when they start (size,
 * or "so far" without Content-Length) and when they end (bytes, seconds,
 * done or failed); smaller ones, 304 answers and a zero threshold log
 * nothing. */
static void test_large_download_log(void **state)
{
	struct ds_crl_opts o = test_opts(NULL);
	struct ds_fetch_result r;
	const char *log;
	char want[512];
	const char *url = srv_url("/fault/garbage/x");

	(void)state;
	srv_mode("ok");
	o.log_large_bytes = 4096;              /* garbage: exactly 4096 */
	log = fetch_logged(&o, url, NULL, &r);
	assert_int_equal(r.status, DS_FETCH_OK);
	ds_fetch_result_free(&r);
	snprintf(want, sizeof want, "CRL download of %s: large (4096 bytes), "
	    "in progress\n", url);
	assert_non_null(strstr(log, want));
	snprintf(want, sizeof want, "CRL download of %s: done, 4096 bytes in ",
	    url);
	assert_non_null(strstr(log, want));
	assert_non_null(strstr(strstr(log, want), " s\n"));

	o.log_large_bytes = 4097;              /* one byte short: nothing */
	log = fetch_logged(&o, url, NULL, &r);
	assert_int_equal(r.status, DS_FETCH_OK);
	ds_fetch_result_free(&r);
	assert_null(strstr(log, "CRL download of"));
	o.log_large_bytes = 0;                 /* 0: never */
	log = fetch_logged(&o, url, NULL, &r);
	ds_fetch_result_free(&r);
	assert_null(strstr(log, "CRL download of"));

	/* no Content-Length: logged once the bytes pass the threshold */
	o.log_large_bytes = 100;
	url = srv_url("/fault/nolength/inter.crl");
	log = fetch_logged(&o, url, NULL, &r);
	assert_int_equal(r.status, DS_FETCH_OK);
	assert_true(r.body_len >= 100);
	snprintf(want, sizeof want, "CRL download of %s: large (%zu bytes so "
	    "far)", url, r.body_len);
	assert_non_null(strstr(log, want));
	snprintf(want, sizeof want, "CRL download of %s: done, %zu bytes in ",
	    url, r.body_len);
	assert_non_null(strstr(log, want));
	ds_fetch_result_free(&r);

	/* a slow one (trickle: 3 s) cut by the timeout: the end says so */
	url = srv_url("/fault/trickle/inter.crl");
	log = fetch_logged(&o, url, NULL, &r);       /* timeout_ms 1500 */
	assert_int_equal(r.status, DS_FETCH_FAILED);
	snprintf(want, sizeof want, "CRL download of %s: large (", url);
	assert_non_null(strstr(log, want));
	snprintf(want, sizeof want, "CRL download of %s: failed, ", url);
	assert_non_null(strstr(log, want));
	assert_non_null(strstr(log, " bytes in 1.5 s\n"));
	ds_fetch_result_free(&r);
	/* the same in time: the seconds are the download's */
	o.timeout_ms = 10000;
	log = fetch_logged(&o, url, NULL, &r);
	assert_int_equal(r.status, DS_FETCH_OK);
	snprintf(want, sizeof want, "CRL download of %s: done, %zu bytes in ",
	    url, r.body_len);
	assert_non_null(strstr(log, want));
	double secs = strtod(strstr(log, want) + strlen(want), NULL);
	assert_true(secs >= 2.5 && secs < 10);
	ds_fetch_result_free(&r);

	/* 304 Not Modified: nothing downloaded, nothing logged */
	url = srv_url("/inter.crl");
	fetch_logged(&o, url, NULL, &r);
	assert_int_equal(r.status, DS_FETCH_OK);
	snprintf(want, sizeof want, "%s", r.etag);
	ds_fetch_result_free(&r);
	log = fetch_logged(&o, url, want, &r);
	assert_int_equal(r.status, DS_FETCH_NOT_MODIFIED);
	ds_fetch_result_free(&r);
	assert_null(strstr(log, "CRL download of"));

	/* refused for its size from the headers: no download, no log */
	o.max_size = 4000;
	log = fetch_logged(&o, srv_url("/fault/garbage/x"), NULL, &r);
	assert_int_equal(r.status, DS_FETCH_FAILED);
	ds_fetch_result_free(&r);
	assert_null(strstr(log, "CRL download of"));
}

static void test_size_cap_and_protocols(void **state)
{
	struct ds_crl_opts o = test_opts(NULL);
	struct ds_fetch_result r;

	(void)state;
	srv_mode("ok");
	o.max_size = 100;              /* inter.crl is bigger */
	ds_crl_fetch(&o, srv_url("/inter.crl"), NULL, NULL, &r);
	assert_int_equal(r.status, DS_FETCH_FAILED);
	assert_non_null(strstr(r.error, "size limit"));
	ds_fetch_result_free(&r);
	o.max_size = 1024 * 1024;
	ds_crl_fetch(&o, srv_url("/fault/garbage/x"), NULL, NULL, &r);
	assert_int_equal(r.status, DS_FETCH_OK);
	assert_int_equal(r.body_len, 4096);
	ds_fetch_result_free(&r);
	o.max_size = 4000;             /* garbage is 4096, length known */
	ds_crl_fetch(&o, srv_url("/fault/garbage/x"), NULL, NULL, &r);
	assert_int_equal(r.status, DS_FETCH_FAILED);
	assert_non_null(strstr(r.error, "size limit"));
	ds_fetch_result_free(&r);

	ds_crl_fetch(&o, "file:///etc/passwd", NULL, NULL, &r);
	assert_int_equal(r.status, DS_FETCH_FAILED);
	assert_non_null(strstr(r.error, "protocol not allowed"));
	ds_crl_fetch(&o, "gopher://127.0.0.1/", NULL, NULL, &r);
	assert_int_equal(r.status, DS_FETCH_FAILED);
	assert_non_null(strstr(r.error, "protocol not allowed"));

	/* redirects are bounded */
	o.max_redirects = 0;
	ds_crl_fetch(&o, srv_url("/fault/redirect/inter.crl"), NULL, NULL, &r);
	assert_int_equal(r.status, DS_FETCH_FAILED);
	assert_non_null(strstr(r.error, "HTTP 302"));
	ds_fetch_result_free(&r);

	/* conditional GET by hand */
	o.max_redirects = 3;
	o.max_size = 1024 * 1024;
	ds_crl_fetch(&o, srv_url("/inter.crl"), NULL, NULL, &r);
	assert_int_equal(r.status, DS_FETCH_OK);
	assert_true(r.etag[0] != '\0' && r.last_modified[0] != '\0');
	char etag[256], lm[128];
	snprintf(etag, sizeof etag, "%s", r.etag);
	snprintf(lm, sizeof lm, "%s", r.last_modified);
	ds_fetch_result_free(&r);
	ds_crl_fetch(&o, srv_url("/inter.crl"), etag, NULL, &r);
	assert_int_equal(r.status, DS_FETCH_NOT_MODIFIED);
	ds_crl_fetch(&o, srv_url("/inter.crl"), NULL, lm, &r);
	assert_int_equal(r.status, DS_FETCH_NOT_MODIFIED);
	ds_crl_fetch(&o, srv_url("/inter.crl"), "\"other\"", NULL, &r);
	assert_int_equal(r.status, DS_FETCH_OK);
	ds_fetch_result_free(&r);
}

static void test_configured_files(void **state)
{
	struct ds_crl_store *s = store(NULL);
	struct ds_rev_result res;
	char err[256] = "";

	(void)state;
	/* nocrl's distribution point is a 404; a configured file saves it */
	srv_mode("ok");
	assert_int_equal(ds_crl_store_add_file(s, pki_path("crl/inter.pem.crl"),
	    err, sizeof err), 0);
	assert_int_equal(check(s, "nocrl.pem", "inter.pem", &res), DS_REV_GOOD);
	assert_string_equal(res.reports[0].origin, "file");
	assert_string_equal(res.reports[0].outcome, "good");
	assert_int_equal(check(s, "revoked.pem", "inter.pem", &res),
	    DS_REV_REVOKED);
	ds_crl_store_free(s);

	/* a wrongly signed file is not used */
	s = store(NULL);
	assert_int_equal(ds_crl_store_add_file(s, pki_path("crl/inter-wrongkey.crl"),
	    err, sizeof err), 0);
	assert_int_equal(check(s, "nocrl.pem", "inter.pem", &res),
	    DS_REV_UNAVAILABLE);
	assert_non_null(strstr(res.reason, "signature does not verify"));
	ds_crl_store_free(s);

	/* garbage files are refused at load with the file name */
	s = store(NULL);
	assert_int_equal(ds_crl_store_add_file(s, pki_path("root.key"), err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "root.key"));
	assert_int_equal(ds_crl_store_add_file(s, "/nonexistent/x.crl", err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "/nonexistent/x.crl"));
	ds_crl_store_free(s);
}

/* Issue 7, item 4: a CRL whose issuingDistributionPoint names another
 * distribution point (another shard of the same CA, validly signed and
 * current) is refused for the certificate and never cached under the URL. */
static void test_shard_swap(void **state)
{
	struct ds_rev_result res;
	char err[256] = "";
	(void)state;

	struct ds_crl_store *s = store(NULL);
	srv_mode("ok");
	assert_int_equal(check(s, "shard1.pem", "inter.pem", &res),
	    DS_REV_REVOKED);
	assert_int_equal(check(s, "shard2.pem", "inter.pem", &res), DS_REV_GOOD);
	ds_crl_store_free(s);

	/* the swap: shard2's CRL answered at shard1's URL */
	s = store(NULL);
	assert_int_equal(srv_mode("shard"), 0);
	srv_log_clear();
	assert_int_equal(check(s, "shard1.pem", "inter.pem", &res),
	    DS_REV_UNAVAILABLE);
	if (strstr(res.reason, "CRL scope mismatch") == NULL)
		fail_msg("reason: %s", res.reason);
	assert_non_null(strstr(res.reason, "/shard2.crl"));
	/* not cached: the next check fetches again (after the backoff) */
	sleep(2);
	assert_int_equal(check(s, "shard1.pem", "inter.pem", &res),
	    DS_REV_UNAVAILABLE);
	assert_int_equal(srv_count("GET /shard1.crl"), 2);
	srv_mode("ok");
	sleep(2);
	assert_int_equal(check(s, "shard1.pem", "inter.pem", &res),
	    DS_REV_REVOKED);
	ds_crl_store_free(s);

	/* a configured file must name one of the certificate's points */
	s = store(NULL);
	assert_int_equal(ds_crl_store_add_file(s, pki_path("crl/shard2.crl"),
	    err, sizeof err), 0);
	assert_int_equal(ds_crl_store_add_file(s, pki_path("crl/root.crl"),
	    err, sizeof err), 0);       /* root.crl is a 404 too */
	assert_int_equal(srv_mode("404"), 0);
	assert_int_equal(check(s, "shard1.pem", "inter.pem", &res),
	    DS_REV_UNAVAILABLE);
	assert_non_null(strstr(res.reason, "CRL scope mismatch"));
	assert_int_equal(check(s, "shard2.pem", "inter.pem", &res), DS_REV_GOOD);
	srv_mode("ok");
	ds_crl_store_free(s);
}

/* Issue 7, item 5: the newest current CRL decides, and a configured file
 * never stops the distribution point from being fetched. */
static void test_newest_crl_wins(void **state)
{
	struct ds_rev_result res;
	char err[256] = "";
	(void)state;

	struct ds_crl_store *s = store(NULL);
	srv_mode("ok");
	/* inter-old.crl (two days old, still current) does not list revoked
	 * yet and lists held (certificateHold); inter.crl, at the
	 * distribution point, is newer: revoked listed, held released */
	assert_int_equal(ds_crl_store_add_file(s, pki_path("crl/inter-old.crl"),
	    err, sizeof err), 0);
	srv_log_clear();
	assert_int_equal(check(s, "revoked.pem", "inter.pem", &res),
	    DS_REV_REVOKED);
	assert_non_null(strstr(res.reason, "/inter.crl"));
	assert_int_equal(srv_count("GET /inter.crl"), 1);
	assert_int_equal(check(s, "held.pem", "inter.pem", &res), DS_REV_GOOD);
	ds_crl_store_free(s);

	/* with the distribution point down, the old file still decides */
	s = store(NULL);
	assert_int_equal(ds_crl_store_add_file(s, pki_path("crl/inter-old.crl"),
	    err, sizeof err), 0);
	assert_int_equal(ds_crl_store_add_file(s, pki_path("crl/root.crl"),
	    err, sizeof err), 0);       /* root.crl is a 404 too */
	assert_int_equal(srv_mode("404"), 0);
	assert_int_equal(check(s, "held.pem", "inter.pem", &res),
	    DS_REV_REVOKED);
	assert_int_equal(check(s, "revoked.pem", "inter.pem", &res),
	    DS_REV_GOOD);
	srv_mode("ok");
	ds_crl_store_free(s);
}

/* Writes (DER) a CRL of inter: CRLNumber number, a deltaCRLIndicator with
 * base when base >= 0, a FreshestCRL URI when freshest is not NULL, listing
 * the serials of the certificates revoked[] and, with removeFromCRL,
 * removed[] (NULL-terminated lists of PKI file names). */
static void write_inter_crl(const char *out, long number, long base,
    const char *freshest, const char *const *revoked,
    const char *const *removed)
{
	FILE *f = fopen(pki_path("inter.key"), "r");
	assert_non_null(f);
	EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	f = fopen(pki_path("inter.pem"), "r");
	assert_non_null(f);
	X509 *ca = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(key);
	assert_non_null(ca);
	X509_CRL *crl = X509_CRL_new();
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca));
	ASN1_TIME *t = ASN1_TIME_new();
	X509_gmtime_adj(t, -3600);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, 86400);
	X509_CRL_set1_nextUpdate(crl, t);
	for (int pass = 0; pass < 2; pass++) {
		const char *const *list = pass ? removed : revoked;
		for (size_t i = 0; list && list[i]; i++) {
			FILE *cf = fopen(pki_path(list[i]), "r");
			assert_non_null(cf);
			X509 *x = PEM_read_X509(cf, NULL, NULL, NULL);
			fclose(cf);
			assert_non_null(x);
			X509_REVOKED *r = X509_REVOKED_new();
			X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(x));
			X509_gmtime_adj(t, -60);
			X509_REVOKED_set_revocationDate(r, t);
			if (pass) {
				ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();
				ASN1_ENUMERATED_set(e, 8);     /* removeFromCRL */
				X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0, 0);
				ASN1_ENUMERATED_free(e);
			}
			X509_CRL_add0_revoked(crl, r);
			X509_free(x);
		}
	}
	ASN1_INTEGER *n = ASN1_INTEGER_new();
	ASN1_INTEGER_set(n, number);
	X509_CRL_add1_ext_i2d(crl, NID_crl_number, n, 0, 0);
	if (base >= 0) {
		ASN1_INTEGER_set(n, base);
		X509_CRL_add1_ext_i2d(crl, NID_delta_crl, n, 1, 0);
	}
	ASN1_INTEGER_free(n);
	if (freshest != NULL) {
		X509V3_CTX ctx;
		X509V3_set_ctx_nodb(&ctx);
		char value[512];
		snprintf(value, sizeof value, "URI:%s", freshest);
		X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx,
		    NID_freshest_crl, value);
		assert_non_null(ex);
		X509_CRL_add_ext(crl, ex, -1);
		X509_EXTENSION_free(ex);
	}
	X509_CRL_sort(crl);
	assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
	f = fopen(pki_path(out), "wb");
	assert_non_null(f);
	assert_int_equal(i2d_X509_CRL_fp(f, crl), 1);
	fclose(f);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	X509_free(ca);
	EVP_PKEY_free(key);
}

static struct ds_crl_store *store_with_files(const char *const *files)
{
	struct ds_crl_store *s = store(NULL);
	char err[256] = "";
	for (size_t i = 0; files[i]; i++)
		if (ds_crl_store_add_file(s, pki_path(files[i]), err,
		    sizeof err) != 0)
			fail_msg("%s", err);
	return s;
}

/* Issue 7, item 6: delta CRLs (RFC 5280 5.2.4): followed from the base's
 * FreshestCRL, applied when BaseCRLNumber <= the base's CRLNumber, entries
 * override the base, removeFromCRL unrevokes, and a delta alone is never a
 * complete CRL. */
static void test_delta_crls(void **state)
{
	struct ds_rev_result res;
	(void)state;
	static const char *const base_revoked[] = { "revoked.pem", NULL };
	static const char *const delta_revoked[] = { "exact.pem", NULL };
	static const char *const delta_removed[] = { "revoked.pem", NULL };
	static const char *const files[] = { "crl/base100.crl", "crl/root.crl",
		NULL };

	write_inter_crl("crl/base100.crl", 100, -1, srv_url("/delta.crl"),
	    base_revoked, NULL);
	write_inter_crl("crl/delta.crl", 101, 100, NULL, delta_revoked,
	    delta_removed);
	srv_mode("ok");
	struct ds_crl_store *s = store_with_files(files);
	assert_int_equal(check(s, "exact.pem", "inter.pem", &res),
	    DS_REV_REVOKED);
	assert_non_null(strstr(res.reason, "delta CRL"));
	assert_int_equal(check(s, "revoked.pem", "inter.pem", &res),
	    DS_REV_GOOD);                  /* removeFromCRL in the delta */
	assert_int_equal(check(s, "onedeep.pem", "inter.pem", &res),
	    DS_REV_GOOD);
	ds_crl_store_free(s);

	/* a delta built on a newer base than ours does not apply */
	write_inter_crl("crl/delta.crl", 201, 200, NULL, delta_revoked, NULL);
	s = store_with_files(files);
	assert_int_equal(check(s, "exact.pem", "inter.pem", &res), DS_REV_GOOD);
	assert_int_equal(check(s, "revoked.pem", "inter.pem", &res),
	    DS_REV_REVOKED);
	ds_crl_store_free(s);

	/* no delta to be had: the base decides alone */
	assert_int_equal(unlink(pki_path("crl/delta.crl")), 0);
	s = store_with_files(files);
	assert_int_equal(check(s, "exact.pem", "inter.pem", &res), DS_REV_GOOD);
	assert_int_equal(check(s, "revoked.pem", "inter.pem", &res),
	    DS_REV_REVOKED);
	ds_crl_store_free(s);

	/* a distribution point serving only a delta: not a complete CRL */
	static const char *const only_delta[] = { "crl/delta-only.crl",
		"crl/root.crl", NULL };
	write_inter_crl("crl/delta-only.crl", 101, 100, NULL, NULL, NULL);
	s = store_with_files(only_delta);
	assert_int_equal(srv_mode("404"), 0);
	assert_int_equal(check(s, "onedeep.pem", "inter.pem", &res),
	    DS_REV_UNAVAILABLE);
	assert_non_null(strstr(res.reason, "delta CRL only"));
	srv_mode("ok");
	ds_crl_store_free(s);
	unlink(pki_path("crl/base100.crl"));
	unlink(pki_path("crl/delta-only.crl"));
}

/* Issue 7, item 8: --at (ds_crl_store_set_time) applies to fetched CRLs:
 * a CRL current then but expired now is accepted from a download. */
static void test_time_applies_to_fetched(void **state)
{
	struct ds_rev_result res;
	time_t at = time(NULL) - 45 * 86400;   /* inter-expired.crl current */
	(void)state;

	/* the expired leaf against inter only (inter the anchor) */
	STACK_OF(X509) *sk = chain_of(pki_path("expired.pem"),
	    pki_path("inter.pem"), NULL);
	assert_non_null(sk);
	assert_int_equal(srv_mode("expired"), 0);
	struct ds_crl_store *s = store(NULL);
	assert_int_equal(ds_crl_check_chain(s, sk, at, &res), 0);
	assert_int_equal(res.status, DS_REV_UNAVAILABLE);
	assert_non_null(strstr(res.reason, "expired: nextUpdate"));
	ds_crl_store_free(s);

	s = store(NULL);
	ds_crl_store_set_time(s, at);
	assert_int_equal(ds_crl_check_chain(s, sk, at, &res), 0);
	if (res.status != DS_REV_GOOD)
		fail_msg("with the time set: %s", res.reason);
	ds_crl_store_free(s);
	srv_mode("ok");
	sk_X509_pop_free(sk, X509_free);
}

static void count_entry(const struct ds_crl_report *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
}

static void collect_outcome(const struct ds_crl_report *r, void *arg)
{
	char *buf = arg;
	size_t l = strlen(buf);
	assert_true(r->entries >= 0);
	snprintf(buf + l, 2048 - l, "%s | ", r->outcome);
}

static void test_refresh_due_and_foreach(void **state)
{
	struct ds_crl_opts o = test_opts(NULL);
	struct ds_crl_store *s;
	struct ds_rev_result res;
	char err[256], dir[300];
	int n = 0;

	(void)state;
	snprintf(dir, sizeof dir, "%s/cache-refresh", srv_dir);
	o.cache_dir = dir;
	o.refresh_before_s = 10L * 365 * 86400;   /* everything is due */
	s = ds_crl_store_new(&o, err, sizeof err);
	assert_non_null(s);
	srv_mode("ok");
	check(s, "exact.pem", "inter.pem", &res);
	assert_int_equal(res.status, DS_REV_GOOD);
	srv_log_clear();
	assert_int_equal(ds_crl_store_refresh_due(s), 2);
	assert_int_equal(srv_count("GET /inter.crl 304"), 1);
	assert_int_equal(srv_count("GET /root.crl 304"), 1);
	ds_crl_store_foreach(s, count_entry, &n);
	assert_int_equal(n, 2);
	ds_crl_store_free(s);

	/* cold start of another store (e.g. domsecctl): refresh_due finds the
	 * disk entries and refreshes them with the issuer kept in .meta */
	o.refresh_before_s = 0;
	s = ds_crl_store_new(&o, err, sizeof err);
	assert_int_equal(ds_crl_store_refresh_due(s), 0);    /* none due */
	n = 0;
	ds_crl_store_foreach(s, count_entry, &n);
	assert_int_equal(n, 2);
	ds_crl_store_free(s);
	o.refresh_before_s = 10L * 365 * 86400;
	s = ds_crl_store_new(&o, err, sizeof err);
	/* wrongly signed answers (for every CRL with a -wrongkey variant in
	 * the PKI; the others are refreshed normally) */
	srv_mode("wrongkey");
	int refreshed = ds_crl_store_refresh_due(s);
	srv_mode("ok");
	char outcomes[2048] = "";
	ds_crl_store_foreach(s, collect_outcome, outcomes);
	assert_non_null(strstr(outcomes, "good copy kept; last fetch failed: "
	    "signature does not verify with issuer"));
	int failed = 0;
	for (const char *p = outcomes; (p = strstr(p, "last fetch failed")); p++)
		failed++;
	assert_int_equal(refreshed + failed, 2);
	ds_crl_store_free(s);
	/* the good copies survived on disk */
	s = ds_crl_store_new(&o, err, sizeof err);
	check(s, "revoked.pem", "inter.pem", &res);
	assert_int_equal(res.status, DS_REV_REVOKED);
	ds_crl_store_free(s);
}

/* Refresh without a chain: with configured issuer certificates a wrongly
 * signed answer is refused; without them it is stored unchecked, and the
 * first certificate that uses it finds out and fetches a good copy. */
static void test_issuer_candidates(void **state)
{
	char dir[300];
	struct ds_crl_store *s;
	struct ds_crl_report rep;
	struct ds_rev_result res;
	STACK_OF(X509) *cas;

	(void)state;
	snprintf(dir, sizeof dir, "%s/cache-issuers", srv_dir);
	s = store(dir);
	cas = chain_of(pki_path("inter.pem"), pki_path("root.pem"), NULL);
	assert_int_equal(ds_crl_store_add_issuers(s, cas), 0);
	sk_X509_pop_free(cas, X509_free);
	srv_mode("wrongkey");
	assert_int_equal(ds_crl_store_refresh_url(s, srv_url("/inter.crl"), &rep), -1);
	assert_non_null(strstr(rep.outcome, "signature does not verify with any "
	    "configured certificate"));
	srv_mode("ok");
	assert_int_equal(ds_crl_store_refresh_url(s, srv_url("/inter.crl"), &rep), 0);
	assert_string_equal(rep.outcome, "good");
	ds_crl_store_free(s);

	/* no candidates: the bad copy is stored unchecked ... */
	snprintf(dir, sizeof dir, "%s/cache-poison", srv_dir);
	s = store(dir);
	srv_mode("wrongkey");
	assert_int_equal(ds_crl_store_refresh_url(s, srv_url("/inter.crl"), &rep), 0);
	srv_mode("ok");
	ds_crl_store_free(s);
	/* ... and a later check (cold start) refuses it and fetches anew */
	s = store(dir);
	srv_log_clear();
	assert_int_equal(check(s, "revoked.pem", "inter.pem", &res), DS_REV_REVOKED);
	assert_int_equal(srv_count("GET /inter.crl 200"), 1);
	assert_int_equal(check(s, "exact.pem", "inter.pem", &res), DS_REV_GOOD);
	assert_string_equal(res.reports[0].origin, "cached");
	ds_crl_store_free(s);
}

/* The store's own background thread refreshes what is due. */
static void test_background_refresher(void **state)
{
	struct ds_crl_opts o = test_opts(NULL);
	struct ds_crl_store *s;
	struct ds_rev_result res;
	char err[256];

	(void)state;
	o.refresh_before_s = 10L * 365 * 86400;   /* everything is due */
	s = ds_crl_store_new(&o, err, sizeof err);
	assert_non_null(s);
	srv_mode("ok");
	assert_int_equal(check(s, "exact.pem", "inter.pem", &res), DS_REV_GOOD);
	srv_log_clear();
	assert_int_equal(ds_crl_store_start_refresher(s, 1), 0);
	assert_int_equal(ds_crl_store_start_refresher(s, 1), -1);
	sleep(2);
	/* one pass at start and one after a second, each a conditional GET */
	assert_true(srv_count("GET /inter.crl 304") >= 2);
	assert_true(srv_count("GET /inter.crl 200") == 0);
	assert_int_equal(check(s, "revoked.pem", "inter.pem", &res),
	    DS_REV_REVOKED);
	ds_crl_store_free(s);          /* stops and joins the thread */
}

/* Limits that need a particular server behaviour: a body without
 * Content-Length is cut while receiving, a redirect to file:// is not
 * followed, CRLProxy is used and proxy environment variables are not. */
static void test_stream_cap_redirect_proxy(void **state)
{
	struct ds_crl_opts o = test_opts(NULL);
	struct ds_fetch_result r;
	char proxy[64], log_line[256];
	const char *ldap_url;

	(void)state;
	srv_mode("ok");
	o.max_size = 100;
	srv_log_clear();
	ds_crl_fetch(&o, srv_url("/fault/nolength/inter.crl"), NULL, NULL, &r);
	assert_int_equal(r.status, DS_FETCH_FAILED);
	assert_non_null(strstr(r.error, "size limit"));
	assert_int_equal(srv_count("GET /fault/nolength/inter.crl 200"), 1);
	o.max_size = 1024 * 1024;
	ds_crl_fetch(&o, srv_url("/fault/nolength/inter.crl"), NULL, NULL, &r);
	assert_int_equal(r.status, DS_FETCH_OK);
	ds_fetch_result_free(&r);

	ds_crl_fetch(&o, srv_url("/fault/redirect-file/inter.crl"), NULL, NULL, &r);
	assert_int_equal(r.status, DS_FETCH_FAILED);
	assert_non_null(strstr(r.error, "protocol not allowed"));

	/* CRLProxy: the request reaches the proxy with the absolute URL */
	snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", srv_port);
	o.proxy = proxy;
	srv_log_clear();
	ds_crl_fetch(&o, "http://crl.example.invalid/inter.crl", NULL, NULL, &r);
	assert_int_equal(r.status, DS_FETCH_OK);
	ds_fetch_result_free(&r);
	snprintf(log_line, sizeof log_line,
	    "GET http://crl.example.invalid/inter.crl 200");
	assert_int_equal(srv_count(log_line), 1);

	/* no CRLProxy: http_proxy and friends are ignored */
	o.proxy = NULL;
	setenv("http_proxy", proxy, 1);
	setenv("HTTPS_PROXY", proxy, 1);
	setenv("ALL_PROXY", proxy, 1);
	ds_crl_fetch(&o, "http://crl.example.invalid/inter.crl", NULL, NULL, &r);
	unsetenv("http_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("ALL_PROXY");
	assert_int_equal(r.status, DS_FETCH_FAILED);
	assert_int_equal(srv_count(log_line), 1);     /* no second request */

	/* NO_PROXY in the environment is ignored like the others: the
	 * request still goes through CRLProxy */
	o.proxy = proxy;
	setenv("NO_PROXY", "crl.example.invalid", 1);
	setenv("no_proxy", "*", 1);
	ds_crl_fetch(&o, "http://crl.example.invalid/inter.crl", NULL, NULL, &r);
	unsetenv("NO_PROXY");
	unsetenv("no_proxy");
	assert_int_equal(r.status, DS_FETCH_OK);
	ds_fetch_result_free(&r);
	assert_int_equal(srv_count(log_line), 2);
	/* CRLNoProxy: that host goes direct (and, being invalid, fails) */
	o.no_proxy = "crl.example.invalid";
	ds_crl_fetch(&o, "http://crl.example.invalid/inter.crl", NULL, NULL, &r);
	assert_int_equal(r.status, DS_FETCH_FAILED);
	assert_int_equal(srv_count(log_line), 2);
	o.no_proxy = NULL;
	/* LDAP is not tunnelled through the HTTP proxy unless asked */
	ldap_url = "ldap://crl.example.invalid/cn=x?certificateRevocationList";
	srv_log_clear();
	ds_crl_fetch(&o, ldap_url, NULL, NULL, &r);
	assert_int_equal(r.status, DS_FETCH_FAILED);
	assert_null(strstr(r.error, "CONNECT"));      /* direct */
	assert_non_null(strstr(r.error, "resolve"));
	o.proxy_ldap = 1;
	ds_crl_fetch(&o, ldap_url, NULL, NULL, &r);
	assert_int_equal(r.status, DS_FETCH_FAILED);
	assert_non_null(strstr(r.error, "CONNECT"));  /* through the proxy */
	o.proxy_ldap = 0;
}

struct listed {
	int n;
	char outcome[256];
};

static void find_root(const struct ds_crl_report *r, void *arg)
{
	struct listed *l = arg;
	if (strstr(r->source, "/root.crl") != NULL) {
		l->n++;
		snprintf(l->outcome, sizeof l->outcome, "%s", r->outcome);
	}
}

/* A distribution point that was never fetched successfully is listed (by
 * another process reading the cache directory) with its last error. */
static void test_list_never_fetched(void **state)
{
	char dir[300];
	struct ds_crl_store *s;
	struct ds_rev_result res;
	struct listed l = { 0, "" };

	(void)state;
	snprintf(dir, sizeof dir, "%s/cache-never", srv_dir);
	srv_mode("404");
	s = store(dir);
	assert_int_equal(check(s, "exact.pem", "inter.pem", &res),
	    DS_REV_UNAVAILABLE);
	ds_crl_store_free(s);
	srv_mode("ok");
	s = store(dir);                       /* as `domsecctl crl list` */
	ds_crl_store_foreach(s, find_root, &l);
	ds_crl_store_free(s);
	assert_int_equal(l.n, 1);
	if (strstr(l.outcome, "no copy") == NULL ||
	    strstr(l.outcome, "HTTP 404") == NULL)
		fail_msg("root.crl listed as '%s'", l.outcome);
}

/* The fetch split: while a download of a URL is in flight (snapshot
 * taken, nothing published yet) the cached copy is served at once; a
 * failed download published later keeps the copy and records why. */
static void test_serve_while_in_flight(void **state)
{
	struct ds_crl_store *s = store(NULL);
	struct ds_rev_result res;
	struct crl_entry *e;
	struct crl_snapshot snap;
	struct crl_outcome out;
	enum ds_crl_get_origin origin;
	double t0;

	(void)state;
	srv_mode("ok");
	assert_int_equal(check(s, "exact.pem", "inter.pem", &res), DS_REV_GOOD);
	pthread_mutex_lock(&s->mu);
	e = ds_crl_entry_find(s, srv_url("/inter.crl"), 0);
	assert_non_null(e);
	assert_int_equal(ds_crl_entry_snapshot(s, e, NULL, 0, &snap), 0);
	assert_int_equal(e->in_flight, 1);
	assert_non_null(snap.cur);
	pthread_mutex_unlock(&s->mu);

	t0 = now_s();
	assert_int_equal(check(s, "revoked.pem", "inter.pem", &res),
	    DS_REV_REVOKED);
	assert_true(now_s() - t0 < 0.5);      /* did not wait for the download */
	assert_string_equal(res.reports[0].origin, "cached");

	memset(&out, 0, sizeof out);
	out.r.status = DS_FETCH_FAILED;
	snprintf(out.r.error, sizeof out.r.error, "HTTP 503");
	out.now = time(NULL);
	pthread_mutex_lock(&s->mu);
	ds_crl_entry_publish(s, e, &snap, &out, &origin);
	assert_int_equal(origin, DS_ORIGIN_NONE);
	assert_int_equal(e->in_flight, 0);
	assert_non_null(e->data);
	assert_string_equal(e->last_error, "HTTP 503");
	pthread_mutex_unlock(&s->mu);
	assert_int_equal(check(s, "exact.pem", "inter.pem", &res), DS_REV_GOOD);
	ds_crl_store_free(s);
}

struct refresh_arg {
	struct ds_crl_store *s;
	const char *url;
	int rc;
};

static void *refresher(void *p)
{
	struct refresh_arg *a = p;
	a->rc = ds_crl_store_refresh_url(a->s, a->url, NULL);
	return NULL;
}

/* A real refresh against a slow server (2 s): checks during it are
 * answered from the cache without waiting; the refresh still lands. */
static void test_serve_during_refresh(void **state)
{
	struct ds_crl_store *s = store(NULL);
	struct ds_rev_result res;
	struct refresh_arg a;
	pthread_t th;
	double t0, worst = 0;
	char url[256];

	(void)state;
	srv_mode("ok");
	assert_int_equal(check(s, "exact.pem", "inter.pem", &res), DS_REV_GOOD);
	snprintf(url, sizeof url, "%s", srv_url("/inter.crl"));
	a.s = s;
	a.url = url;
	a.rc = -2;
	srv_mode("slow");
	srv_log_clear();
	pthread_create(&th, NULL, refresher, &a);
	usleep(300 * 1000);
	for (int i = 0; i < 5; i++) {
		t0 = now_s();
		assert_int_equal(check(s, "exact.pem", "inter.pem", &res),
		    DS_REV_GOOD);
		if (now_s() - t0 > worst)
			worst = now_s() - t0;
		usleep(100 * 1000);
	}
	pthread_join(th, NULL);
	srv_mode("ok");
	assert_int_equal(a.rc, 0);
	if (worst > 0.3)
		fail_msg("a check waited %.2f s for the refresh", worst);
	/* one conditional GET (a stray 200 may come from the previous
	 * test's abandoned slow request) */
	assert_int_equal(srv_count("GET /inter.crl 304"), 1);
	ds_crl_store_free(s);
}

/* Two budgets: a download that outlives the message-time wait (CRLTimeout
 * 500 ms, the server answers after 2 s) goes on in the background and is
 * cached: the first check is deferred, a later one succeeds without a
 * second download. */
static void test_download_outlives_wait(void **state)
{
	struct ds_crl_opts o = test_opts(NULL);
	struct ds_crl_store *s;
	struct ds_rev_result res;
	char err[256];
	double t0;

	(void)state;
	o.timeout_ms = 500;
	o.connect_timeout_ms = 500;
	o.download_timeout_ms = 10000;
	s = ds_crl_store_new(&o, err, sizeof err);
	assert_non_null(s);
	srv_mode("slow");
	srv_log_clear();
	t0 = now_s();
	assert_int_equal(check(s, "exact.pem", "inter.pem", &res),
	    DS_REV_UNAVAILABLE);
	assert_true(now_s() - t0 < 1.0);
	assert_non_null(strstr(res.reason, "goes on in the background"));
	sleep(3);                  /* root.crl's download lands */
	assert_int_equal(check(s, "exact.pem", "inter.pem", &res),
	    DS_REV_UNAVAILABLE);   /* now inter.crl is in flight */
	sleep(3);
	assert_int_equal(check(s, "exact.pem", "inter.pem", &res), DS_REV_GOOD);
	srv_mode("ok");
	assert_int_equal(srv_count("GET /root.crl"), 1);
	assert_int_equal(srv_count("GET /inter.crl"), 1);
	ds_crl_store_free(s);
}

/* The refresher also fetches distribution points that have no copy yet
 * (every fetch so far failed), once their backoff is over. */
static void test_refresh_never_fetched(void **state)
{
	struct ds_crl_store *s = store(NULL);
	struct ds_rev_result res;

	(void)state;
	srv_mode("500");
	assert_int_equal(check(s, "exact.pem", "inter.pem", &res),
	    DS_REV_UNAVAILABLE);
	srv_mode("ok");
	srv_log_clear();
	sleep(2);                                    /* backoff 1 s */
	assert_true(ds_crl_store_refresh_due(s) >= 1);
	assert_int_equal(srv_count("GET /root.crl 200"), 1);
	ds_crl_store_free(s);
}

/* All downloads of one check share one CRLTimeout: two CRLs that take 2 s
 * each do not fit in 3 s. */
static void test_one_timeout_per_check(void **state)
{
	struct ds_crl_opts o = test_opts(NULL);
	struct ds_crl_store *s;
	struct ds_rev_result res;
	char err[256];
	double t0;

	(void)state;
	o.timeout_ms = 3000;
	o.connect_timeout_ms = 1000;
	s = ds_crl_store_new(&o, err, sizeof err);
	assert_non_null(s);
	srv_mode("slow");
	t0 = now_s();
	assert_int_equal(check(s, "exact.pem", "inter.pem", &res),
	    DS_REV_UNAVAILABLE);
	srv_mode("ok");
	assert_true(now_s() - t0 < 3.6);
	assert_non_null(strstr(res.reason, "/inter.crl"));
	assert_non_null(strstr(res.reason, "timed out"));
	/* root.crl arrived and is kept */
	assert_string_equal(res.reports[1].outcome, "good");
	ds_crl_store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_revoked_unavailable),
		cmocka_unit_test(test_fault_modes),
		cmocka_unit_test(test_disk_cache),
		cmocka_unit_test(test_backoff_then_recovery),
		cmocka_unit_test(test_single_flight),
		cmocka_unit_test(test_size_cap_and_protocols),
		cmocka_unit_test(test_large_download_log),
		cmocka_unit_test(test_configured_files),
		cmocka_unit_test(test_shard_swap),
		cmocka_unit_test(test_newest_crl_wins),
		cmocka_unit_test(test_time_applies_to_fetched),
		cmocka_unit_test(test_delta_crls),
		cmocka_unit_test(test_refresh_due_and_foreach),
		cmocka_unit_test(test_issuer_candidates),
		cmocka_unit_test(test_background_refresher),
		cmocka_unit_test(test_stream_cap_redirect_proxy),
		cmocka_unit_test(test_one_timeout_per_check),
		cmocka_unit_test(test_serve_while_in_flight),
		cmocka_unit_test(test_list_never_fetched),
		cmocka_unit_test(test_serve_during_refresh),
		cmocka_unit_test(test_download_outlives_wait),
		cmocka_unit_test(test_refresh_never_fetched),
	};
	return cmocka_run_group_tests_name("crl_cache", tests, setup, teardown);
}
