/*
 * socketmap.c - the Postfix socketmap protocol of domsecd, on the shared
 * connection server (domsec/server.h): netstring framing with a size cap,
 * requests answered in order.  Holds no policy: every answer comes from outbound.c,
 * through the current configuration generation.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include "domsec/generation.h"
#include "domsec/listen.h"
#include "domsec/log.h"
#include "domsec/server.h"
#include "domsec/netstring.h"
#include "domsec/outbound.h"
#include "socketmap.h"

#define REPLY_MAX 32768          /* Postfix accepts up to 100000 */

static struct ds_server *server;

void ds_socketmap_answer(struct ds_outbound *ob, const char *request,
    size_t request_len, char *reply, size_t replylen)
{
	char copy[DS_SOCKETMAP_MAX_REQUEST + 1];
	const char *space;
	char *key;

	if (request_len > DS_SOCKETMAP_MAX_REQUEST) {
		snprintf(reply, replylen, "PERM request longer than %d bytes",
		    DS_SOCKETMAP_MAX_REQUEST);
		return;
	}
	if (memchr(request, '\0', request_len) != NULL) {
		snprintf(reply, replylen, "PERM request contains a NUL byte");
		return;
	}
	memcpy(copy, request, request_len);
	copy[request_len] = '\0';
	space = strchr(copy, ' ');
	if (space == NULL || space == copy) {
		snprintf(reply, replylen,
		    "PERM request is not \"name key\" (socketmap_table(5))");
		return;
	}
	key = copy + (space - copy);
	*key++ = '\0';
	if (strcmp(copy, "tlspolicy") == 0) {
		ds_outbound_policy(ob, key, reply, replylen);
	} else if (strcmp(copy, "transport") == 0) {
		ds_outbound_transport(ob, key, reply, replylen);
	} else if (strcmp(copy, "delivery") == 0) {
		ds_outbound_delivery_status(key, reply, replylen);
	} else {
		ds_log(LOG_WARNING, "socketmap: unknown map name \"%.64s\"", copy);
		snprintf(reply, replylen,
		    "PERM unknown map name \"%.64s\" (use tlspolicy, transport "
		    "or delivery)",
		    copy);
		return;
	}
	ds_log(LOG_DEBUG, "socketmap: %s \"%.300s\" -> %.300s", copy, key, reply);
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_reply(int fd, const char *reply)
{
	static const size_t frame_max = REPLY_MAX + 32;
	char *frame = malloc(frame_max);
	long n;
	int rc;

	if (frame == NULL)
		return -1;
	n = ds_netstring_encode(reply, strlen(reply), frame, frame_max);
	rc = n < 0 ? -1 : write_all(fd, frame, (size_t)n);
	free(frame);
	return rc;
}

/* Answers every complete request in buf; returns the bytes consumed, or -1
 * when the connection must close (framing error, write failure). */
static long serve_buffer(int fd, const char *buf, size_t len, char *reply)
{
	size_t done = 0;

	for (;;) {
		const char *payload;
		size_t plen, used;
		enum ds_netstring_status st = ds_netstring_decode(buf + done,
		    len - done, DS_SOCKETMAP_MAX_REQUEST, &payload, &plen, &used);

		if (st == DS_NETSTRING_INCOMPLETE)
			return (long)done;
		if (st != DS_NETSTRING_OK) {
			ds_log(LOG_WARNING, "socketmap: closing a connection: %s "
			    "(limit %d bytes)", ds_netstring_status_text(st),
			    DS_SOCKETMAP_MAX_REQUEST);
			snprintf(reply, REPLY_MAX, "PERM %s",
			    ds_netstring_status_text(st));
			send_reply(fd, reply);
			return -1;
		}
		struct ds_generation *g = ds_generation_acquire();
		if (g != NULL && g->ob != NULL)
			ds_socketmap_answer(g->ob, payload, plen, reply, REPLY_MAX);
		else
			snprintf(reply, REPLY_MAX, "TEMP domsecd has no outbound "
			    "configuration loaded");
		ds_generation_release(g);
		if (send_reply(fd, reply) != 0)
			return -1;
		done += used;
	}
}

/* Serves one Postfix socketmap client until it closes the connection. */
static void serve_connection(int fd)
{
	size_t cap = DS_SOCKETMAP_MAX_REQUEST + 32, len = 0;
	char *buf = malloc(cap);
	char *reply = malloc(REPLY_MAX);

	while (buf != NULL && reply != NULL) {
		ssize_t n = recv(fd, buf + len, cap - len, 0);
		long used;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;   /* closed, idle too long, or the server stops */
		len += (size_t)n;
		used = serve_buffer(fd, buf, len, reply);
		if (used < 0)
			break;
		memmove(buf, buf + used, len - (size_t)used);
		len -= (size_t)used;
	}
	free(buf);
	free(reply);
}

int ds_socketmap_start(const char *spec, char *err, size_t errlen)
{
	static const struct ds_server_ops ops = {
		.name = "socketmap",
		.max_connections = DS_SOCKETMAP_MAX_CONNECTIONS,
		.idle_timeout_s = DS_SOCKETMAP_IDLE_TIMEOUT_S,
		.admit = ds_generation_admit,
		.serve = serve_connection,
	};
	int fd;

	if (server != NULL) {
		snprintf(err, errlen, "socketmap: already started");
		return -1;
	}
	fd = ds_listen(spec, err, errlen);
	if (fd < 0)
		return -1;
	server = ds_server_start(fd, &ops, err, errlen);
	if (server == NULL) {
		close(fd);
		return -1;
	}
	ds_log(LOG_INFO, "socketmap: listening on %s", spec);
	return 0;
}

int ds_socketmap_port(void)
{
	return ds_server_port(server);
}

void ds_socketmap_stop(void)
{
	ds_server_stop(server, 2);
	server = NULL;
}
