/*
 * bench_handoff.c - what the hand-off table (policy service -> milter, see
 * session.h) costs in memory: heap bytes (mallinfo2) for a table of
 * 10,000 and 100,000 sessions, with today's entry (the binding facts only,
 * ds_core_handoff_entry_size()) and with the entry of before issue 9 (a
 * whole struct ds_facts and struct ds_decision, a sender and two flags),
 * and the time of one put and one get.
 * Usage: bench_handoff
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "domsec/facts.h"
#include "domsec/inbound.h"
#include "domsec/session.h"
#include "domsec/sessions.h"

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Heap bytes of a table of n entries of size bytes; *put_us, *get_us. */
static size_t table_bytes(size_t size, size_t n, double *put_us,
    double *get_us)
{
	struct mallinfo2 before, after;
	struct ds_sessions *t;
	unsigned char *v = calloc(1, size);
	char addr[64];
	double t0, t1, t2;
	size_t bytes;

	if (v == NULL)
		return 0;
	malloc_trim(0);
	before = mallinfo2();
	t = ds_sessions_new(size, 600, n);
	if (t == NULL) {
		free(v);
		return 0;
	}
	t0 = now_s();
	for (size_t i = 0; i < n; i++) {
		snprintf(addr, sizeof addr, "192.0.%zu.%zu", (i >> 8) & 255,
		    i & 255);
		v[0] = (unsigned char)i;
		if (ds_sessions_put(t, addr, 1024 + (int)(i >> 16), v) != 0) {
			fprintf(stderr, "bench_handoff: put failed\n");
			exit(1);
		}
	}
	t1 = now_s();
	for (size_t i = 0; i < n; i++) {
		snprintf(addr, sizeof addr, "192.0.%zu.%zu", (i >> 8) & 255,
		    i & 255);
		if (!ds_sessions_get(t, addr, 1024 + (int)(i >> 16), v)) {
			fprintf(stderr, "bench_handoff: entry %zu "
			    "missing\n", i);
			exit(1);
		}
	}
	t2 = now_s();
	after = mallinfo2();
	bytes = after.uordblks + after.hblkhd - before.uordblks -
	    before.hblkhd;
	*put_us = (t1 - t0) / (double)n * 1e6;
	*get_us = (t2 - t1) / (double)n * 1e6;
	ds_sessions_free(t);
	free(v);
	return bytes;
}

int main(void)
{
	size_t now = ds_core_handoff_entry_size();
	size_t old = sizeof(struct ds_facts) + sizeof(struct ds_decision) +
	    512 + 2 * sizeof(int);
	static const size_t counts[] = { 10000, 100000 };

	printf("hand-off entry value: %zu bytes now, %zu bytes before issue 9 "
	    "(struct ds_facts %zu + struct ds_decision %zu + sender + flags)\n",
	    now, old, sizeof(struct ds_facts), sizeof(struct ds_decision));
	printf("%-10s %16s %16s %10s %10s\n", "sessions", "now (MB)",
	    "before (MB)", "put us", "get us");
	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
		double put, get, put_old, get_old;
		size_t b = table_bytes(now, counts[i], &put, &get);
		size_t b_old = table_bytes(old, counts[i], &put_old, &get_old);
		printf("%-10zu %16.1f %16.1f %10.2f %10.2f\n", counts[i],
		    (double)b / 1e6, (double)b_old / 1e6, put, get);
	}
	return 0;
}
