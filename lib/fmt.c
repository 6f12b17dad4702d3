/*
 * fmt.c - snprintf that may cut its output short on purpose (see
 * include/domsec/fmt.h).
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
