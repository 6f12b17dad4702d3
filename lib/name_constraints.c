/*
 * name_constraints.c - dNSName name constraints of a verified chain applied
 * to the partner domain and the name domsec matched (DESIGN.md section 4:
 * "whatever name matched, the partner domain must also satisfy every name
 * constraint in the verified chain").
 *
 * For each CA certificate of the chain (depth >= 1) carrying a
 * nameConstraints extension: when it has permitted dNSName subtrees, the
 * name must lie within one of them; it must lie within none of its excluded
 * dNSName subtrees.  Subtrees of other name types say nothing about DNS
 * names and are skipped here (OpenSSL already applies them to the names of
 * those types).  A constraints extension that is not critical, or a
 * dNSName constraint with a leading period, is malformed (RFC 5280
 * 4.2.1.10) and fails closed.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <openssl/x509v3.h>
#include "domsec/fmt.h"
#include "domsec/name_constraints.h"

#define NC_NAME_MAX 256

/* Lower-cased copy without one trailing dot; -1 if it does not fit or holds
 * a NUL or a non-ASCII byte. */
static int lower_copy(const unsigned char *s, size_t len, char *buf,
    size_t buflen)
{
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len >= buflen)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == 0 || s[i] >= 0x80)
			return -1;
		buf[i] = (char)tolower(s[i]);
	}
	buf[len] = '\0';
	return 0;
}

int ds_dns_within_subtree(const char *name, const char *base)
{
	char n[NC_NAME_MAX], b[NC_NAME_MAX];

	if (name == NULL || base == NULL ||
	    lower_copy((const unsigned char *)name, strlen(name), n, sizeof n) != 0 ||
	    lower_copy((const unsigned char *)base, strlen(base), b, sizeof b) != 0)
		return 0;
	size_t ln = strlen(n), lb = strlen(b);
	if (lb == 0)
		return 1;
	if (b[0] == '.')          /* ".example.com": proper subdomains only */
		return ln > lb && strcmp(n + ln - lb, b) == 0;
	if (ln == lb)
		return strcmp(n, b) == 0;
	return ln > lb && n[ln - lb - 1] == '.' && strcmp(n + ln - lb, b) == 0;
}

static void subject_of(X509 *x, char *out, size_t outlen)
{
	X509_NAME_oneline(X509_get_subject_name(x), out, (int)outlen);
}

/* dNSName base of a subtree into buf; 0, 1 when not a dNSName, -1 when it
 * is a malformed one. */
static int subtree_dns(const GENERAL_SUBTREE *st, char *buf, size_t buflen)
{
	if (st == NULL || st->base == NULL || st->base->type != GEN_DNS)
		return 1;
	const ASN1_IA5STRING *s = st->base->d.dNSName;
	if (lower_copy(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s),
	    buf, buflen) != 0)
		return -1;
	/* RFC 5280 4.2.1.10: a dNSName constraint is a host name with
	 * labels added on the left; a leading period is malformed (OpenSSL
	 * reads it as "subdomains only", others differently) */
	if (buf[0] == '.')
		return -1;
	return 0;
}

/* One certificate's constraints.  1 fine, 0 violated (reason set). */
static int check_one(X509 *ca, const char *name, char *reason,
    size_t reasonlen)
{
	int crit = -1;
	NAME_CONSTRAINTS *nc = X509_get_ext_d2i(ca, NID_name_constraints, &crit,
	    NULL);
	char subj[256], base[NC_NAME_MAX];
	int ok = 1;

	if (nc == NULL) {
		if (crit == -1)
			return 1;           /* no such extension */
		subject_of(ca, subj, sizeof subj);
		ds_format_truncated(reason, reasonlen, "malformed name "
		    "constraints in %s", subj);
		return 0;
	}
	subject_of(ca, subj, sizeof subj);
	if (!crit) {
		/* RFC 5280 4.2.1.10: conforming CAs MUST mark it critical;
		 * a constraint that old software may ignore is no constraint */
		ds_format_truncated(reason, reasonlen, "name constraints of %s "
		    "are not marked critical (RFC 5280 4.2.1.10)", subj);
		NAME_CONSTRAINTS_free(nc);
		return 0;
	}
	int have_permitted = 0, inside = 0;
	char first_permitted[NC_NAME_MAX] = "";
	for (int i = 0; i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees); i++) {
		int r = subtree_dns(sk_GENERAL_SUBTREE_value(nc->permittedSubtrees,
		    i), base, sizeof base);
		if (r == 1)
			continue;
		if (r < 0) {
			ds_format_truncated(reason, reasonlen, "malformed "
			    "permitted dNSName constraint in %s", subj);
			ok = 0;
			goto out;
		}
		if (!have_permitted)
			snprintf(first_permitted, sizeof first_permitted, "%s",
			    base);
		have_permitted++;
		if (ds_dns_within_subtree(name, base))
			inside = 1;
	}
	if (have_permitted && !inside) {
		ds_format_truncated(reason, reasonlen, "name %s is outside the "
		    "permitted dNSName constraint%s %s of %s", name,
		    have_permitted > 1 ? "s (first)" : "", first_permitted, subj);
		ok = 0;
		goto out;
	}
	for (int i = 0; i < sk_GENERAL_SUBTREE_num(nc->excludedSubtrees); i++) {
		int r = subtree_dns(sk_GENERAL_SUBTREE_value(nc->excludedSubtrees,
		    i), base, sizeof base);
		if (r == 1)
			continue;
		if (r < 0) {
			ds_format_truncated(reason, reasonlen, "malformed "
			    "excluded dNSName constraint in %s", subj);
			ok = 0;
			goto out;
		}
		if (ds_dns_within_subtree(name, base)) {
			ds_format_truncated(reason, reasonlen, "name %s is within "
			    "the excluded dNSName constraint %s of %s", name, base,
			    subj);
			ok = 0;
			goto out;
		}
	}
out:
	NAME_CONSTRAINTS_free(nc);
	return ok;
}

int ds_name_constraints_ok(STACK_OF(X509) *chain, const char *name,
    char *reason, size_t reasonlen)
{
	if (reasonlen > 0)
		reason[0] = '\0';
	if (chain == NULL || name == NULL)
		return 0;
	for (int i = 1; i < sk_X509_num(chain); i++)
		if (!check_one(sk_X509_value(chain, i), name, reason, reasonlen))
			return 0;
	return 1;
}
