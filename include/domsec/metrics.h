/*
 * metrics.h - domsec's counters and gauges as Prometheus text (the format
 * node_exporter's textfile collector and a Prometheus scrape read):
 * counters (the whitepaper's three, forged headers removed, per verdict,
 * per partner and verdict) and gauges Exchange never had: days until each
 * last-seen partner certificate expires, seconds until each cached CRL's
 * nextUpdate, the time of its last successful download.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_METRICS_H
#define DOMSEC_METRICS_H

#include <stdio.h>
#include <time.h>
#include "domsec/crl.h"

/* Remembers the certificate a partner last presented (bounded table). */
void ds_metrics_note_certificate(const char *partner, const char *fingerprint,
    time_t not_after);

/* Writes every metric to out; crls may be NULL (no CRL gauges).
 * Returns 0, -1 on a write error. */
int ds_metrics_write(FILE *out, struct ds_crl_store *crls, time_t now);

/* The metrics file beside a counters file: DIR/metrics.prom for
 * DIR/counters (StateDir).  Returns 0, -1 when counters_file has no
 * directory part or the result does not fit in outlen. */
int ds_metrics_path(const char *counters_file, char *out, size_t outlen);

/* ds_metrics_write into path atomically (mode 0644).  Returns 0 or -1. */
int ds_metrics_save(const char *path, struct ds_crl_store *crls);

#endif
