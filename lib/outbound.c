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
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "domsec/inbound.h"
#include "domsec/log.h"
#include "domsec/names.h"
#include "domsec/outbound.h"
#include "domsec/probe.h"
#include "domsec/x509info.h"

#define CACHE_MAX_ENTRIES 4096

struct cache_entry {
	char key[300];
	char *reply;            /* NULL while in_progress */
	time_t expires;
	int in_progress;
	struct cache_entry *next;
};

struct ds_outbound {
	const struct ds_config *cfg;
	struct ds_engine *engine;
	struct ds_resolver resolver;   /* server "" = system */
	char transport[DS_CONFIG_TRANSPORT_MAX + 1];
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct cache_entry *cache;
	size_t n_cache;
};

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

static void cache_clear(struct ds_outbound *ob, int keep_in_progress)
{
	struct cache_entry **pp = &ob->cache;

	while (*pp != NULL) {
		struct cache_entry *e = *pp;

		if (keep_in_progress && e->in_progress) {
			pp = &e->next;
			continue;
		}
		*pp = e->next;
		free(e->reply);
		free(e);
		ob->n_cache--;
	}
}

void ds_outbound_free(struct ds_outbound *ob)
{
	if (ob == NULL)
		return;
	cache_clear(ob, 0);
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
	cache_clear(ob, 1);
	pthread_mutex_unlock(&ob->lock);
}

/* ---- keys ---- */

static int host_char_ok(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_' ||
	    c == ':' || c == '*';
}

static int parse_port(const char *s, size_t n, int *port)
{
	long v = 0;

	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

int ds_outbound_parse_key(const char *key, struct ds_outbound_key *out)
{
	const char *start, *end, *host, *host_end;
	size_t hl;

	memset(out, 0, sizeof *out);
	if (key == NULL)
		return -1;
	start = key;
	while (*start == ' ' || *start == '\t')
		start++;
	end = start + strlen(start);
	while (end > start && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r' || end[-1] == '\n'))
		end--;
	if (start == end)
		return -1;
	if (*start == '[') {
		const char *close = memchr(start, ']', (size_t)(end - start));

		if (close == NULL)
			return -1;
		host = start + 1;
		host_end = close;
		out->literal = 1;
		if (close + 1 < end) {
			if (close[1] != ':' ||
			    parse_port(close + 2, (size_t)(end - close - 2), &out->port) != 0)
				return -1;
		}
	} else {
		const char *colon = memchr(start, ':', (size_t)(end - start));

		host = start;
		host_end = end;
		if (colon != NULL) {
			/* "host:port"; a bare IPv6 address has more than one ':'
			 * and is not a key Postfix sends without brackets. */
			if (memchr(colon + 1, ':', (size_t)(end - colon - 1)) != NULL)
				return -1;
			if (parse_port(colon + 1, (size_t)(end - colon - 1), &out->port) != 0)
				return -1;
			host_end = colon;
		}
		if (*host == '.') {
			out->parent = 1;
			host++;
		}
	}
	if (host_end > host && host_end[-1] == '.')
		host_end--;
	hl = (size_t)(host_end - host);
	if (hl == 0 || hl >= sizeof out->host)
		return -1;
	for (size_t i = 0; i < hl; i++) {
		if (!host_char_ok(host[i]))
			return -1;
		out->host[i] = (char)tolower((unsigned char)host[i]);
	}
	out->host[hl] = '\0';
	if (!out->literal && strchr(out->host, ':') != NULL)
		return -1;
	return 0;
}

void ds_outbound_key_format(const struct ds_outbound_key *k, char *out,
    size_t outlen)
{
	if (k->literal && k->port)
		snprintf(out, outlen, "[%s]:%d", k->host, k->port);
	else if (k->literal)
		snprintf(out, outlen, "[%s]", k->host);
	else if (k->port)
		snprintf(out, outlen, "%s%s:%d", k->parent ? "." : "", k->host, k->port);
	else
		snprintf(out, outlen, "%s%s", k->parent ? "." : "", k->host);
}

/* ---- probing and verification ---- */

struct probe_job {
	struct ds_outbound *ob;
	const struct ds_partner *partner;
	const char *domain;
	struct ds_outbound_host *host;
};

static void probe_and_verify(struct probe_job *job)
{
	const struct ds_config *cfg = job->ob->cfg;
	struct ds_outbound_host *h = job->host;
	struct ds_probe_result pr;
	char err[256] = "";
	unsigned char fp[DS_FP_SHA256_LEN];

	memset(&pr, 0, sizeof pr);
	if (ds_probe_starttls(h->addr, h->port, h->name,
	    cfg->helo_name ? cfg->helo_name : "localhost", cfg->probe_timeout_ms,
	    NULL, NULL, &pr) != 0 || pr.chain == NULL ||
	    sk_X509_num(pr.chain) == 0) {
		h->temporary = pr.temporary;
		snprintf(h->error, sizeof h->error, "%s",
		    pr.error[0] ? pr.error : "no certificate received");
		ds_probe_result_free(&pr);
		return;
	}
	h->probed = 1;
	snprintf(h->tls_version, sizeof h->tls_version, "%s", pr.tls_version);
	snprintf(h->cipher, sizeof h->cipher, "%s", pr.cipher);
	if (ds_cert_fingerprint(sk_X509_value(pr.chain, 0), fp) == 0)
		ds_fingerprint_format(fp, h->fingerprint);

	struct ds_verify_request req = {
		.presented = pr.chain,
		.domain = job->domain,
		.partner = job->partner,
		.at = 0,
	};
	if (job->ob->engine == NULL ||
	    ds_engine_verify(job->ob->engine, &req, &h->vr, err, sizeof err) != 0) {
		h->verify_failed = 1;
		h->temporary = 1;
		snprintf(h->error, sizeof h->error, "verification error: %s",
		    err[0] ? err : "no verification engine");
	} else if (h->vr.verdict == DS_VERDICT_SECURED && h->fingerprint[0]) {
		h->secured = 1;
	} else {
		h->temporary = ds_verdict_is_temporary(h->vr.verdict);
		snprintf(h->error, sizeof h->error, "%s: %.440s",
		    ds_verdict_name(h->vr.verdict), h->vr.reason);
	}
	ds_probe_result_free(&pr);
}

static void *probe_thread(void *arg)
{
	probe_and_verify(arg);
	return NULL;
}

static int add_target(struct ds_outbound_assessment *a, size_t cap,
    const char *name, int pref, const char *addr, int port)
{
	struct ds_outbound_host *h;

	if (a->n_hosts == cap)
		return -1;
	h = &a->hosts[a->n_hosts++];
	snprintf(h->name, sizeof h->name, "%s", name);
	h->preference = pref;
	snprintf(h->addr, sizeof h->addr, "%s", addr);
	h->port = port;
	return 0;
}

/* Earliest of a and b, where 0 means "no limit". */
static time_t earliest(time_t a, time_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

static void summarise(struct ds_outbound_assessment *a)
{
	size_t secured = 0, temporary = 0, len = 0;

	a->valid_until = 0;
	a->reason[0] = '\0';
	for (size_t i = 0; i < a->n_hosts; i++) {
		struct ds_outbound_host *h = &a->hosts[i];

		if (h->secured) {
			secured++;
			for (size_t c = 0; c < h->vr.chain_len && c < DS_CHAIN_INFO_MAX; c++)
				a->valid_until = earliest(a->valid_until,
				    h->vr.chain[c].not_after);
			for (size_t r = 0; r < h->vr.rev.n_reports &&
			    r < DS_CRL_REPORT_MAX; r++)
				a->valid_until = earliest(a->valid_until,
				    h->vr.rev.reports[r].next_update);
			continue;
		}
		if (h->temporary)
			temporary++;
		if (len < sizeof a->reason - 1) {
			int n = snprintf(a->reason + len, sizeof a->reason - len,
			    "%s%s [%s]:%d: %s", len ? "; " : "", h->name, h->addr,
			    h->port, h->error);
			if (n > 0)
				len += (size_t)n;
		}
	}
	if (secured > 0)
		a->outcome = DS_OUTBOUND_SECURED;
	else if (temporary > 0)
		a->outcome = DS_OUTBOUND_TEMPORARY;
	else
		a->outcome = DS_OUTBOUND_FAILED;
}

int ds_outbound_assess(struct ds_outbound *ob, const struct ds_outbound_key *key,
    const char *domain, const struct ds_partner *p,
    struct ds_outbound_assessment *a)
{
	struct ds_resolver resolver;
	struct ds_mx_result *mx;
	struct probe_job jobs[DS_OUTBOUND_MAX_TARGETS];
	pthread_t threads[DS_OUTBOUND_MAX_TARGETS];
	int started[DS_OUTBOUND_MAX_TARGETS];
	int port = key->port ? key->port : (ob->cfg->probe_port ? ob->cfg->probe_port : 25);

	memset(a, 0, sizeof *a);
	snprintf(a->domain, sizeof a->domain, "%s", domain);
	a->hosts = calloc(DS_OUTBOUND_MAX_TARGETS, sizeof *a->hosts);
	mx = calloc(1, sizeof *mx);
	if (a->hosts == NULL || mx == NULL) {
		free(mx);
		a->outcome = DS_OUTBOUND_TEMPORARY;
		snprintf(a->reason, sizeof a->reason, "out of memory");
		return 0;
	}
	pthread_mutex_lock(&ob->lock);
	resolver = ob->resolver;
	pthread_mutex_unlock(&ob->lock);

	if (key->literal) {
		mx->n_hosts = 1;
		snprintf(mx->hosts[0].name, sizeof mx->hosts[0].name, "%s", key->host);
		mx->hosts[0].preference = -1;
		if (ds_host_addresses(key->host, &resolver, &mx->hosts[0]) == 0)
			mx->status = DS_MX_OK;
		else {
			mx->status = mx->hosts[0].addr_temporary ? DS_MX_TEMPORARY :
			    DS_MX_NO_DOMAIN;
			snprintf(mx->error, sizeof mx->error, "%s",
			    mx->hosts[0].addr_error);
		}
	} else {
		ds_mx_lookup(key->host, &resolver, mx);
	}
	if (mx->status != DS_MX_OK) {
		a->outcome = mx->status == DS_MX_TEMPORARY ? DS_OUTBOUND_TEMPORARY :
		    DS_OUTBOUND_FAILED;
		snprintf(a->reason, sizeof a->reason, "%s", mx->error);
		free(mx);
		return 0;
	}
	for (size_t i = 0; i < mx->n_hosts; i++) {
		const struct ds_mx_host *m = &mx->hosts[i];

		if (m->n_addrs == 0) {
			/* Report the host so that the reason names it. */
			if (add_target(a, DS_OUTBOUND_MAX_TARGETS, m->name,
			    m->preference, "-", port) == 0) {
				struct ds_outbound_host *h = &a->hosts[a->n_hosts - 1];
				h->temporary = m->addr_temporary;
				snprintf(h->error, sizeof h->error, "%s", m->addr_error);
			}
			continue;
		}
		for (size_t k = 0; k < m->n_addrs; k++)
			add_target(a, DS_OUTBOUND_MAX_TARGETS, m->name, m->preference,
			    m->addrs[k], port);
	}
	free(mx);

	for (size_t i = 0; i < a->n_hosts; i++) {
		started[i] = 0;
		if (strcmp(a->hosts[i].addr, "-") == 0)
			continue;
		jobs[i] = (struct probe_job){ ob, p, a->domain, &a->hosts[i] };
		if (pthread_create(&threads[i], NULL, probe_thread, &jobs[i]) == 0)
			started[i] = 1;
		else
			probe_and_verify(&jobs[i]);
	}
	for (size_t i = 0; i < a->n_hosts; i++)
		if (started[i])
			pthread_join(threads[i], NULL);
	summarise(a);
	return 0;
}

void ds_outbound_assessment_free(struct ds_outbound_assessment *a)
{
	free(a->hosts);
	a->hosts = NULL;
	a->n_hosts = 0;
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

/* Finds a cache entry, waiting while another thread computes it.  Returns
 * 1 with reply filled on a hit; 0 when the caller must compute (an
 * in-progress entry for key has been created).  Called with the lock. */
static int cache_get_or_claim(struct ds_outbound *ob, const char *key,
    char *reply, size_t replylen)
{
	for (;;) {
		struct cache_entry **pp = &ob->cache, *found = NULL;
		time_t now = time(NULL);

		while (*pp != NULL) {
			struct cache_entry *e = *pp;

			if (!e->in_progress && e->expires <= now) {
				*pp = e->next;
				free(e->reply);
				free(e);
				ob->n_cache--;
				continue;
			}
			if (strcmp(e->key, key) == 0)
				found = e;
			pp = &e->next;
		}
		if (found != NULL && found->in_progress) {
			pthread_cond_wait(&ob->changed, &ob->lock);
			continue;
		}
		if (found != NULL) {
			snprintf(reply, replylen, "%s", found->reply);
			return 1;
		}
		struct cache_entry *e = calloc(1, sizeof *e);
		if (e != NULL) {
			snprintf(e->key, sizeof e->key, "%s", key);
			e->in_progress = 1;
			e->next = ob->cache;
			ob->cache = e;
			ob->n_cache++;
		}
		return 0;
	}
}

static void cache_finish(struct ds_outbound *ob, const char *key,
    const char *reply, long ttl)
{
	struct cache_entry **pp = &ob->cache;

	while (*pp != NULL) {
		struct cache_entry *e = *pp;

		if (e->in_progress && strcmp(e->key, key) == 0) {
			e->reply = ttl > 0 && ob->n_cache <= CACHE_MAX_ENTRIES ?
			    strdup(reply) : NULL;
			if (e->reply == NULL) {
				*pp = e->next;
				free(e);
				ob->n_cache--;
			} else {
				e->in_progress = 0;
				e->expires = time(NULL) + ttl;
			}
			break;
		}
		pp = &e->next;
	}
	pthread_cond_broadcast(&ob->changed);
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
	int hit = cache_get_or_claim(ob, keytext, reply, replylen);
	pthread_mutex_unlock(&ob->lock);
	if (hit)
		return 0;

	ds_outbound_assess(ob, &k, domain, p, &a);
	ttl = policy_reply(ob, keytext, p, &a, reply, replylen);
	ds_outbound_assessment_free(&a);

	pthread_mutex_lock(&ob->lock);
	cache_finish(ob, keytext, reply, ttl);
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
