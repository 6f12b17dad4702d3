/*
 * null_milter.c - the floor of the milter architecture for make
 * bench-mail: a libmilter milter that registers the same callbacks as
 * domsecd (connect, HELO, MAIL, RCPT, header, end of message, abort,
 * close), negotiates exactly what domsecd negotiates (milter/negotiate.h:
 * actions, no-reply steps, macro lists) and does nothing: every callback
 * continues (or does not answer where no reply was negotiated, and then
 * acknowledges at once over TCP, as domsecd does).
 *
 * With -a it accepts each message at RCPT (SMFIS_ACCEPT: no headers, no end
 * of message), the floor of a milter that lets non-partner mail go early.
 *
 * usage: null_milter [-a] inet:PORT@127.0.0.1 | unix:PATH
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libmilter/mfapi.h>
#include "milter/negotiate.h"

struct conn {
	unsigned long steps;     /* negotiated */
	int tcp_fd;              /* over TCP (acknowledged at once), else -1 */
};

/* The connection's descriptor, as domsecd's milter.c finds it (libmilter's
 * context starts with its thread id and socket), when it is TCP. */
static int tcp_fd(SMFICTX *ctx)
{
	const struct { pthread_t id; int sd; } *head = (const void *)ctx;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (head->sd < 0 || getsockname(head->sd, (struct sockaddr *)&ss,
	    &len) != 0 || (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		return -1;
	return head->sd;
}

static sfsistat reply_for(SMFICTX *ctx, unsigned long bit)
{
	const struct conn *c = smfi_getpriv(ctx);

	if (c == NULL || (c->steps & bit) == 0)
		return SMFIS_CONTINUE;
	ds_milter_ack_now(c->tcp_fd);
	return SMFIS_NOREPLY;
}

static sfsistat nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct conn *c = calloc(1, sizeof *c);

	(void)f2;
	(void)f3;
	if (c == NULL)
		return SMFIS_REJECT;
	c->tcp_fd = tcp_fd(ctx);
	ds_milter_tcp_setup(c->tcp_fd);
	smfi_setpriv(ctx, c);
	return ds_milter_negotiate(ctx, f0, f1, pf0, pf1, pf2, pf3, &c->steps);
}

static sfsistat nm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	(void)ctx;
	(void)host;
	(void)addr;
	return SMFIS_CONTINUE;
}

static sfsistat nm_helo(SMFICTX *ctx, char *helo)
{
	(void)helo;
	return reply_for(ctx, SMFIP_NR_HELO);
}

static int accept_at_rcpt;

static sfsistat nm_envelope(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat nm_rcpt(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return accept_at_rcpt ? SMFIS_ACCEPT : SMFIS_CONTINUE;
}

static sfsistat nm_header(SMFICTX *ctx, char *name, char *value)
{
	(void)name;
	(void)value;
	return reply_for(ctx, SMFIP_NR_HDR);
}

static sfsistat nm_continue(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat nm_close(SMFICTX *ctx)
{
	free(smfi_getpriv(ctx));
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static struct smfiDesc filter = {
	.xxfi_name = "null",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = DS_MILTER_ACTIONS,
	.xxfi_connect = nm_connect,
	.xxfi_helo = nm_helo,
	.xxfi_envfrom = nm_envelope,
	.xxfi_envrcpt = nm_rcpt,
	.xxfi_header = nm_header,
	.xxfi_eom = nm_continue,
	.xxfi_abort = nm_continue,
	.xxfi_close = nm_close,
	.xxfi_negotiate = nm_negotiate,
};

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "-a") == 0) {
		accept_at_rcpt = 1;
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: null_milter [-a] CONNECTION\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (smfi_register(filter) != MI_SUCCESS || smfi_setconn(argv[1])
	    != MI_SUCCESS || smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "null_milter: cannot register or listen "
		    "on %s\n", argv[1]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
