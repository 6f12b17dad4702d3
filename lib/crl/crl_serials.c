/*
 * crl_serials.c - the index of a CRL's revoked serial numbers, built so
 * that a lookup costs one memory read: the serials (normalised content
 * octets) are stored inline in 64-octet buckets, one cache line each, as
 * (length, octets) records; a serial lives in the bucket its hash names
 * or, when that one is full, in one of the next few (linear probing over
 * buckets, each full bucket on the way flagged "overflowed" for one of two
 * classes of hashes, so a miss stops at the first bucket that no serial of
 * its class went past).  Serials too long for
 * a bucket, and the rare ones that find no room within the probe limit,
 * go to a spill area: (length, octets) records and an open-addressing
 * table of their offsets.  Arrays of 2 MB or more are mapped 2 MB-aligned
 * with MADV_HUGEPAGE: on a virtual machine a TLB miss under nested paging
 * costs more than the memory read itself.
 *
 * Promises: a lookup answers exactly whether the octets were added (no
 * false positives: records are compared in full); a serial added twice
 * takes bucket room once (the spill table indexes one copy); never more
 * than DS_CRL_MAX_PROBE bucket reads per lookup, plus the spill table when
 * it is not empty.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "crl_internal.h"

#define BUCKET 64                       /* octets: one cache line */
#define USED_MASK 0x3f                  /* header: octets of records used */
#define OVERFLOWED 0xc0                 /* header: records went further,
                                           0x40 those of even hash, 0x80
                                           those of odd (overflow_bit) */
/* target records per bucket, as a share of what one can hold */
#define BUCKET_LOAD 0.75
#define HUGE_PAGE ((size_t)2 << 20)

static uint64_t serial_hash(const unsigned char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;   /* FNV-1a ... */
	for (size_t i = 0; i < len; i++) {
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	h ^= h >> 33;                          /* ... and murmur3's finaliser */
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

/* The header bit saying that a record of hash h went past a bucket: a
 * miss of the other class stops there. */
static unsigned char overflow_bit(uint64_t h)
{
	return (unsigned char)(0x40u << (h & 1));
}

/* The bucket of hash h among n (n < 2^32): multiply-shift, no modulo. */
static size_t bucket_of(uint64_t h, size_t n)
{
	return (size_t)(((h >> 32) * (uint64_t)n) >> 32);
}

/* Zeroed memory for an array of len octets, 64-octet aligned; from 2 MB
 * up, mapped 2 MB-aligned with MADV_HUGEPAGE (*mapped = the length to
 * unmap, else 0).  NULL when out of memory. */
static void *big_alloc(size_t len, size_t *mapped)
{
	*mapped = 0;
	if (len < HUGE_PAGE) {
		size_t rounded = (len + BUCKET - 1) / BUCKET * BUCKET;
		void *p = aligned_alloc(BUCKET, rounded ? rounded : BUCKET);
		if (p != NULL)
			memset(p, 0, rounded ? rounded : BUCKET);
		return p;
	}
	size_t page = 4096, total = len + HUGE_PAGE;
	len = (len + page - 1) / page * page;
	unsigned char *raw = mmap(NULL, total, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	uintptr_t a = ((uintptr_t)raw + HUGE_PAGE - 1) &
	    ~(uintptr_t)(HUGE_PAGE - 1);
	unsigned char *p = (unsigned char *)a;
	if (p > raw)
		munmap(raw, (size_t)(p - raw));
	if (raw + total > p + len)
		munmap(p + len, (size_t)(raw + total - (p + len)));
	(void)madvise(p, len, MADV_HUGEPAGE);  /* a hint: fine if refused */
	*mapped = len;
	return p;
}

static void big_free(void *p, size_t mapped)
{
	if (p != NULL && mapped)
		munmap(p, mapped);
	else
		free(p);
}

size_t ds_crl_serials_buckets_for(size_t n, size_t bytes)
{
	if (n == 0)
		return 0;
	size_t avg = (bytes + n - 1) / n;            /* octets per record */
	size_t per = (BUCKET - 1) / (avg ? avg : 1);  /* records per bucket */
	if (per == 0)
		per = 1;
	double want = (double)n / ((double)per * BUCKET_LOAD);
	size_t b = (size_t)want + 1;
	return b;
}

int ds_crl_serials_init(struct ds_crl_serials *x, size_t n_buckets,
    size_t spill_cap)
{
	memset(x, 0, sizeof *x);
	if (n_buckets >= UINT32_MAX || spill_cap >= UINT32_MAX)
		return -1;
	x->n_buckets = n_buckets;
	if (n_buckets > 0) {
		x->buckets = big_alloc(n_buckets * BUCKET, &x->buckets_mapped);
		if (x->buckets == NULL)
			return -1;
	}
	/* room for everything to spill; untouched pages cost nothing and
	 * ds_crl_serials_finish gives the rest back */
	x->spill_cap = spill_cap;
	x->spill = malloc(spill_cap ? spill_cap : 1);
	return x->spill == NULL ? -1 : 0;
}

/* 1 when the record at rec (spill area) holds s. */
static int spill_rec_is(const unsigned char *rec, const unsigned char *s,
    size_t len)
{
	return rec[0] == len && memcmp(rec + 1, s, len) == 0;
}

/* Scans one bucket: 1 when it holds s. */
static int bucket_has(const unsigned char *k, const unsigned char *s,
    size_t len)
{
	size_t end = 1 + (k[0] & USED_MASK);
	/* the last octet first: it differs even between serials a CA
	 * numbers in sequence, and saves most calls to memcmp */
	for (size_t p = 1; p < end; p += 1 + (size_t)k[p])
		if (k[p] == len && k[p + len] == s[len - 1] &&
		    memcmp(k + p + 1, s, len) == 0)
			return 1;
	return 0;
}

int ds_crl_serials_add(struct ds_crl_serials *x, const unsigned char *s,
    size_t len)
{
	if (len == 0 || len > 255)
		return -1;
	if (len <= DS_CRL_BUCKET_SERIAL && x->n_buckets > 0) {
		uint64_t h = serial_hash(s, len);
		size_t b = bucket_of(h, x->n_buckets);
		for (int i = 0; i < DS_CRL_MAX_PROBE; i++) {
			unsigned char *k = x->buckets + b * BUCKET;
			size_t used = k[0] & USED_MASK;
			if (bucket_has(k, s, len))
				return 0;
			if (1 + used + 1 + len <= BUCKET) {
				k[1 + used] = (unsigned char)len;
				memcpy(k + 2 + used, s, len);
				k[0] = (unsigned char)((k[0] & OVERFLOWED) |
				    (used + 1 + len));
				return 0;
			}
			k[0] |= overflow_bit(h);
			b = b + 1 == x->n_buckets ? 0 : b + 1;
		}
	}
	/* too long for a bucket, or no room near its own: the spill area,
	 * indexed (and duplicates dropped) by ds_crl_serials_finish */
	if (x->spill_len + 1 + len > x->spill_cap)
		return -1;
	x->spill[x->spill_len] = (unsigned char)len;
	memcpy(x->spill + x->spill_len + 1, s, len);
	x->spill_len += 1 + len;
	x->n_spilled++;
	return 0;
}

int ds_crl_serials_finish(struct ds_crl_serials *x)
{
	size_t t = 16, mask;

	if (x->n_spilled == 0) {
		free(x->spill);
		x->spill = NULL;
		x->spill_cap = 0;
		return 0;
	}
	unsigned char *shrunk = realloc(x->spill, x->spill_len);
	if (shrunk != NULL) {
		x->spill = shrunk;
		x->spill_cap = x->spill_len;
	}
	while (t < x->n_spilled * 2)
		t <<= 1;
	x->table = big_alloc(t * sizeof *x->table, &x->table_mapped);
	if (x->table == NULL)
		return -1;
	x->table_size = t;
	mask = t - 1;
	for (size_t off = 0; off < x->spill_len; off += 1 + x->spill[off]) {
		const unsigned char *rec = x->spill + off;
		size_t i = serial_hash(rec + 1, rec[0]) & mask;
		while (x->table[i] != 0) {
			if (spill_rec_is(x->spill + x->table[i] - 1, rec + 1,
			    rec[0]))
				break;   /* a duplicate: one copy is enough */
			i = (i + 1) & mask;
		}
		if (x->table[i] == 0)
			x->table[i] = (uint32_t)off + 1;
	}
	return 0;
}

int ds_crl_serials_has(const struct ds_crl_serials *x,
    const unsigned char *s, size_t len)
{
	if (len == 0 || len > 255)
		return 0;
	if (len <= DS_CRL_BUCKET_SERIAL && x->n_buckets > 0) {
		uint64_t h = serial_hash(s, len);
		size_t b = bucket_of(h, x->n_buckets);
		for (int i = 0;; i++) {
			const unsigned char *k = x->buckets + b * BUCKET;
			if (bucket_has(k, s, len))
				return 1;
			if (!(k[0] & overflow_bit(h)))
				return 0;    /* none of its class went past */
			if (i + 1 == DS_CRL_MAX_PROBE)
				break;       /* it may have spilled */
			b = b + 1 == x->n_buckets ? 0 : b + 1;
		}
	}
	if (x->table_size == 0)
		return 0;
	size_t mask = x->table_size - 1;
	size_t i = serial_hash(s, len) & mask;
	while (x->table[i] != 0) {
		if (spill_rec_is(x->spill + x->table[i] - 1, s, len))
			return 1;
		i = (i + 1) & mask;
	}
	return 0;
}

size_t ds_crl_serials_memory(const struct ds_crl_serials *x)
{
	return x->n_buckets * BUCKET + x->spill_cap +
	    x->table_size * sizeof *x->table;
}

void ds_crl_serials_free(struct ds_crl_serials *x)
{
	big_free(x->buckets, x->buckets_mapped);
	big_free(x->table, x->table_mapped);
	free(x->spill);
	memset(x, 0, sizeof *x);
}
