/*
 * verdict.h - the outcome of a Domain Security check, and what each verdict
 * means to an MTA (SMTP reply) and to domsecctl (exit status).
 *
 * Exactly one verdict ends every check of a message from a partner.  The
 * table lives in DESIGN.md section 4.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_VERDICT_H
#define DOMSEC_VERDICT_H

#include <stddef.h>

enum ds_verdict {
	DS_VERDICT_SECURED = 0,
	DS_VERDICT_NO_TLS,
	DS_VERDICT_NO_CERTIFICATE,
	DS_VERDICT_UNTRUSTED,
	DS_VERDICT_NAME_MISMATCH,
	DS_VERDICT_REVOKED,
	DS_VERDICT_REVOCATION_UNAVAILABLE,
	DS_VERDICT_UNKNOWN_CERTIFICATE,
	DS_VERDICT_UNALIGNED,
	DS_VERDICT_COUNT
};

/* "secured", "no-tls", ..., "unaligned"; never NULL. */
const char *ds_verdict_name(enum ds_verdict v);

/* Parses a verdict name; returns 0 on success, -1 if unknown. */
int ds_verdict_parse(const char *name, enum ds_verdict *out);

/* 1 for verdicts that defer (4xx): revocation-unavailable, unknown-certificate. */
int ds_verdict_is_temporary(enum ds_verdict v);

/* 1 for verdicts that mean "accept" in enforce mode (secured, unaligned). */
int ds_verdict_accepts(enum ds_verdict v);

/*
 * The SMTP reply for a refusing verdict in enforce mode:
 * no-tls 530 5.7.0; no-certificate, untrusted, name-mismatch, revoked
 * 550 5.7.1; revocation-unavailable, unknown-certificate 451 4.7.5.
 * text names the domain and the reason, e.g.
 * "certificate for woodgrovebank.com revoked".
 */
#define DS_REPLY_TEXT_MAX 300   /* bytes of reply text the front ends send
                                   (SMTP lines end at 512 with codes and
                                   the MTA's prefixes) */

struct ds_reply {
	char rcode[4];   /* "550" */
	char xcode[8];   /* "5.7.1" */
	char text[400];  /* without codes */
};

/* Fills *out; returns 0 when the verdict refuses, 1 when it accepts (out untouched). */
int ds_verdict_reply(enum ds_verdict v, const char *domain, const char *reason,
    struct ds_reply *out);

/* domsecctl exit status: 0 secured, 1 untrusted/name-mismatch/revoked (and the
 * other permanent failures), 75 revocation-unavailable/unknown-certificate. */
int ds_verdict_exit_status(enum ds_verdict v);

#define DS_EXIT_OK        0
#define DS_EXIT_FAIL      1
#define DS_EXIT_USAGE     64
#define DS_EXIT_TEMPFAIL  75
#define DS_EXIT_CONFIG    78

#endif
