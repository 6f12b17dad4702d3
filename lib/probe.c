/*
 * probe.c - a bounded SMTP STARTTLS client that records the certificate
 * chain a server presents.  One deadline covers the whole exchange
 * (connect, greeting, EHLO, STARTTLS, handshake, QUIT); every wait is a
 * poll() on a non-blocking socket.  It never verifies the chain: callers
 * hand it to the engine.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include "domsec/cidr.h"
#include "domsec/fmt.h"
#include "domsec/probe.h"

struct conn {
	int fd;
	SSL *ssl;
	long timeout_ms;
	struct timespec deadline;
	const char *stage;          /* for "timeout after N ms during STAGE" */
	char buf[4096];             /* received, not yet consumed */
	size_t len;
	struct ds_probe_result *res;
	char where[160];            /* "127.0.0.1 port 25" */
};

static long ms_left(const struct conn *c)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (c->deadline.tv_sec - now.tv_sec) * 1000 +
	    (c->deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? ms : 0;
}

static void set_error(struct conn *c, int temporary, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_error(struct conn *c, int temporary, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ds_format_truncated(c->res->error, sizeof c->res->error, "%s: %s",
	    c->where, msg);
	c->res->temporary = temporary;
}

static void set_timeout_error(struct conn *c)
{
	ds_format_truncated(c->res->error, sizeof c->res->error,
	    "%s: timeout after %ld ms during %s", c->where, c->timeout_ms,
	    c->stage);
	c->res->temporary = 1;
}

/* Waits for events on the socket; 1 ready, 0 timeout (error set), -1 error. */
static int wait_fd(struct conn *c, short events)
{
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = events };
		long left = ms_left(c);
		int r;
		if (left <= 0) {
			set_timeout_error(c);
			return 0;
		}
		r = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
		if (r > 0)
			return 1;
		if (r == 0)
			continue;            /* loop re-checks the deadline */
		if (errno == EINTR)
			continue;
		set_error(c, 1, "poll failed: %s", strerror(errno));
		return -1;
	}
}

static int do_connect(struct conn *c, const struct sockaddr *sa, socklen_t salen)
{
	int err = 0;
	socklen_t errlen = sizeof err;

	c->stage = "connect";
	c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		set_error(c, 1, "cannot create socket: %s", strerror(errno));
		return -1;
	}
	if (connect(c->fd, sa, salen) == 0)
		return 0;
	if (errno != EINPROGRESS) {
		err = errno;
	} else {
		if (wait_fd(c, POLLOUT) != 1)
			return -1;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &errlen) != 0)
			err = errno;
	}
	if (err == 0)
		return 0;
	if (err == ECONNREFUSED)
		set_error(c, 1, "connection refused");
	else if (err == ETIMEDOUT)
		set_error(c, 1, "connection timed out");
	else
		set_error(c, 1, "cannot connect: %s", strerror(err));
	return -1;
}

/* Clear-text or TLS read into c->buf; 1 data, 0 timeout/eof/error (set). */
static int read_more(struct conn *c)
{
	if (c->len >= sizeof c->buf - 1) {
		set_error(c, 0, "reply line too long during %s", c->stage);
		return 0;
	}
	for (;;) {
		ssize_t n;
		if (c->ssl != NULL) {
			int r = SSL_read(c->ssl, c->buf + c->len,
			    (int)(sizeof c->buf - 1 - c->len));
			if (r > 0) {
				c->len += (size_t)r;
				return 1;
			}
			int e = SSL_get_error(c->ssl, r);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
				if (wait_fd(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT) != 1)
					return 0;
				continue;
			}
			set_error(c, 1, "connection closed by the server during %s",
			    c->stage);
			return 0;
		}
		n = recv(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len, 0);
		if (n > 0) {
			c->len += (size_t)n;
			return 1;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			if (wait_fd(c, POLLIN) != 1)
				return 0;
			continue;
		}
		set_error(c, 1, "connection closed by the server during %s", c->stage);
		return 0;
	}
}

static int write_all(struct conn *c, const char *data, size_t len)
{
	size_t off = 0;

	while (off < len) {
		if (c->ssl != NULL) {
			int r = SSL_write(c->ssl, data + off, (int)(len - off));
			if (r > 0) {
				off += (size_t)r;
				continue;
			}
			int e = SSL_get_error(c->ssl, r);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
				if (wait_fd(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT) != 1)
					return -1;
				continue;
			}
			set_error(c, 1, "cannot send during %s", c->stage);
			return -1;
		}
		ssize_t n = send(c->fd, data + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			if (wait_fd(c, POLLOUT) != 1)
				return -1;
			continue;
		}
		set_error(c, 1, "cannot send: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Reads one complete (possibly multi-line) SMTP reply.  Returns the reply
 * code (100..599) or -1 (error set).  text receives the first line; when
 * keyword is not NULL, *found is set to 1 if some line's text begins with it
 * (the EHLO extension check).
 */
static int read_reply(struct conn *c, char *first, size_t firstlen,
    const char *keyword, int *found)
{
	int code = -1, lines = 0;

	if (first && firstlen)
		first[0] = '\0';
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		if (nl == NULL) {
			if (!read_more(c))
				return -1;
			continue;
		}
		size_t consumed = (size_t)(nl - c->buf) + 1;
		size_t linelen = consumed - 1;
		char line[sizeof c->buf];
		memcpy(line, c->buf, linelen);
		line[linelen] = '\0';
		if (linelen > 0 && line[linelen - 1] == '\r')
			line[--linelen] = '\0';
		memmove(c->buf, c->buf + consumed, c->len - consumed);
		c->len -= consumed;
		if (linelen < 3 || line[0] < '1' || line[0] > '5' ||
		    line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9' ||
		    (linelen > 3 && line[3] != ' ' && line[3] != '-')) {
			set_error(c, 0, "not an SMTP reply during %s", c->stage);
			return -1;
		}
		int this_code = atoi((char[4]){ line[0], line[1], line[2], 0 });
		if (code < 0)
			code = this_code;
		if (lines++ == 0 && first)
			ds_format_truncated(first, firstlen, "%s", line);
		if (keyword && found && linelen > 4) {
			const char *t = line + 4;
			size_t kl = strlen(keyword);
			if (strncasecmp(t, keyword, kl) == 0 &&
			    (t[kl] == '\0' || t[kl] == ' '))
				*found = 1;
		}
		if (linelen == 3 || line[3] == ' ')
			return code;
		if (lines > 200) {
			set_error(c, 0, "reply too long during %s", c->stage);
			return -1;
		}
	}
}

static int command(struct conn *c, const char *stage, const char *cmd,
    char *first, size_t firstlen, const char *keyword, int *found)
{
	char line[600];
	int n;

	c->stage = stage;
	n = snprintf(line, sizeof line, "%s\r\n", cmd);
	if (n < 0 || (size_t)n >= sizeof line) {
		set_error(c, 0, "command too long: %s", stage);
		return -1;
	}
	if (write_all(c, line, (size_t)n) != 0)
		return -1;
	return read_reply(c, first, firstlen, keyword, found);
}

static void reply_error(struct conn *c, int code, const char *what, const char *reply)
{
	set_error(c, code >= 400 && code < 500, "%s: %.150s", what, reply);
}

static int tls_handshake(struct conn *c, SSL_CTX *ctx, const char *host)
{
	unsigned char tmp[16];
	int fam;

	c->stage = "TLS handshake";
	c->ssl = SSL_new(ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		set_error(c, 1, "cannot start TLS");
		return -1;
	}
	/* SNI only for host names, never for address literals. */
	if (host != NULL && host[0] != '\0' && ds_addr_parse(host, &fam, tmp) != 0)
		SSL_set_tlsext_host_name(c->ssl, host);
	/* Bytes the server sent after its 220 would belong to TLS: refuse. */
	if (c->len != 0) {
		set_error(c, 0, "server sent data after its STARTTLS reply");
		return -1;
	}
	for (;;) {
		ERR_clear_error();
		int r = SSL_connect(c->ssl);
		if (r == 1)
			return 0;
		int e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (wait_fd(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT) != 1)
				return -1;
			continue;
		}
		unsigned long oe = ERR_peek_last_error();
		char detail[160];
		if (oe != 0)
			ERR_error_string_n(oe, detail, sizeof detail);
		else
			snprintf(detail, sizeof detail, "connection closed");
		set_error(c, 0, "TLS handshake failed: %s", detail);
		return -1;
	}
}

static SSL_CTX *make_ctx(struct conn *c, const char *cert_file, const char *key_file)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		set_error(c, 1, "cannot create TLS context");
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
	if (cert_file != NULL && cert_file[0] != '\0') {
		const char *kf = key_file && key_file[0] ? key_file : cert_file;
		if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
			set_error(c, 0, "cannot load client certificate %.150s", cert_file);
			SSL_CTX_free(ctx);
			return NULL;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, kf, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			set_error(c, 0, "cannot load client key %.120s (or it does "
			    "not match the certificate)", kf);
			SSL_CTX_free(ctx);
			return NULL;
		}
	}
	return ctx;
}

static STACK_OF(X509) *copy_chain(SSL *ssl)
{
	STACK_OF(X509) *peer = SSL_get_peer_cert_chain(ssl);

	if (peer == NULL || sk_X509_num(peer) == 0)
		return NULL;
	return X509_chain_up_ref(peer);
}

static int parse_address(const char *addr, int port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	unsigned char a[16];
	int fam;

	if (ds_addr_parse(addr, &fam, a) != 0 || port <= 0 || port > 65535)
		return -1;
	memset(ss, 0, sizeof *ss);
	if (fam == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)port);
		memcpy(&s4->sin_addr, a, 4);
		*len = sizeof *s4;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)port);
		memcpy(&s6->sin6_addr, a, 16);
		*len = sizeof *s6;
	}
	return 0;
}

/* The SMTP exchange proper, on a connected socket. */
static int smtp_starttls(struct conn *c, SSL_CTX *ctx, const char *host,
    const char *helo)
{
	char first[256], cmd[300];
	int code, starttls = 0;

	c->stage = "greeting";
	code = read_reply(c, c->res->banner, sizeof c->res->banner, NULL, NULL);
	if (code < 0)
		return -1;
	if (code != 220) {
		reply_error(c, code, "server refused the session", c->res->banner);
		return -1;
	}
	snprintf(cmd, sizeof cmd, "EHLO %s", helo && helo[0] ? helo : "localhost");
	code = command(c, "EHLO", cmd, first, sizeof first, "STARTTLS", &starttls);
	if (code < 0)
		return -1;
	if (code != 250) {
		reply_error(c, code, "EHLO refused", first);
		return -1;
	}
	if (!starttls) {
		command(c, "QUIT", "QUIT", first, sizeof first, NULL, NULL);
		set_error(c, 0, "no STARTTLS offered");
		return -1;
	}
	code = command(c, "STARTTLS", "STARTTLS", first, sizeof first, NULL, NULL);
	if (code < 0)
		return -1;
	if (code != 220) {
		reply_error(c, code, "STARTTLS refused", first);
		return -1;
	}
	if (tls_handshake(c, ctx, host) != 0)
		return -1;
	c->res->chain = copy_chain(c->ssl);
	snprintf(c->res->tls_version, sizeof c->res->tls_version, "%s",
	    SSL_get_version(c->ssl));
	snprintf(c->res->cipher, sizeof c->res->cipher, "%s",
	    SSL_get_cipher_name(c->ssl) ? SSL_get_cipher_name(c->ssl) : "");
	if (c->res->chain == NULL) {
		set_error(c, 0, "server presented no certificate");
		return -1;
	}
	/* Polite end; failures here do not matter, the chain is recorded. */
	c->stage = "QUIT";
	command(c, "QUIT", "QUIT", first, sizeof first, NULL, NULL);
	c->res->error[0] = '\0';
	c->res->temporary = 0;
	return 0;
}

int ds_probe_starttls(const char *addr, int port, const char *host,
    const char *helo, long timeout_ms, const char *client_cert_file,
    const char *client_key_file, struct ds_probe_result *res)
{
	struct conn c;
	struct sockaddr_storage ss;
	socklen_t sslen;
	SSL_CTX *ctx = NULL;
	sigset_t pipe_set, old_set, pending;
	int rc = -1, had_pending_pipe;

	memset(res, 0, sizeof *res);
	memset(&c, 0, sizeof c);
	c.fd = -1;
	c.res = res;
	c.timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
	c.stage = "connect";
	/* "192.0.2.1 port 25" or "mx.example.com [192.0.2.1] port 25" */
	if (host && host[0] && addr && strcmp(host, addr) != 0)
		ds_format_truncated(c.where, sizeof c.where, "%s [%s] port %d",
		    host, addr, port);
	else
		ds_format_truncated(c.where, sizeof c.where, "%s port %d",
		    addr ? addr : "?", port);
	clock_gettime(CLOCK_MONOTONIC, &c.deadline);
	c.deadline.tv_sec += c.timeout_ms / 1000;
	c.deadline.tv_nsec += (c.timeout_ms % 1000) * 1000000;
	if (c.deadline.tv_nsec >= 1000000000) {
		c.deadline.tv_sec++;
		c.deadline.tv_nsec -= 1000000000;
	}

	if (addr == NULL || parse_address(addr, port, &ss, &sslen) != 0) {
		set_error(&c, 0, "not a numeric IPv4/IPv6 address and port");
		return -1;
	}
	ctx = make_ctx(&c, client_cert_file, client_key_file);
	if (ctx == NULL)
		return -1;

	/* OpenSSL writes with write(2): keep a closed peer from killing us
	 * with SIGPIPE, and swallow the signal if one was raised here. */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	had_pending_pipe = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);

	if (do_connect(&c, (struct sockaddr *)&ss, sslen) == 0)
		rc = smtp_starttls(&c, ctx, host, helo);

	if (c.ssl != NULL) {
		SSL_set_quiet_shutdown(c.ssl, 1);
		SSL_shutdown(c.ssl);
		SSL_free(c.ssl);
	}
	if (c.fd >= 0)
		close(c.fd);
	if (!had_pending_pipe) {
		struct timespec zero = { 0, 0 };
		sigpending(&pending);
		if (sigismember(&pending, SIGPIPE))
			sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old_set, NULL);
	SSL_CTX_free(ctx);
	if (rc != 0 && res->chain != NULL) {
		sk_X509_pop_free(res->chain, X509_free);
		res->chain = NULL;
	}
	ERR_clear_error();
	return rc;
}

void ds_probe_result_free(struct ds_probe_result *res)
{
	if (res == NULL)
		return;
	if (res->chain != NULL)
		sk_X509_pop_free(res->chain, X509_free);
	res->chain = NULL;
}
