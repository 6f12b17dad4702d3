/*
 * outbound_cache.c - the outbound policy answers already computed, per
 * lookup key, until their lifetime ends (at most CACHE_MAX_ENTRIES).  A key
 * being computed is marked in progress so that concurrent lookups for it
 * wait for that one assessment instead of probing the partner again.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "outbound_internal.h"

void ds_outbound_cache_clear(struct ds_outbound *ob, int keep_in_progress)
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

int ds_outbound_cache_get_or_claim(struct ds_outbound *ob, const char *key,
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

void ds_outbound_cache_finish(struct ds_outbound *ob, const char *key,
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
