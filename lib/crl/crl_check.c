/*
 * crl_check.c - ds_crl_check_chain(): for every certificate of a verified
 * chain except the anchor, finds the current CRLs of its issuer that verify
 * and whose scope covers it (configured files, and always the certificate's
 * CRL distribution points through the store; a CRL whose
 * issuingDistributionPoint names another distribution point is a "CRL scope
 * mismatch"), and looks the serial up on the newest of them (highest
 * CRLNumber, else latest thisUpdate), corrected by the newest applicable
 * delta CRL from the FreshestCRL points of the certificate and of that CRL
 * (RFC 5280 5.2.4).  A listed certificate gives
 * DS_REV_REVOKED; a certificate without any usable CRL gives
 * DS_REV_UNAVAILABLE with the URLs and failures in words.  All downloads of
 * one check share one CRLTimeout.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "crl_internal.h"
#include "domsec/fmt.h"

static void subject_text(X509 *c, char *out, size_t outlen)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n;

	out[0] = '\0';
	if (b == NULL)
		return;
	X509_NAME_print_ex(b, X509_get_subject_name(c), 0, XN_FLAG_RFC2253);
	n = BIO_read(b, out, (int)outlen - 1);
	out[n > 0 ? n : 0] = '\0';
	BIO_free(b);
}

static void serial_text(X509 *c, char *out, size_t outlen)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(c), NULL);
	char *h = bn ? BN_bn2hex(bn) : NULL;

	snprintf(out, outlen, "%s", h ? h : "?");
	OPENSSL_free(h);
	BN_free(bn);
}

/* Collects fullName URIs of the certificate's CRL distribution points. */
/* ... of its CRL distribution points (nid NID_crl_distribution_points) or
 * of its FreshestCRL extension (NID_freshest_crl: where deltas are). */
static STACK_OF(OPENSSL_STRING) *dp_urls(X509 *cert, int nid)
{
	STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(cert, nid, NULL, NULL);
	STACK_OF(OPENSSL_STRING) *urls = sk_OPENSSL_STRING_new_null();

	if (urls == NULL) {
		sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
		return NULL;
	}
	for (int i = 0; dps && i < sk_DIST_POINT_num(dps); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		if (dp->distpoint == NULL || dp->distpoint->type != 0 ||
		    dp->CRLissuer != NULL)
			continue;          /* relative names, indirect CRLs */
		for (int j = 0; j < sk_GENERAL_NAME_num(dp->distpoint->name.fullname); j++) {
			GENERAL_NAME *gn = sk_GENERAL_NAME_value(
			    dp->distpoint->name.fullname, j);
			const ASN1_IA5STRING *u;
			char *copy;
			if (gn->type != GEN_URI)
				continue;
			u = gn->d.uniformResourceIdentifier;
			if (u->length <= 0 || memchr(u->data, 0, (size_t)u->length))
				continue;
			copy = OPENSSL_strndup((const char *)u->data, (size_t)u->length);
			if (copy && sk_OPENSSL_STRING_push(urls, copy) <= 0)
				OPENSSL_free(copy);
		}
	}
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	return urls;
}

static STACK_OF(OPENSSL_STRING) *cdp_urls(X509 *cert)
{
	return dp_urls(cert, NID_crl_distribution_points);
}

int ds_crl_scope_ok(const struct ds_crl_data *d, const char *url,
    const STACK_OF(OPENSSL_STRING) *cdp_urls, char *why, size_t whylen)
{
	if (!d->idp_full_name)
		return 1;            /* a complete CRL of its issuer */
	for (size_t i = 0; i < d->n_idp_uris; i++) {
		if (url != NULL && strcmp(d->idp_uris[i], url) == 0)
			return 1;
		for (int j = 0; url == NULL && cdp_urls != NULL &&
		    j < sk_OPENSSL_STRING_num(cdp_urls); j++)
			if (strcmp(d->idp_uris[i],
			    sk_OPENSSL_STRING_value(cdp_urls, j)) == 0)
				return 1;
	}
	ds_format_truncated(why, whylen, "CRL scope mismatch: its "
	    "issuingDistributionPoint names %s, not %s (another partition of "
	    "the issuer's CRLs)", d->n_idp_uris ? d->idp_uris[0] :
	    "no URI", url ? url : "a distribution point of the certificate");
	return 0;
}

int ds_crl_newer(const struct ds_crl_data *a, const struct ds_crl_data *b)
{
	if (a->has_crl_number && b->has_crl_number) {
		if (a->crl_number_len != b->crl_number_len)
			return a->crl_number_len > b->crl_number_len ? 1 : -1;
		int c = memcmp(a->crl_number, b->crl_number, a->crl_number_len);
		if (c != 0)
			return c > 0 ? 1 : -1;
	}
	if (a->this_update != b->this_update)
		return a->this_update > b->this_update ? 1 : -1;
	return 0;
}

int ds_crl_validate(struct ds_crl_store *s, struct ds_crl_data *d,
    const char *path, X509 *cert, X509 *issuer, time_t at, char *outcome,
    size_t outlen)
{
	char iname[256], t[40];
	EVP_PKEY *pk = X509_get0_pubkey(issuer);
	long grace = ds_crl_store_opts(s)->grace_s;
	int rc, is_ca = X509_check_ca(cert) != 0;

	subject_text(issuer, iname, sizeof iname);
	if (X509_NAME_cmp(d->issuer, X509_get_issuer_name(cert)) != 0) {
		ds_format_truncated(outcome, outlen,
		    "issued by %s, not by the certificate's issuer %s",
		    d->issuer_text, iname);
		return DS_CRL_NOT_FROM_ISSUER;
	}
	if ((X509_get_extension_flags(issuer) & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(issuer) & KU_CRL_SIGN)) {
		ds_format_truncated(outcome, outlen, "issuer %s may not sign "
		    "CRLs (keyUsage lacks cRLSign)", iname);
		return DS_CRL_NOT_FROM_ISSUER;
	}
	rc = pk ? ds_crl_store_verify(s, d, path, pk) : 0;
	if (rc == 0) {
		ds_format_truncated(outcome, outlen, "signature does not verify "
		    "with issuer %s", iname);
		return DS_CRL_NOT_FROM_ISSUER;
	}
	if (rc < 0) {
		ds_format_truncated(outcome, outlen, "cannot re-read the CRL "
		    "(%s) to check its signature with issuer %s", path ? path :
		    "memory", iname);
		return DS_CRL_NOT_FROM_ISSUER;
	}
	if (d->this_update > at) {
		ds_crl_time_text(d->this_update, t, sizeof t);
		ds_format_truncated(outcome, outlen,
		    "not yet valid: thisUpdate %s", t);
		return 0;
	}
	if (d->next_update != 0 && d->next_update + grace < at) {
		ds_crl_time_text(d->next_update, t, sizeof t);
		ds_format_truncated(outcome, outlen, "expired: nextUpdate %s",
		    t);
		return 0;
	}
	if (d->only_user_certs && is_ca) {
		ds_format_truncated(outcome, outlen, "covers end-entity "
		    "certificates only");
		return 0;
	}
	if (d->only_ca_certs && !is_ca) {
		ds_format_truncated(outcome, outlen,
		    "covers CA certificates only");
		return 0;
	}
	if (d->only_attr_certs) {
		ds_format_truncated(outcome, outlen,
		    "covers attribute certificates only");
		return 0;
	}
	ds_format_truncated(outcome, outlen, "good");
	return 1;
}

static void free_str(char *p)
{
	OPENSSL_free(p);
}

/* State while checking one certificate. */
struct cert_check {
	struct ds_crl_store *s;
	struct ds_rev_result *res;
	X509 *cert, *issuer;
	int depth;
	time_t at;
	const struct timespec *deadline;   /* for all downloads of the check */
	STACK_OF(OPENSSL_STRING) *cdps;    /* the certificate's CDP URIs */
	unsigned char serial[256];
	size_t serial_len;
	int valid_found;                   /* some complete CRL is usable */
	int url_valid_found;               /* ... from a distribution point */
	/* the newest usable complete CRL decides (issue 7: a newer CRL that
	 * no longer lists a certificate released from hold wins) */
	struct ds_crl_data *best;          /* referenced */
	int best_revoked;
	char best_source[512];
	/* a CRL partitioned by reasons (onlySomeReasons) can revoke but never
	 * prove "not revoked" on its own */
	int partial_revoked;
	char partial_source[512];
	/* usable delta CRLs seen (RFC 5280 5.2.4), applied to best at the end */
#define DS_MAX_DELTAS 8
	struct ds_crl_data *deltas[DS_MAX_DELTAS];
	char delta_sources[DS_MAX_DELTAS][512];
	size_t n_deltas;
	int in_delta_fetch;                /* try_url for a FreshestCRL URL */
	char failures[1024];
};

static struct ds_crl_report *new_report(struct cert_check *c,
    const char *source, const char *origin)
{
	struct ds_crl_report *r;

	if (c->res->n_reports >= DS_CRL_REPORT_MAX)
		return NULL;
	r = &c->res->reports[c->res->n_reports++];
	memset(r, 0, sizeof *r);
	snprintf(r->source, sizeof r->source, "%s", source);
	snprintf(r->origin, sizeof r->origin, "%s", origin);
	r->depth = c->depth;
	r->entries = -1;
	return r;
}

static void add_failure(struct cert_check *c, const char *source,
    const char *why)
{
	size_t l = strlen(c->failures);
	ds_format_truncated(c->failures + l, sizeof c->failures - l, "%s%s: %s",
	    l ? "; " : "", source, why);
}

#define DS_CRL_OUT_OF_SCOPE (-3)

/* Validates d (fetched from url, or a configured file when url is NULL)
 * and looks the serial up; fills the report.  Returns what
 * ds_crl_validate() said, or DS_CRL_OUT_OF_SCOPE. */
static int use_crl(struct cert_check *c, struct ds_crl_data *d,
    const char *path, const char *source, const char *origin,
    const char *fetch_error, const char *url)
{
	struct ds_crl_report *r = new_report(c, source, origin);
	char outcome[256];
	int ok = ds_crl_validate(c->s, d, path, c->cert, c->issuer, c->at,
	    outcome, sizeof outcome);

	if (r) {
		snprintf(r->issuer, sizeof r->issuer, "%s", d->issuer_text);
		r->this_update = d->this_update;
		r->next_update = d->next_update;
		r->entries = (long)d->n_entries;
	}
	if (ok == 1 && !ds_crl_scope_ok(d, url, c->cdps, outcome,
	    sizeof outcome))
		ok = DS_CRL_OUT_OF_SCOPE;
	if (ok != 1) {
		if (fetch_error && *fetch_error) {
			size_t l = strlen(outcome);
			ds_format_truncated(outcome + l, sizeof outcome - l,
			    " (and a new copy could not be had: %s)",
			    fetch_error);
		}
		add_failure(c, source, outcome);
		if (r)
			ds_format_truncated(r->outcome, sizeof r->outcome, "%s",
			    outcome);
		return ok;
	}
	int listed = ds_crl_data_lookup(d, c->serial, c->serial_len);
	const char *note = d->has_crl_number ? "" :
	    " (warning: v2 CRL without CRLNumber)";
	if (d->is_delta) {
		/* never a complete CRL; kept to be applied to the base */
		if (c->n_deltas < DS_MAX_DELTAS) {
			ds_crl_data_ref(d);
			snprintf(c->delta_sources[c->n_deltas],
			    sizeof c->delta_sources[0], "%s", source);
			c->deltas[c->n_deltas++] = d;
		}
		if (r)
			ds_format_truncated(r->outcome, sizeof r->outcome,
			    "delta CRL (%s): applied only to a complete CRL of "
			    "its base", listed ? "lists the serial" :
			    ds_crl_data_lookup_removed(d, c->serial,
			    c->serial_len) ? "removes the serial" :
			    "serial not listed");
		if (!c->in_delta_fetch)
			add_failure(c, source, "serves a delta CRL only, not a "
			    "complete CRL");
		return 1;
	}
	if (d->only_some_reasons) {
		if (listed && !c->partial_revoked) {
			c->partial_revoked = 1;
			snprintf(c->partial_source, sizeof c->partial_source,
			    "%s", source);
		}
		if (r)
			ds_format_truncated(r->outcome, sizeof r->outcome, "%s",
			    listed ? "revoked (on a CRL covering some reasons "
			    "only)" : "not listed, but this CRL covers some "
			    "reasons only: not a complete CRL");
		return 1;
	}
	c->valid_found = 1;
	if (url != NULL)
		c->url_valid_found = 1;
	if (c->best == NULL || ds_crl_newer(d, c->best) > 0) {
		ds_crl_data_unref(c->best);
		ds_crl_data_ref(d);
		c->best = d;
		c->best_revoked = listed;
		snprintf(c->best_source, sizeof c->best_source, "%s", source);
	}
	if (r && listed) {
		char ser[128];
		serial_text(c->cert, ser, sizeof ser);
		ds_format_truncated(r->outcome, sizeof r->outcome,
		    "revoked serial %s%s", ser, note);
	} else if (r) {
		if (fetch_error && *fetch_error)
			ds_format_truncated(r->outcome, sizeof r->outcome,
			    "good (cached copy; last fetch failed: %.160s)%s",
			    fetch_error, note);
		else
			ds_format_truncated(r->outcome, sizeof r->outcome,
			    "good%s", note);
	}
	return 1;
}

static void on_file(struct ds_crl_data *d, const char *path, void *arg)
{
	(void)use_crl(arg, d, path, path, "file", NULL, NULL);
}

static void try_url(struct cert_check *c, const char *url)
{
	struct ds_crl_got got;
	char path[4096], stem[65];
	const char *dir = ds_crl_store_opts(c->s)->cache_dir;
	const char *origin;

	if (!ds_crl_url_allowed(url)) {
		struct ds_crl_report *r = new_report(c, url, "none");
		const char *why = "not fetched: protocol not allowed (only http, "
		    "https, ldap, ldaps)";
		if (r)
			ds_format_truncated(r->outcome, sizeof r->outcome, "%s",
			    why);
		add_failure(c, url, why);
		return;
	}
	ds_crl_store_get(c->s, url, c->issuer, c->deadline, &got);
	if (got.data == NULL) {
		struct ds_crl_report *r = new_report(c, url, "none");
		if (r)
			ds_format_truncated(r->outcome, sizeof r->outcome, "%s",
			    got.error);
		add_failure(c, url, got.error);
		return;
	}
	origin = got.origin == DS_ORIGIN_FETCHED ? "fetched" :
	    got.origin == DS_ORIGIN_DISK ? "disk" : "cached";
	path[0] = '\0';
	if (dir) {
		ds_crl_cache_stem(url, stem);
		snprintf(path, sizeof path, "%s/%s.crl", dir, stem);
	}
	int used = use_crl(c, got.data, dir ? path : NULL, url, origin,
	    got.error, url);
	if ((used == DS_CRL_NOT_FROM_ISSUER || used == DS_CRL_OUT_OF_SCOPE) &&
	    got.origin != DS_ORIGIN_FETCHED) {
		/* the cached copy is not this issuer's, or not this
		 * distribution point's (stored by a refresh that could not
		 * check it, or by an older version): fetch anew, once */
		ds_crl_data_unref(got.data);
		ds_crl_store_get_fresh(c->s, url, c->issuer, c->deadline, &got);
		if (got.origin == DS_ORIGIN_FETCHED && got.data != NULL)
			use_crl(c, got.data, dir ? path : NULL, url, "fetched",
			    NULL, url);
	}
	ds_crl_data_unref(got.data);
}

/* Delta CRLs (RFC 5280 5.2.4, 6.3.3): fetches the FreshestCRL points of the
 * certificate and of the deciding complete CRL (one of the two must have
 * that extension, RFC 5280 6.3.3 (c)), then applies the newest
 * delta whose BaseCRLNumber <= the base's CRLNumber < its own: a serial it
 * lists is revoked, one it lists as removeFromCRL is not.  Without a usable
 * delta the complete CRL decides alone. */
static void apply_deltas(struct cert_check *c)
{
	if (c->best == NULL)
		return;
	STACK_OF(OPENSSL_STRING) *fresh = dp_urls(c->cert, NID_freshest_crl);
	c->in_delta_fetch = 1;
	for (int i = 0; fresh && i < sk_OPENSSL_STRING_num(fresh); i++)
		try_url(c, sk_OPENSSL_STRING_value(fresh, i));
	sk_OPENSSL_STRING_pop_free(fresh, free_str);
	/* the base may have changed; its own FreshestCRL points */
	struct ds_crl_data *base = c->best;
	ds_crl_data_ref(base);
	for (size_t i = 0; i < base->n_freshest_uris; i++)
		try_url(c, base->freshest_uris[i]);
	c->in_delta_fetch = 0;
	ds_crl_data_unref(base);

	/* RFC 5280 6.3.3 (c): deltas count only when the certificate or the
	 * complete CRL carries a FreshestCRL extension */
	if (X509_get_ext_by_NID(c->cert, NID_freshest_crl, -1) < 0 &&
	    !c->best->has_freshest)
		return;
	struct ds_crl_data *use = NULL;
	size_t use_i = 0;
	for (size_t i = 0; i < c->n_deltas; i++) {
		struct ds_crl_data *dl = c->deltas[i];
		if (!ds_crl_delta_applies(dl, c->best))
			continue;
		if (use == NULL || ds_crl_newer(dl, use) > 0) {
			use = dl;
			use_i = i;
		}
	}
	if (use == NULL)
		return;
	if (ds_crl_data_lookup(use, c->serial, c->serial_len)) {
		c->best_revoked = 1;
		snprintf(c->best_source, sizeof c->best_source, "%s (delta CRL)",
		    c->delta_sources[use_i]);
	} else if (ds_crl_data_lookup_removed(use, c->serial, c->serial_len)) {
		c->best_revoked = 0;      /* removeFromCRL: unrevoked */
	}
}

static enum ds_rev_status check_one(struct ds_crl_store *s, X509 *cert,
    X509 *issuer, int depth, time_t at, const struct timespec *deadline,
    struct ds_rev_result *res, char *why, size_t whylen)
{
	struct cert_check *c = calloc(1, sizeof *c);
	STACK_OF(OPENSSL_STRING) *urls;
	char subj[256], ser[128];
	enum ds_rev_status st;

	if (c == NULL) {
		ds_format_truncated(why, whylen, "out of memory");
		return DS_REV_UNAVAILABLE;
	}
	c->s = s;
	c->res = res;
	c->cert = cert;
	c->issuer = issuer;
	c->depth = depth;
	c->at = at;
	c->deadline = deadline;
	subject_text(cert, subj, sizeof subj);
	serial_text(cert, ser, sizeof ser);
	if (ds_crl_serial_octets(X509_get0_serialNumber(cert), c->serial,
	    sizeof c->serial, &c->serial_len) != 0) {
		ds_format_truncated(why, whylen, "certificate %s has an "
		    "unusable serial number", subj);
		free(c);
		return DS_REV_UNAVAILABLE;
	}
	urls = cdp_urls(cert);
	c->cdps = urls;
	ds_crl_store_files_for(s, X509_get_issuer_name(cert), on_file, c);
	/* A configured file never stops a distribution point from being
	 * fetched: the newest CRL decides.  Several URIs of one
	 * distribution point are alternatives: the first usable one ends. */
	for (int i = 0; urls && i < sk_OPENSSL_STRING_num(urls) &&
	    !c->url_valid_found; i++)
		try_url(c, sk_OPENSSL_STRING_value(urls, i));

	apply_deltas(c);
	if (c->partial_revoked || (c->best != NULL && c->best_revoked)) {
		ds_format_truncated(why, whylen, "certificate %s (serial %s) is "
		    "revoked, listed on %s", subj, ser, c->best_revoked ?
		    c->best_source : c->partial_source);
		snprintf(res->revoked_serial, sizeof res->revoked_serial, "%s", ser);
		st = DS_REV_REVOKED;
	} else if (c->valid_found) {
		st = DS_REV_GOOD;
	} else if (c->failures[0] == '\0') {
		char iname[256];
		subject_text(issuer, iname, sizeof iname);
		ds_format_truncated(why, whylen, "no CRL for certificate %s: it "
		    "has no usable CRL distribution point and no CRL file of "
		    "its issuer %s is configured", subj, iname);
		st = DS_REV_UNAVAILABLE;
	} else {
		ds_format_truncated(why, whylen, "no valid CRL for certificate "
		    "%s: %s", subj, c->failures);
		st = DS_REV_UNAVAILABLE;
	}
	sk_OPENSSL_STRING_pop_free(urls, free_str);
	ds_crl_data_unref(c->best);
	for (size_t i = 0; i < c->n_deltas; i++)
		ds_crl_data_unref(c->deltas[i]);
	free(c);
	return st;
}

/* Reports were added from the anchor down; show them leaf first. */
static void sort_reports_by_depth(struct ds_rev_result *res)
{
	for (size_t i = 1; i < res->n_reports; i++) {
		struct ds_crl_report r = res->reports[i];
		size_t j = i;
		while (j > 0 && res->reports[j - 1].depth > r.depth) {
			res->reports[j] = res->reports[j - 1];
			j--;
		}
		res->reports[j] = r;
	}
}

int ds_crl_check_chain(struct ds_crl_store *s, STACK_OF(X509) *chain,
    time_t at, struct ds_rev_result *res)
{
	int n;
	char why[512], unavailable[512] = "";
	struct timespec deadline;
	long budget_ms;

	memset(res, 0, sizeof *res);
	res->status = DS_REV_GOOD;
	res->revoked_depth = -1;
	if (s == NULL || chain == NULL) {
		snprintf(res->reason, sizeof res->reason, "internal error: no chain");
		return -1;
	}
	if (at == 0)
		at = time(NULL);
	/* all downloads of one check share one CRLTimeout, so that a dead
	 * server costs one timeout per message, whatever the chain */
	budget_ms = ds_crl_store_opts(s)->timeout_ms;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += budget_ms / 1000;
	deadline.tv_nsec += (budget_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	n = sk_X509_num(chain);
	/*
	 * From the anchor down, stopping at the first revoked or unavailable
	 * certificate: a dead CRL server then costs one timeout per chain,
	 * not one per certificate, and a revoked CA is found before its
	 * leaves' CRLs are fetched.
	 */
	for (int depth = n - 2; depth >= 0; depth--) {
		enum ds_rev_status st;
		why[0] = '\0';
		st = check_one(s, sk_X509_value(chain, depth),
		    sk_X509_value(chain, depth + 1), depth, at, &deadline, res, why,
		    sizeof why);
		if (st == DS_REV_REVOKED) {
			res->status = DS_REV_REVOKED;
			res->revoked_depth = depth;
			snprintf(res->reason, sizeof res->reason, "%s", why);
			break;
		}
		if (st == DS_REV_UNAVAILABLE) {
			snprintf(unavailable, sizeof unavailable, "%s", why);
			break;
		}
	}
	sort_reports_by_depth(res);
	if (res->status != DS_REV_REVOKED) {
		if (unavailable[0]) {
			res->status = DS_REV_UNAVAILABLE;
			snprintf(res->reason, sizeof res->reason, "%s", unavailable);
		} else {
			snprintf(res->reason, sizeof res->reason, "%s", n > 1 ?
			    "no certificate of the chain is revoked" :
			    "the certificate is itself the trust anchor");
		}
	}
	return 0;
}
