/*
 * policy.h - the Postfix policy delegation server (check_policy_service in
 * smtpd_recipient_restrictions): translates each request into session
 * facts for the core (domsec/session.h), which decides at RCPT with the
 * fingerprint Postfix reports and hands facts and decision to the milter
 * of the same session, and translates the core's answer into an action.
 * Holds no policy of its own.  Only peers the core's peer policy allows
 * (SO_PEERCRED users, inet addresses) are served.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_POLICY_POLICY_H
#define DOMSEC_POLICY_POLICY_H

#include <stddef.h>
#include "domsec/peer.h"
#include "domsec/session.h"
#include "request.h"

#define DS_POLICY_MAX_CONNECTIONS 512
#define DS_POLICY_IDLE_TIMEOUT_S  330   /* Postfix closes idle ones at 300 s */

/*
 * Serves listen_fd (from ds_listen) in a thread, one thread per connection
 * from a peer that the current generation's peer policy allows (others are
 * logged and disconnected); each request is answered by the current
 * generation's core (domsec/generation.h).  Returns 0, or -1 with err.
 */
int ds_policy_start(int listen_fd, char *err, size_t errlen);

/* Stops accepting, closes every connection and waits at most deadline_s
 * for the connection threads to finish; returns how many are still busy
 * (0 when all finished). */
int ds_policy_stop(int deadline_s);

/*
 * Answers one complete request (exposed for tests): writes the reply line
 * without the terminating empty line.
 */
void ds_policy_answer(struct ds_core *core, const struct ds_policy_request *req,
    char *reply, size_t replylen);

#endif
