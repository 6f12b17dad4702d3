/*
 * inbound.h - inbound Domain Security decisions, shared by the milter and
 * the policy front ends (which only translate vocabularies).
 *
 *   facts -> partner lookup (receive direction) -> certificate acquisition
 *   (pinned by fingerprint, or discovery) -> engine (chain, names, CRLs)
 *   -> verdict -> reply, log line, counters.
 *
 * Thread-safe: one struct ds_inbound serves every connection.  Nothing here
 * calls libmilter.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_INBOUND_H
#define DOMSEC_INBOUND_H

#include <stddef.h>
#include "domsec/config.h"
#include "domsec/counters.h"
#include "domsec/engine.h"
#include "domsec/facts.h"
#include "domsec/partners.h"
#include "domsec/verdict.h"

struct ds_inbound;

struct ds_inbound *ds_inbound_new(const struct ds_config *cfg,
    struct ds_engine *engine, char *err, size_t errlen);
void ds_inbound_free(struct ds_inbound *in);
/* The certificate acquisition (pinned index, discovery cache) behind
 * this core, see domsec/acquire.h. */
struct ds_acquire *ds_inbound_acquire(struct ds_inbound *in);

struct ds_decision {
	int is_partner;           /* 0: not a listed receive partner (accept) */
	char domain[256];         /* partner domain D (sender domain) */
	enum ds_mode mode;
	enum ds_verdict verdict;
	int refuse;               /* 1: reply with .reply (enforce mode and a
	                             refusing verdict) */
	struct ds_reply reply;
	char reason[512];
	char matched_name[256];
	struct ds_cert_info leaf; /* valid when have_leaf */
	int have_leaf;
	char cert_source[32];     /* "pinned", "discovered", "" */
	int trusted_relay;        /* 1: the client is a TrustedRelays address;
	                             is_partner is then 0 and nothing is judged */
	char action[16];          /* what the log line said: "accept",
	                             "reject", "defer", "none" (non-partner) */
	char tls_version[32];     /* copied from the facts decided on, so that a
	                             recalled decision can still build headers */
	char cipher[128];
	char fingerprint[DS_FP_TEXT_LEN]; /* SHA-256 the MTA reported, "" none */
	char client_addr[64];     /* copied from the facts, for later log lines */
	int client_port;
	char helo[256];
	char queue_id[32];        /* the MTA's queue id when known, "" */
};

/*
 * Decides for the envelope sender domain in facts (callers pass the From
 * header domain as sender_domain for the null sender).  May wait on the
 * network (acquisition, CRL fetch), always bounded by the configured
 * timeouts.  Neither counts nor logs the verdict: ds_inbound_conclude does,
 * once per message, when the verdict is final.  Returns 0.
 */
int ds_inbound_decide(struct ds_inbound *in, const struct ds_facts *facts,
    const char *sender_domain, struct ds_decision *out);

/* The verdict cache behind ds_inbound_decide: a certificate verdict for a
 * partner is reused while the fingerprint, partner entry and CRL
 * generation (ds_crl_generation()) match, for at most 60 s; never for
 * transient verdicts; dropped with in (a reload).  Lookups that found and
 * did not find an entry so far. */
void ds_inbound_cache_stats(struct ds_inbound *in, unsigned long *hits,
    unsigned long *misses);

/* Counts the final verdict of a partner message and logs its one verdict
 * line (with queue_id when not NULL or ""); nothing for non-partners. */
void ds_inbound_conclude(struct ds_inbound *in, struct ds_decision *d,
    const struct ds_facts *facts, const char *queue_id);

/*
 * From alignment at end of message: from_domains are the domains of every
 * From header address (n may be 0; "" never aligns), from_problem why a
 * From header could not be read (NULL or "" when all could).  Turns a
 * secured decision into unaligned unless every From domain is covered by
 * the partner entry.  Returns the final verdict.
 */
enum ds_verdict ds_inbound_align(struct ds_inbound *in, struct ds_decision *d,
    const char *const *from_domains, size_t n, const char *from_problem);

/* 1 when the client address is a configured trusted relay (keeps its trust
 * headers). */
int ds_inbound_relay_trusted(const struct ds_inbound *in, const char *client_addr);

/*
 * 1 when a header arriving from outside must be removed: our header name
 * (any content, even unparseable), an Authentication-Results header bearing
 * our authserv-id (any content), or an X-MS-Exchange-Organization-Auth*
 * header when ExchangeHeaders is on.
 */
int ds_inbound_header_is_ours(const struct ds_inbound *in, const char *name,
    const char *value);

/* The headers to add for a secured decision, in insertion order (each to be
 * inserted at index 0, so the last one ends up on top).  Returns 0 (adds
 * nothing) unless d is a secured partner decision in enforce mode.  facts
 * may be NULL (the TLS version then comes from d).  Values are one line
 * each (never folded), under 998 characters with the name. */
struct ds_header {
	char name[64];
	char value[1024];
};
#define DS_HEADERS_MAX 5
size_t ds_inbound_headers(const struct ds_inbound *in, const struct ds_decision *d,
    const struct ds_facts *facts, struct ds_header *out, size_t max);

#endif
