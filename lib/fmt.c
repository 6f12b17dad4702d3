/*
 * fmt.c - snprintf that may cut its output short on purpose (see
 * include/domsec/fmt.h).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stdio.h>
#include "domsec/fmt.h"

void ds_format_truncated(char *out, size_t outlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, outlen, fmt, ap);
	va_end(ap);
}

int ds_format_located(char *out, size_t outlen, const char *path, int line,
    const char *fmt, va_list ap)
{
	char msg[768];

	vsnprintf(msg, sizeof msg, fmt, ap);
	ds_format_truncated(out, outlen, "%s:%d: %s", path, line, msg);
	return -1;
}
