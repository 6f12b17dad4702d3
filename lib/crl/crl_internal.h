/*
 * crl_internal.h - private interfaces between the files of the CRL engine
 * (lib/crl/: crl_index.c, crl_fetch.c, crl_store.c, crl_cache.c, crl_check.c;
 * the store's own private parts are in crl_store_internal.h).
 * Not a contract for other modules; tests and the bench may use it.
 *
 * A fetched or configured CRL is decoded once into a struct ds_crl_data: its
 * issuer, thisUpdate, nextUpdate, scope flags and a compact hash index of the
 * revoked serials (content octets only, no per-entry objects).  The DER is
 * kept only when no file holds it (memory-only store), so that the signature
 * can be checked against a new issuer key later.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_CRL_INTERNAL_H
#define DOMSEC_CRL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <openssl/safestack.h>
#include <openssl/x509.h>
#include "domsec/crl.h"

/* ---- crl_serials.c: the serial index (one memory read per lookup) ---- */

#define DS_CRL_BUCKET_SERIAL 62  /* longest serial stored in a bucket */
#define DS_CRL_MAX_PROBE 8       /* buckets a serial may move along */

struct ds_crl_serials {
	unsigned char *buckets;      /* n_buckets 64-octet buckets: header
	                                (octets used | 0x40, 0x80: serials of
	                                even, odd hash went further), then
	                                (len, octets) records */
	size_t n_buckets;
	size_t buckets_mapped;       /* mmap'ed length, or 0 (malloc'ed) */
	unsigned char *spill;        /* (len, octets) records kept outside
	                                the buckets (long, or no room) */
	size_t spill_len, spill_cap;
	size_t n_spilled;
	uint32_t *table;             /* spill offsets + 1 (0 = empty slot),
	                                open addressing, built by finish */
	size_t table_size;           /* power of two, or 0 */
	size_t table_mapped;
};

/* How many buckets suit n serials of bytes octets in all (1 + length
 * each); 0 for none. */
size_t ds_crl_serials_buckets_for(size_t n, size_t bytes);
/* An empty index of n_buckets buckets (0: every serial spills) whose spill
 * area holds up to spill_cap octets of records.  Returns 0, or -1 (out of
 * memory, or too large for 32-bit offsets) leaving x safe to free. */
int ds_crl_serials_init(struct ds_crl_serials *x, size_t n_buckets,
    size_t spill_cap);
/* Adds the serial (normalised content octets, 1..255 of them).  Returns 0,
 * or -1 when len is out of range or the spill area is full. */
int ds_crl_serials_add(struct ds_crl_serials *x, const unsigned char *s,
    size_t len);
/* After the last add: indexes the spill area, returns its unused room.
 * Returns 0, or -1 when out of memory. */
int ds_crl_serials_finish(struct ds_crl_serials *x);
/* 1 when the serial was added (exact comparison of the octets), else 0. */
int ds_crl_serials_has(const struct ds_crl_serials *x,
    const unsigned char *s, size_t len);
/* Octets of memory the index holds. */
size_t ds_crl_serials_memory(const struct ds_crl_serials *x);
/* Frees what the index holds; x may be zeroed or half-built. */
void ds_crl_serials_free(struct ds_crl_serials *x);

/* ---- crl_index.c: decoding, signature check ---- */

#define DS_CRL_MAX_KEYS 4

struct ds_crl_data {
	int refs;                     /* atomic reference count */
	X509_NAME *issuer;
	char issuer_text[256];        /* one line, RFC 2253 */
	time_t this_update;
	time_t next_update;           /* 0 when absent */
	int only_user_certs;          /* issuingDistributionPoint scope */
	int only_ca_certs;
	int only_attr_certs;          /* covers attribute certificates only */
	int only_some_reasons;        /* a partition by reason: may revoke,
	                                 never proves "not revoked" alone */
	int idp_full_name;            /* IDP names a distribution point: the
	                                 CRL covers only that point's certs */
	char **idp_uris;              /* its URIs (n_idp_uris of them) */
	size_t n_idp_uris;
	int has_crl_number;           /* v2 CRL with CRLNumber */
	unsigned char crl_number[20]; /* content octets, no leading zeros */
	size_t crl_number_len;
	size_t n_removed;             /* removeFromCRL entries (not indexed:
	                                 in a complete CRL they are unrevoked,
	                                 RFC 5280 6.3.3 (k)) */
	unsigned char *removed_blob;  /* their serials, (len, octets) records:
	                                 a delta's removeFromCRL unrevokes */
	size_t removed_blob_len;
	int is_delta;                 /* deltaCRLIndicator present */
	unsigned char base_crl_number[20]; /* its BaseCRLNumber */
	size_t base_crl_number_len;
	int has_freshest;             /* FreshestCRL extension present */
	char **freshest_uris;         /* FreshestCRL of a base CRL: where its
	                                 deltas are (n_freshest_uris) */
	size_t n_freshest_uris;
	size_t n_entries;
	unsigned char sha256[32];     /* of the DER */
	struct ds_crl_serials serials; /* the revoked serials (crl_serials.c) */
	/* kept only while no file holds the DER (see above) */
	unsigned char *der;
	size_t der_len;
	/* issuer keys the signature verified with (guarded by the store) */
	EVP_PKEY *verified_keys[DS_CRL_MAX_KEYS];
	size_t n_verified_keys;
};

/* Decodes one DER CRL.  Returns a new object (refs = 1), or NULL with err
 * ("not a CRL (garbage)", "malformed deltaCRLIndicator", ...).  A delta
 * CRL is decoded with is_delta set (it is never a complete CRL).  A v2 CRL without
 * CRLNumber is accepted (has_crl_number = 0); an unknown critical extension
 * is refused. */
struct ds_crl_data *ds_crl_data_parse_der(const unsigned char *der,
    size_t len, char *err, size_t errlen);

/* Converts DER or PEM input to DER CRLs: calls fn for each one found (a DER
 * buffer holds one, a PEM text may hold several).  Returns the number found
 * (>= 1), or -1 with err when there is none or the PEM is broken. */
int ds_crl_split_der_or_pem(const unsigned char *buf, size_t len,
    int (*fn)(const unsigned char *der, size_t der_len, void *arg), void *arg,
    char *err, size_t errlen);

/* Checks the signature of the DER CRL with pkey.  Returns 1 when it
 * verifies, 0 when it does not, -1 when the DER is malformed. */
int ds_crl_der_verify(const unsigned char *der, size_t len, EVP_PKEY *pkey);

void ds_crl_data_ref(struct ds_crl_data *d);
void ds_crl_data_unref(struct ds_crl_data *d);

/* Normalised content octets of an INTEGER (no redundant leading 00/FF). */
int ds_crl_serial_octets(const ASN1_INTEGER *serial, unsigned char *out,
    size_t outlen, size_t *n);
/* 1 when the serial (content octets) is listed. */
int ds_crl_data_lookup(const struct ds_crl_data *d, const unsigned char *ser,
    size_t len);
/* 1 when the serial is listed with reason removeFromCRL. */
int ds_crl_data_lookup_removed(const struct ds_crl_data *d,
    const unsigned char *ser, size_t len);
/* 1 when delta d may be applied to complete CRL base (RFC 5280 5.2.4):
 * both numbered, d's BaseCRLNumber <= base's CRLNumber < d's CRLNumber. */
int ds_crl_delta_applies(const struct ds_crl_data *delta,
    const struct ds_crl_data *base);
/* Bytes of memory the index uses (for the bench and `crl list`). */
size_t ds_crl_data_memory(const struct ds_crl_data *d);

/* ---- crl_fetch.c: libcurl ---- */

enum ds_fetch_status {
	DS_FETCH_OK = 0,          /* body holds the CRL bytes */
	DS_FETCH_NOT_MODIFIED,    /* 304: the cached copy is current */
	DS_FETCH_FAILED           /* error holds why */
};

struct ds_fetch_result {
	enum ds_fetch_status status;
	long http_code;
	unsigned char *body;      /* malloc'ed, caller frees */
	size_t body_len;
	char etag[256];
	char last_modified[128];
	char error[256];          /* "HTTP 404", "timed out after 15000 ms", ... */
};

/* 1 when url's scheme is http, https, ldap or ldaps (case-insensitive). */
int ds_crl_url_allowed(const char *url);

/* Fetches url with the store's limits; etag / last_modified (may be NULL or
 * "") make it a conditional GET.  Never fails without filling res->error. */
void ds_crl_fetch(const struct ds_crl_opts *o, const char *url,
    const char *etag, const char *last_modified, struct ds_fetch_result *res);
/* The same; the download is abandoned within a second once *stop (read
 * atomically; may be NULL) becomes non-zero; anchors (may be NULL; read
 * only) are trusted for https besides the system CA store. */
void ds_crl_fetch_ex(const struct ds_crl_opts *o, const char *url,
    const char *etag, const char *last_modified, const int *stop,
    STACK_OF(X509) *anchors, struct ds_fetch_result *res);
void ds_fetch_result_free(struct ds_fetch_result *res);

/* Pulls the CRL out of the LDIF-like text libcurl returns for ldap URLs
 * (raw DER, or base64 for ";binary" attributes).  Returns 0 and a malloc'ed
 * copy, or -1. */
int ds_crl_ldap_extract(const unsigned char *body, size_t len,
    unsigned char **der, size_t *der_len);

/* ---- the store: crl_cache.c (ds_crl_store_get*), crl_store.c (the rest) ---- */

enum ds_crl_get_origin {
	DS_ORIGIN_NONE = 0, DS_ORIGIN_FETCHED, DS_ORIGIN_CACHED, DS_ORIGIN_DISK
};

/* What ds_crl_store_get() hands the checker. */
struct ds_crl_got {
	struct ds_crl_data *data;      /* referenced; NULL when none */
	enum ds_crl_get_origin origin;
	char error[256];               /* why the last fetch failed, or "" */
};

/*
 * Returns the best copy of url for a certificate issued by issuer, fetching
 * when there is no fresh copy (single-flight per URL, with backoff after a
 * failure).  deadline (CLOCK_REALTIME, may be NULL) bounds the wait for a
 * download: a fetch started gets only the time left, none starts after it.
 * A fetched CRL replaces the cached copy only when it parses,
 * names issuer's subject, verifies with issuer's key, is not older and is
 * not expired.  The caller unrefs got->data.
 */
void ds_crl_store_get(struct ds_crl_store *s, const char *url, X509 *issuer,
    const struct timespec *deadline, struct ds_crl_got *got);
/* The same, but fetches even when the cached copy is fresh (still subject
 * to the backoff): used when the cached copy does not verify with issuer. */
void ds_crl_store_get_fresh(struct ds_crl_store *s, const char *url,
    X509 *issuer, const struct timespec *deadline, struct ds_crl_got *got);

/* Configured CRL files whose issuer is name: calls fn for each. */
void ds_crl_store_files_for(struct ds_crl_store *s, const X509_NAME *name,
    void (*fn)(struct ds_crl_data *d, const char *path, void *arg), void *arg);

/* Checks d's signature with pkey, remembering keys that verified.  Reads the
 * DER from path when d no longer holds it.  Returns 1, 0 or -1 (cannot). */
int ds_crl_store_verify(struct ds_crl_store *s, struct ds_crl_data *d,
    const char *path, EVP_PKEY *pkey);

const struct ds_crl_opts *ds_crl_store_opts(const struct ds_crl_store *s);

/* Scope of d for a CRL fetched from url (NULL for a configured file):
 * when d's issuingDistributionPoint has a full name, one of its URIs must
 * equal url, or for a file one of cdp_urls (the certificate's distribution
 * points; may be NULL).  Returns 1 in scope, else 0 with why ("CRL scope
 * mismatch: ..."). */
int ds_crl_scope_ok(const struct ds_crl_data *d, const char *url,
    const STACK_OF(OPENSSL_STRING) *cdp_urls, char *why, size_t whylen);

/* -1, 0 or 1 as a is older than, as new as, or newer than b: by CRLNumber
 * when both have one, else by thisUpdate. */
int ds_crl_newer(const struct ds_crl_data *a, const struct ds_crl_data *b);

/* Fills the SHA-256-of-URL file stem ("<64 hex>") used on disk. */
void ds_crl_cache_stem(const char *url, char out[65]);

/* ---- crl_check.c ---- */

/* Validates d for cert (issued by issuer) as of at: issuer name, signature,
 * thisUpdate, nextUpdate + grace, scope.  Returns 1 usable, else 0 (time or
 * scope) or DS_CRL_NOT_FROM_ISSUER (name, key usage or signature: the copy
 * itself is suspect) with outcome in words. */
#define DS_CRL_NOT_FROM_ISSUER (-2)
int ds_crl_validate(struct ds_crl_store *s, struct ds_crl_data *d,
    const char *path, X509 *cert, X509 *issuer, time_t at, char *outcome,
    size_t outlen);

/* Time helpers: "2026-11-22 16:50:36Z". */
void ds_crl_time_text(time_t t, char *out, size_t outlen);

#endif
