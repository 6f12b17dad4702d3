/*
 * fmt.h - snprintf for messages that may be cut short on purpose (reasons
 * and errors naming long certificate names, URLs, server replies), without
 * the compiler's format-truncation warning.  Shared by lib/.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_FMT_H
#define DOMSEC_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Like snprintf(out, outlen, fmt, ...): out is always NUL-terminated when
 * outlen > 0, and silently cut to fit. */
void ds_format_truncated(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes "PATH:LINE: message" (the form every configuration error takes)
 * into out, cut to fit.  Returns -1, so that parsers can return it. */
int ds_format_located(char *out, size_t outlen, const char *path, int line,
    const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

#endif
