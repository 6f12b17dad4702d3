/*
 * crl_refresh.c - keeping cached CRLs current without mail waiting for a
 * download: the refresh of every copy near its nextUpdate (run by a
 * background thread in domsecd), and the forced refresh of one URL for
 * `domsecctl crl refresh`.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "crl_store_internal.h"

int ds_crl_store_refresh_url(struct ds_crl_store *s, const char *url,
    struct ds_crl_report *rep)
{
	struct crl_entry *e;
	enum ds_crl_get_origin origin = DS_ORIGIN_NONE;
	int ok;

	pthread_mutex_lock(&s->mu);
	e = ds_crl_entry_find(s, url, 1);
	if (e == NULL) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	while (e->in_flight || e->loading)
		pthread_cond_wait(&s->cv, &s->mu);
	if (!e->disk_checked) {
		e->loading = 1;
		ds_crl_disk_load_locked(s, e);
		e->loading = 0;
		pthread_cond_broadcast(&s->cv);
	}
	ds_crl_entry_fetch_locked(s, e, NULL, 0, &origin);
	ok = origin != DS_ORIGIN_NONE;
	if (rep) {
		ds_crl_entry_report(e, rep);
		snprintf(rep->origin, sizeof rep->origin, "%s",
		    origin == DS_ORIGIN_FETCHED ? "fetched" :
		    origin == DS_ORIGIN_CACHED ? "not-modified" : "failed");
		if (ok)
			snprintf(rep->outcome, sizeof rep->outcome, "%s",
			    origin == DS_ORIGIN_FETCHED ? "good" :
			    "not modified (cached copy still current)");
		else
			snprintf(rep->outcome, sizeof rep->outcome, "%s",
			    e->last_error);
	}
	pthread_mutex_unlock(&s->mu);
	return ok ? 0 : -1;
}

int ds_crl_store_refresh_due(struct ds_crl_store *s)
{
	int refreshed = 0;
	time_t pass_start = time(NULL);

	ds_crl_disk_load_all(s);
	for (;;) {
		struct crl_entry *e, *due = NULL;
		time_t now = time(NULL);
		enum ds_crl_get_origin origin;

		pthread_mutex_lock(&s->mu);
		if (__atomic_load_n(&s->stopping, __ATOMIC_SEQ_CST)) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		for (e = s->entries; e && due == NULL; e = e->next) {
			time_t limit;
			if (e->in_flight || e->loading || !e->disk_checked ||
			    now < e->retry_after)
				continue;
			if (e->refresh_tried >= pass_start)
				continue;   /* already tried in this pass */
			if (e->data == NULL) {
				/* never fetched (or every fetch failed): try
				 * again, the backoff above spaces the tries */
				due = e;
				break;
			}
			if (e->data->next_update != 0)
				limit = e->data->next_update - s->o.refresh_before_s;
			else
				limit = e->checked_at + (s->o.refresh_before_s > 60 ?
				    s->o.refresh_before_s : 60);
			if (now >= limit)
				due = e;
		}
		if (due == NULL) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		ds_crl_entry_fetch_locked(s, due, NULL, 0, &origin);
		if (origin != DS_ORIGIN_NONE)
			refreshed++;
		due->refresh_tried = now > pass_start ? now : pass_start;
		pthread_mutex_unlock(&s->mu);
	}
	return refreshed;
}

/* ---- background refresher ---- */

static void *refresher_main(void *arg)
{
	struct ds_crl_store *s = arg;

	for (;;) {
		struct timespec until;
		int stop;

		ds_crl_store_refresh_due(s);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += s->refresh_interval_s;
		pthread_mutex_lock(&s->mu);
		while (!__atomic_load_n(&s->stopping, __ATOMIC_SEQ_CST) &&
		    pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
			;      /* woken for someone else's fetch: keep waiting */
		stop = s->stopping;
		pthread_mutex_unlock(&s->mu);
		if (stop)
			return NULL;
	}
}

int ds_crl_store_start_refresher(struct ds_crl_store *s, long interval_s)
{
	if (s->refresher_running)
		return -1;
	s->refresh_interval_s = interval_s > 0 ? interval_s : 60;
	s->stopping = 0;
	if (pthread_create(&s->refresher, NULL, refresher_main, s) != 0)
		return -1;
	s->refresher_running = 1;
	return 0;
}
