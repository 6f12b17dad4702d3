/*
 * outbound.h - outbound Domain Security (DESIGN.md section 7): the TLS policy
 * that Postfix's smtp_tls_policy_maps asks for, per destination.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_OUTBOUND_H
#define DOMSEC_OUTBOUND_H

#include <stddef.h>
#include "domsec/config.h"
#include "domsec/engine.h"

struct ds_outbound;

struct ds_outbound *ds_outbound_new(const struct ds_config *cfg,
    struct ds_engine *engine, char *err, size_t errlen);
void ds_outbound_free(struct ds_outbound *ob);

/*
 * key as Postfix sends it: "example.com", "[host]:port", "host", any case.
 * Writes the socketmap reply payload into reply: "OK <policy>",
 * "NOTFOUND ", "TEMP <reason>".  Returns 0.
 */
int ds_outbound_policy(struct ds_outbound *ob, const char *key, char *reply,
    size_t replylen);

/* The transport_maps answer for a recipient domain: "OK <transport>" for
 * partners in the send direction, "NOTFOUND ". */
int ds_outbound_transport(struct ds_outbound *ob, const char *key, char *reply,
    size_t replylen);

/* ---- Additions by the outbound module (not part of the original contract) ---- */

#include <time.h>
#include "domsec/mx.h"
#include "domsec/partners.h"

/* The master.cf transport that presents our client certificate; partner
 * domains are routed to it by ds_outbound_transport(). */
#define DS_OUTBOUND_TRANSPORT_DEFAULT "domsec-partner"

/* Definitive failures are cached at most this long (the partner may fix its
 * certificate); temporary failures are never cached. */
#define DS_OUTBOUND_FAILURE_TTL_S 300
/* A secured answer is cached at most this long while some other MX host
 * failed temporarily (it may come back with a good certificate). */
#define DS_OUTBOUND_PARTIAL_TTL_S 300

/* At most this many addresses are probed per destination (in parallel). */
#define DS_OUTBOUND_MAX_TARGETS 32

/* A SHA-256 fingerprint no certificate has: the match list of a policy that
 * can never be satisfied (Postfix defers, then bounces). */
#define DS_OUTBOUND_IMPOSSIBLE_FP \
	"00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:" \
	"00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00"

/* A lookup key as Postfix sends it, taken apart. */
struct ds_outbound_key {
	char host[256];     /* lower case, no brackets, no trailing dot */
	int port;           /* 0 = the default port (ProbePort) */
	int literal;        /* "[host]" form: no MX lookup */
	int parent;         /* ".example.com": Postfix's parent-domain retry */
};

/*
 * Normalises "Example.COM", "example.com.", "[mx.example.com]:25",
 * "[mx.example.com]", "mx.example.com:2525", ".example.com" (leading and
 * trailing white space ignored).  Returns 0, or -1 when the key is malformed
 * (empty host, bad port, unbalanced brackets, characters that are not in a
 * host name or address).
 */
int ds_outbound_parse_key(const char *key, struct ds_outbound_key *out);

/* Canonical text of a key ("example.com", "[mx.example.com]:25"). */
void ds_outbound_key_format(const struct ds_outbound_key *k, char *out,
    size_t outlen);

/* Use this name server instead of the system resolver (tests).  NULL
 * restores the system resolver. */
void ds_outbound_set_resolver(struct ds_outbound *ob, const struct ds_resolver *r);

/* The transport name answered for partners (default DS_OUTBOUND_TRANSPORT_DEFAULT). */
int ds_outbound_set_transport(struct ds_outbound *ob, const char *name);

/* Forgets every cached answer. */
void ds_outbound_flush(struct ds_outbound *ob);

/* What one probed address showed. */
struct ds_outbound_host {
	char name[256];         /* MX host name (or the literal host) */
	int preference;         /* MX preference, -1 implicit/literal */
	char addr[DS_ADDR_TEXT_LEN];
	int port;
	int probed;             /* 1: a certificate chain was received */
	int temporary;          /* failure may go away */
	char error[512];        /* DNS or probe failure, when !probed */
	char tls_version[32];
	char cipher[128];
	char fingerprint[DS_FP_TEXT_LEN]; /* SHA-256 of the presented leaf */
	struct ds_verify_result vr;       /* when probed */
	int verify_failed;      /* ds_engine_verify returned -1 (error in error[]) */
	int secured;            /* verdict secured: this leaf may be pinned */
};

enum ds_outbound_outcome {
	DS_OUTBOUND_SECURED = 0,   /* at least one host verified */
	DS_OUTBOUND_TEMPORARY,     /* none verified, some failed temporarily */
	DS_OUTBOUND_FAILED         /* every host failed definitively */
};

struct ds_outbound_assessment {
	char domain[256];          /* domain the certificates were checked for */
	enum ds_outbound_outcome outcome;
	char reason[1024];         /* in words, for logs and TEMP replies */
	struct ds_outbound_host *hosts;  /* owned */
	size_t n_hosts;
	time_t valid_until;        /* earliest CRL nextUpdate / notAfter of the
	                              verified chains (0 when none) */
};

/*
 * Finds the destination's servers (MX or, for literal keys, the host), probes
 * each address with STARTTLS in parallel and verifies each certificate chain
 * for domain with the engine (partner p: may be NULL).  Used by the policy
 * map and by `domsecctl probe`.  Returns 0 (a->outcome says how it went).
 */
int ds_outbound_assess(struct ds_outbound *ob, const struct ds_outbound_key *key,
    const char *domain, const struct ds_partner *p,
    struct ds_outbound_assessment *a);
void ds_outbound_assessment_free(struct ds_outbound_assessment *a);

/* The socketmap reply an enforcing policy map gives for an assessment:
 * "OK fingerprint match=FP1|FP2", "TEMP reason", or the unsatisfiable
 * "OK fingerprint match=" DS_OUTBOUND_IMPOSSIBLE_FP.  Returns 0. */
int ds_outbound_reply_for(const struct ds_outbound_assessment *a, char *reply,
    size_t replylen);

/*
 * The socketmap "delivery" table, for Postfix's smtp_delivery_status_filter
 * on the partner transport: counts a 2.x.x status as a Domain-Secured
 * message sent, 4.x.x or 5.x.x as an outbound session failure; always
 * answers NOTFOUND (nothing changes).
 */
void ds_outbound_delivery_status(const char *key, char *reply, size_t replylen);

#endif
