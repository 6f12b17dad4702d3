/*
 * milter.c - the libmilter callbacks of domsecd (see milter.h): pure
 * translation.  Each callback turns what libmilter hands over (macros,
 * envelope, headers) into calls on the connection's core session
 * (domsec/session.h) and the core's answer into libmilter's vocabulary
 * (SMFIS_*, smfi_setreply, smfi_chgheader, smfi_insheader).  No verdict,
 * partner or mode is looked at here.
 *
 * Only the MTA may talk to us: at connect, the peer of the milter
 * connection is checked (SO_PEERCRED users for a unix socket, PeerAddresses
 * for inet), see peer_fd().
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <libmilter/mfapi.h>
#include "domsec/generation.h"
#include "domsec/listen.h"
#include "domsec/log.h"
#include "domsec/peer.h"
#include "domsec/postfix_audit.h"
#include "domsec/session.h"
#include "milter.h"
#include "mtafacts.h"
#include "negotiate.h"

static int milter_check_peers;
static struct sockaddr_storage milter_addr;     /* our listening socket */
static socklen_t milter_addrlen;
static pthread_mutex_t active_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t active_zero = PTHREAD_COND_INITIALIZER;
static int active_sessions;

static const char *getter(void *arg, const char *name)
{
	return smfi_getsymval((SMFICTX *)arg, (char *)name);
}

/* smfi_setreply text: one line, '%' doubled (Sendmail treats it as a
 * format), at most DS_REPLY_TEXT_MAX characters of it (SMTP reply lines end
 * at 512 bytes). */
static void reply_text(char *out, size_t outlen, const char *text)
{
	size_t o = 0, used = 0;

	for (const char *p = text; *p != '\0' && o + 2 < outlen
	    && used < DS_REPLY_TEXT_MAX; p++, used++) {
		unsigned char c = (unsigned char)*p;
		if (c == '%') {
			out[o++] = '%';
			out[o++] = '%';
		} else {
			out[o++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
		}
	}
	out[o] = '\0';
}

/* The core's answer in libmilter's vocabulary. */
static sfsistat translate(SMFICTX *ctx, const struct ds_answer *a)
{
	char text[sizeof a->reply.text * 2];

	if (a->step == DS_STEP_CONTINUE)
		return SMFIS_CONTINUE;
	if (a->step == DS_STEP_ACCEPT)
		return SMFIS_ACCEPT;   /* no further step of this message */
	reply_text(text, sizeof text, a->reply.text);
	if (smfi_setreply(ctx, (char *)a->reply.rcode, (char *)a->reply.xcode,
	    text) != MI_SUCCESS)
		ds_log(LOG_WARNING, "milter: the MTA did not take reply \"%s %s "
		    "%s\"", a->reply.rcode, a->reply.xcode, text);
	return a->step == DS_STEP_TEMPFAIL ? SMFIS_TEMPFAIL : SMFIS_REJECT;
}

static const char *queue_id(SMFICTX *ctx)
{
	const char *i = smfi_getsymval(ctx, "i");
	return i != NULL && i[0] != '\0' ? i : "";
}

/*
 * The descriptor of this milter connection.  libmilter keeps it in its
 * context (struct smfi_str: ctx_id, then ctx_sd, unchanged since libmilter
 * 8.12) but offers no call for it; the descriptor is used only after
 * checking that it is a socket whose local address is our listening
 * socket's, so a different layout is detected, never trusted.
 */
struct milter_ctx_head {
	pthread_t id;
	int sd;
};

static int peer_fd(SMFICTX *ctx)
{
	const struct milter_ctx_head *head = (const void *)ctx;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	int fd = head->sd;

	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
	    ss.ss_family != milter_addr.ss_family)
		return -1;
	if (ss.ss_family == AF_UNIX) {
		const struct sockaddr_un *a = (const void *)&ss;
		const struct sockaddr_un *b = (const void *)&milter_addr;
		return strcmp(a->sun_path, b->sun_path) == 0 ? fd : -1;
	}
	if (ss.ss_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)&ss)->sin_port ==
		    ((const struct sockaddr_in *)(const void *)&milter_addr)->sin_port
		    ? fd : -1;
	if (ss.ss_family == AF_INET6)
		return ((const struct sockaddr_in6 *)(const void *)&ss)->sin6_port ==
		    ((const struct sockaddr_in6 *)(const void *)&milter_addr)->sin6_port
		    ? fd : -1;
	return -1;
}

/* A milter connection: the configuration generation it started with (kept
 * until it closes, across reloads), its core session and the protocol
 * steps negotiated (SMFIP_NR_*: those callbacks return SMFIS_NOREPLY). */
struct conn {
	struct ds_generation *g;
	struct ds_session *s;
	unsigned long steps;
	int tcp_fd;          /* the milter connection over TCP, else -1 */
};

/* What a callback of a step that never answers but "continue" returns;
 * over TCP the step is acknowledged at once (see negotiate.h). */
static sfsistat no_reply(SMFICTX *ctx, unsigned long bit)
{
	const struct conn *c = smfi_getpriv(ctx);

	if (c == NULL || (c->steps & bit) == 0)
		return SMFIS_CONTINUE;
	ds_milter_ack_now(c->tcp_fd);
	return SMFIS_NOREPLY;
}

/* Option negotiation (before connect): the connection's state starts here
 * so that every callback knows which steps expect no reply. */
static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0,
    unsigned long f1, unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct conn *c = calloc(1, sizeof *c);

	(void)f2;
	(void)f3;
	if (c == NULL || smfi_setpriv(ctx, c) != MI_SUCCESS) {
		free(c);
		ds_log(LOG_ERR, "milter: out of memory at negotiation");
		return SMFIS_REJECT;
	}
	c->tcp_fd = milter_addr.ss_family != AF_UNIX ? peer_fd(ctx) : -1;
	ds_milter_tcp_setup(c->tcp_fd);
	return ds_milter_negotiate(ctx, f0, f1, pf0, pf1, pf2, pf3, &c->steps);
}

static struct ds_session *session_of(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);
	return c != NULL ? c->s : NULL;
}

/* The SMTP client's address and port: macros first, then hostaddr. */
static void client_of(SMFICTX *ctx, _SOCK_ADDR *hostaddr, char *addr,
    size_t addrlen, int *port)
{
	const char *a = smfi_getsymval(ctx, "{client_addr}");
	const char *p = smfi_getsymval(ctx, "{client_port}");

	addr[0] = '\0';
	*port = -1;
	if (a != NULL && a[0] != '\0')
		snprintf(addr, addrlen, "%s", a);
	if (p != NULL && p[0] != '\0') {
		char *end;
		long v = strtol(p, &end, 10);
		if (*end == '\0' && v >= 0 && v <= 65535)
			*port = (int)v;
	}
	if (hostaddr == NULL)
		return;
	if (hostaddr->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)hostaddr;
		if (addr[0] == '\0')
			inet_ntop(AF_INET, &sin->sin_addr, addr, (socklen_t)addrlen);
		if (*port < 0)
			*port = ntohs(sin->sin_port);
	} else if (hostaddr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)hostaddr;
		if (addr[0] == '\0')
			inet_ntop(AF_INET6, &sin6->sin6_addr, addr, (socklen_t)addrlen);
		if (*port < 0)
			*port = ntohs(sin6->sin6_port);
	}
}

static sfsistat cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct conn *c = smfi_getpriv(ctx);
	char addr[64];
	int port, fd;

	(void)hostname;
	if (c == NULL || c->g != NULL ||
	    (c->g = ds_generation_acquire()) == NULL) {
		ds_log(LOG_ERR, "milter: no configuration loaded (or out of "
		    "memory) at connect");
		return SMFIS_TEMPFAIL;
	}
	if (milter_check_peers) {
		fd = peer_fd(ctx);
		if (fd < 0) {
			ds_log(LOG_ERR, "milter: cannot find this connection's socket "
			    "in libmilter's context, so its peer cannot be checked; "
			    "refusing it");
			ds_generation_release(c->g);
			c->g = NULL;
			return SMFIS_TEMPFAIL;
		}
		if (!ds_peer_admit(&c->g->peers, fd, "milter")) {
			ds_generation_release(c->g);
			c->g = NULL;
			shutdown(fd, SHUT_RDWR);
			return SMFIS_TEMPFAIL;
		}
	}
	client_of(ctx, hostaddr, addr, sizeof addr, &port);
	c->s = ds_session_open(c->g->core, addr, port);
	if (c->s == NULL) {
		ds_log(LOG_ERR, "milter: out of memory at connect");
		ds_generation_release(c->g);
		c->g = NULL;
		return SMFIS_TEMPFAIL;
	}
	ds_session_mta(c->s, smfi_getsymval(ctx, "v"),
	    smfi_getsymval(ctx, DS_PF_HC_MACRO));
	pthread_mutex_lock(&active_lock);
	active_sessions++;
	pthread_mutex_unlock(&active_lock);
	ds_log(LOG_DEBUG, "milter: connect from %s[%d]", addr, port);
	return SMFIS_CONTINUE;
}

/* The TLS facts the macros visible now give. */
static void macro_facts(SMFICTX *ctx, struct ds_session *s, const char *helo)
{
	struct ds_facts f;

	ds_facts_init(&f);
	if (helo != NULL)
		snprintf(f.helo, sizeof f.helo, "%s", helo);
	ds_facts_from_macros(&f, getter, ctx);
	ds_session_facts(s, &f);
}

static sfsistat cb_helo(SMFICTX *ctx, char *helo)
{
	struct ds_session *s = session_of(ctx);

	if (s != NULL)
		macro_facts(ctx, s, helo != NULL ? helo : "");
	return no_reply(ctx, SMFIP_NR_HELO);
}

/* The envelope sender without its angle brackets. */
static void bare_sender(const char *arg, char *out, size_t outlen)
{
	size_t n;

	snprintf(out, outlen, "%s", arg != NULL ? arg : "");
	n = strlen(out);
	if (n >= 2 && out[0] == '<' && out[n - 1] == '>') {
		memmove(out, out + 1, n - 2);
		out[n - 2] = '\0';
	}
}

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct ds_session *s = session_of(ctx);
	struct ds_answer a;
	char sender[512];

	if (s == NULL)
		return SMFIS_CONTINUE;
	/* The MAIL macros carry the TLS facts too (Sendmail re-sends them;
	 * Postfix when HELO macros were not configured). */
	if (smfi_getsymval(ctx, "{tls_version}") != NULL ||
	    ds_session_own_facts(s)->tls == -1)
		macro_facts(ctx, s, NULL);
	bare_sender(argv != NULL ? argv[0] : NULL, sender, sizeof sender);
	ds_session_mail(s, sender, &a);
	return translate(ctx, &a);
}

static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct ds_session *s = session_of(ctx);
	struct ds_answer a;

	(void)argv;
	if (s == NULL)
		return SMFIS_CONTINUE;
	ds_session_rcpt(s, &a);
	return translate(ctx, &a);
}

/* Headers are only counted: the forged header cap refuses at end of
 * message, so this step never answers (SMFIP_NR_HDR). */
static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct ds_session *s = session_of(ctx);
	struct ds_answer a;

	if (s != NULL)
		ds_session_header(s, name, value, &a);
	return no_reply(ctx, SMFIP_NR_HDR);
}

static sfsistat cb_eom(SMFICTX *ctx)
{
	struct ds_session *s = session_of(ctx);
	const char *qid = queue_id(ctx);
	struct ds_answer a;
	struct ds_edits e;

	if (s == NULL)
		return SMFIS_CONTINUE;
	ds_session_eom(s, qid, &a, &e);
	if (a.step == DS_STEP_REJECT || a.step == DS_STEP_TEMPFAIL)
		return translate(ctx, &a);
	/* A forged trust header the MTA would not remove must not end up
	 * beside ours (or survive on its own): defer the message. */
	for (size_t i = 0; i < e.n_remove; i++)
		if (smfi_chgheader(ctx, (char *)e.remove[i].name, e.remove[i].index,
		    NULL) != MI_SUCCESS) {
			ds_log(LOG_ERR, "%s: milter: the MTA refused to remove header "
			    "%s instance %d; deferring the message", qid[0] ? qid : "-",
			    e.remove[i].name, e.remove[i].index);
			return SMFIS_TEMPFAIL;
		}
	/* Each at index 0: the last inserted ends on top. */
	for (size_t i = 0; i < e.n_add; i++) {
		if (smfi_insheader(ctx, 0, e.add[i].name, e.add[i].value)
		    != MI_SUCCESS) {
			ds_log(LOG_ERR, "%s: milter: the MTA refused to add header %s",
			    qid[0] ? qid : "-", e.add[i].name);
			continue;
		}
		ds_log(LOG_INFO, "%s: added %s: %s", qid[0] ? qid : "-",
		    e.add[i].name, e.add[i].value);
	}
	return SMFIS_CONTINUE;
}

static sfsistat cb_abort(SMFICTX *ctx)
{
	struct ds_session *s = session_of(ctx);

	if (s != NULL)
		ds_session_abort(s);
	return SMFIS_CONTINUE;
}

static sfsistat cb_close(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	smfi_setpriv(ctx, NULL);
	if (c->s != NULL) {
		ds_session_close(c->s);
		pthread_mutex_lock(&active_lock);
		if (--active_sessions == 0)
			pthread_cond_broadcast(&active_zero);
		pthread_mutex_unlock(&active_lock);
	}
	if (c->g != NULL)
		ds_generation_release(c->g);
	free(c);
	return SMFIS_CONTINUE;
}

static struct smfiDesc filter = {
	.xxfi_name = "domsecd",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	.xxfi_connect = cb_connect,
	.xxfi_helo = cb_helo,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_header = cb_header,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_negotiate = cb_negotiate,
};

int ds_milter_spec(const char *spec, char *out, size_t outlen)
{
	char err[256];
	const char *rest;

	if (ds_listen_spec_valid(spec, err, sizeof err) < 0)
		return -1;
	if (strncasecmp(spec, "inet:", 5) == 0 || strncasecmp(spec, "inet6:", 6) == 0) {
		int v6 = strncasecmp(spec, "inet6:", 6) == 0;
		rest = spec + (v6 ? 6 : 5);
		if (strchr(rest, '@') != NULL || strchr(rest, ':') == NULL) {
			snprintf(out, outlen, "%s", spec);   /* PORT@HOST or PORT */
			return 0;
		}
		/* HOST:PORT or [HOST]:PORT -> PORT@HOST, the form libmilter reads */
		const char *colon = strrchr(rest, ':');
		size_t hostlen = (size_t)(colon - rest);
		const char *host = rest;
		if (rest[0] == '[') {
			host = rest + 1;
			hostlen -= 2;
		}
		snprintf(out, outlen, "%s:%s@%.*s", v6 ? "inet6" : "inet", colon + 1,
		    (int)hostlen, host);
		return 0;
	}
	if (spec[0] == '/')
		snprintf(out, outlen, "unix:%s", spec);
	else
		snprintf(out, outlen, "%s", spec);
	return 0;
}

/* Our listening address as peer_fd() compares it: the unix path, or the
 * family and port of an inet socket. */
static void remember_address(const char *conn)
{
	memset(&milter_addr, 0, sizeof milter_addr);
	if (strncasecmp(conn, "unix:", 5) == 0 || strncasecmp(conn, "local:", 6) == 0) {
		struct sockaddr_un *sun = (void *)&milter_addr;
		sun->sun_family = AF_UNIX;
		snprintf(sun->sun_path, sizeof sun->sun_path, "%s",
		    strchr(conn, ':') + 1);
	} else {
		int v6 = strncasecmp(conn, "inet6:", 6) == 0;
		int port = atoi(conn + (v6 ? 6 : 5));
		if (v6) {
			struct sockaddr_in6 *sin6 = (void *)&milter_addr;
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons((unsigned short)port);
		} else {
			struct sockaddr_in *sin = (void *)&milter_addr;
			sin->sin_family = AF_INET;
			sin->sin_port = htons((unsigned short)port);
		}
	}
	milter_addrlen = sizeof milter_addr;
}

int ds_milter_open(const char *spec, const struct ds_config *cfg, char *err,
    size_t errlen)
{
	char conn[512];

	if (ds_milter_spec(spec, conn, sizeof conn) < 0) {
		ds_listen_spec_valid(spec, err, errlen);
		return -1;
	}
	if (smfi_register(filter) != MI_SUCCESS) {
		snprintf(err, errlen, "milter: libmilter refused to register the filter");
		return -1;
	}
	if (smfi_setconn(conn) != MI_SUCCESS) {
		snprintf(err, errlen, "%s: libmilter refused the socket", spec);
		return -1;
	}
	if (smfi_opensocket(1) != MI_SUCCESS) {
		snprintf(err, errlen, "%s: cannot listen (in use, or no permission?)", spec);
		return -1;
	}
	remember_address(conn);
	if (milter_addr.ss_family == AF_UNIX)
		return ds_socket_set_access(((struct sockaddr_un *)(void *)
		    &milter_addr)->sun_path, cfg, err, errlen);
	return 0;
}

int ds_milter_run(int check_peers)
{
	milter_check_peers = check_peers;
	return smfi_main() == MI_SUCCESS ? 0 : -1;
}

static void *stop_thread(void *unused)
{
	(void)unused;
	smfi_stop();
	return NULL;
}

/* smfi_stop() waits for libmilter's listener, which holds its lock while
 * it polls the socket for up to 5 s: ask from a thread of its own so that
 * the caller goes on stopping at once. */
void ds_milter_stop(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, stop_thread, NULL) == 0)
		pthread_detach(t);
	else
		smfi_stop();
}

int ds_milter_drain(int timeout_s)
{
	struct timespec deadline;
	int left;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_s;
	pthread_mutex_lock(&active_lock);
	while (active_sessions > 0)
		if (pthread_cond_timedwait(&active_zero, &active_lock, &deadline) != 0)
			break;
	left = active_sessions;
	if (left > 0)
		ds_log(LOG_WARNING, "milter: %d sessions still open at shutdown",
		    left);
	pthread_mutex_unlock(&active_lock);
	return left;
}
