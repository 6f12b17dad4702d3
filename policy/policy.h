/*
 * policy.h - the Postfix policy delegation server (check_policy_service in
 * smtpd_recipient_restrictions).  It decides at RCPT with the fingerprint
 * Postfix reports, refuses in enforce mode with the verdict's reply, and
 * hands its decision and facts to the milter for the same session.
 */
#ifndef DOMSEC_POLICY_POLICY_H
#define DOMSEC_POLICY_POLICY_H

#include <stddef.h>
#include "domsec/inbound.h"
#include "domsec/sessions.h"
#include "request.h"

#define DS_POLICY_MAX_CONNECTIONS 512
#define DS_POLICY_IDLE_TIMEOUT_S  330   /* Postfix closes idle ones at 300 s */

/*
 * Serves listen_fd (from ds_listen) in a thread, one thread per connection.
 * facts_handoff (may be NULL) receives the struct ds_facts of every request,
 * keyed by client address and port, for the milter.  Returns 0, or -1 with
 * err.
 */
int ds_policy_start(int listen_fd, struct ds_inbound *in,
    struct ds_sessions *facts_handoff, char *err, size_t errlen);

/* Stops accepting, closes every connection and waits (bounded) for the
 * connection threads to finish; returns how many are still busy (0 when
 * all finished). */
int ds_policy_stop(void);

/*
 * Answers one complete request (exposed for tests): writes the reply line
 * without the terminating empty line.
 */
void ds_policy_answer(struct ds_inbound *in, struct ds_sessions *facts_handoff,
    const struct ds_policy_request *req, char *reply, size_t replylen);

#endif
