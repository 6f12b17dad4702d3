/*
 * crl.h - the revocation (CRL) engine, DESIGN.md section 5.
 *
 * A store holds CRLs fetched from distribution points (http, https, ldap,
 * ldaps through libcurl) and CRL files configured by the administrator, in
 * memory and on disk (atomic writes, mode 0600).  A CRL is used only when its
 * signature verifies against its issuer and it is current.  Fetched copies are
 * reused until nextUpdate (plus grace); a failed or bad fetch never replaces a
 * good cached copy; concurrent requests for one URL share one fetch.  The store
 * is thread-safe.  A CRL whose issuingDistributionPoint names distribution
 * points covers only certificates fetched for (or, from a file, listing)
 * one of them ("CRL scope mismatch"); among the usable CRLs of a
 * certificate the newest (CRLNumber, else thisUpdate) decides, corrected by
 * the newest delta CRL (FreshestCRL) built on it.
 *
 * Only distribution points of certificates of an already verified chain are
 * fetched: callers pass the chain that ds_chain_verify() returned.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_CRL_H
#define DOMSEC_CRL_H

#include <stddef.h>
#include <time.h>
#include <openssl/x509.h>

/* Progress of one download (domsecctl): bytes so far, bytes expected (0
 * when unknown), seconds since it started; done is set on the last call. */
typedef void ds_crl_progress_fn(void *arg, const char *url, long long got,
    long long total, double secs, int done);

struct ds_crl_opts {
	const char *cache_dir;        /* NULL = memory only */
	long connect_timeout_ms;      /* default 5000 */
	long timeout_ms;              /* message-time wait: how long a check
	                                 waits for downloads, default 15000 */
	long download_timeout_ms;     /* total per download (background and
	                                 administrator), default 600000 and
	                                 never less than timeout_ms */
	long low_speed_limit;         /* bytes/s: a download slower than this
	                                 for low_speed_time_s is abandoned;
	                                 0 = no limit, default 0 */
	long low_speed_time_s;        /* default 60 */
	const char *no_proxy;         /* hosts reached without the proxy
	                                 (curl's NOPROXY syntax); NULL = none */
	int proxy_ldap;               /* LDAP through the proxy too (default 0:
	                                 ldap/ldaps always go direct) */
	long log_large_bytes;         /* log start and end of downloads of at
	                                 least this size; 0 = never */
	ds_crl_progress_fn *progress; /* NULL = none */
	void *progress_arg;
	long max_size;                /* bytes, default 256 MiB */
	const char *proxy;            /* NULL or "" = none */
	long max_redirects;           /* default 3 */
	long grace_s;                 /* accepted past nextUpdate, default 0 */
	long refresh_before_s;        /* background refresh window, default 3600 */
	long retry_backoff_s;         /* wait after a failed fetch before trying
	                                 the URL again, default 30; doubles with
	                                 each consecutive failure, up to 16x */
};

struct ds_crl_store;

struct ds_crl_store *ds_crl_store_new(const struct ds_crl_opts *opts,
    char *err, size_t errlen);
void ds_crl_store_free(struct ds_crl_store *s);

/* Adds a CRL file (DER or PEM, may hold several PEM CRLs).  Its signature is
 * checked when used, against the issuer from the chain.  Returns 0, or -1
 * with err "FILE: problem". */
int ds_crl_store_add_file(struct ds_crl_store *s, const char *path, char *err,
    size_t errlen);

enum ds_rev_status {
	DS_REV_GOOD = 0,        /* every certificate below the anchor checked */
	DS_REV_REVOKED,         /* some certificate of the chain is listed */
	DS_REV_UNAVAILABLE      /* some needed CRL could not be had */
};

/* One line of the report: one CRL considered. */
struct ds_crl_report {
	char source[512];       /* URL or file path */
	char origin[16];        /* "fetched", "cached", "disk", "file", "none" */
	char issuer[256];       /* CRL issuer, one line */
	time_t this_update;     /* 0 if unknown */
	time_t next_update;     /* 0 if unknown/absent */
	int depth;              /* depth of the certificate it was used for */
	char outcome[256];      /* "good", "revoked serial 1A2B", "HTTP 404",
	                           "signature does not verify", "expired (nextUpdate ...)", ... */
	long entries;           /* revoked entries listed, -1 if unknown */
	time_t fetched_at;      /* last full download, 0 if none/unknown */
	time_t checked_at;      /* last download or 304, 0 if none/unknown */
};

#define DS_CRL_REPORT_MAX 16

struct ds_rev_result {
	enum ds_rev_status status;
	char reason[512];       /* in words, for the verdict */
	int revoked_depth;      /* -1 unless REVOKED */
	char revoked_serial[128];
	struct ds_crl_report reports[DS_CRL_REPORT_MAX];
	size_t n_reports;
};

/*
 * Checks every certificate of chain (leaf first, anchor last) except the
 * anchor against a current, validly signed CRL of its issuer (the next
 * certificate in the chain): from the certificate's CRL distribution points,
 * or from configured files.  at = 0 means now.  Returns 0 (see res->status),
 * -1 on an internal error.
 */
int ds_crl_check_chain(struct ds_crl_store *s, STACK_OF(X509) *chain,
    time_t at, struct ds_rev_result *res);

/* Evaluation time for what the store accepts from downloads (expiry of a
 * fetched CRL), for `domsecctl verify --at`; 0 (the default) = now.  The
 * check itself takes its time from ds_crl_check_chain(). */
void ds_crl_store_set_time(struct ds_crl_store *s, time_t at);

/* Refreshes, in the calling thread, every cached CRL whose nextUpdate is
 * within refresh_before_s.  Returns the number refreshed.  domsecd calls it
 * from a background thread. */
int ds_crl_store_refresh_due(struct ds_crl_store *s);

/* Certificates that may have issued CRLs (CA certificates from CAFile,
 * ChainFile, `domsecctl crl refresh --issuer`): used to check the signature
 * of a CRL fetched without a chain (ds_crl_store_refresh_url, refresh of a
 * copy loaded from disk).  Copies the references.  Returns 0 or -1. */
int ds_crl_store_add_issuers(struct ds_crl_store *s, STACK_OF(X509) *certs);

/* Extra trust anchors for https distribution points (the partners'
 * configured anchors, CAFile), used in addition to the system CA store.
 * Copies the references; the list only grows.  Returns 0 or -1. */
int ds_crl_store_add_tls_anchors(struct ds_crl_store *s,
    STACK_OF(X509) *certs);

/* Starts a background thread that calls ds_crl_store_refresh_due() every
 * interval_s seconds (60 when 0), so that mail almost never waits for a
 * download; ds_crl_store_free() stops it.  Call it after any fork() (daemon
 * mode).  Returns 0, or -1 when the thread cannot be started or already
 * runs. */
int ds_crl_store_start_refresher(struct ds_crl_store *s, long interval_s);

/* For `domsecctl crl refresh URL`: fetches url now (a conditional GET when a
 * copy is cached), whether due or not, and stores it when it parses, is
 * current and, if the issuer that verified the cached copy is known, verifies
 * with it (otherwise the signature is checked when the CRL is used).  rep
 * (may be NULL) describes the result.  Returns 0, or -1 when the fetch
 * failed or the answer was rejected (rep->outcome says why). */
int ds_crl_store_refresh_url(struct ds_crl_store *s, const char *url,
    struct ds_crl_report *rep);

/* Progress of the store's downloads (domsecctl on a terminal): fn is called
 * about once a second for a download that has lasted over a second, from
 * the thread doing it, and once more with done set at its end.  NULL turns
 * it off.  Set it before the first download. */
void ds_crl_store_set_progress(struct ds_crl_store *s, ds_crl_progress_fn *fn,
    void *arg);

/* For `domsecctl crl list`: calls fn once per cached CRL (memory, disk
 * cache directory and configured files). */
void ds_crl_store_foreach(struct ds_crl_store *s,
    void (*fn)(const struct ds_crl_report *entry, void *arg), void *arg);

/* A counter bumped whenever any CRL copy is swapped in (fetched, loaded
 * from disk or from a configured file) in any store: a verdict that read a
 * CRL holds only while it is unchanged (the verdict cache of inbound.c). */
unsigned long ds_crl_generation(void);
void ds_crl_generation_bump(void);

#endif
