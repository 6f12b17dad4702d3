/*
 * crl_index.c - decodes a CRL by walking its DER once and keeps only what
 * the engine needs: issuer, thisUpdate, nextUpdate, scope (IDP), CRLNumber,
 * delta indicator and FreshestCRL, and a compact
 * hash index of the revoked serial numbers (crl_serials.c: their content
 * octets in cache-line buckets).  A 1M-entry CRL costs about 25 MB this
 * way, where OpenSSL's X509_CRL costs about 380 MB.  Also: signature checks
 * over the DER, and DER/PEM input splitting.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "crl_internal.h"

/* ---- a minimal DER reader ---- */

struct der_elem {
	int tag;                    /* the identifier octet */
	const unsigned char *start; /* first octet of the element */
	const unsigned char *content;
	size_t content_len;
	size_t total_len;           /* header + content */
};

/* Reads the element at *p (before end) and advances *p past it. */
static int der_read(const unsigned char **p, const unsigned char *end,
    struct der_elem *e)
{
	const unsigned char *q = *p;
	size_t avail = (size_t)(end - q), len, hdr = 2;

	if (avail < 2)
		return -1;
	e->start = q;
	e->tag = q[0];
	if ((q[0] & 0x1f) == 0x1f)
		return -1;          /* high tag numbers never occur in a CRL */
	if (q[1] < 0x80) {
		len = q[1];
	} else {
		size_t nbytes = q[1] & 0x7f;
		if (nbytes == 0 || nbytes > 4 || avail < 2 + nbytes)
			return -1;  /* indefinite or absurd length */
		len = 0;
		for (size_t i = 0; i < nbytes; i++)
			len = (len << 8) | q[2 + i];
		hdr += nbytes;
	}
	if (len > avail - hdr)
		return -1;
	e->content = q + hdr;
	e->content_len = len;
	e->total_len = hdr + len;
	*p = q + hdr + len;
	return 0;
}

static int der_time(const struct der_elem *e, time_t *out)
{
	const unsigned char *p = e->start;
	ASN1_TIME *t;
	struct tm tm;
	int ok;

	if (e->tag != V_ASN1_UTCTIME && e->tag != V_ASN1_GENERALIZEDTIME)
		return -1;
	t = d2i_ASN1_TIME(NULL, &p, (long)e->total_len);
	if (t == NULL)
		return -1;
	ok = ASN1_TIME_to_tm(t, &tm);
	ASN1_TIME_free(t);
	if (!ok)
		return -1;
	*out = timegm(&tm);
	return 0;
}

/* ---- serial index ---- */

int ds_crl_serial_octets(const ASN1_INTEGER *serial, unsigned char *out,
    size_t outlen, size_t *n)
{
	unsigned char *der = NULL, *c;
	int len = i2d_ASN1_INTEGER((ASN1_INTEGER *)serial, &der);
	struct der_elem e;
	const unsigned char *p;

	if (len <= 0)
		return -1;
	p = der;
	if (der_read(&p, der + len, &e) != 0 || e.content_len == 0 ||
	    e.content_len > outlen) {
		OPENSSL_free(der);
		return -1;
	}
	c = (unsigned char *)e.content;
	memcpy(out, c, e.content_len);
	*n = e.content_len;
	OPENSSL_free(der);
	return 0;
}

/* Drops redundant sign octets so that equal numbers compare equal. */
static void normalise(const unsigned char **s, size_t *len)
{
	while (*len > 1 && (((*s)[0] == 0x00 && (*s)[1] < 0x80) ||
	    ((*s)[0] == 0xff && (*s)[1] >= 0x80))) {
		(*s)++;
		(*len)--;
	}
}

int ds_crl_data_lookup(const struct ds_crl_data *d, const unsigned char *ser,
    size_t len)
{
	normalise(&ser, &len);
	return ds_crl_serials_has(&d->serials, ser, len);
}

int ds_crl_data_lookup_removed(const struct ds_crl_data *d,
    const unsigned char *ser, size_t len)
{
	normalise(&ser, &len);
	if (d->removed_blob == NULL)
		return 0;
	for (size_t off = 0; off < d->removed_blob_len;
	    off += 1 + d->removed_blob[off])
		if (d->removed_blob[off] == len &&
		    memcmp(d->removed_blob + off + 1, ser, len) == 0)
			return 1;
	return 0;
}

/* Compares two numbers of content octets without leading zeros. */
static int number_cmp(const unsigned char *a, size_t la,
    const unsigned char *b, size_t lb)
{
	if (la != lb)
		return la > lb ? 1 : -1;
	int c = memcmp(a, b, la);
	return c > 0 ? 1 : c < 0 ? -1 : 0;
}

int ds_crl_delta_applies(const struct ds_crl_data *delta,
    const struct ds_crl_data *base)
{
	if (!delta->is_delta || base->is_delta || !delta->has_crl_number ||
	    !base->has_crl_number)
		return 0;
	return number_cmp(delta->base_crl_number, delta->base_crl_number_len,
	    base->crl_number, base->crl_number_len) <= 0 &&
	    number_cmp(delta->crl_number, delta->crl_number_len,
	    base->crl_number, base->crl_number_len) > 0;
}

size_t ds_crl_data_memory(const struct ds_crl_data *d)
{
	return sizeof *d + ds_crl_serials_memory(&d->serials) + d->der_len;
}

/* ---- decoding ---- */

void ds_crl_data_ref(struct ds_crl_data *d)
{
	__atomic_add_fetch(&d->refs, 1, __ATOMIC_SEQ_CST);
}

void ds_crl_data_unref(struct ds_crl_data *d)
{
	if (d == NULL || __atomic_sub_fetch(&d->refs, 1, __ATOMIC_SEQ_CST) > 0)
		return;
	X509_NAME_free(d->issuer);
	for (size_t i = 0; i < d->n_idp_uris; i++)
		free(d->idp_uris[i]);
	free(d->idp_uris);
	for (size_t i = 0; i < d->n_freshest_uris; i++)
		free(d->freshest_uris[i]);
	free(d->freshest_uris);
	free(d->removed_blob);
	ds_crl_serials_free(&d->serials);
	free(d->der);
	for (size_t i = 0; i < d->n_verified_keys; i++)
		EVP_PKEY_free(d->verified_keys[i]);
	free(d);
}

static int fail(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s", what);
	return -1;
}

/* Extensions ::= SEQUENCE OF SEQUENCE { OID, BOOLEAN DEFAULT FALSE, OCTET }.
 * Calls fn(oid-nid, critical, value) for each; fn returns -1 to refuse. */
static int walk_extensions(const struct der_elem *seq,
    int (*fn)(int nid, int critical, const struct der_elem *val, void *arg),
    void *arg)
{
	const unsigned char *p = seq->content, *end = p + seq->content_len;

	if (seq->tag != (V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED))
		return -1;
	while (p < end) {
		struct der_elem ext, oid, x;
		const unsigned char *q, *qend, *o;
		ASN1_OBJECT *obj;
		int critical = 0, nid;

		if (der_read(&p, end, &ext) != 0 ||
		    ext.tag != (V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED))
			return -1;
		q = ext.content;
		qend = q + ext.content_len;
		if (der_read(&q, qend, &oid) != 0 || oid.tag != V_ASN1_OBJECT ||
		    der_read(&q, qend, &x) != 0)
			return -1;
		if (x.tag == V_ASN1_BOOLEAN) {
			critical = x.content_len == 1 && x.content[0] != 0;
			if (der_read(&q, qend, &x) != 0)
				return -1;
		}
		if (x.tag != V_ASN1_OCTET_STRING || q != qend)
			return -1;
		o = oid.start;
		obj = d2i_ASN1_OBJECT(NULL, &o, (long)oid.total_len);
		if (obj == NULL)
			return -1;
		nid = OBJ_obj2nid(obj);
		ASN1_OBJECT_free(obj);
		if (fn(nid, critical, &x, arg) != 0)
			return -1;
	}
	return 0;
}

struct crl_ext_ctx {
	struct ds_crl_data *d;
	const char *refusal;
	int has_crl_number;
	int entry_removed;       /* the entry being read is removeFromCRL */
};

/* Keeps the URIs of an IDP full name. */
static int keep_idp_uris(struct ds_crl_data *d, const DIST_POINT_NAME *dpn)
{
	if (dpn == NULL)
		return 0;
	if (dpn->type != 0)
		return -1;           /* nameRelativeToCRLIssuer: not supported */
	d->idp_full_name = 1;
	int n = sk_GENERAL_NAME_num(dpn->name.fullname);
	d->idp_uris = calloc(n > 0 ? (size_t)n : 1, sizeof *d->idp_uris);
	if (d->idp_uris == NULL)
		return -1;
	for (int i = 0; i < n; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(dpn->name.fullname, i);
		if (gn->type != GEN_URI)
			continue;
		const ASN1_IA5STRING *u = gn->d.uniformResourceIdentifier;
		if (u->length <= 0 || memchr(u->data, 0, (size_t)u->length))
			continue;
		char *copy = malloc((size_t)u->length + 1);
		if (copy == NULL)
			return -1;
		memcpy(copy, u->data, (size_t)u->length);
		copy[u->length] = '\0';
		d->idp_uris[d->n_idp_uris++] = copy;
	}
	return 0;
}

/* Keeps the fullName URIs of a FreshestCRL extension (CRLDistPoints). */
static int keep_freshest(struct ds_crl_data *d, const struct der_elem *val)
{
	const unsigned char *p = val->content;
	CRL_DIST_POINTS *dps = d2i_CRL_DIST_POINTS(NULL, &p,
	    (long)val->content_len);
	if (dps == NULL)
		return -1;
	size_t cap = 0;
	for (int i = 0; i < sk_DIST_POINT_num(dps); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		if (dp->distpoint != NULL && dp->distpoint->type == 0)
			cap += (size_t)sk_GENERAL_NAME_num(dp->distpoint->name.fullname);
	}
	d->freshest_uris = calloc(cap ? cap : 1, sizeof *d->freshest_uris);
	if (d->freshest_uris == NULL) {
		CRL_DIST_POINTS_free(dps);
		return -1;
	}
	for (int i = 0; i < sk_DIST_POINT_num(dps); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		if (dp->distpoint == NULL || dp->distpoint->type != 0)
			continue;
		for (int j = 0; j < sk_GENERAL_NAME_num(dp->distpoint->name.fullname); j++) {
			GENERAL_NAME *gn = sk_GENERAL_NAME_value(
			    dp->distpoint->name.fullname, j);
			if (gn->type != GEN_URI)
				continue;
			const ASN1_IA5STRING *u = gn->d.uniformResourceIdentifier;
			if (u->length <= 0 || memchr(u->data, 0, (size_t)u->length))
				continue;
			char *copy = malloc((size_t)u->length + 1);
			if (copy == NULL)
				continue;
			memcpy(copy, u->data, (size_t)u->length);
			copy[u->length] = '\0';
			d->freshest_uris[d->n_freshest_uris++] = copy;
		}
	}
	CRL_DIST_POINTS_free(dps);
	return 0;
}

/* An INTEGER (0..MAX) of up to 20 octets into out (no leading zeros). */
static int keep_number(const struct der_elem *val, unsigned char *out,
    size_t outsz, size_t *outlen)
{
	const unsigned char *p = val->content, *end = p + val->content_len;
	struct der_elem n;
	if (der_read(&p, end, &n) != 0 || p != end || n.tag != V_ASN1_INTEGER ||
	    n.content_len == 0 || (n.content[0] & 0x80))
		return -1;
	const unsigned char *c = n.content;
	size_t len = n.content_len;
	while (len > 1 && c[0] == 0) {
		c++;
		len--;
	}
	if (len > outsz)
		return -1;
	memcpy(out, c, len);
	*outlen = len;
	return 0;
}

/* CRLNumber ::= INTEGER (0..MAX), up to 20 octets (RFC 5280 5.2.3). */
static int keep_crl_number(struct ds_crl_data *d, const struct der_elem *val)
{
	const unsigned char *p = val->content, *end = p + val->content_len;
	struct der_elem n;
	if (der_read(&p, end, &n) != 0 || p != end || n.tag != V_ASN1_INTEGER ||
	    n.content_len == 0 || (n.content[0] & 0x80))
		return -1;
	const unsigned char *c = n.content;
	size_t len = n.content_len;
	while (len > 1 && c[0] == 0) {
		c++;
		len--;
	}
	if (len > sizeof d->crl_number)
		return -1;
	memcpy(d->crl_number, c, len);
	d->crl_number_len = len;
	d->has_crl_number = 1;
	return 0;
}

static int crl_ext(int nid, int critical, const struct der_elem *val,
    void *arg)
{
	struct crl_ext_ctx *c = arg;

	if (nid == NID_delta_crl) {
		/* BaseCRLNumber (RFC 5280 5.2.4) */
		if (keep_number(val, c->d->base_crl_number,
		    sizeof c->d->base_crl_number,
		    &c->d->base_crl_number_len) != 0) {
			c->refusal = "malformed deltaCRLIndicator";
			return -1;
		}
		c->d->is_delta = 1;
		return 0;
	}
	if (nid == NID_freshest_crl) {
		c->d->has_freshest = 1;
		if (keep_freshest(c->d, val) != 0) {
			c->refusal = "malformed FreshestCRL extension";
			return -1;
		}
		return 0;
	}
	if (nid == NID_issuing_distribution_point) {
		const unsigned char *p = val->content;
		ISSUING_DIST_POINT *idp = d2i_ISSUING_DIST_POINT(NULL, &p,
		    (long)val->content_len);
		if (idp == NULL) {
			c->refusal = "malformed issuingDistributionPoint";
			return -1;
		}
		if (idp->indirectCRL) {
			c->refusal = "unsupported: indirect CRL";
			ISSUING_DIST_POINT_free(idp);
			return -1;
		}
		c->d->only_user_certs = idp->onlyuser != 0;
		c->d->only_ca_certs = idp->onlyCA != 0;
		c->d->only_attr_certs = idp->onlyattr != 0;
		c->d->only_some_reasons = idp->onlysomereasons != NULL;
		if (keep_idp_uris(c->d, idp->distpoint) != 0) {
			c->refusal = "unsupported issuingDistributionPoint name "
			    "(relative name) or out of memory";
			ISSUING_DIST_POINT_free(idp);
			return -1;
		}
		ISSUING_DIST_POINT_free(idp);
		return 0;
	}
	if (nid == NID_crl_number) {
		/* RFC 5280 5.2.3: present in every v2 CRL, never critical */
		if (critical) {
			c->refusal = "CRLNumber extension marked critical "
			    "(RFC 5280 5.2.3 forbids it)";
			return -1;
		}
		if (keep_crl_number(c->d, val) != 0) {
			c->refusal = "malformed CRLNumber";
			return -1;
		}
		c->has_crl_number = 1;
		return 0;
	}
	if (critical && nid != NID_authority_key_identifier) {
		c->refusal = "unsupported critical CRL extension";
		return -1;
	}
	return 0;
}

static int entry_ext(int nid, int critical, const struct der_elem *val,
    void *arg)
{
	struct crl_ext_ctx *c = arg;

	if (nid == NID_crl_reason) {
		/* CRLReason ::= ENUMERATED; removeFromCRL (8) */
		if (val->content_len == 3 && val->content[0] == V_ASN1_ENUMERATED &&
		    val->content[1] == 1 && val->content[2] == 8)
			c->entry_removed = 1;
	}
	if (nid == NID_certificate_issuer) {
		c->refusal = "unsupported: indirect CRL (certificateIssuer)";
		return -1;
	}
	if (critical && nid != NID_crl_reason && nid != NID_invalidity_date &&
	    nid != NID_hold_instruction_code) {
		c->refusal = "unsupported critical CRL entry extension";
		return -1;
	}
	return 0;
}

/* Walks revokedCertificates twice: first to size, then to fill. */
static int index_entries(struct ds_crl_data *d, const struct der_elem *list,
    struct crl_ext_ctx *ctx, char *err, size_t errlen)
{
	const unsigned char *p, *end = list->content + list->content_len;
	size_t n = 0, blob = 0, n_short = 0, short_bytes = 0;

	for (p = list->content; p < end;) {
		struct der_elem ent, ser;
		const unsigned char *q, *s;
		size_t slen;

		if (der_read(&p, end, &ent) != 0 ||
		    ent.tag != (V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED))
			return fail(err, errlen, "not a CRL (garbage in revoked entries)");
		q = ent.content;
		if (der_read(&q, ent.content + ent.content_len, &ser) != 0 ||
		    ser.tag != V_ASN1_INTEGER || ser.content_len == 0)
			return fail(err, errlen, "not a CRL (bad serial number)");
		s = ser.content;
		slen = ser.content_len;
		normalise(&s, &slen);
		if (slen > 255)
			return fail(err, errlen, "serial number longer than 255 octets");
		n++;
		blob += 1 + slen;
		if (slen <= DS_CRL_BUCKET_SERIAL) {
			n_short++;
			short_bytes += 1 + slen;
		}
	}
	if (blob >= UINT32_MAX)
		return fail(err, errlen, "CRL too large to index");
	d->n_entries = n;
	/* both blobs sized for every entry: pages never written cost no
	 * memory (and the spill area gives its rest back) */
	d->removed_blob = malloc(blob ? blob : 1);
	if (d->removed_blob == NULL ||
	    ds_crl_serials_init(&d->serials,
	    ds_crl_serials_buckets_for(n_short, short_bytes), blob) != 0)
		return fail(err, errlen, "out of memory indexing the CRL");
	for (p = list->content; p < end;) {
		struct der_elem ent, ser, date, exts;
		const unsigned char *q, *qend, *s;
		size_t slen;

		der_read(&p, end, &ent);
		q = ent.content;
		qend = q + ent.content_len;
		der_read(&q, qend, &ser);
		s = ser.content;
		slen = ser.content_len;
		normalise(&s, &slen);
		if (der_read(&q, qend, &date) != 0 ||
		    (date.tag != V_ASN1_UTCTIME &&
		     date.tag != V_ASN1_GENERALIZEDTIME))
			return fail(err, errlen, "not a CRL (bad revocation date)");
		ctx->entry_removed = 0;
		if (q < qend) {
			if (der_read(&q, qend, &exts) != 0 || q != qend ||
			    walk_extensions(&exts, entry_ext, ctx) != 0)
				return fail(err, errlen, ctx->refusal ? ctx->refusal :
				    "not a CRL (bad entry extensions)");
		}
		if (ctx->entry_removed) {
			/* removeFromCRL: not revoked (RFC 5280 6.3.3 (k)); in
			 * a delta it also unrevokes what the base lists */
			d->removed_blob[d->removed_blob_len] = (unsigned char)slen;
			memcpy(d->removed_blob + d->removed_blob_len + 1, s, slen);
			d->removed_blob_len += 1 + slen;
			d->n_removed++;
			d->n_entries--;
			continue;
		}
		if (ds_crl_serials_add(&d->serials, s, slen) != 0)
			return fail(err, errlen, "cannot index the CRL");
	}
	if (ds_crl_serials_finish(&d->serials) != 0)
		return fail(err, errlen, "out of memory indexing the CRL");
	return 0;
}

static int parse_tbs(struct ds_crl_data *d, const struct der_elem *tbs,
    const struct der_elem *outer_alg, char *err, size_t errlen)
{
	const unsigned char *p = tbs->content, *end = p + tbs->content_len, *q;
	struct der_elem e;
	struct crl_ext_ctx ctx = { d, NULL, 0, 0 };
	int v2 = 0;

	if (der_read(&p, end, &e) != 0)
		return fail(err, errlen, "not a CRL (garbage)");
	if (e.tag == V_ASN1_INTEGER) {            /* version v2 */
		if (e.content_len != 1 || e.content[0] != 1)
			return fail(err, errlen, "unsupported CRL version");
		v2 = 1;
		if (der_read(&p, end, &e) != 0)
			return fail(err, errlen, "not a CRL (garbage)");
	}
	/* signature AlgorithmIdentifier, must equal the outer one */
	if (e.tag != (V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED) ||
	    e.total_len != outer_alg->total_len ||
	    memcmp(e.start, outer_alg->start, e.total_len) != 0)
		return fail(err, errlen, "not a CRL (signature algorithms differ)");
	if (der_read(&p, end, &e) != 0 ||
	    e.tag != (V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED))
		return fail(err, errlen, "not a CRL (no issuer name)");
	q = e.start;
	d->issuer = d2i_X509_NAME(NULL, &q, (long)e.total_len);
	if (d->issuer == NULL)
		return fail(err, errlen, "not a CRL (bad issuer name)");
	X509_NAME_oneline(d->issuer, d->issuer_text, sizeof d->issuer_text);
	{
		BIO *b = BIO_new(BIO_s_mem());
		if (b != NULL) {
			int n = X509_NAME_print_ex(b, d->issuer, 0, XN_FLAG_RFC2253);
			if (n > 0 && (size_t)n < sizeof d->issuer_text) {
				n = BIO_read(b, d->issuer_text,
				    (int)sizeof d->issuer_text - 1);
				d->issuer_text[n > 0 ? n : 0] = '\0';
			}
			BIO_free(b);
		}
	}
	if (der_read(&p, end, &e) != 0 || der_time(&e, &d->this_update) != 0)
		return fail(err, errlen, "not a CRL (bad thisUpdate)");
	/* Then nextUpdate, revokedCertificates and crlExtensions, each
	 * optional, at most once and in this order (RFC 5280 5.1): a second
	 * revoked list would replace (and leak) the first one's index. */
	int last_field = 0;      /* 1 nextUpdate, 2 revoked, 3 extensions */
	while (p < end) {
		int field;
		if (der_read(&p, end, &e) != 0)
			return fail(err, errlen, "not a CRL (garbage)");
		if (e.tag == V_ASN1_UTCTIME || e.tag == V_ASN1_GENERALIZEDTIME)
			field = 1;
		else if (e.tag == (V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED))
			field = 2;
		else if (e.tag == 0xa0)
			field = 3;
		else
			return fail(err, errlen, "not a CRL (unexpected field)");
		if (field <= last_field)
			return fail(err, errlen, "not a CRL (fields repeated or "
			    "out of order)");
		last_field = field;
		if (field == 1) {
			if (der_time(&e, &d->next_update) != 0)
				return fail(err, errlen, "not a CRL (bad nextUpdate)");
		} else if (field == 2) {
			if (index_entries(d, &e, &ctx, err, errlen) != 0)
				return -1;
		} else {                          /* [0] EXPLICIT Extensions */
			const unsigned char *x = e.content;
			struct der_elem exts;
			if (der_read(&x, e.content + e.content_len, &exts) != 0 ||
			    walk_extensions(&exts, crl_ext, &ctx) != 0)
				return fail(err, errlen, ctx.refusal ? ctx.refusal :
				    "not a CRL (bad extensions)");
		}
	}
	/* A v2 CRL without CRLNumber breaks RFC 5280 5.2.3 for its issuer,
	 * but the relying-party algorithm (6.3.3) does not need it: accepted,
	 * has_crl_number stays 0 and the checker warns. */
	(void)v2;
	return 0;
}

/* Splits CertificateList into its three parts. */
static int split_outer(const unsigned char *der, size_t len,
    struct der_elem *tbs, struct der_elem *alg, struct der_elem *sig)
{
	const unsigned char *p = der, *end = der + len, *q;
	struct der_elem outer;

	if (der_read(&p, end, &outer) != 0 || p != end ||
	    outer.tag != (V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED))
		return -1;
	q = outer.content;
	end = q + outer.content_len;
	if (der_read(&q, end, tbs) != 0 ||
	    tbs->tag != (V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED) ||
	    der_read(&q, end, alg) != 0 ||
	    alg->tag != (V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED) ||
	    der_read(&q, end, sig) != 0 || sig->tag != V_ASN1_BIT_STRING ||
	    q != end)
		return -1;
	return 0;
}

struct ds_crl_data *ds_crl_data_parse_der(const unsigned char *der,
    size_t len, char *err, size_t errlen)
{
	struct der_elem tbs, alg, sig;
	struct ds_crl_data *d;

	if (split_outer(der, len, &tbs, &alg, &sig) != 0) {
		fail(err, errlen, "not a CRL (garbage)");
		return NULL;
	}
	d = calloc(1, sizeof *d);
	if (d == NULL) {
		fail(err, errlen, "out of memory");
		return NULL;
	}
	d->refs = 1;
	if (parse_tbs(d, &tbs, &alg, err, errlen) != 0) {
		ds_crl_data_unref(d);
		return NULL;
	}
	EVP_Digest(der, len, d->sha256, NULL, EVP_sha256(), NULL);
	return d;
}

/* The TBS bytes go through ASN1_item_verify verbatim: an ASN1_ANY of type
 * SEQUENCE re-encodes exactly the octets it holds. */
/* The general path (RSA-PSS and other algorithms whose parameters choose
 * the digest): ASN1_item_verify on a copy of the signed part. */
static int verify_by_copy(const struct der_elem *tbs, X509_ALGOR *algor,
    ASN1_BIT_STRING *bits, EVP_PKEY *pkey)
{
	ASN1_STRING *raw = ASN1_STRING_type_new(V_ASN1_SEQUENCE);
	ASN1_TYPE *any = ASN1_TYPE_new();
	int rc = -1;

	if (raw == NULL || any == NULL ||
	    !ASN1_STRING_set(raw, tbs->start, (int)tbs->total_len))
		goto out;
	ASN1_TYPE_set(any, V_ASN1_SEQUENCE, raw);
	raw = NULL;
	rc = ASN1_item_verify(ASN1_ITEM_rptr(ASN1_ANY), algor, bits, any,
	    pkey) == 1 ? 1 : 0;
out:
	ASN1_STRING_free(raw);
	ASN1_TYPE_free(any);
	return rc;
}

/*
 * The signature over the TBS bytes where they lie in der (no copy, no
 * re-encoding): EVP_DigestVerify with the digest the signature algorithm
 * names, after checking that the algorithm's key type is pkey's (no
 * algorithm confusion).  Ed25519/Ed448 take the message whole.
 */
int ds_crl_der_verify(const unsigned char *der, size_t len, EVP_PKEY *pkey)
{
	struct der_elem tbs, alg, sig;
	const unsigned char *p;
	X509_ALGOR *algor = NULL;
	ASN1_BIT_STRING *bits = NULL;
	EVP_MD_CTX *ctx = NULL;
	const EVP_MD *md = NULL;
	int rc = -1, signid, mdnid = NID_undef, pknid = NID_undef;

	if (split_outer(der, len, &tbs, &alg, &sig) != 0)
		return -1;
	p = alg.start;
	algor = d2i_X509_ALGOR(NULL, &p, (long)alg.total_len);
	p = sig.start;
	bits = d2i_ASN1_BIT_STRING(NULL, &p, (long)sig.total_len);
	if (algor == NULL || bits == NULL)
		goto out;
	signid = OBJ_obj2nid(algor->algorithm);
	if (signid == NID_rsassaPss ||
	    !OBJ_find_sigid_algs(signid, &mdnid, &pknid)) {
		rc = verify_by_copy(&tbs, algor, bits, pkey);
		goto out;
	}
	rc = 0;
	if (EVP_PKEY_type(pknid) != EVP_PKEY_get_base_id(pkey) ||
	    (bits->flags & 0x07) != 0)
		goto out;                  /* wrong key type, or unused bits */
	if (mdnid != NID_undef && (md = EVP_get_digestbynid(mdnid)) == NULL)
		goto out;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(ctx, NULL, md, NULL, pkey) != 1)
		goto out;
	rc = EVP_DigestVerify(ctx, bits->data, (size_t)bits->length,
	    tbs.start, tbs.total_len) == 1 ? 1 : 0;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	X509_ALGOR_free(algor);
	ASN1_BIT_STRING_free(bits);
	return rc;
}

/* ---- DER or PEM input ---- */

static int looks_like_pem(const unsigned char *buf, size_t len)
{
	size_t i = 0;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' ||
	    buf[i] == '\n'))
		i++;
	return len - i >= 11 && memcmp(buf + i, "-----BEGIN ", 11) == 0;
}

int ds_crl_split_der_or_pem(const unsigned char *buf, size_t len,
    int (*fn)(const unsigned char *der, size_t der_len, void *arg), void *arg,
    char *err, size_t errlen)
{
	BIO *bio;
	int found = 0;

	if (len == 0) {
		fail(err, errlen, "not a CRL (empty)");
		return -1;
	}
	if (!looks_like_pem(buf, len)) {
		if (fn(buf, len, arg) != 0)
			return -1;
		return 1;
	}
	if (len > INT32_MAX) {
		fail(err, errlen, "PEM text too large");
		return -1;
	}
	bio = BIO_new_mem_buf(buf, (int)len);
	if (bio == NULL) {
		fail(err, errlen, "out of memory");
		return -1;
	}
	for (;;) {
		char *name = NULL, *header = NULL;
		unsigned char *data = NULL;
		long dlen = 0;
		int rc;

		if (!PEM_read_bio(bio, &name, &header, &data, &dlen))
			break;
		rc = 0;
		if (strcmp(name, "X509 CRL") == 0) {
			found++;
			rc = fn(data, (size_t)dlen, arg);
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		if (rc != 0) {
			BIO_free(bio);
			return -1;
		}
	}
	ERR_clear_error();
	BIO_free(bio);
	if (found == 0) {
		fail(err, errlen, "not a CRL (PEM without an X509 CRL block)");
		return -1;
	}
	return found;
}
