/*
 * crl_store_internal.h - private to the files of the CRL store
 * (lib/crl/: crl_store.c, crl_cache.c, crl_accept.c, crl_disk.c,
 * crl_refresh.c, crl_list.c): the store's structures and the
 * functions they share.
 * Other modules use include/domsec/crl.h and lib/crl/crl_internal.h.
 *
 * Locking: s->mu guards the entry list and every field of an entry; an entry
 * with in_flight set is being downloaded by one thread (the single flight),
 * one with loading set is being read from the cache directory; both drop
 * the lock meanwhile, and waiters sleep on s->cv.  A download never hides
 * the cached copy: readers take e->data (a reference) whatever in_flight
 * says, and the download swaps its result in at the end (publish).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_CRL_STORE_INTERNAL_H
#define DOMSEC_CRL_STORE_INTERNAL_H

#include <pthread.h>
#include <time.h>
#include <openssl/x509.h>
#include "crl_internal.h"

/* One distribution point URL. */
struct crl_entry {
	char *url;
	char stem[65];
	struct ds_crl_data *data;      /* good copy, or NULL */
	enum ds_crl_get_origin data_origin;
	X509 *issuer;                  /* issuer that verified it, for refresh */
	char etag[256];
	char last_modified[128];
	time_t fetched_at;             /* last 200 */
	time_t checked_at;             /* last 200 or 304 */
	int disk_checked;
	int loading;                   /* being read from the cache directory */
	int in_flight;                 /* being downloaded */
	int last_fetch_ok;             /* the last download's outcome */
	enum ds_crl_get_origin last_origin; /* FETCHED or CACHED (304) */
	time_t refresh_tried;          /* last ds_crl_store_refresh_due pass */
	char last_error[256];
	int failures;
	time_t retry_after;
	struct crl_entry *next;
};

/* One CRL of a file the administrator configured (CRLFile). */
struct crl_file {
	char *path;
	struct ds_crl_data *data;
	struct crl_file *next;
};

struct ds_crl_store {
	struct ds_crl_opts o;
	char *cache_dir;
	char *proxy;
	char *no_proxy;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct crl_entry *entries;
	struct crl_file *files;
	STACK_OF(X509) *issuers;       /* candidates for CRLs without a chain */
	STACK_OF(X509) *tls_anchors;   /* extra anchors for https (grows) */
	/* background refresher (ds_crl_store_start_refresher) */
	pthread_t refresher;
	int refresher_running;
	int stopping;                  /* read by downloads (atomic) to abort */
	int downloads;                 /* background download threads */
	long refresh_interval_s;
	time_t at;                     /* ds_crl_store_set_time(); 0 = now */
};

/* ---- crl_cache.c: entries and the single-flight fetch ---- */

/* The entry for url (lock held); created when create is set and there is
 * none.  NULL when absent or out of memory. */
struct crl_entry *ds_crl_entry_find(struct ds_crl_store *s, const char *url,
    int create);

/*
 * A download of one entry, in three steps so that the lock is held only to
 * copy in and to swap out:
 *   ds_crl_entry_snapshot   (lock held)  copies what the download needs
 *                                        (URL, validators, current copy,
 *                                        issuer) and sets e->in_flight;
 *   ds_crl_fetch_and_accept (no lock)    downloads, validates, writes the
 *                                        cache file;
 *   ds_crl_entry_publish    (lock held)  swaps the result in (or notes the
 *                                        failure and starts the backoff),
 *                                        clears in_flight, wakes waiters and
 *                                        releases the snapshot.
 */
struct crl_snapshot {
	char *url;                     /* copy of e->url */
	char stem[65];
	char etag[256];
	char last_modified[128];
	struct ds_crl_data *cur;       /* referenced, or NULL */
	X509 *issuer;                  /* for the new copy; referenced or NULL */
	X509 *known;                   /* verified cur; referenced or NULL */
	time_t fetched_at;
	time_t checked_at;
	long timeout_ms;               /* the download's budget */
};

struct crl_outcome {
	struct ds_fetch_result r;
	struct ds_crl_data *d;         /* accepted copy (referenced) or NULL */
	X509 *used;                    /* issuer d verified with, or NULL */
	int stored;                    /* cache file written (or none kept) */
	char why[256];
	time_t now;
};

/* issuer may be NULL (e->issuer is then used); timeout_ms 0 = the store's
 * download budget.  Returns 0, or -1 (out of memory: nothing set). */
int ds_crl_entry_snapshot(struct ds_crl_store *s, struct crl_entry *e,
    X509 *issuer, long timeout_ms, struct crl_snapshot *snap);
void ds_crl_fetch_and_accept(struct ds_crl_store *s,
    const struct crl_snapshot *snap, struct crl_outcome *out);
/* *origin: FETCHED (new copy), CACHED (304), or NONE (failed: e->last_error
 * says why, and the retry backoff starts).  Frees snap and out. */
void ds_crl_entry_publish(struct ds_crl_store *s, struct crl_entry *e,
    struct crl_snapshot *snap, struct crl_outcome *out,
    enum ds_crl_get_origin *origin);

/* The three steps in the calling thread: called with the lock held and
 * e->in_flight clear; returns with the lock held.  timeout_ms as above. */
void ds_crl_entry_fetch_locked(struct ds_crl_store *s, struct crl_entry *e,
    X509 *issuer, long timeout_ms, enum ds_crl_get_origin *origin);

/* Starts the download of e in a background thread (lock held, e not in
 * flight): it runs with the download budget, whoever waits for it, and
 * its result is cached.  Returns 0, or -1 (then nothing was started). */
int ds_crl_entry_fetch_background(struct ds_crl_store *s, struct crl_entry *e,
    X509 *issuer);

/* Returns big transient buffers to the system after a large copy was
 * swapped in or dropped (no lock needed). */
void ds_crl_release_memory(void);

/* ---- crl_accept.c: validating a downloaded CRL ---- */

/*
 * Turns a 200 answer for url into a verified ds_crl_data, or NULL with why
 * (a "CRL scope mismatch" when its issuingDistributionPoint names other
 * distribution points than url).  issuer
 * may be NULL: then a configured candidate is looked for, and failing that
 * the signature is checked later, at use.  current (may be NULL) is the copy
 * it must not be older than.  On success *der_out / *der_len_out hold the
 * DER (malloc'd) and *used_issuer the issuer it verified with (or NULL).
 * *body may be taken over (set to NULL) to save a copy of a big CRL.
 */
struct ds_crl_data *ds_crl_accept_body(struct ds_crl_store *s,
    const char *url, unsigned char **body, size_t len, X509 *issuer,
    const struct ds_crl_data *current, unsigned char **der_out,
    size_t *der_len_out, X509 **used_issuer, char *why, size_t whylen);

/* ---- crl_disk.c: the cache directory ---- */

/* out = "CACHE_DIR/STEM.EXT" (ext with its dot: ".crl", ".meta"). */
void ds_crl_disk_path(const struct ds_crl_store *s, const char *stem,
    const char *ext, char *out, size_t outlen);

/* Writes STEM.crl (der) then STEM.meta for url.  Returns 0 or -1. */
int ds_crl_disk_save(struct ds_crl_store *s, const char *url,
    const char *stem, const unsigned char *der, size_t der_len,
    const char *etag, const char *last_modified, time_t fetched,
    time_t checked, const unsigned char sha[32], X509 *issuer);

/* Rewrites STEM.meta only (a 304 refreshed the validators, or a download
 * failed: error, may be NULL, is recorded; sha NULL = no copy).  0 or -1. */
int ds_crl_disk_write_meta(struct ds_crl_store *s, const char *url,
    const char *stem, const char *etag, const char *last_modified,
    time_t fetched, time_t checked, const unsigned char sha[32],
    X509 *issuer, const char *error);

/* Cold start of e: called with the lock held and e->loading set by the
 * caller; drops the lock while reading; sets e->disk_checked. */
void ds_crl_disk_load_locked(struct ds_crl_store *s, struct crl_entry *e);

/* Loads every STEM.meta of the cache directory into entries (takes the
 * lock itself). */
void ds_crl_disk_load_all(struct ds_crl_store *s);

/* ---- crl_list.c ---- */

/* Describes e for `domsecctl crl list` / `crl refresh` (lock held). */
void ds_crl_entry_report(const struct crl_entry *e, struct ds_crl_report *r);

#endif
