/*
 * session.h - one SMTP session as the core sees it.  Both front ends (the
 * milter and the Postfix policy service) only translate their MTA's
 * vocabulary into the calls below and the answers back into theirs; every
 * rule lives here:
 *
 *   - a message is decided once (the envelope sender's domain, or for the
 *     null sender the From header's), counted once and logged in one line;
 *   - the one hand-off table carries the policy service's facts and
 *     decision to the milter for the same SMTP session (client address and
 *     port).  A milter session uses an entry only when the session's own
 *     facts agree with it: its own macros say TLS, and the TLS version,
 *     cipher, certificate CN and (when the MTA gives one) fingerprint match.
 *     A session whose own facts say "not encrypted" is never tagged;
 *     decisions a milter connection makes are never handed to another;
 *   - new TLS facts (STARTTLS, then a new EHLO) start the session's facts
 *     afresh and drop the message's decision;
 *   - forged trust headers are removed last to first (except from trusted
 *     relays), counted in one summary line per message, and a message with
 *     more than MaxForgedHeaders of them is refused at end of message (the
 *     header step never refuses, so the MTA need not wait for it);
 *   - mail submitted locally (Postfix non_smtpd_milters: client port 0) is
 *     only stripped, never judged or tagged;
 *   - with PostfixHeaderChecks and a Postfix MTA, Postfix's cleanup has
 *     removed trust headers before the milter sees a message, so a message
 *     that will not be tagged (a sender that is not a partner's, local
 *     submission, a trusted relay) is answered ACCEPT at MAIL and its
 *     headers never cross the milter connection; null-sender and partner
 *     mail go the whole way.
 *
 * Thread-safe: one struct ds_core serves every connection; one struct
 * ds_session belongs to one milter connection.  Nothing here calls
 * libmilter.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_SESSION_H
#define DOMSEC_SESSION_H

#include <stddef.h>
#include "domsec/config.h"
#include "domsec/engine.h"
#include "domsec/facts.h"
#include "domsec/inbound.h"
#include "domsec/sessions.h"

struct ds_core;
struct ds_session;

/* What the front end tells its MTA. */
enum ds_step {
	DS_STEP_CONTINUE = 0,
	DS_STEP_REJECT,       /* 5xx with reply */
	DS_STEP_TEMPFAIL,     /* 4xx with reply */
	DS_STEP_ACCEPT        /* this message needs nothing more from us:
	                         the MTA need not send its later steps */
};

struct ds_answer {
	enum ds_step step;
	struct ds_reply reply;   /* for REJECT and TEMPFAIL */
};

/* Header edits at end of message: remove[] in the order given (last
 * instance first), then insert each add[] at index 0 in the order given
 * (the last ends up on top).  Valid until the next call on the session. */
struct ds_removal {
	const char *name;
	int index;               /* 1-based among headers of that name */
};

struct ds_edits {
	const struct ds_removal *remove;
	size_t n_remove;
	struct ds_header add[DS_HEADERS_MAX];
	size_t n_add;
};

struct ds_core *ds_core_new(const struct ds_config *cfg,
    struct ds_engine *engine, char *err, size_t errlen);
/* The same over a hand-off table made by ds_core_handoff_new() and shared
 * by the cores of every configuration a daemon loads (a session that spans
 * a reload keeps its hand-off); the caller frees it after the cores. */
struct ds_core *ds_core_new_shared(const struct ds_config *cfg,
    struct ds_engine *engine, struct ds_sessions *handoff, char *err,
    size_t errlen);
struct ds_sessions *ds_core_handoff_new(void);
void ds_core_free(struct ds_core *c);
/* The decision engine behind the core (for tools and tests). */
struct ds_inbound *ds_core_inbound(struct ds_core *c);
/* Entries in the hand-off table now, and the bytes of one entry's value
 * (for make bench). */
size_t ds_core_handoff_count(struct ds_core *c);
size_t ds_core_handoff_entry_size(void);

/*
 * The Postfix policy service: facts from one request (client address and
 * port required), its protocol_state and queue_id ("" unknown).  At RCPT
 * with a sender domain the message is decided (or the decision already
 * handed off for the same facts reused); every request leaves its facts
 * for the milter.  out is CONTINUE (DUNNO) or a refusal.
 */
void ds_core_policy(struct ds_core *c, const struct ds_facts *facts,
    const char *protocol_state, const char *queue_id, struct ds_answer *out);

/* One milter connection.  client_port 0 marks locally submitted mail. */
struct ds_session *ds_session_open(struct ds_core *c, const char *client_addr,
    int client_port);
void ds_session_close(struct ds_session *s);

/* The MTA's name and version as its milter macro v gives them ("Postfix
 * 3.7.11"; Sendmail gives its version alone) and the value of its macro
 * {domsec_header_checks} (NULL: unknown).  With PostfixHeaderChecks FILE,
 * only a Postfix whose macro is FILE (the instance domsecctl
 * postfix-config set up: milter_macro_defaults) is trusted to have
 * removed trust headers itself, and only while the audit of its live
 * configuration passes (domsec/postfix_audit.h); only then is a message
 * that will not be tagged answered ACCEPT at MAIL (before its headers). */
void ds_session_mta(struct ds_session *s, const char *mta_version,
    const char *table_macro);

/* The facts the MTA's HELO or MAIL macros give (TLS fields and helo are
 * read; address, port and sender are ignored).  Facts that differ from the
 * session's TLS facts replace them and drop the message's decision. */
void ds_session_facts(struct ds_session *s, const struct ds_facts *f);

void ds_session_mail(struct ds_session *s, const char *sender,
    struct ds_answer *out);
void ds_session_rcpt(struct ds_session *s, struct ds_answer *out);
/* Counts and notes one header; out is always CONTINUE (a refusal the
 * headers call for comes from ds_session_eom). */
void ds_session_header(struct ds_session *s, const char *name,
    const char *value, struct ds_answer *out);
/* queue_id may be NULL or "" when the MTA gave none. */
void ds_session_eom(struct ds_session *s, const char *queue_id,
    struct ds_answer *out, struct ds_edits *edits);
/* The message ended without end of message (RSET, refusal, abort). */
void ds_session_abort(struct ds_session *s);

/* The session's own facts (for the front end's log lines). */
const struct ds_facts *ds_session_own_facts(const struct ds_session *s);

#endif
