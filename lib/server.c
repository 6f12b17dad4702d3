/*
 * server.c - the connection server of domsecd's own protocols (see
 * server.h).  The accept thread waits on the listener and a stop pipe;
 * every connection thread is registered by descriptor so that a stop can
 * shut it down, which makes its blocking reads return.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include "domsec/log.h"
#include "domsec/server.h"

struct ds_server {
	struct ds_server_ops ops;
	int listen_fd;
	int stop_pipe[2];
	int port;
	pthread_t acceptor;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	int *fds;                    /* open connections, max_connections */
	int n_fds;
	int stopping;
};

struct conn {
	struct ds_server *s;
	int fd;
};

static void unregister(struct ds_server *s, int fd)
{
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < s->n_fds; i++)
		if (s->fds[i] == fd) {
			s->fds[i] = s->fds[--s->n_fds];
			break;
		}
	pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
}

static void *connection_main(void *arg)
{
	struct conn c = *(struct conn *)arg;

	free(arg);
	c.s->ops.serve(c.fd);
	unregister(c.s, c.fd);
	close(c.fd);
	return NULL;
}

/* Registers fd and starts its thread; closes it when that fails. */
static void start_connection(struct ds_server *s, int fd)
{
	struct timeval tv = { .tv_sec = s->ops.idle_timeout_s };
	struct conn *c;
	pthread_attr_t attr;
	pthread_t t;
	int full;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	pthread_mutex_lock(&s->lock);
	full = s->n_fds >= s->ops.max_connections || s->stopping;
	if (!full)
		s->fds[s->n_fds++] = fd;
	pthread_mutex_unlock(&s->lock);
	if (full) {
		ds_log(LOG_WARNING, "%s: %d connections open already; closing a "
		    "new one (the MTA retries)", s->ops.name, s->ops.max_connections);
		close(fd);
		return;
	}
	c = malloc(sizeof *c);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (c == NULL || (c->s = s, c->fd = fd,
	    pthread_create(&t, &attr, connection_main, c) != 0)) {
		ds_log(LOG_WARNING, "%s: cannot start a connection thread",
		    s->ops.name);
		free(c);
		unregister(s, fd);
		close(fd);
	}
	pthread_attr_destroy(&attr);
}

static void *accept_main(void *arg)
{
	struct ds_server *s = arg;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = s->listen_fd, .events = POLLIN },
			{ .fd = s->stop_pipe[0], .events = POLLIN },
		};
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			ds_log(LOG_ERR, "%s: poll: %s", s->ops.name, strerror(errno));
			break;
		}
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
				ds_log(LOG_WARNING, "%s: accept: %s", s->ops.name,
				    strerror(errno));
			if (errno == EMFILE || errno == ENFILE)
				usleep(100000);
			continue;
		}
		if (s->ops.admit != NULL && !s->ops.admit(fd, s->ops.name)) {
			close(fd);
			continue;
		}
		start_connection(s, fd);
	}
	return NULL;
}

struct ds_server *ds_server_start(int listen_fd, const struct ds_server_ops *ops,
    char *err, size_t errlen)
{
	struct ds_server *s = calloc(1, sizeof *s);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;

	if (s == NULL || (s->fds = calloc((size_t)ops->max_connections,
	    sizeof *s->fds)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", ops->name);
		free(s);
		return NULL;
	}
	s->ops = *ops;
	s->listen_fd = listen_fd;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	if (getsockname(listen_fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET)
			s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			s->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	if (pipe2(s->stop_pipe, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "%s: pipe: %s", ops->name, strerror(errno));
		free(s->fds);
		free(s);
		return NULL;
	}
	if (pthread_create(&s->acceptor, NULL, accept_main, s) != 0) {
		snprintf(err, errlen, "%s: cannot start its thread", ops->name);
		close(s->stop_pipe[0]);
		close(s->stop_pipe[1]);
		free(s->fds);
		free(s);
		return NULL;
	}
	return s;
}

int ds_server_port(const struct ds_server *s)
{
	return s != NULL ? s->port : 0;
}

int ds_server_stop(struct ds_server *s, int deadline_s)
{
	struct timespec deadline;
	int left;

	if (s == NULL)
		return 0;
	if (write(s->stop_pipe[1], "x", 1) < 0)
		ds_log(LOG_WARNING, "%s: cannot signal its thread", s->ops.name);
	pthread_join(s->acceptor, NULL);
	close(s->listen_fd);
	close(s->stop_pipe[0]);
	close(s->stop_pipe[1]);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += deadline_s;
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	for (int i = 0; i < s->n_fds; i++)
		shutdown(s->fds[i], SHUT_RDWR);
	while (s->n_fds > 0)
		if (pthread_cond_timedwait(&s->idle, &s->lock, &deadline) != 0)
			break;
	left = s->n_fds;
	pthread_mutex_unlock(&s->lock);
	if (left > 0) {
		ds_log(LOG_WARNING, "%s: %d connections still busy at shutdown",
		    s->ops.name, left);
		return left;   /* their threads still use s */
	}
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->idle);
	free(s->fds);
	free(s);
	return 0;
}
