/*
 * fuzz_crl_accept.c - libFuzzer harness for CRL acceptance with PEM/DER
 * detection: ds_crl_split_der_or_pem, ds_crl_accept_body (memory-only store,
 * no issuer) and the LDAP answer extraction of lib/crl/crl_fetch.c, i.e. what a
 * CRL distribution point's answer goes through.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lib/crl/crl_store_internal.h"

static struct ds_crl_store *store(void)
{
	static struct ds_crl_store *s;
	if (s == NULL) {
		struct ds_crl_opts o;
		char err[256];
		memset(&o, 0, sizeof o);
		o.grace_s = 0;
		s = ds_crl_store_new(&o, err, sizeof err);
		if (s == NULL)
			abort();
	}
	return s;
}

static int count_one(const unsigned char *der, size_t len, void *arg)
{
	char err[256];
	struct ds_crl_data *d = ds_crl_data_parse_der(der, len, err, sizeof err);
	ds_crl_data_unref(d);
	(*(int *)arg)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], why[256];
	int n = 0, found;
	unsigned char *body, *der = NULL, *ldap = NULL;
	size_t der_len = 0, ldap_len = 0;
	X509 *used = NULL;
	struct ds_crl_data *d;

	found = ds_crl_split_der_or_pem(data, size, count_one, &n, err, sizeof err);
	if (found >= 0 && found != n)
		abort();

	/* accept_body may take the body over: hand it a malloc'ed copy */
	body = malloc(size ? size : 1);
	if (body == NULL)
		return 0;
	memcpy(body, data, size);
	/* a URL, so that the issuingDistributionPoint scope check runs too */
	d = ds_crl_accept_body(store(), "http://crl.example/a.crl", &body, size,
	    NULL, NULL, &der, &der_len,
	    &used, why, sizeof why);
	if (d != NULL) {
		if (der == NULL || der_len == 0)
			abort();
		ds_crl_data_unref(d);
		free(der);
	}
	free(body);

	if (ds_crl_ldap_extract(data, size, &ldap, &ldap_len) == 0) {
		if (ldap_len > size)
			abort();
		free(ldap);
	}
	return 0;
}
