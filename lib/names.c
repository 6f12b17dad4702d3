/*
 * names.c - Exchange Domain Security name matching (DESIGN.md section 4).
 *
 * A certificate name N matches a partner domain D (both compared
 * case-insensitively after removing one trailing dot) when:
 *   - N == D (exact);
 *   - N == "*." P and D is P or any subdomain of P (the whitepaper: "*.contoso.com
 *     represents contoso.com and all the sub-domains for contoso.com");
 *     P must have at least two labels (so "*.com" covers nothing) and must
 *     not be a public suffix, ICANN or private section of the Public Suffix
 *     List (so "*.co.uk" or "*.github.io" cover nothing);
 *   - N is exactly one label followed by "." D ("one node deep").
 * Only a whole leftmost "*" label is a wildcard.  Malformed names (empty
 * labels, labels over 63 or names over 253 characters, characters other
 * than letters, digits and hyphens, labels starting or ending with a hyphen,
 * an all-numeric last label as in an IPv4 address) never match.
 *
 * The certificate's DNS names are its dNSName SANs and its subject CNs that
 * are ASCII host names.  Unlike RFC 6125, CNs are searched even when the
 * certificate has SANs: the whitepaper searches "all DNS names in the
 * certificates", and Exchange does the same.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <ctype.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <openssl/asn1.h>
#include <openssl/x509v3.h>
#include <libpsl.h>
#include "domsec/names.h"

#define DS_NAME_MAX 253
#define DS_LABEL_MAX 63

/* Copies s without one trailing dot into buf (lower case); -1 if too long. */
static int normalize(const char *s, char *buf, size_t buflen)
{
	size_t len = strlen(s);
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > DS_NAME_MAX || len >= buflen)
		return -1;
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	buf[len] = '\0';
	return 0;
}

static int ldh_label_valid(const char *label, size_t len)
{
	if (len == 0 || len > DS_LABEL_MAX)
		return 0;
	if (label[0] == '-' || label[len - 1] == '-')
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)label[i];
		if (!(isascii(c) && (isalnum(c) || c == '-')))
			return 0;
	}
	return 1;
}

static int all_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

int ds_hostname_valid(const char *s, int allow_wildcard)
{
	if (s == NULL)
		return 0;
	size_t len = strlen(s);
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > DS_NAME_MAX)
		return 0;

	const char *p = s;
	const char *end = s + len;
	const char *last_label = s;
	size_t last_len = 0;
	int first = 1;
	while (p <= end) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		size_t llen = dot ? (size_t)(dot - p) : (size_t)(end - p);
		int is_star = (llen == 1 && p[0] == '*');
		if (is_star) {
			/* "*" alone is no host name, and only leftmost. */
			if (!allow_wildcard || !first || dot == NULL)
				return 0;
		} else if (!ldh_label_valid(p, llen)) {
			return 0;
		}
		last_label = p;
		last_len = llen;
		first = 0;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	/* A numeric top label is an IPv4 address or garbage, not a host name. */
	if (all_digits(last_label, last_len))
		return 0;
	return 1;
}

/* 1 when sub equals base or ends with "." base. */
static int is_same_or_subdomain(const char *sub, const char *base)
{
	size_t ls = strlen(sub), lb = strlen(base);
	if (ls == lb)
		return strcmp(sub, base) == 0;
	if (ls < lb + 2)
		return 0;
	return sub[ls - lb - 1] == '.' && strcmp(sub + ls - lb, base) == 0;
}

static size_t count_labels(const char *s)
{
	size_t n = 1;
	for (; *s; s++)
		if (*s == '.')
			n++;
	return n;
}

/* The Public Suffix List through libpsl: the packaged list (Debian's
 * publicsuffix, /usr/share/publicsuffix) when it is newer than the one
 * built into libpsl, else the built-in one.  Loaded once, never freed. */
static const psl_ctx_t *psl;
static pthread_once_t psl_once = PTHREAD_ONCE_INIT;

static void psl_load(void)
{
	psl = psl_latest(NULL);
	if (psl == NULL)
		psl = psl_builtin();
}

static int public_suffix_of_type(const char *name, int type)
{
	char n[DS_NAME_MAX + 2];

	if (name == NULL || normalize(name, n, sizeof n) != 0)
		return 0;
	pthread_once(&psl_once, psl_load);
	if (psl == NULL)
		return -1;
	/* No "*" default rule: an unlisted top-level label (".example",
	 * ".test") is not a suffix of its own for us; a single label is
	 * refused by the two-label rule anyway. */
	return psl_is_public_suffix2(psl, n, type | PSL_TYPE_NO_STAR_RULE) ?
	    1 : 0;
}

int ds_is_public_suffix(const char *name)
{
	return public_suffix_of_type(name, PSL_TYPE_ANY);
}

int ds_name_matches(const char *name, const char *domain)
{
	char n[DS_NAME_MAX + 2], d[DS_NAME_MAX + 2];

	if (name == NULL || domain == NULL)
		return 0;
	if (!ds_hostname_valid(name, 1) || !ds_hostname_valid(domain, 0))
		return 0;
	if (normalize(name, n, sizeof n) != 0 ||
	    normalize(domain, d, sizeof d) != 0)
		return 0;

	/* a public suffix is nobody's domain: nothing matches it (the
	 * one-node-deep rule would otherwise let example.com match "com") */
	if (count_labels(d) < 2 || ds_is_public_suffix(d) != 0)
		return 0;
	if (n[0] == '*') {
		const char *base = n + 2;       /* after "*." */
		/* a wildcard over a public suffix covers someone else's
		 * domains; when the list cannot be had, fail closed */
		if (count_labels(base) < 2 || ds_is_public_suffix(base) != 0)
			return 0;
		return is_same_or_subdomain(d, base);
	}
	if (strcmp(n, d) == 0)
		return 1;
	/* One node deep: "label." D, where label holds no dot. */
	const char *dot = strchr(n, '.');
	return dot != NULL && strcmp(dot + 1, d) == 0;
}

/* Copies an ASN.1 string holding ASCII only (no NUL, no byte >= 0x80) into
 * buf; returns 0, or -1 when it is not such a string or does not fit. */
static int ascii_copy(const ASN1_STRING *str, char *buf, size_t buflen)
{
	unsigned char *utf8 = NULL;
	int len;

	if (ASN1_STRING_type(str) == V_ASN1_IA5STRING) {
		/* dNSName: take the bytes as they are. */
		len = ASN1_STRING_length(str);
		const unsigned char *data = ASN1_STRING_get0_data(str);
		if (len <= 0 || (size_t)len >= buflen)
			return -1;
		for (int i = 0; i < len; i++)
			if (data[i] == 0 || data[i] >= 0x80)
				return -1;
		memcpy(buf, data, (size_t)len);
		buf[len] = '\0';
		return 0;
	}
	len = ASN1_STRING_to_UTF8(&utf8, str);
	if (len <= 0 || utf8 == NULL) {
		OPENSSL_free(utf8);
		return -1;
	}
	int ok = (size_t)len < buflen;
	for (int i = 0; ok && i < len; i++)
		if (utf8[i] == 0 || utf8[i] >= 0x80)
			ok = 0;
	if (ok) {
		memcpy(buf, utf8, (size_t)len);
		buf[len] = '\0';
	}
	OPENSSL_free(utf8);
	return ok ? 0 : -1;
}

static void report_match(const char *name, char *matched, size_t matchedlen)
{
	if (matched != NULL && matchedlen > 0) {
		strncpy(matched, name, matchedlen - 1);
		matched[matchedlen - 1] = '\0';
	}
}

static int san_matches(X509 *cert, const char *domain, char *matched,
    size_t matchedlen)
{
	GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name,
	    NULL, NULL);
	int found = 0;
	char buf[DS_NAME_MAX + 2];

	if (sans == NULL)
		return 0;
	for (int i = 0; !found && i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
		if (gn->type != GEN_DNS)
			continue;
		if (ASN1_STRING_type(gn->d.dNSName) != V_ASN1_IA5STRING)
			continue;
		if (ascii_copy(gn->d.dNSName, buf, sizeof buf) != 0)
			continue;
		if (ds_name_matches(buf, domain)) {
			report_match(buf, matched, matchedlen);
			found = 1;
		}
	}
	GENERAL_NAMES_free(sans);
	return found;
}

static int cn_matches(X509 *cert, const char *domain, char *matched,
    size_t matchedlen)
{
	const X509_NAME *subject = X509_get_subject_name(cert);
	char buf[DS_NAME_MAX + 2];
	int idx = -1;

	if (subject == NULL)
		return 0;
	while ((idx = X509_NAME_get_index_by_NID(subject, NID_commonName,
	    idx)) >= 0) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(subject, idx);
		const ASN1_STRING *data = X509_NAME_ENTRY_get_data(e);
		if (data == NULL || ascii_copy(data, buf, sizeof buf) != 0)
			continue;   /* non-ASCII CN: ignored, never matched */
		if (ds_name_matches(buf, domain)) {
			report_match(buf, matched, matchedlen);
			return 1;
		}
	}
	return 0;
}

int ds_cert_dns_sans_wellformed(X509 *cert, char *bad, size_t badlen)
{
	GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name,
	    NULL, NULL);
	char buf[DS_NAME_MAX + 2], n[DS_NAME_MAX + 2];
	int ok = 1;

	if (badlen > 0)
		bad[0] = '\0';
	for (int i = 0; ok && sans && i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
		if (gn->type != GEN_DNS)
			continue;
		if (ascii_copy(gn->d.dNSName, buf, sizeof buf) != 0) {
			snprintf(bad, badlen, "(a dNSName that is not ASCII)");
			ok = 0;
		} else if (strchr(buf, '*') != NULL) {
			/* misplaced wildcards ("m*.x", "mail.*.com", "*")
			 * just never match; a well-placed one over a public
			 * suffix or a single label makes the certificate
			 * mis-issued */
			if (ds_hostname_valid(buf, 1) &&
			    normalize(buf, n, sizeof n) == 0 && n[0] == '*' &&
			    (count_labels(n + 2) < 2 ||
			    public_suffix_of_type(n + 2, PSL_TYPE_ICANN) != 0)) {
				snprintf(bad, badlen, "%s", buf);
				ok = 0;
			}
		} else if (!ds_hostname_valid(buf, 0)) {
			snprintf(bad, badlen, "%s", buf);
			ok = 0;
		}
	}
	GENERAL_NAMES_free(sans);
	return ok;
}

int ds_cert_matches_domain(X509 *cert, const char *domain, char *matched,
    size_t matchedlen)
{
	if (matched != NULL && matchedlen > 0)
		matched[0] = '\0';
	if (cert == NULL || domain == NULL)
		return 0;
	if (san_matches(cert, domain, matched, matchedlen))
		return 1;
	return cn_matches(cert, domain, matched, matchedlen);
}
