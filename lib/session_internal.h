/*
 * session_internal.h - the state behind session.h, shared by session.c
 * (decisions, hand-off) and session_headers.c (header bookkeeping).
 * Private to lib/.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_SESSION_INTERNAL_H
#define DOMSEC_SESSION_INTERNAL_H

#include <pthread.h>
#include "domsec/fromhdr.h"
#include "domsec/postfix_audit.h"
#include "domsec/session.h"
#include "domsec/sessions.h"

struct ds_core {
	const struct ds_config *cfg;
	struct ds_inbound *in;
	struct ds_sessions *handoff;   /* "addr port" -> struct handoff */
	int owns_handoff;              /* 0: shared across reloads */
	int milter_enabled;            /* accepted verdicts are logged at
	                                  end of message by the milter */
	int strips_doubted;            /* (atomic) a trust header reached the
	                                  milter though Postfix should have
	                                  removed it: no more early accepts */
	pthread_mutex_t audit_lock;    /* PostfixHeaderChecks: the audit of */
	struct ds_pf_audit audit;      /* the live Postfix configuration */
};

struct header_count {
	char *name;
	int count;
};

struct ds_session {
	struct ds_core *core;
	struct ds_facts facts;         /* this connection's own facts */
	int local;                     /* locally submitted: strip only */
	int trusted_relay;             /* keeps its trust headers, not judged */
	int mta_strips;                /* PostfixHeaderChecks, the MTA is
	                                  Postfix and carries the instance's
	                                  binding macro: its cleanup removed
	                                  trust headers before us (while the
	                                  audit passes) */
	/* the current message */
	int in_message;
	int null_sender;
	char sender[512];
	char domain[256];              /* the partner domain D, "" none */
	int decided;
	int concluded;                 /* counted and logged */
	struct ds_decision decision;
	struct ds_from_domains from;
	/* headers seen (per name, for 1-based indices) and to remove */
	struct header_count *counts;
	size_t n_counts, cap_counts;
	struct ds_removal *removals;
	size_t n_removals, cap_removals;
	int refused_headers;           /* over MaxForgedHeaders (or a
	                                  header that could not be noted) */
	struct ds_answer header_refusal;  /* answered at end of message */
};

/* Fills edits->remove (last to first) unless the client is a trusted
 * relay, and logs one summary line of what is removed or kept. */
void ds_session_header_edits(struct ds_session *s, const char *queue_id,
    struct ds_edits *edits);
/* Frees the message's header bookkeeping. */
void ds_session_headers_reset(struct ds_session *s);

#endif
