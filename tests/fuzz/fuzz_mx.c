/*
 * fuzz_mx.c - libFuzzer harness for the DNS MX answer parser
 * (ds_mx_parse_answer in lib/mx.c): an answer from the network, however
 * malformed, yields at most DS_MX_MAX_HOSTS hosts in preference order.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "domsec/mx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ds_mx_result out;
	unsigned char *msg;

	if (size > 65535)
		return 0;
	msg = malloc(size ? size : 1);
	if (msg == NULL)
		return 0;
	memcpy(msg, data, size);
	memset(&out, 0, sizeof out);
	ds_mx_parse_answer(msg, (int)size, &out);
	if (out.n_hosts > DS_MX_MAX_HOSTS)
		abort();
	for (size_t i = 1; i < out.n_hosts; i++)
		if (out.hosts[i - 1].preference > out.hosts[i].preference)
			abort();
	free(msg);
	return 0;
}
