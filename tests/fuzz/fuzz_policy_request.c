/*
 * fuzz_policy_request.c - libFuzzer harness for the Postfix policy request
 * parser (policy/request.c): arbitrary bytes split into lines as
 * policy/policy.c does, then translated into session facts, and the reply
 * formatter with attacker-influenced text (must stay one printable line).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "policy/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ds_policy_request r;
	struct ds_facts f;
	char *buf = malloc(size + 1), action[512];
	size_t start = 0;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	ds_policy_request_init(&r);
	for (size_t i = 0; i <= size; i++) {
		if (i == size || buf[i] == '\n' || buf[i] == '\0') {
			buf[i] = '\0';
			if (i - start < DS_POLICY_MAX_LINE &&
			    ds_policy_request_line(&r, buf + start) == 1) {
				ds_policy_request_facts(&r, &f);
				if (memchr(f.cert_subject, '\0', sizeof f.cert_subject) == NULL)
					abort();
				ds_policy_request_init(&r);
			}
			start = i + 1;
		}
	}
	ds_policy_request_facts(&r, &f);
	if (f.client_port < -1 || f.client_port > 65535)
		abort();
	ds_policy_format_action(action, sizeof action, "550", "5.7.1",
	    (const char *)buf);
	for (const char *p = action; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			abort();
	free(buf);
	return 0;
}
