/*
 * bench_crl.c - big CRLs: OpenSSL's X509_CRL versus domsec's compact serial
 * index (lib/crl/crl_index.c), side by side, for 10k, 100k and 1M entries.
 *
 * The CRLs are generated here (DER written directly, signed with a
 * throw-away P-256 key), shaped like real ones: 16-octet random serials,
 * a revocation date and a reasonCode extension per entry (about 50 octets
 * per entry, as in the 49 MB / 1M-entry CRL of DESIGN.md section 5).
 *
 * Each measurement runs in a fresh child process so that its resident
 * memory growth (RSS delta, from /proc/self/statm) is its own.  Printed per
 * size:
 *   OpenSSL: d2i_X509_CRL time, first X509_CRL_get0_by_serial time (which
 *            sorts the entries), RSS delta, lookups per second;
 *   domsec:  ds_crl_data_parse_der time (DER walk + SHA-256 + index),
 *            first lookup time, RSS delta, lookups per second;
 *   and the signature check time of each (X509_CRL_verify versus
 *   ds_crl_der_verify over the same DER).
 * Usage: bench_crl [N...]   (default 10000 100000 1000000)
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include "lib/crl/crl_internal.h"

#define SERIAL_LEN 16
#define LOOKUPS 200000

/* ---- a tiny DER writer ---- */

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		while (b->len + n > b->cap)
			b->cap = b->cap ? b->cap * 2 : 4096;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL) {
			perror("realloc");
			exit(1);
		}
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void put_header(struct buf *b, int tag, size_t len)
{
	unsigned char h[6];
	size_t n = 0;
	h[n++] = (unsigned char)tag;
	if (len < 0x80) {
		h[n++] = (unsigned char)len;
	} else if (len < 0x100) {
		h[n++] = 0x81;
		h[n++] = (unsigned char)len;
	} else if (len < 0x10000) {
		h[n++] = 0x82;
		h[n++] = (unsigned char)(len >> 8);
		h[n++] = (unsigned char)len;
	} else if (len < 0x1000000) {
		h[n++] = 0x83;
		h[n++] = (unsigned char)(len >> 16);
		h[n++] = (unsigned char)(len >> 8);
		h[n++] = (unsigned char)len;
	} else {
		h[n++] = 0x84;
		h[n++] = (unsigned char)(len >> 24);
		h[n++] = (unsigned char)(len >> 16);
		h[n++] = (unsigned char)(len >> 8);
		h[n++] = (unsigned char)len;
	}
	put(b, h, n);
}

static void put_tlv(struct buf *b, int tag, const void *v, size_t n)
{
	put_header(b, tag, n);
	put(b, v, n);
}

static void utctime(time_t t, char out[14])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 14, "%y%m%d%H%M%SZ", &tm);
}

static const unsigned char ecdsa_sha256[] = {
	0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02
};

/* Builds a signed CRL of n entries; serials (n * SERIAL_LEN) returned. */
static unsigned char *make_crl(size_t n, EVP_PKEY *key, X509_NAME *issuer,
    size_t *der_len, unsigned char **serials_out)
{
	struct buf entries = { 0 }, tbs = { 0 }, body = { 0 }, out = { 0 };
	unsigned char *serials = malloc(n * SERIAL_LEN), *name = NULL, *sig;
	char now_t[14], next_t[14];
	time_t now = time(NULL);
	int name_len;
	size_t sig_len;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	/* reasonCode keyCompromise: SEQ { SEQ { OID 2.5.29.21, OCTET { ENUM 1 } } } */
	static const unsigned char reason[] = {
		0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03,
		0x0a, 0x01, 0x01
	};

	RAND_bytes(serials, (int)(n * SERIAL_LEN));
	utctime(now - 3600, now_t);
	utctime(now + 7 * 86400, next_t);
	for (size_t i = 0; i < n; i++) {
		unsigned char *s = serials + i * SERIAL_LEN;
		unsigned char ser[SERIAL_LEN + 1];
		s[0] &= 0x7f;            /* positive, */
		s[0] |= 0x01;            /* and no leading zero octet */
		memcpy(ser, s, SERIAL_LEN);
		put_header(&entries, 0x30, 2 + SERIAL_LEN + 15 + sizeof reason);
		put_tlv(&entries, 0x02, ser, SERIAL_LEN);
		put_tlv(&entries, 0x17, now_t, 13);
		put(&entries, reason, sizeof reason);
	}
	name_len = i2d_X509_NAME(issuer, &name);
	put_tlv(&body, 0x02, "\x01", 1);                 /* version v2 */
	put(&body, ecdsa_sha256, sizeof ecdsa_sha256);
	put(&body, name, (size_t)name_len);
	put_tlv(&body, 0x17, now_t, 13);
	put_tlv(&body, 0x17, next_t, 13);
	put_tlv(&body, 0x30, entries.p, entries.len);
	{
		/* [0] { SEQ { SEQ { OID 2.5.29.20 (cRLNumber), OCTET { INT 1 } } } } */
		static const unsigned char crl_number[] = {
			0xa0, 0x0e, 0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d,
			0x14, 0x04, 0x03, 0x02, 0x01, 0x01
		};
		put(&body, crl_number, sizeof crl_number);
	}
	put_tlv(&tbs, 0x30, body.p, body.len);

	EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key);
	EVP_DigestSign(md, NULL, &sig_len, tbs.p, tbs.len);
	sig = malloc(sig_len + 1);
	sig[0] = 0;                                      /* unused bits */
	EVP_DigestSign(md, sig + 1, &sig_len, tbs.p, tbs.len);

	free(body.p);
	body.p = NULL;
	body.len = body.cap = 0;
	put(&body, tbs.p, tbs.len);
	put(&body, ecdsa_sha256, sizeof ecdsa_sha256);
	put_tlv(&body, 0x03, sig, sig_len + 1);
	put_tlv(&out, 0x30, body.p, body.len);

	free(entries.p);
	free(tbs.p);
	free(body.p);
	free(sig);
	OPENSSL_free(name);
	EVP_MD_CTX_free(md);
	*der_len = out.len;
	*serials_out = serials;
	return out.p;
}

/* ---- measuring ---- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double rss_mb(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return (double)resident * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
}

struct result {
	double load_s, first_s, rss_mb, lookups_per_s, verify_s;
	double index_mb;          /* domsec: ds_crl_data_memory() */
	long found;
};

/* Probe serials: even i listed, odd i random (almost surely absent). */
static unsigned char *probes(const unsigned char *serials, size_t n)
{
	unsigned char *p = malloc((size_t)LOOKUPS * SERIAL_LEN);
	RAND_bytes(p, LOOKUPS * SERIAL_LEN);
	for (size_t i = 0; i < LOOKUPS; i++) {
		if (i % 2 == 0)
			memcpy(p + i * SERIAL_LEN, serials +
			    ((i * 7919) % n) * SERIAL_LEN, SERIAL_LEN);
		p[i * SERIAL_LEN] = (unsigned char)((p[i * SERIAL_LEN] & 0x7f) | 1);
	}
	return p;
}

static void run_openssl(const unsigned char *der, size_t len,
    const unsigned char *serials, size_t n, EVP_PKEY *key, struct result *r)
{
	unsigned char *pr = probes(serials, n);
	ASN1_INTEGER **ai = malloc(LOOKUPS * sizeof *ai);
	X509_REVOKED *rev;
	const unsigned char *p = der;
	double base, t;
	X509_CRL *crl;

	for (size_t i = 0; i < LOOKUPS; i++) {
		ai[i] = ASN1_INTEGER_new();
		ASN1_STRING_set(ai[i], pr + i * SERIAL_LEN, SERIAL_LEN);
	}
	base = rss_mb();
	t = now_s();
	crl = d2i_X509_CRL(NULL, &p, (long)len);
	r->load_s = now_s() - t;
	if (crl == NULL) {
		fprintf(stderr, "d2i_X509_CRL failed\n");
		exit(1);
	}
	t = now_s();
	X509_CRL_get0_by_serial(crl, &rev, ai[0]);
	r->first_s = now_s() - t;
	r->rss_mb = rss_mb() - base;
	r->found = 0;
	t = now_s();
	for (size_t i = 0; i < LOOKUPS; i++)
		r->found += X509_CRL_get0_by_serial(crl, &rev, ai[i]) == 1;
	r->lookups_per_s = LOOKUPS / (now_s() - t);
	t = now_s();
	if (X509_CRL_verify(crl, key) != 1) {
		fprintf(stderr, "X509_CRL_verify failed\n");
		exit(1);
	}
	r->verify_s = now_s() - t;
}

static void run_domsec(const unsigned char *der, size_t len,
    const unsigned char *serials, size_t n, EVP_PKEY *key, struct result *r)
{
	unsigned char *pr = probes(serials, n);
	char err[256];
	double base, t;
	struct ds_crl_data *d;

	base = rss_mb();
	t = now_s();
	d = ds_crl_data_parse_der(der, len, err, sizeof err);
	r->load_s = now_s() - t;
	if (d == NULL || d->n_entries != n) {
		fprintf(stderr, "ds_crl_data_parse_der: %s\n", d ? "count" : err);
		exit(1);
	}
	t = now_s();
	ds_crl_data_lookup(d, pr, SERIAL_LEN);
	r->first_s = now_s() - t;
	r->rss_mb = rss_mb() - base;
	r->index_mb = (double)ds_crl_data_memory(d) / 1048576.0;
	r->found = 0;
	t = now_s();
	for (size_t i = 0; i < LOOKUPS; i++)
		r->found += ds_crl_data_lookup(d, pr + i * SERIAL_LEN, SERIAL_LEN);
	r->lookups_per_s = LOOKUPS / (now_s() - t);
	t = now_s();
	if (ds_crl_der_verify(der, len, key) != 1) {
		fprintf(stderr, "ds_crl_der_verify failed\n");
		exit(1);
	}
	r->verify_s = now_s() - t;
}

/* Runs fn in a child; its result comes back through a pipe. */
static int in_child(void (*fn)(const unsigned char *, size_t,
    const unsigned char *, size_t, EVP_PKEY *, struct result *),
    const unsigned char *der, size_t len, const unsigned char *serials,
    size_t n, EVP_PKEY *key, struct result *r)
{
	int fds[2], status;
	pid_t pid;

	if (pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct result cr;
		close(fds[0]);
		fn(der, len, serials, n, key, &cr);
		if (write(fds[1], &cr, sizeof cr) != (ssize_t)sizeof cr)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], r, sizeof *r) != (ssize_t)sizeof *r) {
		close(fds[0]);
		waitpid(pid, &status, 0);
		return -1;
	}
	close(fds[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	size_t sizes[8] = { 10000, 100000, 1000000 };
	size_t nsizes = 3;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509_NAME *issuer = X509_NAME_new();

	if (argc > 1) {
		nsizes = 0;
		for (int i = 1; i < argc && nsizes < 8; i++)
			sizes[nsizes++] = strtoul(argv[i], NULL, 10);
	}
	X509_NAME_add_entry_by_txt(issuer, "CN", MBSTRING_ASC,
	    (const unsigned char *)"domsec Bench CA", -1, -1, 0);
	printf("CRL bench: OpenSSL %s X509_CRL vs domsec compact index "
	    "(DER walk + hash table of serial octets; no X509_CRL kept)\n",
	    OpenSSL_version(OPENSSL_VERSION_STRING));
	printf("%d lookups per run, half listed, half absent; RSS = growth of "
	    "resident memory in a fresh process\n\n", LOOKUPS);
	printf("%9s %8s | %-44s | %-44s\n", "", "", "OpenSSL X509_CRL", "domsec index");
	printf("%9s %8s | %8s %9s %8s %8s %7s | %8s %9s %8s %8s %7s\n", "entries",
	    "DER MB", "decode", "1st look", "RSS MB", "Mlook/s", "verify",
	    "index", "1st look", "RSS MB", "Mlook/s", "verify");
	for (size_t k = 0; k < nsizes; k++) {
		size_t n = sizes[k], len;
		unsigned char *serials;
		double t = now_s();
		unsigned char *der = make_crl(n, key, issuer, &len, &serials);
		struct result o, d;
		double gen = now_s() - t;

		if (in_child(run_openssl, der, len, serials, n, key, &o) != 0 ||
		    in_child(run_domsec, der, len, serials, n, key, &d) != 0) {
			fprintf(stderr, "bench child failed for %zu entries\n", n);
			return 1;
		}
		if (o.found != d.found) {
			fprintf(stderr, "MISMATCH: OpenSSL found %ld, domsec %ld\n",
			    o.found, d.found);
			return 1;
		}
		printf("%9zu %8.1f | %7.3fs %8.4fs %8.1f %8.2f %6.3fs | %7.3fs "
		    "%8.6fs %8.1f %8.2f %6.3fs\n", n, (double)len / 1048576.0,
		    o.load_s, o.first_s, o.rss_mb, o.lookups_per_s / 1e6,
		    o.verify_s, d.load_s, d.first_s, d.rss_mb,
		    d.lookups_per_s / 1e6, d.verify_s);
		printf("%9s %8s   (generated in %.2fs; both found %ld of %d probes; "
		    "index %.1f MB allocated; memory %.1fx smaller, load %.1fx "
		    "faster)\n", "", "", gen, d.found, LOOKUPS, d.index_mb,
		    o.rss_mb / (d.rss_mb > 0.01 ? d.rss_mb : 0.01),
		    (o.load_s + o.first_s) / (d.load_s + d.first_s));
		free(der);
		free(serials);
	}
	EVP_PKEY_free(key);
	X509_NAME_free(issuer);
	return 0;
}
