/*
 * session.c - the SMTP session rules shared by every front end (see
 * session.h): one decision per message, the hand-off table between the
 * Postfix policy service and the milter, and the binding of a handed-off
 * decision to the live session's own facts.  Header bookkeeping (indices,
 * removals, the forged-header cap) is in session_headers.c.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "domsec/cidr.h"
#include "domsec/fromhdr.h"
#include "domsec/log.h"
#include "domsec/partners.h"
#include "domsec/postfix_header_checks.h"
#include "domsec/session.h"
#include "domsec/sessions.h"
#include "session_internal.h"

#define HANDOFF_TTL_S 600
#define HANDOFF_MAX 8192

/*
 * What the policy service leaves for the milter of the same SMTP session:
 * the facts that bind it to one TLS session (compared with the milter's
 * own), the fingerprint the milter lacks, and which partner domain was
 * decided and whether that was concluded (a refusal logged).  No decision
 * is stored: the milter decides again from these facts, which the verdict
 * cache of inbound.c answers in microseconds (and more freshly).  About
 * 1 KB an entry instead of a whole struct ds_facts and ds_decision.
 */
struct handoff {
	int tls;
	int cert_presented;
	int mta_verified;
	int have_fp;
	unsigned char fp[DS_FP_SHA256_LEN];
	char tls_version[32];
	char cipher[128];
	char cert_subject[512];      /* the CN Postfix verified, "" none */
	int has_decision;
	int concluded;               /* counted and logged (a refusal) */
	unsigned long long sender_hash;   /* the envelope sender decided for */
	char domain[256];            /* the partner domain decided for */
};

size_t ds_core_handoff_entry_size(void)
{
	return sizeof(struct handoff);
}

static void handoff_from_facts(struct handoff *h, const struct ds_facts *f)
{
	memset(h, 0, sizeof *h);
	h->tls = f->tls;
	h->cert_presented = f->cert_presented;
	h->mta_verified = f->mta_verified;
	h->have_fp = f->have_fp;
	memcpy(h->fp, f->fp, sizeof h->fp);
	memcpy(h->tls_version, f->tls_version, sizeof h->tls_version);
	memcpy(h->cipher, f->cipher, sizeof h->cipher);
	memcpy(h->cert_subject, f->cert_subject, sizeof h->cert_subject);
}

/* FNV-1a, 64 bits: "another sender in the session" for the log. */
static unsigned long long text_hash(const char *t)
{
	unsigned long long h = 14695981039346656037ull;

	for (; *t != '\0'; t++)
		h = (h ^ (unsigned char)*t) * 1099511628211ull;
	return h;
}

struct ds_sessions *ds_core_handoff_new(void)
{
	return ds_sessions_new(sizeof(struct handoff), HANDOFF_TTL_S,
	    HANDOFF_MAX);
}

/* Audits the Postfix configuration for PostfixHeaderChecks (caller
 * holds audit_lock) and says so when the result changes. */
static void audit_postfix(struct ds_core *c)
{
	int was = c->audit.ok;
	char why[sizeof c->audit.why];

	memcpy(why, c->audit.why, sizeof why);
	ds_postfix_audit(c->cfg, NULL, &c->audit);
	if (!c->audit.ok && (was || strcmp(why, c->audit.why) != 0))
		ds_log(LOG_ERR, "PostfixHeaderChecks: %s; domsecd removes "
		    "trust headers itself from every message until that is "
		    "fixed (domsecctl postfix-config --apply, then postfix "
		    "reload)", c->audit.why);
	else if (!was)
		ds_log(LOG_NOTICE, "PostfixHeaderChecks: Postfix applies %s "
		    "to every message it receives; mail domsecd will not tag "
		    "is accepted at MAIL", c->cfg->postfix_header_checks);
}

/* 1 when Postfix removes trust headers itself: the last audit passed and
 * main.cf, master.cf and the table are unchanged since (a change is
 * audited again, by one thread; the others meanwhile answer 0), and no
 * trust header has reached the milter. */
static int postfix_removes(struct ds_core *c)
{
	int ok;

	if (__atomic_load_n(&c->strips_doubted, __ATOMIC_RELAXED) ||
	    pthread_mutex_trylock(&c->audit_lock) != 0)
		return 0;
	if (!ds_postfix_audit_unchanged(c->cfg, &c->audit))
		audit_postfix(c);
	ok = c->audit.ok;
	pthread_mutex_unlock(&c->audit_lock);
	return ok;
}

struct ds_core *ds_core_new(const struct ds_config *cfg,
    struct ds_engine *engine, char *err, size_t errlen)
{
	return ds_core_new_shared(cfg, engine, NULL, err, errlen);
}

struct ds_core *ds_core_new_shared(const struct ds_config *cfg,
    struct ds_engine *engine, struct ds_sessions *handoff, char *err,
    size_t errlen)
{
	struct ds_core *c = calloc(1, sizeof *c);

	if (c == NULL) {
		snprintf(err, errlen, "session: out of memory");
		return NULL;
	}
	c->cfg = cfg;
	pthread_mutex_init(&c->audit_lock, NULL);
	c->in = ds_inbound_new(cfg, engine, err, errlen);
	c->owns_handoff = handoff == NULL;
	c->handoff = handoff != NULL ? handoff : ds_core_handoff_new();
	if (c->in == NULL || c->handoff == NULL) {
		if (c->handoff == NULL)
			snprintf(err, errlen, "session: out of memory");
		ds_core_free(c);
		return NULL;
	}
	c->milter_enabled = cfg->milter_socket != NULL && cfg->milter_socket[0];
	if (cfg->postfix_header_checks != NULL)
		audit_postfix(c);
	return c;
}

void ds_core_free(struct ds_core *c)
{
	if (c == NULL)
		return;
	ds_inbound_free(c->in);
	if (c->owns_handoff)
		ds_sessions_free(c->handoff);
	pthread_mutex_destroy(&c->audit_lock);
	free(c);
}

struct ds_inbound *ds_core_inbound(struct ds_core *c)
{
	return c->in;
}

size_t ds_core_handoff_count(struct ds_core *c)
{
	return ds_sessions_count(c->handoff);
}

/* The TLS facts of a and b describe the same TLS session state. */
static int same_tls(const struct ds_facts *a, const struct ds_facts *b)
{
	if (a->tls != b->tls)
		return 0;
	if (a->tls != 1)
		return 1;
	return strcmp(a->tls_version, b->tls_version) == 0 &&
	    strcmp(a->cipher, b->cipher) == 0 &&
	    a->cert_presented == b->cert_presented &&
	    a->have_fp == b->have_fp &&
	    (!a->have_fp || memcmp(a->fp, b->fp, sizeof a->fp) == 0) &&
	    strcmp(a->cert_subject, b->cert_subject) == 0;
}

/* The TLS facts of a hand-off entry and of a policy request describe the
 * same TLS session state. */
static int handoff_same_tls(const struct handoff *h, const struct ds_facts *b)
{
	if (h->tls != b->tls)
		return 0;
	if (h->tls != 1)
		return 1;
	return strcmp(h->tls_version, b->tls_version) == 0 &&
	    strcmp(h->cipher, b->cipher) == 0 &&
	    h->cert_presented == b->cert_presented &&
	    h->have_fp == b->have_fp &&
	    (!h->have_fp || memcmp(h->fp, b->fp, sizeof h->fp) == 0) &&
	    strcmp(h->cert_subject, b->cert_subject) == 0;
}

/*
 * 1 when the policy service's facts may complete a milter session's own:
 * both say TLS, and every TLS fact the milter has itself (version, cipher,
 * the certificate CN Postfix verified, a fingerprint) agrees.
 */
static int handoff_fits(const struct ds_facts *own, const struct handoff *p)
{
	if (own->tls != 1 || p->tls != 1)
		return 0;
	if (own->tls_version[0] != '\0' &&
	    strcmp(own->tls_version, p->tls_version) != 0)
		return 0;
	if (own->cipher[0] != '\0' && strcmp(own->cipher, p->cipher) != 0)
		return 0;
	if (own->cert_subject[0] != '\0' && p->cert_subject[0] != '\0' &&
	    strcmp(own->cert_subject, p->cert_subject) != 0)
		return 0;
	if (own->have_fp && (!p->have_fp ||
	    memcmp(own->fp, p->fp, sizeof own->fp) != 0))
		return 0;
	if (own->cert_presented == 0 && p->cert_presented == 1)
		return 0;
	return 1;
}

/* ---- the Postfix policy service ---- */

void ds_core_policy(struct ds_core *c, const struct ds_facts *facts,
    const char *protocol_state, const char *queue_id, struct ds_answer *out)
{
	struct handoff h;
	struct ds_decision *d = NULL;
	char domain[256];
	unsigned long long sender_hash;
	int found;

	memset(out, 0, sizeof *out);
	found = ds_sessions_get(c->handoff, facts->client_addr,
	    facts->client_port, &h);
	if (!found || !handoff_same_tls(&h, facts))
		handoff_from_facts(&h, facts);   /* STARTTLS: afresh */
	if (strcasecmp(protocol_state, "RCPT") != 0 || facts->sender[0] == '\0'
	    || ds_address_domain(facts->sender, domain, sizeof domain) != 0
	    || domain[0] == '\0')
		goto store;   /* the milter decides (null sender: From domain) */
	d = malloc(sizeof *d);
	if (d == NULL) {
		ds_log(LOG_ERR, "policy: out of memory; answering DUNNO");
		return;
	}
	/* Decided at every RCPT: the verdict cache answers a known
	 * certificate at once. */
	ds_inbound_decide(c->in, facts, domain, d);
	if (!h.has_decision || strcasecmp(h.domain, domain) != 0) {
		h.has_decision = 1;
		h.concluded = 0;
		snprintf(h.domain, sizeof h.domain, "%s", d->domain);
	}
	sender_hash = text_hash(facts->sender);
	if (h.sender_hash != sender_hash) {
		/* another message (or sender) in the session: log it anew */
		h.sender_hash = sender_hash;
		h.concluded = 0;
	}
	if (d->refuse || !c->milter_enabled) {
		/* The milter logs accepted messages at end of message, with
		 * the From alignment; a refusal ends the message here. */
		if (!h.concluded)
			ds_inbound_conclude(c->in, d, facts, queue_id);
		h.concluded = 1;
	}
	if (d->refuse) {
		out->step = d->reply.rcode[0] == '4' ? DS_STEP_TEMPFAIL :
		    DS_STEP_REJECT;
		out->reply = d->reply;
	}
store:
	if (ds_sessions_put(c->handoff, facts->client_addr, facts->client_port,
	    &h) != 0)
		ds_log(LOG_WARNING, "policy: cannot hand off the facts for %s "
		    "port %d (out of memory)", facts->client_addr,
		    facts->client_port);
	free(d);
}

/* ---- milter sessions ---- */

struct ds_session *ds_session_open(struct ds_core *c, const char *client_addr,
    int client_port)
{
	struct ds_session *s = calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	s->core = c;
	ds_facts_init(&s->facts);
	/* One spelling in every log line: Sendmail's "IPv6:0:0:0:0:0:0:0:1"
	 * becomes "::1". */
	ds_addr_canonical(client_addr != NULL ? client_addr : "",
	    s->facts.client_addr, sizeof s->facts.client_addr);
	s->facts.client_port = client_port;
	s->local = client_port == 0;
	/* Local submission is only stripped, whatever address Postfix gives
	 * it (127.0.0.1 is often a trusted relay for content filters). */
	s->trusted_relay = !s->local &&
	    ds_inbound_relay_trusted(c->in, s->facts.client_addr);
	return s;
}

void ds_session_close(struct ds_session *s)
{
	if (s == NULL)
		return;
	ds_session_abort(s);
	if (s->facts.client_addr[0] != '\0' && s->facts.client_port > 0)
		ds_sessions_remove(s->core->handoff, s->facts.client_addr,
		    s->facts.client_port);
	free(s);
}

void ds_session_mta(struct ds_session *s, const char *mta_version,
    const char *table_macro)
{
	const char *table = s->core->cfg->postfix_header_checks;

	s->mta_strips = table != NULL && mta_version != NULL &&
	    strncasecmp(mta_version, "Postfix", 7) == 0 &&
	    (mta_version[7] == ' ' || mta_version[7] == '\0') &&
	    table_macro != NULL && strcmp(table_macro, table) == 0;
}

const struct ds_facts *ds_session_own_facts(const struct ds_session *s)
{
	return &s->facts;
}

void ds_session_facts(struct ds_session *s, const struct ds_facts *f)
{
	if (f->helo[0] != '\0')
		snprintf(s->facts.helo, sizeof s->facts.helo, "%s", f->helo);
	if (same_tls(&s->facts, f))
		return;
	/* STARTTLS (or the MTA's first report): the TLS facts start afresh,
	 * and nothing decided before them stands. */
	s->facts.tls = f->tls;
	memcpy(s->facts.tls_version, f->tls_version, sizeof s->facts.tls_version);
	memcpy(s->facts.cipher, f->cipher, sizeof s->facts.cipher);
	s->facts.cipher_bits = f->cipher_bits;
	s->facts.cert_presented = f->cert_presented;
	s->facts.mta_verified = f->mta_verified;
	s->facts.have_fp = f->have_fp;
	memcpy(s->facts.fp, f->fp, sizeof s->facts.fp);
	memcpy(s->facts.cert_subject, f->cert_subject, sizeof s->facts.cert_subject);
	memcpy(s->facts.cert_issuer, f->cert_issuer, sizeof s->facts.cert_issuer);
	s->decided = 0;
	s->concluded = 0;
}

/*
 * Decides the message for s->domain: with the policy service's decision
 * when it was made for this session's own TLS facts and this domain, else
 * with the session's own facts, completed by the policy service's (the
 * fingerprint) only when they fit.
 */
static void decide(struct ds_session *s)
{
	struct ds_facts f = s->facts;
	struct handoff h;

	snprintf(f.sender, sizeof f.sender, "%s", s->sender);
	if (f.tls == 1 && !f.have_fp && s->facts.client_port > 0 &&
	    ds_sessions_get(s->core->handoff, f.client_addr, f.client_port, &h)
	    && handoff_fits(&f, &h)) {
		/* the fingerprint (and what else the milter lacks) */
		if (h.have_fp) {
			memcpy(f.fp, h.fp, sizeof f.fp);
			f.have_fp = 1;
			f.cert_presented = 1;
		}
		if (f.cert_presented == -1)
			f.cert_presented = h.cert_presented;
		if (f.mta_verified == -1)
			f.mta_verified = h.mta_verified;
	}
	ds_inbound_decide(s->core->in, &f, s->domain, &s->decision);
	s->decided = 1;
	if (s->decision.is_partner && s->decision.verdict ==
	    DS_VERDICT_UNKNOWN_CERTIFICATE && !f.have_fp)
		ds_log(LOG_WARNING, "client %s[%d]: the MTA gave no certificate "
		    "fingerprint for this session, so the certificate cannot be "
		    "bound to it: with Postfix add check_policy_service for "
		    "domsecd to smtpd_recipient_restrictions and set "
		    "smtpd_tls_fingerprint_digest = sha256; with Sendmail set "
		    "CertFingerprintAlgorithm=sha256", f.client_addr,
		    f.client_port);
}

/* The answer for a decided message; a refusal concludes it. */
static void answer(struct ds_session *s, const char *stage, struct ds_answer *out)
{
	const struct ds_decision *d = &s->decision;

	memset(out, 0, sizeof *out);
	if (!d->refuse)
		return;
	out->step = d->reply.rcode[0] == '4' ? DS_STEP_TEMPFAIL : DS_STEP_REJECT;
	out->reply = d->reply;
	if (!s->concluded) {
		ds_inbound_conclude(s->core->in, &s->decision, &s->facts, NULL);
		s->concluded = 1;
	}
	ds_log(LOG_INFO, "client %s[%d]: %s at %s for %s: %s %s %s",
	    s->facts.client_addr, s->facts.client_port,
	    out->step == DS_STEP_TEMPFAIL ? "deferred" : "rejected", stage,
	    d->domain, d->reply.rcode, d->reply.xcode, d->reply.text);
}

/* 1 when this session's messages are judged at all. */
static int judged(const struct ds_session *s)
{
	return !s->local && !s->trusted_relay;
}

/* Enough facts at MAIL to decide without the policy service's hand-off. */
static int facts_suffice(const struct ds_facts *f)
{
	return f->tls == 0 || f->cert_presented == 0 || f->have_fp;
}

/* A message that will not be tagged: with Postfix removing trust headers
 * (ds_session_mta) it needs nothing more from us. */
static void not_tagged(struct ds_session *s, struct ds_answer *out)
{
	if (!s->mta_strips || !postfix_removes(s->core))
		return;
	out->step = DS_STEP_ACCEPT;
	ds_log(LOG_DEBUG, "client %s[%d]: <%s> will not be tagged and Postfix "
	    "removes trust headers: accepted at MAIL", s->facts.client_addr,
	    s->facts.client_port, s->sender);
}

void ds_session_mail(struct ds_session *s, const char *sender,
    struct ds_answer *out)
{
	memset(out, 0, sizeof *out);
	ds_session_abort(s);
	s->in_message = 1;
	snprintf(s->sender, sizeof s->sender, "%s", sender != NULL ? sender : "");
	if (!judged(s)) {
		not_tagged(s, out);
		return;
	}
	if (s->sender[0] == '\0') {
		s->null_sender = 1;   /* decided at end of message (From) */
		return;
	}
	if (ds_address_domain(s->sender, s->domain, sizeof s->domain) != 0 ||
	    s->domain[0] == '\0') {
		ds_log(LOG_INFO, "client %s[%d]: sender <%s> has no domain; not "
		    "a partner", s->facts.client_addr, s->facts.client_port,
		    s->sender);
		s->domain[0] = '\0';
		s->decided = 1;    /* is_partner = 0 */
		not_tagged(s, out);
		return;
	}
	if (ds_partners_lookup(&s->core->cfg->partners, s->domain,
	    DS_DIR_RECEIVE) == NULL) {
		s->decided = 1;    /* not a partner: nothing to decide */
		not_tagged(s, out);
		return;
	}
	if (facts_suffice(&s->facts)) {
		decide(s);
		answer(s, "MAIL", out);
	}
}

void ds_session_rcpt(struct ds_session *s, struct ds_answer *out)
{
	memset(out, 0, sizeof *out);
	if (!judged(s) || s->null_sender || !s->in_message)
		return;
	if (!s->decided)
		decide(s);
	answer(s, "RCPT", out);
}

void ds_session_eom(struct ds_session *s, const char *queue_id,
    struct ds_answer *out, struct ds_edits *edits)
{
	const char *domains[DS_FROM_DOMAINS_MAX];

	memset(out, 0, sizeof *out);
	memset(edits, 0, sizeof *edits);
	if (judged(s) && s->null_sender && !s->decided) {
		const char *d = s->from.n > 0 ? s->from.v[0] : "";
		snprintf(s->domain, sizeof s->domain, "%s", d);
		if (d[0] == '\0')
			s->decided = 1;   /* no From domain: not a partner */
	}
	if (judged(s) && !s->decided && s->domain[0] != '\0')
		decide(s);
	if (s->refused_headers) {
		/* counted at the header step, refused here: the MTA does not
		 * wait for an answer to each header (SMFIP_NR_HDR) */
		*out = s->header_refusal;
		ds_log(LOG_INFO, "client %s[%d]: %s at end of message: %s %s "
		    "%s", s->facts.client_addr, s->facts.client_port,
		    out->step == DS_STEP_TEMPFAIL ? "deferred" : "rejected",
		    out->reply.rcode, out->reply.xcode, out->reply.text);
		ds_session_abort(s);
		return;
	}
	if (judged(s) && s->decided && s->decision.refuse) {
		answer(s, "end of message", out);
		ds_session_abort(s);
		return;
	}
	ds_session_header_edits(s, queue_id, edits);
	if (judged(s) && s->decision.is_partner) {
		for (size_t i = 0; i < s->from.n; i++)
			domains[i] = s->from.v[i];
		ds_inbound_align(s->core->in, &s->decision, domains, s->from.n,
		    s->from.problem);
		edits->n_add = ds_inbound_headers(s->core->in, &s->decision,
		    &s->facts, edits->add, DS_HEADERS_MAX);
		if (!s->concluded)
			ds_inbound_conclude(s->core->in, &s->decision, &s->facts,
			    queue_id);
		s->concluded = 1;
	}
	s->in_message = 0;
}

void ds_session_abort(struct ds_session *s)
{
	ds_session_headers_reset(s);
	s->in_message = 0;
	s->null_sender = 0;
	s->sender[0] = '\0';
	s->domain[0] = '\0';
	s->decided = 0;
	s->concluded = 0;
	memset(&s->decision, 0, sizeof s->decision);
	memset(&s->from, 0, sizeof s->from);
}
