/*
 * bench_policy.c - requests per second through the real domsecd policy
 * service (Postfix check_policy_service, SMTPD_POLICY_README attributes),
 * and domsecd's memory, in one run.
 *
 * Starts $DOMSEC_BUILD/domsecd (default: the build directory above this
 * binary, which `make bench` puts in $(O)/bench/) in the foreground with a
 * generated configuration: PolicySocket on a free 127.0.0.1 port, the test
 * PKI of tests/pki/mkpki.sh (CRLs configured as files, CRL URLs at
 * 127.0.0.1:1, never fetched), woodgrovebank.com a partner whose
 * certificates are pinned, discovery off, logging at the default level
 * (one line per partner verdict) to a file.
 *
 * Then, over 1 and over 4 connections at once (one thread each, each
 * waiting for every answer as a Postfix smtpd does), sends REQUESTS RCPT
 * requests for a non-partner sender and REQUESTS for a partner sender with
 * a TLS client certificate given by ccert_fingerprint (a pinned, valid
 * certificate: answered DUNNO after the full check); first 3000 of each
 * while domsecd's session hand-off tables (8192 entries) are not yet full.
 * Every request names a different client address and port, so every
 * partner request is a fresh decision, not the per-session recall.  Every
 * answer is checked, and one revoked-certificate request must be refused.
 *
 * Prints requests per second and domsecd's VmRSS and peak VmHWM (from
 * /proc/PID/status) after each case, and its VmRSS after start, then stops
 * domsecd (SIGTERM, waitpid) and removes its directory.  Loopback
 * only; every loop is bounded; everything it starts, it stops.
 * Usage: bench_policy [REQUESTS]   (default 20000 per case)
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_REQUESTS 20000L
#define MAX_REQUESTS 1000000L
#define MAX_CONNECTIONS 4
#define START_TIMEOUT_S 20
#define STOP_TIMEOUT_S 10
#define ANSWER_TIMEOUT_S 20

static char work_dir[256];
static pid_t domsecd_pid = -1;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* SIGTERM, then waits at most STOP_TIMEOUT_S (SIGKILL after).  Returns the
 * wait status, or -1. */
static int stop_domsecd(void)
{
	int status = -1;
	double deadline;

	if (domsecd_pid <= 0)
		return -1;
	kill(domsecd_pid, SIGTERM);
	deadline = now_s() + STOP_TIMEOUT_S;
	for (;;) {
		pid_t r = waitpid(domsecd_pid, &status, WNOHANG);
		if (r == domsecd_pid || (r < 0 && errno != EINTR))
			break;
		if (now_s() > deadline) {
			fprintf(stderr, "bench_policy: domsecd did not stop within "
			    "%d s of SIGTERM; killing it\n", STOP_TIMEOUT_S);
			kill(domsecd_pid, SIGKILL);
			waitpid(domsecd_pid, &status, 0);
			status = -1;
			break;
		}
		usleep(20000);
	}
	domsecd_pid = -1;
	return status;
}

static void remove_work_dir(void)
{
	char cmd[512];
	if (work_dir[0] == '\0')
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", work_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_policy: could not remove %s\n", work_dir);
	work_dir[0] = '\0';
}

static void cleanup(void)
{
	stop_domsecd();
	remove_work_dir();
}

static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "bench_policy: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (work_dir[0] != '\0') {
		char cmd[512];
		snprintf(cmd, sizeof cmd, "tail -n 5 '%s/domsecd.log' >&2 "
		    "2>/dev/null", work_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "(no domsecd log)\n");
	}
	cleanup();
	exit(1);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0)
		die("cannot write %s", path);
}

/* A loopback port nobody listens on right now. */
static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		die("cannot find a free loopback port: %s", strerror(errno));
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int connect_port(int port)
{
	struct sockaddr_in a;
	struct timeval tv = { ANSWER_TIMEOUT_S, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	return fd;
}

/* The domsecd binary: $DOMSEC_BUILD/domsecd, else ../domsecd from here. */
static void find_domsecd(const char *argv0, char *out, size_t outlen)
{
	const char *build = getenv("DOMSEC_BUILD");
	char self[512], *dir;
	ssize_t n;

	if (build != NULL && build[0] != '\0') {
		snprintf(out, outlen, "%s/domsecd", build);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0)
		self[n] = '\0';
	else
		snprintf(self, sizeof self, "%s", argv0);
	dir = dirname(dirname(self));
	snprintf(out, outlen, "%s/domsecd", dir);
}

/* Reads one "Key:   value kB" line of /proc/PID/status; -1 if absent. */
static long proc_status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	long kb = -1;
	size_t keylen = strlen(key);
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, key, keylen) == 0 && line[keylen] == ':') {
			kb = strtol(line + keylen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

/* ---- the fixture ---- */

static char fp_good[128], fp_revoked[128];
static int policy_port;

/* "AB:CD:..." from the openssl command, as Postfix would send it with
 * smtpd_tls_fingerprint_digest = sha256. */
static void fingerprint_of(const char *leaf, char *out, size_t outlen)
{
	char cmd[1024], line[256];
	FILE *p;
	char *eq;

	snprintf(cmd, sizeof cmd, "openssl x509 -in '%s/pki/%s.pem' -noout "
	    "-fingerprint -sha256", work_dir, leaf);
	p = popen(cmd, "r");
	if (p == NULL || fgets(line, sizeof line, p) == NULL)
		die("cannot read the fingerprint of %s", leaf);
	pclose(p);
	line[strcspn(line, "\r\n")] = '\0';
	eq = strchr(line, '=');
	if (eq == NULL)
		die("unexpected openssl output: %s", line);
	snprintf(out, outlen, "%s", eq + 1);
}

static void make_fixture(void)
{
	const char *top = getenv("DOMSEC_TOP");
	char cmd[4096], path[512], conf[8192];

	snprintf(work_dir, sizeof work_dir, "%s/bench_policy.XXXXXX",
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
	fingerprint_of("exact", fp_good, sizeof fp_good);
	fingerprint_of("revoked", fp_revoked, sizeof fp_revoked);
	snprintf(path, sizeof path, "%s/partners", work_dir);
	write_file(path, "woodgrovebank.com mode=enforce revocation=require\n");
	policy_port = free_port();
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
	    "PolicySocket inet:127.0.0.1:%2$d\n"
	    "Syslog no\n"
	    "Discovery no\n"
	    "AuthservID mx.contoso.com\n"
	    "HeloName mx.contoso.com\n", work_dir, policy_port);
	snprintf(path, sizeof path, "%s/domsec.conf", work_dir);
	write_file(path, conf);
}

static void start_domsecd(const char *domsecd)
{
	char conf[512], log[512];
	double deadline;
	int fd;

	if (access(domsecd, X_OK) != 0)
		die("%s is not there (build it, or set DOMSEC_BUILD)", domsecd);
	snprintf(conf, sizeof conf, "%s/domsec.conf", work_dir);
	snprintf(log, sizeof log, "%s/domsecd.log", work_dir);
	fflush(NULL);
	domsecd_pid = fork();
	if (domsecd_pid < 0)
		die("fork: %s", strerror(errno));
	if (domsecd_pid == 0) {
		int out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (out >= 0) {
			dup2(out, 1);
			dup2(out, 2);
			close(out);
		}
		execl(domsecd, "domsecd", "-f", "-c", conf, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", domsecd, strerror(errno));
		_exit(127);
	}
	deadline = now_s() + START_TIMEOUT_S;
	for (;;) {
		int status;
		if (waitpid(domsecd_pid, &status, WNOHANG) == domsecd_pid) {
			domsecd_pid = -1;
			die("domsecd exited at start (status %d)", status);
		}
		fd = connect_port(policy_port);
		if (fd >= 0) {
			close(fd);
			return;
		}
		if (now_s() > deadline)
			die("domsecd's policy socket 127.0.0.1:%d did not open "
			    "within %d s", policy_port, START_TIMEOUT_S);
		usleep(20000);
	}
}

/* ---- the clients ---- */

enum sender_kind { SENDER_STRANGER, SENDER_PARTNER, SENDER_REVOKED };

/* One RCPT request, as Postfix smtpd sends it; each (conn, i) a different
 * client address and port, so that no answer comes from the per-session
 * recall (conn counts connections over all cases). */
static int format_request(char *buf, size_t len, enum sender_kind kind,
    int conn, long i)
{
	const char *sender = kind == SENDER_STRANGER ? "bob@example.net"
	    : "alice@woodgrovebank.com";
	const char *fp = kind == SENDER_REVOKED ? fp_revoked : fp_good;

	return snprintf(buf, len,
	    "request=smtpd_access_policy\n"
	    "protocol_state=RCPT\n"
	    "protocol_name=ESMTP\n"
	    "client_address=10.%d.%ld.%ld\n"
	    "client_name=mail.example.test\n"
	    "reverse_client_name=mail.example.test\n"
	    "client_port=%ld\n"
	    "helo_name=mail.example.test\n"
	    "sender=%s\n"
	    "recipient=carol@contoso.com\n"
	    "recipient_count=0\n"
	    "queue_id=\n"
	    "instance=%x.%lx\n"
	    "size=0\n"
	    "etrn_domain=\n"
	    "stress=\n"
	    "sasl_method=\n"
	    "sasl_username=\n"
	    "sasl_sender=\n"
	    "ccert_subject=woodgrovebank.com\n"
	    "ccert_issuer=domsec Test Issuing CA\n"
	    "ccert_fingerprint=%s\n"
	    "ccert_pubkey_fingerprint=\n"
	    "encryption_protocol=TLSv1.3\n"
	    "encryption_cipher=TLS_AES_256_GCM_SHA384\n"
	    "encryption_keysize=256\n"
	    "policy_context=\n"
	    "server_address=127.0.0.1\n"
	    "server_port=25\n"
	    "\n",
	    conn, (i / 250) % 250, i % 250, 1024 + i % 60000, sender,
	    (unsigned)conn, (unsigned long)i, fp);
}

/* Reads one answer (lines up to an empty line) into ans.  0 or -1. */
static int read_answer(int fd, char *ans, size_t len)
{
	size_t have = 0;

	while (have + 1 < len) {
		ssize_t n = recv(fd, ans + have, len - 1 - have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		have += (size_t)n;
		ans[have] = '\0';
		if (have >= 2 && strcmp(ans + have - 2, "\n\n") == 0)
			return 0;
	}
	return -1;
}

struct client {
	pthread_t thread;
	int conn;
	enum sender_kind kind;
	long requests;
	const char *expect;         /* answer prefix */
	long answered;
	char problem[256];
};

static void *client_main(void *arg)
{
	struct client *c = arg;
	char req[2048], ans[1024];
	int fd = connect_port(policy_port);

	if (fd < 0) {
		snprintf(c->problem, sizeof c->problem, "cannot connect: %s",
		    strerror(errno));
		return NULL;
	}
	for (long i = 0; i < c->requests; i++) {
		int n = format_request(req, sizeof req, c->kind, c->conn, i);
		if (n < 0 || (size_t)n >= sizeof req ||
		    send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
			snprintf(c->problem, sizeof c->problem, "request %ld: "
			    "cannot send", i);
			break;
		}
		if (read_answer(fd, ans, sizeof ans) != 0) {
			snprintf(c->problem, sizeof c->problem, "request %ld: no "
			    "answer within %d s", i, ANSWER_TIMEOUT_S);
			break;
		}
		if (strncmp(ans, c->expect, strlen(c->expect)) != 0) {
			ans[strcspn(ans, "\n")] = '\0';
			snprintf(c->problem, sizeof c->problem, "request %ld: "
			    "answer \"%.100s\", expected \"%s\"", i, ans, c->expect);
			break;
		}
		c->answered++;
	}
	close(fd);
	return NULL;
}

/* Sends `total` requests over `conns` connections; returns requests/s. */
static double run_case(enum sender_kind kind, int conns, long total,
    const char *expect)
{
	static int cases_run;   /* each case its own client addresses */
	struct client c[MAX_CONNECTIONS];
	double start, elapsed;
	long answered = 0;

	memset(c, 0, sizeof c);
	start = now_s();
	for (int k = 0; k < conns; k++) {
		c[k].conn = cases_run * MAX_CONNECTIONS + k;
		c[k].kind = kind;
		c[k].requests = total / conns;
		c[k].expect = expect;
		if (pthread_create(&c[k].thread, NULL, client_main, &c[k]) != 0)
			die("cannot start a client thread");
	}
	for (int k = 0; k < conns; k++)
		pthread_join(c[k].thread, NULL);
	cases_run++;
	elapsed = now_s() - start;
	for (int k = 0; k < conns; k++) {
		if (c[k].problem[0] != '\0')
			die("connection %d: %s", k, c[k].problem);
		answered += c[k].answered;
	}
	return (double)answered / elapsed;
}

/* The cases, in the order they run.  The first two stay below the 8192
 * entries of domsecd's session hand-off tables (one entry per client
 * address and port, kept 10 minutes); the later ones run with the tables
 * full, as on a server that sees more than 8192 sessions in 10 minutes. */
struct bench_case {
	const char *what;
	enum sender_kind kind;
	int conns;
	long requests;          /* 0 = the count given on the command line */
	double per_second;
	long rss_after_kb;
	long hwm_after_kb;
};

static struct bench_case cases[] = {
	{ "non-partner, 1 conn., tables not full (3000)", SENDER_STRANGER, 1, 3000, 0, 0, 0 },
	{ "partner, 1 conn., tables not full (3000)", SENDER_PARTNER, 1, 3000, 0, 0, 0 },
	{ "non-partner sender, 1 connection", SENDER_STRANGER, 1, 0, 0, 0, 0 },
	{ "partner, pinned cert (full check), 1 connection", SENDER_PARTNER, 1, 0, 0, 0, 0 },
	{ "non-partner sender, 4 connections", SENDER_STRANGER, 4, 0, 0, 0, 0 },
	{ "partner, pinned cert (full check), 4 connections", SENDER_PARTNER, 4, 0, 0, 0, 0 },
};
#define N_CASES (sizeof cases / sizeof cases[0])

int main(int argc, char **argv)
{
	char domsecd[600];
	long requests = DEFAULT_REQUESTS, rss_start, hwm;
	int status;

	if (argc > 1) {
		requests = strtol(argv[1], NULL, 10);
		if (requests < 4 || requests > MAX_REQUESTS) {
			fprintf(stderr, "usage: bench_policy [REQUESTS (4..%ld)]\n",
			    MAX_REQUESTS);
			return 64;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	find_domsecd(argv[0], domsecd, sizeof domsecd);
	make_fixture();
	start_domsecd(domsecd);
	rss_start = proc_status_kb(domsecd_pid, "VmRSS");

	/* The partner path is really taken: a revoked pinned certificate is
	 * refused (a good one and a non-partner both get DUNNO). */
	run_case(SENDER_REVOKED, 1, 1, "action=550 5.7.1");

	for (size_t k = 0; k < N_CASES; k++) {
		struct bench_case *c = &cases[k];
		long n = c->requests ? c->requests : requests;
		c->per_second = run_case(c->kind, c->conns, n, "action=DUNNO\n");
		c->rss_after_kb = proc_status_kb(domsecd_pid, "VmRSS");
		c->hwm_after_kb = proc_status_kb(domsecd_pid, "VmHWM");
	}
	hwm = proc_status_kb(domsecd_pid, "VmHWM");
	status = stop_domsecd();

	printf("domsecd %s, policy service on 127.0.0.1:%d, %ld requests per "
	    "case unless shown, one answer awaited per request (as Postfix "
	    "smtpd does), every request a new client address and port\n",
	    domsecd, policy_port, requests);
	printf("%-50s %11s %11s %11s\n", "case", "requests/s", "VmRSS kB",
	    "VmHWM kB");
	for (size_t k = 0; k < N_CASES; k++)
		printf("%-50s %11.0f %11ld %11ld\n", cases[k].what,
		    cases[k].per_second, cases[k].rss_after_kb,
		    cases[k].hwm_after_kb);
	printf("domsecd memory: VmRSS %ld kB after start, peak VmHWM %ld kB\n",
	    rss_start, hwm);
	if (status < 0)
		printf("domsecd stopped: killed after %d s\n", STOP_TIMEOUT_S);
	else if (WIFEXITED(status))
		printf("domsecd stopped: SIGTERM, exit status %d\n",
		    WEXITSTATUS(status));
	else
		printf("domsecd stopped: SIGTERM, killed by signal %d\n",
		    WIFSIGNALED(status) ? WTERMSIG(status) : -1);
	remove_work_dir();
	return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
