/*
 * request.c - parsing a Postfix policy request and mapping it to session
 * facts (see request.h).
 *
 * Postfix sends encryption_protocol empty for a clear-text session,
 * ccert_fingerprint for any presented certificate (trusted or not; the
 * digest is smtpd_tls_fingerprint_digest, which must be sha256), and
 * ccert_subject / ccert_issuer (xtext-encoded CNs) only for a certificate it
 * verified against smtpd_tls_CAfile.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "domsec/x509info.h"
#include "request.h"

void ds_policy_request_init(struct ds_policy_request *r)
{
	memset(r, 0, sizeof *r);
}

static void note_problem(struct ds_policy_request *r, const char *what)
{
	if (r->problem[0] == '\0')
		snprintf(r->problem, sizeof r->problem, "%s", what);
}

static void set_field(struct ds_policy_request *r, char *dst, size_t dstlen,
    const char *value)
{
	size_t n = strlen(value);
	if (n >= dstlen) {
		note_problem(r, "attribute value too long");
		n = dstlen - 1;
	}
	memcpy(dst, value, n);
	dst[n] = '\0';
}

int ds_policy_request_line(struct ds_policy_request *r, const char *line)
{
	const char *eq;
	size_t namelen;

	if (line[0] == '\0')
		return 1;
	if (++r->n_attrs > DS_POLICY_MAX_ATTRS) {
		note_problem(r, "too many attributes");
		return 0;
	}
	for (const char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t') {
			note_problem(r, "control character in attribute");
			return 0;
		}
	eq = strchr(line, '=');
	if (eq == NULL || eq == line) {
		note_problem(r, "line without name=value");
		return 0;
	}
	namelen = (size_t)(eq - line);
	eq++;
	static const struct {
		const char *name;
		size_t offset;
		size_t size;
	} fields[] = {
#define FIELD(n) { #n, offsetof(struct ds_policy_request, n), \
		sizeof(((struct ds_policy_request *)0)->n) }
		FIELD(request), FIELD(protocol_state), FIELD(client_address),
		FIELD(client_port), FIELD(helo_name), FIELD(sender),
		FIELD(recipient), FIELD(queue_id), FIELD(encryption_protocol),
		FIELD(encryption_cipher), FIELD(encryption_keysize),
		FIELD(ccert_subject), FIELD(ccert_issuer), FIELD(ccert_fingerprint),
		FIELD(ccert_pubkey_fingerprint),
#undef FIELD
	};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		if (strlen(fields[i].name) == namelen
		    && memcmp(fields[i].name, line, namelen) == 0) {
			set_field(r, (char *)r + fields[i].offset, fields[i].size, eq);
			break;
		}
	}
	return 0;
}

int ds_policy_request_facts(const struct ds_policy_request *r, struct ds_facts *f)
{
	char *end;
	long port;

	ds_facts_init(f);
	snprintf(f->client_addr, sizeof f->client_addr, "%s", r->client_address);
	port = strtol(r->client_port, &end, 10);
	if (r->client_port[0] != '\0' && *end == '\0' && port >= 0 && port <= 65535)
		f->client_port = (int)port;
	snprintf(f->helo, sizeof f->helo, "%s", r->helo_name);
	snprintf(f->sender, sizeof f->sender, "%s", r->sender);

	f->tls = r->encryption_protocol[0] != '\0';
	if (f->tls) {
		long bits = strtol(r->encryption_keysize, NULL, 10);
		snprintf(f->tls_version, sizeof f->tls_version, "%s", r->encryption_protocol);
		snprintf(f->cipher, sizeof f->cipher, "%s", r->encryption_cipher);
		f->cipher_bits = bits > 0 && bits < 100000 ? (int)bits : 0;
		f->cert_presented = r->ccert_fingerprint[0] != '\0';
		f->mta_verified = r->ccert_subject[0] != '\0';
		if (f->cert_presented && ds_fingerprint_parse(r->ccert_fingerprint, f->fp) == 0)
			f->have_fp = 1;
		ds_xtext_decode(r->ccert_subject, f->cert_subject, sizeof f->cert_subject);
		ds_xtext_decode(r->ccert_issuer, f->cert_issuer, sizeof f->cert_issuer);
	} else {
		f->cert_presented = 0;
		f->mta_verified = 0;
	}
	return f->client_addr[0] != '\0' && f->client_port >= 0 ? 0 : -1;
}

void ds_policy_format_action(char *out, size_t outlen, const char *rcode,
    const char *xcode, const char *text)
{
	size_t n;

	if (rcode == NULL || rcode[0] == '\0') {
		snprintf(out, outlen, "action=DUNNO");
		return;
	}
	/* SMTP reply lines end at 512 bytes and Postfix prefixes its own
	 * "<rcpt>: Recipient address rejected: ": keep the text short. */
	snprintf(out, outlen, "action=%s %s %.*s", rcode, xcode,
	    DS_REPLY_TEXT_MAX, text ? text : "");
	/* one printable line: a peer-chosen string must not add attributes */
	for (n = 0; out[n] != '\0'; n++)
		if ((unsigned char)out[n] < 0x20 || (unsigned char)out[n] == 0x7f)
			out[n] = ' ';
}
