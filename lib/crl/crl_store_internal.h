/*
 * crl_store_internal.h - private to the files of the CRL store
 * (lib/crl/: crl_store.c, crl_cache.c, crl_accept.c, crl_disk.c,
 * crl_refresh.c, crl_list.c): the store's structures and the
 * functions they share.
 * Other modules use include/domsec/crl.h and lib/crl/crl_internal.h.
 *
 * Locking: s->mu guards the entry list and every field of an entry; an entry
 * with in_flight set is being fetched or loaded from disk by one thread (the
 * single flight), which may drop the lock meanwhile; waiters sleep on s->cv.
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
	int in_flight;
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
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct crl_entry *entries;
	struct crl_file *files;
	STACK_OF(X509) *issuers;       /* candidates for CRLs without a chain */
	/* background refresher (ds_crl_store_start_refresher) */
	pthread_t refresher;
	int refresher_running;
	int stopping;
	long refresh_interval_s;
	time_t at;                     /* ds_crl_store_set_time(); 0 = now */
};

/* ---- crl_cache.c: entries and the single-flight fetch ---- */

/* The entry for url (lock held); created when create is set and there is
 * none.  NULL when absent or out of memory. */
struct crl_entry *ds_crl_entry_find(struct ds_crl_store *s, const char *url,
    int create);

/* One fetch for e, called with the lock held and e->in_flight set by the
 * caller; returns with the lock held and in_flight cleared.  issuer may be
 * NULL (see ds_crl_accept_body).  limit_ms > 0 shortens the timeout.
 * *origin: FETCHED (new copy), CACHED (304), or NONE (failed: e->last_error
 * says why, and the retry backoff starts). */
void ds_crl_entry_fetch_locked(struct ds_crl_store *s, struct crl_entry *e,
    X509 *issuer, long limit_ms, enum ds_crl_get_origin *origin);

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

/* Rewrites STEM.meta only (a 304 refreshed the validators).  0 or -1. */
int ds_crl_disk_write_meta(struct ds_crl_store *s, const char *url,
    const char *stem, const char *etag, const char *last_modified,
    time_t fetched, time_t checked, const unsigned char sha[32],
    X509 *issuer);

/* Cold start of e: called with the lock held and e->in_flight set by the
 * caller; drops the lock while reading; sets e->disk_checked. */
void ds_crl_disk_load_locked(struct ds_crl_store *s, struct crl_entry *e);

/* Loads every STEM.meta of the cache directory into entries (takes the
 * lock itself). */
void ds_crl_disk_load_all(struct ds_crl_store *s);

/* ---- crl_list.c ---- */

/* Describes e for `domsecctl crl list` / `crl refresh` (lock held). */
void ds_crl_entry_report(const struct crl_entry *e, struct ds_crl_report *r);

#endif
