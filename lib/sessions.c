/*
 * sessions.c - the policy -> milter hand-off table: a hash of "addr port"
 * keys to fixed-size values, with expiry and a size bound, behind one mutex
 * (every operation is a few microseconds; contention is not an issue at
 * mail rates).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "domsec/cidr.h"
#include "domsec/sessions.h"

#define BUCKETS 1024

struct entry {
	struct entry *next;
	char key[80];
	time_t stored;
	unsigned char value[];   /* value_size bytes */
};

struct ds_sessions {
	pthread_mutex_t lock;
	struct entry *buckets[BUCKETS];
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
	for (int b = 0; b < BUCKETS; b++) {
		struct entry *e = s->buckets[b], *next;
		for (; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
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

/* Removes expired entries; when still full, the oldest one.  Lock held. */
static void make_room(struct ds_sessions *s, time_t now)
{
	struct entry **oldest = NULL;

	for (int b = 0; b < BUCKETS; b++) {
		struct entry **pp = &s->buckets[b];
		while (*pp != NULL) {
			if (expired(s, *pp, now)) {
				struct entry *dead = *pp;
				*pp = dead->next;
				free(dead);
				s->count--;
				continue;
			}
			pp = &(*pp)->next;
		}
	}
	if (s->count < s->max_entries)
		return;
	for (int b = 0; b < BUCKETS; b++)
		for (struct entry **pp = &s->buckets[b]; *pp; pp = &(*pp)->next)
			if (oldest == NULL || (*pp)->stored < (*oldest)->stored)
				oldest = pp;
	if (oldest != NULL) {
		struct entry *dead = *oldest;
		*oldest = dead->next;
		free(dead);
		s->count--;
	}
}

static struct entry **find(struct ds_sessions *s, const char *key)
{
	struct entry **pp = &s->buckets[hash_key(key)];

	for (; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->key, key) == 0)
			return pp;
	return NULL;
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
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	if (s->count >= s->max_entries)
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
		struct entry *e = *pp;
		if (expired(s, e, clock_now(s))) {
			*pp = e->next;
			free(e);
			s->count--;
		} else {
			memcpy(out, e->value, s->value_size);
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
	if (pp != NULL) {
		struct entry *e = *pp;
		*pp = e->next;
		free(e);
		s->count--;
	}
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
