/*
 * sessions.h - the hand-off table from the Postfix policy service to the
 * milter for the same SMTP session, keyed by client address and port.
 * Entries expire; the table has a size bound (oldest evicted first); all
 * operations are thread-safe.  Values are opaque fixed-size blobs (the
 * inbound module stores a struct ds_decision).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_SESSIONS_H
#define DOMSEC_SESSIONS_H

#include <stddef.h>
#include <time.h>

struct ds_sessions;

/* value_size: bytes per value; ttl_s: lifetime of an entry; max_entries:
 * size bound.  Returns NULL when out of memory. */
struct ds_sessions *ds_sessions_new(size_t value_size, long ttl_s,
    size_t max_entries);
void ds_sessions_free(struct ds_sessions *s);

/* Stores (or replaces) the value for "addr port" (addr canonicalised). */
int ds_sessions_put(struct ds_sessions *s, const char *addr, int port,
    const void *value);
/* Copies the value into out and returns 1, or returns 0 when absent or
 * expired. */
int ds_sessions_get(struct ds_sessions *s, const char *addr, int port,
    void *out);
void ds_sessions_remove(struct ds_sessions *s, const char *addr, int port);
size_t ds_sessions_count(struct ds_sessions *s);

/* For tests: the clock the table uses (NULL = time()). */
void ds_sessions_set_clock(struct ds_sessions *s, time_t (*now)(void));

#endif
