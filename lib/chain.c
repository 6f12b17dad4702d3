/*
 * chain.c - certificate chain verification with OpenSSL.
 *
 * Trust anchors come from a CA file and/or a hashed CA directory (the
 * system bundle when neither is configured) plus per-partner anchor files
 * added for one call.  Intermediates and cross-certificates come from what
 * the peer presented and from configured chain files.  Any certificate the
 * administrator lists as an anchor is one (partial chains allowed: direct
 * trust in a partner's intermediate or own certificate).  Beyond OpenSSL's
 * strict RFC 5280 checks: the leaf must not be a CA (cA=TRUE), unless it is
 * itself the configured anchor; the extended key usages of the leaf and of
 * every intermediate, where present, must share serverAuth or clientAuth;
 * the leaf's key usage, when present, must allow digitalSignature.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include "domsec/chain.h"
#include "domsec/fmt.h"
#include "domsec/names.h"
#include "domsec/x509info.h"

struct ds_trust {
	STACK_OF(X509) *anchors;     /* from the CA file (or system bundle) */
	char *anchor_dir;            /* hashed directory, or NULL */
	STACK_OF(X509) *untrusted;   /* from chain files */
	X509_STORE *store;           /* anchors + anchor_dir, for calls
	                                without extra anchors */
};

/* Reads every certificate of a PEM bundle (skipping CRLs and keys) and
 * appends it to *out.  Returns 0, or -1 with err. */
static int read_bundle(const char *path, STACK_OF(X509) *out, char *err,
    size_t errlen)
{
	BIO *b = BIO_new_file(path, "rb");
	if (b == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno ? errno : ENOENT));
		ERR_clear_error();
		return -1;
	}
	STACK_OF(X509_INFO) *infos = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL);
	BIO_free(b);
	if (infos == NULL) {
		unsigned long e = ERR_peek_last_error();
		snprintf(err, errlen, "%s: not a readable PEM certificate "
		    "bundle (%s)", path,
		    e ? ERR_reason_error_string(e) : "unknown error");
		ERR_clear_error();
		return -1;
	}
	int found = 0, rc = 0;
	for (int i = 0; i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *xi = sk_X509_INFO_value(infos, i);
		if (xi->x509 == NULL)
			continue;
		if (!sk_X509_push(out, xi->x509)) {
			snprintf(err, errlen, "%s: out of memory", path);
			rc = -1;
			break;
		}
		xi->x509 = NULL;   /* now owned by out */
		found++;
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	ERR_clear_error();
	if (rc == 0 && found == 0) {
		snprintf(err, errlen, "%s: no certificate found", path);
		rc = -1;
	}
	return rc;
}

/* A store holding anchors, anchor_dir (if any) and extra. */
static X509_STORE *store_build(const struct ds_trust *t,
    STACK_OF(X509) *extra, char *err, size_t errlen)
{
	X509_STORE *st = X509_STORE_new();
	if (st == NULL)
		goto oom;
	for (int i = 0; i < sk_X509_num(t->anchors); i++)
		if (!X509_STORE_add_cert(st, sk_X509_value(t->anchors, i)))
			goto oom;
	for (int i = 0; extra && i < sk_X509_num(extra); i++)
		if (!X509_STORE_add_cert(st, sk_X509_value(extra, i)))
			goto oom;
	if (t->anchor_dir != NULL) {
		X509_LOOKUP *lu = X509_STORE_add_lookup(st,
		    X509_LOOKUP_hash_dir());
		if (lu == NULL || !X509_LOOKUP_add_dir(lu, t->anchor_dir,
		    X509_FILETYPE_PEM)) {
			snprintf(err, errlen, "%s: cannot use as a CA directory",
			    t->anchor_dir);
			X509_STORE_free(st);
			ERR_clear_error();
			return NULL;
		}
	}
	ERR_clear_error();
	return st;
oom:
	X509_STORE_free(st);
	ERR_clear_error();
	snprintf(err, errlen, "out of memory building the trust store");
	return NULL;
}

void ds_trust_free(struct ds_trust *t)
{
	if (t == NULL)
		return;
	sk_X509_pop_free(t->anchors, X509_free);
	sk_X509_pop_free(t->untrusted, X509_free);
	free(t->anchor_dir);
	X509_STORE_free(t->store);
	free(t);
}

struct ds_trust *ds_trust_new_files(const struct ds_strlist *ca_files,
    const char *ca_path, const struct ds_strlist *chain_files, char *err,
    size_t errlen)
{
	struct ds_trust *t = calloc(1, sizeof *t);
	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->anchors = sk_X509_new_null();
	t->untrusted = sk_X509_new_null();
	if (t->anchors == NULL || t->untrusted == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	size_t n_files = ca_files ? ca_files->n : 0;
	if (n_files == 0 && ca_path == NULL) {
		/* The system default bundle: what OpenSSL itself would use
		 * (honouring SSL_CERT_FILE and SSL_CERT_DIR). */
		const char *f = getenv(X509_get_default_cert_file_env());
		const char *d = getenv(X509_get_default_cert_dir_env());
		if (f == NULL)
			f = X509_get_default_cert_file();
		if (d == NULL)
			d = X509_get_default_cert_dir();
		if (access(f, R_OK) == 0 &&
		    read_bundle(f, t->anchors, err, errlen) != 0)
			goto fail;
		if (access(d, R_OK) == 0 && (t->anchor_dir = strdup(d)) == NULL)
			goto fail;
	} else {
		for (size_t i = 0; i < n_files; i++)
			if (read_bundle(ca_files->v[i], t->anchors, err,
			    errlen) != 0)
				goto fail;
		if (ca_path != NULL) {
			if (access(ca_path, R_OK | X_OK) != 0) {
				snprintf(err, errlen, "%s: cannot read CA "
				    "directory: %s", ca_path, strerror(errno));
				goto fail;
			}
			if ((t->anchor_dir = strdup(ca_path)) == NULL)
				goto fail;
		}
	}
	for (size_t i = 0; chain_files && i < chain_files->n; i++)
		if (read_bundle(chain_files->v[i], t->untrusted, err, errlen) != 0)
			goto fail;
	t->store = store_build(t, NULL, err, errlen);
	if (t->store == NULL)
		goto fail;
	return t;
fail:
	ds_trust_free(t);
	return NULL;
}

struct ds_trust *ds_trust_new(const char *ca_file, const char *ca_path,
    const struct ds_strlist *chain_files, char *err, size_t errlen)
{
	struct ds_strlist files = { 0 };
	if (ca_file != NULL && ds_strlist_add(&files, ca_file) != 0) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	struct ds_trust *t = ds_trust_new_files(&files, ca_path, chain_files,
	    err, errlen);
	ds_strlist_free(&files);
	return t;
}

void ds_chain_result_free(struct ds_chain_result *res)
{
	if (res == NULL)
		return;
	sk_X509_pop_free(res->chain, X509_free);
	res->chain = NULL;
}

/* "CN=..., O=..." of a certificate's subject or issuer. */
static void cert_name(X509 *x, int issuer, char *out, size_t outlen)
{
	struct ds_cert_info info;
	out[0] = '\0';
	if (x == NULL || outlen == 0 || ds_cert_info_get(x, &info) != 0)
		return;
	const char *name = issuer ? info.issuer : info.subject;
	size_t n = strlen(name);
	if (n >= outlen)
		n = outlen - 1;   /* long names are cut, never overflowed */
	memcpy(out, name, n);
	out[n] = '\0';
}

/* Words for OpenSSL's verification error on cert x. */
static void describe_error(int code, X509 *x, char *out, size_t outlen)
{
	char subject[200], issuer[200], when[40];
	cert_name(x, 0, subject, sizeof subject);
	cert_name(x, 1, issuer, sizeof issuer);
	time_t t = 0;
	switch (code) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		if (x != NULL)
			ds_asn1_time_to_time_t(X509_get0_notAfter(x), &t);
		ds_time_format(t, when, sizeof when);
		ds_format_truncated(out, outlen, "certificate has expired "
		    "(notAfter %s): %s", when, subject);
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		if (x != NULL)
			ds_asn1_time_to_time_t(X509_get0_notBefore(x), &t);
		ds_time_format(t, when, sizeof when);
		ds_format_truncated(out, outlen, "certificate is not yet valid "
		    "(notBefore %s): %s", when, subject);
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
		ds_format_truncated(out, outlen, "unable to get issuer "
		    "certificate: %s is not a trust anchor and no certificate "
		    "of it was presented or configured", issuer);
		break;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		ds_format_truncated(out, outlen, "self-signed certificate %s is "
		    "not a trust anchor", subject);
		break;
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		ds_format_truncated(out, outlen, "signature of certificate %s "
		    "does not verify with the key of %s", subject, issuer);
		break;
	case X509_V_ERR_INVALID_CA:
		ds_format_truncated(out, outlen, "%s is used as a CA but is not "
		    "a CA certificate", subject);
		break;
	default:
		ds_format_truncated(out, outlen, "%s: %s",
		    X509_verify_cert_error_string(code), subject);
		break;
	}
}

/* 1 when every rfc822Name SAN of x is a plain mailbox local@host (one
 * "@", a non-empty local part, a valid host name), as RFC 5280 4.2.1.6
 * requires. */
static int email_sans_ok(X509 *x)
{
	GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
	    NULL);
	int ok = 1;
	for (int i = 0; ok && sans && i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
		if (gn->type != GEN_EMAIL)
			continue;
		const ASN1_IA5STRING *s = gn->d.rfc822Name;
		int len = ASN1_STRING_length(s);
		const unsigned char *d = ASN1_STRING_get0_data(s);
		char buf[320];
		if (len <= 0 || (size_t)len >= sizeof buf ||
		    memchr(d, 0, (size_t)len) != NULL) {
			ok = 0;
			break;
		}
		memcpy(buf, d, (size_t)len);
		buf[len] = '\0';
		char *at = strchr(buf, '@');
		if (at == NULL || at == buf || strchr(at + 1, '@') != NULL ||
		    !ds_hostname_valid(at + 1, 0))
			ok = 0;
	}
	GENERAL_NAMES_free(sans);
	return ok;
}

/* The TLS purposes (serverAuth, clientAuth) an EKU allows. */
#define TLS_SERVER 1
#define TLS_CLIENT 2
static int tls_purposes(X509 *x)
{
	if (!(X509_get_extension_flags(x) & EXFLAG_XKUSAGE))
		return TLS_SERVER | TLS_CLIENT;
	uint32_t xku = X509_get_extended_key_usage(x);
	if (xku & XKU_ANYEKU)
		return TLS_SERVER | TLS_CLIENT;
	return ((xku & XKU_SSL_SERVER) ? TLS_SERVER : 0) |
	    ((xku & XKU_SSL_CLIENT) ? TLS_CLIENT : 0);
}

/* The profile OpenSSL's purposes cannot express (DESIGN.md section 4): the
 * leaf is no CA; its EKU and that of every intermediate that has one share
 * serverAuth or clientAuth (a serverAuth-only leaf is fine: MTAs present
 * their server certificate as client certificate); a leaf keyUsage allows
 * digitalSignature.  The anchor is trusted for what the administrator chose
 * it for, not for its extensions, so its EKU is not looked at.  Returns 1
 * when fine, else 0 with reason and *bad_depth. */
static int chain_profile_ok(STACK_OF(X509) *chain, char *reason,
    size_t reasonlen, int *bad_depth)
{
	char subject[200];
	X509 *leaf = sk_X509_value(chain, 0);
	int n = sk_X509_num(chain);
	*bad_depth = 0;
	cert_name(leaf, 0, subject, sizeof subject);
	uint32_t flags = X509_get_extension_flags(leaf);
	if (flags & EXFLAG_INVALID) {
		ds_format_truncated(reason, reasonlen, "certificate has "
		    "malformed extensions: %s", subject);
		return 0;
	}
	if (n > 1 && (flags & EXFLAG_CA)) {
		ds_format_truncated(reason, reasonlen, "the peer certificate is "
		    "a CA certificate (basicConstraints cA=TRUE), not an end "
		    "entity: %s", subject);
		return 0;
	}
	if (n > 1 && X509_get_ext_by_NID(leaf, NID_name_constraints, -1) >= 0) {
		ds_format_truncated(reason, reasonlen, "the peer certificate "
		    "carries name constraints, which only a CA certificate may "
		    "(RFC 5280 4.2.1.10): %s", subject);
		return 0;
	}
	if (!email_sans_ok(leaf)) {
		ds_format_truncated(reason, reasonlen, "the peer certificate "
		    "has a malformed rfc822Name subject alternative name (name "
		    "constraints cannot be applied to it): %s", subject);
		return 0;
	}
	char bad[300];
	if (!ds_cert_dns_sans_wellformed(leaf, bad, sizeof bad)) {
		ds_format_truncated(reason, reasonlen, "the peer certificate "
		    "has a malformed dNSName, or a wildcard over a public "
		    "suffix, in its subject alternative names (%s): %s", bad,
		    subject);
		return 0;
	}
	int purposes = tls_purposes(leaf);
	if (purposes == 0) {
		ds_format_truncated(reason, reasonlen, "certificate is "
		    "not for TLS: its extended key usage allows neither "
		    "serverAuth nor clientAuth: %s", subject);
		return 0;
	}
	for (int i = 1; i < n - 1; i++) {
		X509 *ca = sk_X509_value(chain, i);
		int p = tls_purposes(ca);
		if ((purposes & p) == 0) {
			char ca_subject[200];
			cert_name(ca, 0, ca_subject, sizeof ca_subject);
			ds_format_truncated(reason, reasonlen, "intermediate "
			    "%s has an extended key usage that allows %s of "
			    "what the certificate is for (serverAuth or "
			    "clientAuth): %s", ca_subject, p == 0 ? "neither" :
			    "none", subject);
			*bad_depth = i;
			return 0;
		}
		purposes &= p;
	}
	if (flags & EXFLAG_KUSAGE) {
		uint32_t ku = X509_get_key_usage(leaf);
		if (!(ku & KU_DIGITAL_SIGNATURE)) {
			ds_format_truncated(reason, reasonlen, "certificate key "
			    "usage does not allow digitalSignature (TLS client "
			    "authentication signs): %s", subject);
			return 0;
		}
	}
	return 1;
}

/* Verification errors that only X509_V_FLAG_X509_STRICT raises. */
static int strict_only_error(int code)
{
	switch (code) {
	case X509_V_ERR_PATHLEN_INVALID_FOR_NON_CA:
	case X509_V_ERR_PATHLEN_WITHOUT_KU_KEY_CERT_SIGN:
	case X509_V_ERR_KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA:
	case X509_V_ERR_ISSUER_NAME_EMPTY:
	case X509_V_ERR_SUBJECT_NAME_EMPTY:
	case X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER:
	case X509_V_ERR_MISSING_SUBJECT_KEY_IDENTIFIER:
	case X509_V_ERR_EMPTY_SUBJECT_ALT_NAME:
	case X509_V_ERR_EMPTY_SUBJECT_SAN_NOT_CRITICAL:
	case X509_V_ERR_CA_BCONS_NOT_CRITICAL:
	case X509_V_ERR_AUTHORITY_KEY_IDENTIFIER_CRITICAL:
	case X509_V_ERR_SUBJECT_KEY_IDENTIFIER_CRITICAL:
	case X509_V_ERR_CA_CERT_MISSING_KEY_USAGE:
	case X509_V_ERR_EXTENSIONS_REQUIRE_VERSION_3:
	case X509_V_ERR_EC_KEY_EXPLICIT_PARAMS:
	case X509_V_ERR_SIGNATURE_ALGORITHM_INCONSISTENCY:
		return 1;
	default:
		return 0;
	}
}

/* One X509_verify_cert run on ctx (re-initialised).  Returns 1 verified,
 * 0 not (error in ctx), -1 when the context cannot be set up. */
static int run_verify(X509_STORE_CTX *ctx, X509_STORE *store, X509 *leaf,
    STACK_OF(X509) *untrusted, time_t at, int strict)
{
	X509_STORE_CTX_cleanup(ctx);
	if (!X509_STORE_CTX_init(ctx, store, leaf, untrusted))
		return -1;
	X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_flags(param, (strict ? X509_V_FLAG_X509_STRICT : 0) |
	    X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_TRUSTED_FIRST);
	if (at != 0)
		X509_VERIFY_PARAM_set_time(param, at);
	/* 112-bit security at least (RSA and DSA >= 2048 bits, EC >= 224
	 * bits, no SHA-1 or MD5 signatures): Debian's own TLS default
	 * (SECLEVEL=2), so Postfix would refuse weaker keys anyway. */
	X509_VERIFY_PARAM_set_auth_level(param, 2);
	return X509_verify_cert(ctx) == 1 ? 1 : 0;
}

int ds_chain_verify(const struct ds_trust *t,
    const struct ds_strlist *extra_anchor_files, STACK_OF(X509) *presented,
    time_t at, struct ds_chain_result *res, char *err, size_t errlen)
{
	memset(res, 0, sizeof *res);
	res->error_depth = -1;
	if (t == NULL || presented == NULL || sk_X509_num(presented) < 1) {
		snprintf(err, errlen, "no certificate to verify");
		return -1;
	}
	int rc = -1;
	X509_STORE *own_store = NULL;
	STACK_OF(X509) *extra = NULL;
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	if (untrusted == NULL || ctx == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	X509 *leaf = sk_X509_value(presented, 0);
	for (int i = 1; i < sk_X509_num(presented); i++)
		if (!sk_X509_push(untrusted, sk_X509_value(presented, i)))
			goto oom;
	for (int i = 0; i < sk_X509_num(t->untrusted); i++)
		if (!sk_X509_push(untrusted, sk_X509_value(t->untrusted, i)))
			goto oom;

	X509_STORE *store = t->store;
	if (extra_anchor_files != NULL && extra_anchor_files->n > 0) {
		if ((extra = sk_X509_new_null()) == NULL)
			goto oom;
		for (size_t i = 0; i < extra_anchor_files->n; i++)
			if (read_bundle(extra_anchor_files->v[i], extra, err,
			    errlen) != 0)
				goto out;
		if ((own_store = store_build(t, extra, err, errlen)) == NULL)
			goto out;
		store = own_store;
	}

	int ok = run_verify(ctx, store, leaf, untrusted, at, 1);
	if (ok < 0)
		goto oom;
	if (ok == 0 && strict_only_error(X509_STORE_CTX_get_error(ctx)) &&
	    X509_STORE_CTX_get_error_depth(ctx) >=
	    X509_STORE_CTX_get_num_untrusted(ctx)) {
		/* Only the trust anchor breaks an RFC 5280 strict rule (old
		 * roots without keyUsage, with a non-critical basicConstraints,
		 * ...).  An anchor is trusted because the administrator chose
		 * it, not for its extensions (RFC 5280 6.1.1 d): verify again
		 * without the strict rules.  Every certificate below it has
		 * already passed them, as OpenSSL checks from the leaf up. */
		ok = run_verify(ctx, store, leaf, untrusted, at, 0);
		if (ok < 0)
			goto oom;
	}
	if (ok == 1) {
		STACK_OF(X509) *vchain = X509_STORE_CTX_get1_chain(ctx);
		int bad_depth = 0;
		if (vchain == NULL)
			goto oom;
		if (!chain_profile_ok(vchain, res->reason, sizeof res->reason,
		    &bad_depth)) {
			res->error_depth = bad_depth;
			sk_X509_pop_free(vchain, X509_free);
		} else {
			res->chain = vchain;
			res->ok = 1;
		}
	} else {
		int code = X509_STORE_CTX_get_error(ctx);
		if (code == X509_V_OK) {
			snprintf(err, errlen, "chain verification failed "
			    "internally: %s", ERR_reason_error_string(
			    ERR_peek_last_error()) ? ERR_reason_error_string(
			    ERR_peek_last_error()) : "unknown error");
			goto out;
		}
		res->error_depth = X509_STORE_CTX_get_error_depth(ctx);
		describe_error(code, X509_STORE_CTX_get_current_cert(ctx),
		    res->reason, sizeof res->reason);
	}
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory verifying a chain");
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);          /* members owned elsewhere */
	sk_X509_pop_free(extra, X509_free);
	X509_STORE_free(own_store);
	return rc;
}
