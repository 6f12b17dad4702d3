/*
 * crl_cache.c - the CRL store's memory cache: one entry per distribution
 * point URL, and the fetch that refreshes it.
 *
 * Freshness: a copy is used without any network access until its
 * nextUpdate (a CRL without nextUpdate is revalidated, by conditional GET,
 * every refresh_before_s, at least every minute).  A fresh copy is served
 * even while a download of its URL runs: the mail path never waits for a
 * refresh.  Without one, the download runs in a background thread with the
 * download budget (download_timeout_ms, low-speed limit) and callers wait
 * for it at most until their deadline (CRLTimeout); its result is cached
 * whoever is still waiting.  Concurrent requests for one URL share one
 * fetch (in_flight + the store's condition variable).  A
 * failed or bad fetch never replaces the good copy; it is remembered and the
 * URL is not tried again before a backoff (retry_backoff_s, doubling per
 * consecutive failure, at most 16 times) so a dead server is not hammered.
 * What is fetched is validated by crl_accept.c and saved by crl_disk.c.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <malloc.h>
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

/* ---- one download in three steps (see crl_store_internal.h) ---- */

int ds_crl_entry_snapshot(struct ds_crl_store *s, struct crl_entry *e,
    X509 *issuer, long timeout_ms, struct crl_snapshot *snap)
{
	memset(snap, 0, sizeof *snap);
	if ((snap->url = strdup(e->url)) == NULL)
		return -1;
	memcpy(snap->stem, e->stem, sizeof snap->stem);
	snprintf(snap->etag, sizeof snap->etag, "%s", e->data ? e->etag : "");
	snprintf(snap->last_modified, sizeof snap->last_modified, "%s",
	    e->data ? e->last_modified : "");
	snap->cur = e->data;
	if (snap->cur)
		ds_crl_data_ref(snap->cur);
	snap->known = e->issuer;          /* verified the cached copy */
	if (snap->known)
		X509_up_ref(snap->known);
	snap->issuer = issuer != NULL ? issuer : e->issuer;
	if (snap->issuer)
		X509_up_ref(snap->issuer);
	snap->fetched_at = e->fetched_at;
	snap->checked_at = e->checked_at;
	snap->timeout_ms = timeout_ms > 0 ? timeout_ms :
	    s->o.download_timeout_ms;
	e->in_flight = 1;
	return 0;
}

void ds_crl_fetch_and_accept(struct ds_crl_store *s,
    const struct crl_snapshot *snap, struct crl_outcome *out)
{
	struct ds_crl_opts o = s->o;
	STACK_OF(X509) *anchors;
	unsigned char *der = NULL;
	size_t der_len = 0;
	char cur_path[4096] = "";

	memset(out, 0, sizeof *out);
	out->stored = 1;
	o.timeout_ms = snap->timeout_ms;
	if (o.connect_timeout_ms > o.timeout_ms)
		o.connect_timeout_ms = o.timeout_ms;
	pthread_mutex_lock(&s->mu);
	anchors = s->tls_anchors;      /* only grows: safe to read after */
	pthread_mutex_unlock(&s->mu);
	ds_crl_fetch_ex(&o, snap->url, snap->etag, snap->last_modified,
	    &s->stopping, anchors, &out->r);
	out->now = time(NULL);
	if (out->r.status == DS_FETCH_OK) {
		/* the cached copy only counts (no going back to an older CRL)
		 * when it is known to come from this issuer */
		const struct ds_crl_data *floor = snap->cur;
		if (snap->cur != NULL && snap->issuer != NULL) {
			if (s->cache_dir != NULL)
				ds_crl_disk_path(s, snap->stem, ".crl", cur_path,
				    sizeof cur_path);
			if (ds_crl_store_verify(s, snap->cur,
			    s->cache_dir ? cur_path : NULL,
			    X509_get0_pubkey(snap->issuer)) != 1)
				floor = NULL;
		}
		out->d = ds_crl_accept_body(s, snap->url, &out->r.body,
		    out->r.body_len, snap->issuer, floor, &der, &der_len,
		    &out->used, out->why, sizeof out->why);
		ds_fetch_result_free(&out->r);  /* the body is not needed now */
		if (out->d != NULL && s->cache_dir != NULL)
			out->stored = ds_crl_disk_save(s, snap->url,
			    snap->stem, der, der_len, out->r.etag, out->r.last_modified, out->now,
			    out->now, out->d->sha256, out->used) == 0;
		if (out->d != NULL && s->cache_dir == NULL) {
			/* memory only: kept for re-checks */
			out->d->der = der;
			out->d->der_len = der_len;
			der = NULL;
		}
	} else if (out->r.status == DS_FETCH_NOT_MODIFIED && snap->cur != NULL &&
	    s->cache_dir != NULL) {
		ds_crl_disk_write_meta(s, snap->url, snap->stem,
		    out->r.etag[0] ? out->r.etag : snap->etag,
		    out->r.last_modified[0] ? out->r.last_modified :
		    snap->last_modified, snap->fetched_at, out->now,
		    snap->cur->sha256, snap->known, NULL);
	}
	if (s->cache_dir != NULL && out->d == NULL &&
	    out->r.status != DS_FETCH_NOT_MODIFIED) {
		/* remembered on disk, so that `domsecctl crl list` shows
		 * every distribution point, with or without a copy */
		const char *why = out->r.status == DS_FETCH_FAILED ?
		    out->r.error : out->why;
		ds_crl_disk_write_meta(s, snap->url, snap->stem, snap->etag,
		    snap->last_modified, snap->fetched_at, snap->checked_at,
		    snap->cur ? snap->cur->sha256 : NULL, snap->known, why);
	}
	free(der);
	if (out->used != NULL)
		X509_up_ref(out->used);  /* outlives snap->issuer */
}

static void publish_fetched(struct ds_crl_store *s, struct crl_entry *e,
    struct crl_outcome *out)
{
	ds_crl_data_unref(e->data);
	e->data = out->d;
	out->d = NULL;
	ds_crl_generation_bump();   /* cached verdicts depended on the old copy */
	e->data_origin = DS_ORIGIN_FETCHED;
	snprintf(e->etag, sizeof e->etag, "%s", out->r.etag);
	snprintf(e->last_modified, sizeof e->last_modified, "%s",
	    out->r.last_modified);
	e->fetched_at = e->checked_at = out->now;
	e->last_error[0] = '\0';
	if (!out->stored)
		snprintf(e->last_error, sizeof e->last_error,
		    "could not write the cache file under %s", s->cache_dir);
	if (out->used != NULL && out->used != e->issuer) {
		X509_free(e->issuer);
		X509_up_ref(out->used);
		e->issuer = out->used;
	} else if (out->used == NULL && e->issuer != NULL) {
		X509_free(e->issuer);      /* unchecked copy */
		e->issuer = NULL;
	}
}

void ds_crl_entry_publish(struct ds_crl_store *s, struct crl_entry *e,
    struct crl_snapshot *snap, struct crl_outcome *out,
    enum ds_crl_get_origin *origin)
{
	struct ds_fetch_result *r = &out->r;

	if (r->status == DS_FETCH_OK && out->d != NULL) {
		publish_fetched(s, e, out);
		*origin = DS_ORIGIN_FETCHED;
	} else if (r->status == DS_FETCH_NOT_MODIFIED && e->data != NULL) {
		if (r->etag[0])
			snprintf(e->etag, sizeof e->etag, "%s", r->etag);
		if (r->last_modified[0])
			snprintf(e->last_modified, sizeof e->last_modified, "%s",
			    r->last_modified);
		e->checked_at = out->now;
		e->last_error[0] = '\0';
		*origin = DS_ORIGIN_CACHED;
	} else {
		note_failure(s, e, r->status == DS_FETCH_FAILED ? r->error :
		    r->status == DS_FETCH_NOT_MODIFIED ?
		    "304 Not Modified without a cached copy" : out->why,
		    out->now);
		*origin = DS_ORIGIN_NONE;
	}
	if (*origin != DS_ORIGIN_NONE) {
		e->failures = 0;
		e->retry_after = 0;
	}
	e->last_fetch_ok = *origin != DS_ORIGIN_NONE;
	e->last_origin = *origin;
	e->in_flight = 0;
	pthread_cond_broadcast(&s->cv);
	ds_fetch_result_free(r);
	ds_crl_data_unref(out->d);
	X509_free(out->used);
	ds_crl_data_unref(snap->cur);
	X509_free(snap->issuer);
	X509_free(snap->known);
	free(snap->url);
	memset(snap, 0, sizeof *snap);
	memset(out, 0, sizeof *out);
}

void ds_crl_release_memory(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

/* See lib/crl/crl_store_internal.h. */
void ds_crl_entry_fetch_locked(struct ds_crl_store *s, struct crl_entry *e,
    X509 *issuer, long timeout_ms, enum ds_crl_get_origin *origin)
{
	struct crl_snapshot snap;
	struct crl_outcome out;

	if (ds_crl_entry_snapshot(s, e, issuer, timeout_ms, &snap) != 0) {
		note_failure(s, e, "out of memory", time(NULL));
		*origin = DS_ORIGIN_NONE;
		return;
	}
	pthread_mutex_unlock(&s->mu);
	ds_crl_fetch_and_accept(s, &snap, &out);
	pthread_mutex_lock(&s->mu);
	ds_crl_entry_publish(s, e, &snap, &out, origin);
	if (*origin == DS_ORIGIN_FETCHED) {
		pthread_mutex_unlock(&s->mu);
		ds_crl_release_memory();   /* the old copy may have gone */
		pthread_mutex_lock(&s->mu);
	}
}

/* ---- background downloads ---- */

struct bg_job {
	struct ds_crl_store *s;
	struct crl_entry *e;           /* entries live as long as the store */
	struct crl_snapshot snap;
};

static void *bg_main(void *arg)
{
	struct bg_job *j = arg;
	struct ds_crl_store *s = j->s;
	struct crl_outcome out;
	enum ds_crl_get_origin origin;

	ds_crl_fetch_and_accept(s, &j->snap, &out);
	pthread_mutex_lock(&s->mu);
	ds_crl_entry_publish(s, j->e, &j->snap, &out, &origin);
	pthread_mutex_unlock(&s->mu);
	free(j);
	if (origin == DS_ORIGIN_FETCHED)
		ds_crl_release_memory();
	/* last: ds_crl_store_free() may free the store once this is 0 */
	pthread_mutex_lock(&s->mu);
	s->downloads--;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int ds_crl_entry_fetch_background(struct ds_crl_store *s, struct crl_entry *e,
    X509 *issuer)
{
	struct bg_job *j = calloc(1, sizeof *j);
	pthread_attr_t attr;
	pthread_t th;
	int rc;

	if (j == NULL)
		return -1;
	j->s = s;
	j->e = e;
	if (ds_crl_entry_snapshot(s, e, issuer, 0, &j->snap) != 0) {
		free(j);
		return -1;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	s->downloads++;
	rc = pthread_create(&th, &attr, bg_main, j);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		struct crl_outcome out;
		enum ds_crl_get_origin origin;
		s->downloads--;
		memset(&out, 0, sizeof out);
		out.r.status = DS_FETCH_FAILED;
		snprintf(out.r.error, sizeof out.r.error,
		    "cannot start a download thread");
		out.now = time(NULL);
		ds_crl_entry_publish(s, e, &j->snap, &out, &origin);
		free(j);
		return -1;
	}
	return 0;
}

/* ---- the mail path ---- */

/* Waits (lock held) for e's download or disk load to end, until deadline
 * (NULL: no limit).  Returns 0 when it ended, -1 when the time ran out. */
static int wait_entry(struct ds_crl_store *s, struct crl_entry *e,
    const struct timespec *deadline)
{
	while (e->in_flight || e->loading) {
		if (deadline == NULL)
			pthread_cond_wait(&s->cv, &s->mu);
		else if (pthread_cond_timedwait(&s->cv, &s->mu, deadline) != 0)
			return e->in_flight || e->loading ? -1 : 0;
	}
	return 0;
}

/*
 * The best copy of url, never waiting for a download while a fresh copy is
 * cached.  Without one, a download is started in the background (unless
 * one runs already, or the URL is in its backoff) and the caller waits for
 * it until deadline; a download that outlives the wait goes on and its
 * result is cached for the next caller.
 */
static void get_impl(struct ds_crl_store *s, const char *url, X509 *issuer,
    struct ds_crl_got *got, int force, const struct timespec *deadline)
{
	struct crl_entry *e;
	int loaded_now = 0, waited = 0, dl;

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

		if (!e->disk_checked && !e->loading) {
			e->loading = 1;
			ds_crl_disk_load_locked(s, e);
			e->loading = 0;
			pthread_cond_broadcast(&s->cv);
			loaded_now = e->data != NULL;
			continue;
		}
		if (waited) {
			/* the download we started or joined is over */
			got->origin = e->last_fetch_ok ? e->last_origin :
			    e->data ? DS_ORIGIN_CACHED : DS_ORIGIN_NONE;
			if (!e->last_fetch_ok)
				snprintf(got->error, sizeof got->error, "%s",
				    e->last_error);
			break;
		}
		if (!force && e->disk_checked && is_fresh(s, e, now)) {
			got->origin = loaded_now ? DS_ORIGIN_DISK : DS_ORIGIN_CACHED;
			break;
		}
		if (!e->in_flight && !e->loading && now < e->retry_after) {
			/* backoff: serve what we have (the checker applies the
			 * grace) and say why there is nothing newer */
			got->origin = e->data ? DS_ORIGIN_CACHED :
			    DS_ORIGIN_NONE;
			snprintf(got->error, sizeof got->error, "%.200s (not retried "
			    "before %lds)", e->last_error, (long)(e->retry_after - now));
			break;
		}
		if (!e->in_flight && !e->loading &&
		    ds_crl_entry_fetch_background(s, e, issuer) != 0) {
			got->origin = e->data ? DS_ORIGIN_CACHED :
			    DS_ORIGIN_NONE;
			snprintf(got->error, sizeof got->error, "%s",
			    e->last_error);
			break;
		}
		dl = e->in_flight;
		if (wait_entry(s, e, deadline) != 0) {
			got->origin = e->data ? DS_ORIGIN_CACHED :
			    DS_ORIGIN_NONE;
			snprintf(got->error, sizeof got->error, "timed out "
			    "waiting for the download (CRLTimeout %ld ms); it "
			    "goes on in the background", s->o.timeout_ms);
			break;
		}
		waited = dl;
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
