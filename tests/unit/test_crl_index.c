/*
 * test_crl_index.c - unit tests for lib/crl/crl_index.c (and the LDAP answer
 * extractor of lib/crl/crl_fetch.c): CRLs built in-process with a throw-away CA
 * are decoded, indexed and looked up, and the answers compared with
 * OpenSSL's own; signatures with the right and a wrong key; DER and PEM;
 * garbage, truncated and bit-flipped input never crashes; delta CRLs and
 * unknown critical extensions are refused; the serial index
 * (lib/crl/crl_serials.c) with forced bucket collisions and spills.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "lib/crl/crl_internal.h"

static EVP_PKEY *ca_key, *other_key;

static int setup(void **state)
{
	(void)state;
	ca_key = EVP_EC_gen("P-256");
	other_key = EVP_EC_gen("P-256");
	return ca_key && other_key ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(other_key);
	return 0;
}

/* Serial from hex; negative values are not used by CAs but must not
 * confuse the index either. */
static ASN1_INTEGER *serial_hex(const char *hex)
{
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai;
	BN_hex2bn(&bn, hex);
	ai = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	return ai;
}

/* Builds a signed CRL listing serials (hex); ext_nid != 0 adds that
 * extension (critical when crit). */
static X509_CRL *make_crl(const char *const *serials, size_t n, int ext_nid,
    int crit, EVP_PKEY *signer)
{
	X509_CRL *crl = X509_CRL_new();
	X509_NAME *name = X509_NAME_new();
	ASN1_TIME *t = ASN1_TIME_new();

	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"Index Test CA", -1, -1, 0);
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, name);
	X509_gmtime_adj(t, -3600);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, 86400);
	X509_CRL_set1_nextUpdate(crl, t);
	for (size_t i = 0; i < n; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *s = serial_hex(serials[i]);
		X509_REVOKED_set_serialNumber(r, s);
		X509_gmtime_adj(t, -60);
		X509_REVOKED_set_revocationDate(r, t);
		X509_CRL_add0_revoked(crl, r);
		ASN1_INTEGER_free(s);
	}
	{
		ASN1_INTEGER *num = ASN1_INTEGER_new();
		ASN1_INTEGER_set(num, 42);
		if (ext_nid != NID_crl_number)
			X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0);
		else if (crit)      /* ext_nid = NID_crl_number: critical one */
			X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 1, 0);
		/* NID_crl_number, not critical: leave it out */
		ASN1_INTEGER_free(num);
	}
	if (ext_nid && ext_nid != NID_crl_number) {
		ASN1_INTEGER *v = ASN1_INTEGER_new();
		ASN1_INTEGER_set(v, 7);
		if (ext_nid == NID_delta_crl)
			X509_CRL_add1_ext_i2d(crl, NID_delta_crl, v, 1, 0);
		else {
			ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
			ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1);
			X509_EXTENSION *ex;
			ASN1_OCTET_STRING_set(os, (const unsigned char *)"\x05\x00", 2);
			ex = X509_EXTENSION_create_by_OBJ(NULL, obj, crit, os);
			X509_CRL_add_ext(crl, ex, -1);
			X509_EXTENSION_free(ex);
			ASN1_OBJECT_free(obj);
			ASN1_OCTET_STRING_free(os);
		}
		ASN1_INTEGER_free(v);
	}
	X509_CRL_sort(crl);
	X509_CRL_sign(crl, signer, EVP_PKEY_get_base_id(signer) ==
	    EVP_PKEY_ED25519 ? NULL : EVP_sha256());
	X509_NAME_free(name);
	ASN1_TIME_free(t);
	return crl;
}

static unsigned char *der_of(X509_CRL *crl, size_t *len)
{
	unsigned char *der = NULL;
	int n = i2d_X509_CRL(crl, &der);
	assert_true(n > 0);
	*len = (size_t)n;
	return der;
}

static int listed(struct ds_crl_data *d, const char *hex)
{
	ASN1_INTEGER *ai = serial_hex(hex);
	unsigned char oct[256];
	size_t n;
	int rc;
	assert_int_equal(ds_crl_serial_octets(ai, oct, sizeof oct, &n), 0);
	rc = ds_crl_data_lookup(d, oct, n);
	ASN1_INTEGER_free(ai);
	return rc;
}

static const char *const serials[] = {
	"1", "7F", "80", "FF", "100", "1A2B3C", "00DEADBEEF",
	"8000000000000000000000000000000000000001",      /* 20 octets, high bit */
	"0123456789ABCDEF0123456789ABCDEF01234567",
};

static void test_parse_and_lookup(void **state)
{
	X509_CRL *crl = make_crl(serials, 9, 0, 0, ca_key);
	size_t len;
	unsigned char *der = der_of(crl, &len);
	char err[256] = "";
	struct ds_crl_data *d = ds_crl_data_parse_der(der, len, err, sizeof err);

	(void)state;
	assert_non_null(d);
	assert_int_equal(d->n_entries, 9);
	assert_non_null(strstr(d->issuer_text, "CN=Index Test CA"));
	assert_true(d->this_update > 0 && d->next_update > d->this_update);
	for (size_t i = 0; i < 9; i++)
		assert_true(listed(d, serials[i]));
	assert_false(listed(d, "2"));
	assert_false(listed(d, "7E"));
	assert_false(listed(d, "1A2B3D"));
	assert_false(listed(d, "DEADBEEF00"));
	assert_false(listed(d, "8000000000000000000000000000000000000002"));
	/* the same CRL, the same digest */
	{
		unsigned char md[32];
		EVP_Digest(der, len, md, NULL, EVP_sha256(), NULL);
		assert_memory_equal(md, d->sha256, 32);
	}
	assert_true(ds_crl_data_memory(d) < 4096);
	ds_crl_data_unref(d);
	OPENSSL_free(der);
	X509_CRL_free(crl);
}

static void test_empty_crl(void **state)
{
	X509_CRL *crl = make_crl(NULL, 0, 0, 0, ca_key);
	size_t len;
	unsigned char *der = der_of(crl, &len);
	char err[256] = "";
	struct ds_crl_data *d = ds_crl_data_parse_der(der, len, err, sizeof err);

	(void)state;
	assert_non_null(d);
	assert_int_equal(d->n_entries, 0);
	assert_false(listed(d, "1"));
	ds_crl_data_unref(d);
	OPENSSL_free(der);
	X509_CRL_free(crl);
}

static void test_signature(void **state)
{
	X509_CRL *crl = make_crl(serials, 3, 0, 0, ca_key);
	size_t len;
	unsigned char *der = der_of(crl, &len);

	(void)state;
	assert_int_equal(ds_crl_der_verify(der, len, ca_key), 1);
	assert_int_equal(ds_crl_der_verify(der, len, other_key), 0);
	/* a changed TBS octet breaks the signature */
	der[len / 3] ^= 0x01;
	assert_true(ds_crl_der_verify(der, len, ca_key) != 1);
	assert_int_equal(ds_crl_der_verify((const unsigned char *)"junk", 4,
	    ca_key), -1);
	OPENSSL_free(der);
	X509_CRL_free(crl);
}

/* OpenSSL's allocations, watched (installed first thing in main): the
 * largest single request since the last reset. */
static size_t largest_alloc;

static void *watch_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	if (n > largest_alloc)
		largest_alloc = n;
	return malloc(n);
}

static void *watch_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	if (n > largest_alloc)
		largest_alloc = n;
	return realloc(p, n);
}

static void watch_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

/* The signature is checked over the TBS bytes in place: no allocation of
 * the size of the CRL (the old check copied the signed part into an
 * ASN1_STRING).  Also RSA and Ed25519 signatures, and a key of another
 * type than the signature algorithm's is refused. */
static void test_signature_in_place(void **state)
{
	enum { N = 20000 };
	char **ser = calloc(N, sizeof *ser);
	EVP_PKEY *rsa = EVP_RSA_gen(2048), *ed = EVP_PKEY_Q_keygen(NULL, NULL,
	    "ED25519");
	X509_CRL *crl;
	unsigned char *der;
	size_t len;

	(void)state;
	assert_non_null(ser);
	assert_non_null(rsa);
	assert_non_null(ed);
	for (int i = 0; i < N; i++) {
		ser[i] = malloc(24);
		snprintf(ser[i], 24, "%X", 0x10000 + i * 7);
	}
	crl = make_crl((const char *const *)ser, N, 0, 0, ca_key);
	der = der_of(crl, &len);
	assert_true(len > 300000);
	largest_alloc = 0;
	assert_int_equal(ds_crl_der_verify(der, len, ca_key), 1);
	if (largest_alloc > len / 4)
		fail_msg("verify allocated %zu bytes at once for %zu bytes",
		    largest_alloc, len);
	OPENSSL_free(der);
	X509_CRL_free(crl);

	crl = make_crl(serials, 3, 0, 0, rsa);
	der = der_of(crl, &len);
	assert_int_equal(ds_crl_der_verify(der, len, rsa), 1);
	assert_int_equal(ds_crl_der_verify(der, len, ca_key), 0); /* EC key */
	OPENSSL_free(der);
	X509_CRL_free(crl);

	crl = make_crl(serials, 3, 0, 0, ed);
	der = der_of(crl, &len);
	assert_int_equal(ds_crl_der_verify(der, len, ed), 1);
	assert_int_equal(ds_crl_der_verify(der, len, ca_key), 0);
	der[len - 5] ^= 0x01;                   /* in the signature */
	assert_int_equal(ds_crl_der_verify(der, len, ed), 0);
	OPENSSL_free(der);
	X509_CRL_free(crl);

	for (int i = 0; i < N; i++)
		free(ser[i]);
	free(ser);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ed);
}

static int count_cb(const unsigned char *der, size_t len, void *arg)
{
	char err[128];
	struct ds_crl_data *d = ds_crl_data_parse_der(der, len, err, sizeof err);
	if (d == NULL)
		return -1;
	ds_crl_data_unref(d);
	(*(int *)arg)++;
	return 0;
}

static void test_pem_and_der_input(void **state)
{
	X509_CRL *a = make_crl(serials, 2, 0, 0, ca_key);
	X509_CRL *b = make_crl(serials, 5, 0, 0, ca_key);
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem, err[256] = "";
	long pemlen;
	int n = 0;
	size_t len;
	unsigned char *der = der_of(a, &len);

	(void)state;
	BIO_puts(bio, "some text before\n");
	PEM_write_bio_X509_CRL(bio, a);
	PEM_write_bio_X509_CRL(bio, b);
	pemlen = BIO_get_mem_data(bio, &pem);
	/* leading text is allowed by PEM but our sniffing wants "-----BEGIN" */
	assert_int_equal(ds_crl_split_der_or_pem((unsigned char *)pem +
	    strlen("some text before\n"), (size_t)pemlen - strlen("some text before\n"),
	    count_cb, &n, err, sizeof err), 2);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(ds_crl_split_der_or_pem(der, len, count_cb, &n, err,
	    sizeof err), 1);
	assert_int_equal(n, 1);
	/* PEM without a CRL block */
	assert_int_equal(ds_crl_split_der_or_pem((const unsigned char *)
	    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 58,
	    count_cb, &n, err, sizeof err), -1);
	assert_non_null(strstr(err, "not a CRL"));
	assert_int_equal(ds_crl_split_der_or_pem((const unsigned char *)"", 0,
	    count_cb, &n, err, sizeof err), -1);
	BIO_free(bio);
	OPENSSL_free(der);
	X509_CRL_free(a);
	X509_CRL_free(b);
}

static void test_garbage_never_crashes(void **state)
{
	X509_CRL *crl = make_crl(serials, 9, 0, 0, ca_key);
	size_t len;
	unsigned char *der = der_of(crl, &len), buf[4096];
	char err[256];
	struct ds_crl_data *d;

	(void)state;
	RAND_bytes(buf, sizeof buf);
	buf[0] = 0x42;            /* surely not a SEQUENCE */
	err[0] = '\0';
	assert_null(ds_crl_data_parse_der(buf, sizeof buf, err, sizeof err));
	assert_string_equal(err, "not a CRL (garbage)");
	/* every truncation */
	for (size_t cut = 0; cut < len; cut++) {
		d = ds_crl_data_parse_der(der, cut, err, sizeof err);
		assert_null(d);
	}
	/* every single-bit flip of the first 300 octets: may parse (the
	 * signature check catches it) but must never crash */
	for (size_t i = 0; i < len && i < 300; i++) {
		for (int bit = 0; bit < 8; bit++) {
			der[i] ^= (unsigned char)(1 << bit);
			d = ds_crl_data_parse_der(der, len, err, sizeof err);
			if (d) {
				(void)ds_crl_data_lookup(d, (const unsigned char *)"\x01", 1);
				ds_crl_data_unref(d);
			}
			(void)ds_crl_der_verify(der, len, ca_key);
			der[i] ^= (unsigned char)(1 << bit);
		}
	}
	OPENSSL_free(der);
	X509_CRL_free(crl);
}

/* ---- DER surgery for malformed-structure tests ---- */

/* Length of the DER element at p (header + content). */
static size_t der_elem_len(const unsigned char *p, size_t *hdr)
{
	size_t len = p[1], h = 2;
	if (len & 0x80) {
		size_t nb = len & 0x7f;
		len = 0;
		for (size_t i = 0; i < nb; i++)
			len = (len << 8) | p[2 + i];
		h += nb;
	}
	*hdr = h;
	return h + len;
}

/* Writes a SEQUENCE header for len content octets; returns its size. */
static size_t seq_header(unsigned char *out, size_t len)
{
	out[0] = 0x30;
	out[1] = 0x83;
	out[2] = (unsigned char)(len >> 16);
	out[3] = (unsigned char)(len >> 8);
	out[4] = (unsigned char)len;
	return 5;
}

/*
 * Rebuilds the CRL der with the TBS field number `field` (0 = first)
 * written twice, or, when swap_with >= 0, with fields `field` and
 * `swap_with` exchanged.  Returns a malloc'ed DER (signature now wrong,
 * which the parser does not look at).
 */
static unsigned char *mangle_tbs(const unsigned char *der, size_t *len,
    int field, int swap_with)
{
	const unsigned char *el[16];
	size_t el_len[16], n = 0, hdr, pos, tbs_len, rest_len, outer_hdr;
	unsigned char *out = malloc(*len * 2 + 32), *tbs = malloc(*len * 2);
	const unsigned char *outer, *tbs_in, *rest;

	assert_non_null(out);
	assert_non_null(tbs);
	der_elem_len(der, &outer_hdr);
	outer = der + outer_hdr;
	tbs_len = der_elem_len(outer, &hdr);
	tbs_in = outer + hdr;
	rest = outer + tbs_len;
	rest_len = (size_t)(der + *len - rest);
	for (pos = 0; pos < tbs_len - hdr && n < 16; n++) {
		el[n] = tbs_in + pos;
		el_len[n] = der_elem_len(el[n], &(size_t){0});
		pos += el_len[n];
	}
	pos = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k = i;
		if (swap_with >= 0 && (int)i == field)
			k = (size_t)swap_with;
		else if (swap_with >= 0 && (int)i == swap_with)
			k = (size_t)field;
		memcpy(tbs + pos, el[k], el_len[k]);
		pos += el_len[k];
		if (swap_with < 0 && (int)i == field) {
			memcpy(tbs + pos, el[k], el_len[k]);
			pos += el_len[k];
		}
	}
	tbs_len = pos;
	pos = seq_header(out, 5 + tbs_len + rest_len);
	pos += seq_header(out + pos, tbs_len);
	memcpy(out + pos, tbs, tbs_len);
	pos += tbs_len;
	memcpy(out + pos, rest, rest_len);
	pos += rest_len;
	free(tbs);
	*len = pos;
	return out;
}

/* Found by tests/fuzz/fuzz_crl_index: a second revokedCertificates list
 * replaced the first one's index and leaked it; repeated or reordered
 * optional fields are now refused.  TBS fields of make_crl's CRLs:
 * 0 version, 1 signature, 2 issuer, 3 thisUpdate, 4 nextUpdate,
 * 5 revokedCertificates, 6 crlExtensions. */
static void test_repeated_fields_refused(void **state)
{
	static const struct { int field, swap_with; } cases[] = {
		{ 5, -1 },      /* revoked list twice */
		{ 4, -1 },      /* nextUpdate twice */
		{ 6, -1 },      /* extensions twice */
		{ 5, 6 },       /* extensions before the revoked list */
		{ 4, 5 },       /* revoked list before nextUpdate */
	};
	X509_CRL *crl = make_crl(serials, 9, 0, 0, ca_key);
	size_t len;
	unsigned char *der = der_of(crl, &len);
	char err[256];
	struct ds_crl_data *d;

	(void)state;
	/* the untouched rebuild still parses (the surgery itself is sound) */
	{
		size_t l = len;
		unsigned char *same = mangle_tbs(der, &l, 0, 0);
		d = ds_crl_data_parse_der(same, l, err, sizeof err);
		assert_non_null(d);
		assert_int_equal(d->n_entries, 9);
		ds_crl_data_unref(d);
		free(same);
	}
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t l = len;
		unsigned char *bad = mangle_tbs(der, &l, cases[i].field,
		    cases[i].swap_with);
		err[0] = '\0';
		d = ds_crl_data_parse_der(bad, l, err, sizeof err);
		if (d != NULL)
			fail_msg("case %zu (field %d, swap %d) was accepted", i,
			    cases[i].field, cases[i].swap_with);
		assert_non_null(strstr(err, "repeated or out of order"));
		free(bad);
	}
	OPENSSL_free(der);
	X509_CRL_free(crl);
}

static void test_refused_extensions(void **state)
{
	char err[256] = "";
	size_t len;
	unsigned char *der;
	X509_CRL *crl;

	(void)state;
	/* a delta CRL is decoded as one (BaseCRLNumber 7), never taken for
	 * a complete CRL */
	crl = make_crl(serials, 2, NID_delta_crl, 1, ca_key);
	der = der_of(crl, &len);
	{
		struct ds_crl_data *dl = ds_crl_data_parse_der(der, len, err,
		    sizeof err);
		if (dl == NULL)
			fail_msg("delta CRL refused: %s", err);
		assert_int_equal(dl->is_delta, 1);
		assert_int_equal(dl->base_crl_number_len, 1);
		assert_int_equal(dl->base_crl_number[0], 7);
		ds_crl_data_unref(dl);
	}
	OPENSSL_free(der);
	X509_CRL_free(crl);

	crl = make_crl(serials, 2, 1, 1, ca_key);      /* unknown, critical */
	der = der_of(crl, &len);
	assert_null(ds_crl_data_parse_der(der, len, err, sizeof err));
	assert_non_null(strstr(err, "critical"));
	OPENSSL_free(der);
	X509_CRL_free(crl);

	crl = make_crl(serials, 2, NID_crl_number, 1, ca_key); /* critical */
	der = der_of(crl, &len);
	assert_null(ds_crl_data_parse_der(der, len, err, sizeof err));
	assert_non_null(strstr(err, "CRLNumber extension marked critical"));
	OPENSSL_free(der);
	X509_CRL_free(crl);

	/* a v2 CRL without CRLNumber: accepted (RFC 5280 6.3.3 does not
	 * need it), flagged so that the checker warns */
	crl = make_crl(serials, 2, NID_crl_number, 0, ca_key); /* missing */
	der = der_of(crl, &len);
	{
		struct ds_crl_data *nn = ds_crl_data_parse_der(der, len, err,
		    sizeof err);
		if (nn == NULL)
			fail_msg("v2 CRL without CRLNumber refused: %s", err);
		assert_int_equal(nn->has_crl_number, 0);
		assert_int_equal(nn->n_entries, 2);
		ds_crl_data_unref(nn);
	}
	OPENSSL_free(der);
	X509_CRL_free(crl);

	crl = make_crl(serials, 2, 1, 0, ca_key);      /* unknown, not critical */
	der = der_of(crl, &len);
	struct ds_crl_data *d = ds_crl_data_parse_der(der, len, err, sizeof err);
	assert_non_null(d);
	ds_crl_data_unref(d);
	OPENSSL_free(der);
	X509_CRL_free(crl);
}

/* removeFromCRL entries are not revoked; CRLNumber and the IDP full name
 * are kept; ds_crl_newer orders by CRLNumber, else thisUpdate. */
static void test_remove_from_crl_number_and_idp(void **state)
{
	char err[256] = "";
	size_t len;
	unsigned char *der;
	(void)state;

	X509_CRL *crl = make_crl(serials, 2, 0, 0, ca_key);
	/* mark the first entry removeFromCRL, add an IDP full name */
	X509_REVOKED *r = sk_X509_REVOKED_value(X509_CRL_get_REVOKED(crl), 0);
	ASN1_ENUMERATED *reason = ASN1_ENUMERATED_new();
	ASN1_ENUMERATED_set(reason, 8);
	assert_int_equal(X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, reason, 0,
	    0), 1);
	ASN1_ENUMERATED_free(reason);
	ISSUING_DIST_POINT *idp = ISSUING_DIST_POINT_new();
	idp->distpoint = DIST_POINT_NAME_new();
	idp->distpoint->type = 0;
	idp->distpoint->name.fullname = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *uri = ASN1_IA5STRING_new();
	ASN1_STRING_set(uri, "http://crl.example/shard7.crl", -1);
	GENERAL_NAME_set0_value(gn, GEN_URI, uri);
	sk_GENERAL_NAME_push(idp->distpoint->name.fullname, gn);
	assert_int_equal(X509_CRL_add1_ext_i2d(crl,
	    NID_issuing_distribution_point, idp, 1, 0), 1);
	ISSUING_DIST_POINT_free(idp);
	X509_CRL_sign(crl, ca_key, EVP_sha256());
	der = der_of(crl, &len);
	struct ds_crl_data *d = ds_crl_data_parse_der(der, len, err, sizeof err);
	if (d == NULL)
		fail_msg("refused: %s", err);
	assert_int_equal(d->n_entries, 1);
	assert_int_equal(d->n_removed, 1);
	unsigned char ser[64];
	size_t sl;
	const STACK_OF(X509_REVOKED) *rk = X509_CRL_get_REVOKED(crl);
	for (int i = 0; i < sk_X509_REVOKED_num(rk); i++) {
		const X509_REVOKED *e = sk_X509_REVOKED_value(rk, i);
		assert_int_equal(ds_crl_serial_octets(
		    X509_REVOKED_get0_serialNumber(e), ser, sizeof ser, &sl), 0);
		int removed = X509_REVOKED_get_ext_by_NID(e, NID_crl_reason, -1) >= 0;
		assert_int_equal(ds_crl_data_lookup(d, ser, sl), removed ? 0 : 1);
	}
	assert_int_equal(d->has_crl_number, 1);
	assert_int_equal(d->crl_number_len, 1);
	assert_int_equal(d->crl_number[0], 42);
	assert_int_equal(d->idp_full_name, 1);
	assert_int_equal(d->n_idp_uris, 1);
	assert_string_equal(d->idp_uris[0], "http://crl.example/shard7.crl");
	char why[256];
	assert_int_equal(ds_crl_scope_ok(d, "http://crl.example/shard7.crl",
	    NULL, why, sizeof why), 1);
	assert_int_equal(ds_crl_scope_ok(d, "http://crl.example/shard8.crl",
	    NULL, why, sizeof why), 0);
	assert_non_null(strstr(why, "CRL scope mismatch"));
	assert_int_equal(ds_crl_scope_ok(d, NULL, NULL, why, sizeof why), 0);

	struct ds_crl_data other = *d;
	other.crl_number[0] = 43;
	other.this_update = d->this_update - 100;   /* older, higher number */
	assert_int_equal(ds_crl_newer(&other, d), 1);
	assert_int_equal(ds_crl_newer(d, &other), -1);
	other.has_crl_number = 0;                   /* then by thisUpdate */
	assert_int_equal(ds_crl_newer(&other, d), -1);
	ds_crl_data_unref(d);
	OPENSSL_free(der);
	X509_CRL_free(crl);
}

/* Our index and OpenSSL agree on 2000 listed and 2000 random serials. */
static void test_agrees_with_openssl(void **state)
{
	enum { N = 2000 };
	char **hex = calloc(N, sizeof *hex);
	X509_CRL *crl, *ossl;
	size_t len;
	unsigned char *der;
	const unsigned char *p;
	char err[256];
	struct ds_crl_data *d;

	(void)state;
	for (int i = 0; i < N; i++) {
		unsigned char r[16];
		BIGNUM *bn;
		RAND_bytes(r, sizeof r);
		bn = BN_bin2bn(r, 1 + (int)(r[0] % 16), NULL);
		hex[i] = BN_bn2hex(bn);
		BN_free(bn);
	}
	crl = make_crl((const char *const *)hex, N, 0, 0, ca_key);
	der = der_of(crl, &len);
	d = ds_crl_data_parse_der(der, len, err, sizeof err);
	assert_non_null(d);
	p = der;
	ossl = d2i_X509_CRL(NULL, &p, (long)len);
	assert_non_null(ossl);
	for (int i = 0; i < 2 * N; i++) {
		ASN1_INTEGER *ai;
		X509_REVOKED *rev = NULL;
		unsigned char oct[64];
		size_t n;
		if (i < N) {
			ai = serial_hex(hex[i]);
		} else {
			unsigned char r[9];
			BIGNUM *bn;
			RAND_bytes(r, sizeof r);
			bn = BN_bin2bn(r, 1 + (int)(r[0] % 9), NULL);
			ai = BN_to_ASN1_INTEGER(bn, NULL);
			BN_free(bn);
		}
		assert_int_equal(ds_crl_serial_octets(ai, oct, sizeof oct, &n), 0);
		assert_int_equal(ds_crl_data_lookup(d, oct, n),
		    X509_CRL_get0_by_serial(ossl, &rev, ai) == 1);
		ASN1_INTEGER_free(ai);
	}
	for (int i = 0; i < N; i++)
		OPENSSL_free(hex[i]);
	free(hex);
	ds_crl_data_unref(d);
	X509_CRL_free(ossl);
	OPENSSL_free(der);
	X509_CRL_free(crl);
}

/* ---- the serial index itself (crl_serials.c) ---- */

/* A serial of len octets derived from seed (first octet never 0). */
static void fake_serial(unsigned char *out, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		out[i] = (unsigned char)(seed >> 16);
	}
	out[0] |= 1;
}

/* Forced collisions: one bucket (and two, and none) for everything, so
 * every serial shares its bucket with others, and is looked up with
 * serials of the same length that differ in one octet, and with its
 * prefix and extension; serials too long for a bucket and those that find
 * no room go to the spill area.  Only exact matches count; a serial added
 * twice takes bucket room once. */
static void test_serials_forced_collisions(void **state)
{
	static const size_t buckets[] = { 1, 2, 0 };
	(void)state;
	for (size_t b = 0; b < sizeof buckets / sizeof *buckets; b++) {
		struct ds_crl_serials x;
		unsigned char s[256], t[256];
		assert_int_equal(ds_crl_serials_init(&x, buckets[b],
		    64 * 1024), 0);
		for (size_t len = 1; len <= 255; len += 3) {
			fake_serial(s, len, (uint32_t)len);
			assert_int_equal(ds_crl_serials_add(&x, s, len), 0);
			assert_int_equal(ds_crl_serials_add(&x, s, len), 0);
		}
		if (buckets[b] == 1) {
			/* lengths 1, 4, ..., 16 fill the one bucket's 63 octets
			 * (57 of them: each serial once though added twice);
			 * the other 79 serials spill, twice each */
			assert_int_equal(x.buckets[0] & 0x3f, 57);
			assert_int_equal(x.n_spilled, 2 * 79);
		}
		assert_int_equal(ds_crl_serials_finish(&x), 0);
		for (size_t len = 1; len <= 255; len += 3) {
			fake_serial(s, len, (uint32_t)len);
			assert_true(ds_crl_serials_has(&x, s, len));
			memcpy(t, s, len);
			t[len - 1] ^= 0x01;      /* same length, last octet */
			assert_false(ds_crl_serials_has(&x, t, len));
			memcpy(t, s, len);
			t[0] ^= 0x80;            /* same length, first octet */
			assert_false(ds_crl_serials_has(&x, t, len));
			if (len > 1)             /* a prefix */
				assert_false(ds_crl_serials_has(&x, s,
				    len - 1));
			if (len < 255) {         /* an extension */
				memcpy(t, s, len);
				t[len] = 0;
				assert_false(ds_crl_serials_has(&x, t,
				    len + 1));
			}
		}
		assert_false(ds_crl_serials_has(&x, s, 0));
		ds_crl_serials_free(&x);
	}
}

/* Many serials of mixed lengths through the normal sizing: every one
 * found, none of 20000 others (checked against a sorted reference). */
struct ref_serial {
	unsigned char len;
	unsigned char oct[80];
};

static int ref_cmp(const void *a, const void *b)
{
	const struct ref_serial *x = a, *y = b;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->oct, y->oct, x->len);
}

static void test_serials_many(void **state)
{
	enum { N = 20000 };
	struct ref_serial *ref = calloc(N, sizeof *ref);
	struct ds_crl_serials x;
	size_t bytes = 0;

	(void)state;
	for (uint32_t i = 0; i < N; i++) {
		/* mostly 8..20 octets, as CAs issue; some 1..3 and 63..80 */
		size_t len = i % 50 == 0 ? 63 + i % 18 : i % 7 == 0 ?
		    1 + i % 3 : 8 + i % 13;
		ref[i].len = (unsigned char)len;
		fake_serial(ref[i].oct, len, i);
		bytes += 1 + len;
	}
	assert_int_equal(ds_crl_serials_init(&x,
	    ds_crl_serials_buckets_for(N, bytes), bytes), 0);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(ds_crl_serials_add(&x, ref[i].oct, ref[i].len), 0);
	assert_int_equal(ds_crl_serials_finish(&x), 0);
	qsort(ref, N, sizeof *ref, ref_cmp);
	for (size_t i = 0; i < N; i++)
		assert_true(ds_crl_serials_has(&x, ref[i].oct, ref[i].len));
	for (uint32_t i = 0; i < N; i++) {
		struct ref_serial q;
		q.len = (unsigned char)(1 + i % 80);
		fake_serial(q.oct, q.len, i + 7 * N);
		assert_int_equal(ds_crl_serials_has(&x, q.oct, q.len),
		    bsearch(&q, ref, N, sizeof *ref, ref_cmp) != NULL);
	}
	assert_true(ds_crl_serials_memory(&x) < 64 * (size_t)N);
	ds_crl_serials_free(&x);
	free(ref);
}

static void test_ldap_extract(void **state)
{
	X509_CRL *crl = make_crl(serials, 2, 0, 0, ca_key);
	size_t len, outlen;
	unsigned char *der = der_of(crl, &len), *out;
	unsigned char body[8192];
	size_t blen;
	char b64[8192];

	(void)state;
	/* raw value */
	blen = (size_t)snprintf((char *)body, sizeof body,
	    "DN: CN=Index Test CA,CN=CDP,DC=example\n\tcertificateRevocationList: ");
	memcpy(body + blen, der, len);
	blen += len;
	body[blen++] = '\n';
	assert_int_equal(ds_crl_ldap_extract(body, blen, &out, &outlen), 0);
	assert_int_equal(outlen, len);
	assert_memory_equal(out, der, len);
	free(out);
	/* ;binary attribute, base64 */
	EVP_EncodeBlock((unsigned char *)b64, der, (int)len);
	blen = (size_t)snprintf((char *)body, sizeof body,
	    "DN: CN=x\n\tcertificateRevocationList;binary: %s\n\n", b64);
	assert_int_equal(ds_crl_ldap_extract(body, blen, &out, &outlen), 0);
	assert_int_equal(outlen, len);
	assert_memory_equal(out, der, len);
	free(out);
	/* no such attribute, truncated value */
	assert_int_equal(ds_crl_ldap_extract((const unsigned char *)
	    "DN: CN=x\n\tcn: x\n", 16, &out, &outlen), -1);
	blen = (size_t)snprintf((char *)body, sizeof body,
	    "DN: x\n\tcertificateRevocationList: ");
	memcpy(body + blen, der, len / 2);
	assert_int_equal(ds_crl_ldap_extract(body, blen + len / 2, &out,
	    &outlen), -1);
	OPENSSL_free(der);
	X509_CRL_free(crl);
}

static void test_url_allow_list(void **state)
{
	(void)state;
	assert_true(ds_crl_url_allowed("http://x/a.crl"));
	assert_true(ds_crl_url_allowed("HTTPS://x/a.crl"));
	assert_true(ds_crl_url_allowed("ldap://x/cn=a"));
	assert_true(ds_crl_url_allowed("ldaps://x/cn=a"));
	assert_false(ds_crl_url_allowed("file:///etc/passwd"));
	assert_false(ds_crl_url_allowed("gopher://x/"));
	assert_false(ds_crl_url_allowed("ftp://x/a.crl"));
	assert_false(ds_crl_url_allowed("httpx://x/"));
	assert_false(ds_crl_url_allowed(""));
}

int main(void)
{
	/* before OpenSSL allocates anything */
	CRYPTO_set_mem_functions(watch_malloc, watch_realloc, watch_free);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_lookup),
		cmocka_unit_test(test_empty_crl),
		cmocka_unit_test(test_signature),
		cmocka_unit_test(test_signature_in_place),
		cmocka_unit_test(test_pem_and_der_input),
		cmocka_unit_test(test_garbage_never_crashes),
		cmocka_unit_test(test_refused_extensions),
		cmocka_unit_test(test_remove_from_crl_number_and_idp),
		cmocka_unit_test(test_repeated_fields_refused),
		cmocka_unit_test(test_agrees_with_openssl),
		cmocka_unit_test(test_serials_forced_collisions),
		cmocka_unit_test(test_serials_many),
		cmocka_unit_test(test_ldap_extract),
		cmocka_unit_test(test_url_allow_list),
	};
	return cmocka_run_group_tests_name("crl_index", tests, setup, teardown);
}
