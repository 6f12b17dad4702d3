/*
 * counters.c - process-wide message counters (DESIGN.md section 6): the
 * whitepaper's Domain-Secured Messages Received / Sent and Domain-Secured
 * Outbound Session Failures, forged trust headers removed, and one counter
 * per verdict, and per partner entry one counter per verdict.  The global
 * ones are lock-free (C11 atomics); the per-partner table has a mutex.
 * Saved atomically as "name: value" lines (temporary file + rename) for
 * `domsecctl counters`; per-partner lines read "partner DOMAIN verdict V".
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "domsec/fileio.h"
#include <pthread.h>
#include "domsec/counters.h"
#include "domsec/log.h"

static atomic_ulong counters[DS_COUNTERS];

#define PARTNERS_MAX 1024   /* partner entries counted (the table's size) */

struct partner_count {
	char partner[256];
	unsigned long n[DS_VERDICT_COUNT];
};

static pthread_mutex_t partner_lock = PTHREAD_MUTEX_INITIALIZER;
static struct partner_count *partners;
static size_t n_partners;

static const char *const fixed_keys[DS_COUNT_VERDICT_BASE] = {
	[DS_COUNT_SECURED_RECEIVED] = "domain_secured_messages_received",
	[DS_COUNT_SECURED_SENT] = "domain_secured_messages_sent",
	[DS_COUNT_OUTBOUND_FAILURES] = "domain_secured_outbound_session_failures",
	[DS_COUNT_FORGED_REMOVED] = "forged_trust_headers_removed",
};

static const char *const fixed_names[DS_COUNT_VERDICT_BASE] = {
	[DS_COUNT_SECURED_RECEIVED] = "Domain-Secured Messages Received",
	[DS_COUNT_SECURED_SENT] = "Domain-Secured Messages Sent",
	[DS_COUNT_OUTBOUND_FAILURES] = "Domain-Secured Outbound Session Failures",
	[DS_COUNT_FORGED_REMOVED] = "Forged Trust Headers Removed",
};

static const char *const verdict_counter_names[DS_VERDICT_COUNT] = {
	[DS_VERDICT_SECURED] = "verdict secured",
	[DS_VERDICT_NO_TLS] = "verdict no-tls",
	[DS_VERDICT_NO_CERTIFICATE] = "verdict no-certificate",
	[DS_VERDICT_UNTRUSTED] = "verdict untrusted",
	[DS_VERDICT_NAME_MISMATCH] = "verdict name-mismatch",
	[DS_VERDICT_REVOKED] = "verdict revoked",
	[DS_VERDICT_REVOCATION_UNAVAILABLE] = "verdict revocation-unavailable",
	[DS_VERDICT_UNKNOWN_CERTIFICATE] = "verdict unknown-certificate",
	[DS_VERDICT_UNALIGNED] = "verdict unaligned",
};

void ds_counter_add(enum ds_counter c, unsigned long n)
{
	if ((unsigned)c < DS_COUNTERS)
		atomic_fetch_add(&counters[c], n);
}

void ds_counter_sub(enum ds_counter c, unsigned long n)
{
	if ((unsigned)c >= DS_COUNTERS)
		return;
	unsigned long cur = atomic_load(&counters[c]);
	/* Never wrap below zero. */
	while (!atomic_compare_exchange_weak(&counters[c], &cur,
	    cur >= n ? cur - n : 0))
		;
}

unsigned long ds_counter_get(enum ds_counter c)
{
	if ((unsigned)c >= DS_COUNTERS)
		return 0;
	return atomic_load(&counters[c]);
}

void ds_counter_set(enum ds_counter c, unsigned long v)
{
	if ((unsigned)c < DS_COUNTERS)
		atomic_store(&counters[c], v);
}

const char *ds_counter_name(enum ds_counter c)
{
	if ((unsigned)c < DS_COUNT_VERDICT_BASE)
		return fixed_names[c];
	if ((unsigned)c < DS_COUNTERS)
		return verdict_counter_names[c - DS_COUNT_VERDICT_BASE];
	return "invalid";
}

const char *ds_counter_key(enum ds_counter c)
{
	static const char *const verdict_keys[DS_VERDICT_COUNT] = {
		[DS_VERDICT_SECURED] = "verdict_secured",
		[DS_VERDICT_NO_TLS] = "verdict_no_tls",
		[DS_VERDICT_NO_CERTIFICATE] = "verdict_no_certificate",
		[DS_VERDICT_UNTRUSTED] = "verdict_untrusted",
		[DS_VERDICT_NAME_MISMATCH] = "verdict_name_mismatch",
		[DS_VERDICT_REVOKED] = "verdict_revoked",
		[DS_VERDICT_REVOCATION_UNAVAILABLE] = "verdict_revocation_unavailable",
		[DS_VERDICT_UNKNOWN_CERTIFICATE] = "verdict_unknown_certificate",
		[DS_VERDICT_UNALIGNED] = "verdict_unaligned",
	};

	if ((unsigned)c < DS_COUNT_VERDICT_BASE)
		return fixed_keys[c];
	if ((unsigned)c < DS_COUNTERS)
		return verdict_keys[c - DS_COUNT_VERDICT_BASE];
	return "invalid";
}

/* The row of partner (created when missing), with partner_lock held. */
static struct partner_count *partner_row(const char *partner)
{
	for (size_t i = 0; i < n_partners; i++)
		if (strcmp(partners[i].partner, partner) == 0)
			return &partners[i];
	if (n_partners >= PARTNERS_MAX)
		return NULL;
	if (partners == NULL && (partners = calloc(PARTNERS_MAX,
	    sizeof *partners)) == NULL)
		return NULL;
	snprintf(partners[n_partners].partner, sizeof partners[0].partner, "%s",
	    partner);
	return &partners[n_partners++];
}

static void partner_add(const char *partner, enum ds_verdict v,
    unsigned long n, int set)
{
	struct partner_count *row;

	if (partner == NULL || partner[0] == '\0' || (unsigned)v >= DS_VERDICT_COUNT)
		return;
	pthread_mutex_lock(&partner_lock);
	row = partner_row(partner);
	if (row != NULL)
		row->n[v] = set ? n : row->n[v] + n;
	pthread_mutex_unlock(&partner_lock);
}

void ds_counter_partner_verdict(const char *partner, enum ds_verdict v)
{
	partner_add(partner, v, 1, 0);
}

void ds_counter_partner_foreach(void (*fn)(const char *partner,
    enum ds_verdict v, unsigned long n, void *arg), void *arg)
{
	pthread_mutex_lock(&partner_lock);
	for (size_t i = 0; i < n_partners; i++)
		for (int v = 0; v < DS_VERDICT_COUNT; v++)
			if (partners[i].n[v] != 0)
				fn(partners[i].partner, (enum ds_verdict)v,
				    partners[i].n[v], arg);
	pthread_mutex_unlock(&partner_lock);
}

static void save_partner(const char *partner, enum ds_verdict v,
    unsigned long n, void *arg)
{
	fprintf((FILE *)arg, "partner %s verdict %s: %lu\n", partner,
	    ds_verdict_name(v), n);
}

int ds_counters_save(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m;
	int rc;

	if (path == NULL) {
		ds_log(LOG_ERR, "counters: no file name");
		return -1;
	}
	m = open_memstream(&text, &len);
	if (m == NULL) {
		ds_log(LOG_ERR, "counters: cannot write %s: %s", path,
		    strerror(errno));
		return -1;
	}
	for (int c = 0; c < DS_COUNTERS; c++)
		fprintf(m, "%s: %lu\n", ds_counter_name((enum ds_counter)c),
		    ds_counter_get((enum ds_counter)c));
	ds_counter_partner_foreach(save_partner, m);
	if (fclose(m) != 0) {
		ds_log(LOG_ERR, "counters: cannot write %s: %s", path,
		    strerror(errno));
		free(text);
		return -1;
	}
	rc = ds_file_write_atomic(path, text, len, 0644);
	if (rc != 0)
		ds_log(LOG_ERR, "counters: cannot write %s: %s", path,
		    strerror(errno));
	free(text);
	return rc;
}

int ds_counters_load(const char *path)
{
	char line[256];
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return errno == ENOENT ? 0 : -1;
	while (fgets(line, sizeof line, f) != NULL) {
		char *colon = strrchr(line, ':');
		unsigned long v;
		if (colon == NULL || sscanf(colon + 1, " %lu", &v) != 1)
			continue;
		*colon = '\0';
		for (int c = 0; c < DS_COUNTERS; c++)
			if (strcmp(line, ds_counter_name((enum ds_counter)c)) == 0)
				ds_counter_set((enum ds_counter)c, v);
		char partner[256], verdict[64];
		enum ds_verdict pv;
		if (sscanf(line, "partner %255s verdict %63s", partner, verdict) == 2
		    && ds_verdict_parse(verdict, &pv) == 0)
			partner_add(partner, pv, v, 1);
	}
	fclose(f);
	return 0;
}
