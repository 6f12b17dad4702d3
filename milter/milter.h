/*
 * milter.h - the libmilter front end (Postfix smtpd_milters and
 * non_smtpd_milters, Sendmail INPUT_MAIL_FILTER): translates libmilter's
 * callbacks into the core session API (domsec/session.h) and its answers
 * (refusals, header removals and additions) back.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_MILTER_MILTER_H
#define DOMSEC_MILTER_MILTER_H

#include <stddef.h>
#include "domsec/config.h"
#include "domsec/peer.h"
#include "domsec/session.h"

/*
 * Registers the filter and opens spec ("inet:PORT@HOST", "inet:HOST:PORT",
 * "unix:/path", ...) before the daemon forks, so that a busy port is reported
 * on the terminal; a unix socket gets SocketOwner, SocketGroup and
 * SocketMode.  Returns 0, or -1 with err.
 */
int ds_milter_open(const char *spec, const struct ds_config *cfg, char *err,
    size_t errlen);

/* Runs libmilter until ds_milter_stop(), SIGTERM or SIGINT (libmilter's
 * signal thread also takes SIGHUP as "stop": domsecd keeps SIGHUP from it,
 * see daemon/domsecd.c).  Each connection uses the current configuration
 * generation (domsec/generation.h) until it closes; with check_peers,
 * peers its PeerUsers/PeerAddresses do not allow are refused.  Returns 0,
 * or -1 on failure. */
int ds_milter_run(int check_peers);

/* Asks libmilter to stop (ds_milter_run then returns, within about 5 s);
 * any thread; returns at once. */
void ds_milter_stop(void);

/* Waits (at most timeout_s) until no milter session is active; returns how
 * many are still active (0 when drained). */
int ds_milter_drain(int timeout_s);

/* The spec in the form libmilter takes ("inet:PORT@HOST", "inet6:PORT@HOST",
 * "unix:/path"); returns 0, or -1 when spec is not valid. */
int ds_milter_spec(const char *spec, char *out, size_t outlen);

#endif
