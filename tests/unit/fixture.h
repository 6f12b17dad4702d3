/*
 * fixture.h - the one compiled fixture every unit test links
 * (tests/unit/fixture.c): the test PKI of tests/pki/README.md built by
 * tests/pki/mkpki.sh in a temporary directory, the real helper servers
 * (tests/crlserver.py, tests/starttls_server.py, tests/dns_server.py) on
 * loopback ports, and small file and process helpers.  Two views of the
 * same code: the plain pki_* / srv_* functions for tests that need one PKI
 * and one CRL server, struct tls_fixture for those that also run a STARTTLS
 * or DNS server.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_TEST_FIXTURE_H
#define DOMSEC_TEST_FIXTURE_H

#include <sys/types.h>
#include <openssl/x509.h>

/* ---- files and processes ---- */

/* $DOMSEC_TOP, or "." (make unit runs at the top of the tree) */
const char *source_top(void);
/* a loopback TCP port that was free a moment ago, -1 on failure */
int free_port(void);
/* 1 when the first 64 KiB of path contain needle */
int file_contains(const char *path, const char *needle);
/* runs argv with stdout and stderr to /dev/null; its exit status or -1 */
int run_quiet(char *const argv[]);
/* waits up to 10 s for a port file written by server pid; the port or -1 */
int wait_port_file(const char *path, pid_t pid);
int write_file(const char *path, const char *text);
int copy_file(const char *from, const char *to);
/* SIGTERM, reaped; *pid becomes 0 */
void stop_pid(pid_t *pid);
/* rm -rf path */
void remove_tree(const char *path);
/* the first output line of a shell command (static buffer), "" on failure */
const char *shell_line(const char *cmd);
/* seconds on the monotonic clock */
double now_s(void);
/* PEM files, in order, as one stack (leaf, intermediate, root); NULL ends */
STACK_OF(X509) *chain_of(const char *a, const char *b, const char *c);

/* ---- the PKI ---- */

/* tests/pki/mkpki.sh into dir (created), CDPs at crl_url; 0 on success */
int fixture_pki_build(const char *dir, const char *crl_url);

/* one PKI per test program, in pki_dir */
extern char pki_dir[256];
/* builds it in a fresh temporary directory; 0 on success */
int pki_build(const char *base_url);
/* a file of the PKI (rotating static buffers) */
const char *pki_path(const char *name);
void pki_remove(void);
/* cmocka group setup and teardown for a test program that needs only the
 * PKI (CDPs at a closed port: nothing is fetched) */
int pki_group_setup(void **state);
int pki_group_teardown(void **state);

/* ---- one CRL server per test program (srv_*) ---- */

extern char srv_dir[256];       /* port file, log, www/ (served) */
extern pid_t srv_pid;
extern int srv_port;
/* starts tests/crlserver.py serving srv_dir/www; 0 once it listens */
int srv_start(void);
void srv_stop(void);
const char *srv_file(const char *name);
const char *srv_url(const char *path);
/* GET /_mode/MODE (ok, 404, 500, garbage, hang, ...); 0 on 200 */
int srv_mode(const char *mode);
/* request-log lines starting with prefix ("GET /inter.crl 200") */
int srv_count(const char *prefix);
void srv_log_clear(void);

/* ---- a PKI with servers around it (struct tls_fixture) ---- */

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

/* the work directory and the PKI, CDPs at a port chosen now */
int tls_fixture_setup(struct tls_fixture *fx);
void tls_fixture_teardown(struct tls_fixture *fx);
/* tests/crlserver.py on fx->crl_port serving fx->pki/crl; the port or -1 */
int crl_server_start(struct tls_fixture *fx);
/* tests/dns_server.py with records "NAME TYPE DATA" (NULL-ended) */
int dns_server_start(struct tls_fixture *fx, const char *const *records);
/*
 * tests/starttls_server.py presenting leaf NAME's chain on bind:port (0: a
 * free one).  extra: NULL, "--client-ca" (asks for a client certificate
 * trusting the test root) or one option ("--hang", "--greeting-code=421").
 * Returns the port, -1 on failure.
 */
int tls_server_start_on(struct tls_fixture *fx, const char *name,
    const char *bind, int port, const char *extra);
int tls_server_start(struct tls_fixture *fx, const char *name,
    const char *bind, const char *extra);
void tls_server_stop(struct tls_fixture *fx);

#endif
