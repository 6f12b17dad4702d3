/*
 * crl_fetch.c - downloads one CRL with libcurl, within the store's limits:
 * http, https, ldap and ldaps only (also after redirects), connect and total
 * timeouts, a size cap enforced while receiving, bounded redirects, the
 * configured proxy and no other (proxy environment variables such as
 * http_proxy are ignored: only CRLProxy is used), and conditional GET
 * (If-None-Match / If-Modified-Since from the cached copy).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include "crl_internal.h"

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
		unsigned char *nb;
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

void ds_crl_fetch(const struct ds_crl_opts *o, const char *url,
    const char *etag, const char *last_modified, struct ds_fetch_result *res)
{
	CURL *c;
	CURLcode rc;
	struct curl_slist *hdrs = NULL;
	struct body body = { NULL, 0, 0, o->max_size, 0 };
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
	/* "" disables every proxy, including http_proxy & co. */
	curl_easy_setopt(c, CURLOPT_PROXY, o->proxy ? o->proxy : "");
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

	if (body.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(res->error, sizeof res->error,
		    "larger than the size limit (%ld bytes)", o->max_size);
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
