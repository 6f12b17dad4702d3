/*
 * acquire_internal.h - private to lib/acquire.c (the pinned index, the
 * entry point) and lib/acquire_discovery.c (STARTTLS discovery and its
 * caches): the acquisition object and what the two files share.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_ACQUIRE_INTERNAL_H
#define DOMSEC_ACQUIRE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include "domsec/acquire.h"
#include "domsec/mx.h"

#define DISCOVERY_CACHE_MAX 4096
#define DISCOVERY_MAX_PROBES 8

struct pinned {
	unsigned char fp[DS_FP_SHA256_LEN];
	STACK_OF(X509) *chain;
	char *file;
};

struct disc_entry {
	struct disc_entry *next;
	unsigned char fp[DS_FP_SHA256_LEN];
	char domain[256];
	time_t expires;
	int busy;                    /* a discovery for this key is running */
	STACK_OF(X509) *chain;       /* NULL: negative result */
	char origin[300];
	char detail[768];
};

/*
 * What the MX hosts of a partner domain presented when a discovery probed
 * them all and none matched.  Kept for DiscoveryNegativeTTL so that a
 * stream of new fingerprints claiming that domain cannot make us probe the
 * partner's MX hosts again and again: they are compared with these chains.
 */
struct mx_seen {
	struct mx_seen *next;
	char domain[256];
	time_t expires;
	size_t n;
	STACK_OF(X509) *chains[DISCOVERY_MAX_PROBES];
	char origins[DISCOVERY_MAX_PROBES][300];
	char detail[768];
};

struct ds_acquire {
	const struct ds_config *cfg;
	struct pinned *pins;
	size_t n_pins;

	pthread_mutex_t lock;
	pthread_cond_t done;
	struct disc_entry *cache;
	size_t n_cache;
	struct mx_seen *mx_seen;
	size_t n_mx_seen;
	struct ds_resolver resolver;
	int have_resolver;
	atomic_ulong probes;
};

/* Frees every discovery cache entry and MX record (ds_acquire_free). */
void ds_acquire_discovery_free(struct ds_acquire *a);

/* Looks the fingerprint up in the discovery cache, else discovers it by
 * probing client_addr and then the MX hosts of domain (one discovery per
 * key at a time; others wait for it).  Returns 0 with res->chain, or -1
 * with res->detail saying what was tried. */
int ds_acquire_find_discovered(struct ds_acquire *a,
    const unsigned char fp[DS_FP_SHA256_LEN], const char *domain,
    const char *client_addr, struct ds_acquire_result *res);

#endif
