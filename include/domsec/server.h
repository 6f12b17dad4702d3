/*
 * server.h - the one connection server behind domsecd's own protocols (the
 * Postfix policy service and the socketmap): an accept thread, one thread
 * per admitted connection, a bound on open connections, an idle timeout,
 * and a stop that closes the listener first, wakes every connection and
 * waits at most a deadline.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_SERVER_H
#define DOMSEC_SERVER_H

#include <stddef.h>

struct ds_server_ops {
	const char *name;            /* for log lines: "policy service" */
	int max_connections;         /* more are closed at once, logged */
	int idle_timeout_s;          /* a connection silent this long ends */
	/* 1 when the peer of fd may be served (NULL: everyone). */
	int (*admit)(int fd, const char *name);
	/* Serves one connection until the peer closes it, it times out or
	 * the server stops (reads then fail); never closes fd. */
	void (*serve)(int fd);
};

struct ds_server;

/* Serves listen_fd (owned from now on) in background threads.  Returns
 * NULL with err. */
struct ds_server *ds_server_start(int listen_fd, const struct ds_server_ops *ops,
    char *err, size_t errlen);

/* The local port of an inet listener, 0 otherwise. */
int ds_server_port(const struct ds_server *s);

/* Stops accepting, shuts every connection down and waits at most
 * deadline_s for their threads; returns how many are still busy (their
 * threads then end by themselves; the server's memory is kept for them). */
int ds_server_stop(struct ds_server *s, int deadline_s);

#endif
