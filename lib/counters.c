/*
 * counters.c - process-wide message counters (DESIGN.md section 6): the
 * whitepaper's Domain-Secured Messages Received / Sent and Domain-Secured
 * Outbound Session Failures, forged trust headers removed, and one counter
 * per verdict.  Lock-free (C11 atomics); saved atomically as "name: value"
 * lines (temporary file + rename) for `domsecctl counters`.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "domsec/fileio.h"
#include "domsec/inbound.h"
#include "domsec/log.h"

static atomic_ulong counters[DS_COUNTERS];

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
	}
	fclose(f);
	return 0;
}
