/*
 * netstring.c - netstring encoding and incremental decoding with a size cap
 * (the socketmap wire format).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <string.h>
#include "domsec/netstring.h"

/* More digits than this can only be an oversized or hostile length. */
#define NETSTRING_MAX_DIGITS 19

enum ds_netstring_status ds_netstring_decode(const char *buf, size_t len,
    size_t max_len, const char **payload, size_t *payload_len,
    size_t *consumed)
{
	size_t i = 0;
	size_t declared = 0;

	while (i < len && buf[i] >= '0' && buf[i] <= '9') {
		if (i == NETSTRING_MAX_DIGITS)
			return DS_NETSTRING_TOO_LONG;
		if (i == 1 && buf[0] == '0')
			return DS_NETSTRING_MALFORMED;  /* leading zero */
		declared = declared * 10 + (size_t)(buf[i] - '0');
		i++;
		if (declared > max_len)
			return DS_NETSTRING_TOO_LONG;
	}
	if (i == len)
		return DS_NETSTRING_INCOMPLETE;
	if (i == 0 || buf[i] != ':')
		return DS_NETSTRING_MALFORMED;
	i++;                                     /* the ':' */
	if (len - i < declared + 1)
		return DS_NETSTRING_INCOMPLETE;
	if (buf[i + declared] != ',')
		return DS_NETSTRING_MALFORMED;
	*payload = buf + i;
	*payload_len = declared;
	*consumed = i + declared + 1;
	return DS_NETSTRING_OK;
}

long ds_netstring_encode(const char *data, size_t len, char *out,
    size_t outlen)
{
	char head[32];
	int hl = snprintf(head, sizeof head, "%zu:", len);

	if (hl < 0 || outlen < (size_t)hl + len + 1)
		return -1;
	memcpy(out, head, (size_t)hl);
	if (len > 0)
		memcpy(out + hl, data, len);
	out[(size_t)hl + len] = ',';
	if (outlen > (size_t)hl + len + 1)
		out[(size_t)hl + len + 1] = '\0';
	return (long)((size_t)hl + len + 1);
}

const char *ds_netstring_status_text(enum ds_netstring_status s)
{
	switch (s) {
	case DS_NETSTRING_OK:
		return "complete";
	case DS_NETSTRING_INCOMPLETE:
		return "incomplete netstring";
	case DS_NETSTRING_MALFORMED:
		return "malformed netstring";
	case DS_NETSTRING_TOO_LONG:
		return "netstring longer than the size limit";
	}
	return "unknown netstring status";
}
