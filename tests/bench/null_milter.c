/*
 * null_milter.c - the floor of the milter architecture for make
 * bench-mail: a libmilter milter that registers the same callbacks as
 * domsecd (connect, HELO, MAIL, RCPT, header, end of message, abort,
 * close), negotiates exactly what domsecd negotiates (milter/negotiate.h:
 * actions, no-reply steps, macro lists) and does nothing: every callback
 * continues (or does not answer where no reply was negotiated).
 *
 * usage: null_milter inet:PORT@127.0.0.1
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <libmilter/mfapi.h>
#include "milter/negotiate.h"

/* The negotiated steps, per connection (libmilter's private pointer holds
 * them directly: no allocation, as cheap as a milter can be). */
static sfsistat reply_for(SMFICTX *ctx, unsigned long bit)
{
	unsigned long steps = (unsigned long)smfi_getpriv(ctx);
	return (steps & bit) != 0 ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long steps = 0;
	sfsistat r;

	(void)f2;
	(void)f3;
	r = ds_milter_negotiate(ctx, f0, f1, pf0, pf1, pf2, pf3, &steps);
	smfi_setpriv(ctx, (void *)steps);
	return r;
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

static sfsistat nm_envelope(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_CONTINUE;
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
	.xxfi_envrcpt = nm_envelope,
	.xxfi_header = nm_header,
	.xxfi_eom = nm_continue,
	.xxfi_abort = nm_continue,
	.xxfi_close = nm_close,
	.xxfi_negotiate = nm_negotiate,
};

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: null_milter inet:PORT@127.0.0.1\n");
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
