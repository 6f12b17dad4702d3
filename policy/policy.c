/*
 * policy.c - the Postfix policy delegation server (see policy.h).
 *
 * Protocol (SMTPD_POLICY_README): the client sends "name=value" lines ended
 * by an empty line; we answer "action=..." and an empty line; the connection
 * stays open for further requests.  The core (ds_core_policy) decides; this
 * file only reads requests and writes actions.  A malformed request (an
 * over-long line, too many attributes, a missing client address) is logged
 * and answered DUNNO: the milter still judges the message.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include "domsec/generation.h"
#include "domsec/log.h"
#include "policy.h"

struct policy_server {
	int listen_fd;
	int stop_pipe[2];
	pthread_t acceptor;
	int running;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	int conn_fds[DS_POLICY_MAX_CONNECTIONS];
	int n_conns;
};

static struct policy_server server = {
	.listen_fd = -1,
	.stop_pipe = { -1, -1 },
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.idle = PTHREAD_COND_INITIALIZER,
};

struct conn_args {
	int fd;
};

void ds_policy_answer(struct ds_core *core, const struct ds_policy_request *req,
    char *reply, size_t replylen)
{
	struct ds_facts facts;
	struct ds_answer answer;

	ds_policy_format_action(reply, replylen, NULL, NULL, NULL);
	if (req->problem[0] != '\0') {
		ds_log(LOG_WARNING, "policy request from Postfix is malformed (%s); "
		    "answering DUNNO", req->problem);
		return;
	}
	if (strcmp(req->request, "smtpd_access_policy") != 0) {
		ds_log(LOG_WARNING, "policy request type \"%s\" is not "
		    "smtpd_access_policy; answering DUNNO", req->request);
		return;
	}
	if (ds_policy_request_facts(req, &facts) < 0) {
		ds_log(LOG_WARNING, "policy request without client_address or "
		    "client_port; answering DUNNO (the milter decides alone)");
		return;
	}
	if (facts.tls == 1 && facts.cert_presented == 1 && !facts.have_fp)
		ds_log(LOG_WARNING, "client %s[%d]: ccert_fingerprint \"%s\" is not "
		    "SHA-256; set smtpd_tls_fingerprint_digest = sha256 in main.cf",
		    facts.client_addr, facts.client_port, req->ccert_fingerprint);
	ds_core_policy(core, &facts, req->protocol_state, req->queue_id, &answer);
	if (answer.step != DS_STEP_CONTINUE)
		ds_policy_format_action(reply, replylen, answer.reply.rcode,
		    answer.reply.xcode, answer.reply.text);
}

/* Writes all of buf; 0 or -1. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void register_conn(int fd, int add)
{
	pthread_mutex_lock(&server.lock);
	if (add) {
		server.conn_fds[server.n_conns++] = fd;
	} else {
		for (int i = 0; i < server.n_conns; i++)
			if (server.conn_fds[i] == fd) {
				server.conn_fds[i] = server.conn_fds[--server.n_conns];
				break;
			}
		if (server.n_conns == 0)
			pthread_cond_broadcast(&server.idle);
	}
	pthread_mutex_unlock(&server.lock);
}

/* Serves one Postfix policy client until it closes the connection. */
static void *serve_connection(void *arg)
{
	int fd = ((struct conn_args *)arg)->fd;
	char *buf = malloc(DS_POLICY_MAX_LINE + 1);
	size_t used = 0;
	int discarding = 0;   /* inside an over-long line */
	struct ds_policy_request req;
	char reply[600];

	free(arg);
	ds_policy_request_init(&req);
	while (buf != NULL) {
		ssize_t n = recv(fd, buf + used, DS_POLICY_MAX_LINE - used, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;   /* closed, timed out or shut down */
		used += (size_t)n;
		for (;;) {
			char *nl = memchr(buf, '\n', used);
			size_t linelen;
			if (nl == NULL) {
				if (used == DS_POLICY_MAX_LINE) {
					/* a line longer than the cap: drop it */
					if (!discarding)
						ds_log(LOG_WARNING, "policy request line longer "
						    "than %d bytes; ignoring the request",
						    DS_POLICY_MAX_LINE);
					discarding = 1;
					if (req.problem[0] == '\0')
						snprintf(req.problem, sizeof req.problem,
						    "line longer than %d bytes", DS_POLICY_MAX_LINE);
					used = 0;
				}
				break;
			}
			*nl = '\0';
			linelen = (size_t)(nl - buf);
			if (linelen > 0 && buf[linelen - 1] == '\r')
				buf[linelen - 1] = '\0';
			if (discarding) {
				discarding = 0;   /* tail of the long line */
			} else if (ds_policy_request_line(&req, buf)) {
				size_t rlen;
				struct ds_generation *g = ds_generation_acquire();
				if (g != NULL)
					ds_policy_answer(g->core, &req, reply,
					    sizeof reply - 2);
				else
					ds_policy_format_action(reply, sizeof reply - 2,
					    "451", "4.3.0", "domsecd is starting");
				ds_generation_release(g);
				/* one write: a second small one would wait for the
				 * peer's delayed ACK (Nagle), 40 ms per request */
				rlen = strlen(reply);
				memcpy(reply + rlen, "\n\n", 3);
				if (write_all(fd, reply, rlen + 2) < 0) {
					used = 0;
					goto done;
				}
				ds_policy_request_init(&req);
			}
			used -= linelen + 1;
			memmove(buf, nl + 1, used);
		}
	}
done:
	free(buf);
	register_conn(fd, 0);
	close(fd);
	return NULL;
}

static void *accept_loop(void *unused)
{
	(void)unused;
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = server.listen_fd, .events = POLLIN },
			{ .fd = server.stop_pipe[0], .events = POLLIN },
		};
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			ds_log(LOG_ERR, "policy service: poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		if (!(pfd[0].revents & POLLIN))
			continue;
		int fd = accept4(server.listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
				ds_log(LOG_WARNING, "policy service: accept: %s", strerror(errno));
			if (errno == EMFILE || errno == ENFILE)
				usleep(100000);
			continue;
		}
		struct ds_generation *g = ds_generation_acquire();
		int admitted = g != NULL && ds_peer_admit(&g->peers, fd,
		    "policy service");
		ds_generation_release(g);
		if (!admitted) {
			close(fd);
			continue;
		}
		struct timeval tv = { .tv_sec = DS_POLICY_IDLE_TIMEOUT_S };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		pthread_mutex_lock(&server.lock);
		int full = server.n_conns >= DS_POLICY_MAX_CONNECTIONS;
		pthread_mutex_unlock(&server.lock);
		if (full) {
			ds_log(LOG_WARNING, "policy service: %d connections open, "
			    "refusing another", DS_POLICY_MAX_CONNECTIONS);
			close(fd);
			continue;
		}
		struct conn_args *args = malloc(sizeof *args);
		pthread_t t;
		pthread_attr_t attr;
		if (args == NULL) {
			close(fd);
			continue;
		}
		args->fd = fd;
		register_conn(fd, 1);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, serve_connection, args) != 0) {
			ds_log(LOG_WARNING, "policy service: cannot start a thread");
			register_conn(fd, 0);
			close(fd);
			free(args);
		}
		pthread_attr_destroy(&attr);
	}
	return NULL;
}

int ds_policy_start(int listen_fd, char *err, size_t errlen)
{
	if (pipe2(server.stop_pipe, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "policy service: pipe: %s", strerror(errno));
		return -1;
	}
	server.listen_fd = listen_fd;
	if (pthread_create(&server.acceptor, NULL, accept_loop, NULL) != 0) {
		snprintf(err, errlen, "policy service: cannot start its thread");
		return -1;
	}
	server.running = 1;
	return 0;
}

int ds_policy_stop(int deadline_s)
{
	struct timespec deadline;
	int left;

	if (!server.running)
		return 0;
	if (write(server.stop_pipe[1], "x", 1) < 0)
		ds_log(LOG_WARNING, "policy service: cannot signal its thread");
	pthread_join(server.acceptor, NULL);
	close(server.listen_fd);
	close(server.stop_pipe[0]);
	close(server.stop_pipe[1]);
	server.running = 0;

	/* Wake every connection thread and wait for them, at most deadline_s
	 * (one may be in the middle of a bounded certificate check; Postfix's
	 * default_action then defers that request). */
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += deadline_s;
	pthread_mutex_lock(&server.lock);
	for (int i = 0; i < server.n_conns; i++)
		shutdown(server.conn_fds[i], SHUT_RDWR);
	while (server.n_conns > 0)
		if (pthread_cond_timedwait(&server.idle, &server.lock, &deadline) != 0)
			break;
	left = server.n_conns;
	if (left > 0)
		ds_log(LOG_WARNING, "policy service: %d connections still busy at "
		    "shutdown", left);
	pthread_mutex_unlock(&server.lock);
	return left;
}
