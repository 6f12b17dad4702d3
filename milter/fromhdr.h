/*
 * fromhdr.h - the domains of the addresses in a From header value (RFC 5322
 * address list: display names, quoted strings, comments, angle brackets,
 * groups), for From alignment and for the null sender's partner domain.
 */
#ifndef DOMSEC_MILTER_FROMHDR_H
#define DOMSEC_MILTER_FROMHDR_H

#include <stddef.h>

#define DS_FROM_DOMAINS_MAX 16

struct ds_from_domains {
	char v[DS_FROM_DOMAINS_MAX][256];  /* lower case; "" = an address whose
	                                      domain could not be read */
	size_t n;
};

/*
 * Appends the domain of every address in value to out (at most
 * DS_FROM_DOMAINS_MAX in all).  A value in which no address can be found
 * appends one "" so that the caller never mistakes a malformed From header
 * for an aligned one.  Likewise a value with more addresses than fit, or
 * longer than the parser reads (4095 bytes), leaves a "" in out: an
 * address it could not read must never be taken as aligned.  Returns the
 * number of domains appended.
 */
size_t ds_from_domains_parse(const char *value, struct ds_from_domains *out);

#endif
