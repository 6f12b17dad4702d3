/*
 * fuzz_verdict_log.c - libFuzzer harness for the verdict log line
 * (lib/verdict_log.c): every peer-influenced text (HELO, certificate
 * names from the MTA or the certificate, client address, reason) filled
 * from the input; the line must stay one line of printable ASCII so that
 * no log entry can be forged.
 *
 * Input: flags octet, then NUL-separated strings.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "domsec/verdict_log.h"

static const char *part(const char **p, const char *end)
{
	const char *s = *p, *z;
	if (s >= end)
		return "";
	z = memchr(s, '\0', (size_t)(end - s));
	*p = z ? z + 1 : end;
	return s;
}

#define FILL(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ds_decision d;
	static struct ds_facts f;
	char line[4096], *buf;
	const char *p, *end;
	int flags;

	if (size < 1)
		return 0;
	flags = data[0];
	buf = malloc(size);
	if (buf == NULL)
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	p = buf;
	end = buf + size - 1;
	memset(&d, 0, sizeof d);
	ds_facts_init(&f);
	d.is_partner = flags & 1;
	d.have_leaf = flags & 2;
	d.refuse = flags & 4;
	d.mode = (flags & 8) ? DS_MODE_MONITOR : DS_MODE_ENFORCE;
	d.verdict = (enum ds_verdict)((flags >> 4) % 9);
	d.client_port = (flags & 16) ? -1 : 25;
	FILL(d.domain, part(&p, end));
	FILL(d.reason, part(&p, end));
	FILL(d.matched_name, part(&p, end));
	FILL(d.leaf.subject, part(&p, end));
	FILL(d.leaf.issuer, part(&p, end));
	FILL(d.leaf.serial, part(&p, end));
	FILL(d.leaf.alt_names, part(&p, end));
	FILL(d.reply.rcode, part(&p, end));
	FILL(d.reply.xcode, part(&p, end));
	FILL(d.client_addr, part(&p, end));
	FILL(d.helo, part(&p, end));
	FILL(d.cert_source, part(&p, end));
	FILL(d.tls_version, part(&p, end));
	FILL(f.client_addr, part(&p, end));
	FILL(f.helo, part(&p, end));
	FILL(f.cipher, part(&p, end));
	FILL(f.tls_version, part(&p, end));
	ds_xtext_decode(part(&p, end), f.cert_subject, sizeof f.cert_subject);
	ds_xtext_decode(part(&p, end), f.cert_issuer, sizeof f.cert_issuer);
	f.tls = 1;

	ds_verdict_log_format(&d, (flags & 32) ? NULL : &f, line, sizeof line);
	for (const char *c = line; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			abort();
	ds_verdict_log_format(&d, &f, line, 7);
	free(buf);
	return 0;
}
