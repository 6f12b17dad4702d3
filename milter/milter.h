/*
 * milter.h - the libmilter front end (Postfix smtpd_milters, Sendmail
 * INPUT_MAIL_FILTER): session facts from macros, the decision (handed off
 * by the policy service or taken here), refusals, removal of forged trust
 * headers and the Domain Secured header.
 */
#ifndef DOMSEC_MILTER_MILTER_H
#define DOMSEC_MILTER_MILTER_H

#include <stddef.h>
#include "domsec/config.h"
#include "domsec/inbound.h"
#include "domsec/sessions.h"

/*
 * Registers the filter and opens spec ("inet:PORT@HOST", "inet:HOST:PORT",
 * "unix:/path", ...) before the daemon forks, so that a busy port is reported
 * on the terminal.  Returns 0, or -1 with err.
 */
int ds_milter_open(const char *spec, char *err, size_t errlen);

/* Runs libmilter until ds_milter_stop(), SIGTERM or SIGINT (libmilter's
 * signal thread also takes SIGHUP as "stop": domsecd keeps SIGHUP from it,
 * see milter/domsecd.c).  facts_handoff (may be NULL) holds the
 * policy service's facts per session.  Returns 0, or -1 on failure. */
int ds_milter_run(struct ds_inbound *in, const struct ds_config *cfg,
    struct ds_sessions *facts_handoff);

/* Asks libmilter to stop (ds_milter_run then returns); any thread. */
void ds_milter_stop(void);

/* Waits (at most timeout_s) until no milter session is active; returns how
 * many are still active (0 when drained). */
int ds_milter_drain(int timeout_s);

/* The spec in the form libmilter takes ("inet:PORT@HOST", "inet6:PORT@HOST",
 * "unix:/path"); returns 0, or -1 when spec is not valid. */
int ds_milter_spec(const char *spec, char *out, size_t outlen);

#endif
