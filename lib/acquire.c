/*
 * acquire.c - finds the full certificate chain for the fingerprint an MTA
 * reported: pinned partner certificates (a sorted index by leaf SHA-256,
 * built here), then discovery by STARTTLS probes with a cache of positive
 * and negative results (lib/acquire_discovery.c).  See
 * include/domsec/acquire.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "acquire_internal.h"
#include "domsec/fmt.h"
#include "domsec/log.h"

/* ---- pinned certificates ---- */

static int add_pin_file(struct ds_acquire *a, const char *path, int strict,
    char *err, size_t errlen)
{
	char lerr[512];
	unsigned char fp[DS_FP_SHA256_LEN];
	STACK_OF(X509) *chain = ds_load_pem_certs(path, lerr, sizeof lerr);

	if (chain == NULL) {
		if (strict) {
			ds_format_truncated(err, errlen,
			    "pinned certificate: %s", lerr);
			return -1;
		}
		ds_log(LOG_WARNING, "pinned certificates: skipping %s", lerr);
		return 0;
	}
	if (ds_cert_fingerprint(sk_X509_value(chain, 0), fp) != 0) {
		sk_X509_pop_free(chain, X509_free);
		ds_format_truncated(err, errlen, "%s: cannot compute the "
		    "certificate fingerprint", path);
		return -1;
	}
	for (size_t i = 0; i < a->n_pins; i++) {
		if (memcmp(a->pins[i].fp, fp, sizeof fp) == 0) {
			/* Same leaf twice: the first file wins. */
			sk_X509_pop_free(chain, X509_free);
			return 0;
		}
	}
	struct pinned *nv = realloc(a->pins, (a->n_pins + 1) * sizeof *nv);
	char *file = strdup(path);
	if (nv == NULL || file == NULL) {
		if (nv != NULL)
			a->pins = nv;
		free(file);
		sk_X509_pop_free(chain, X509_free);
		ds_format_truncated(err, errlen, "%s: out of memory", path);
		return -1;
	}
	a->pins = nv;
	memcpy(a->pins[a->n_pins].fp, fp, sizeof fp);
	a->pins[a->n_pins].chain = chain;
	a->pins[a->n_pins].file = file;
	a->n_pins++;
	return 0;
}

static int name_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static int add_pin_dir(struct ds_acquire *a, const char *dir, char *err,
    size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int rc = 0;

	if (d == NULL) {
		ds_format_truncated(err, errlen, "PinnedCertDir %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char **nv = realloc(names, (n + 1) * sizeof *nv);
		if (nv == NULL) {
			rc = -1;
			break;
		}
		names = nv;
		names[n] = strdup(de->d_name);
		if (names[n] == NULL) {
			rc = -1;
			break;
		}
		n++;
	}
	closedir(d);
	if (rc != 0)
		ds_format_truncated(err, errlen, "PinnedCertDir %s: out of "
		    "memory", dir);
	if (n > 0)
		qsort(names, n, sizeof *names, name_cmp);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		if (rc == 0) {
			ds_format_truncated(path, sizeof path, "%s/%s", dir,
			    names[i]);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
				rc = add_pin_file(a, path, 0, err, errlen);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

static int pin_cmp(const void *x, const void *y)
{
	return memcmp(((const struct pinned *)x)->fp, ((const struct pinned *)y)->fp,
	    DS_FP_SHA256_LEN);
}

struct ds_acquire *ds_acquire_new(const struct ds_config *cfg, char *err,
    size_t errlen)
{
	struct ds_acquire *a = calloc(1, sizeof *a);

	if (a == NULL) {
		ds_format_truncated(err, errlen, "certificate acquisition: out "
		    "of memory");
		return NULL;
	}
	a->cfg = cfg;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->done, NULL);
	if (cfg->pinned_cert_dir != NULL && cfg->pinned_cert_dir[0] != '\0' &&
	    add_pin_dir(a, cfg->pinned_cert_dir, err, errlen) != 0) {
		ds_acquire_free(a);
		return NULL;
	}
	for (size_t p = 0; p < cfg->partners.n; p++) {
		const struct ds_partner *pt = &cfg->partners.v[p];
		for (size_t i = 0; i < pt->pin_files.n; i++) {
			if (add_pin_file(a, pt->pin_files.v[i], 1, err, errlen) != 0) {
				ds_acquire_free(a);
				return NULL;
			}
		}
	}
	if (a->n_pins > 1)
		qsort(a->pins, a->n_pins, sizeof *a->pins, pin_cmp);
	return a;
}

void ds_acquire_free(struct ds_acquire *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n_pins; i++) {
		sk_X509_pop_free(a->pins[i].chain, X509_free);
		free(a->pins[i].file);
	}
	free(a->pins);
	ds_acquire_discovery_free(a);
	pthread_cond_destroy(&a->done);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

size_t ds_acquire_pinned_count(const struct ds_acquire *a)
{
	return a->n_pins;
}

STACK_OF(X509) *ds_acquire_pinned(const struct ds_acquire *a,
    const unsigned char fp[DS_FP_SHA256_LEN], char *file, size_t filelen)
{
	struct pinned key;
	const struct pinned *hit;

	if (a->n_pins == 0)
		return NULL;
	memcpy(key.fp, fp, DS_FP_SHA256_LEN);
	hit = bsearch(&key, a->pins, a->n_pins, sizeof *a->pins, pin_cmp);
	if (hit == NULL)
		return NULL;
	if (file != NULL && filelen > 0)
		ds_format_truncated(file, filelen, "%s", hit->file);
	return X509_chain_up_ref(hit->chain);
}

int ds_acquire_find(struct ds_acquire *a,
    const unsigned char fp[DS_FP_SHA256_LEN], const char *domain,
    const char *client_addr, struct ds_acquire_result *res)
{
	char file[300];

	memset(res, 0, sizeof *res);
	res->chain = ds_acquire_pinned(a, fp, file, sizeof file);
	if (res->chain != NULL) {
		ds_format_truncated(res->source, sizeof res->source, "pinned");
		ds_format_truncated(res->origin, sizeof res->origin, "%s",
		    file);
		return 0;
	}
	if (!a->cfg->discovery) {
		ds_format_truncated(res->detail, sizeof res->detail,
		    "not pinned, and discovery is off (Discovery no)");
		return -1;
	}
	if (domain == NULL || domain[0] == '\0') {
		ds_format_truncated(res->detail, sizeof res->detail,
		    "not pinned, and no partner domain to discover it for");
		return -1;
	}
	return ds_acquire_find_discovered(a, fp, domain, client_addr, res);
}

void ds_acquire_result_free(struct ds_acquire_result *res)
{
	if (res != NULL && res->chain != NULL) {
		sk_X509_pop_free(res->chain, X509_free);
		res->chain = NULL;
	}
}
