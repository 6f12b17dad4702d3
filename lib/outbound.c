/*
 * outbound.c - outbound Domain Security (DESIGN.md section 7): the TLS policy
 * Postfix's smtp_tls_policy_maps asks for, and the transport_maps answer that
 * routes partner mail through the transport presenting our certificate.
 *
 * For a partner in the send direction: MX hosts (or the address records) ->
 * STARTTLS probe of every address, in parallel -> engine verification of each
 * chain for the partner domain -> "OK fingerprint match=FP1|FP2" pinning the
 * leaves that verified.  Temporary failures answer TEMP (Postfix defers);
 * definitive ones answer a policy no server can satisfy.  Answers are cached
 * per key until the earliest CRL nextUpdate / certificate notAfter of the
 * verified chains or OutboundCacheTTL, whichever comes first.
 *
 * This file holds the object and the two map answers; the answer cache is
 * lib/outbound_cache.c, the probes and verification lib/outbound_assess.c,
 * the lookup keys lib/outbound_key.c.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "domsec/inbound.h"
#include "domsec/log.h"
#include "outbound_internal.h"

struct ds_outbound *ds_outbound_new(const struct ds_config *cfg,
    struct ds_engine *engine, char *err, size_t errlen)
{
	struct ds_outbound *ob;

	if (cfg == NULL) {
		snprintf(err, errlen, "outbound: no configuration");
		return NULL;
	}
	ob = calloc(1, sizeof *ob);
	if (ob == NULL) {
		snprintf(err, errlen, "outbound: out of memory");
		return NULL;
	}
	ob->cfg = cfg;
	ob->engine = engine;
	snprintf(ob->transport, sizeof ob->transport, "%s",
	    DS_OUTBOUND_TRANSPORT_DEFAULT);
	pthread_mutex_init(&ob->lock, NULL);
	pthread_cond_init(&ob->changed, NULL);
	if (cfg->outbound_transport != NULL &&
	    ds_outbound_set_transport(ob, cfg->outbound_transport) != 0) {
		snprintf(err, errlen, "outbound: OutboundTransport \"%.200s\" is "
		    "not a Postfix transport name", cfg->outbound_transport);
		ds_outbound_free(ob);
		return NULL;
	}
	return ob;
}

void ds_outbound_free(struct ds_outbound *ob)
{
	if (ob == NULL)
		return;
	ds_outbound_cache_clear(ob, 0);
	pthread_mutex_destroy(&ob->lock);
	pthread_cond_destroy(&ob->changed);
	free(ob);
}

void ds_outbound_set_resolver(struct ds_outbound *ob, const struct ds_resolver *r)
{
	pthread_mutex_lock(&ob->lock);
	if (r == NULL)
		memset(&ob->resolver, 0, sizeof ob->resolver);
	else
		ob->resolver = *r;
	pthread_mutex_unlock(&ob->lock);
}

int ds_outbound_set_transport(struct ds_outbound *ob, const char *name)
{
	if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof ob->transport)
		return -1;
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
			return -1;
	pthread_mutex_lock(&ob->lock);
	snprintf(ob->transport, sizeof ob->transport, "%s", name);
	pthread_mutex_unlock(&ob->lock);
	return 0;
}

void ds_outbound_flush(struct ds_outbound *ob)
{
	pthread_mutex_lock(&ob->lock);
	ds_outbound_cache_clear(ob, 1);
	pthread_mutex_unlock(&ob->lock);
}

/* ---- the policy map ---- */

static void log_hosts(const char *keytext, const struct ds_outbound_assessment *a)
{
	for (size_t i = 0; i < a->n_hosts; i++) {
		const struct ds_outbound_host *h = &a->hosts[i];

		if (h->secured)
			ds_log(LOG_INFO, "outbound %s: %s [%s]:%d secured for %s: "
			    "subject \"%s\", issuer \"%s\", serial %s, "
			    "fingerprint %s, %s %s", keytext, h->name, h->addr,
			    h->port, a->domain, h->vr.chain[0].subject,
			    h->vr.chain[0].issuer, h->vr.chain[0].serial,
			    h->fingerprint, h->tls_version, h->cipher);
		else
			ds_log(LOG_NOTICE, "outbound %s: %s [%s]:%d not usable for "
			    "%s (%s): %s", keytext, h->name, h->addr, h->port,
			    a->domain, h->temporary ? "temporary" : "definitive",
			    h->error);
	}
}

int ds_outbound_reply_for(const struct ds_outbound_assessment *a, char *reply,
    size_t replylen)
{
	size_t len;

	if (a->outcome == DS_OUTBOUND_TEMPORARY) {
		snprintf(reply, replylen, "TEMP domsec: no verified server for %s "
		    "yet: %s", a->domain, a->reason);
		return 0;
	}
	if (a->outcome == DS_OUTBOUND_FAILED) {
		snprintf(reply, replylen, "OK fingerprint match=%s",
		    DS_OUTBOUND_IMPOSSIBLE_FP);
		return 0;
	}
	len = (size_t)snprintf(reply, replylen, "OK fingerprint match=");
	for (size_t i = 0; i < a->n_hosts && len < replylen; i++) {
		const struct ds_outbound_host *h = &a->hosts[i];
		int dup = 0;

		if (!h->secured)
			continue;
		for (size_t k = 0; k < i; k++)
			if (a->hosts[k].secured &&
			    strcmp(a->hosts[k].fingerprint, h->fingerprint) == 0)
				dup = 1;
		if (dup || len + strlen(h->fingerprint) + 2 >= replylen)
			continue;
		len += (size_t)snprintf(reply + len, replylen - len, "%s%s",
		    reply[len - 1] == '=' ? "" : "|", h->fingerprint);
	}
	return 0;
}

/* Builds the reply for a finished assessment, logs it; returns the cache
 * lifetime in seconds (0: do not cache). */
static long policy_reply(struct ds_outbound *ob, const char *keytext,
    const struct ds_partner *p, const struct ds_outbound_assessment *a,
    char *reply, size_t replylen)
{
	long ttl = ob->cfg->outbound_ttl_s > 0 ? ob->cfg->outbound_ttl_s : 0;
	time_t now = time(NULL);
	int monitor = p->mode == DS_MODE_MONITOR;
	const char *note = monitor ? "; monitor mode: not enforced" : "";

	log_hosts(keytext, a);
	ds_outbound_reply_for(a, reply, replylen);
	if (a->outcome == DS_OUTBOUND_SECURED) {
		int partial = 0;

		for (size_t i = 0; i < a->n_hosts; i++)
			if (!a->hosts[i].secured && a->hosts[i].temporary)
				partial = 1;
		if (a->valid_until > now && a->valid_until - now < ttl)
			ttl = (long)(a->valid_until - now);
		else if (a->valid_until != 0 && a->valid_until <= now)
			ttl = 0;
		if (partial && ttl > DS_OUTBOUND_PARTIAL_TTL_S)
			ttl = DS_OUTBOUND_PARTIAL_TTL_S;
		ds_log(LOG_INFO, "outbound %s: partner %s: delivery allowed only to "
		    "servers presenting %s (cached %lds)%s", keytext, a->domain,
		    strchr(reply, '=') + 1, ttl, note);
	} else if (a->outcome == DS_OUTBOUND_TEMPORARY) {
		ds_log(LOG_WARNING, "outbound %s: partner %s: deferring mail "
		    "(temporary): %s%s", keytext, a->domain, a->reason, note);
		ttl = 0;
	} else {
		ds_counter_add(DS_COUNT_OUTBOUND_FAILURES, 1);
		ds_log(LOG_ERR, "outbound %s: partner %s: no server presents a "
		    "valid certificate for %s, %s: %s", keytext, a->domain,
		    a->domain, monitor ? "monitor mode: delivering anyway "
		    "(enforce mode would keep the mail queued)" :
		    "mail stays queued until one does (or bounces at "
		    "maximal_queue_lifetime)", a->reason);
		if (ttl > DS_OUTBOUND_FAILURE_TTL_S)
			ttl = DS_OUTBOUND_FAILURE_TTL_S;
	}
	if (monitor)
		snprintf(reply, replylen, "NOTFOUND ");
	return ttl;
}

int ds_outbound_policy(struct ds_outbound *ob, const char *key, char *reply,
    size_t replylen)
{
	struct ds_outbound_key k;
	struct ds_outbound_assessment a;
	const struct ds_partner *p;
	char keytext[300];
	const char *domain;
	long ttl;

	if (ds_outbound_parse_key(key, &k) != 0) {
		ds_log(LOG_WARNING, "outbound: malformed TLS policy lookup key "
		    "\"%.200s\"", key ? key : "");
		snprintf(reply, replylen, "PERM malformed lookup key");
		return 0;
	}
	/* A ".domain" key is Postfix retrying the parent domain after the
	 * full name was NOTFOUND; the full name was already decided. */
	p = k.parent ? NULL :
	    ds_partners_lookup(&ob->cfg->partners, k.host, DS_DIR_SEND);
	/* An explicit next hop "[mx.partner.example]" names a server: it
	 * belongs to the partner whose domain is its parent (one node deep,
	 * as the name rules allow). */
	if (p == NULL && k.literal && strchr(k.host, '.') != NULL &&
	    strchr(k.host, ':') == NULL)
		p = ds_partners_lookup(&ob->cfg->partners,
		    strchr(k.host, '.') + 1, DS_DIR_SEND);
	if (p == NULL) {
		snprintf(reply, replylen, "NOTFOUND ");
		return 0;
	}
	ds_outbound_key_format(&k, keytext, sizeof keytext);
	/* The certificate must be valid for the recipient domain; for an
	 * explicit "[host]" next hop, for the partner entry's domain. */
	domain = k.literal ? p->domain : k.host;

	pthread_mutex_lock(&ob->lock);
	int hit = ds_outbound_cache_get_or_claim(ob, keytext, reply, replylen);
	pthread_mutex_unlock(&ob->lock);
	if (hit)
		return 0;

	ds_outbound_assess(ob, &k, domain, p, &a);
	ttl = policy_reply(ob, keytext, p, &a, reply, replylen);
	ds_outbound_assessment_free(&a);

	pthread_mutex_lock(&ob->lock);
	ds_outbound_cache_finish(ob, keytext, reply, ttl);
	pthread_mutex_unlock(&ob->lock);
	return 0;
}

int ds_outbound_transport(struct ds_outbound *ob, const char *key, char *reply,
    size_t replylen)
{
	struct ds_outbound_key k;
	const struct ds_partner *p = NULL;

	/* transport_maps may ask with the full recipient address (Postfix
	 * treats a socketmap like a pattern table and sends "user@domain"
	 * only): route by the domain after the last '@'. */
	if (key != NULL && strrchr(key, '@') != NULL)
		key = strrchr(key, '@') + 1;
	if (key != NULL && ds_outbound_parse_key(key, &k) == 0 && !k.literal &&
	    !k.parent && k.port == 0)
		p = ds_partners_lookup(&ob->cfg->partners, k.host, DS_DIR_SEND);
	if (p == NULL) {
		snprintf(reply, replylen, "NOTFOUND ");
		return 0;
	}
	pthread_mutex_lock(&ob->lock);
	snprintf(reply, replylen, "OK %s:", ob->transport);
	pthread_mutex_unlock(&ob->lock);
	return 0;
}
