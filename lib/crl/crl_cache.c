/*
 * crl_cache.c - the CRL store's memory cache: one entry per distribution
 * point URL, and the fetch that refreshes it.
 *
 * Freshness: a copy is used without any network access until its
 * nextUpdate (a CRL without nextUpdate is revalidated, by conditional GET,
 * every refresh_before_s, at least every minute).  Concurrent requests for
 * one URL share one fetch (in_flight + the store's condition variable).  A
 * failed or bad fetch never replaces the good copy; it is remembered and the
 * URL is not tried again before a backoff (retry_backoff_s, doubling per
 * consecutive failure, at most 16 times) so a dead server is not hammered.
 * What is fetched is validated by crl_accept.c and saved by crl_disk.c.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/x509.h>
#include "crl_store_internal.h"

/* ---- entries ---- */

struct crl_entry *ds_crl_entry_find(struct ds_crl_store *s, const char *url,
    int create)
{
	struct crl_entry *e;

	for (e = s->entries; e; e = e->next)
		if (strcmp(e->url, url) == 0)
			return e;
	if (!create)
		return NULL;
	e = calloc(1, sizeof *e);
	if (e == NULL || (e->url = strdup(url)) == NULL) {
		free(e);
		return NULL;
	}
	ds_crl_cache_stem(url, e->stem);
	e->disk_checked = s->cache_dir == NULL;
	e->next = s->entries;
	s->entries = e;
	return e;
}

static int is_fresh(const struct ds_crl_store *s, const struct crl_entry *e,
    time_t now)
{
	long revalidate = s->o.refresh_before_s > 60 ? s->o.refresh_before_s : 60;

	if (e->data == NULL)
		return 0;
	if (e->data->next_update != 0)
		return now < e->data->next_update;
	return now < e->checked_at + revalidate;
}


static void note_failure(struct ds_crl_store *s, struct crl_entry *e,
    const char *why, time_t now)
{
	long delay = s->o.retry_backoff_s;
	int shift = e->failures < 4 ? e->failures : 4;

	e->failures++;
	delay <<= shift;
	e->retry_after = now + delay;
	snprintf(e->last_error, sizeof e->last_error, "%s", why);
}

/* See lib/crl/crl_store_internal.h. */
void ds_crl_entry_fetch_locked(struct ds_crl_store *s, struct crl_entry *e,
    X509 *issuer, long limit_ms, enum ds_crl_get_origin *origin)
{
	struct ds_crl_opts o = s->o;
	char etag[256], lm[128], why[256] = "";
	struct ds_fetch_result r;
	struct ds_crl_data *cur = e->data, *d = NULL;
	unsigned char *der = NULL;
	size_t der_len = 0;
	char *url = e->url;
	time_t now;
	int stored = 1;
	X509 *used = NULL, *known = e->issuer;   /* verified the cached copy */
	time_t fetched_at = e->fetched_at;
	char cur_path[4096];

	snprintf(etag, sizeof etag, "%s", cur ? e->etag : "");
	snprintf(lm, sizeof lm, "%s", cur ? e->last_modified : "");
	if (cur)
		ds_crl_data_ref(cur);
	if (known)
		X509_up_ref(known);
	if (issuer == NULL && e->issuer != NULL)
		issuer = e->issuer;
	if (issuer)
		X509_up_ref(issuer);
	pthread_mutex_unlock(&s->mu);

	if (limit_ms > 0 && limit_ms < o.timeout_ms)
		o.timeout_ms = limit_ms;
	if (o.connect_timeout_ms > o.timeout_ms)
		o.connect_timeout_ms = o.timeout_ms;
	ds_crl_fetch(&o, url, etag, lm, &r);
	now = time(NULL);
	if (r.status == DS_FETCH_OK) {
		/* the cached copy only counts (no going back to an older CRL)
		 * when it is known to come from this issuer */
		const struct ds_crl_data *floor = cur;
		if (cur != NULL && issuer != NULL) {
			if (s->cache_dir != NULL)
				ds_crl_disk_path(s, e->stem, ".crl", cur_path,
				    sizeof cur_path);
			if (ds_crl_store_verify(s, cur, s->cache_dir ? cur_path : NULL,
			    X509_get0_pubkey(issuer)) != 1)
				floor = NULL;
		}
		d = ds_crl_accept_body(s, url, &r.body, r.body_len, issuer, floor, &der,
		    &der_len, &used, why, sizeof why);
		if (d != NULL && s->cache_dir != NULL)
			stored = ds_crl_disk_save(s, url, e->stem, der, der_len,
			    r.etag, r.last_modified, now, now, d->sha256, used) == 0;
		if (d != NULL && s->cache_dir == NULL) {
			d->der = der;          /* memory only: keep for re-checks */
			d->der_len = der_len;
			der = NULL;
		}
	} else if (r.status == DS_FETCH_NOT_MODIFIED && cur != NULL &&
	    s->cache_dir != NULL) {
		ds_crl_disk_write_meta(s, url, e->stem, r.etag[0] ? r.etag : etag,
		    r.last_modified[0] ? r.last_modified : lm, fetched_at, now,
		    cur->sha256, known);
	}
	free(der);

	pthread_mutex_lock(&s->mu);
	if (r.status == DS_FETCH_OK && d != NULL) {
		ds_crl_data_unref(e->data);
		e->data = d;
		e->data_origin = DS_ORIGIN_FETCHED;
		snprintf(e->etag, sizeof e->etag, "%s", r.etag);
		snprintf(e->last_modified, sizeof e->last_modified, "%s",
		    r.last_modified);
		e->fetched_at = e->checked_at = now;
		e->failures = 0;
		e->retry_after = 0;
		e->last_error[0] = '\0';
		if (!stored)
			snprintf(e->last_error, sizeof e->last_error,
			    "could not write the cache file under %s", s->cache_dir);
		if (used != NULL && used != e->issuer) {
			X509_free(e->issuer);
			X509_up_ref(used);
			e->issuer = used;
		} else if (used == NULL && e->issuer != NULL) {
			X509_free(e->issuer);      /* unchecked copy */
			e->issuer = NULL;
		}
		*origin = DS_ORIGIN_FETCHED;
	} else if (r.status == DS_FETCH_NOT_MODIFIED && e->data != NULL) {
		if (r.etag[0])
			snprintf(e->etag, sizeof e->etag, "%s", r.etag);
		if (r.last_modified[0])
			snprintf(e->last_modified, sizeof e->last_modified, "%s",
			    r.last_modified);
		e->checked_at = now;
		e->failures = 0;
		e->retry_after = 0;
		e->last_error[0] = '\0';
		*origin = DS_ORIGIN_CACHED;
	} else {
		note_failure(s, e, r.status == DS_FETCH_FAILED ? r.error :
		    r.status == DS_FETCH_NOT_MODIFIED ?
		    "304 Not Modified without a cached copy" : why, now);
		*origin = DS_ORIGIN_NONE;
	}
	e->in_flight = 0;
	pthread_cond_broadcast(&s->cv);
	ds_fetch_result_free(&r);
	ds_crl_data_unref(cur);
	X509_free(issuer);
	X509_free(known);
}

static long ms_until(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	return (long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

static void get_impl(struct ds_crl_store *s, const char *url, X509 *issuer,
    struct ds_crl_got *got, int force, const struct timespec *deadline)
{
	struct crl_entry *e;
	int loaded_now = 0;

	memset(got, 0, sizeof *got);
	pthread_mutex_lock(&s->mu);
	e = ds_crl_entry_find(s, url, 1);
	if (e == NULL) {
		pthread_mutex_unlock(&s->mu);
		snprintf(got->error, sizeof got->error, "out of memory");
		return;
	}
	for (;;) {
		time_t now = time(NULL);

		if (e->in_flight) {
			if (deadline == NULL) {
				pthread_cond_wait(&s->cv, &s->mu);
			} else if (pthread_cond_timedwait(&s->cv, &s->mu,
			    deadline) != 0 && e->in_flight) {
				got->origin = e->data ? DS_ORIGIN_CACHED :
				    DS_ORIGIN_NONE;
				snprintf(got->error, sizeof got->error, "not fetched: "
				    "another download of it is still running after "
				    "the time allowed (%ld ms)", s->o.timeout_ms);
				break;
			}
			continue;
		}
		if (!e->disk_checked) {
			e->in_flight = 1;
			ds_crl_disk_load_locked(s, e);
			e->in_flight = 0;
			pthread_cond_broadcast(&s->cv);
			loaded_now = e->data != NULL;
			continue;
		}
		if (!force && is_fresh(s, e, now)) {
			got->origin = loaded_now ? DS_ORIGIN_DISK : DS_ORIGIN_CACHED;
			break;
		}
		if (now < e->retry_after) {
			/* backoff: serve what we have (the checker applies the
			 * grace) and say why there is nothing newer */
			got->origin = e->data ? DS_ORIGIN_CACHED : DS_ORIGIN_NONE;
			snprintf(got->error, sizeof got->error, "%.200s (not retried "
			    "before %lds)", e->last_error, (long)(e->retry_after - now));
			break;
		}
		e->in_flight = 1;
		if (deadline != NULL) {
			long left = ms_until(deadline);
			if (left <= 0) {
				got->origin = e->data ? DS_ORIGIN_CACHED : DS_ORIGIN_NONE;
				snprintf(got->error, sizeof got->error, "not fetched: the "
				    "time allowed for CRL downloads (%ld ms) is spent",
				    s->o.timeout_ms);
				break;
			}
			ds_crl_entry_fetch_locked(s, e, issuer, left, &got->origin);
		} else {
			ds_crl_entry_fetch_locked(s, e, issuer, 0, &got->origin);
		}
		if (got->origin == DS_ORIGIN_NONE) {
			snprintf(got->error, sizeof got->error, "%s", e->last_error);
			if (e->data)
				got->origin = DS_ORIGIN_CACHED;
		}
		break;
	}
	got->data = e->data;
	if (got->data)
		ds_crl_data_ref(got->data);
	pthread_mutex_unlock(&s->mu);
}

void ds_crl_store_get(struct ds_crl_store *s, const char *url, X509 *issuer,
    const struct timespec *deadline, struct ds_crl_got *got)
{
	get_impl(s, url, issuer, got, 0, deadline);
}

void ds_crl_store_get_fresh(struct ds_crl_store *s, const char *url,
    X509 *issuer, const struct timespec *deadline, struct ds_crl_got *got)
{
	get_impl(s, url, issuer, got, 1, deadline);
}
