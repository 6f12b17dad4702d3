/*
 * crl_list.c - what the CRL store holds, for `domsecctl crl list` and the
 * report of `domsecctl crl refresh`: one ds_crl_report per known
 * distribution point URL (memory and cache directory, with or without a
 * copy, with the last download's error) and per configured CRL file.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "crl_store_internal.h"

void ds_crl_entry_report(const struct crl_entry *e, struct ds_crl_report *r)
{
	memset(r, 0, sizeof *r);
	snprintf(r->source, sizeof r->source, "%s", e->url);
	snprintf(r->origin, sizeof r->origin, "%s",
	    e->data_origin == DS_ORIGIN_FETCHED ? "fetched" :
	    e->data_origin == DS_ORIGIN_DISK ? "disk" : "none");
	r->depth = -1;
	r->entries = -1;
	r->fetched_at = e->fetched_at;
	r->checked_at = e->checked_at;
	if (e->data) {
		snprintf(r->issuer, sizeof r->issuer, "%s", e->data->issuer_text);
		r->this_update = e->data->this_update;
		r->next_update = e->data->next_update;
		r->entries = (long)e->data->n_entries;
	}
	if (e->last_error[0])
		snprintf(r->outcome, sizeof r->outcome, "%s: %.200s",
		    e->data ? "good copy kept; last fetch failed" :
		    "no copy; last fetch failed", e->last_error);
	else if (e->data && e->issuer == NULL)
		snprintf(r->outcome, sizeof r->outcome, "good (its signature is "
		    "checked when a certificate uses it)");
	else
		snprintf(r->outcome, sizeof r->outcome, "%s",
		    e->data ? "good" : e->in_flight ?
		    "no copy yet (downloading)" : "no copy (never fetched)");
}

void ds_crl_store_foreach(struct ds_crl_store *s,
    void (*fn)(const struct ds_crl_report *entry, void *arg), void *arg)
{
	struct ds_crl_report *reps = NULL;
	size_t n = 0, i = 0;
	struct crl_entry *e;
	struct crl_file *f;

	ds_crl_disk_load_all(s);
	pthread_mutex_lock(&s->mu);
	for (e = s->entries; e; e = e->next)
		n++;
	for (f = s->files; f; f = f->next)
		n++;
	reps = calloc(n ? n : 1, sizeof *reps);
	if (reps == NULL) {
		pthread_mutex_unlock(&s->mu);
		return;
	}
	for (e = s->entries; e; e = e->next)    /* every known point */
		ds_crl_entry_report(e, &reps[i++]);
	for (f = s->files; f; f = f->next) {
		struct ds_crl_report *r = &reps[i++];
		snprintf(r->source, sizeof r->source, "%s", f->path);
		snprintf(r->origin, sizeof r->origin, "file");
		snprintf(r->issuer, sizeof r->issuer, "%s", f->data->issuer_text);
		r->this_update = f->data->this_update;
		r->next_update = f->data->next_update;
		r->entries = (long)f->data->n_entries;
		r->depth = -1;
		snprintf(r->outcome, sizeof r->outcome, "configured file");
	}
	pthread_mutex_unlock(&s->mu);
	/* call back without the lock: fn may be slow (printing) */
	for (size_t k = 0; k < i; k++)
		fn(&reps[k], arg);
	free(reps);
}
