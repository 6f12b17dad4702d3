/*
 * acquire.h - certificate acquisition (DESIGN.md section 2): the full peer
 * certificate chain for the fingerprint an MTA reported on a live session.
 *
 *   1. pinned: every PEM file in PinnedCertDir and every partner pin= file
 *      (each file: leaf first, then its chain), indexed by the SHA-256 of
 *      its leaf;
 *   2. discovery (only for listed partners, only when Discovery is on): a
 *      STARTTLS probe of the connecting client's address, then of the
 *      partner domain's MX hosts, all on ProbePort; a probed chain is taken
 *      only when its leaf's SHA-256 equals the reported fingerprint.
 *      Results, positive and negative, are cached (DiscoveryCacheTTL,
 *      DiscoveryNegativeTTL) per fingerprint and domain; concurrent
 *      discoveries for one key share one probe; each probe is bounded by
 *      ProbeTimeout and the whole discovery by twice that (at most 8
 *      probes).  When every MX host was probed without a match, what they
 *      presented is remembered per domain for DiscoveryNegativeTTL, so that
 *      a stream of new fingerprints claiming a partner domain probes only
 *      the connecting client, never the partner's MX hosts again.
 *
 * Names are never used to find a certificate.  Thread-safe.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_ACQUIRE_H
#define DOMSEC_ACQUIRE_H

#include <stddef.h>
#include <openssl/x509.h>
#include "domsec/config.h"
#include "domsec/mx.h"
#include "domsec/x509info.h"

struct ds_acquire;

/* Loads the pinned certificates named by cfg.  A pin= file that cannot be
 * read, or an unreadable PinnedCertDir, is an error (NULL, err "FILE:
 * problem"); files in PinnedCertDir holding no certificate are skipped with
 * a warning. */
struct ds_acquire *ds_acquire_new(const struct ds_config *cfg, char *err,
    size_t errlen);
void ds_acquire_free(struct ds_acquire *a);

/* Number of distinct pinned leaves. */
size_t ds_acquire_pinned_count(const struct ds_acquire *a);

/* The pinned chain for fp (up-ref'd copy; caller frees with
 * sk_X509_pop_free(.., X509_free)), or NULL.  file (may be NULL) receives
 * the file it came from. */
STACK_OF(X509) *ds_acquire_pinned(const struct ds_acquire *a,
    const unsigned char fp[DS_FP_SHA256_LEN], char *file, size_t filelen);

struct ds_acquire_result {
	STACK_OF(X509) *chain;   /* leaf first; owned; NULL when not found */
	char source[32];         /* "pinned" or "discovered" */
	char origin[300];        /* pinned file, or "127.0.0.1 port 25" */
	int cached;              /* 1 when discovery answered from its cache */
	char detail[768];        /* why not found, in words */
};

/*
 * Pinned first, then discovery for domain (the partner domain D) and
 * client_addr (may be NULL or "").  Returns 0 with res->chain, or -1 with
 * res->detail.
 */
int ds_acquire_find(struct ds_acquire *a,
    const unsigned char fp[DS_FP_SHA256_LEN], const char *domain,
    const char *client_addr, struct ds_acquire_result *res);
void ds_acquire_result_free(struct ds_acquire_result *res);

/* Tests: the resolver for MX lookups (NULL = system resolver with short
 * timeouts), and forgetting every cached discovery result. */
void ds_acquire_set_resolver(struct ds_acquire *a, const struct ds_resolver *r);
void ds_acquire_flush_cache(struct ds_acquire *a);
/* Number of STARTTLS probes run so far (tests check sharing and caching). */
unsigned long ds_acquire_probe_count(const struct ds_acquire *a);

#endif
