/*
 * inbound_test_helpers.h - shared by the inbound unit tests (probe,
 * acquire, inbound): builds the test PKI with tests/pki/mkpki.sh in a
 * temporary directory, starts and stops tests/starttls_server.py and
 * tests/crlserver.py on free loopback ports.  Header-only so that each test
 * stays one binary; every function is marked unused-safe.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef INBOUND_TEST_HELPERS_H
#define INBOUND_TEST_HELPERS_H

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

#define HELPER __attribute__((unused)) static

struct tls_fixture {
	char dir[256];          /* temporary work directory */
	char pki[300];          /* dir/pki */
	char log[300];          /* starttls_server.py log of the current server */
	char crl_url[128];      /* http://127.0.0.1:PORT when a CRL server runs */
	pid_t server;           /* starttls_server.py, 0 when none */
	pid_t crlserver;        /* crlserver.py, 0 when none */
	int crl_port;
	pid_t dns;              /* dns_server.py, 0 when none */
	int dns_port;
};

HELPER const char *source_top(void)
{
	const char *top = getenv("DOMSEC_TOP");
	return top != NULL && top[0] != '\0' ? top : ".";
}

HELPER int free_port(void)
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

HELPER int file_contains(const char *path, const char *needle)
{
	char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

HELPER int run_quiet(char *const argv[])
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Waits up to 10 s for a port file written by one of our servers. */
HELPER int wait_port_file(const char *path, pid_t pid)
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

HELPER int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

HELPER int copy_file(const char *from, const char *to)
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

HELPER void stop_pid(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGTERM);
		waitpid(*pid, NULL, 0);
	}
	*pid = 0;
}

/* Starts tests/crlserver.py serving fx->pki/crl; sets fx->crl_url. */
HELPER int crl_server_start(struct tls_fixture *fx)
{
	char script[1024], crldir[400], portfile[400];
	pid_t pid;

	snprintf(script, sizeof script, "%s/tests/crlserver.py", source_top());
	snprintf(crldir, sizeof crldir, "%s/crl", fx->pki);
	snprintf(portfile, sizeof portfile, "%s/crl.port", fx->dir);
	unlink(portfile);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		char port_arg[16];
		snprintf(port_arg, sizeof port_arg, "%d", fx->crl_port);
		execlp("python3", "python3", script, "--dir", crldir, "--bind",
		    "127.0.0.1", "--port", port_arg, "--port-file", portfile,
		    (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	fx->crlserver = pid;
	int port = wait_port_file(portfile, pid);
	if (port <= 0) {
		stop_pid(&fx->crlserver);
		return -1;
	}
	fx->crl_port = port;
	return port;
}

/*
 * Makes the work directory and the PKI.  CRL distribution points point at
 * http://127.0.0.1:PORT with a port chosen now (the CRL server, when a test
 * starts one, binds that port).
 */
HELPER int tls_fixture_setup(struct tls_fixture *fx)
{
	char script[1024];

	memset(fx, 0, sizeof *fx);
	snprintf(fx->dir, sizeof fx->dir, "/tmp/domsec-inbound-test.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->pki, sizeof fx->pki, "%s/pki", fx->dir);
	fx->crl_port = free_port();
	snprintf(fx->crl_url, sizeof fx->crl_url, "http://127.0.0.1:%d",
	    fx->crl_port);
	snprintf(script, sizeof script, "%s/tests/pki/mkpki.sh", source_top());
	char *argv[] = { "sh", script, fx->pki, fx->crl_url, NULL };
	if (run_quiet(argv) != 0) {
		fprintf(stderr, "test setup: %s failed\n", script);
		return -1;
	}
	return 0;
}

/* Starts tests/dns_server.py with records ("NAME TYPE DATA", NULL-ended);
 * returns its port. */
HELPER int dns_server_start(struct tls_fixture *fx, const char *const *records)
{
	char script[1024], portfile[400];
	char *argv[64];
	int n = 0;
	pid_t pid;

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
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execvp("python3", argv);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	fx->dns = pid;
	fx->dns_port = wait_port_file(portfile, pid);
	if (fx->dns_port <= 0)
		stop_pid(&fx->dns);
	return fx->dns_port;
}

HELPER void tls_fixture_teardown(struct tls_fixture *fx)
{
	stop_pid(&fx->dns);
	stop_pid(&fx->server);
	stop_pid(&fx->crlserver);
	if (fx->dir[0] != '\0') {
		char *argv[] = { "rm", "-rf", fx->dir, NULL };
		run_quiet(argv);
	}
}

/*
 * Starts tests/starttls_server.py presenting leaf NAME's chain on bind.
 * extra: NULL, "--client-ca" (requests a client certificate, trusting the
 * test root), or any single option ("--hang", "--greeting-code=421").
 * port 0 picks a free one.  Returns the port, -1 on failure.
 */
HELPER int tls_server_start_on(struct tls_fixture *fx, const char *name,
    const char *bind, int port, const char *extra)
{
	char script[1024], cert[400], key[400], portfile[400], port_arg[16],
	    root[400];
	pid_t pid;

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
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		if (extra != NULL && strcmp(extra, "--client-ca") == 0)
			execlp("python3", "python3", script, "--cert", cert, "--key",
			    key, "--bind", bind, "--port", port_arg, "--port-file",
			    portfile, "--log", fx->log, "--client-ca", root, (char *)NULL);
		else if (extra != NULL)
			execlp("python3", "python3", script, "--cert", cert, "--key",
			    key, "--bind", bind, "--port", port_arg, "--port-file",
			    portfile, "--log", fx->log, extra, (char *)NULL);
		else
			execlp("python3", "python3", script, "--cert", cert, "--key",
			    key, "--bind", bind, "--port", port_arg, "--port-file",
			    portfile, "--log", fx->log, (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	fx->server = pid;
	int got = wait_port_file(portfile, pid);
	if (got <= 0)
		fx->server = 0;
	return got;
}

HELPER int tls_server_start(struct tls_fixture *fx, const char *name,
    const char *bind, const char *extra)
{
	return tls_server_start_on(fx, name, bind, 0, extra);
}

HELPER void tls_server_stop(struct tls_fixture *fx)
{
	stop_pid(&fx->server);
}

#endif
