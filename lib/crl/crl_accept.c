/*
 * crl_accept.c - deciding whether a downloaded CRL may replace the cached
 * copy: it parses, its issuingDistributionPoint (if it names one) lists the
 * URL it was fetched from, it names the expected issuer, its signature
 * verifies with that issuer's key (or with a configured candidate when no
 * chain named one), it is not expired and not older than the copy it
 * replaces.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "crl_internal.h"
#include "crl_store_internal.h"

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
struct ds_crl_data *ds_crl_accept_body(struct ds_crl_store *s,
    const char *url, unsigned char **body, size_t len, X509 *issuer,
    const struct ds_crl_data *current, unsigned char **der_out,
    size_t *der_len_out, X509 **used_issuer, char *why, size_t whylen)
{
	struct first_der f = { NULL, 0, body };
	struct ds_crl_data *d;
	char err[256], t[40];
	time_t now = s->at != 0 ? s->at : time(NULL);

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
	/* A partition (shard) of the issuer's CRLs served at another
	 * distribution point's URL is never stored under this one. */
	if (url != NULL && !ds_crl_scope_ok(d, url, NULL, why, whylen))
		goto bad;
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
