/*
 * commands.h - the subcommands of domsecctl, one file each.
 * Each takes the arguments after the subcommand name (argv[0] is the
 * subcommand) and returns the process exit status (see domsec/verdict.h).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSECCTL_COMMANDS_H
#define DOMSECCTL_COMMANDS_H

int cmd_verify(int argc, char **argv);          /* cmd_verify.c */
int cmd_probe(int argc, char **argv);           /* cmd_probe.c */
int cmd_crl(int argc, char **argv);             /* cmd_crl.c: list, refresh */
int cmd_counters(int argc, char **argv);        /* cmd_counters.c */
int cmd_check_config(int argc, char **argv);    /* cmd_config.c */
int cmd_cert(int argc, char **argv);            /* cmd_cert.c: csr, selfsigned */
int cmd_sendmail_access(int argc, char **argv); /* cmd_sendmail_access.c */
int cmd_reload(int argc, char **argv);          /* cmd_reload.c */
int cmd_postfix_config(int argc, char **argv);  /* cmd_postfix_config.c */

/* cmd_crl.c: prints the progress of a CRL download on stderr ("URL:
 * 12.0 of 45.0 MB, 2.4 MB/s, 14 s left"), for ds_crl_store_set_progress()
 * when stderr is a terminal and --quiet was not given. */
struct ds_crl_store;
void ctl_crl_progress(void *arg, const char *url, long long got,
    long long total, double secs, int done);
void ctl_crl_progress_on(struct ds_crl_store *s, int quiet);

#endif
