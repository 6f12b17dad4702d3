/*
 * crl_fetch.c - downloads one CRL with libcurl, within the store's limits:
 * http, https, ldap and ldaps only (also after redirects), connect and total
 * timeouts, a low-speed limit, a size cap enforced while receiving, bounded
 * redirects, the configured proxy and no other (proxy environment variables
 * such as http_proxy and NO_PROXY are ignored: only CRLProxy and
 * CRLNoProxy are used; ldap/ldaps go direct unless CRLProxyLDAP), and
 * conditional GET (If-None-Match / If-Modified-Since from the cached copy).
 * Reports progress (domsecctl) and logs the start and end of large
 * downloads (domsecd).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include "crl_internal.h"
#include "domsec/log.h"

#define ALLOWED_PROTOCOLS "http,https,ldap,ldaps"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = (int)curl_global_init(CURL_GLOBAL_DEFAULT);
}

int ds_crl_url_allowed(const char *url)
{
	static const char *const schemes[] = { "http://", "https://", "ldap://",
	    "ldaps://" };
	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
		if (strncasecmp(url, schemes[i], strlen(schemes[i])) == 0)
			return 1;
	return 0;
}

struct body {
	unsigned char *buf;
	size_t len, cap;
	long max;
	int too_big;
	CURL *curl;               /* for the announced Content-Length */
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb;

	if (b->max > 0 && b->len + n > (size_t)b->max) {
		b->too_big = 1;
		return 0;                 /* aborts the transfer */
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		curl_off_t cl = -1;
		unsigned char *nb;
		/* the announced size, exactly: a doubling buffer would reach
		 * up to twice the CRL (peak memory while loading) */
		if (b->cap == 0 && b->curl != NULL &&
		    curl_easy_getinfo(b->curl,
		    CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK &&
		    cl > 0 && (b->max <= 0 || cl <= b->max))
			cap = (size_t)cl;
		while (cap < b->len + n)
			cap *= 2;
		nb = realloc(b->buf, cap);
		if (nb == NULL)
			return 0;
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, data, n);
	b->len += n;
	return n;
}

struct headers {
	char etag[256];
	char last_modified[128];
};

static void header_value(const char *line, size_t len, size_t namelen,
    char *out, size_t outlen)
{
	const char *v = line + namelen;
	size_t vlen = len - namelen;
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' ||
	    v[vlen - 1] == ' '))
		vlen--;
	if (vlen >= outlen)
		vlen = 0;            /* too long to echo back: ignore */
	memcpy(out, v, vlen);
	out[vlen] = '\0';
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *arg)
{
	struct headers *h = arg;
	size_t n = size * nmemb;

	/* a new response (after a redirect) starts over */
	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		h->etag[0] = '\0';
		h->last_modified[0] = '\0';
	} else if (n > 5 && strncasecmp(line, "ETag:", 5) == 0) {
		header_value(line, n, 5, h->etag, sizeof h->etag);
	} else if (n > 14 && strncasecmp(line, "Last-Modified:", 14) == 0) {
		header_value(line, n, 14, h->last_modified,
		    sizeof h->last_modified);
	}
	return n;
}

static int safe_header_value(const char *v)
{
	for (; *v; v++)
		if (*v == '\r' || *v == '\n')
			return 0;
	return 1;
}

void ds_fetch_result_free(struct ds_fetch_result *res)
{
	free(res->body);
	res->body = NULL;
	res->body_len = 0;
}

static int is_ldap(const char *url)
{
	return strncasecmp(url, "ldap://", 7) == 0 ||
	    strncasecmp(url, "ldaps://", 8) == 0;
}

/* Progress, abort and the log of large downloads (CURLOPT_XFERINFOFUNCTION:
 * called at least once a second, also while nothing arrives). */
struct xfer {
	const struct ds_crl_opts *o;
	const char *url;
	const int *stop;
	struct timespec start;
	long long got, total;
	int logged_start;
	int shown;                 /* progress shown at least once */
};

static double secs_since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	    (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static int on_xfer(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct xfer *x = arg;
	long big = x->o->log_large_bytes;

	(void)ultotal;
	(void)ulnow;
	if (x->stop != NULL && __atomic_load_n(x->stop, __ATOMIC_SEQ_CST))
		return 1;                 /* the store is going away */
	x->got = (long long)dlnow;
	x->total = (long long)dltotal;
	if (big > 0 && !x->logged_start && (dltotal >= big || dlnow >= big)) {
		x->logged_start = 1;
		/* "in progress", not "in the background": domsecctl's
		 * downloads log this too, in the foreground */
		ds_log(LOG_INFO, "CRL download of %s: large (%lld bytes%s), "
		    "in progress", x->url,
		    dltotal > 0 ? (long long)dltotal : (long long)dlnow,
		    dltotal > 0 ? "" : " so far");
	}
	if (x->o->progress != NULL && secs_since(&x->start) >= 1.0) {
		x->shown = 1;
		x->o->progress(x->o->progress_arg, x->url, x->got, x->total,
		    secs_since(&x->start), 0);
	}
	return 0;
}

void ds_crl_fetch(const struct ds_crl_opts *o, const char *url,
    const char *etag, const char *last_modified, struct ds_fetch_result *res)
{
	ds_crl_fetch_ex(o, url, etag, last_modified, NULL, NULL, res);
}

/* CURLOPT_SSL_CTX_FUNCTION: the extra anchors join the store curl loaded
 * (the system CA bundle), they do not replace it. */
static CURLcode add_anchors(CURL *c, void *sslctx, void *arg)
{
	STACK_OF(X509) *anchors = arg;
	X509_STORE *st = SSL_CTX_get_cert_store((SSL_CTX *)sslctx);

	(void)c;
	for (int i = 0; st != NULL && i < sk_X509_num(anchors); i++)
		X509_STORE_add_cert(st, sk_X509_value(anchors, i));
	ERR_clear_error();         /* "already in the store" is fine */
	return CURLE_OK;
}

void ds_crl_fetch_ex(const struct ds_crl_opts *o, const char *url,
    const char *etag, const char *last_modified, const int *stop,
    STACK_OF(X509) *anchors, struct ds_fetch_result *res)
{
	struct xfer x = { o, url, stop, { 0, 0 }, 0, 0, 0, 0 };
	CURL *c;
	CURLcode rc;
	struct curl_slist *hdrs = NULL;
	struct body body = { NULL, 0, 0, o->max_size, 0, NULL };
	struct headers h = { "", "" };
	char curl_err[CURL_ERROR_SIZE] = "";

	memset(res, 0, sizeof *res);
	res->status = DS_FETCH_FAILED;
	if (!ds_crl_url_allowed(url)) {
		snprintf(res->error, sizeof res->error,
		    "protocol not allowed (only http, https, ldap, ldaps)");
		return;
	}
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != 0 || (c = curl_easy_init()) == NULL) {
		snprintf(res->error, sizeof res->error, "cannot initialise libcurl");
		return;
	}
	body.curl = c;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, ALLOWED_PROTOCOLS);
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, ALLOWED_PROTOCOLS);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, o->max_redirects > 0 ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, o->max_redirects);
	if (o->max_size > 0)
		curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
		    (curl_off_t)o->max_size);
	/* "" disables every proxy, including http_proxy & co.; LDAP is not
	 * tunnelled through an HTTP proxy unless asked (proxies refuse
	 * CONNECT to port 389/636 by default) */
	curl_easy_setopt(c, CURLOPT_PROXY, o->proxy && (o->proxy_ldap ||
	    !is_ldap(url)) ? o->proxy : "");
	/* set explicitly, so that NO_PROXY / no_proxy in the environment is
	 * ignored like the other proxy variables */
	curl_easy_setopt(c, CURLOPT_NOPROXY, o->no_proxy ? o->no_proxy : "");
	if (o->low_speed_limit > 0) {
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, o->low_speed_limit);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, o->low_speed_time_s);
	}
	if (anchors != NULL && sk_X509_num(anchors) > 0 &&
	    strncasecmp(url, "https://", 8) == 0) {
		curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, add_anchors);
		curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, anchors);
	}
	clock_gettime(CLOCK_MONOTONIC, &x.start);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_xfer);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "domsec-crl/1");
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, NULL);
	if (etag && *etag && safe_header_value(etag)) {
		char line[300];
		snprintf(line, sizeof line, "If-None-Match: %s", etag);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (last_modified && *last_modified && safe_header_value(last_modified)) {
		char line[200];
		snprintf(line, sizeof line, "If-Modified-Since: %s", last_modified);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (hdrs)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);

	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->http_code);
	if (x.shown)
		o->progress(o->progress_arg, url, (long long)body.len, x.total,
		    secs_since(&x.start), 1);
	if (x.logged_start)
		ds_log(LOG_INFO, "CRL download of %s: %s, %zu bytes in %.1f s",
		    url, rc == CURLE_OK ? "done" : "failed", body.len,
		    secs_since(&x.start));

	if (body.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(res->error, sizeof res->error,
		    "larger than the size limit (%ld bytes)", o->max_size);
	} else if (rc == CURLE_ABORTED_BY_CALLBACK) {
		snprintf(res->error, sizeof res->error,
		    "abandoned: the CRL store is shutting down");
	} else if (rc == CURLE_OPERATION_TIMEDOUT && o->low_speed_limit > 0 &&
	    strstr(curl_err, "slower than") != NULL) {
		snprintf(res->error, sizeof res->error, "too slow: below %ld "
		    "bytes/s for %ld s (%.150s)", o->low_speed_limit,
		    o->low_speed_time_s, curl_err);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(res->error, sizeof res->error, "timed out (%.200s)",
		    curl_err[0] ? curl_err : curl_easy_strerror(rc));
	} else if (rc == CURLE_UNSUPPORTED_PROTOCOL) {
		snprintf(res->error, sizeof res->error,
		    "protocol not allowed (only http, https, ldap, ldaps)%s%.150s",
		    curl_err[0] ? ": " : "", curl_err);
	} else if (rc == CURLE_TOO_MANY_REDIRECTS) {
		snprintf(res->error, sizeof res->error,
		    "too many redirects (limit %ld)", o->max_redirects);
	} else if (rc != CURLE_OK) {
		snprintf(res->error, sizeof res->error, "%s",
		    curl_err[0] ? curl_err : curl_easy_strerror(rc));
	} else if (is_ldap(url)) {
		unsigned char *der;
		size_t der_len;
		if (ds_crl_ldap_extract(body.buf, body.len, &der, &der_len) == 0) {
			res->status = DS_FETCH_OK;
			res->body = der;
			res->body_len = der_len;
		} else {
			snprintf(res->error, sizeof res->error,
			    "LDAP answer holds no certificateRevocationList");
		}
	} else if (res->http_code == 304 && ((etag && *etag) ||
	    (last_modified && *last_modified))) {
		res->status = DS_FETCH_NOT_MODIFIED;
	} else if (res->http_code == 200) {
		res->status = DS_FETCH_OK;
		res->body = body.buf;
		res->body_len = body.len;
		body.buf = NULL;
	} else {
		snprintf(res->error, sizeof res->error, "HTTP %ld",
		    res->http_code);
	}
	if (res->status != DS_FETCH_FAILED) {
		snprintf(res->etag, sizeof res->etag, "%s", h.etag);
		snprintf(res->last_modified, sizeof res->last_modified, "%s",
		    h.last_modified);
	}
	free(body.buf);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
}

/*
 * libcurl writes an LDAP search result as
 *   "DN: <dn>\n" then "\t<attribute>: <value>\n" per value,
 * with the value raw, or base64 when the attribute name ends in ";binary".
 * We take the first value of an attribute named certificateRevocationList
 * (any case, with or without ";binary").
 */
int ds_crl_ldap_extract(const unsigned char *body, size_t len,
    unsigned char **der, size_t *der_len)
{
	static const char attr[] = "certificateRevocationList";
	size_t alen = sizeof attr - 1;

	for (size_t i = 0; i + alen < len; i++) {
		size_t p;
		int binary = 0;

		if ((i > 0 && body[i - 1] != '\t') ||
		    strncasecmp((const char *)body + i, attr, alen) != 0)
			continue;
		p = i + alen;
		if (p + 7 <= len && strncasecmp((const char *)body + p, ";binary", 7) == 0) {
			binary = 1;
			p += 7;
		}
		if (p + 2 > len || body[p] != ':' )
			continue;
		p++;
		if (p < len && body[p] == ':')
			p++, binary = 1;   /* LDIF "::" means base64 */
		if (p < len && body[p] == ' ')
			p++;
		if (!binary) {
			/* raw DER: its own length tells where it ends */
			size_t l, hdr = 2;
			if (p + 2 > len || body[p] != 0x30)
				continue;
			if (body[p + 1] < 0x80) {
				l = body[p + 1];
			} else {
				size_t nb = body[p + 1] & 0x7f;
				if (nb == 0 || nb > 4 || p + 2 + nb > len)
					continue;
				l = 0;
				for (size_t k = 0; k < nb; k++)
					l = (l << 8) | body[p + 2 + k];
				hdr += nb;
			}
			if (l > len - p - hdr)
				continue;
			*der = malloc(hdr + l);
			if (*der == NULL)
				return -1;
			memcpy(*der, body + p, hdr + l);
			*der_len = hdr + l;
			return 0;
		} else {
			size_t end = p, n = 0;
			unsigned char *out;
			EVP_ENCODE_CTX *ctx;
			int outl = 0, fin = 0;

			while (end < len && body[end] != '\n')
				end++;
			n = end - p;
			if (n == 0 || n > INT32_MAX)
				continue;
			out = malloc(n);
			ctx = EVP_ENCODE_CTX_new();
			if (out == NULL || ctx == NULL) {
				free(out);
				EVP_ENCODE_CTX_free(ctx);
				return -1;
			}
			EVP_DecodeInit(ctx);
			if (EVP_DecodeUpdate(ctx, out, &outl, body + p, (int)n) < 0 ||
			    EVP_DecodeFinal(ctx, out + outl, &fin) < 0) {
				free(out);
				EVP_ENCODE_CTX_free(ctx);
				continue;
			}
			EVP_ENCODE_CTX_free(ctx);
			*der = out;
			*der_len = (size_t)(outl + fin);
			return 0;
		}
	}
	return -1;
}
