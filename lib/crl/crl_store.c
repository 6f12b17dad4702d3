/*
 * crl_store.c - the CRL store itself (include/domsec/crl.h): creating and
 * freeing it, the candidate issuer certificates, the CRL files the
 * administrator configured, and signature checks that remember the issuer
 * keys a CRL verified with.
 *
 * The store's other jobs live in their own files: crl_cache.c (the memory
 * cache and the single-flight fetch per URL), crl_accept.c (validating a
 * downloaded CRL), crl_disk.c (the cache directory), crl_refresh.c (the
 * background refresher) and crl_list.c (`domsecctl crl list`).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "crl_store_internal.h"
#include "domsec/fileio.h"
#include "domsec/hex.h"

/* ---- small helpers ---- */

void ds_crl_cache_stem(const char *url, char out[65])
{
	unsigned char md[32];
	EVP_Digest(url, strlen(url), md, NULL, EVP_sha256(), NULL);
	ds_hex_encode(md, 32, out, 0, '\0');
}

void ds_crl_time_text(time_t t, char *out, size_t outlen)
{
	struct tm tm;
	if (t == 0 || gmtime_r(&t, &tm) == NULL) {
		snprintf(out, outlen, "-");
		return;
	}
	strftime(out, outlen, "%Y-%m-%d %H:%M:%SZ", &tm);
}

const struct ds_crl_opts *ds_crl_store_opts(const struct ds_crl_store *s)
{
	return &s->o;
}

/* ---- store ---- */

struct ds_crl_store *ds_crl_store_new(const struct ds_crl_opts *opts,
    char *err, size_t errlen)
{
	struct ds_crl_store *s = calloc(1, sizeof *s);

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (opts)
		s->o = *opts;
	if (s->o.connect_timeout_ms <= 0)
		s->o.connect_timeout_ms = 5000;
	if (s->o.timeout_ms <= 0)
		s->o.timeout_ms = 15000;
	if (s->o.download_timeout_ms <= 0)
		s->o.download_timeout_ms = 600000;
	if (s->o.download_timeout_ms < s->o.timeout_ms)
		s->o.download_timeout_ms = s->o.timeout_ms;
	if (s->o.low_speed_limit < 0)
		s->o.low_speed_limit = 0;
	if (s->o.low_speed_time_s <= 0)
		s->o.low_speed_time_s = 60;
	if (s->o.max_size <= 0)
		s->o.max_size = 256L * 1024 * 1024;
	if (s->o.max_redirects < 0)
		s->o.max_redirects = 0;
	if (s->o.grace_s < 0)
		s->o.grace_s = 0;
	if (s->o.refresh_before_s < 0)
		s->o.refresh_before_s = 0;
	if (s->o.retry_backoff_s <= 0)
		s->o.retry_backoff_s = 30;
	if (opts && opts->cache_dir && *opts->cache_dir) {
		s->cache_dir = strdup(opts->cache_dir);
		if (s->cache_dir == NULL || ds_make_dirs(s->cache_dir) != 0) {
			snprintf(err, errlen, "CRL cache directory %s: cannot create: %s",
			    opts->cache_dir, strerror(errno));
			free(s->cache_dir);
			free(s);
			return NULL;
		}
		if (access(s->cache_dir, W_OK | X_OK) != 0) {
			snprintf(err, errlen, "CRL cache directory %s: %s",
			    s->cache_dir, strerror(errno));
			free(s->cache_dir);
			free(s);
			return NULL;
		}
	}
	s->o.cache_dir = s->cache_dir;
	if (opts && opts->proxy && *opts->proxy)
		s->proxy = strdup(opts->proxy);
	s->o.proxy = s->proxy;
	if (opts && opts->no_proxy && *opts->no_proxy)
		s->no_proxy = strdup(opts->no_proxy);
	s->o.no_proxy = s->no_proxy;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	return s;
}

void ds_crl_store_free(struct ds_crl_store *s)
{
	if (s == NULL)
		return;
	/* downloads see stopping (atomic) and abort within a second */
	pthread_mutex_lock(&s->mu);
	__atomic_store_n(&s->stopping, 1, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&s->cv);
	while (s->downloads > 0)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	if (s->refresher_running)
		pthread_join(s->refresher, NULL);
	while (s->entries) {
		struct crl_entry *e = s->entries;
		s->entries = e->next;
		ds_crl_data_unref(e->data);
		X509_free(e->issuer);
		free(e->url);
		free(e);
	}
	while (s->files) {
		struct crl_file *f = s->files;
		s->files = f->next;
		ds_crl_data_unref(f->data);
		free(f->path);
		free(f);
	}
	sk_X509_pop_free(s->issuers, X509_free);
	sk_X509_pop_free(s->tls_anchors, X509_free);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s->cache_dir);
	free(s->proxy);
	free(s->no_proxy);
	free(s);
}

int ds_crl_store_add_issuers(struct ds_crl_store *s, STACK_OF(X509) *certs)
{
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if (s->issuers == NULL)
		s->issuers = sk_X509_new_null();
	for (int i = 0; certs && i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);
		if (s->issuers == NULL || !X509_up_ref(x)) {
			rc = -1;
			break;
		}
		if (sk_X509_push(s->issuers, x) <= 0) {
			X509_free(x);
			rc = -1;
			break;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void ds_crl_store_set_progress(struct ds_crl_store *s, ds_crl_progress_fn *fn,
    void *arg)
{
	pthread_mutex_lock(&s->mu);
	s->o.progress = fn;
	s->o.progress_arg = arg;
	pthread_mutex_unlock(&s->mu);
}

int ds_crl_store_add_tls_anchors(struct ds_crl_store *s,
    STACK_OF(X509) *certs)
{
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if (s->tls_anchors == NULL)
		s->tls_anchors = sk_X509_new_null();
	for (int i = 0; certs && i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);
		if (s->tls_anchors == NULL || !X509_up_ref(x) ||
		    sk_X509_push(s->tls_anchors, x) <= 0) {
			rc = -1;
			break;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void ds_crl_store_set_time(struct ds_crl_store *s, time_t at)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->at = at;
	pthread_mutex_unlock(&s->mu);
}

/* ---- configured files ---- */

struct add_file_ctx {
	struct ds_crl_store *s;
	const char *path;
	char err[256];
	int added;
};

static int add_one(const unsigned char *der, size_t len, void *arg)
{
	struct add_file_ctx *c = arg;
	struct ds_crl_data *d = ds_crl_data_parse_der(der, len, c->err,
	    sizeof c->err);
	struct crl_file *f;

	if (d == NULL)
		return -1;
	f = calloc(1, sizeof *f);
	if (f == NULL || (f->path = strdup(c->path)) == NULL) {
		free(f);
		ds_crl_data_unref(d);
		snprintf(c->err, sizeof c->err, "out of memory");
		return -1;
	}
	f->data = d;
	ds_crl_generation_bump();
	pthread_mutex_lock(&c->s->mu);
	f->next = c->s->files;
	c->s->files = f;
	pthread_mutex_unlock(&c->s->mu);
	c->added++;
	return 0;
}

int ds_crl_store_add_file(struct ds_crl_store *s, const char *path, char *err,
    size_t errlen)
{
	unsigned char *buf;
	size_t len;
	struct add_file_ctx c = { s, path, "", 0 };
	char perr[256] = "";

	if (ds_file_read(path, &buf, &len, s->o.max_size) != 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	if (ds_crl_split_der_or_pem(buf, len, add_one, &c, perr, sizeof perr) < 0) {
		snprintf(err, errlen, "%s: %s", path, c.err[0] ? c.err : perr);
		free(buf);
		return -1;
	}
	free(buf);
	return 0;
}

void ds_crl_store_files_for(struct ds_crl_store *s, const X509_NAME *name,
    void (*fn)(struct ds_crl_data *d, const char *path, void *arg), void *arg)
{
	struct crl_file *f;

	/* files are only ever prepended, so a snapshot of the head is safe */
	pthread_mutex_lock(&s->mu);
	f = s->files;
	pthread_mutex_unlock(&s->mu);
	for (; f; f = f->next)
		if (X509_NAME_cmp(f->data->issuer, name) == 0)
			fn(f->data, f->path, arg);
}

/* ---- signature checks with remembered keys ---- */

struct find_der_ctx {
	const unsigned char *want;
	unsigned char *der;
	size_t len;
};

static int find_der(const unsigned char *der, size_t len, void *arg)
{
	struct find_der_ctx *c = arg;
	unsigned char md[32];

	if (c->der != NULL)
		return 0;
	EVP_Digest(der, len, md, NULL, EVP_sha256(), NULL);
	if (memcmp(md, c->want, 32) == 0 && (c->der = malloc(len)) != NULL) {
		memcpy(c->der, der, len);
		c->len = len;
	}
	return 0;
}

int ds_crl_store_verify(struct ds_crl_store *s, struct ds_crl_data *d,
    const char *path, EVP_PKEY *pkey)
{
	struct find_der_ctx c = { d->sha256, NULL, 0 };
	const unsigned char *der;
	size_t len;
	int rc;

	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < d->n_verified_keys; i++)
		if (EVP_PKEY_eq(d->verified_keys[i], pkey) == 1) {
			pthread_mutex_unlock(&s->mu);
			return 1;
		}
	pthread_mutex_unlock(&s->mu);

	if (d->der != NULL) {
		der = d->der;
		len = d->der_len;
	} else {
		unsigned char *buf;
		size_t blen;
		char err[64];
		if (path == NULL || ds_file_read(path, &buf, &blen, s->o.max_size) != 0)
			return -1;
		ds_crl_split_der_or_pem(buf, blen, find_der, &c, err, sizeof err);
		free(buf);
		if (c.der == NULL)
			return -1;         /* the file changed under us */
		der = c.der;
		len = c.len;
	}
	rc = ds_crl_der_verify(der, len, pkey);
	free(c.der);
	if (rc == 1) {
		pthread_mutex_lock(&s->mu);
		if (d->n_verified_keys < DS_CRL_MAX_KEYS && EVP_PKEY_up_ref(pkey))
			d->verified_keys[d->n_verified_keys++] = pkey;
		pthread_mutex_unlock(&s->mu);
	}
	return rc;
}

/* See include/domsec/crl.h: one counter for every store in the process. */
static unsigned long crl_generation = 1;

unsigned long ds_crl_generation(void)
{
	return __atomic_load_n(&crl_generation, __ATOMIC_ACQUIRE);
}

void ds_crl_generation_bump(void)
{
	__atomic_add_fetch(&crl_generation, 1, __ATOMIC_ACQ_REL);
}
