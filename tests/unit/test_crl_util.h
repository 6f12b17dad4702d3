/*
 * test_crl_util.h - helpers for the CRL unit tests: start and stop the real
 * tests/crlserver.py on a free loopback port, switch its fault mode, count
 * requests in its log, and load certificate chains of the test PKI.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_TEST_CRL_UTIL_H
#define DOMSEC_TEST_CRL_UTIL_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static char srv_dir[256];       /* mkdtemp: port, log, www -> PKI crl dir */
static pid_t srv_pid;
static int srv_port;

__attribute__((unused))
static const char *srv_file(const char *name)
{
	static char bufs[8][512];
	static int next;
	char *b = bufs[next++ % 8];
	snprintf(b, sizeof bufs[0], "%s/%s", srv_dir, name);
	return b;
}

/* Starts crlserver.py serving srv_dir/www; returns 0 once it listens. */
__attribute__((unused))
static int srv_start(void)
{
	const char *top = getenv("DOMSEC_TOP");
	char script[512];
	snprintf(srv_dir, sizeof srv_dir, "/tmp/domsec-unit-crl.XXXXXX");
	if (mkdtemp(srv_dir) == NULL)
		return -1;
	snprintf(script, sizeof script, "%s/tests/crlserver.py", top ? top : ".");
	srv_pid = fork();
	if (srv_pid < 0)
		return -1;
	if (srv_pid == 0) {
		execlp("python3", "python3", script, "--dir", srv_file("www"),
		    "--port-file", srv_file("port"), "--log", srv_file("log"),
		    (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		FILE *f = fopen(srv_file("port"), "r");
		if (f != NULL) {
			int ok = fscanf(f, "%d", &srv_port) == 1;
			fclose(f);
			if (ok)
				return 0;
		}
		usleep(50000);
	}
	return -1;
}

__attribute__((unused))
static void srv_stop(void)
{
	char cmd[512];
	if (srv_pid > 0) {
		kill(srv_pid, SIGTERM);
		waitpid(srv_pid, NULL, 0);
		srv_pid = 0;
	}
	if (srv_dir[0]) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", srv_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", srv_dir);
		srv_dir[0] = '\0';
	}
}

__attribute__((unused))
static const char *srv_url(const char *path)
{
	static char bufs[8][512];
	static int next;
	char *b = bufs[next++ % 8];
	snprintf(b, sizeof bufs[0], "http://127.0.0.1:%d%s", srv_port, path);
	return b;
}

static size_t srv_discard(char *p, size_t s, size_t n, void *a)
{
	(void)p; (void)a;
	return s * n;
}

/* GET /_mode/MODE; returns 0 on "200". */
__attribute__((unused))
static int srv_mode(const char *mode)
{
	char path[128];
	long code = 0;
	CURL *c = curl_easy_init();
	snprintf(path, sizeof path, "/_mode/%s", mode);
	curl_easy_setopt(c, CURLOPT_URL, srv_url(path));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, srv_discard);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	return code == 200 ? 0 : -1;
}

/* Lines of the request log that start with prefix ("GET /inter.crl 200"). */
__attribute__((unused))
static int srv_count(const char *prefix)
{
	FILE *f = fopen(srv_file("log"), "r");
	char line[1024];
	int n = 0;
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, prefix, strlen(prefix)) == 0)
			n++;
	fclose(f);
	return n;
}

/* Empties the request log. */
__attribute__((unused))
static void srv_log_clear(void)
{
	FILE *f = fopen(srv_file("log"), "w");
	if (f)
		fclose(f);
}

/* Loads PEM files (in order) into one stack: e.g. leaf, inter, root. */
__attribute__((unused))
static STACK_OF(X509) *chain_of(const char *a, const char *b, const char *c)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	const char *files[3] = { a, b, c };
	for (int i = 0; i < 3 && files[i]; i++) {
		FILE *f = fopen(files[i], "r");
		X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
		if (f)
			fclose(f);
		if (x == NULL) {
			fprintf(stderr, "cannot load %s\n", files[i]);
			sk_X509_pop_free(sk, X509_free);
			return NULL;
		}
		sk_X509_push(sk, x);
	}
	return sk;
}

__attribute__((unused))
static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif
