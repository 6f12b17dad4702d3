/*
 * hex.h - hexadecimal text for bytes, shared by lib/ (fingerprints, cache
 * file names, checksums, xtext).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_HEX_H
#define DOMSEC_HEX_H

#include <stddef.h>

/* Writes n bytes as hex into out (2n + 1 bytes, or 3n with a separator):
 * upper-case digits when upper, sep (e.g. ':') between bytes unless it is
 * '\0'.  out is always NUL-terminated. */
void ds_hex_encode(const unsigned char *in, size_t n, char *out, int upper,
    char sep);

/* The value of one hex digit (either case), or -1. */
int ds_hex_value(int c);

/* Reads exactly 2n hex digits from text into out.  Returns 0, or -1 when a
 * character is not a hex digit (text shorter than 2n included). */
int ds_hex_decode(const char *text, unsigned char *out, size_t n);

#endif
