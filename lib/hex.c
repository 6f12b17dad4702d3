/*
 * hex.c - hexadecimal text for bytes (see include/domsec/hex.h).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "domsec/hex.h"

void ds_hex_encode(const unsigned char *in, size_t n, char *out, int upper,
    char sep)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (sep != '\0' && i > 0)
			out[o++] = sep;
		out[o++] = digits[in[i] >> 4];
		out[o++] = digits[in[i] & 15];
	}
	out[o] = '\0';
}

int ds_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int ds_hex_decode(const char *text, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = ds_hex_value((unsigned char)text[2 * i]);
		int lo = hi < 0 ? -1 : ds_hex_value((unsigned char)text[2 * i + 1]);
		if (lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}
