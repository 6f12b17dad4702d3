/*
 * policy.c - the Postfix policy delegation server (see policy.h).
 *
 * Protocol (SMTPD_POLICY_README): the client sends "name=value" lines ended
 * by an empty line; we answer "action=..." and an empty line; the connection
 * stays open for further requests.  The core (ds_core_policy) decides; this
 * file only reads requests and writes actions.  A malformed request (an
 * over-long line, too many attributes, a missing client address) is logged
 * and answered DUNNO: the milter still judges the message.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>
#include "domsec/generation.h"
#include "domsec/log.h"
#include "domsec/server.h"
#include "policy.h"

static struct ds_server *server;

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
	if (answer.step == DS_STEP_REJECT || answer.step == DS_STEP_TEMPFAIL)
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

/* Serves one Postfix policy client until it closes the connection. */
static void serve_connection(int fd)
{
	char *buf = malloc(DS_POLICY_MAX_LINE + 1);
	size_t used = 0;
	int discarding = 0;   /* inside an over-long line */
	struct ds_policy_request req;
	char reply[600];

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
						    "line longer than %d bytes",
						    DS_POLICY_MAX_LINE);
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
}

int ds_policy_start(int listen_fd, char *err, size_t errlen)
{
	static const struct ds_server_ops ops = {
		.name = "policy service",
		.max_connections = DS_POLICY_MAX_CONNECTIONS,
		.idle_timeout_s = DS_POLICY_IDLE_TIMEOUT_S,
		.admit = ds_generation_admit,
		.serve = serve_connection,
	};

	server = ds_server_start(listen_fd, &ops, err, errlen);
	return server != NULL ? 0 : -1;
}

int ds_policy_stop(int deadline_s)
{
	int left = ds_server_stop(server, deadline_s);

	server = NULL;
	return left;
}
