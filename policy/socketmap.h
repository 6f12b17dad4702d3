/*
 * socketmap.h - the Postfix socketmap front end of domsecd (socketmap_table(5)):
 * answers smtp_tls_policy_maps and transport_maps lookups for outbound
 * Domain Security.
 *
 * Requests are netstrings "NAME KEY"; NAME selects the map:
 *   tlspolicy   ds_outbound_policy()    (smtp_tls_policy_maps =
 *                                        socketmap:inet:127.0.0.1:PORT:tlspolicy)
 *   transport   ds_outbound_transport() (transport_maps =
 *                                        socketmap:inet:127.0.0.1:PORT:transport)
 * Replies are netstrings "OK data", "NOTFOUND ", "TEMP reason" or
 * "PERM reason".  One thread accepts, one thread serves each connection;
 * pipelined requests on a connection are answered in order.  A request longer
 * than DS_SOCKETMAP_MAX_REQUEST bytes or a malformed netstring is answered
 * with PERM and the connection is closed.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_POLICY_SOCKETMAP_H
#define DOMSEC_POLICY_SOCKETMAP_H

#include <stddef.h>
#include "domsec/outbound.h"
#include "domsec/peer.h"

#define DS_SOCKETMAP_MAX_REQUEST 4096     /* bytes of "NAME KEY" */
#define DS_SOCKETMAP_IDLE_TIMEOUT_S 300   /* idle connections are closed */
#define DS_SOCKETMAP_MAX_CONNECTIONS 256  /* more are closed at once, logged */

/*
 * Listens on spec (listen.h syntax, e.g. "inet:12345@127.0.0.1") and serves
 * lookups in background threads, each from the outbound policy of the
 * current configuration generation (TEMP while none is loaded).  Returns 0,
 * or -1 with err.  One server per process.
 */
int ds_socketmap_start(const char *spec, char *err, size_t errlen);

/* The bound TCP port (useful with port 0), or 0 for unix sockets / not
 * started. */
int ds_socketmap_port(void);

/* Stops accepting, waits for the connection threads to finish their current
 * request and closes everything.  Safe to call when not started. */
void ds_socketmap_stop(void);

/*
 * Answers one request payload (without the netstring framing) into reply
 * (NUL-terminated, at most replylen-1 bytes).  Exposed for unit tests.
 */
void ds_socketmap_answer(struct ds_outbound *ob, const char *request,
    size_t request_len, char *reply, size_t replylen);

#endif
