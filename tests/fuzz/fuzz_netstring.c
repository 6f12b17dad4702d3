/*
 * fuzz_netstring.c - libFuzzer harness for the socketmap netstring decoder
 * (lib/netstring.c): decodes pipelined netstrings from arbitrary bytes with
 * a small and a large cap, checks that payloads lie inside the input, and
 * that encode + decode gives the payload back.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "domsec/netstring.h"

static void decode_all(const char *buf, size_t len, size_t cap)
{
	size_t done = 0;

	while (done < len) {
		const char *payload = NULL;
		size_t plen = 0, used = 0;
		enum ds_netstring_status st = ds_netstring_decode(buf + done,
		    len - done, cap, &payload, &plen, &used);
		(void)ds_netstring_status_text(st);
		if (st != DS_NETSTRING_OK)
			return;
		if (plen > cap || used == 0 || used > len - done ||
		    payload < buf + done || payload + plen > buf + done + used)
			abort();
		/* round trip */
		char *enc = malloc(plen + 32);
		if (enc == NULL)
			return;
		long el = ds_netstring_encode(payload, plen, enc, plen + 32);
		const char *p2;
		size_t l2, u2;
		if (el <= 0 || ds_netstring_decode(enc, (size_t)el, cap, &p2, &l2,
		    &u2) != DS_NETSTRING_OK || l2 != plen || u2 != (size_t)el ||
		    memcmp(p2, payload, plen) != 0)
			abort();
		free(enc);
		done += used;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a heap copy of exactly size bytes so that ASan sees overreads */
	char *buf = malloc(size ? size : 1);
	char small[8];
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	decode_all(buf, size, 16);
	decode_all(buf, size, 100000);
	decode_all(buf, size, (size_t)-1);
	/* encode into a buffer that may be too small */
	if (ds_netstring_encode(buf, size, small, sizeof small) > (long)sizeof small)
		abort();
	free(buf);
	return 0;
}
