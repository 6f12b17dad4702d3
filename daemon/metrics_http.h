/*
 * metrics_http.h - the optional /metrics listener of domsecd (MetricsSocket):
 * Prometheus text over HTTP, served by libmicrohttpd, to clients in
 * PeerAddresses only.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_DAEMON_METRICS_HTTP_H
#define DOMSEC_DAEMON_METRICS_HTTP_H

#include <stddef.h>

/* Serves GET /metrics on listen_fd (from ds_listen; owned from now on).
 * Returns 0, or -1 with err. */
int ds_metrics_http_start(int listen_fd, char *err, size_t errlen);
void ds_metrics_http_stop(void);

#endif
