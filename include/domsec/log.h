/*
 * log.h - logging for the library and the programs: to stderr, to syslog
 * (mail facility by default), or both.  Messages are one line each, in words
 * a mail administrator understands.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_LOG_H
#define DOMSEC_LOG_H

#include <syslog.h>

/* Levels are syslog's: LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG. */

/* ident: program name; to_syslog / to_stderr select the sinks;
 * facility: LOG_MAIL by default; max_level: messages above are dropped. */
void ds_log_open(const char *ident, int to_syslog, int to_stderr, int facility,
    int max_level);
void ds_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Parses "mail", "daemon", "local0".."local7"; returns -1 if unknown. */
int ds_log_facility_parse(const char *name);

#endif
