/*
 * outbound_internal.h - private to the files of the outbound module
 * (lib/outbound.c: the object and the Postfix maps; lib/outbound_cache.c:
 * the answer cache; lib/outbound_assess.c: probing and verification;
 * lib/outbound_key.c: lookup keys).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_OUTBOUND_INTERNAL_H
#define DOMSEC_OUTBOUND_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>
#include "domsec/outbound.h"

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

/* ---- outbound_cache.c (all called with ob->lock held) ---- */

/* Forgets every answer; keep_in_progress keeps those being computed. */
void ds_outbound_cache_clear(struct ds_outbound *ob, int keep_in_progress);

/* Finds the answer for key, waiting while another thread computes it.
 * Returns 1 with reply filled on a hit; 0 when the caller must compute it
 * (an in-progress entry for key has been created: finish it with
 * ds_outbound_cache_finish). */
int ds_outbound_cache_get_or_claim(struct ds_outbound *ob, const char *key,
    char *reply, size_t replylen);

/* Stores reply for key for ttl seconds (0: not cached) and wakes the
 * threads waiting for it. */
void ds_outbound_cache_finish(struct ds_outbound *ob, const char *key,
    const char *reply, long ttl);

#endif
