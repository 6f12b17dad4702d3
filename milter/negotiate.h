/*
 * negotiate.h - what domsecd asks of the MTA at milter option negotiation:
 * the actions it uses, the protocol steps it answers (and those it never
 * answers but "continue", negotiated as no-reply) and the macros it reads,
 * per stage.  Shared with tests/bench/null_milter.c, so that the null
 * milter of make bench-mail holds exactly the same conversation.
 *
 *   actions:   add and change headers (end of message);
 *   no reply:  HELO (facts only) and each header (counted; the forged
 *              header cap is enforced at end of message);
 *   replied:   connect (the peer check may refuse), MAIL, RCPT (refusals),
 *              end of message (edits, refusals);
 *   not sent:  DATA, end of headers, body, unknown commands;
 *   macros:    connect: {client_addr} {client_port} v and
 *              {domsec_header_checks} (is the MTA a Postfix instance that
 *              removes trust headers itself: PostfixHeaderChecks); HELO
 *              and MAIL: the
 *              TLS macros (Postfix sends them with the EHLO after STARTTLS,
 *              Sendmail again at MAIL); end of message: i (the queue id).
 *
 * Only steps the MTA offers are asked for.  An MTA that does not offer
 * both actions is refused: without SMFIF_CHGHDRS forged trust headers
 * could not be removed, and a tag must never sit next to one.
 *
 * Over TCP a no-reply step costs a delayed ACK: the MTA (Postfix does not
 * set TCP_NODELAY on milter connections) holds each small command until
 * the previous one is acknowledged, and with no reply to carry it the
 * milter's ACK waits up to 40 ms.  ds_milter_ack_now() after each no-reply
 * step acknowledges at once (TCP_QUICKACK).  The same holds the other
 * way at end of message, where the milter writes several small replies
 * (each header edit, then continue): ds_milter_tcp_setup() turns Nagle
 * off on the milter's side (TCP_NODELAY).  Unix sockets need neither.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_MILTER_NEGOTIATE_H
#define DOMSEC_MILTER_NEGOTIATE_H

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <libmilter/mfapi.h>

#define DS_MILTER_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGHDRS)
#define DS_MILTER_NOREPLY (SMFIP_NR_HELO | SMFIP_NR_HDR)
#define DS_MILTER_STEPS (DS_MILTER_NOREPLY | SMFIP_NODATA | SMFIP_NOEOH | \
    SMFIP_NOBODY | SMFIP_NOUNKNOWN)

#define DS_MACROS_CONNECT "{client_addr} {client_port} v " \
    "{domsec_header_checks}"
#define DS_MACROS_TLS "{tls_version} {cipher} {cipher_bits} {cert_subject} " \
    "{cert_issuer} {verify} {cert_fp} {cn_subject} {cn_issuer}"
#define DS_MACROS_EOM "i"

/*
 * The negotiation both milters run; *steps_out receives the protocol
 * steps agreed (SMFIP_NR_* bits decide whether a callback returns
 * SMFIS_NOREPLY).  Returns what xxfi_negotiate returns: SMFIS_REJECT
 * (the connection is closed) when the MTA lacks a needed action.
 */
static inline sfsistat ds_milter_negotiate(SMFICTX *ctx, unsigned long f0,
    unsigned long f1, unsigned long *pf0, unsigned long *pf1,
    unsigned long *pf2, unsigned long *pf3, unsigned long *steps_out)
{
	if ((f0 & DS_MILTER_ACTIONS) != DS_MILTER_ACTIONS)
		return SMFIS_REJECT;  /* could not remove forged headers */
	*pf0 = DS_MILTER_ACTIONS & f0;
	*pf1 = DS_MILTER_STEPS & f1;
	*pf2 = 0;
	*pf3 = 0;
	*steps_out = *pf1;
	if ((f0 & SMFIF_SETSYMLIST) != 0) {
		*pf0 |= SMFIF_SETSYMLIST;
		int ok = smfi_setsymlist(ctx, SMFIM_CONNECT,
		    DS_MACROS_CONNECT) == MI_SUCCESS;
		ok = ok && smfi_setsymlist(ctx, SMFIM_HELO,
		    DS_MACROS_TLS) == MI_SUCCESS;
		ok = ok && smfi_setsymlist(ctx, SMFIM_ENVFROM,
		    DS_MACROS_TLS) == MI_SUCCESS;
		ok = ok && smfi_setsymlist(ctx, SMFIM_EOM,
		    DS_MACROS_EOM) == MI_SUCCESS;
		if (!ok)
			*pf0 &= ~(unsigned long)SMFIF_SETSYMLIST;
	}
	return SMFIS_CONTINUE;
}

/* A TCP milter connection fd (-1: not TCP) sends each reply at once. */
static inline void ds_milter_tcp_setup(int fd)
{
	int one = 1;

	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof one);
}

/* Acknowledge what was read on TCP connection fd now (-1: not TCP). */
static inline void ds_milter_ack_now(int fd)
{
	int one = 1;

	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one,
		    sizeof one);
}

#endif
