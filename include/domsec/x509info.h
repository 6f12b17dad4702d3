/*
 * x509info.h - reading certificates: PEM loading, fingerprints, serial
 * numbers, names and alternate names in the forms the whitepaper's protocol
 * log shows them.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_X509INFO_H
#define DOMSEC_X509INFO_H

#include <stddef.h>
#include <time.h>
#include <openssl/x509.h>

#define DS_FP_SHA256_LEN 32
#define DS_FP_TEXT_LEN   96   /* "AB:CD:..." 32*3, with NUL */

/* What a log line or a report shows about one certificate. */
struct ds_cert_info {
	char subject[512];       /* RFC 2253 style, "CN=..., O=..., C=..." */
	char issuer[512];
	char serial[128];        /* upper-case hex, no separators */
	char thumbprint[41];     /* SHA-1, upper-case hex, no separators */
	char fingerprint[DS_FP_TEXT_LEN]; /* SHA-256, upper-case hex with colons */
	char alt_names[1024];    /* dNSName SANs joined with ';' */
	time_t not_before;
	time_t not_after;
};

/* Fills *info from cert; returns 0, or -1 on failure. */
int ds_cert_info_get(X509 *cert, struct ds_cert_info *info);

/* SHA-256 over the DER: raw bytes, and text "AB:CD:..." (upper case). */
int ds_cert_fingerprint(X509 *cert, unsigned char out[DS_FP_SHA256_LEN]);
void ds_fingerprint_format(const unsigned char fp[DS_FP_SHA256_LEN],
    char out[DS_FP_TEXT_LEN]);

/*
 * Parses a SHA-256 fingerprint as MTAs send it: hex, any case, with or
 * without ':' separators (Postfix ccert_fingerprint, Sendmail {cert_fp}).
 * Returns 0, or -1 if it is not exactly 32 bytes of hex.
 */
int ds_fingerprint_parse(const char *text, unsigned char out[DS_FP_SHA256_LEN]);

/*
 * Loads every certificate of a PEM file, in file order.  Returns a new stack
 * (caller frees with sk_X509_pop_free(.., X509_free)), or NULL with err set
 * ("FILE: problem") when the file cannot be read or holds no certificate.
 */
STACK_OF(X509) *ds_load_pem_certs(const char *path, char *err, size_t errlen);

/* ASN1_TIME to time_t; returns 0 on success. */
int ds_asn1_time_to_time_t(const ASN1_TIME *t, time_t *out);

/* "2026-11-22 16:50:36Z" */
void ds_time_format(time_t t, char *out, size_t outlen);

/* Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ", "YYYY-MM-DD HH:MM:SS" (UTC)
 * or "@EPOCH"; returns 0 on success. */
int ds_time_parse(const char *s, time_t *out);

#endif
