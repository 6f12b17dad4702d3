/*
 * postconf_run.h - runs Postfix's postconf(1): reads parameter and
 * master.cf values (domsecctl postfix-config and check-config, and
 * domsecd's audit of PostfixHeaderChecks), applies changes (postfix-config).
 * Always argv-style (fork and exec, no shell); -c DIR when set.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_POSTCONF_RUN_H
#define DOMSEC_POSTCONF_RUN_H

struct pc_target {
	const char *postconf;   /* program, "postconf" unless told */
	const char *config_dir; /* -c DIR, or NULL for the default instance */
};

/* Runs "postconf [-c DIR] FLAGS [NAME]" (no NAME when NULL) and returns
 * its output without the trailing newline (malloc'd; "" when it printed nothing), or NULL when
 * postconf could not run or failed.  quiet: its stderr goes to /dev/null
 * (an "unmatched request" warning for a master.cf entry that is absent). */
char *pc_query(const struct pc_target *t, const char *flags, const char *name,
    int quiet);

/* Runs "postconf [-c DIR] FLAG ARG" (FLAG -e, -M or -P); its exit status,
 * or -1 when it could not run. */
int pc_apply(const struct pc_target *t, const char *flag, const char *arg);

#endif
