/*
 * crl_disk.c - the CRL store's cache directory: a copy of every fetched CRL
 * survives a restart.
 *
 * Layout under cache_dir (created 0700 if missing), per URL with
 * STEM = hex SHA-256 of the URL:
 *   STEM.crl   the CRL as DER
 *   STEM.meta  text lines: "domsec-crl-cache 1", "url U", "etag E",
 *              "last-modified L", "fetched EPOCH", "checked EPOCH",
 *              "sha256 HEX" (of STEM.crl), "issuer-cert BASE64-DER",
 *              "error TEXT" (why the last download failed; a .meta
 *              without .crl records a distribution point with no copy)
 * Both are written to a temporary file in the same directory (mode 0600)
 * and renamed into place.  STEM.crl is written first; a .meta whose sha256
 * does not match its .crl is ignored except for its URL.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "crl_store_internal.h"
#include "domsec/fileio.h"
#include "domsec/hex.h"
#include "domsec/log.h"

void ds_crl_disk_path(const struct ds_crl_store *s, const char *stem,
    const char *ext, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%s%s", s->cache_dir, stem, ext);
}

int ds_crl_disk_write_meta(struct ds_crl_store *s, const char *url,
    const char *stem, const char *etag, const char *lm, time_t fetched,
    time_t checked, const unsigned char sha[32], X509 *issuer,
    const char *error)
{
	char path[4096], shahex[65];
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	int rc;

	if (m == NULL)
		return -1;
	fprintf(m, "domsec-crl-cache 1\nurl %s\netag %s\nlast-modified %s\n"
	    "fetched %lld\nchecked %lld\n", url, etag, lm,
	    (long long)fetched, (long long)checked);
	if (sha != NULL) {
		ds_hex_encode(sha, 32, shahex, 0, '\0');
		fprintf(m, "sha256 %s\n", shahex);
	}
	if (error != NULL && *error) {
		fputs("error ", m);
		for (const char *p = error; *p; p++)   /* one line */
			fputc(*p == '\n' || *p == '\r' ? ' ' : *p, m);
		fputc('\n', m);
	}
	if (issuer) {
		unsigned char *der = NULL;
		int n = i2d_X509(issuer, &der);
		if (n > 0) {
			char *b64 = malloc((size_t)n * 4 / 3 + 8);
			if (b64) {
				EVP_EncodeBlock((unsigned char *)b64, der, n);
				fprintf(m, "issuer-cert %s\n", b64);
				free(b64);
			}
			OPENSSL_free(der);
		}
	}
	fclose(m);
	ds_crl_disk_path(s, stem, ".meta", path, sizeof path);
	rc = ds_file_write_atomic_dir_owner(path, text, len, 0600);
	free(text);
	return rc;
}

int ds_crl_disk_save(struct ds_crl_store *s, const char *url,
    const char *stem, const unsigned char *der, size_t der_len,
    const char *etag, const char *last_modified, time_t fetched,
    time_t checked, const unsigned char sha[32], X509 *issuer)
{
	char path[4096];

	ds_crl_disk_path(s, stem, ".crl", path, sizeof path);
	if (ds_file_write_atomic_dir_owner(path, der, der_len, 0600) != 0)
		return -1;
	return ds_crl_disk_write_meta(s, url, stem, etag, last_modified,
	    fetched, checked, sha, issuer, NULL);
}

struct disk_meta {
	char url[2048];
	char etag[256];
	char last_modified[128];
	time_t fetched, checked;
	unsigned char sha[32];
	int have_sha;
	X509 *issuer;
	char error[256];
};

static int read_meta(const char *path, struct disk_meta *m)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int first = 1, ok = 0;

	memset(m, 0, sizeof *m);
	if (f == NULL)
		return -1;
	while ((n = getline(&line, &cap, f)) > 0) {
		char *v;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (first) {
			ok = strcmp(line, "domsec-crl-cache 1") == 0;
			first = 0;
			if (!ok)
				break;
			continue;
		}
		v = strchr(line, ' ');
		v = v ? v + 1 : line + n;
		if (strncmp(line, "url ", 4) == 0)
			snprintf(m->url, sizeof m->url, "%s", v);
		else if (strncmp(line, "etag ", 5) == 0)
			snprintf(m->etag, sizeof m->etag, "%s", v);
		else if (strncmp(line, "last-modified ", 14) == 0)
			snprintf(m->last_modified, sizeof m->last_modified, "%s", v);
		else if (strncmp(line, "error ", 6) == 0)
			snprintf(m->error, sizeof m->error, "%s", v);
		else if (strncmp(line, "fetched ", 8) == 0)
			m->fetched = (time_t)atoll(v);
		else if (strncmp(line, "checked ", 8) == 0)
			m->checked = (time_t)atoll(v);
		else if (strncmp(line, "sha256 ", 7) == 0)
			m->have_sha = strlen(v) == 64 && ds_hex_decode(v, m->sha, 32) == 0;
		else if (strncmp(line, "issuer-cert ", 12) == 0 && m->issuer == NULL) {
			size_t l = strlen(v);
			unsigned char *der = malloc(l);
			int dl = der ? EVP_DecodeBlock(der, (unsigned char *)v, (int)l) : -1;
			if (dl > 0) {
				const unsigned char *p = der;
				while (dl > 0 && v[l - 1] == '=') {  /* padding */
					dl--;
					l--;
				}
				m->issuer = d2i_X509(NULL, &p, dl);
			}
			free(der);
		}
	}
	free(line);
	fclose(f);
	if (!ok || m->url[0] == '\0') {
		X509_free(m->issuer);
		m->issuer = NULL;
		return -1;
	}
	return 0;
}

/* Loads STEM.crl/.meta for e (entry not locked by others: loading). */
static struct ds_crl_data *load_from_disk(struct ds_crl_store *s,
    struct crl_entry *e, struct disk_meta *m)
{
	char path[4096], err[256];
	unsigned char *buf;
	size_t len;
	struct ds_crl_data *d;

	ds_crl_disk_path(s, e->stem, ".meta", path, sizeof path);
	if (read_meta(path, m) != 0) {
		if (errno == EACCES)
			ds_log(LOG_WARNING, "CRL cache: cannot read %s: %s (written "
			    "by another user? files in CRLCacheDir must belong to "
			    "domsecd's user); fetching %s again", path,
			    strerror(errno), e->url);
		return NULL;
	}
	if (strcmp(m->url, e->url) != 0 || !m->have_sha)
		return NULL;               /* no copy (only a recorded error) */
	ds_crl_disk_path(s, e->stem, ".crl", path, sizeof path);
	if (ds_file_read(path, &buf, &len, s->o.max_size) != 0) {
		if (errno == EACCES)
			ds_log(LOG_WARNING, "CRL cache: cannot read %s: %s (files in "
			    "CRLCacheDir must belong to domsecd's user); fetching "
			    "%s again", path, strerror(errno), e->url);
		return NULL;
	}
	d = ds_crl_data_parse_der(buf, len, err, sizeof err);
	free(buf);
	if (d == NULL) {
		return NULL;
	}
	if (!m->have_sha || memcmp(m->sha, d->sha256, 32) != 0) {
		/* .crl newer than .meta: keep the CRL, forget validators */
		m->etag[0] = m->last_modified[0] = '\0';
	}
	return d;
}

/* Cold start: called with the lock held and e->loading set by us. */
void ds_crl_disk_load_locked(struct ds_crl_store *s, struct crl_entry *e)
{
	struct disk_meta m;
	struct ds_crl_data *d;

	pthread_mutex_unlock(&s->mu);
	d = load_from_disk(s, e, &m);
	pthread_mutex_lock(&s->mu);
	e->disk_checked = 1;
	if (strcmp(m.url, e->url) == 0 && m.error[0] && !e->last_error[0])
		snprintf(e->last_error, sizeof e->last_error, "%s", m.error);
	if (d != NULL && e->data == NULL) {
		e->data = d;
		ds_crl_generation_bump();
		e->data_origin = DS_ORIGIN_DISK;
		snprintf(e->etag, sizeof e->etag, "%s", m.etag);
		snprintf(e->last_modified, sizeof e->last_modified, "%s",
		    m.last_modified);
		e->fetched_at = m.fetched;
		e->checked_at = m.checked;
		if (e->issuer == NULL) {
			e->issuer = m.issuer;
			m.issuer = NULL;
		}
	} else {
		ds_crl_data_unref(d);
	}
	X509_free(m.issuer);
}

/* Reads every STEM.meta of the cache directory into entries (cold start). */
void ds_crl_disk_load_all(struct ds_crl_store *s)
{
	DIR *dir;
	struct dirent *de;

	if (s->cache_dir == NULL || (dir = opendir(s->cache_dir)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		size_t l = strlen(de->d_name);
		char path[4096];
		struct disk_meta m;
		struct crl_entry *e;

		if (l != 64 + 5 || strcmp(de->d_name + 64, ".meta") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", s->cache_dir, de->d_name);
		if (read_meta(path, &m) != 0)
			continue;
		X509_free(m.issuer);
		pthread_mutex_lock(&s->mu);
		e = ds_crl_entry_find(s, m.url, 1);
		while (e && e->loading)
			pthread_cond_wait(&s->cv, &s->mu);
		if (e && !e->disk_checked) {
			e->loading = 1;
			ds_crl_disk_load_locked(s, e);
			e->loading = 0;
			pthread_cond_broadcast(&s->cv);
		}
		pthread_mutex_unlock(&s->mu);
	}
	closedir(dir);
}
