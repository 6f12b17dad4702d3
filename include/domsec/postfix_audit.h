/*
 * postfix_audit.h - does the Postfix instance really apply domsec's
 * header_checks table (PostfixHeaderChecks FILE) to every message that
 * domsecd may accept early?  Read from the live configuration with
 * postconf(1), of the instance whose configuration directory holds FILE:
 *
 *   - FILE holds exactly this configuration's table;
 *   - main.cf lists regexp:FILE (or pcre:FILE) first in header_checks
 *     (Postfix uses the first table that matches);
 *   - main.cf's milter_macro_defaults binds the instance:
 *     domsec_header_checks=FILE (domsecd accepts early only from a
 *     milter connection that carries that macro, so another instance or
 *     another host without the table never gets early accepts);
 *   - every service that receives mail (command smtpd, pickup or qmqpd in
 *     master.cf) and runs milters keeps header checks on
 *     (receive_override_options without no_header_body_checks, its own -o
 *     or main.cf's), and hands mail to a cleanup service (its
 *     cleanup_service_name) that exists and lists the table first in its
 *     own header_checks (-o) or main.cf's.  A service without milters (its
 *     smtpd_milters, or non_smtpd_milters for pickup, empty, or
 *     no_milters: a content filter's re-injection listener) is exempt:
 *     domsecd sees none of its mail, so it accepts none of it early.
 *
 * A snapshot of FILE, main.cf and master.cf (device, inode, size,
 * modification and change times) is kept with each audit:
 * ds_postfix_audit_unchanged() says whether it still describes what
 * Postfix reads.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_POSTFIX_AUDIT_H
#define DOMSEC_POSTFIX_AUDIT_H

#include <stddef.h>
#include <sys/stat.h>
#include "domsec/config.h"

/* The binding macro as milters request it, and its name in
 * milter_macro_defaults (Postfix keys defaults without the braces). */
#define DS_PF_HC_MACRO "{domsec_header_checks}"
#define DS_PF_HC_NAME "domsec_header_checks"

struct ds_pf_audit {
	int ok;                      /* the last audit passed */
	char why[512];               /* what failed, "" when ok */
	int have_snap;
	struct stat snap[3];         /* FILE, main.cf, master.cf, taken
	                                before the audit read them */
};

/* Audits the instance for cfg (see above); 1 when it passes, else 0
 * with a->why saying what to fix.  Runs postconf (program "postconf"
 * unless postconf is set). */
int ds_postfix_audit(const struct ds_config *cfg, const char *postconf,
    struct ds_pf_audit *a);

/* The service checks alone (the receiving services and their cleanup
 * services; not FILE or the macro): 1 pass, 0 with why, -1 when postconf
 * could not run.  main_fixed: take main.cf's header_checks as listing
 * the table first (domsecctl postfix-config, before it sets it). */
int ds_postfix_audit_services(const char *postconf, const char *config_dir,
    const char *table, int main_fixed, char *why, size_t whylen);

/* 1 when FILE, main.cf and master.cf are the ones the last audit saw
 * (whatever its result): no need to audit again. */
int ds_postfix_audit_unchanged(const struct ds_config *cfg,
    const struct ds_pf_audit *a);

/* 1 when a Postfix list value (header_checks) names table first, as
 * regexp: or pcre:. */
int ds_postfix_table_first(const char *list, const char *table);

/* 1 when one list element is the table: regexp:TABLE or pcre:TABLE. */
int ds_postfix_names_table(const char *element, const char *table);

/* The directory of the table's path into dir ("." without a slash). */
void ds_postfix_table_dir(const char *table, char *dir, size_t dirlen);

#endif
