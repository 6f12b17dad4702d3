/*
 * request.h - one Postfix policy delegation request (SMTPD_POLICY_README):
 * "name=value" lines ended by an empty line, and its translation into
 * struct ds_facts.  Only the attributes domsec uses are kept; the others are
 * counted and ignored.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_POLICY_REQUEST_H
#define DOMSEC_POLICY_REQUEST_H

#include <stddef.h>
#include "domsec/facts.h"
#include "domsec/verdict.h"

#define DS_POLICY_MAX_LINE   4096   /* bytes per attribute line */
#define DS_POLICY_MAX_ATTRS  256    /* attributes per request */

struct ds_policy_request {
	char request[64];
	char protocol_state[32];
	char client_address[64];
	char client_port[16];
	char helo_name[256];
	char sender[512];
	char recipient[512];
	char queue_id[64];
	char encryption_protocol[32];
	char encryption_cipher[128];
	char encryption_keysize[16];
	char ccert_subject[512];
	char ccert_issuer[512];
	char ccert_fingerprint[128];
	char ccert_pubkey_fingerprint[128];
	int n_attrs;
	char problem[128];   /* "" when well-formed */
};

void ds_policy_request_init(struct ds_policy_request *r);

/*
 * Takes one line without its newline.  Returns 1 when the line was empty
 * (end of request), 0 otherwise.  A malformed line (no '=', control
 * characters, too many attributes) sets r->problem and is otherwise
 * ignored; a value longer than its field is truncated and noted.
 */
int ds_policy_request_line(struct ds_policy_request *r, const char *line);

/* The request as session facts.  Returns 0, -1 when the client address or
 * port is missing (the hand-off to the milter needs both). */
int ds_policy_request_facts(const struct ds_policy_request *r, struct ds_facts *f);

/* Formats the reply line (without the final empty line): "action=DUNNO" or
 * "action=550 5.7.1 text"; the text is made safe (printable, one line)
 * and cut at DS_REPLY_TEXT_MAX bytes. */
void ds_policy_format_action(char *out, size_t outlen, const char *rcode,
    const char *xcode, const char *text);

#endif
