/*
 * generation.c - loaded configurations and the current one (see
 * generation.h).  One mutex guards the current pointer and every
 * reference count; building a generation happens outside it.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "domsec/crl.h"
#include "domsec/generation.h"
#include "domsec/log.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ds_generation *current;
static unsigned long loaded;

static void generation_free(struct ds_generation *g)
{
	ds_outbound_free(g->ob);
	ds_core_free(g->core);
	ds_engine_free(g->engine);
	ds_peer_policy_free(&g->peers);
	ds_config_free(&g->cfg);
	free(g);
}

struct ds_generation *ds_generation_load(const char *path,
    struct ds_sessions *handoff, int flags, char *err, size_t errlen)
{
	struct ds_generation *g = calloc(1, sizeof *g);
	int peers_built = 0;

	if (g == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (ds_config_load(path, &g->cfg, err, errlen) < 0) {
		free(g);
		return NULL;
	}
	if (flags & DS_GEN_CHECK_ONLY) {
		free(g->cfg.crl_cache_dir);   /* memory only: nothing on disk */
		g->cfg.crl_cache_dir = NULL;
	}
	g->engine = ds_engine_new(&g->cfg, err, errlen);
	/* An unusable CRLFile is reported and skipped, never fatal. */
	for (size_t i = 0; g->engine != NULL &&
	    i < g->engine->crl_file_problems.n; i++)
		ds_log(LOG_WARNING, "CRL file skipped: %s",
		    g->engine->crl_file_problems.v[i]);
	if (g->engine != NULL)
		g->core = ds_core_new_shared(&g->cfg, g->engine, handoff, err,
		    errlen);
	if (g->core != NULL && ds_peer_policy_build(&g->peers, &g->cfg, err,
	    errlen) == 0)
		peers_built = 1;
	if (peers_built && g->cfg.socketmap_socket != NULL &&
	    g->cfg.socketmap_socket[0] != '\0')
		g->ob = ds_outbound_new(&g->cfg, g->engine, err, errlen);
	if (!peers_built || (g->cfg.socketmap_socket != NULL &&
	    g->cfg.socketmap_socket[0] != '\0' && g->ob == NULL)) {
		if (!peers_built)
			memset(&g->peers, 0, sizeof g->peers);
		generation_free(g);
		return NULL;
	}
	/* CRLs are refreshed in the background before they expire, so that
	 * mail almost never waits for a download. */
	if ((flags & DS_GEN_REFRESHER) && ds_engine_crls(g->engine) != NULL &&
	    ds_crl_store_start_refresher(ds_engine_crls(g->engine), 0) < 0)
		ds_log(LOG_WARNING, "cannot start the background CRL refresher; "
		    "CRLs are fetched when a message needs them");
	g->refs = 1;
	pthread_mutex_lock(&lock);
	g->number = ++loaded;
	pthread_mutex_unlock(&lock);
	return g;
}

void ds_generation_publish(struct ds_generation *g)
{
	struct ds_generation *old;

	pthread_mutex_lock(&lock);
	old = current;
	current = g;
	pthread_mutex_unlock(&lock);
	if (old != NULL)
		ds_generation_release(old);
}

struct ds_generation *ds_generation_acquire(void)
{
	struct ds_generation *g;

	pthread_mutex_lock(&lock);
	g = current;
	if (g != NULL)
		g->refs++;
	pthread_mutex_unlock(&lock);
	return g;
}

void ds_generation_release(struct ds_generation *g)
{
	int last;

	if (g == NULL)
		return;
	pthread_mutex_lock(&lock);
	last = --g->refs == 0;
	pthread_mutex_unlock(&lock);
	if (last)
		generation_free(g);
}

int ds_generation_admit(int fd, const char *service)
{
	struct ds_generation *g = ds_generation_acquire();
	int ok = g != NULL && ds_peer_admit(&g->peers, fd, service);

	ds_generation_release(g);
	return ok;
}

void ds_generation_retire(void)
{
	ds_generation_publish(NULL);
}

static int differs(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") != 0;
}

void ds_generation_fixed_changes(const struct ds_config *old,
    const struct ds_config *new, char *out, size_t outlen)
{
	const struct {
		const char *name;
		int changed;
	} fixed[] = {
		{ "MilterSocket", differs(old->milter_socket, new->milter_socket) },
		{ "PolicySocket", differs(old->policy_socket, new->policy_socket) },
		{ "SocketmapSocket", differs(old->socketmap_socket,
		    new->socketmap_socket) },
		{ "MetricsSocket", differs(old->metrics_socket, new->metrics_socket) },
		{ "SocketOwner", differs(old->socket_owner, new->socket_owner) },
		{ "SocketGroup", differs(old->socket_group, new->socket_group) },
		{ "SocketMode", old->socket_mode != new->socket_mode },
		{ "UserID", differs(old->user, new->user) },
		{ "PidFile", differs(old->pid_file, new->pid_file) },
		{ "StateDir", differs(old->state_dir, new->state_dir) },
		{ "Syslog", old->syslog != new->syslog },
		{ "SyslogFacility", old->syslog_facility != new->syslog_facility },
	};
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
		if (!fixed[i].changed)
			continue;
		int w = snprintf(out + o, outlen - o, "%s%s", o ? ", " : "",
		    fixed[i].name);
		if (w < 0 || (size_t)w >= outlen - o)
			break;
		o += (size_t)w;
	}
}
