/*
 * probe.h - a bounded SMTP STARTTLS client that records the certificate
 * chain a server presents (certificate discovery, outbound probes,
 * `domsecctl probe`).  It never verifies: callers hand the chain to the
 * engine.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_PROBE_H
#define DOMSEC_PROBE_H

#include <stddef.h>
#include <openssl/x509.h>

struct ds_probe_result {
	STACK_OF(X509) *chain;      /* presented chain, leaf first; owned */
	char tls_version[32];
	char cipher[128];
	char banner[256];           /* first line of the 220 greeting */
	char error[256];            /* when chain is NULL */
	int temporary;              /* 1 when the failure may go away (timeout,
	                               refused, 4xx) */
};

/*
 * Connects to addr:port (numeric address; host only names the server for
 * SNI and logs, may be NULL), EHLO helo, STARTTLS, handshake, QUIT.  The
 * whole exchange is bounded by timeout_ms.  client_cert_file/key_file (may be
 * NULL) present our certificate.  Returns 0 with res->chain set, or -1 with
 * res->error.
 */
int ds_probe_starttls(const char *addr, int port, const char *host,
    const char *helo, long timeout_ms, const char *client_cert_file,
    const char *client_key_file, struct ds_probe_result *res);
void ds_probe_result_free(struct ds_probe_result *res);

#endif
