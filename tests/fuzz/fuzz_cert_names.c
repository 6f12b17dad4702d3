/*
 * fuzz_cert_names.c - libFuzzer harness for the certificate side of name
 * matching and certificate reporting: a DER certificate from the input
 * (d2i_X509) goes through ds_cert_matches_domain (SAN and CN extraction,
 * non-ASCII CNs ignored) and ds_cert_info_get (lib/x509info.c), as a
 * discovered or pinned partner certificate would.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/x509.h>
#include "domsec/names.h"
#include "domsec/x509info.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	X509 *cert = d2i_X509(NULL, &p, (long)size);
	static const char *domains[] = { "woodgrovebank.com", "example.com",
	    "contoso.com", "a.b.c.d.e" };
	char matched[256];
	struct ds_cert_info info;

	if (cert == NULL)
		return 0;
	for (size_t i = 0; i < sizeof domains / sizeof domains[0]; i++)
		if (ds_cert_matches_domain(cert, domains[i], matched, sizeof matched) &&
		    !ds_name_matches(matched, domains[i]))
			abort();
	ds_cert_matches_domain(cert, "example.com", matched, 4);
	ds_cert_info_get(cert, &info);
	X509_free(cert);
	return 0;
}
