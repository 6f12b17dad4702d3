/*
 * fixture.c - the compiled unit-test fixture (see fixture.h): the test PKI
 * from tests/pki/mkpki.sh, the real helper servers of tests/ started on
 * loopback and stopped again, and the file and process helpers the tests
 * share.  Everything here is test scaffolding; nothing is linked into
 * domsec itself.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <openssl/pem.h>
#include "fixture.h"

/* ---- files and processes ---- */

const char *source_top(void)
{
	const char *top = getenv("DOMSEC_TOP");
	return top != NULL && top[0] != '\0' ? top : ".";
}

int free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

int file_contains(const char *path, const char *needle)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/* fork + exec argv with stdout and stderr on /dev/null; the child's pid */
static pid_t spawn_quiet(char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

int run_quiet(char *const argv[])
{
	pid_t pid = spawn_quiet(argv);
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int wait_port_file(const char *path, pid_t pid)
{
	for (int i = 0; i < 200; i++) {
		FILE *f = fopen(path, "r");
		int port = -1, status;
		if (f != NULL) {
			if (fscanf(f, "%d", &port) != 1)
				port = -1;
			fclose(f);
			if (port > 0)
				return port;
		}
		if (waitpid(pid, &status, WNOHANG) == pid)
			return -1;                   /* it died (e.g. no IPv6) */
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return -1;
}

int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

int copy_file(const char *from, const char *to)
{
	char buf[8192];
	size_t n;
	FILE *in = fopen(from, "rb"), *out;

	if (in == NULL)
		return -1;
	out = fopen(to, "wb");
	if (out == NULL) {
		fclose(in);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	return fclose(out);
}

void stop_pid(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGTERM);
		waitpid(*pid, NULL, 0);
	}
	*pid = 0;
}

void remove_tree(const char *path)
{
	char *argv[] = { "rm", "-rf", (char *)path, NULL };

	if (path[0] != '\0' && run_quiet(argv) != 0)
		fprintf(stderr, "could not remove %s\n", path);
}

const char *shell_line(const char *cmd)
{
	static char line[1024];
	FILE *p = popen(cmd, "r");

	line[0] = '\0';
	if (p == NULL)
		return line;
	if (fgets(line, sizeof line, p) == NULL)
		line[0] = '\0';
	pclose(p);
	line[strcspn(line, "\n")] = '\0';
	return line;
}

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

STACK_OF(X509) *chain_of(const char *a, const char *b, const char *c)
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

/* ---- the PKI ---- */

int fixture_pki_build(const char *dir, const char *crl_url)
{
	char script[1024];

	snprintf(script, sizeof script, "%s/tests/pki/mkpki.sh", source_top());
	char *argv[] = { "sh", script, (char *)dir, (char *)crl_url, NULL };
	if (run_quiet(argv) != 0) {
		fprintf(stderr, "test setup: %s %s failed\n", script, dir);
		return -1;
	}
	return 0;
}

/* One of 8 rotating static buffers, so that a few results can be used in
 * one expression (pki_path, srv_file, srv_url). */
#define ROTATING_LEN 512
static char *rotating_buf(void)
{
	static char bufs[8][ROTATING_LEN];
	static int next;

	return bufs[next++ % 8];
}

char pki_dir[256];

const char *pki_path(const char *name)
{
	char *b = rotating_buf();

	snprintf(b, ROTATING_LEN, "%s/%s", pki_dir, name);
	return b;
}

int pki_build(const char *base_url)
{
	snprintf(pki_dir, sizeof pki_dir, "/tmp/domsec-unit-pki.XXXXXX");
	if (mkdtemp(pki_dir) == NULL)
		return -1;
	return fixture_pki_build(pki_dir, base_url);
}

void pki_remove(void)
{
	remove_tree(pki_dir);
	pki_dir[0] = '\0';
}

int pki_group_setup(void **state)
{
	(void)state;
	return pki_build("http://127.0.0.1:9");
}

int pki_group_teardown(void **state)
{
	(void)state;
	pki_remove();
	return 0;
}

/* ---- one CRL server per test program ---- */

char srv_dir[256];
pid_t srv_pid;
int srv_port;

const char *srv_file(const char *name)
{
	char *b = rotating_buf();

	snprintf(b, ROTATING_LEN, "%s/%s", srv_dir, name);
	return b;
}

/* tests/crlserver.py serving dir on bind:port (0: any), writing portfile */
static pid_t crlserver_spawn(const char *dir, int port, const char *portfile,
    const char *log)
{
	char script[1024], port_arg[16];

	snprintf(script, sizeof script, "%s/tests/crlserver.py", source_top());
	snprintf(port_arg, sizeof port_arg, "%d", port);
	unlink(portfile);
	char *argv[] = { "python3", script, "--dir", (char *)dir, "--bind",
	    "127.0.0.1", "--port", port_arg, "--port-file", (char *)portfile,
	    log != NULL ? "--log" : NULL, (char *)log, NULL };
	return spawn_quiet(argv);
}

int srv_start(void)
{
	snprintf(srv_dir, sizeof srv_dir, "/tmp/domsec-unit-crl.XXXXXX");
	if (mkdtemp(srv_dir) == NULL)
		return -1;
	srv_pid = crlserver_spawn(srv_file("www"), 0, srv_file("port"),
	    srv_file("log"));
	if (srv_pid < 0)
		return -1;
	srv_port = wait_port_file(srv_file("port"), srv_pid);
	return srv_port > 0 ? 0 : -1;
}

void srv_stop(void)
{
	stop_pid(&srv_pid);
	remove_tree(srv_dir);
	srv_dir[0] = '\0';
}

const char *srv_url(const char *path)
{
	char *b = rotating_buf();

	snprintf(b, ROTATING_LEN, "http://127.0.0.1:%d%s", srv_port, path);
	return b;
}

static size_t srv_discard(char *p, size_t s, size_t n, void *a)
{
	(void)p;
	(void)a;
	return s * n;
}

int srv_mode(const char *mode)
{
	char path[128];
	long code = 0;
	CURL *c = curl_easy_init();

	if (c == NULL)
		return -1;
	snprintf(path, sizeof path, "/_mode/%s", mode);
	curl_easy_setopt(c, CURLOPT_URL, srv_url(path));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, srv_discard);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	return code == 200 ? 0 : -1;
}

int srv_count(const char *prefix)
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

void srv_log_clear(void)
{
	FILE *f = fopen(srv_file("log"), "w");

	if (f)
		fclose(f);
}

/* ---- a PKI with servers around it ---- */

int crl_server_start(struct tls_fixture *fx)
{
	char crldir[400], portfile[400];

	snprintf(crldir, sizeof crldir, "%s/crl", fx->pki);
	snprintf(portfile, sizeof portfile, "%s/crl.port", fx->dir);
	fx->crlserver = crlserver_spawn(crldir, fx->crl_port, portfile, NULL);
	if (fx->crlserver < 0) {
		fx->crlserver = 0;
		return -1;
	}
	int port = wait_port_file(portfile, fx->crlserver);
	if (port <= 0) {
		stop_pid(&fx->crlserver);
		return -1;
	}
	fx->crl_port = port;
	return port;
}

int tls_fixture_setup(struct tls_fixture *fx)
{
	memset(fx, 0, sizeof *fx);
	snprintf(fx->dir, sizeof fx->dir, "/tmp/domsec-inbound-test.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->pki, sizeof fx->pki, "%s/pki", fx->dir);
	fx->crl_port = free_port();
	snprintf(fx->crl_url, sizeof fx->crl_url, "http://127.0.0.1:%d",
	    fx->crl_port);
	return fixture_pki_build(fx->pki, fx->crl_url);
}

int dns_server_start(struct tls_fixture *fx, const char *const *records)
{
	char script[1024], portfile[400];
	char *argv[64];
	int n = 0;

	snprintf(script, sizeof script, "%s/tests/dns_server.py", source_top());
	snprintf(portfile, sizeof portfile, "%s/dns.port", fx->dir);
	unlink(portfile);
	argv[n++] = "python3";
	argv[n++] = script;
	argv[n++] = "--port-file";
	argv[n++] = portfile;
	for (; *records != NULL && n < 60; records++) {
		argv[n++] = "--record";
		argv[n++] = (char *)*records;
	}
	argv[n] = NULL;
	fx->dns = spawn_quiet(argv);
	if (fx->dns < 0) {
		fx->dns = 0;
		return -1;
	}
	fx->dns_port = wait_port_file(portfile, fx->dns);
	if (fx->dns_port <= 0)
		stop_pid(&fx->dns);
	return fx->dns_port;
}

void tls_fixture_teardown(struct tls_fixture *fx)
{
	stop_pid(&fx->dns);
	stop_pid(&fx->server);
	stop_pid(&fx->crlserver);
	remove_tree(fx->dir);
}

int tls_server_start_on(struct tls_fixture *fx, const char *name,
    const char *bind, int port, const char *extra)
{
	char script[1024], cert[400], key[400], portfile[400], port_arg[16],
	    root[400];
	char *argv[20];
	int n = 0;

	stop_pid(&fx->server);
	snprintf(script, sizeof script, "%s/tests/starttls_server.py", source_top());
	snprintf(cert, sizeof cert, "%s/%s-chain.pem", fx->pki, name);
	snprintf(key, sizeof key, "%s/%s.key", fx->pki, name);
	snprintf(root, sizeof root, "%s/root.pem", fx->pki);
	snprintf(portfile, sizeof portfile, "%s/tls.port", fx->dir);
	snprintf(fx->log, sizeof fx->log, "%s/tls.log", fx->dir);
	snprintf(port_arg, sizeof port_arg, "%d", port);
	unlink(portfile);
	unlink(fx->log);
	argv[n++] = "python3";
	argv[n++] = script;
	argv[n++] = "--cert";
	argv[n++] = cert;
	argv[n++] = "--key";
	argv[n++] = key;
	argv[n++] = "--bind";
	argv[n++] = (char *)bind;
	argv[n++] = "--port";
	argv[n++] = port_arg;
	argv[n++] = "--port-file";
	argv[n++] = portfile;
	argv[n++] = "--log";
	argv[n++] = fx->log;
	if (extra != NULL && strcmp(extra, "--client-ca") == 0) {
		argv[n++] = "--client-ca";
		argv[n++] = root;
	} else if (extra != NULL) {
		argv[n++] = (char *)extra;
	}
	argv[n] = NULL;
	fx->server = spawn_quiet(argv);
	if (fx->server < 0) {
		fx->server = 0;
		return -1;
	}
	int got = wait_port_file(portfile, fx->server);
	if (got <= 0)
		fx->server = 0;
	return got;
}

int tls_server_start(struct tls_fixture *fx, const char *name,
    const char *bind, const char *extra)
{
	return tls_server_start_on(fx, name, bind, 0, extra);
}

void tls_server_stop(struct tls_fixture *fx)
{
	stop_pid(&fx->server);
}
