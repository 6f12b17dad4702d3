/*
 * outbound_assess.c - what a destination's servers present: its MX hosts
 * (or, for "[host]" keys, the host) are resolved, every address is probed
 * with STARTTLS in parallel, and each chain is verified by the engine for
 * the partner domain.  The summary says whether any server is secured,
 * until when (earliest certificate notAfter / CRL nextUpdate), and why the
 * others are not.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "outbound_internal.h"
#include "domsec/probe.h"
#include "domsec/x509info.h"

struct probe_job {
	struct ds_outbound *ob;
	const struct ds_partner *partner;
	const char *domain;
	struct ds_outbound_host *host;
};

static void probe_and_verify(struct probe_job *job)
{
	const struct ds_config *cfg = job->ob->cfg;
	struct ds_outbound_host *h = job->host;
	struct ds_probe_result pr;
	char err[256] = "";
	unsigned char fp[DS_FP_SHA256_LEN];

	memset(&pr, 0, sizeof pr);
	if (ds_probe_starttls(h->addr, h->port, h->name,
	    cfg->helo_name ? cfg->helo_name : "localhost", cfg->probe_timeout_ms,
	    NULL, NULL, &pr) != 0 || pr.chain == NULL ||
	    sk_X509_num(pr.chain) == 0) {
		h->temporary = pr.temporary;
		snprintf(h->error, sizeof h->error, "%s",
		    pr.error[0] ? pr.error : "no certificate received");
		ds_probe_result_free(&pr);
		return;
	}
	h->probed = 1;
	snprintf(h->tls_version, sizeof h->tls_version, "%s", pr.tls_version);
	snprintf(h->cipher, sizeof h->cipher, "%s", pr.cipher);
	if (ds_cert_fingerprint(sk_X509_value(pr.chain, 0), fp) == 0)
		ds_fingerprint_format(fp, h->fingerprint);

	struct ds_verify_request req = {
		.presented = pr.chain,
		.domain = job->domain,
		.partner = job->partner,
		.at = 0,
	};
	if (job->ob->engine == NULL ||
	    ds_engine_verify(job->ob->engine, &req, &h->vr, err, sizeof err) != 0) {
		h->verify_failed = 1;
		h->temporary = 1;
		snprintf(h->error, sizeof h->error, "verification error: %s",
		    err[0] ? err : "no verification engine");
	} else if (h->vr.verdict == DS_VERDICT_SECURED && h->fingerprint[0]) {
		h->secured = 1;
	} else {
		h->temporary = ds_verdict_is_temporary(h->vr.verdict);
		snprintf(h->error, sizeof h->error, "%s: %.440s",
		    ds_verdict_name(h->vr.verdict), h->vr.reason);
	}
	ds_probe_result_free(&pr);
}

static void *probe_thread(void *arg)
{
	probe_and_verify(arg);
	return NULL;
}

static int add_target(struct ds_outbound_assessment *a, size_t cap,
    const char *name, int pref, const char *addr, int port)
{
	struct ds_outbound_host *h;

	if (a->n_hosts == cap)
		return -1;
	h = &a->hosts[a->n_hosts++];
	snprintf(h->name, sizeof h->name, "%s", name);
	h->preference = pref;
	snprintf(h->addr, sizeof h->addr, "%s", addr);
	h->port = port;
	return 0;
}

/* Earliest of a and b, where 0 means "no limit". */
static time_t earliest(time_t a, time_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

static void summarise(struct ds_outbound_assessment *a)
{
	size_t secured = 0, temporary = 0, len = 0;

	a->valid_until = 0;
	a->reason[0] = '\0';
	for (size_t i = 0; i < a->n_hosts; i++) {
		struct ds_outbound_host *h = &a->hosts[i];

		if (h->secured) {
			secured++;
			for (size_t c = 0; c < h->vr.chain_len && c < DS_CHAIN_INFO_MAX; c++)
				a->valid_until = earliest(a->valid_until,
				    h->vr.chain[c].not_after);
			for (size_t r = 0; r < h->vr.rev.n_reports &&
			    r < DS_CRL_REPORT_MAX; r++)
				a->valid_until = earliest(a->valid_until,
				    h->vr.rev.reports[r].next_update);
			continue;
		}
		if (h->temporary)
			temporary++;
		if (len < sizeof a->reason - 1) {
			int n = snprintf(a->reason + len, sizeof a->reason - len,
			    "%s%s [%s]:%d: %s", len ? "; " : "", h->name, h->addr,
			    h->port, h->error);
			if (n > 0)
				len += (size_t)n;
		}
	}
	if (secured > 0)
		a->outcome = DS_OUTBOUND_SECURED;
	else if (temporary > 0)
		a->outcome = DS_OUTBOUND_TEMPORARY;
	else
		a->outcome = DS_OUTBOUND_FAILED;
}

int ds_outbound_assess(struct ds_outbound *ob, const struct ds_outbound_key *key,
    const char *domain, const struct ds_partner *p,
    struct ds_outbound_assessment *a)
{
	struct ds_resolver resolver;
	struct ds_mx_result *mx;
	struct probe_job jobs[DS_OUTBOUND_MAX_TARGETS];
	pthread_t threads[DS_OUTBOUND_MAX_TARGETS];
	int started[DS_OUTBOUND_MAX_TARGETS];
	int port = key->port ? key->port : (ob->cfg->probe_port ? ob->cfg->probe_port : 25);

	memset(a, 0, sizeof *a);
	snprintf(a->domain, sizeof a->domain, "%s", domain);
	a->hosts = calloc(DS_OUTBOUND_MAX_TARGETS, sizeof *a->hosts);
	mx = calloc(1, sizeof *mx);
	if (a->hosts == NULL || mx == NULL) {
		free(mx);
		a->outcome = DS_OUTBOUND_TEMPORARY;
		snprintf(a->reason, sizeof a->reason, "out of memory");
		return 0;
	}
	pthread_mutex_lock(&ob->lock);
	resolver = ob->resolver;
	pthread_mutex_unlock(&ob->lock);

	if (key->literal) {
		mx->n_hosts = 1;
		snprintf(mx->hosts[0].name, sizeof mx->hosts[0].name, "%s", key->host);
		mx->hosts[0].preference = -1;
		if (ds_host_addresses(key->host, &resolver, &mx->hosts[0]) == 0)
			mx->status = DS_MX_OK;
		else {
			mx->status = mx->hosts[0].addr_temporary ? DS_MX_TEMPORARY :
			    DS_MX_NO_DOMAIN;
			snprintf(mx->error, sizeof mx->error, "%s",
			    mx->hosts[0].addr_error);
		}
	} else {
		ds_mx_lookup(key->host, &resolver, mx);
	}
	if (mx->status != DS_MX_OK) {
		a->outcome = mx->status == DS_MX_TEMPORARY ? DS_OUTBOUND_TEMPORARY :
		    DS_OUTBOUND_FAILED;
		snprintf(a->reason, sizeof a->reason, "%s", mx->error);
		free(mx);
		return 0;
	}
	for (size_t i = 0; i < mx->n_hosts; i++) {
		const struct ds_mx_host *m = &mx->hosts[i];

		if (m->n_addrs == 0) {
			/* Report the host so that the reason names it. */
			if (add_target(a, DS_OUTBOUND_MAX_TARGETS, m->name,
			    m->preference, "-", port) == 0) {
				struct ds_outbound_host *h = &a->hosts[a->n_hosts - 1];
				h->temporary = m->addr_temporary;
				snprintf(h->error, sizeof h->error, "%s", m->addr_error);
			}
			continue;
		}
		for (size_t k = 0; k < m->n_addrs; k++)
			add_target(a, DS_OUTBOUND_MAX_TARGETS, m->name, m->preference,
			    m->addrs[k], port);
	}
	free(mx);

	for (size_t i = 0; i < a->n_hosts; i++) {
		started[i] = 0;
		if (strcmp(a->hosts[i].addr, "-") == 0)
			continue;
		jobs[i] = (struct probe_job){ ob, p, a->domain, &a->hosts[i] };
		if (pthread_create(&threads[i], NULL, probe_thread, &jobs[i]) == 0)
			started[i] = 1;
		else
			probe_and_verify(&jobs[i]);
	}
	for (size_t i = 0; i < a->n_hosts; i++)
		if (started[i])
			pthread_join(threads[i], NULL);
	summarise(a);
	return 0;
}

void ds_outbound_assessment_free(struct ds_outbound_assessment *a)
{
	free(a->hosts);
	a->hosts = NULL;
	a->n_hosts = 0;
}
