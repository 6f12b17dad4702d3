/*
 * verdict_log.c - formats and writes the one log line per verdict (format
 * in include/domsec/verdict_log.h).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "domsec/log.h"
#include "domsec/trust_headers.h"
#include "domsec/verdict_log.h"

#define LOG_LINE_MAX 4096

const char *ds_verdict_action(enum ds_verdict v)
{
	if (ds_verdict_accepts(v))
		return "accept";
	return ds_verdict_is_temporary(v) ? "defer" : "reject";
}

struct line {
	char *out;
	size_t len, pos;
};

static void put(struct line *l, const char *key, const char *value, int quote)
{
	char q[1200];
	size_t need;

	if (value == NULL || value[0] == '\0')
		return;
	if (quote) {
		ds_quote_value(value, 1000, q, sizeof q);
		value = q;
	}
	need = strlen(key) + 1 + strlen(value) + (l->pos > 0 ? 1 : 0);
	if (l->pos + need + 1 > l->len)
		return;
	l->pos += (size_t)snprintf(l->out + l->pos, l->len - l->pos, "%s%s=%s",
	    l->pos > 0 ? " " : "", key, value);
}

/* Unquoted tokens still must not carry spaces or control bytes. */
static void put_token(struct line *l, const char *key, const char *value)
{
	if (value == NULL)
		return;
	for (const char *p = value; *p; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    *p == '"') {
			put(l, key, value, 1);
			return;
		}
	}
	put(l, key, value, 0);
}

void ds_verdict_log_format(const struct ds_decision *d,
    const struct ds_facts *facts, char *out, size_t outlen)
{
	struct line l = { out, outlen, 0 };
	char client[128] = "", num[32];

	if (outlen == 0)
		return;
	out[0] = '\0';
	/* Postfix's convention: "QUEUEID: ..." lines, found by grep QUEUEID */
	for (const char *q = d->queue_id; *q != '\0' && l.pos + 2 < outlen; q++)
		if (isalnum((unsigned char)*q))
			out[l.pos++] = *q;
	if (l.pos > 0) {
		out[l.pos++] = ':';
		out[l.pos] = '\0';
	}
	put_token(&l, "verdict", d->is_partner ? ds_verdict_name(d->verdict) : "none");
	put_token(&l, "mode", d->is_partner ? ds_mode_name(d->mode) : "");
	put_token(&l, "action", d->action[0] ? d->action : "accept");
	if (d->is_partner && d->mode == DS_MODE_MONITOR &&
	    !ds_verdict_accepts(d->verdict))
		put_token(&l, "would", ds_verdict_action(d->verdict));
	put_token(&l, "domain", d->domain);
	const char *addr = facts != NULL ? facts->client_addr : d->client_addr;
	int port = facts != NULL ? facts->client_port : d->client_port;
	if (addr[0] != '\0') {
		int v6 = strchr(addr, ':') != NULL;
		if (port >= 0)
			snprintf(client, sizeof client, "%s%.64s%s:%d", v6 ? "[" : "",
			    addr, v6 ? "]" : "", port);
		else
			snprintf(client, sizeof client, "%.64s", addr);
	}
	put_token(&l, "client", client);
	if (facts != NULL) {
		put(&l, "helo", facts->helo, 1);
		put_token(&l, "tls", facts->tls == 0 ? "none" : facts->tls_version);
		put(&l, "cipher", facts->cipher, 1);
		if (facts->cipher_bits > 0) {
			snprintf(num, sizeof num, "%d", facts->cipher_bits);
			put_token(&l, "bits", num);
		}
	} else {
		put(&l, "helo", d->helo, 1);
		put_token(&l, "tls", d->tls_version);
		put(&l, "cipher", d->cipher, 1);
	}
	put_token(&l, "source", d->cert_source);
	if (d->have_leaf) {
		put(&l, "subject", d->leaf.subject, 1);
		put(&l, "issuer", d->leaf.issuer, 1);
		put_token(&l, "serial", d->leaf.serial);
		put_token(&l, "thumbprint", d->leaf.thumbprint);
		put_token(&l, "fingerprint", d->leaf.fingerprint);
		put(&l, "altnames", d->leaf.alt_names, 1);
	} else {
		if (facts != NULL) {
			put(&l, "subject", facts->cert_subject, 1);
			put(&l, "issuer", facts->cert_issuer, 1);
		}
		put_token(&l, "fingerprint", d->fingerprint);
	}
	put(&l, "matched", d->matched_name, 1);
	if (d->refuse) {
		char reply[16];
		snprintf(reply, sizeof reply, "%.3s %.7s", d->reply.rcode, d->reply.xcode);
		put(&l, "reply", reply, 1);
	}
	put(&l, "reason", d->reason, 1);
}

void ds_verdict_log(const struct ds_decision *d, const struct ds_facts *facts)
{
	char line[LOG_LINE_MAX];

	ds_verdict_log_format(d, facts, line, sizeof line);
	ds_log(d->is_partner && !ds_verdict_accepts(d->verdict) ? LOG_NOTICE :
	    LOG_INFO, "%s", line);
}
