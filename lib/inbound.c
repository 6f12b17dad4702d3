/*
 * inbound.c - inbound Domain Security decisions (DESIGN.md section 4):
 * partner lookup, certificate acquisition by fingerprint, verification by
 * the engine, the verdict with its reply, log line and counters; From
 * alignment; the headers of a secured message.  The session rules (which
 * facts, when, hand-off between front ends) live in session.c; this file
 * decides for one set of facts.  Never calls libmilter.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "domsec/acquire.h"
#include "domsec/cidr.h"
#include "domsec/crl.h"
#include "domsec/fmt.h"
#include "domsec/inbound.h"
#include "domsec/log.h"
#include "domsec/metrics.h"
#include "domsec/trust_headers.h"
#include "domsec/verdict_log.h"

/*
 * The verdict cache: a verified certificate's verdict for a partner,
 * reused while the fingerprint, the partner entry and the CRL generation
 * it was verified under (ds_crl_generation()) are the same, for at most
 * VCACHE_TTL_S seconds (and never past the leaf's notAfter), so that time
 * (expiry, a CRL's nextUpdate) is seen again soon.  It lives in struct
 * ds_inbound, which each configuration generation makes anew: a reload
 * drops it.  Transient verdicts (revocation-unavailable,
 * unknown-certificate, an internal failure) are never cached.
 * Direct-mapped by fingerprint and partner domain: a collision replaces.
 */
#define VCACHE_SLOTS 1024
#define VCACHE_TTL_S 60

struct vcache_entry {
	int used;
	unsigned char fp[DS_FP_SHA256_LEN];
	const struct ds_partner *partner;
	char domain[256];
	unsigned long crl_gen;
	time_t expires;
	enum ds_verdict verdict;
	char reason[512];
	char matched_name[256];
	struct ds_cert_info leaf;
	int have_leaf;
	char cert_source[32];
};

struct ds_inbound {
	const struct ds_config *cfg;
	struct ds_engine *engine;
	struct ds_acquire *acquire;
	struct ds_cidr_list relays;
	char authserv_id[256];
	pthread_mutex_t vc_lock;
	struct vcache_entry *vcache;      /* VCACHE_SLOTS, NULL: no cache */
	unsigned long vc_hits, vc_misses;
};

struct ds_inbound *ds_inbound_new(const struct ds_config *cfg,
    struct ds_engine *engine, char *err, size_t errlen)
{
	struct ds_inbound *in = calloc(1, sizeof *in);

	if (in == NULL) {
		snprintf(err, errlen, "inbound: out of memory");
		return NULL;
	}
	in->cfg = cfg;
	in->engine = engine;
	if (cfg->authserv_id != NULL && cfg->authserv_id[0] != '\0')
		snprintf(in->authserv_id, sizeof in->authserv_id, "%s", cfg->authserv_id);
	else if (gethostname(in->authserv_id, sizeof in->authserv_id - 1) != 0)
		snprintf(in->authserv_id, sizeof in->authserv_id, "localhost");
	if (ds_cidr_list_build(&in->relays, &cfg->trusted_relays, err, errlen) != 0) {
		free(in);
		return NULL;
	}
	in->acquire = ds_acquire_new(cfg, err, errlen);
	if (in->acquire == NULL) {
		ds_cidr_list_free(&in->relays);
		free(in);
		return NULL;
	}
	pthread_mutex_init(&in->vc_lock, NULL);
	in->vcache = calloc(VCACHE_SLOTS, sizeof *in->vcache);
	return in;
}

void ds_inbound_free(struct ds_inbound *in)
{
	if (in == NULL)
		return;
	free(in->vcache);
	pthread_mutex_destroy(&in->vc_lock);
	ds_acquire_free(in->acquire);
	ds_cidr_list_free(&in->relays);
	free(in);
}

/* For tests and domsecctl: the acquisition behind this inbound core. */
struct ds_acquire *ds_inbound_acquire(struct ds_inbound *in)
{
	return in->acquire;
}

static void lower_domain(const char *in, char *out, size_t outlen)
{
	size_t n = 0;

	for (; in != NULL && *in != '\0' && n + 1 < outlen; in++)
		out[n++] = (char)tolower((unsigned char)*in);
	out[n] = '\0';
	if (n > 0 && out[n - 1] == '.')
		out[n - 1] = '\0';
}

static void count_verdict(const struct ds_inbound *in,
    const struct ds_decision *d)
{
	const struct ds_partner *p = ds_partners_lookup(&in->cfg->partners,
	    d->domain, DS_DIR_RECEIVE);

	ds_counter_add((enum ds_counter)(DS_COUNT_VERDICT_BASE + d->verdict), 1);
	if (d->verdict == DS_VERDICT_SECURED && d->mode == DS_MODE_ENFORCE)
		ds_counter_add(DS_COUNT_SECURED_RECEIVED, 1);
	if (p != NULL) {
		ds_counter_partner_verdict(p->domain, d->verdict);
		if (d->have_leaf)
			ds_metrics_note_certificate(p->domain, d->leaf.fingerprint,
			    d->leaf.not_after);
	}
}

/* Sets refuse, reply and action from verdict and mode. */
static void settle(struct ds_decision *d)
{
	d->refuse = 0;
	memset(&d->reply, 0, sizeof d->reply);
	if (d->mode == DS_MODE_ENFORCE &&
	    ds_verdict_reply(d->verdict, d->domain, d->reason, &d->reply) == 0)
		d->refuse = 1;
	snprintf(d->action, sizeof d->action, "%s", d->mode == DS_MODE_MONITOR ?
	    "accept" : ds_verdict_action(d->verdict));
}

static void copy_leaf(struct ds_decision *d, const struct ds_verify_result *vr)
{
	if (vr->chain_len > 0) {
		d->leaf = vr->chain[0];
		d->have_leaf = 1;
	}
}

static void pin_advice(const struct ds_inbound *in, const struct ds_decision *d,
    const char *fptext)
{
	const char *dir = in->cfg->pinned_cert_dir;

	if (dir != NULL && dir[0] != '\0')
		ds_log(LOG_WARNING, "to accept mail from %s, save the partner's "
		    "certificate (leaf first, then its chain) as PEM in "
		    "PinnedCertDir %s (fingerprint %s), or name it with pin= on "
		    "the partner's line, then reload domsecd", d->domain, dir,
		    fptext);
	else
		ds_log(LOG_WARNING, "to accept mail from %s, save the partner's "
		    "certificate (leaf first, then its chain) as PEM in a "
		    "PinnedCertDir (fingerprint %s) or name it with pin= on the "
		    "partner's line, then reload domsecd", d->domain, fptext);
}

void ds_inbound_cache_stats(struct ds_inbound *in, unsigned long *hits,
    unsigned long *misses)
{
	pthread_mutex_lock(&in->vc_lock);
	*hits = in->vc_hits;
	*misses = in->vc_misses;
	pthread_mutex_unlock(&in->vc_lock);
}

/* The slot of (fingerprint, partner domain): FNV-1a over both. */
static struct vcache_entry *vcache_slot(struct ds_inbound *in,
    const unsigned char *fp, const char *domain)
{
	unsigned h = 2166136261u;

	for (size_t i = 0; i < 8; i++)
		h = (h ^ fp[i]) * 16777619u;
	for (const char *p = domain; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return &in->vcache[h % VCACHE_SLOTS];
}

/* 1 with d's verdict fields filled from the cache. */
static int vcache_get(struct ds_inbound *in, const unsigned char *fp,
    const struct ds_partner *partner, struct ds_decision *d)
{
	struct vcache_entry *e;
	int hit = 0;

	if (in->vcache == NULL)
		return 0;
	pthread_mutex_lock(&in->vc_lock);
	e = vcache_slot(in, fp, d->domain);
	if (e->used && e->partner == partner &&
	    memcmp(e->fp, fp, sizeof e->fp) == 0 &&
	    strcmp(e->domain, d->domain) == 0 &&
	    e->crl_gen == ds_crl_generation() && time(NULL) < e->expires) {
		d->verdict = e->verdict;
		memcpy(d->reason, e->reason, sizeof d->reason);
		memcpy(d->matched_name, e->matched_name,
		    sizeof d->matched_name);
		d->leaf = e->leaf;
		d->have_leaf = e->have_leaf;
		memcpy(d->cert_source, e->cert_source, sizeof d->cert_source);
		hit = 1;
	}
	if (hit)
		in->vc_hits++;
	else
		in->vc_misses++;
	pthread_mutex_unlock(&in->vc_lock);
	return hit;
}

/* Caches d's verdict, verified under CRL generation crl_gen, unless it is
 * transient. */
static void vcache_put(struct ds_inbound *in, const unsigned char *fp,
    const struct ds_partner *partner, const struct ds_decision *d,
    unsigned long crl_gen)
{
	struct vcache_entry *e;
	time_t now = time(NULL), expires = now + VCACHE_TTL_S;

	if (in->vcache == NULL ||
	    d->verdict == DS_VERDICT_REVOCATION_UNAVAILABLE ||
	    d->verdict == DS_VERDICT_UNKNOWN_CERTIFICATE)
		return;
	if (d->have_leaf && d->leaf.not_after > 0 &&
	    d->leaf.not_after < expires)
		expires = d->leaf.not_after;
	if (expires <= now)
		return;
	pthread_mutex_lock(&in->vc_lock);
	e = vcache_slot(in, fp, d->domain);
	memset(e, 0, sizeof *e);
	e->used = 1;
	memcpy(e->fp, fp, sizeof e->fp);
	e->partner = partner;
	snprintf(e->domain, sizeof e->domain, "%s", d->domain);
	e->crl_gen = crl_gen;
	e->expires = expires;
	e->verdict = d->verdict;
	memcpy(e->reason, d->reason, sizeof e->reason);
	memcpy(e->matched_name, d->matched_name, sizeof e->matched_name);
	e->leaf = d->leaf;
	e->have_leaf = d->have_leaf;
	memcpy(e->cert_source, d->cert_source, sizeof e->cert_source);
	pthread_mutex_unlock(&in->vc_lock);
}

/* The partner verdict proper, once TLS and a fingerprint are known. */
static void decide_certificate(struct ds_inbound *in, const struct ds_facts *f,
    const struct ds_partner *partner, struct ds_decision *d)
{
	struct ds_acquire_result acq;
	struct ds_verify_request req;
	struct ds_verify_result *vr;
	char err[256];
	unsigned long crl_gen = ds_crl_generation();
	int internal_failure = 0;

	if (vcache_get(in, f->fp, partner, d))
		return;
	if (ds_acquire_find(in->acquire, f->fp, d->domain, f->client_addr, &acq) != 0) {
		d->verdict = DS_VERDICT_UNKNOWN_CERTIFICATE;
		ds_format_truncated(d->reason, sizeof d->reason,
		    "the full certificate for %s (fingerprint %s) could not be "
		    "acquired, so its chain, names and revocation cannot be "
		    "checked: %.300s", d->domain, d->fingerprint, acq.detail);
		pin_advice(in, d, d->fingerprint);
		return;
	}
	snprintf(d->cert_source, sizeof d->cert_source, "%s", acq.source);
	vr = calloc(1, sizeof *vr);
	if (vr == NULL) {
		ds_acquire_result_free(&acq);
		d->verdict = DS_VERDICT_REVOCATION_UNAVAILABLE;
		ds_format_truncated(d->reason, sizeof d->reason,
		    "out of memory while verifying the certificate for %s",
		    d->domain);
		return;
	}
	memset(&req, 0, sizeof req);
	req.presented = acq.chain;
	req.domain = d->domain;
	req.partner = partner;
	req.at = 0;
	if (ds_engine_verify(in->engine, &req, vr, err, sizeof err) != 0) {
		/* An internal failure is never a pass, and may go away. */
		internal_failure = 1;
		d->verdict = DS_VERDICT_REVOCATION_UNAVAILABLE;
		ds_format_truncated(d->reason, sizeof d->reason,
		    "verification of the certificate for %s failed internally: "
		    "%s", d->domain, err);
		copy_leaf(d, vr);
	} else {
		d->verdict = vr->verdict;
		ds_format_truncated(d->reason, sizeof d->reason, "%s",
		    vr->reason);
		snprintf(d->matched_name, sizeof d->matched_name, "%s",
		    vr->matched_name);
		copy_leaf(d, vr);
	}
	ds_log(LOG_DEBUG, "certificate for %s acquired (%s, %s)", d->domain,
	    acq.source, acq.origin);
	if (!internal_failure)
		vcache_put(in, f->fp, partner, d, crl_gen);
	free(vr);
	ds_acquire_result_free(&acq);
}

int ds_inbound_decide(struct ds_inbound *in, const struct ds_facts *facts,
    const char *sender_domain, struct ds_decision *out)
{
	const struct ds_partner *partner;
	struct ds_decision *d = out;
	char derived[256];

	memset(d, 0, sizeof *d);
	d->verdict = DS_VERDICT_SECURED;        /* not meaningful for non-partners */
	d->mode = DS_MODE_ENFORCE;
	snprintf(d->tls_version, sizeof d->tls_version, "%s", facts->tls_version);
	snprintf(d->cipher, sizeof d->cipher, "%s", facts->cipher);
	if (facts->have_fp)
		ds_fingerprint_format(facts->fp, d->fingerprint);
	snprintf(d->client_addr, sizeof d->client_addr, "%s", facts->client_addr);
	d->client_port = facts->client_port;
	snprintf(d->helo, sizeof d->helo, "%s", facts->helo);

	if (sender_domain == NULL || sender_domain[0] == '\0') {
		if (ds_address_domain(facts->sender, derived, sizeof derived) != 0)
			derived[0] = '\0';
		sender_domain = derived;
	}
	lower_domain(sender_domain, d->domain, sizeof d->domain);

	if (ds_inbound_relay_trusted(in, facts->client_addr)) {
		d->trusted_relay = 1;
		snprintf(d->action, sizeof d->action, "accept");
		ds_format_truncated(d->reason, sizeof d->reason,
		    "client %s is a trusted relay", facts->client_addr);
		ds_log(LOG_DEBUG, "domain security: sender domain %s from trusted "
		    "relay %s: not checked", d->domain[0] ? d->domain : "(none)",
		    facts->client_addr);
		return 0;
	}
	partner = d->domain[0] ? ds_partners_lookup(&in->cfg->partners, d->domain,
	    DS_DIR_RECEIVE) : NULL;
	if (partner == NULL) {
		snprintf(d->action, sizeof d->action, "none");
		ds_log(LOG_DEBUG, "domain security: sender domain %s is not a "
		    "receive partner", d->domain[0] ? d->domain : "(none)");
		return 0;
	}
	d->is_partner = 1;
	d->mode = partner->mode;

	if (facts->tls != 1) {
		d->verdict = DS_VERDICT_NO_TLS;
		ds_format_truncated(d->reason, sizeof d->reason,
		    facts->tls == 0 ? "mail from %s must arrive over TLS; this "
		    "session was not encrypted" : "mail from %s must arrive "
		    "over TLS; the MTA did not report TLS for this session",
		    d->domain);
	} else if (facts->cert_presented == 0 ||
	    (facts->cert_presented < 0 && !facts->have_fp)) {
		d->verdict = DS_VERDICT_NO_CERTIFICATE;
		ds_format_truncated(d->reason, sizeof d->reason,
		    "mail from %s must come with a TLS client certificate; none "
		    "was presented", d->domain);
	} else if (!facts->have_fp) {
		d->verdict = DS_VERDICT_UNKNOWN_CERTIFICATE;
		ds_format_truncated(d->reason, sizeof d->reason,
		    "the MTA did not report the SHA-256 fingerprint of the "
		    "certificate for %s, so it cannot be acquired and checked "
		    "for revocation", d->domain);
		ds_log(LOG_WARNING, "to check certificates from %s, have the MTA "
		    "report their fingerprint: Postfix: check_policy_service with "
		    "domsecd's policy socket and smtpd_tls_fingerprint_digest = "
		    "sha256; Sendmail: CertFingerprintAlgorithm sha256", d->domain);
	} else {
		decide_certificate(in, facts, partner, d);
	}
	settle(d);
	return 0;
}

void ds_inbound_conclude(struct ds_inbound *in, struct ds_decision *d,
    const struct ds_facts *facts, const char *queue_id)
{
	if (!d->is_partner)
		return;
	snprintf(d->queue_id, sizeof d->queue_id, "%s", queue_id != NULL ?
	    queue_id : "");
	count_verdict(in, d);
	ds_verdict_log(d, facts);
}

enum ds_verdict ds_inbound_align(struct ds_inbound *in, struct ds_decision *d,
    const char *const *from_domains, size_t n, const char *from_problem)
{
	const struct ds_partner *partner;
	const char *bad = NULL;
	char dom[256];

	if (!d->is_partner || d->verdict != DS_VERDICT_SECURED)
		return d->verdict;
	partner = ds_partners_lookup(&in->cfg->partners, d->domain, DS_DIR_RECEIVE);
	if (n == 0) {
		bad = "";
	} else {
		for (size_t i = 0; i < n; i++) {
			lower_domain(from_domains[i] ? from_domains[i] : "", dom,
			    sizeof dom);
			if (partner == NULL || dom[0] == '\0' ||
			    !ds_partner_covers(partner, dom)) {
				bad = from_domains[i] ? from_domains[i] : "";
				break;
			}
		}
	}
	if (bad == NULL)
		return d->verdict;

	d->verdict = DS_VERDICT_UNALIGNED;
	if (n == 0)
		ds_format_truncated(d->reason, sizeof d->reason,
		    "certificate for %s verified, but the message has no From "
		    "header to vouch for; not tagged", d->domain);
	else if (bad[0] == '\0' && from_problem != NULL && from_problem[0] != '\0')
		ds_format_truncated(d->reason, sizeof d->reason,
		    "certificate for %s verified, but the From header is not a "
		    "clean RFC 5322 address list (%.120s); not tagged",
		    d->domain, from_problem);
	else
		ds_format_truncated(d->reason, sizeof d->reason,
		    "certificate for %s verified, but the From header domain "
		    "'%.200s' is not covered by the partner entry for %s; not "
		    "tagged", d->domain, bad[0] ? bad : "(none)", d->domain);
	settle(d);
	return d->verdict;
}

int ds_inbound_relay_trusted(const struct ds_inbound *in, const char *client_addr)
{
	return ds_cidr_list_match(&in->relays, client_addr);
}

int ds_inbound_header_is_ours(const struct ds_inbound *in, const char *name,
    const char *value)
{
	return ds_trust_header_is_ours(in->cfg->header_name ? in->cfg->header_name :
	    "X-Domain-Secured", in->authserv_id, in->cfg->exchange_headers, name,
	    value);
}

static int add_header(struct ds_header *out, size_t max, size_t *n,
    const char *name, const char *value)
{
	if (*n >= max)
		return -1;
	snprintf(out[*n].name, sizeof out[*n].name, "%s", name);
	snprintf(out[*n].value, sizeof out[*n].value, "%s", value);
	(*n)++;
	return 0;
}

size_t ds_inbound_headers(const struct ds_inbound *in, const struct ds_decision *d,
    const struct ds_facts *facts, struct ds_header *out, size_t max)
{
	const struct ds_config *cfg = in->cfg;
	char value[DS_HEADER_VALUE_MAX + 1];
	size_t n = 0;
	int null_sender;

	if (!d->is_partner || d->verdict != DS_VERDICT_SECURED ||
	    d->mode != DS_MODE_ENFORCE)
		return 0;
	null_sender = facts != NULL && facts->sender[0] == '\0';
	/* Inserted at index 0 one after the other: the last ends up on top. */
	if (cfg->exchange_headers) {
		add_header(out, max, &n, "X-MS-Exchange-Organization-AuthSource",
		    in->authserv_id);
		add_header(out, max, &n, "X-MS-Exchange-Organization-AuthDomain",
		    d->domain);
		add_header(out, max, &n, "X-MS-Exchange-Organization-AuthAs",
		    "Partner");
	}
	if (cfg->add_auth_results &&
	    ds_auth_results_value(in->authserv_id, d, null_sender, value,
	    sizeof value) == 0)
		add_header(out, max, &n, "Authentication-Results", value);
	if (ds_trust_header_value(in->authserv_id, d, facts != NULL &&
	    facts->tls_version[0] ? facts->tls_version : d->tls_version, value,
	    sizeof value) == 0)
		add_header(out, max, &n, cfg->header_name ? cfg->header_name :
		    "X-Domain-Secured", value);
	return n;
}
