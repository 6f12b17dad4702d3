/*
 * socketmap.c - the Postfix socketmap server of domsecd: an accept thread,
 * one thread per connection, netstring framing with a size cap, requests
 * answered in order.  Holds no policy: every answer comes from outbound.c,
 * through the current configuration generation.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include "domsec/generation.h"
#include "domsec/listen.h"
#include "domsec/log.h"
#include "domsec/netstring.h"
#include "domsec/outbound.h"
#include "socketmap.h"

#define REPLY_MAX 32768          /* Postfix accepts up to 100000 */
#define POLL_STEP_MS 500

static struct {
	int listen_fd;
	int port;
	int started;
	int stopping;
	pthread_t accept_thread;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	int n_conns;
} server = {
	.listen_fd = -1,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.idle = PTHREAD_COND_INITIALIZER,
};

static int stopping(void)
{
	int s;

	pthread_mutex_lock(&server.lock);
	s = server.stopping;
	pthread_mutex_unlock(&server.lock);
	return s;
}

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

static void *connection_main(void *arg)
{
	int fd = (int)(long)arg;
	size_t cap = DS_SOCKETMAP_MAX_REQUEST + 32, len = 0;
	char *buf = malloc(cap);
	char *reply = malloc(REPLY_MAX);
	int idle_ms = 0;

	while (buf != NULL && reply != NULL && !stopping()) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int pr = poll(&p, 1, POLL_STEP_MS);
		ssize_t n;
		long used;

		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			break;
		if (pr == 0) {
			idle_ms += POLL_STEP_MS;
			if (idle_ms >= DS_SOCKETMAP_IDLE_TIMEOUT_S * 1000)
				break;
			continue;
		}
		idle_ms = 0;
		n = recv(fd, buf + len, cap - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		used = serve_buffer(fd, buf, len, reply);
		if (used < 0)
			break;
		memmove(buf, buf + used, len - (size_t)used);
		len -= (size_t)used;
	}
	free(buf);
	free(reply);
	close(fd);
	pthread_mutex_lock(&server.lock);
	server.n_conns--;
	pthread_cond_broadcast(&server.idle);
	pthread_mutex_unlock(&server.lock);
	return NULL;
}

static void *accept_main(void *arg)
{
	(void)arg;
	while (!stopping()) {
		struct pollfd p = { .fd = server.listen_fd, .events = POLLIN };
		pthread_attr_t attr;
		pthread_t t;
		int fd;

		if (poll(&p, 1, POLL_STEP_MS) <= 0)
			continue;
		fd = accept(server.listen_fd, NULL, NULL);
		if (fd < 0)
			continue;
		struct ds_generation *g = ds_generation_acquire();
		int admitted = g != NULL && ds_peer_admit(&g->peers, fd,
		    "socketmap");
		ds_generation_release(g);
		if (!admitted) {
			close(fd);
			continue;
		}
		pthread_mutex_lock(&server.lock);
		if (server.n_conns >= DS_SOCKETMAP_MAX_CONNECTIONS) {
			pthread_mutex_unlock(&server.lock);
			ds_log(LOG_WARNING, "socketmap: %d connections open already; "
			    "closing a new one (Postfix will retry)",
			    DS_SOCKETMAP_MAX_CONNECTIONS);
			close(fd);
			continue;
		}
		server.n_conns++;
		pthread_mutex_unlock(&server.lock);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, connection_main, (void *)(long)fd) != 0) {
			ds_log(LOG_ERR, "socketmap: cannot start a connection thread");
			close(fd);
			pthread_mutex_lock(&server.lock);
			server.n_conns--;
			pthread_cond_broadcast(&server.idle);
			pthread_mutex_unlock(&server.lock);
		}
		pthread_attr_destroy(&attr);
	}
	return NULL;
}

int ds_socketmap_start(const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int fd;

	if (server.started) {
		snprintf(err, errlen, "socketmap: already started");
		return -1;
	}
	fd = ds_listen(spec, err, errlen);
	if (fd < 0)
		return -1;
	server.port = 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET)
			server.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			server.port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	server.listen_fd = fd;
	server.stopping = 0;
	server.n_conns = 0;
	if (pthread_create(&server.accept_thread, NULL, accept_main, NULL) != 0) {
		snprintf(err, errlen, "socketmap %s: cannot start the accept thread",
		    spec);
		close(fd);
		server.listen_fd = -1;
		return -1;
	}
	server.started = 1;
	ds_log(LOG_INFO, "socketmap: listening on %s", spec);
	return 0;
}

int ds_socketmap_port(void)
{
	return server.started ? server.port : 0;
}

void ds_socketmap_stop(void)
{
	if (!server.started)
		return;
	pthread_mutex_lock(&server.lock);
	server.stopping = 1;
	pthread_mutex_unlock(&server.lock);
	pthread_join(server.accept_thread, NULL);
	close(server.listen_fd);
	server.listen_fd = -1;
	pthread_mutex_lock(&server.lock);
	while (server.n_conns > 0)
		pthread_cond_wait(&server.idle, &server.lock);
	pthread_mutex_unlock(&server.lock);
	server.started = 0;
}
