/*
 * listen.h - listening sockets in the syntax Postfix and OpenDKIM users
 * know: "unix:/path", "local:/path", "inet:PORT@HOST", "inet:HOST:PORT",
 * "inet6:PORT@HOST".
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_LISTEN_H
#define DOMSEC_LISTEN_H

#include <stddef.h>

/* Returns a listening fd, or -1 with err "SPEC: problem".  A stale unix
 * socket file is replaced. */
int ds_listen(const char *spec, char *err, size_t errlen);

/* 1 with the socket's path when spec names a unix socket, else 0. */
int ds_listen_unix_path(const char *spec, char *path, size_t pathlen);

/* Checks the syntax only (for domsecd -n); 0 when valid. */
int ds_listen_spec_valid(const char *spec, char *err, size_t errlen);

#endif
