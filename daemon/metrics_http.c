/*
 * metrics_http.c - GET /metrics for Prometheus (see metrics_http.h), on
 * libmicrohttpd's own thread.  Every scrape renders the live counters and
 * the current configuration generation's CRL gauges; any other path is
 * 404, any other method 405; a client outside PeerAddresses is refused at
 * accept.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include "domsec/cidr.h"
#include "domsec/generation.h"
#include "domsec/log.h"
#include "domsec/metrics.h"
#include "metrics_http.h"

static struct MHD_Daemon *daemon_handle;

static enum MHD_Result allow_peer(void *cls, const struct sockaddr *addr,
    socklen_t len)
{
	char text[INET6_ADDRSTRLEN] = "";
	struct ds_generation *g;
	int ok;

	(void)cls;
	(void)len;
	if (addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)addr)
		    ->sin_addr, text, sizeof text);
	else if (addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)
		    addr)->sin6_addr, text, sizeof text);
	g = ds_generation_acquire();
	ok = g != NULL && ds_cidr_list_match(&g->peers.addrs, text);
	ds_generation_release(g);
	if (!ok)
		ds_log(LOG_WARNING, "metrics: refusing a connection from %s: not in "
		    "PeerAddresses", text[0] ? text : "an unknown address");
	return ok ? MHD_YES : MHD_NO;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status,
    const char *type, char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body,
	    MHD_RESPMEM_MUST_FREE);
	enum MHD_Result rc;

	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *c,
    const char *url, const char *method, const char *version,
    const char *upload, size_t *upload_size, void **state)
{
	struct ds_generation *g;
	char *text = NULL;
	size_t len = 0;
	FILE *m;

	(void)cls;
	(void)version;
	(void)upload;
	(void)upload_size;
	(void)state;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
		    strdup("GET /metrics\n"), 13);
	if (strcmp(url, "/metrics") != 0)
		return reply(c, MHD_HTTP_NOT_FOUND, "text/plain",
		    strdup("not found: try /metrics\n"), 24);
	m = open_memstream(&text, &len);
	if (m == NULL)
		return MHD_NO;
	g = ds_generation_acquire();
	ds_metrics_write(m, g != NULL ? ds_engine_crls(g->engine) : NULL, time(NULL));
	ds_generation_release(g);
	if (fclose(m) != 0) {
		free(text);
		return MHD_NO;
	}
	return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
	    text, len);
}

int ds_metrics_http_start(int listen_fd, char *err, size_t errlen)
{
	daemon_handle = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_ERROR_LOG, 0, allow_peer, NULL, serve, NULL,
	    MHD_OPTION_LISTEN_SOCKET, listen_fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)16,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
	    MHD_OPTION_END);
	if (daemon_handle == NULL) {
		snprintf(err, errlen, "metrics: libmicrohttpd cannot serve the socket");
		return -1;
	}
	return 0;
}

void ds_metrics_http_stop(void)
{
	if (daemon_handle != NULL)
		MHD_stop_daemon(daemon_handle);
	daemon_handle = NULL;
}
