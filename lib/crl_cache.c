/*
 * crl_cache.c - the CRL store: one entry per distribution point URL, in
 * memory and on disk, plus the CRL files the administrator configured.
 *
 * Freshness: a copy is used without any network access until its
 * nextUpdate (a CRL without nextUpdate is revalidated, by conditional GET,
 * every refresh_before_s, at least every minute).  Concurrent requests for
 * one URL share one fetch (in_flight + the store's condition variable).  A
 * failed or bad fetch never replaces the good copy; it is remembered and the
 * URL is not tried again before a backoff (retry_backoff_s, doubling per
 * consecutive failure, at most 16 times) so a dead server is not hammered.
 *
 * Disk layout under cache_dir (created 0700 if missing), per URL with
 * STEM = hex SHA-256 of the URL:
 *   STEM.crl   the CRL as DER
 *   STEM.meta  text lines: "domsec-crl-cache 1", "url U", "etag E",
 *              "last-modified L", "fetched EPOCH", "checked EPOCH",
 *              "sha256 HEX" (of STEM.crl), "issuer-cert BASE64-DER"
 * Both are written to a temporary file in the same directory (mode 0600)
 * and renamed into place.  STEM.crl is written first; a .meta whose sha256
 * does not match its .crl is ignored except for its URL.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "domsec/crl_internal.h"

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
};

/* ---- small helpers ---- */

static void hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

void ds_crl_cache_stem(const char *url, char out[65])
{
	unsigned char md[32];
	EVP_Digest(url, strlen(url), md, NULL, EVP_sha256(), NULL);
	hex(md, 32, out);
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

static int read_file(const char *path, unsigned char **buf, size_t *len,
    long max)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	unsigned char *b;

	if (f == NULL)
		return -1;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
	    (max > 0 && st.st_size > max)) {
		fclose(f);
		errno = EFBIG;
		return -1;
	}
	b = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (b == NULL || fread(b, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(b);
		fclose(f);
		return -1;
	}
	fclose(f);
	*buf = b;
	*len = (size_t)st.st_size;
	return 0;
}

/* Writes buf to dir/name through a 0600 temporary file and rename(). */
static int write_atomic(const char *dir, const char *name,
    const void *buf, size_t len)
{
	char tmp[4096], final[4096];
	int fd;
	const unsigned char *p = buf;

	snprintf(final, sizeof final, "%s/%s", dir, name);
	snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, name);
	fd = mkstemp(tmp);
	if (fd < 0)
		return -1;
	fchmod(fd, 0600);
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			unlink(tmp);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, final) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* mkdir -p: parents 0755, the directory itself 0700. */
static int make_dirs(const char *dir)
{
	char *copy = strdup(dir), *p;
	int rc = 0;

	if (copy == NULL)
		return -1;
	for (p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) != 0 && errno != EEXIST)
			rc = -1;
		*p = '/';
		if (rc)
			break;
	}
	if (rc == 0 && mkdir(copy, 0700) != 0 && errno != EEXIST)
		rc = -1;
	free(copy);
	return rc;
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
		if (s->cache_dir == NULL || make_dirs(s->cache_dir) != 0) {
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
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	return s;
}

void ds_crl_store_free(struct ds_crl_store *s)
{
	if (s == NULL)
		return;
	if (s->refresher_running) {
		pthread_mutex_lock(&s->mu);
		s->stopping = 1;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->refresher, NULL);
	}
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
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s->cache_dir);
	free(s->proxy);
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

	if (read_file(path, &buf, &len, s->o.max_size) != 0) {
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
		if (path == NULL || read_file(path, &buf, &blen, s->o.max_size) != 0)
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

/* ---- disk ---- */

static void disk_path(const struct ds_crl_store *s, const char *stem,
    const char *ext, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%s%s", s->cache_dir, stem, ext);
}

static int write_meta(struct ds_crl_store *s, const char *url, const char *stem,
    const char *etag, const char *lm, time_t fetched, time_t checked,
    const unsigned char sha[32], X509 *issuer)
{
	char name[80], shahex[65];
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	int rc;

	if (m == NULL)
		return -1;
	hex(sha, 32, shahex);
	fprintf(m, "domsec-crl-cache 1\nurl %s\netag %s\nlast-modified %s\n"
	    "fetched %lld\nchecked %lld\nsha256 %s\n", url, etag, lm,
	    (long long)fetched, (long long)checked, shahex);
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
	snprintf(name, sizeof name, "%s.meta", stem);
	rc = write_atomic(s->cache_dir, name, text, len);
	free(text);
	return rc;
}

struct disk_meta {
	char url[2048];
	char etag[256];
	char last_modified[128];
	time_t fetched, checked;
	unsigned char sha[32];
	int have_sha;
	X509 *issuer;
};

static int unhex(const char *h, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(h + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

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
		else if (strncmp(line, "fetched ", 8) == 0)
			m->fetched = (time_t)atoll(v);
		else if (strncmp(line, "checked ", 8) == 0)
			m->checked = (time_t)atoll(v);
		else if (strncmp(line, "sha256 ", 7) == 0)
			m->have_sha = strlen(v) == 64 && unhex(v, m->sha, 32) == 0;
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

/* Loads STEM.crl/.meta for e (entry not locked by others: in_flight). */
static struct ds_crl_data *load_from_disk(struct ds_crl_store *s,
    struct crl_entry *e, struct disk_meta *m)
{
	char path[4096], err[256];
	unsigned char *buf;
	size_t len;
	struct ds_crl_data *d;

	disk_path(s, e->stem, ".meta", path, sizeof path);
	if (read_meta(path, m) != 0 || strcmp(m->url, e->url) != 0)
		return NULL;
	disk_path(s, e->stem, ".crl", path, sizeof path);
	if (read_file(path, &buf, &len, s->o.max_size) != 0)
		return NULL;
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

/* ---- entries ---- */

static struct crl_entry *find_entry(struct ds_crl_store *s, const char *url,
    int create)
{
	struct crl_entry *e;

	for (e = s->entries; e; e = e->next)
		if (strcmp(e->url, url) == 0)
			return e;
	if (!create)
		return NULL;
	e = calloc(1, sizeof *e);
	if (e == NULL || (e->url = strdup(url)) == NULL) {
		free(e);
		return NULL;
	}
	ds_crl_cache_stem(url, e->stem);
	e->disk_checked = s->cache_dir == NULL;
	e->next = s->entries;
	s->entries = e;
	return e;
}

static int is_fresh(const struct ds_crl_store *s, const struct crl_entry *e,
    time_t now)
{
	long revalidate = s->o.refresh_before_s > 60 ? s->o.refresh_before_s : 60;

	if (e->data == NULL)
		return 0;
	if (e->data->next_update != 0)
		return now < e->data->next_update;
	return now < e->checked_at + revalidate;
}

/* Cold start: called with the lock held and e->in_flight set by us. */
static void disk_load_locked(struct ds_crl_store *s, struct crl_entry *e)
{
	struct disk_meta m;
	struct ds_crl_data *d;

	pthread_mutex_unlock(&s->mu);
	d = load_from_disk(s, e, &m);
	pthread_mutex_lock(&s->mu);
	e->disk_checked = 1;
	if (d != NULL && e->data == NULL) {
		e->data = d;
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

static void name_text(const X509_NAME *n, char *out, size_t outlen)
{
	BIO *b = BIO_new(BIO_s_mem());
	int len;

	out[0] = '\0';
	if (b == NULL)
		return;
	X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253);
	len = BIO_read(b, out, (int)outlen - 1);
	out[len > 0 ? len : 0] = '\0';
	BIO_free(b);
}

struct first_der {
	unsigned char *der;
	size_t len;
	unsigned char **body;    /* a DER answer is taken over, not copied */
};

static int take_first(const unsigned char *der, size_t len, void *arg)
{
	struct first_der *f = arg;
	if (f->der != NULL)
		return 0;
	if (der == *f->body) {
		f->der = *f->body;
		*f->body = NULL;
		f->len = len;
	} else if ((f->der = malloc(len)) != NULL) {
		memcpy(f->der, der, len);
		f->len = len;
	}
	return 0;
}

/* A configured CA certificate named like the CRL's issuer whose key
 * verifies it; *named is set when one at least has the name.  The candidate
 * list only grows, so reading it after the lock is released is safe. */
static X509 *find_issuer(struct ds_crl_store *s, const struct ds_crl_data *d,
    const unsigned char *der, size_t len, int *named)
{
	STACK_OF(X509) *sk;
	int n;

	pthread_mutex_lock(&s->mu);
	sk = s->issuers;
	n = sk ? sk_X509_num(sk) : 0;
	pthread_mutex_unlock(&s->mu);
	*named = 0;
	for (int i = 0; i < n; i++) {
		X509 *x = sk_X509_value(sk, i);
		EVP_PKEY *pk = X509_get0_pubkey(x);
		if (X509_NAME_cmp(X509_get_subject_name(x), d->issuer) != 0)
			continue;
		*named = 1;
		if (pk != NULL && ds_crl_der_verify(der, len, pk) == 1)
			return x;
	}
	return NULL;
}

/*
 * Turns a 200 answer into a verified ds_crl_data, or NULL with why.  issuer
 * may be NULL: then a configured candidate is looked for, and failing that
 * the signature is checked later, at use.  *body may be taken over (set to
 * NULL) to save a copy of a big CRL.
 */
static struct ds_crl_data *accept_body(struct ds_crl_store *s,
    unsigned char **body, size_t len, X509 *issuer,
    const struct ds_crl_data *current, unsigned char **der_out,
    size_t *der_len_out, X509 **used_issuer, char *why, size_t whylen)
{
	struct first_der f = { NULL, 0, body };
	struct ds_crl_data *d;
	char err[256], t[40];
	time_t now = time(NULL);

	if (ds_crl_split_der_or_pem(*body, len, take_first, &f, err, sizeof err) < 0 ||
	    f.der == NULL) {
		snprintf(why, whylen, "%s", err);
		free(f.der);
		return NULL;
	}
	d = ds_crl_data_parse_der(f.der, f.len, err, sizeof err);
	if (d == NULL) {
		snprintf(why, whylen, "%s", err);
		free(f.der);
		return NULL;
	}
	*used_issuer = NULL;
	if (issuer == NULL) {
		int named;
		issuer = find_issuer(s, d, f.der, f.len, &named);
		if (issuer == NULL && named) {
			snprintf(why, whylen, "signature does not verify with any "
			    "configured certificate of its issuer %.160s",
			    d->issuer_text);
			goto bad;
		}
	}
	if (issuer != NULL) {
		EVP_PKEY *pk = X509_get0_pubkey(issuer);
		char iname[256];
		name_text(X509_get_subject_name(issuer), iname, sizeof iname);
		if (X509_NAME_cmp(d->issuer, X509_get_subject_name(issuer)) != 0) {
			snprintf(why, whylen, "issued by %.110s, not by %.110s",
			    d->issuer_text, iname);
			goto bad;
		}
		if (pk == NULL || ds_crl_der_verify(f.der, f.len, pk) != 1) {
			snprintf(why, whylen, "signature does not verify with issuer %.200s",
			    iname);
			goto bad;
		}
		if (EVP_PKEY_up_ref(pk))
			d->verified_keys[d->n_verified_keys++] = pk;
		*used_issuer = issuer;
	}
	if (d->next_update != 0 && d->next_update + s->o.grace_s < now) {
		ds_crl_time_text(d->next_update, t, sizeof t);
		snprintf(why, whylen, "expired: nextUpdate %s", t);
		goto bad;
	}
	if (current != NULL && d->this_update < current->this_update) {
		ds_crl_time_text(d->this_update, t, sizeof t);
		snprintf(why, whylen, "older than the cached copy (thisUpdate %s)", t);
		goto bad;
	}
	*der_out = f.der;
	*der_len_out = f.len;
	return d;
bad:
	ds_crl_data_unref(d);
	free(f.der);
	return NULL;
}

static void note_failure(struct ds_crl_store *s, struct crl_entry *e,
    const char *why, time_t now)
{
	long delay = s->o.retry_backoff_s;
	int shift = e->failures < 4 ? e->failures : 4;

	e->failures++;
	delay <<= shift;
	e->retry_after = now + delay;
	snprintf(e->last_error, sizeof e->last_error, "%s", why);
}

/*
 * One fetch for e, called with the lock held and e->in_flight set; returns
 * with the lock held.  issuer may be NULL (see accept_body).
 */
static void fetch_locked(struct ds_crl_store *s, struct crl_entry *e,
    X509 *issuer, long limit_ms, enum ds_crl_get_origin *origin)
{
	struct ds_crl_opts o = s->o;
	char etag[256], lm[128], why[256] = "";
	struct ds_fetch_result r;
	struct ds_crl_data *cur = e->data, *d = NULL;
	unsigned char *der = NULL;
	size_t der_len = 0;
	char *url = e->url;
	time_t now;
	int stored = 1;
	X509 *used = NULL, *known = e->issuer;   /* verified the cached copy */
	time_t fetched_at = e->fetched_at;
	char cur_path[4096];

	snprintf(etag, sizeof etag, "%s", cur ? e->etag : "");
	snprintf(lm, sizeof lm, "%s", cur ? e->last_modified : "");
	if (cur)
		ds_crl_data_ref(cur);
	if (known)
		X509_up_ref(known);
	if (issuer == NULL && e->issuer != NULL)
		issuer = e->issuer;
	if (issuer)
		X509_up_ref(issuer);
	pthread_mutex_unlock(&s->mu);

	if (limit_ms > 0 && limit_ms < o.timeout_ms)
		o.timeout_ms = limit_ms;
	if (o.connect_timeout_ms > o.timeout_ms)
		o.connect_timeout_ms = o.timeout_ms;
	ds_crl_fetch(&o, url, etag, lm, &r);
	now = time(NULL);
	if (r.status == DS_FETCH_OK) {
		/* the cached copy only counts (no going back to an older CRL)
		 * when it is known to come from this issuer */
		const struct ds_crl_data *floor = cur;
		if (cur != NULL && issuer != NULL) {
			snprintf(cur_path, sizeof cur_path, "%s/%s.crl",
			    s->cache_dir ? s->cache_dir : "", e->stem);
			if (ds_crl_store_verify(s, cur, s->cache_dir ? cur_path : NULL,
			    X509_get0_pubkey(issuer)) != 1)
				floor = NULL;
		}
		d = accept_body(s, &r.body, r.body_len, issuer, floor, &der,
		    &der_len, &used, why, sizeof why);
		if (d != NULL && s->cache_dir != NULL) {
			char name[80];
			snprintf(name, sizeof name, "%s.crl", e->stem);
			stored = write_atomic(s->cache_dir, name, der, der_len) == 0 &&
			    write_meta(s, url, e->stem, r.etag, r.last_modified, now,
			    now, d->sha256, used) == 0;
		}
		if (d != NULL && s->cache_dir == NULL) {
			d->der = der;          /* memory only: keep for re-checks */
			d->der_len = der_len;
			der = NULL;
		}
	} else if (r.status == DS_FETCH_NOT_MODIFIED && cur != NULL &&
	    s->cache_dir != NULL) {
		write_meta(s, url, e->stem, r.etag[0] ? r.etag : etag,
		    r.last_modified[0] ? r.last_modified : lm, fetched_at, now,
		    cur->sha256, known);
	}
	free(der);

	pthread_mutex_lock(&s->mu);
	if (r.status == DS_FETCH_OK && d != NULL) {
		ds_crl_data_unref(e->data);
		e->data = d;
		e->data_origin = DS_ORIGIN_FETCHED;
		snprintf(e->etag, sizeof e->etag, "%s", r.etag);
		snprintf(e->last_modified, sizeof e->last_modified, "%s",
		    r.last_modified);
		e->fetched_at = e->checked_at = now;
		e->failures = 0;
		e->retry_after = 0;
		e->last_error[0] = '\0';
		if (!stored)
			snprintf(e->last_error, sizeof e->last_error,
			    "could not write the cache file under %s", s->cache_dir);
		if (used != NULL && used != e->issuer) {
			X509_free(e->issuer);
			X509_up_ref(used);
			e->issuer = used;
		} else if (used == NULL && e->issuer != NULL) {
			X509_free(e->issuer);      /* unchecked copy */
			e->issuer = NULL;
		}
		*origin = DS_ORIGIN_FETCHED;
	} else if (r.status == DS_FETCH_NOT_MODIFIED && e->data != NULL) {
		if (r.etag[0])
			snprintf(e->etag, sizeof e->etag, "%s", r.etag);
		if (r.last_modified[0])
			snprintf(e->last_modified, sizeof e->last_modified, "%s",
			    r.last_modified);
		e->checked_at = now;
		e->failures = 0;
		e->retry_after = 0;
		e->last_error[0] = '\0';
		*origin = DS_ORIGIN_CACHED;
	} else {
		note_failure(s, e, r.status == DS_FETCH_FAILED ? r.error :
		    r.status == DS_FETCH_NOT_MODIFIED ?
		    "304 Not Modified without a cached copy" : why, now);
		*origin = DS_ORIGIN_NONE;
	}
	e->in_flight = 0;
	pthread_cond_broadcast(&s->cv);
	ds_fetch_result_free(&r);
	ds_crl_data_unref(cur);
	X509_free(issuer);
	X509_free(known);
}

static long ms_until(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	return (long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

static void get_impl(struct ds_crl_store *s, const char *url, X509 *issuer,
    struct ds_crl_got *got, int force, const struct timespec *deadline)
{
	struct crl_entry *e;
	int loaded_now = 0;

	memset(got, 0, sizeof *got);
	pthread_mutex_lock(&s->mu);
	e = find_entry(s, url, 1);
	if (e == NULL) {
		pthread_mutex_unlock(&s->mu);
		snprintf(got->error, sizeof got->error, "out of memory");
		return;
	}
	for (;;) {
		time_t now = time(NULL);

		if (e->in_flight) {
			if (deadline == NULL) {
				pthread_cond_wait(&s->cv, &s->mu);
			} else if (pthread_cond_timedwait(&s->cv, &s->mu,
			    deadline) != 0 && e->in_flight) {
				got->origin = e->data ? DS_ORIGIN_CACHED :
				    DS_ORIGIN_NONE;
				snprintf(got->error, sizeof got->error, "not fetched: "
				    "another download of it is still running after "
				    "the time allowed (%ld ms)", s->o.timeout_ms);
				break;
			}
			continue;
		}
		if (!e->disk_checked) {
			e->in_flight = 1;
			disk_load_locked(s, e);
			e->in_flight = 0;
			pthread_cond_broadcast(&s->cv);
			loaded_now = e->data != NULL;
			continue;
		}
		if (!force && is_fresh(s, e, now)) {
			got->origin = loaded_now ? DS_ORIGIN_DISK : DS_ORIGIN_CACHED;
			break;
		}
		if (now < e->retry_after) {
			/* backoff: serve what we have (the checker applies the
			 * grace) and say why there is nothing newer */
			got->origin = e->data ? DS_ORIGIN_CACHED : DS_ORIGIN_NONE;
			snprintf(got->error, sizeof got->error, "%.200s (not retried "
			    "before %lds)", e->last_error, (long)(e->retry_after - now));
			break;
		}
		e->in_flight = 1;
		if (deadline != NULL) {
			long left = ms_until(deadline);
			if (left <= 0) {
				got->origin = e->data ? DS_ORIGIN_CACHED : DS_ORIGIN_NONE;
				snprintf(got->error, sizeof got->error, "not fetched: the "
				    "time allowed for CRL downloads (%ld ms) is spent",
				    s->o.timeout_ms);
				break;
			}
			fetch_locked(s, e, issuer, left, &got->origin);
		} else {
			fetch_locked(s, e, issuer, 0, &got->origin);
		}
		if (got->origin == DS_ORIGIN_NONE) {
			snprintf(got->error, sizeof got->error, "%s", e->last_error);
			if (e->data)
				got->origin = DS_ORIGIN_CACHED;
		}
		break;
	}
	got->data = e->data;
	if (got->data)
		ds_crl_data_ref(got->data);
	pthread_mutex_unlock(&s->mu);
}

void ds_crl_store_get(struct ds_crl_store *s, const char *url, X509 *issuer,
    const struct timespec *deadline, struct ds_crl_got *got)
{
	get_impl(s, url, issuer, got, 0, deadline);
}

void ds_crl_store_get_fresh(struct ds_crl_store *s, const char *url,
    X509 *issuer, const struct timespec *deadline, struct ds_crl_got *got)
{
	get_impl(s, url, issuer, got, 1, deadline);
}

/* ---- listing and background refresh ---- */

/* Reads every STEM.meta of the cache directory into entries (cold start). */
static void load_all_from_disk(struct ds_crl_store *s)
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
		e = find_entry(s, m.url, 1);
		while (e && e->in_flight)
			pthread_cond_wait(&s->cv, &s->mu);
		if (e && !e->disk_checked) {
			e->in_flight = 1;
			disk_load_locked(s, e);
			e->in_flight = 0;
			pthread_cond_broadcast(&s->cv);
		}
		pthread_mutex_unlock(&s->mu);
	}
	closedir(dir);
}

static void entry_report(const struct crl_entry *e, struct ds_crl_report *r)
{
	memset(r, 0, sizeof *r);
	snprintf(r->source, sizeof r->source, "%s", e->url);
	snprintf(r->origin, sizeof r->origin, "%s",
	    e->data_origin == DS_ORIGIN_FETCHED ? "fetched" :
	    e->data_origin == DS_ORIGIN_DISK ? "disk" : "none");
	r->depth = -1;
	r->entries = -1;
	r->fetched_at = e->fetched_at;
	r->checked_at = e->checked_at;
	if (e->data) {
		snprintf(r->issuer, sizeof r->issuer, "%s", e->data->issuer_text);
		r->this_update = e->data->this_update;
		r->next_update = e->data->next_update;
		r->entries = (long)e->data->n_entries;
	}
	if (e->last_error[0])
		snprintf(r->outcome, sizeof r->outcome, "%s: %.200s",
		    e->data ? "good copy kept; last fetch failed" :
		    "no copy; last fetch failed", e->last_error);
	else if (e->data && e->issuer == NULL)
		snprintf(r->outcome, sizeof r->outcome, "good (its signature is "
		    "checked when a certificate uses it)");
	else
		snprintf(r->outcome, sizeof r->outcome, "%s",
		    e->data ? "good" : "no copy");
}

void ds_crl_store_foreach(struct ds_crl_store *s,
    void (*fn)(const struct ds_crl_report *entry, void *arg), void *arg)
{
	struct ds_crl_report *reps = NULL;
	size_t n = 0, i = 0;
	struct crl_entry *e;
	struct crl_file *f;

	load_all_from_disk(s);
	pthread_mutex_lock(&s->mu);
	for (e = s->entries; e; e = e->next)
		n++;
	for (f = s->files; f; f = f->next)
		n++;
	reps = calloc(n ? n : 1, sizeof *reps);
	if (reps == NULL) {
		pthread_mutex_unlock(&s->mu);
		return;
	}
	for (e = s->entries; e; e = e->next)
		if (e->data || e->last_error[0])
			entry_report(e, &reps[i++]);
	for (f = s->files; f; f = f->next) {
		struct ds_crl_report *r = &reps[i++];
		snprintf(r->source, sizeof r->source, "%s", f->path);
		snprintf(r->origin, sizeof r->origin, "file");
		snprintf(r->issuer, sizeof r->issuer, "%s", f->data->issuer_text);
		r->this_update = f->data->this_update;
		r->next_update = f->data->next_update;
		r->entries = (long)f->data->n_entries;
		r->depth = -1;
		snprintf(r->outcome, sizeof r->outcome, "configured file");
	}
	pthread_mutex_unlock(&s->mu);
	/* call back without the lock: fn may be slow (printing) */
	for (size_t k = 0; k < i; k++)
		fn(&reps[k], arg);
	free(reps);
}

int ds_crl_store_refresh_url(struct ds_crl_store *s, const char *url,
    struct ds_crl_report *rep)
{
	struct crl_entry *e;
	enum ds_crl_get_origin origin = DS_ORIGIN_NONE;
	int ok;

	pthread_mutex_lock(&s->mu);
	e = find_entry(s, url, 1);
	if (e == NULL) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	while (e->in_flight)
		pthread_cond_wait(&s->cv, &s->mu);
	if (!e->disk_checked) {
		e->in_flight = 1;
		disk_load_locked(s, e);
	}
	e->in_flight = 1;
	fetch_locked(s, e, NULL, 0, &origin);
	ok = origin != DS_ORIGIN_NONE;
	if (rep) {
		entry_report(e, rep);
		snprintf(rep->origin, sizeof rep->origin, "%s",
		    origin == DS_ORIGIN_FETCHED ? "fetched" :
		    origin == DS_ORIGIN_CACHED ? "not-modified" : "failed");
		if (ok)
			snprintf(rep->outcome, sizeof rep->outcome, "%s",
			    origin == DS_ORIGIN_FETCHED ? "good" :
			    "not modified (cached copy still current)");
		else
			snprintf(rep->outcome, sizeof rep->outcome, "%s",
			    e->last_error);
	}
	pthread_mutex_unlock(&s->mu);
	return ok ? 0 : -1;
}

int ds_crl_store_refresh_due(struct ds_crl_store *s)
{
	int refreshed = 0;
	time_t pass_start = time(NULL);

	load_all_from_disk(s);
	for (;;) {
		struct crl_entry *e, *due = NULL;
		time_t now = time(NULL);
		enum ds_crl_get_origin origin;

		pthread_mutex_lock(&s->mu);
		for (e = s->entries; e && due == NULL; e = e->next) {
			time_t limit;
			if (e->in_flight || e->data == NULL || now < e->retry_after)
				continue;
			if (e->refresh_tried >= pass_start)
				continue;   /* already tried in this pass */
			if (e->data->next_update != 0)
				limit = e->data->next_update - s->o.refresh_before_s;
			else
				limit = e->checked_at + (s->o.refresh_before_s > 60 ?
				    s->o.refresh_before_s : 60);
			if (now >= limit)
				due = e;
		}
		if (due == NULL) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		due->in_flight = 1;
		fetch_locked(s, due, NULL, 0, &origin);
		if (origin != DS_ORIGIN_NONE)
			refreshed++;
		due->refresh_tried = now > pass_start ? now : pass_start;
		pthread_mutex_unlock(&s->mu);
	}
	return refreshed;
}

/* ---- background refresher ---- */

static void *refresher_main(void *arg)
{
	struct ds_crl_store *s = arg;

	for (;;) {
		struct timespec until;
		int stop;

		ds_crl_store_refresh_due(s);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += s->refresh_interval_s;
		pthread_mutex_lock(&s->mu);
		while (!s->stopping &&
		    pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
			;      /* woken for someone else's fetch: keep waiting */
		stop = s->stopping;
		pthread_mutex_unlock(&s->mu);
		if (stop)
			return NULL;
	}
}

int ds_crl_store_start_refresher(struct ds_crl_store *s, long interval_s)
{
	if (s->refresher_running)
		return -1;
	s->refresh_interval_s = interval_s > 0 ? interval_s : 60;
	s->stopping = 0;
	if (pthread_create(&s->refresher, NULL, refresher_main, s) != 0)
		return -1;
	s->refresher_running = 1;
	return 0;
}
