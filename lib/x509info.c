/*
 * x509info.c - reading certificates: PEM loading, fingerprints, serial
 * numbers, names and alternate names in the forms the whitepaper's protocol
 * log shows them, and the time formats domsec prints and accepts.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include "domsec/hex.h"
#include "domsec/x509info.h"

/* Copies a name into out as one line: "CN=..., O=..., C=...", UTF-8 kept,
 * control characters escaped, truncated to fit. */
static void name_oneline(const X509_NAME *name, char *out, size_t outlen)
{
	out[0] = '\0';
	if (name == NULL)
		return;
	BIO *b = BIO_new(BIO_s_mem());
	if (b == NULL)
		return;
	unsigned long flags = XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_DN_REV |
	    XN_FLAG_FN_SN | XN_FLAG_DUMP_UNKNOWN_FIELDS | ASN1_STRFLGS_ESC_2253 |
	    ASN1_STRFLGS_ESC_CTRL | ASN1_STRFLGS_UTF8_CONVERT |
	    ASN1_STRFLGS_DUMP_UNKNOWN | ASN1_STRFLGS_DUMP_DER;
	if (X509_NAME_print_ex(b, name, 0, flags) >= 0) {
		char *data = NULL;
		long len = BIO_get_mem_data(b, &data);
		if (len > 0) {
			size_t n = (size_t)len < outlen - 1 ? (size_t)len : outlen - 1;
			memcpy(out, data, n);
			out[n] = '\0';
		}
	}
	BIO_free(b);
}

/* Appends an IA5 name to a ';'-joined list, replacing anything that is not
 * printable ASCII by '?' so that a log line can never be forged. */
static void append_name(char *out, size_t outlen, const unsigned char *s,
    int len)
{
	size_t o = strlen(out);
	if (o > 0) {
		if (o + 1 >= outlen)
			return;
		out[o++] = ';';
	}
	for (int i = 0; i < len && o + 1 < outlen; i++)
		out[o++] = (s[i] > 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
	out[o] = '\0';
}

int ds_cert_fingerprint(X509 *cert, unsigned char out[DS_FP_SHA256_LEN])
{
	unsigned int n = 0;
	if (cert == NULL || !X509_digest(cert, EVP_sha256(), out, &n) ||
	    n != DS_FP_SHA256_LEN)
		return -1;
	return 0;
}

void ds_fingerprint_format(const unsigned char fp[DS_FP_SHA256_LEN],
    char out[DS_FP_TEXT_LEN])
{
	ds_hex_encode(fp, DS_FP_SHA256_LEN, out, 1, ':');
}

int ds_fingerprint_parse(const char *text, unsigned char out[DS_FP_SHA256_LEN])
{
	size_t n = 0;
	int high = -1;
	if (text == NULL)
		return -1;
	for (const char *p = text; *p; p++) {
		if (*p == ':') {
			if (high >= 0)
				return -1;   /* separator inside a byte */
			continue;
		}
		int v = ds_hex_value((unsigned char)*p);
		if (v < 0)
			return -1;
		if (high < 0) {
			high = v;
		} else {
			if (n == DS_FP_SHA256_LEN)
				return -1;
			out[n++] = (unsigned char)(high << 4 | v);
			high = -1;
		}
	}
	return (n == DS_FP_SHA256_LEN && high < 0) ? 0 : -1;
}

static void serial_text(X509 *cert, char *out, size_t outlen)
{
	out[0] = '\0';
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	if (bn == NULL)
		return;
	char *hex = BN_bn2hex(bn);
	if (hex != NULL) {
		snprintf(out, outlen, "%s", hex);
		OPENSSL_free(hex);
	}
	BN_free(bn);
}

static void alt_names_text(X509 *cert, char *out, size_t outlen)
{
	out[0] = '\0';
	GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name,
	    NULL, NULL);
	if (gens == NULL)
		return;
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_DNS)
			continue;
		append_name(out, outlen, ASN1_STRING_get0_data(g->d.dNSName),
		    ASN1_STRING_length(g->d.dNSName));
	}
	GENERAL_NAMES_free(gens);
}

int ds_cert_info_get(X509 *cert, struct ds_cert_info *info)
{
	memset(info, 0, sizeof *info);
	if (cert == NULL)
		return -1;
	name_oneline(X509_get_subject_name(cert), info->subject,
	    sizeof info->subject);
	name_oneline(X509_get_issuer_name(cert), info->issuer,
	    sizeof info->issuer);
	serial_text(cert, info->serial, sizeof info->serial);

	unsigned char sha1[20];
	unsigned int n = 0;
	if (!X509_digest(cert, EVP_sha1(), sha1, &n) || n != sizeof sha1)
		return -1;
	ds_hex_encode(sha1, sizeof sha1, info->thumbprint, 1, '\0');

	unsigned char fp[DS_FP_SHA256_LEN];
	if (ds_cert_fingerprint(cert, fp) != 0)
		return -1;
	ds_fingerprint_format(fp, info->fingerprint);

	alt_names_text(cert, info->alt_names, sizeof info->alt_names);
	if (ds_asn1_time_to_time_t(X509_get0_notBefore(cert),
	    &info->not_before) != 0 ||
	    ds_asn1_time_to_time_t(X509_get0_notAfter(cert),
	    &info->not_after) != 0)
		return -1;
	return 0;
}

/* The reason OpenSSL gave for the last failure, or what. */
static const char *openssl_reason(const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	return r ? r : what;
}

STACK_OF(X509) *ds_load_pem_certs(const char *path, char *err, size_t errlen)
{
	BIO *b = BIO_new_file(path, "rb");
	if (b == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno ? errno : ENOENT));
		ERR_clear_error();
		return NULL;
	}
	STACK_OF(X509) *certs = sk_X509_new_null();
	if (certs == NULL) {
		BIO_free(b);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	ERR_clear_error();
	for (;;) {
		X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		if (x == NULL)
			break;
		if (!sk_X509_push(certs, x)) {
			X509_free(x);
			snprintf(err, errlen, "%s: out of memory", path);
			goto fail;
		}
	}
	/* The loop ends at end of file (no more PEM "BEGIN" line) or on a
	 * damaged certificate, which is an error. */
	unsigned long e = ERR_peek_last_error();
	if (e != 0 && !(ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
		snprintf(err, errlen, "%s: certificate %d is malformed (%s)",
		    path, sk_X509_num(certs) + 1, openssl_reason("bad PEM"));
		goto fail;
	}
	if (sk_X509_num(certs) == 0) {
		/* Not PEM: accept a single DER certificate too. */
		ERR_clear_error();
		(void)BIO_reset(b);
		X509 *x = d2i_X509_bio(b, NULL);
		if (x != NULL && sk_X509_push(certs, x))
			goto done;
		X509_free(x);
		snprintf(err, errlen, "%s: no certificate found (expected PEM "
		    "\"BEGIN CERTIFICATE\" blocks)", path);
		goto fail;
	}
done:
	ERR_clear_error();
	BIO_free(b);
	return certs;
fail:
	ERR_clear_error();
	BIO_free(b);
	sk_X509_pop_free(certs, X509_free);
	return NULL;
}

int ds_asn1_time_to_time_t(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return -1;
	*out = timegm(&tm);
	return 0;
}

void ds_time_format(time_t t, char *out, size_t outlen)
{
	struct tm tm;
	if (outlen == 0)
		return;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, outlen, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		snprintf(out, outlen, "@%lld", (long long)t);
}

static int days_in_month(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return month == 2 && leap ? 29 : days[month - 1];
}

/* 1 when s starts with pattern, where '9' stands for any digit. */
static int shape_matches(const char *s, const char *pattern)
{
	for (; *pattern; pattern++, s++) {
		if (*pattern == '9' ? !isdigit((unsigned char)*s) : *s != *pattern)
			return 0;
	}
	return 1;
}

int ds_time_parse(const char *s, time_t *out)
{
	if (s == NULL || *s == '\0')
		return -1;
	if (s[0] == '@') {
		char *end = NULL;
		errno = 0;
		long long v = strtoll(s + 1, &end, 10);
		if (errno != 0 || end == s + 1 || *end != '\0')
			return -1;
		*out = (time_t)v;
		return 0;
	}
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
	if (!shape_matches(s, "9999-99-99"))
		return -1;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -1;
	const char *rest = s + n;
	if (*rest == 'T' || *rest == ' ') {
		int m = 0;
		if (!shape_matches(rest + 1, "99:99:99"))
			return -1;
		if (sscanf(rest + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &m) != 3 ||
		    m != 8)
			return -1;
		rest += 1 + m;
		if (*rest == 'Z')
			rest++;
	}
	if (*rest != '\0')
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60 ||
	    h < 0 || mi < 0 || sec < 0)
		return -1;
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = timegm(&tm);
	return 0;
}
