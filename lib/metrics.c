/*
 * metrics.c - Prometheus text for domsec (see metrics.h).  Label values
 * are escaped as the exposition format asks (backslash, double quote, line
 * feed); names are fixed here.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "domsec/counters.h"
#include "domsec/fileio.h"
#include "domsec/metrics.h"

#define CERTS_MAX 1024

struct seen_cert {
	char partner[256];
	char fingerprint[100];
	time_t not_after;
};

static pthread_mutex_t certs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct seen_cert certs[CERTS_MAX];
static size_t n_certs;

void ds_metrics_note_certificate(const char *partner, const char *fingerprint,
    time_t not_after)
{
	size_t i;

	if (partner == NULL || fingerprint == NULL || fingerprint[0] == '\0')
		return;
	pthread_mutex_lock(&certs_lock);
	for (i = 0; i < n_certs; i++)
		if (strcmp(certs[i].partner, partner) == 0 &&
		    strcmp(certs[i].fingerprint, fingerprint) == 0)
			break;
	if (i == n_certs && n_certs < CERTS_MAX)
		n_certs++;
	if (i < n_certs) {
		snprintf(certs[i].partner, sizeof certs[i].partner, "%s", partner);
		snprintf(certs[i].fingerprint, sizeof certs[i].fingerprint, "%s",
		    fingerprint);
		certs[i].not_after = not_after;
	}
	pthread_mutex_unlock(&certs_lock);
}

/* A label value, escaped. */
static void label(FILE *out, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(out, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
}

static void head(FILE *out, const char *name, const char *type,
    const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void partner_line(const char *partner, enum ds_verdict v,
    unsigned long n, void *arg)
{
	FILE *out = arg;

	fputs("domsec_partner_verdicts_total{partner=\"", out);
	label(out, partner);
	fprintf(out, "\",verdict=\"%s\"} %lu\n", ds_verdict_name(v), n);
}

struct crl_args {
	FILE *out;
	time_t now;
	int fetched;   /* 0: nextUpdate lines, 1: last-download lines */
};

static void crl_line(const struct ds_crl_report *r, void *arg)
{
	struct crl_args *a = arg;

	if (a->fetched ? r->fetched_at == 0 : r->next_update == 0)
		return;
	fprintf(a->out, "%s{source=\"", a->fetched ?
	    "domsec_crl_last_download_timestamp_seconds" :
	    "domsec_crl_next_update_seconds");
	label(a->out, r->source);
	fprintf(a->out, "\"} %lld\n", a->fetched ? (long long)r->fetched_at :
	    (long long)(r->next_update - a->now));
}

int ds_metrics_write(FILE *out, struct ds_crl_store *crls, time_t now)
{
	static const char *const help[DS_COUNT_VERDICT_BASE] = {
		[DS_COUNT_SECURED_RECEIVED] = "Domain-Secured Messages Received",
		[DS_COUNT_SECURED_SENT] = "Domain-Secured Messages Sent (partner "
		    "transport deliveries, smtp_delivery_status_filter)",
		[DS_COUNT_OUTBOUND_FAILURES] = "Domain-Secured Outbound Session "
		    "Failures",
		[DS_COUNT_FORGED_REMOVED] = "Forged trust headers removed",
	};
	char name[128];

	for (int c = 0; c < DS_COUNT_VERDICT_BASE; c++) {
		snprintf(name, sizeof name, "domsec_%s_total",
		    ds_counter_key((enum ds_counter)c));
		head(out, name, "counter", help[c]);
		fprintf(out, "%s %lu\n", name, ds_counter_get((enum ds_counter)c));
	}
	head(out, "domsec_verdicts_total", "counter",
	    "Messages from partners, by final verdict");
	for (int v = 0; v < DS_VERDICT_COUNT; v++)
		fprintf(out, "domsec_verdicts_total{verdict=\"%s\"} %lu\n",
		    ds_verdict_name((enum ds_verdict)v),
		    ds_counter_get((enum ds_counter)(DS_COUNT_VERDICT_BASE + v)));
	head(out, "domsec_partner_verdicts_total", "counter",
	    "Messages by partner entry and final verdict");
	ds_counter_partner_foreach(partner_line, out);
	head(out, "domsec_partner_certificate_expiry_days", "gauge",
	    "Days until the certificate a partner last presented expires");
	pthread_mutex_lock(&certs_lock);
	for (size_t i = 0; i < n_certs; i++) {
		fputs("domsec_partner_certificate_expiry_days{partner=\"", out);
		label(out, certs[i].partner);
		fputs("\",fingerprint=\"", out);
		label(out, certs[i].fingerprint);
		fprintf(out, "\"} %.2f\n", (double)(certs[i].not_after - now) / 86400.0);
	}
	pthread_mutex_unlock(&certs_lock);
	if (crls != NULL) {
		struct crl_args a = { out, now, 0 };
		head(out, "domsec_crl_next_update_seconds", "gauge",
		    "Seconds until the cached CRL's nextUpdate (negative: expired)");
		ds_crl_store_foreach(crls, crl_line, &a);
		a.fetched = 1;
		head(out, "domsec_crl_last_download_timestamp_seconds", "gauge",
		    "When the CRL was last downloaded (Unix time)");
		ds_crl_store_foreach(crls, crl_line, &a);
	}
	return ferror(out) ? -1 : 0;
}

int ds_metrics_path(const char *counters_file, char *out, size_t outlen)
{
	const char *slash = strrchr(counters_file, '/');
	int n;

	if (slash == NULL)
		return -1;
	n = snprintf(out, outlen, "%.*s/metrics.prom",
	    (int)(slash - counters_file), counters_file);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int ds_metrics_save(const char *path, struct ds_crl_store *crls)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	int rc;

	if (m == NULL)
		return -1;
	rc = ds_metrics_write(m, crls, time(NULL));
	if (fclose(m) != 0)
		rc = -1;
	if (rc == 0)
		rc = ds_file_write_atomic(path, text, len, 0644);
	free(text);
	return rc;
}
