/*
 * fuzz_crl_index.c - libFuzzer harness for the CRL DER walker
 * (lib/crl/crl_index.c): ds_crl_data_parse_der on arbitrary bytes, then every
 * serial in the index must be found by ds_crl_data_lookup, the signature
 * check must not crash, and nothing may leak.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/ec.h>
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
	/* Every indexed serial can be looked up; the blob stays consistent. */
	size_t seen = 0;
	for (size_t off = 0; off < d->blob_len; seen++) {
		size_t len = d->blob[off];
		if (off + 1 + len > d->blob_len)
			abort();
		if (!ds_crl_data_lookup(d, d->blob + off + 1, len))
			abort();
		off += 1 + len;
	}
	if (seen != d->n_entries)
		abort();
	if (d->n_entries > 0 && d->table_size < 2 * d->n_entries)
		abort();
	/* Lookups of input slices must be safe too. */
	for (size_t i = 0; i + 1 < size && i < 64; i++)
		ds_crl_data_lookup(d, data + i, (data[i] % 32) < size - i ?
		    (data[i] % 32) : size - i);
	(void)ds_crl_data_memory(d);
	ds_crl_der_verify(data, size, test_key());
	ds_crl_data_unref(d);
	return 0;
}
