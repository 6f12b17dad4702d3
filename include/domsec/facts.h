/*
 * facts.h - what an MTA told us about one SMTP session, in one vocabulary.
 * The milter front end fills it from Postfix or Sendmail macros, the policy
 * front end from Postfix policy attributes; the core decides from it.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_FACTS_H
#define DOMSEC_FACTS_H

#include "domsec/x509info.h"

struct ds_facts {
	char client_addr[64];     /* "192.0.2.1" or "2001:db8::1"; "" unknown */
	int client_port;          /* -1 unknown */
	char helo[256];
	int tls;                  /* -1 unknown, 0 clear text, 1 TLS */
	char tls_version[32];     /* "TLSv1.3" */
	char cipher[128];
	int cipher_bits;          /* 0 unknown */
	int cert_presented;       /* -1 unknown, 0 none, 1 a client certificate */
	int mta_verified;         /* -1 unknown, 0 no, 1 the MTA verified the
	                             chain against its own CA file */
	int have_fp;              /* 1 when fp holds the SHA-256 of the peer cert */
	unsigned char fp[DS_FP_SHA256_LEN];
	char cert_subject[512];   /* as the MTA sent it, xtext decoded */
	char cert_issuer[512];
	char sender[512];         /* envelope sender without <>; "" = null sender */
};

/* Sets every field to "unknown". */
void ds_facts_init(struct ds_facts *f);

/* Decodes xtext (RFC 3461 "+XX") in place-safe manner into out. */
void ds_xtext_decode(const char *in, char *out, size_t outlen);

/* The domain part of an address ("user@Example.COM" -> "example.com"),
 * lower-cased, without <>; "" when there is none.  Returns 0, -1 when the
 * address is malformed. */
int ds_address_domain(const char *addr, char *out, size_t outlen);

#endif
