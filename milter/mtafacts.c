/*
 * mtafacts.c - milter macros to session facts (see mtafacts.h).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "domsec/x509info.h"
#include "mtafacts.h"

static const char *macro(ds_macro_getter get, void *arg, const char *name)
{
	const char *v = get(arg, name);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

static void copy_text(char *dst, size_t dstlen, const char *src)
{
	size_t n = strlen(src);
	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * Sendmail writes DNs as OpenSSL's one-line form, "/C=US/O=Woodgrove/CN=mx"
 * (most significant first); domsec logs RFC 4514 style everywhere,
 * "CN=mx, O=Woodgrove, C=US".  Other forms are left as they are.
 */
static void dn_from_slash_form(char *dn, size_t dnlen)
{
	char copy[512], out[512];
	size_t o = 0;
	char *end;

	if (dn[0] != '/' || strchr(dn, '=') == NULL)
		return;
	snprintf(copy, sizeof copy, "%s", dn + 1);
	out[0] = '\0';
	end = copy + strlen(copy);
	while (end > copy) {
		char *start = end;
		while (start > copy && start[-1] != '/')
			start--;
		int w = snprintf(out + o, sizeof out - o, "%s%.*s", o ? ", " : "",
		    (int)(end - start), start);
		if (w < 0 || (size_t)w >= sizeof out - o)
			return;   /* too long: keep the original */
		o += (size_t)w;
		end = start > copy ? start - 1 : copy;
	}
	snprintf(dn, dnlen, "%s", out);
}

/* Sendmail's {verify}: what it says about the client certificate. */
static void apply_verify(struct ds_facts *f, const char *verify)
{
	if (strcasecmp(verify, "OK") == 0 || strcasecmp(verify, "TRUSTED") == 0) {
		f->cert_presented = 1;
		f->mta_verified = 1;
	} else if (strcasecmp(verify, "FAIL") == 0) {
		f->cert_presented = 1;
		f->mta_verified = 0;
	} else if (strcasecmp(verify, "NO") == 0 || strcasecmp(verify, "NOT") == 0) {
		f->cert_presented = 0;
		f->mta_verified = 0;
	} else if (strcasecmp(verify, "NONE") == 0 || strcasecmp(verify, "CLEAR") == 0) {
		f->tls = 0;   /* STARTTLS not used (or turned off) */
		f->cert_presented = 0;
		f->mta_verified = 0;
	}
	/* TEMP, PROTOCOL, SOFTWARE and unknown words: leave "unknown". */
}

void ds_facts_from_macros(struct ds_facts *f, ds_macro_getter get, void *arg)
{
	const char *version = macro(get, arg, "{tls_version}");
	const char *cipher = macro(get, arg, "{cipher}");
	const char *bits = macro(get, arg, "{cipher_bits}");
	const char *subject = macro(get, arg, "{cert_subject}");
	const char *issuer = macro(get, arg, "{cert_issuer}");
	const char *verify = macro(get, arg, "{verify}");
	const char *fp = macro(get, arg, "{cert_fp}");

	if (subject == NULL)
		subject = macro(get, arg, "{cn_subject}");
	if (issuer == NULL)
		issuer = macro(get, arg, "{cn_issuer}");

	f->tls = version != NULL ? 1 : 0;
	f->tls_version[0] = f->cipher[0] = '\0';
	f->cipher_bits = 0;
	if (version != NULL)
		copy_text(f->tls_version, sizeof f->tls_version, version);
	if (cipher != NULL)
		copy_text(f->cipher, sizeof f->cipher, cipher);
	if (bits != NULL) {
		long b = strtol(bits, NULL, 10);
		f->cipher_bits = b > 0 && b < 100000 ? (int)b : 0;
	}

	f->cert_subject[0] = f->cert_issuer[0] = '\0';
	if (subject != NULL)
		ds_xtext_decode(subject, f->cert_subject, sizeof f->cert_subject);
	if (issuer != NULL)
		ds_xtext_decode(issuer, f->cert_issuer, sizeof f->cert_issuer);
	dn_from_slash_form(f->cert_subject, sizeof f->cert_subject);
	dn_from_slash_form(f->cert_issuer, sizeof f->cert_issuer);

	if (f->tls == 0) {
		f->cert_presented = 0;
		f->mta_verified = 0;
	} else if (verify != NULL) {
		apply_verify(f, verify);
	} else if (subject != NULL) {
		/* Postfix sends the subject only for a chain it verified. */
		f->cert_presented = 1;
		f->mta_verified = 1;
	} else {
		/* Postfix: no certificate, or one it could not verify. */
		f->cert_presented = -1;
		f->mta_verified = -1;
	}

	f->have_fp = 0;
	if (fp != NULL && ds_fingerprint_parse(fp, f->fp) == 0) {
		f->have_fp = 1;
		f->cert_presented = 1;
	}
}

int ds_facts_merge_policy(struct ds_facts *f, const struct ds_facts *policy)
{
	int added = 0;

	if (f->tls == -1)
		f->tls = policy->tls;
	if (f->tls_version[0] == '\0')
		memcpy(f->tls_version, policy->tls_version, sizeof f->tls_version);
	if (f->cipher[0] == '\0')
		memcpy(f->cipher, policy->cipher, sizeof f->cipher);
	if (f->cipher_bits == 0)
		f->cipher_bits = policy->cipher_bits;
	if (f->cert_presented == -1)
		f->cert_presented = policy->cert_presented;
	if (f->mta_verified == -1)
		f->mta_verified = policy->mta_verified;
	if (!f->have_fp && policy->have_fp) {
		memcpy(f->fp, policy->fp, sizeof f->fp);
		f->have_fp = 1;
		if (f->cert_presented != 1)
			f->cert_presented = 1;
		added = 1;
	}
	if (f->cert_subject[0] == '\0')
		memcpy(f->cert_subject, policy->cert_subject, sizeof f->cert_subject);
	if (f->cert_issuer[0] == '\0')
		memcpy(f->cert_issuer, policy->cert_issuer, sizeof f->cert_issuer);
	if (f->helo[0] == '\0')
		memcpy(f->helo, policy->helo, sizeof f->helo);
	return added;
}
