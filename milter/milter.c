/*
 * milter.c - the libmilter callbacks of domsecd (see milter.h).
 *
 * Per SMTP session: client address and port at connect, TLS facts from the
 * HELO and MAIL macros.  Per message:
 *   MAIL  decide now when the facts suffice (no TLS, or a fingerprint from
 *         Sendmail's {cert_fp}); otherwise wait for RCPT, where Postfix's
 *         policy service has decided with ccert_fingerprint first;
 *   RCPT  take the policy service's decision (ds_inbound_recall) or decide;
 *   headers  note every instance of our header, of Authentication-Results
 *         and of the Exchange headers that ds_inbound_header_is_ours() says
 *         to remove, and the From addresses;
 *   EOM   the null sender is decided here with the From header domain;
 *         forged trust headers are removed last to first (unless the client
 *         is a trusted relay); From alignment; in enforce mode a secured
 *         message gets our headers inserted at index 0.
 * Refusals use the verdict's reply (smfi_setreply) at the earliest stage.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <libmilter/mfapi.h>
#include "domsec/listen.h"
#include "domsec/log.h"
#include "domsec/fromhdr.h"
#include "milter.h"
#include "mtafacts.h"
#include "../policy/request.h"

#define MAX_HEADER_NAMES 4096   /* distinct header names counted per message */

struct header_count {
	char *name;
	int count;
};

struct removal {
	char *name;
	int index;     /* 1-based among headers of that name */
};

struct session {
	struct ds_facts facts;        /* connection and TLS facts */
	/* the current message */
	int in_message;
	int null_sender;
	char sender_domain[256];
	int decided;
	struct ds_decision decision;
	struct header_count *counts;
	size_t n_counts, cap_counts;
	int counts_overflow;
	struct removal *removals;
	size_t n_removals, cap_removals;
	struct ds_from_domains from;
	int from_headers;
};

static struct ds_inbound *milter_inbound;
static struct ds_sessions *milter_handoff;
static pthread_mutex_t active_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t active_zero = PTHREAD_COND_INITIALIZER;
static int active_sessions;

static const char *getter(void *arg, const char *name)
{
	return smfi_getsymval((SMFICTX *)arg, (char *)name);
}

static void reset_message(struct session *s)
{
	for (size_t i = 0; i < s->n_counts; i++)
		free(s->counts[i].name);
	for (size_t i = 0; i < s->n_removals; i++)
		free(s->removals[i].name);
	free(s->counts);
	free(s->removals);
	s->counts = NULL;
	s->removals = NULL;
	s->n_counts = s->cap_counts = s->n_removals = s->cap_removals = 0;
	s->counts_overflow = 0;
	s->in_message = 0;
	s->null_sender = 0;
	s->sender_domain[0] = '\0';
	s->decided = 0;
	memset(&s->decision, 0, sizeof s->decision);
	memset(&s->from, 0, sizeof s->from);
	s->from_headers = 0;
}

static const char *queue_id(SMFICTX *ctx)
{
	const char *i = smfi_getsymval(ctx, "i");
	return i != NULL && i[0] != '\0' ? i : "-";
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

/* The MTA action for a refusing decision. */
static sfsistat refuse(SMFICTX *ctx, struct session *s, const char *stage)
{
	const struct ds_reply *r = &s->decision.reply;
	char text[sizeof r->text * 2];
	int temporary = r->rcode[0] == '4';

	reply_text(text, sizeof text, r->text);
	if (smfi_setreply(ctx, (char *)r->rcode, (char *)r->xcode, text) != MI_SUCCESS)
		ds_log(LOG_WARNING, "client %s[%d]: the MTA did not take reply \"%s %s %s\"",
		    s->facts.client_addr, s->facts.client_port, r->rcode, r->xcode, text);
	ds_log(LOG_INFO, "client %s[%d]: %s at %s for %s: %s %s %s",
	    s->facts.client_addr, s->facts.client_port,
	    temporary ? "deferred" : "rejected", stage, s->decision.domain,
	    r->rcode, r->xcode, r->text);
	return temporary ? SMFIS_TEMPFAIL : SMFIS_REJECT;
}

/*
 * Decides for domain: the policy service's decision for this session if it
 * left one, otherwise ours with the facts (plus the policy service's facts
 * when it saw the fingerprint).
 */
static void decide(struct session *s, const char *domain)
{
	struct ds_facts policy_facts;

	if (ds_inbound_recall(milter_inbound, s->facts.client_addr,
	    s->facts.client_port, domain, &s->decision)) {
		s->decided = 1;
		return;
	}
	if (milter_handoff != NULL && ds_sessions_get(milter_handoff,
	    s->facts.client_addr, s->facts.client_port, &policy_facts))
		ds_facts_merge_policy(&s->facts, &policy_facts);
	ds_inbound_decide(milter_inbound, &s->facts, domain, &s->decision);
	s->decided = 1;
	/* The policy service (asked at RCPT) then reuses it: one verdict, one
	 * log line and one count per message. */
	ds_inbound_remember(milter_inbound, s->facts.client_addr,
	    s->facts.client_port, &s->decision);
	if (s->decision.is_partner && s->decision.verdict == DS_VERDICT_UNKNOWN_CERTIFICATE
	    && !s->facts.have_fp)
		ds_log(LOG_WARNING, "client %s[%d]: the MTA gave no certificate "
		    "fingerprint for this session, so the certificate cannot be bound "
		    "to it: with Postfix add check_policy_service for domsecd to "
		    "smtpd_recipient_restrictions and set smtpd_tls_fingerprint_digest "
		    "= sha256; with Sendmail set CertFingerprintAlgorithm=sha256",
		    s->facts.client_addr, s->facts.client_port);
}

/* Enough facts at MAIL to decide without the policy service's hand-off. */
static int facts_suffice(const struct ds_facts *f)
{
	return f->tls == 0 || f->cert_presented == 0 || f->have_fp;
}

static sfsistat cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct session *s = calloc(1, sizeof *s);
	const char *addr = smfi_getsymval(ctx, "{client_addr}");
	const char *port = smfi_getsymval(ctx, "{client_port}");

	(void)hostname;
	if (s == NULL) {
		ds_log(LOG_ERR, "milter: out of memory at connect");
		return SMFIS_TEMPFAIL;
	}
	ds_facts_init(&s->facts);
	if (addr != NULL && addr[0] != '\0')
		snprintf(s->facts.client_addr, sizeof s->facts.client_addr, "%s", addr);
	if (port != NULL && port[0] != '\0') {
		char *end;
		long p = strtol(port, &end, 10);
		if (*end == '\0' && p >= 0 && p <= 65535)
			s->facts.client_port = (int)p;
	}
	if (hostaddr != NULL && (s->facts.client_addr[0] == '\0' || s->facts.client_port < 0)) {
		if (hostaddr->sa_family == AF_INET) {
			const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)hostaddr;
			if (s->facts.client_addr[0] == '\0')
				inet_ntop(AF_INET, &sin->sin_addr, s->facts.client_addr,
				    sizeof s->facts.client_addr);
			if (s->facts.client_port < 0)
				s->facts.client_port = ntohs(sin->sin_port);
		} else if (hostaddr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)hostaddr;
			if (s->facts.client_addr[0] == '\0')
				inet_ntop(AF_INET6, &sin6->sin6_addr, s->facts.client_addr,
				    sizeof s->facts.client_addr);
			if (s->facts.client_port < 0)
				s->facts.client_port = ntohs(sin6->sin6_port);
		}
	}
	if (smfi_setpriv(ctx, s) != MI_SUCCESS) {
		free(s);
		return SMFIS_TEMPFAIL;
	}
	pthread_mutex_lock(&active_lock);
	active_sessions++;
	pthread_mutex_unlock(&active_lock);
	ds_log(LOG_DEBUG, "milter: connect from %s[%d]", s->facts.client_addr,
	    s->facts.client_port);
	return SMFIS_CONTINUE;
}

static sfsistat cb_helo(SMFICTX *ctx, char *helo)
{
	struct session *s = smfi_getpriv(ctx);

	if (s == NULL)
		return SMFIS_CONTINUE;
	snprintf(s->facts.helo, sizeof s->facts.helo, "%s", helo ? helo : "");
	ds_facts_from_macros(&s->facts, getter, ctx);
	return SMFIS_CONTINUE;
}

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct session *s = smfi_getpriv(ctx);
	const char *from = argv != NULL && argv[0] != NULL ? argv[0] : "";

	if (s == NULL)
		return SMFIS_CONTINUE;
	reset_message(s);
	s->in_message = 1;
	/* The MAIL macros carry the TLS facts too when HELO was skipped. */
	if (smfi_getsymval(ctx, "{tls_version}") != NULL || s->facts.tls == -1)
		ds_facts_from_macros(&s->facts, getter, ctx);
	snprintf(s->facts.sender, sizeof s->facts.sender, "%s", from);
	{
		/* strip <> */
		char *p = s->facts.sender;
		size_t n = strlen(p);
		if (n >= 2 && p[0] == '<' && p[n - 1] == '>') {
			memmove(p, p + 1, n - 2);
			p[n - 2] = '\0';
		}
	}
	if (s->facts.sender[0] == '\0') {
		s->null_sender = 1;   /* decided at end of message (From domain) */
		return SMFIS_CONTINUE;
	}
	if (ds_address_domain(s->facts.sender, s->sender_domain,
	    sizeof s->sender_domain) < 0 || s->sender_domain[0] == '\0') {
		ds_log(LOG_INFO, "client %s[%d]: sender <%s> has no domain; "
		    "not a partner", s->facts.client_addr, s->facts.client_port,
		    s->facts.sender);
		s->decided = 1;   /* is_partner = 0 */
		return SMFIS_CONTINUE;
	}
	if (facts_suffice(&s->facts)) {
		decide(s, s->sender_domain);
		if (s->decision.refuse)
			return refuse(ctx, s, "MAIL");
	}
	return SMFIS_CONTINUE;
}

static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct session *s = smfi_getpriv(ctx);

	(void)argv;
	if (s == NULL || s->null_sender)
		return SMFIS_CONTINUE;
	if (!s->decided)
		decide(s, s->sender_domain);
	if (s->decision.refuse)
		return refuse(ctx, s, "RCPT");
	return SMFIS_CONTINUE;
}

static int count_header(struct session *s, const char *name)
{
	for (size_t i = 0; i < s->n_counts; i++)
		if (strcasecmp(s->counts[i].name, name) == 0)
			return ++s->counts[i].count;
	if (s->n_counts >= MAX_HEADER_NAMES) {
		s->counts_overflow = 1;
		return -1;
	}
	if (s->n_counts == s->cap_counts) {
		size_t cap = s->cap_counts ? s->cap_counts * 2 : 16;
		struct header_count *v = realloc(s->counts, cap * sizeof *v);
		if (v == NULL)
			return -1;
		s->counts = v;
		s->cap_counts = cap;
	}
	s->counts[s->n_counts].name = strdup(name);
	if (s->counts[s->n_counts].name == NULL)
		return -1;
	s->counts[s->n_counts].count = 1;
	return s->counts[s->n_counts++].count;
}

static int add_removal(struct session *s, const char *name, int index)
{
	if (s->n_removals == s->cap_removals) {
		size_t cap = s->cap_removals ? s->cap_removals * 2 : 8;
		struct removal *v = realloc(s->removals, cap * sizeof *v);
		if (v == NULL)
			return -1;
		s->removals = v;
		s->cap_removals = cap;
	}
	s->removals[s->n_removals].name = strdup(name);
	if (s->removals[s->n_removals].name == NULL)
		return -1;
	s->removals[s->n_removals++].index = index;
	return 0;
}

static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct session *s = smfi_getpriv(ctx);
	int index;

	if (s == NULL || name == NULL)
		return SMFIS_CONTINUE;
	if (value == NULL)
		value = "";
	index = count_header(s, name);
	if (strcasecmp(name, "From") == 0) {
		s->from_headers++;
		ds_from_domains_parse(value, &s->from);
	}
	if (ds_inbound_header_is_ours(milter_inbound, name, value)) {
		if (index < 0 || add_removal(s, name, index) < 0) {
			/* Cannot note it: never let a forged trust header through. */
			ds_log(LOG_ERR, "client %s[%d]: cannot track header %s for "
			    "removal; deferring the message", s->facts.client_addr,
			    s->facts.client_port, name);
			smfi_setreply(ctx, "451", "4.3.0", "temporary local problem, try again later");
			return SMFIS_TEMPFAIL;
		}
	}
	return SMFIS_CONTINUE;
}

/* Removes the noted forged headers, last to first. */
static void remove_forged(SMFICTX *ctx, struct session *s)
{
	for (size_t i = s->n_removals; i-- > 0; ) {
		const struct removal *r = &s->removals[i];
		if (smfi_chgheader(ctx, r->name, r->index, NULL) == MI_SUCCESS) {
			ds_counter_add(DS_COUNT_FORGED_REMOVED, 1);
			ds_log(LOG_NOTICE, "%s: client %s[%d]: removed forged header "
			    "%s (instance %d of that name)", queue_id(ctx),
			    s->facts.client_addr, s->facts.client_port, r->name, r->index);
		} else {
			ds_log(LOG_ERR, "%s: client %s[%d]: the MTA refused to remove "
			    "header %s instance %d", queue_id(ctx), s->facts.client_addr,
			    s->facts.client_port, r->name, r->index);
		}
	}
}

static sfsistat cb_eom(SMFICTX *ctx)
{
	struct session *s = smfi_getpriv(ctx);
	const char *domains[DS_FROM_DOMAINS_MAX];
	struct ds_header headers[DS_HEADERS_MAX];
	size_t n_headers;

	if (s == NULL)
		return SMFIS_CONTINUE;
	if (s->null_sender && !s->decided) {
		const char *d = s->from.n > 0 ? s->from.v[0] : "";
		if (d[0] == '\0') {
			ds_log(LOG_INFO, "%s: client %s[%d]: null sender and no From "
			    "domain; not a partner message", queue_id(ctx),
			    s->facts.client_addr, s->facts.client_port);
			s->decided = 1;
		} else {
			decide(s, d);
			if (s->decision.refuse) {
				sfsistat r = refuse(ctx, s, "end of message");
				reset_message(s);
				return r;
			}
		}
	}
	if (!s->decided) {
		/* No RCPT callback (the MTA skipped it): decide now. */
		decide(s, s->sender_domain);
		if (s->decision.refuse) {
			sfsistat r = refuse(ctx, s, "end of message");
			reset_message(s);
			return r;
		}
	}
	if (ds_inbound_relay_trusted(milter_inbound, s->facts.client_addr)) {
		if (s->n_removals > 0)
			ds_log(LOG_INFO, "%s: client %s[%d] is a trusted relay: keeping "
			    "its %zu trust header(s)", queue_id(ctx),
			    s->facts.client_addr, s->facts.client_port, s->n_removals);
	} else {
		remove_forged(ctx, s);
	}
	if (s->decision.is_partner && !s->decision.refuse) {
		for (size_t i = 0; i < s->from.n; i++)
			domains[i] = s->from.v[i];
		enum ds_verdict v = ds_inbound_align(milter_inbound, &s->decision,
		    domains, s->from.n);
		if (v == DS_VERDICT_SECURED && s->decision.mode == DS_MODE_ENFORCE) {
			n_headers = ds_inbound_headers(milter_inbound, &s->decision,
			    &s->facts, headers, DS_HEADERS_MAX);
			/* Each at index 0: the last inserted ends on top. */
			for (size_t i = 0; i < n_headers; i++) {
				if (smfi_insheader(ctx, 0, headers[i].name, headers[i].value)
				    != MI_SUCCESS) {
					ds_log(LOG_ERR, "%s: client %s[%d]: the MTA refused to "
					    "add header %s", queue_id(ctx), s->facts.client_addr,
					    s->facts.client_port, headers[i].name);
					continue;
				}
				ds_log(LOG_INFO, "%s: client %s[%d]: added %s: %s",
				    queue_id(ctx), s->facts.client_addr,
				    s->facts.client_port, headers[i].name, headers[i].value);
			}
		}
	}
	reset_message(s);
	return SMFIS_CONTINUE;
}

static sfsistat cb_abort(SMFICTX *ctx)
{
	struct session *s = smfi_getpriv(ctx);

	if (s != NULL)
		reset_message(s);
	return SMFIS_CONTINUE;
}

static sfsistat cb_close(SMFICTX *ctx)
{
	struct session *s = smfi_getpriv(ctx);

	if (s == NULL)
		return SMFIS_CONTINUE;
	reset_message(s);
	if (s->facts.client_addr[0] != '\0' && s->facts.client_port >= 0) {
		ds_inbound_forget(milter_inbound, s->facts.client_addr, s->facts.client_port);
		if (milter_handoff != NULL)
			ds_sessions_remove(milter_handoff, s->facts.client_addr,
			    s->facts.client_port);
	}
	smfi_setpriv(ctx, NULL);
	free(s);
	pthread_mutex_lock(&active_lock);
	if (--active_sessions == 0)
		pthread_cond_broadcast(&active_zero);
	pthread_mutex_unlock(&active_lock);
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

int ds_milter_open(const char *spec, char *err, size_t errlen)
{
	char conn[512];
	const char *path;

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
	path = strchr(conn, ':');
	if (strncasecmp(conn, "unix:", 5) == 0 || strncasecmp(conn, "local:", 6) == 0) {
		/* Postfix's cleanup and smtpd run as user postfix. */
		if (chmod(path + 1, 0666) < 0)
			ds_log(LOG_WARNING, "%s: chmod: %s", spec, strerror(errno));
	}
	return 0;
}

int ds_milter_run(struct ds_inbound *in, const struct ds_config *cfg,
    struct ds_sessions *facts_handoff)
{
	milter_inbound = in;
	(void)cfg;
	milter_handoff = facts_handoff;
	return smfi_main() == MI_SUCCESS ? 0 : -1;
}

void ds_milter_stop(void)
{
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
