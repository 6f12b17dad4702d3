/*
 * sessions.c - the policy -> milter hand-off table: a hash of "addr port"
 * keys to fixed-size values, with expiry and a size bound, behind one mutex.
 * Entries also sit on a list in the order they were stored (a refresh moves
 * an entry to the end), so expiring and evicting only ever look at the
 * oldest entries: every operation is O(1) on average, also when the table
 * is full (a busy server fills it within minutes).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "domsec/cidr.h"
#include "domsec/sessions.h"

#define BUCKETS 8192

struct entry {
	struct entry *next;          /* hash chain */
	struct entry *older, *newer; /* age list */
	char key[80];
	time_t stored;
	unsigned char value[];       /* value_size bytes */
};

struct ds_sessions {
	pthread_mutex_t lock;
	struct entry *buckets[BUCKETS];
	struct entry *oldest, *newest;
	size_t count;
	size_t value_size;
	long ttl_s;
	size_t max_entries;
	time_t (*now)(void);
};

static time_t clock_now(const struct ds_sessions *s)
{
	return s->now ? s->now() : time(NULL);
}

static void make_key(const char *addr, int port, char *key, size_t keylen)
{
	char canon[64];

	ds_addr_canonical(addr ? addr : "", canon, sizeof canon);
	snprintf(key, keylen, "%s %d", canon, port);
}

static unsigned hash_key(const char *key)
{
	unsigned h = 2166136261u;             /* FNV-1a */

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h % BUCKETS;
}

struct ds_sessions *ds_sessions_new(size_t value_size, long ttl_s,
    size_t max_entries)
{
	struct ds_sessions *s = calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	s->value_size = value_size;
	s->ttl_s = ttl_s > 0 ? ttl_s : 600;
	s->max_entries = max_entries > 0 ? max_entries : 1;
	return s;
}

void ds_sessions_free(struct ds_sessions *s)
{
	if (s == NULL)
		return;
	for (struct entry *e = s->oldest, *newer; e != NULL; e = newer) {
		newer = e->newer;
		free(e);
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void ds_sessions_set_clock(struct ds_sessions *s, time_t (*now)(void))
{
	s->now = now;
}

static int expired(const struct ds_sessions *s, const struct entry *e, time_t now)
{
	return now - e->stored >= s->ttl_s || now < e->stored - 60;
}

static void age_unlink(struct ds_sessions *s, struct entry *e)
{
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		s->oldest = e->newer;
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		s->newest = e->older;
	e->older = e->newer = NULL;
}

static void age_append(struct ds_sessions *s, struct entry *e)
{
	e->older = s->newest;
	e->newer = NULL;
	if (s->newest != NULL)
		s->newest->newer = e;
	else
		s->oldest = e;
	s->newest = e;
}

static struct entry **find(struct ds_sessions *s, const char *key)
{
	struct entry **pp = &s->buckets[hash_key(key)];

	for (; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->key, key) == 0)
			return pp;
	return NULL;
}

/* Unlinks e (found at *pp in its hash chain) from both lists and frees it.
 * Lock held. */
static void drop(struct ds_sessions *s, struct entry **pp)
{
	struct entry *e = *pp;

	*pp = e->next;
	age_unlink(s, e);
	free(e);
	s->count--;
}

/* Removes expired entries from the old end of the age list, then the
 * oldest ones while the table is full.  Lock held. */
static void make_room(struct ds_sessions *s, time_t now)
{
	while (s->oldest != NULL &&
	    (expired(s, s->oldest, now) || s->count >= s->max_entries))
		drop(s, find(s, s->oldest->key));
}

int ds_sessions_put(struct ds_sessions *s, const char *addr, int port,
    const void *value)
{
	char key[80];
	struct entry **pp, *e;
	time_t now = clock_now(s);

	make_key(addr, port, key, sizeof key);
	pthread_mutex_lock(&s->lock);
	pp = find(s, key);
	if (pp != NULL) {
		e = *pp;
		memcpy(e->value, value, s->value_size);
		e->stored = now;
		age_unlink(s, e);
		age_append(s, e);
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	make_room(s, now);
	e = malloc(sizeof *e + s->value_size);
	if (e == NULL) {
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	snprintf(e->key, sizeof e->key, "%s", key);
	e->stored = now;
	memcpy(e->value, value, s->value_size);
	unsigned b = hash_key(key);
	e->next = s->buckets[b];
	s->buckets[b] = e;
	age_append(s, e);
	s->count++;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int ds_sessions_get(struct ds_sessions *s, const char *addr, int port, void *out)
{
	char key[80];
	struct entry **pp;
	int found = 0;

	make_key(addr, port, key, sizeof key);
	pthread_mutex_lock(&s->lock);
	pp = find(s, key);
	if (pp != NULL) {
		if (expired(s, *pp, clock_now(s))) {
			drop(s, pp);
		} else {
			memcpy(out, (*pp)->value, s->value_size);
			found = 1;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return found;
}

void ds_sessions_remove(struct ds_sessions *s, const char *addr, int port)
{
	char key[80];
	struct entry **pp;

	make_key(addr, port, key, sizeof key);
	pthread_mutex_lock(&s->lock);
	pp = find(s, key);
	if (pp != NULL)
		drop(s, pp);
	pthread_mutex_unlock(&s->lock);
}

size_t ds_sessions_count(struct ds_sessions *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->count;
	pthread_mutex_unlock(&s->lock);
	return n;
}
