/*
 * acquire_discovery.c - discovery of a certificate the MTA reported but no
 * pin holds: probe the client's address, then the partner domain's MX
 * hosts, with STARTTLS until one presents the wanted leaf.  Results are
 * cached per (fingerprint, domain), positive for DiscoveryCacheTTL and
 * negative for DiscoveryNegativeTTL; what a domain's MX hosts presented is
 * kept too, so that a stream of new fingerprints cannot make us probe them
 * again and again.  One discovery per key at a time; others wait for it.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "acquire_internal.h"
#include "domsec/cidr.h"
#include "domsec/fmt.h"
#include "domsec/log.h"
#include "domsec/probe.h"

static void mx_seen_free(struct mx_seen *m)
{
	for (size_t i = 0; i < m->n; i++)
		sk_X509_pop_free(m->chains[i], X509_free);
	free(m);
}

static void entry_free(struct disc_entry *e)
{
	if (e->chain != NULL)
		sk_X509_pop_free(e->chain, X509_free);
	free(e);
}

void ds_acquire_discovery_free(struct ds_acquire *a)
{
	for (struct disc_entry *e = a->cache, *next; e != NULL; e = next) {
		next = e->next;
		entry_free(e);
	}
	for (struct mx_seen *m = a->mx_seen, *next; m != NULL; m = next) {
		next = m->next;
		mx_seen_free(m);
	}
	a->cache = NULL;
	a->n_cache = 0;
	a->mx_seen = NULL;
	a->n_mx_seen = 0;
}

void ds_acquire_set_resolver(struct ds_acquire *a, const struct ds_resolver *r)
{
	pthread_mutex_lock(&a->lock);
	if (r != NULL) {
		a->resolver = *r;
		a->have_resolver = 1;
	} else {
		a->have_resolver = 0;
	}
	pthread_mutex_unlock(&a->lock);
}

unsigned long ds_acquire_probe_count(const struct ds_acquire *a)
{
	return atomic_load(&((struct ds_acquire *)a)->probes);
}

void ds_acquire_flush_cache(struct ds_acquire *a)
{
	pthread_mutex_lock(&a->lock);
	struct disc_entry **pp = &a->cache;
	while (*pp != NULL) {
		if ((*pp)->busy) {
			pp = &(*pp)->next;
			continue;
		}
		struct disc_entry *dead = *pp;
		*pp = dead->next;
		entry_free(dead);
		a->n_cache--;
	}
	for (struct mx_seen *m = a->mx_seen, *next; m != NULL; m = next) {
		next = m->next;
		mx_seen_free(m);
	}
	a->mx_seen = NULL;
	a->n_mx_seen = 0;
	pthread_mutex_unlock(&a->lock);
}

static struct disc_entry *cache_find(struct ds_acquire *a,
    const unsigned char *fp, const char *domain)
{
	for (struct disc_entry *e = a->cache; e != NULL; e = e->next)
		if (memcmp(e->fp, fp, DS_FP_SHA256_LEN) == 0 &&
		    strcasecmp(e->domain, domain) == 0)
			return e;
	return NULL;
}

static void cache_unlink(struct ds_acquire *a, struct disc_entry *victim)
{
	for (struct disc_entry **pp = &a->cache; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == victim) {
			*pp = victim->next;
			a->n_cache--;
			return;
		}
	}
}

/* Drops expired entries, then the one expiring first, until there is room.
 * Lock held; busy entries are never dropped. */
static void cache_make_room(struct ds_acquire *a, time_t now)
{
	struct disc_entry **pp = &a->cache;

	while (*pp != NULL) {
		if (!(*pp)->busy && (*pp)->expires <= now) {
			struct disc_entry *dead = *pp;
			*pp = dead->next;
			entry_free(dead);
			a->n_cache--;
			continue;
		}
		pp = &(*pp)->next;
	}
	while (a->n_cache >= DISCOVERY_CACHE_MAX) {
		struct disc_entry *first = NULL;
		for (struct disc_entry *e = a->cache; e != NULL; e = e->next)
			if (!e->busy && (first == NULL || e->expires < first->expires))
				first = e;
		if (first == NULL)
			return;
		cache_unlink(a, first);
		entry_free(first);
	}
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

struct discovery {
	struct ds_acquire *a;
	const unsigned char *fp;
	const char *domain;
	long deadline_ms;
	char tried[DISCOVERY_MAX_PROBES][DS_ADDR_TEXT_LEN];
	size_t n_tried;
	char detail[768];
	size_t detail_len;
	STACK_OF(X509) *chain;
	char origin[300];
	int mx_phase;                /* probing MX hosts: keep what they show */
	size_t n_seen;
	STACK_OF(X509) *seen[DISCOVERY_MAX_PROBES];
	char seen_origin[DISCOVERY_MAX_PROBES][300];
};

static void note(struct discovery *d, const char *text)
{
	size_t n = strlen(text);

	if (d->detail_len + n + 3 >= sizeof d->detail)
		return;
	if (d->detail_len > 0) {
		memcpy(d->detail + d->detail_len, "; ", 2);
		d->detail_len += 2;
	}
	memcpy(d->detail + d->detail_len, text, n + 1);
	d->detail_len += n;
}

/* Probes one address; returns 1 when it presented the wanted certificate. */
static int try_address(struct discovery *d, const char *addr, const char *host)
{
	const struct ds_config *cfg = d->a->cfg;
	struct ds_probe_result res;
	unsigned char got[DS_FP_SHA256_LEN] = { 0 };
	char canon[DS_ADDR_TEXT_LEN], text[400];
	long left = d->deadline_ms - now_ms();
	long timeout = cfg->probe_timeout_ms > 0 ? cfg->probe_timeout_ms : 10000;

	ds_addr_canonical(addr, canon, sizeof canon);
	for (size_t i = 0; i < d->n_tried; i++)
		if (strcmp(d->tried[i], canon) == 0)
			return 0;
	if (d->n_tried >= DISCOVERY_MAX_PROBES || left < 100)
		return 0;
	ds_format_truncated(d->tried[d->n_tried++], DS_ADDR_TEXT_LEN, "%s",
	    canon);
	if (timeout > left)
		timeout = left;
	atomic_fetch_add(&d->a->probes, 1);
	if (ds_probe_starttls(canon, cfg->probe_port > 0 ? cfg->probe_port : 25,
	    host, cfg->helo_name, timeout, NULL, NULL, &res) != 0) {
		note(d, res.error);
		return 0;
	}
	if (ds_cert_fingerprint(sk_X509_value(res.chain, 0), got) == 0 &&
	    memcmp(got, d->fp, DS_FP_SHA256_LEN) == 0) {
		d->chain = res.chain;
		res.chain = NULL;
		if (host != NULL && host[0] != '\0')
			ds_format_truncated(d->origin, sizeof d->origin,
			    "%s [%s] port %d", host, canon, cfg->probe_port);
		else
			ds_format_truncated(d->origin, sizeof d->origin,
			    "%s port %d", canon, cfg->probe_port);
		ds_probe_result_free(&res);
		return 1;
	}
	char gotfp[DS_FP_TEXT_LEN];
	ds_fingerprint_format(got, gotfp);
	if (host != NULL && host[0] != '\0')
		ds_format_truncated(text, sizeof text, "%s [%s] port %d "
		    "presented another certificate (fingerprint %s)", host,
		    canon, cfg->probe_port, gotfp);
	else
		ds_format_truncated(text, sizeof text, "%s port %d presented "
		    "another certificate (fingerprint %s)", canon,
		    cfg->probe_port, gotfp);
	note(d, text);
	if (d->mx_phase && d->n_seen < DISCOVERY_MAX_PROBES) {
		ds_format_truncated(d->seen_origin[d->n_seen],
		    sizeof d->seen_origin[0], "%s [%s] port %d",
		    host && host[0] ? host : canon, canon, cfg->probe_port);
		d->seen[d->n_seen++] = res.chain;
		res.chain = NULL;
	}
	ds_probe_result_free(&res);
	return 0;
}

/*
 * Compares the wanted fingerprint with what the domain's MX hosts showed
 * recently (struct mx_seen).  1: one of them matches (d->chain set); 0: a
 * fresh record exists and nothing matches (no probes needed); -1: no fresh
 * record, probe them.
 */
static int mx_seen_check(struct discovery *d)
{
	struct ds_acquire *a = d->a;
	int rc = -1;
	time_t now = time(NULL);

	pthread_mutex_lock(&a->lock);
	for (struct mx_seen *m = a->mx_seen; m != NULL; m = m->next) {
		if (strcasecmp(m->domain, d->domain) != 0 || m->expires <= now)
			continue;
		rc = 0;
		for (size_t i = 0; i < m->n; i++) {
			unsigned char got[DS_FP_SHA256_LEN];
			if (ds_cert_fingerprint(sk_X509_value(m->chains[i], 0), got) == 0 &&
			    memcmp(got, d->fp, DS_FP_SHA256_LEN) == 0) {
				d->chain = X509_chain_up_ref(m->chains[i]);
				ds_format_truncated(d->origin, sizeof d->origin,
				    "%s", m->origins[i]);
				rc = d->chain != NULL ? 1 : 0;
				break;
			}
		}
		if (rc == 0) {
			char text[900];
			ds_format_truncated(text, sizeof text, "the MX hosts of "
			    "%s were probed less than DiscoveryNegativeTTL ago "
			    "and presented no such certificate: %s", d->domain,
			    m->detail);
			note(d, text);
		}
		break;
	}
	pthread_mutex_unlock(&a->lock);
	return rc;
}

/* Records what every MX host presented after a discovery that probed them
 * all without a match (taking the chains over from d). */
static void mx_seen_record(struct discovery *d, const char *mx_detail)
{
	struct ds_acquire *a = d->a;
	struct mx_seen *m = calloc(1, sizeof *m);
	time_t now = time(NULL);

	if (m == NULL)
		return;
	ds_format_truncated(m->domain, sizeof m->domain, "%s", d->domain);
	m->expires = now + a->cfg->discovery_negative_ttl_s;
	ds_format_truncated(m->detail, sizeof m->detail, "%s", mx_detail);
	for (size_t i = 0; i < d->n_seen; i++) {
		m->chains[m->n] = d->seen[i];
		ds_format_truncated(m->origins[m->n], sizeof m->origins[0],
		    "%s", d->seen_origin[i]);
		m->n++;
		d->seen[i] = NULL;
	}
	d->n_seen = 0;
	pthread_mutex_lock(&a->lock);
	/* Replace an older record for the domain; drop expired ones; bound. */
	for (struct mx_seen **pp = &a->mx_seen; *pp != NULL; ) {
		if (strcasecmp((*pp)->domain, m->domain) == 0 || (*pp)->expires <= now ||
		    a->n_mx_seen >= DISCOVERY_CACHE_MAX) {
			struct mx_seen *dead = *pp;
			*pp = dead->next;
			mx_seen_free(dead);
			a->n_mx_seen--;
			continue;
		}
		pp = &(*pp)->next;
	}
	m->next = a->mx_seen;
	a->mx_seen = m;
	a->n_mx_seen++;
	pthread_mutex_unlock(&a->lock);
}

static void discovery_release(struct discovery *d)
{
	for (size_t i = 0; i < d->n_seen; i++)
		if (d->seen[i] != NULL)
			sk_X509_pop_free(d->seen[i], X509_free);
	d->n_seen = 0;
}

static int discover(struct discovery *d, const char *client_addr)
{
	struct ds_resolver r;
	struct ds_mx_result *mx;
	long probe_ms = d->a->cfg->probe_timeout_ms > 0 ?
	    d->a->cfg->probe_timeout_ms : 10000;

	d->deadline_ms = now_ms() + 2 * probe_ms;
	if (client_addr != NULL && client_addr[0] != '\0') {
		int fam;
		unsigned char tmp[16];
		if (ds_addr_parse(client_addr, &fam, tmp) == 0 &&
		    try_address(d, client_addr, NULL))
			return 1;
	}
	switch (mx_seen_check(d)) {
	case 1:
		return 1;
	case 0:
		return 0;
	default:
		break;
	}
	if (d->deadline_ms - now_ms() < 200) {
		note(d, "no time left for the MX hosts");
		return 0;
	}
	d->mx_phase = 1;

	pthread_mutex_lock(&d->a->lock);
	if (d->a->have_resolver) {
		r = d->a->resolver;
	} else {
		/* The system resolver, with waits that fit the time left. */
		memset(&r, 0, sizeof r);
		r.tries = 1;
		r.timeout_s = (int)((d->deadline_ms - now_ms()) / 3000);
		if (r.timeout_s < 1)
			r.timeout_s = 1;
		if (r.timeout_s > 5)
			r.timeout_s = 5;
	}
	pthread_mutex_unlock(&d->a->lock);

	mx = calloc(1, sizeof *mx);
	if (mx == NULL) {
		note(d, "out of memory");
		return 0;
	}
	ds_mx_lookup(d->domain, &r, mx);
	if (mx->status != DS_MX_OK && mx->n_hosts == 0) {
		char text[600];
		ds_format_truncated(text, sizeof text, "MX lookup for %s: %s",
		    d->domain,
		    mx->error[0] ? mx->error : ds_mx_status_name(mx->status));
		note(d, text);
	}
	size_t mx_detail_from = d->detail_len;
	int complete = mx->status == DS_MX_OK || mx->status == DS_MX_NO_DOMAIN ||
	    mx->status == DS_MX_NULL_MX;
	for (size_t h = 0; h < mx->n_hosts; h++) {
		const struct ds_mx_host *host = &mx->hosts[h];
		if (host->n_addrs == 0 && host->addr_error[0] != '\0')
			note(d, host->addr_error);
		for (size_t i = 0; i < host->n_addrs; i++) {
			if (try_address(d, host->addrs[i], host->name)) {
				free(mx);
				discovery_release(d);
				return 1;
			}
		}
	}
	free(mx);
	/* Remember a complete, fruitless round (not one cut short by the
	 * deadline or the probe limit, nor a DNS failure). */
	if (complete && d->deadline_ms - now_ms() > 0 &&
	    d->n_tried < DISCOVERY_MAX_PROBES)
		mx_seen_record(d, d->detail + mx_detail_from +
		    (mx_detail_from > 0 && d->detail_len > mx_detail_from ? 2 : 0));
	discovery_release(d);
	return 0;
}

int ds_acquire_find_discovered(struct ds_acquire *a,
    const unsigned char fp[DS_FP_SHA256_LEN], const char *domain,
    const char *client_addr, struct ds_acquire_result *res)
{
	const struct ds_config *cfg = a->cfg;
	struct disc_entry *e;
	struct discovery d;
	char fptext[DS_FP_TEXT_LEN];

	pthread_mutex_lock(&a->lock);
	for (;;) {
		e = cache_find(a, fp, domain);
		if (e == NULL)
			break;
		if (e->busy) {
			pthread_cond_wait(&a->done, &a->lock);
			continue;
		}
		if (e->expires > time(NULL)) {
			res->cached = 1;
			if (e->chain != NULL) {
				res->chain = X509_chain_up_ref(e->chain);
				ds_format_truncated(res->source,
				    sizeof res->source, "discovered");
				ds_format_truncated(res->origin,
				    sizeof res->origin, "%s", e->origin);
			} else {
				ds_format_truncated(res->detail,
				    sizeof res->detail, "%s (cached)",
				    e->detail);
			}
			pthread_mutex_unlock(&a->lock);
			return res->chain != NULL ? 0 : -1;
		}
		cache_unlink(a, e);               /* expired */
		entry_free(e);
		break;
	}
	if (a->n_cache >= DISCOVERY_CACHE_MAX)
		cache_make_room(a, time(NULL));
	e = calloc(1, sizeof *e);
	if (e == NULL) {
		pthread_mutex_unlock(&a->lock);
		ds_format_truncated(res->detail, sizeof res->detail,
		    "out of memory");
		return -1;
	}
	memcpy(e->fp, fp, DS_FP_SHA256_LEN);
	ds_format_truncated(e->domain, sizeof e->domain, "%s", domain);
	e->busy = 1;
	e->next = a->cache;
	a->cache = e;
	a->n_cache++;
	pthread_mutex_unlock(&a->lock);

	/* The probes run without the lock; others wanting this key wait. */
	memset(&d, 0, sizeof d);
	d.a = a;
	d.fp = fp;
	d.domain = domain;
	int found = discover(&d, client_addr);
	ds_fingerprint_format(fp, fptext);
	if (found) {
		ds_log(LOG_INFO, "discovery: certificate %s for %s found at %s",
		    fptext, domain, d.origin);
	} else {
		char detail[sizeof d.detail];
		ds_format_truncated(detail, sizeof detail, "%s", d.detail);
		ds_format_truncated(d.detail, sizeof d.detail, "discovery found "
		    "no certificate with fingerprint %s for %s: %s", fptext,
		    domain, detail[0] ? detail : "nothing to probe");
		ds_log(LOG_INFO, "%s", d.detail);
	}

	pthread_mutex_lock(&a->lock);
	e->busy = 0;
	e->chain = d.chain;
	ds_format_truncated(e->origin, sizeof e->origin, "%s", d.origin);
	ds_format_truncated(e->detail, sizeof e->detail, "%s", d.detail);
	e->expires = time(NULL) + (found ? cfg->discovery_ttl_s :
	    cfg->discovery_negative_ttl_s);
	if (found) {
		res->chain = X509_chain_up_ref(e->chain);
		ds_format_truncated(res->source, sizeof res->source,
		    "discovered");
		ds_format_truncated(res->origin, sizeof res->origin, "%s",
		    e->origin);
	} else {
		ds_format_truncated(res->detail, sizeof res->detail, "%s",
		    e->detail);
	}
	pthread_cond_broadcast(&a->done);
	pthread_mutex_unlock(&a->lock);
	return res->chain != NULL ? 0 : -1;
}
