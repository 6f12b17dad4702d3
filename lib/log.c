/*
 * log.c - one-line log messages to syslog and/or stderr.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <pthread.h>
#include "domsec/log.h"

static int log_to_syslog;
static int log_to_stderr = 1;
static int log_max_level = LOG_INFO;
static const char *log_ident = "domsec";
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void ds_log_open(const char *ident, int to_syslog, int to_stderr, int facility,
    int max_level)
{
	log_ident = ident;
	log_to_syslog = to_syslog;
	log_to_stderr = to_stderr;
	log_max_level = max_level;
	if (to_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

static const char *level_name(int level)
{
	switch (level) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
		return "notice";
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void ds_log(int level, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	if (level > log_max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	/* One message, one printable line: never let a peer-supplied string
	 * (an SMTP reply, a header) split it or carry terminal escapes. */
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
		else if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (log_to_syslog)
		syslog(level, "%s", buf);
	if (log_to_stderr) {
		pthread_mutex_lock(&log_lock);
		fprintf(stderr, "%s: %s: %s\n", log_ident, level_name(level), buf);
		pthread_mutex_unlock(&log_lock);
	}
}

int ds_log_facility_parse(const char *name)
{
	static const struct { const char *name; int value; } facilities[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};
	for (size_t i = 0; i < sizeof facilities / sizeof facilities[0]; i++)
		if (strcasecmp(name, facilities[i].name) == 0)
			return facilities[i].value;
	return -1;
}
