/*
 * bench_crl.c - big CRLs: domsec's CRL engine (lib/crl/crl_index.c) versus
 * OpenSSL (d2i_X509_CRL + X509_CRL_verify), for 10k, 100k and 1M entries.
 *
 * The CRLs are generated here at bench time (DER written directly, signed
 * with a throw-away P-256 key), shaped like real ones: 16-octet random
 * serials, a revocation date and a reasonCode extension per entry (about
 * 50 octets per entry, as in the 49 MB / 1M-entry CRL of DESIGN.md section
 * 5), and written to a temporary directory with the serials and the key.
 *
 * Every measurement is a fresh process (fork + exec of this program with
 * --child) that reads the DER file itself, so its memory figures are its
 * own: peak = VmHWM minus VmRSS before reading, steady = VmRSS after the DER
 * buffer is freed minus the same.  Printed per size and engine:
 *   ready   read + decode + signature check + first lookup (OpenSSL sorts
 *           its entries then), i.e. ready for lookups;
 *   peak    and steady resident memory, also as a multiple of the DER size;
 *   hit/miss ns per lookup of a listed / absent serial (thread CPU time,
 *           so that other processes on a shared machine do not count);
 *           hits twice: c = the first pass (cold caches and TLB, as a
 *           lookup per message is), w = the same serials again.
 * Then: resident memory of one process after 1 and after 20 consecutive
 * refreshes of the same CRL (load + check + swap + release, the store's
 * path).  Targets: ready <= 1.0 s, peak <= 2x DER, lookup <= 200 ns,
 * RSS after 20 refreshes within 10% of after the first.
 * Usage: bench_crl [N...]   (default 10000 100000 1000000)
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/pem.h>
#include "lib/crl/crl_internal.h"
#include "lib/crl/crl_store_internal.h"

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

/* What a generated CRL says besides its entries. */
struct crl_shape {
	long valid_s;                 /* nextUpdate = now + valid_s */
	uint32_t number;              /* its CRLNumber */
};

/* Builds a signed CRL of n entries; serials (n * SERIAL_LEN) returned. */
static unsigned char *make_crl(size_t n, EVP_PKEY *key, X509_NAME *issuer,
    const struct crl_shape *shape, size_t *der_len,
    unsigned char **serials_out)
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
	utctime(now + shape->valid_s, next_t);
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
		/* [0] { SEQ { SEQ { OID 2.5.29.20 (cRLNumber), OCTET { INT } } } },
		 * the INTEGER in its minimal positive form */
		unsigned char num[5], ext[32];
		size_t nl = 0, el = 0;
		uint32_t v = shape->number;
		for (int i = 3; i >= 0; i--)
			if (nl > 0 || (v >> (8 * i)) & 0xff || i == 0)
				num[nl++] = (unsigned char)(v >> (8 * i));
		if (num[0] & 0x80) {
			memmove(num + 1, num, nl++);
			num[0] = 0;
		}
		static const unsigned char oid[] = { 0x06, 0x03, 0x55, 0x1d, 0x14 };
		ext[el++] = 0xa0;
		ext[el++] = (unsigned char)(2 + 2 + sizeof oid + 2 + 2 + nl);
		ext[el++] = 0x30;
		ext[el++] = (unsigned char)(2 + sizeof oid + 2 + 2 + nl);
		ext[el++] = 0x30;
		ext[el++] = (unsigned char)(sizeof oid + 2 + 2 + nl);
		memcpy(ext + el, oid, sizeof oid);
		el += sizeof oid;
		ext[el++] = 0x04;
		ext[el++] = (unsigned char)(2 + nl);
		ext[el++] = 0x02;
		ext[el++] = (unsigned char)nl;
		memcpy(ext + el, num, nl);
		el += nl;
		put(&body, ext, el);
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

/* ---- measuring (in the child) ---- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this thread: lookups are timed with it, so that a busy
 * shared machine (other processes on the same cores) does not count. */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A field of /proc/self/status in MB ("VmRSS", "VmHWM"). */
static double status_mb(const char *field)
{
	char line[256];
	size_t fl = strlen(field);
	double kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
			kb = strtod(line + fl + 1, NULL);
			break;
		}
	fclose(f);
	return kb / 1024.0;
}

static unsigned char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
		perror(path);
		exit(1);
	}
	rewind(f);
	p = malloc((size_t)n ? (size_t)n : 1);
	if (p == NULL || fread(p, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		exit(1);
	}
	fclose(f);
	*len = (size_t)n;
	return p;
}

struct child_ctx {
	const char *dir;
	unsigned char *serials;
	size_t n;
	EVP_PKEY *key;
	unsigned char *hit, *miss;     /* LOOKUPS / 2 probes each */
};

static void child_setup(struct child_ctx *c, const char *dir)
{
	char path[4096];
	FILE *f;

	c->dir = dir;
	snprintf(path, sizeof path, "%s/serials", dir);
	c->serials = read_all(path, &c->n);
	c->n /= SERIAL_LEN;
	snprintf(path, sizeof path, "%s/key.pem", dir);
	f = fopen(path, "r");
	c->key = f ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (c->key == NULL || c->n == 0) {
		fprintf(stderr, "bench child: cannot read %s\n", dir);
		exit(1);
	}
	c->hit = malloc((size_t)LOOKUPS / 2 * SERIAL_LEN);
	c->miss = malloc((size_t)LOOKUPS / 2 * SERIAL_LEN);
	RAND_bytes(c->miss, LOOKUPS / 2 * SERIAL_LEN);
	for (size_t i = 0; i < LOOKUPS / 2; i++) {
		memcpy(c->hit + i * SERIAL_LEN, c->serials +
		    ((i * 7919) % c->n) * SERIAL_LEN, SERIAL_LEN);
		c->miss[i * SERIAL_LEN] =
		    (unsigned char)((c->miss[i * SERIAL_LEN] & 0x7f) | 1);
	}
}

struct result {
	double ready_s, verify_s, peak_mb, steady_mb, hit_ns, miss_ns;
	double hit_warm_ns;             /* the same hits again */
	long hits, misses;
	double rss1_mb, rss20_mb;       /* refresh mode */
	double chase_ns, chase_warm_ns; /* floor modes */
	size_t index_bytes;             /* domsec: ds_crl_data_memory() */
};

static void child_openssl(struct child_ctx *c, struct result *r)
{
	ASN1_INTEGER **hit = malloc(LOOKUPS / 2 * sizeof *hit);
	ASN1_INTEGER **miss = malloc(LOOKUPS / 2 * sizeof *miss);
	X509_REVOKED *rev;
	char path[4096];
	unsigned char *der;
	const unsigned char *p;
	size_t len;
	double base, t, tv;
	X509_CRL *crl;

	for (size_t i = 0; i < LOOKUPS / 2; i++) {
		hit[i] = ASN1_INTEGER_new();
		ASN1_STRING_set(hit[i], c->hit + i * SERIAL_LEN, SERIAL_LEN);
		miss[i] = ASN1_INTEGER_new();
		ASN1_STRING_set(miss[i], c->miss + i * SERIAL_LEN, SERIAL_LEN);
	}
	snprintf(path, sizeof path, "%s/crl.der", c->dir);
	base = status_mb("VmRSS");
	t = now_s();
	der = read_all(path, &len);
	p = der;
	crl = d2i_X509_CRL(NULL, &p, (long)len);
	if (crl == NULL) {
		fprintf(stderr, "d2i_X509_CRL failed\n");
		exit(1);
	}
	tv = now_s();
	if (X509_CRL_verify(crl, c->key) != 1) {
		fprintf(stderr, "X509_CRL_verify failed\n");
		exit(1);
	}
	r->verify_s = now_s() - tv;
	X509_CRL_get0_by_serial(crl, &rev, hit[0]);
	r->ready_s = now_s() - t;
	free(der);
	r->peak_mb = status_mb("VmHWM") - base;
	r->steady_mb = status_mb("VmRSS") - base;
	t = cpu_s();
	for (size_t i = 0; i < LOOKUPS / 2; i++)
		r->hits += X509_CRL_get0_by_serial(crl, &rev, hit[i]) == 1;
	r->hit_ns = (cpu_s() - t) * 1e9 / (LOOKUPS / 2);
	t = cpu_s();
	for (size_t i = 0; i < LOOKUPS / 2; i++)
		X509_CRL_get0_by_serial(crl, &rev, hit[i]);
	r->hit_warm_ns = (cpu_s() - t) * 1e9 / (LOOKUPS / 2);
	t = cpu_s();
	for (size_t i = 0; i < LOOKUPS / 2; i++)
		r->misses += X509_CRL_get0_by_serial(crl, &rev, miss[i]) == 1;
	r->miss_ns = (cpu_s() - t) * 1e9 / (LOOKUPS / 2);
}

/* The engine's load: decode into the index, check the signature over the
 * DER in place; the DER buffer is freed after (the store keeps it on
 * disk). */
static struct ds_crl_data *domsec_load(struct child_ctx *c, double *verify_s)
{
	char path[4096], err[256];
	unsigned char *der;
	size_t len;
	struct ds_crl_data *d;
	double tv;

	snprintf(path, sizeof path, "%s/crl.der", c->dir);
	der = read_all(path, &len);
	d = ds_crl_data_parse_der(der, len, err, sizeof err);
	if (d == NULL || d->n_entries != c->n) {
		fprintf(stderr, "ds_crl_data_parse_der: %s\n", d ? "count" : err);
		exit(1);
	}
	tv = now_s();
	if (ds_crl_der_verify(der, len, c->key) != 1) {
		fprintf(stderr, "ds_crl_der_verify failed\n");
		exit(1);
	}
	if (verify_s)
		*verify_s = now_s() - tv;
	free(der);
	return d;
}

static void child_domsec(struct child_ctx *c, struct result *r)
{
	double base, t;
	struct ds_crl_data *d;

	base = status_mb("VmRSS");
	t = now_s();
	d = domsec_load(c, &r->verify_s);
	ds_crl_data_lookup(d, c->hit, SERIAL_LEN);
	r->ready_s = now_s() - t;
	r->peak_mb = status_mb("VmHWM") - base;
	r->steady_mb = status_mb("VmRSS") - base;
	t = cpu_s();
	for (size_t i = 0; i < LOOKUPS / 2; i++)
		r->hits += ds_crl_data_lookup(d, c->hit + i * SERIAL_LEN,
		    SERIAL_LEN);
	r->hit_ns = (cpu_s() - t) * 1e9 / (LOOKUPS / 2);
	t = cpu_s();
	for (size_t i = 0; i < LOOKUPS / 2; i++)
		ds_crl_data_lookup(d, c->hit + i * SERIAL_LEN, SERIAL_LEN);
	r->hit_warm_ns = (cpu_s() - t) * 1e9 / (LOOKUPS / 2);
	t = cpu_s();
	for (size_t i = 0; i < LOOKUPS / 2; i++)
		r->misses += ds_crl_data_lookup(d, c->miss + i * SERIAL_LEN,
		    SERIAL_LEN);
	r->miss_ns = (cpu_s() - t) * 1e9 / (LOOKUPS / 2);
	r->index_bytes = ds_crl_data_memory(d);
	ds_crl_data_unref(d);
}

/* 20 refreshes of the same CRL in one process: the new copy is loaded
 * while the old one still serves, swapped in, the old one dropped, and
 * transient memory returned (ds_crl_release_memory, as the store does). */
static void child_refresh(struct child_ctx *c, struct result *r)
{
	struct ds_crl_data *cur = NULL;

	for (int i = 1; i <= 20; i++) {
		struct ds_crl_data *d = domsec_load(c, NULL);
		ds_crl_data_unref(cur);
		cur = d;
		ds_crl_release_memory();
		if (i == 1)
			r->rss1_mb = status_mb("VmRSS");
		if (i == 20)
			r->rss20_mb = status_mb("VmRSS");
	}
	ds_crl_data_unref(cur);
}

/*
 * The floor: what ONE memory read costs here.  A buffer of the index's
 * size (bytes), written in full and mapped as the index is (2 MB-aligned
 * with MADV_HUGEPAGE when huge, else plain 4 KB pages), holds a random
 * chain through 100000 distinct cache lines; the DER is then read and
 * dropped (as a load does, pushing the chain out of the caches), and the
 * chain followed: each read's address comes from the previous read, so
 * its time is one cache+TLB miss with nothing overlapped.
 */
static void child_floor(struct child_ctx *c, size_t bytes, int huge,
    struct result *r)
{
	size_t n = LOOKUPS / 2, lines, cur, *order, len;
	size_t align = (size_t)2 << 20;
	unsigned char *raw, *p, *der;
	char path[4096];
	double t;

	raw = mmap(NULL, bytes + align, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	p = huge ? (unsigned char *)(((uintptr_t)raw + align - 1) &
	    ~(uintptr_t)(align - 1)) : raw;
	if (huge)
		madvise(p, bytes, MADV_HUGEPAGE);
	memset(p, 1, bytes);
	lines = bytes / 64;
	if (lines < 2 * n) {
		fprintf(stderr, "bench child: floor buffer too small\n");
		exit(1);
	}
	order = malloc(n * sizeof *order);
	for (size_t i = 0; i < n; i++)         /* distinct lines ... */
		order[i] = (size_t)(((uint64_t)i * 1000003u) % lines);
	for (size_t i = n - 1; i > 0; i--) {   /* ... in random order */
		uint32_t rnd;
		RAND_bytes((unsigned char *)&rnd, sizeof rnd);
		size_t j = rnd % (i + 1), tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	for (size_t i = 0; i < n; i++)
		memcpy(p + order[i] * 64, &order[(i + 1) % n], sizeof(size_t));
	snprintf(path, sizeof path, "%s/crl.der", c->dir);
	der = read_all(path, &len);
	free(der);
	cur = order[0];
	free(order);
	t = cpu_s();
	for (size_t i = 0; i < n; i++)
		memcpy(&cur, p + cur * 64, sizeof cur);
	r->chase_ns = (cpu_s() - t) * 1e9 / (double)n;
	t = cpu_s();
	for (size_t i = 0; i < n; i++)
		memcpy(&cur, p + cur * 64, sizeof cur);
	r->chase_warm_ns = (cpu_s() - t) * 1e9 / (double)n;
	r->hits = (long)(cur & 1);              /* keeps the chain live */
	munmap(raw, bytes + align);
}

static int child_main(const char *mode, const char *dir)
{
	struct child_ctx c;
	struct result r;

	memset(&r, 0, sizeof r);
	child_setup(&c, dir);
	if (strncmp(mode, "floor", 5) == 0)     /* floor2m:BYTES, floor4k:... */
		child_floor(&c, strtoul(mode + 8, NULL, 10),
		    strncmp(mode, "floor2m", 7) == 0, &r);
	else if (strcmp(mode, "openssl") == 0)
		child_openssl(&c, &r);
	else if (strcmp(mode, "domsec") == 0)
		child_domsec(&c, &r);
	else
		child_refresh(&c, &r);
	if (write(1, &r, sizeof r) != (ssize_t)sizeof r)
		return 1;
	return 0;
}

/* ---- the parent ---- */

/* Runs "self --child mode dir" (a fresh process: exec, not just fork). */
static int run_child(const char *mode, const char *dir, struct result *r)
{
	int fds[2], status;
	pid_t pid;
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

	if (n <= 0 || pipe(fds) != 0)
		return -1;
	self[n] = '\0';
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(fds[0]);
		if (dup2(fds[1], 1) < 0)
			_exit(1);
		execl(self, self, "--child", mode, dir, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	n = read(fds[0], r, sizeof *r);
	close(fds[0]);
	waitpid(pid, &status, 0);
	return n == (ssize_t)sizeof *r && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Writes name in dir (dir NULL: name is the path); exits on failure. */
static void write_file(const char *dir, const char *name,
    const unsigned char *p, size_t len)
{
	char path[4096];
	FILE *f;

	if (dir != NULL)
		snprintf(path, sizeof path, "%s/%s", dir, name);
	else
		snprintf(path, sizeof path, "%s", name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(p, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/*
 * --write-crl N OUT [CA_CERT CA_KEY [VALID_S [NUMBER]]]: writes one
 * generated CRL of N entries to OUT (DER) and its serials to OUT.serials,
 * for other benchmarks (tests/bench/bench-crl-refresh.sh).  Signed with
 * CA_KEY (a P-256 key: the test PKI's) under CA_CERT's subject, or with a
 * throw-away key whose public half goes to OUT.pub.pem; nextUpdate is
 * VALID_S seconds ahead (default a week), CRLNumber NUMBER (default 1).
 * Returns 0, or 1 with a message.
 */
static int write_mode(int argc, char **argv)
{
	size_t n = strtoul(argv[2], NULL, 10), len;
	const char *out = argv[3];
	struct crl_shape shape = { 7 * 86400, 1 };
	EVP_PKEY *key = NULL;
	X509_NAME *issuer = NULL;
	unsigned char *der, *serials;
	char path[4096];
	FILE *f;

	if (argc >= 6) {
		X509 *ca = NULL;
		if ((f = fopen(argv[4], "r")) != NULL) {
			ca = PEM_read_X509(f, NULL, NULL, NULL);
			fclose(f);
		}
		if ((f = fopen(argv[5], "r")) != NULL) {
			key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
			fclose(f);
		}
		if (ca == NULL || key == NULL ||
		    EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
			fprintf(stderr, "bench_crl: cannot read %s and %s "
			    "(a P-256 key)\n", argv[4], argv[5]);
			return 1;
		}
		issuer = X509_NAME_dup(X509_get_subject_name(ca));
		X509_free(ca);
	} else {
		key = EVP_EC_gen("P-256");
		issuer = X509_NAME_new();
		X509_NAME_add_entry_by_txt(issuer, "CN", MBSTRING_ASC,
		    (const unsigned char *)"domsec Bench CA", -1, -1, 0);
		snprintf(path, sizeof path, "%s.pub.pem", out);
		f = fopen(path, "w");
		if (f == NULL || !PEM_write_PUBKEY(f, key) || fclose(f) != 0) {
			perror(path);
			return 1;
		}
	}
	if (argc >= 7)
		shape.valid_s = strtol(argv[6], NULL, 10);
	if (argc >= 8)
		shape.number = (uint32_t)strtoul(argv[7], NULL, 10);
	der = make_crl(n, key, issuer, &shape, &len, &serials);
	write_file(NULL, out, der, len);
	snprintf(path, sizeof path, "%s.serials", out);
	write_file(NULL, path, serials, n * SERIAL_LEN);
	free(der);
	free(serials);
	EVP_PKEY_free(key);
	X509_NAME_free(issuer);
	return 0;
}

static const char *verdict(int ok)
{
	return ok ? "met" : "MISSED";
}

int main(int argc, char **argv)
{
	size_t sizes[8] = { 10000, 100000, 1000000 };
	size_t nsizes = 3;
	EVP_PKEY *key;
	X509_NAME *issuer;
	char dir[] = "/tmp/domsec-bench-crl.XXXXXX";
	int failed = 0;

	if (argc == 4 && strcmp(argv[1], "--child") == 0)
		return child_main(argv[2], argv[3]);
	if (argc >= 4 && argc <= 8 && strcmp(argv[1], "--write-crl") == 0)
		return write_mode(argc, argv);
	if (argc > 1) {
		nsizes = 0;
		for (int i = 1; i < argc && nsizes < 8; i++)
			sizes[nsizes++] = strtoul(argv[i], NULL, 10);
	}
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	key = EVP_EC_gen("P-256");
	issuer = X509_NAME_new();
	X509_NAME_add_entry_by_txt(issuer, "CN", MBSTRING_ASC,
	    (const unsigned char *)"domsec Bench CA", -1, -1, 0);
	{
		char path[4096];
		FILE *f;
		snprintf(path, sizeof path, "%s/key.pem", dir);
		f = fopen(path, "w");
		if (f == NULL || !PEM_write_PUBKEY(f, key) || fclose(f) != 0) {
			perror(path);
			return 1;
		}
	}
	printf("CRL bench: domsec engine vs OpenSSL %s (d2i_X509_CRL + "
	    "X509_CRL_verify)\n", OpenSSL_version(OPENSSL_VERSION_STRING));
	printf("each figure from a fresh process that reads the DER file "
	    "itself; ready = read + decode\n+ signature check + first lookup; "
	    "peak/steady = VmHWM/VmRSS growth (x = multiple of the DER)\n\n");
	printf("%9s %7s | %-8s %7s %7s %12s %12s %13s %7s\n", "entries",
	    "DER MB", "engine", "ready", "verify", "peak MB", "steady MB",
	    "hit ns c/w", "miss ns");
	for (size_t k = 0; k < nsizes; k++) {
		size_t n = sizes[k], len;
		unsigned char *serials;
		struct crl_shape shape = { 7 * 86400, 1 };
		unsigned char *der = make_crl(n, key, issuer, &shape, &len,
		    &serials);
		struct result o, d;
		double mb = (double)len / 1048576.0;

		write_file(dir, "crl.der", der, len);
		write_file(dir, "serials", serials, n * SERIAL_LEN);
		free(der);
		free(serials);
		if (run_child("openssl", dir, &o) != 0 ||
		    run_child("domsec", dir, &d) != 0) {
			fprintf(stderr, "bench child failed for %zu entries\n", n);
			failed = 1;
			break;
		}
		if (o.hits != d.hits || o.misses != d.misses ||
		    d.hits != LOOKUPS / 2) {
			fprintf(stderr, "MISMATCH: OpenSSL %ld/%ld, domsec "
			    "%ld/%ld\n", o.hits, o.misses, d.hits, d.misses);
			failed = 1;
			break;
		}
		printf("%9zu %7.1f | %-8s %6.3fs %6.3fs %6.1f %4.2fx %6.1f "
		    "%4.2fx %6.0f/%-6.0f %7.0f\n", n, mb, "OpenSSL", o.ready_s,
		    o.verify_s, o.peak_mb, o.peak_mb / mb, o.steady_mb,
		    o.steady_mb / mb, o.hit_ns, o.hit_warm_ns, o.miss_ns);
		printf("%9s %7s | %-8s %6.3fs %6.3fs %6.1f %4.2fx %6.1f "
		    "%4.2fx %6.0f/%-6.0f %7.0f\n", "", "", "domsec", d.ready_s,
		    d.verify_s, d.peak_mb, d.peak_mb / mb, d.steady_mb,
		    d.steady_mb / mb, d.hit_ns, d.hit_warm_ns, d.miss_ns);
		if (k + 1 == nsizes) {
			struct result rf, f2, f4;
			char m2[64], m4[64];
			/* the target is judged on the worse of cold hits and
			 * misses */
			double lookup = d.hit_ns > d.miss_ns ? d.hit_ns : d.miss_ns;
			/* the index's size, or enough lines for the chain */
			size_t fb = d.index_bytes > (size_t)LOOKUPS * 64 ?
			    d.index_bytes : (size_t)LOOKUPS * 64;
			snprintf(m2, sizeof m2, "floor2m:%zu", fb);
			snprintf(m4, sizeof m4, "floor4k:%zu", fb);
			if (run_child("refresh", dir, &rf) != 0 ||
			    run_child(m2, dir, &f2) != 0 ||
			    run_child(m4, dir, &f4) != 0) {
				fprintf(stderr, "refresh/floor child failed\n");
				failed = 1;
				break;
			}
			printf("\none memory read (the floor): a chain of "
			    "dependent reads through a buffer\nof the index's "
			    "size (%.1f MB; 12 MB at least), cold/warm: "
			    "%.0f/%.0f ns with 2 MB "
			    "pages (as the\nindex), %.0f/%.0f ns with 4 KB "
			    "pages; domsec's cold hit = %.2f reads, miss\n= "
			    "%.2f reads\n",
			    (double)fb / 1048576.0, f2.chase_ns,
			    f2.chase_warm_ns, f4.chase_ns, f4.chase_warm_ns,
			    d.hit_ns / f2.chase_ns, d.miss_ns / f2.chase_ns);
			printf("\n%zu entries, 20 refreshes in one process: RSS "
			    "%.1f MB after the 1st, %.1f MB after the 20th "
			    "(%+.1f%%)\n", n, rf.rss1_mb, rf.rss20_mb,
			    (rf.rss20_mb / rf.rss1_mb - 1) * 100);
			printf("targets (%zu entries): ready <= 1.0 s: %.3f s "
			    "(%s; OpenSSL %.3f s); peak <= 2x DER: %.2fx (%s; "
			    "OpenSSL %.2fx); lookup <= 200 ns: %.0f ns (%s; "
			    "one read: %.0f ns); RSS "
			    "over 20 refreshes within 10%%: %+.1f%% (%s); "
			    "signature check %s OpenSSL's (%.3f s vs %.3f s)\n",
			    n, d.ready_s, verdict(d.ready_s <= 1.0), o.ready_s,
			    d.peak_mb / mb, verdict(d.peak_mb <= 2 * mb),
			    o.peak_mb / mb, lookup, verdict(lookup <= 200),
			    f2.chase_ns,
			    (rf.rss20_mb / rf.rss1_mb - 1) * 100,
			    verdict(rf.rss20_mb <= rf.rss1_mb * 1.1),
			    d.verify_s <= o.verify_s * 1.05 ? "as fast as" :
			    "SLOWER than", d.verify_s, o.verify_s);
		}
	}
	{
		char path[4096];
		const char *names[] = { "crl.der", "serials", "key.pem" };
		for (size_t i = 0; i < 3; i++) {
			snprintf(path, sizeof path, "%s/%s", dir, names[i]);
			unlink(path);
		}
		rmdir(dir);
	}
	EVP_PKEY_free(key);
	X509_NAME_free(issuer);
	return failed;
}
