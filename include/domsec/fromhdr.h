/*
 * fromhdr.h - the domains of the addresses in a From header value, read
 * as an RFC 5322 address-list (mailboxes and groups; display names,
 * quoted strings, comments), for From alignment and for the null sender's
 * partner domain.
 *
 * The parser is conservative: a value that is not a clean mailbox-list or
 * group contributes one "" (an address that never aligns) and its reason,
 * because other software (mail clients, Python's email package) may read a
 * foreign address in it where we read a partner's.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_FROMHDR_H
#define DOMSEC_FROMHDR_H

#include <stddef.h>

#define DS_FROM_DOMAINS_MAX 16
#define DS_FROM_VALUE_MAX 4095   /* bytes of one value that are read */

struct ds_from_domains {
	char v[DS_FROM_DOMAINS_MAX][256];  /* lower case; "" = an address whose
	                                      domain could not be read */
	size_t n;
	char problem[128];   /* why the first unreadable value was refused,
	                        "" when every value parsed */
};

/*
 * Appends the domain of every mailbox in value to out (at most
 * DS_FROM_DOMAINS_MAX in all).  A value that does not parse as an
 * address-list, or that holds no mailbox (an empty group), appends one ""
 * and sets out->problem (the first one is kept).  A value with more
 * addresses than fit, or longer than DS_FROM_VALUE_MAX, leaves a "" in out
 * too: an address that was not read must never be taken as aligned.  A
 * domain literal or a domain with characters no host name has gives "".
 * Returns the number of entries appended (0 only when out was full, in
 * which case its last entry has been made "").
 */
size_t ds_from_domains_parse(const char *value, struct ds_from_domains *out);

#endif
