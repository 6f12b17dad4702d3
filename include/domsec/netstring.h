/*
 * netstring.h - netstrings (http://cr.yp.to/proto/netstrings.txt) as the
 * Postfix socketmap protocol uses them: "<length>:<bytes>,".  Decoding works
 * on a byte buffer that may hold part of a netstring, exactly one, or several
 * pipelined ones, and refuses anything longer than a caller-given cap before
 * reading its body.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_NETSTRING_H
#define DOMSEC_NETSTRING_H

#include <stddef.h>

enum ds_netstring_status {
	DS_NETSTRING_OK = 0,       /* one complete netstring decoded */
	DS_NETSTRING_INCOMPLETE,   /* valid so far, more bytes needed */
	DS_NETSTRING_MALFORMED,    /* not a netstring (bad length, missing ','...) */
	DS_NETSTRING_TOO_LONG      /* its declared length exceeds max_len */
};

/*
 * Decodes the netstring at the start of buf (len bytes).  On
 * DS_NETSTRING_OK, *payload points into buf at the *payload_len data bytes
 * and *consumed is the size of the whole netstring (so the next one starts
 * at buf + *consumed).  Leading zeros in the length are malformed (as the
 * definition says), except the single "0".
 */
enum ds_netstring_status ds_netstring_decode(const char *buf, size_t len,
    size_t max_len, const char **payload, size_t *payload_len,
    size_t *consumed);

/*
 * Writes data (len bytes) as a netstring into out.  Returns the number of
 * bytes written (not counting the terminating NUL added when room remains),
 * or -1 when outlen is too small.
 */
long ds_netstring_encode(const char *data, size_t len, char *out,
    size_t outlen);

/* A short description of a status, for log lines. */
const char *ds_netstring_status_text(enum ds_netstring_status s);

#endif
