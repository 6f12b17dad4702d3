/*
 * config_internal.h - private to the files of the configuration reader
 * (lib/config.c reads the file, lib/config_keys.c holds the key table and
 * stores each value, lib/config_values.c parses and checks values).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_CONFIG_INTERNAL_H
#define DOMSEC_CONFIG_INTERNAL_H

#include <stddef.h>
#include "domsec/config.h"

#define MS_PER_S 1000L
#define MS_PER_MIN (60L * MS_PER_S)
#define MS_PER_HOUR (60L * MS_PER_MIN)
#define MS_PER_DAY (24L * MS_PER_HOUR)

/* ---- config_values.c: values and their syntax ---- */

/* Parses leading decimal digits of s into *out; returns the rest, or NULL
 * when there are no digits or the number overflows. */
const char *ds_config_parse_number(const char *s, long *out);

/* Writes a duration in the largest unit that divides it ("90s", "1h"). */
void ds_config_format_ms(long ms, char *buf, size_t len);

/* Each returns 0 when the value is well-formed, else -1. */
int ds_config_check_socket(const char *spec);     /* listening socket */
int ds_config_check_cidr(const char *s);          /* address or CIDR block */
int ds_config_check_proxy(const char *url);       /* proxy URL */
int ds_config_check_header_name(const char *s);   /* header field name */
/* letters and digits plus the characters of extra, at least one */
int ds_config_check_token(const char *s, const char *extra);
/* "err", "warning", ... -> LOG_ERR, LOG_WARNING, ...; 0 or -1 */
int ds_config_parse_log_level(const char *s, int *out);

/* ---- config.c: the file being read ---- */

/* More than the number of keys (config_keys.c checks it at compile time). */
#define DS_CONFIG_MAX_KEYS 64

struct ds_config_reader {
	const char *path;
	int line;
	char *err;
	size_t errlen;
	struct ds_config cfg;
	int seen_line[DS_CONFIG_MAX_KEYS]; /* line where each key was set,
	                                     0 = not */
};

/* Writes "PATH:LINE: message" into rd->err; returns -1. */
int ds_config_fail(struct ds_config_reader *rd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- config_keys.c: the key table ---- */

struct ds_config_key;

/* The key called name (any case), with its index in the table, or NULL. */
const struct ds_config_key *ds_config_find_key(const char *name,
    size_t *index);
const char *ds_config_key_display_name(const struct ds_config_key *k);
int ds_config_key_repeatable(const struct ds_config_key *k);

/* Checks value for key k and stores it into rd->cfg.  value may be
 * modified.  Returns 0, or -1 through ds_config_fail(). */
int ds_config_apply(struct ds_config_reader *rd,
    const struct ds_config_key *k, char *value);

#endif
