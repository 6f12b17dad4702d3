/*
 * mailsend.c - the sending MTA of make bench-mail: a fast SMTP client that
 * speaks STARTTLS with a client certificate (as a partner's Postfix does),
 * runs several connections in parallel and sends K messages on each
 * (MAIL, RCPT and DATA pipelined, as Postfix's smtp client does).  Every
 * message looks like real mail: about 20 header fields and a few KB of
 * body, a unique Message-Id.  It prints one line:
 *
 *   sent=N refused=R failed=F seconds=S
 *
 * (sent: 250 after the final dot; refused: any 4xx/5xx reply).  A benchmark
 * tool, not a test: it asserts nothing.
 *
 * usage: mailsend -p PORT -c CONNS -k MSGS_PER_CONN -n CONN_ROUNDS
 *                 -C CERT -K KEY -f SENDER -F FROM_HEADER -r RCPT
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

static int opt_port, opt_conns = 4, opt_k = 20, opt_rounds = 5;
static const char *opt_cert, *opt_key, *opt_sender = "a@example.org",
    *opt_from = NULL, *opt_rcpt = "b@contoso.com";
static SSL_CTX *ctx;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long n_sent, n_refused, n_failed;

struct conn {
	int fd;
	SSL *ssl;
	char buf[8192];
	size_t have;
};

static int c_write(struct conn *c, const char *p, size_t n)
{
	while (n > 0) {
		int w = c->ssl != NULL ? SSL_write(c->ssl, p, (int)n) :
		    (int)write(c->fd, p, n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One SMTP reply (multi-line folded); returns its code or -1. */
static int c_reply(struct conn *c)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->have);
		while (nl != NULL) {
			size_t len = (size_t)(nl - c->buf) + 1;
			int last = len >= 4 && c->buf[3] != '-';
			int code = atoi(c->buf);
			memmove(c->buf, c->buf + len, c->have - len);
			c->have -= len;
			if (last)
				return code;
			nl = memchr(c->buf, '\n', c->have);
		}
		if (c->have == sizeof c->buf)
			return -1;
		int r = c->ssl != NULL ? SSL_read(c->ssl, c->buf + c->have,
		    (int)(sizeof c->buf - c->have)) :
		    (int)read(c->fd, c->buf + c->have, sizeof c->buf - c->have);
		if (r <= 0)
			return -1;
		c->have += (size_t)r;
	}
}

static int c_cmd(struct conn *c, const char *line)
{
	if (c_write(c, line, strlen(line)) < 0)
		return -1;
	return c_reply(c);
}

static const char body_line[] = "Lorem ipsum dolor sit amet, consectetur "
    "adipiscing elit, sed do eiusmod tempor incididunt ut labore et.\r\n";

/* A message of about 20 header fields and ~3 KB, dot-terminated. */
static int message(char *out, size_t outlen, long seq, int tid)
{
	int n = snprintf(out, outlen,
	    "Received: from laptop.example.org (laptop.example.org "
	    "[192.0.2.7])\r\n\tby smtp.example.org (Postfix) with ESMTPSA "
	    "id 4Qx%05ld\r\n\tfor <%s>; Sun, 29 Nov 2026 10:00:00 +0000\r\n"
	    "Received: by laptop.example.org (Postfix, from userid 1000)\r\n"
	    "\tid 4Qy%05ld; Sun, 29 Nov 2026 09:59:59 +0000\r\n"
	    "Return-Path: <%s>\r\n"
	    "From: Alice Example <%s>\r\n"
	    "To: Bob Contoso <%s>\r\n"
	    "Cc: Carol Contoso <carol@contoso.com>\r\n"
	    "Subject: Quarterly figures, draft %ld\r\n"
	    "Date: Sun, 29 Nov 2026 09:59:58 +0000\r\n"
	    "Message-ID: <bench-%d-%ld@example.org>\r\n"
	    "In-Reply-To: <prev-%d-%ld@contoso.com>\r\n"
	    "References: <first-%d@contoso.com> <prev-%d-%ld@contoso.com>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8; format=flowed\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n"
	    "User-Agent: Mozilla/5.0 Thunderbird/115.0\r\n"
	    "Content-Language: en-GB\r\n"
	    "X-Mailer: bench-mailsend\r\n"
	    "Thread-Topic: Quarterly figures\r\n"
	    "Organization: Example Org\r\n"
	    "List-Unsubscribe: <mailto:unsubscribe@example.org>\r\n"
	    "X-Priority: 3\r\n"
	    "\r\n",
	    seq, opt_rcpt, seq, opt_sender, opt_from, opt_rcpt, seq, tid, seq,
	    tid, seq, tid, tid, seq);
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	for (int i = 0; i < 28; i++) {
		size_t l = sizeof body_line - 1;
		if ((size_t)n + l + 8 >= outlen)
			return -1;
		memcpy(out + n, body_line, l);
		n += (int)l;
	}
	memcpy(out + n, ".\r\n", 4);
	return n + 3;
}

static int c_open(struct conn *c)
{
	struct sockaddr_in sin;
	int one = 1;

	memset(c, 0, sizeof *c);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)opt_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof sin) != 0)
		return -1;
	if (c_reply(c) != 220 || c_cmd(c, "EHLO mail.bench.test\r\n") != 250 ||
	    c_cmd(c, "STARTTLS\r\n") != 220)
		return -1;
	c->ssl = SSL_new(ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_connect(c->ssl) != 1)
		return -1;
	c->have = 0;
	return c_cmd(c, "EHLO mail.bench.test\r\n") == 250 ? 0 : -1;
}

static void c_close(struct conn *c)
{
	if (c->ssl != NULL) {
		c_cmd(c, "QUIT\r\n");
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
}

static void tally(long *counter)
{
	pthread_mutex_lock(&lock);
	(*counter)++;
	pthread_mutex_unlock(&lock);
}

static void *worker(void *arg)
{
	int tid = (int)(long)arg;
	static __thread char msg[16384];
	char env[1200];
	long seq = 0;

	for (int round = 0; round < opt_rounds; round++) {
		struct conn c;
		if (c_open(&c) < 0) {
			c_close(&c);
			for (int i = 0; i < opt_k; i++)
				tally(&n_failed);
			continue;
		}
		for (int i = 0; i < opt_k; i++) {
			int m = message(msg, sizeof msg, ++seq, tid);
			int n = snprintf(env, sizeof env, "MAIL FROM:<%s>\r\n"
			    "RCPT TO:<%s>\r\nDATA\r\n", opt_sender, opt_rcpt);
			int r1, r2, r3, r4 = -1;
			if (m < 0 || n < 0 || c_write(&c, env, (size_t)n) < 0) {
				tally(&n_failed);
				continue;
			}
			r1 = c_reply(&c);
			r2 = c_reply(&c);
			r3 = c_reply(&c);
			if (r3 == 354) {
				if (c_write(&c, msg, (size_t)m) == 0)
					r4 = c_reply(&c);
			}
			int lost = r1 < 0 || r2 < 0 || r3 < 0 ||
			    (r3 == 354 && r4 < 0);
			if (r4 == 250)
				tally(&n_sent);
			else
				tally(lost ? &n_failed : &n_refused);
			if (lost)
				break;
			if (r4 != 250 && c_cmd(&c, "RSET\r\n") != 250)
				break;
		}
		c_close(&c);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[256];
	struct timespec a, b;
	int o;

	while ((o = getopt(argc, argv, "p:c:k:n:C:K:f:F:r:")) != -1) {
		switch (o) {
		case 'p': opt_port = atoi(optarg); break;
		case 'c': opt_conns = atoi(optarg); break;
		case 'k': opt_k = atoi(optarg); break;
		case 'n': opt_rounds = atoi(optarg); break;
		case 'C': opt_cert = optarg; break;
		case 'K': opt_key = optarg; break;
		case 'f': opt_sender = optarg; break;
		case 'F': opt_from = optarg; break;
		case 'r': opt_rcpt = optarg; break;
		default:
			fprintf(stderr, "usage: mailsend -p PORT [-c CONNS] "
			    "[-k MSGS] [-n ROUNDS] [-C CERT -K KEY] "
			    "[-f SENDER] [-F FROM] [-r RCPT]\n");
			return 2;
		}
	}
	if (opt_from == NULL)
		opt_from = opt_sender;
	if (opt_port <= 0 || opt_conns < 1 || opt_conns > 256) {
		fprintf(stderr, "mailsend: -p PORT required, 1..256 "
		    "connections\n");
		return 2;
	}
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL || (opt_cert != NULL &&
	    (SSL_CTX_use_certificate_chain_file(ctx, opt_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, opt_key,
	    SSL_FILETYPE_PEM) != 1))) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < opt_conns; i++)
		pthread_create(&t[i], NULL, worker, (void *)(long)i);
	for (int i = 0; i < opt_conns; i++)
		pthread_join(t[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("sent=%ld refused=%ld failed=%ld seconds=%.3f\n", n_sent,
	    n_refused, n_failed, (double)(b.tv_sec - a.tv_sec) +
	    (b.tv_nsec - a.tv_nsec) / 1e9);
	SSL_CTX_free(ctx);
	return 0;
}
