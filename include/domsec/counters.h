/*
 * counters.h - what domsecd counts (DESIGN.md sections 6 and 11): the
 * whitepaper's Domain-Secured Messages Received / Sent and Domain-Secured
 * Outbound Session Failures, forged trust headers removed, one counter per
 * verdict, and per partner entry one counter per verdict.  Process-wide,
 * thread-safe; saved to and restored from StateDir/counters.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_COUNTERS_H
#define DOMSEC_COUNTERS_H

#include <stdio.h>
#include <time.h>
#include "domsec/verdict.h"

enum ds_counter {
	DS_COUNT_SECURED_RECEIVED = 0,
	DS_COUNT_SECURED_SENT,
	DS_COUNT_OUTBOUND_FAILURES,
	DS_COUNT_FORGED_REMOVED,
	DS_COUNT_VERDICT_BASE     /* + enum ds_verdict */
};
#define DS_COUNTERS (DS_COUNT_VERDICT_BASE + DS_VERDICT_COUNT)
void ds_counter_add(enum ds_counter c, unsigned long n);
void ds_counter_sub(enum ds_counter c, unsigned long n);   /* never below 0 */
void ds_counter_set(enum ds_counter c, unsigned long v);
unsigned long ds_counter_get(enum ds_counter c);
/* "Domain-Secured Messages Received", "verdict secured", ... */
const char *ds_counter_name(enum ds_counter c);
/* Writes all counters as "name: value" lines to path atomically. */
int ds_counters_save(const char *path);
/* Reads a file written by ds_counters_save back into the counters
 * (domsecd at start, so counts survive restarts).  A missing file is not an
 * error.  Returns 0, -1 when the file exists but cannot be read. */
int ds_counters_load(const char *path);

/* The counter's machine name, for JSON and Prometheus:
 * "domain_secured_messages_received", ..., "verdict_secured", ... */
const char *ds_counter_key(enum ds_counter c);

/* Per partner entry (its domain as listed, "" never counted). */
void ds_counter_partner_verdict(const char *partner, enum ds_verdict v);
/* Calls fn for every partner/verdict count that is not zero. */
void ds_counter_partner_foreach(void (*fn)(const char *partner,
    enum ds_verdict v, unsigned long n, void *arg), void *arg);

#endif
