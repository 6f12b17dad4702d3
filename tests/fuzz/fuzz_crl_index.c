/*
 * fuzz_crl_index.c - libFuzzer harness for the CRL DER walker
 * (lib/crl/crl_index.c, lib/crl/crl_serials.c): ds_crl_data_parse_der on
 * arbitrary bytes; when OpenSSL's d2i_X509_CRL also reads them, every
 * serial OpenSSL lists (except removeFromCRL entries) must be found by
 * ds_crl_data_lookup and the index may hold no more entries than OpenSSL
 * lists (a differential oracle that does not depend on the index's
 * layout); the signature check must not crash, and nothing may leak.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "lib/crl/crl_internal.h"

static EVP_PKEY *test_key(void)
{
	static EVP_PKEY *key;
	if (key == NULL)
		key = EVP_EC_gen("P-256");
	return key;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct ds_crl_data *d = ds_crl_data_parse_der(data, size, err, sizeof err);

	if (d == NULL) {
		if (err[0] == '\0' || memchr(err, '\0', sizeof err) == NULL)
			abort();   /* a refusal must say why */
		return 0;
	}
	/* Every serial OpenSSL reads is indexed (removeFromCRL aside). */
	const unsigned char *p = data;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)size);
	if (crl != NULL) {
		STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
		int n = revs ? sk_X509_REVOKED_num(revs) : 0;
		if (d->n_entries > (size_t)n)
			abort();
		for (int i = 0; i < n; i++) {
			X509_REVOKED *r = sk_X509_REVOKED_value(revs, i);
			unsigned char ser[300];
			size_t len = 0;
			ASN1_ENUMERATED *reason = X509_REVOKED_get_ext_d2i(r,
			    NID_crl_reason, NULL, NULL);
			long why = reason ? ASN1_ENUMERATED_get(reason) : -1;
			ASN1_ENUMERATED_free(reason);
			if (why == 8 || ds_crl_serial_octets(
			    X509_REVOKED_get0_serialNumber(r), ser, sizeof ser,
			    &len) != 0 ||
			    len == 0 || len > 255)
				continue;
			if (!ds_crl_data_lookup(d, ser, len))
				abort();
		}
		X509_CRL_free(crl);
	}
	/* Lookups of input slices must be safe too. */
	for (size_t i = 0; i + 1 < size && i < 64; i++)
		ds_crl_data_lookup(d, data + i, (data[i] % 32) < size - i ?
		    (data[i] % 32) : size - i);
	(void)ds_crl_data_memory(d);
	ds_crl_der_verify(data, size, test_key());
	ds_crl_data_unref(d);
	return 0;
}
