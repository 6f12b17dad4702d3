/*
 * config.c - reads the main configuration file (format in
 * include/domsec/config.h, every key documented in conf/domsec.conf and
 * domsec.conf(5)).
 *
 * This file reads it line by line; config_keys.c checks and stores each
 * key's value, config_values.c parses values.
 *
 * The file is read into a private struct and validated completely (values,
 * files that must exist, the partner table it names) before anything is
 * copied to the caller: a file with any error is never half-applied.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "config_internal.h"
#include "domsec/fmt.h"

int ds_config_fail(struct ds_config_reader *rd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ds_format_located(rd->err, rd->errlen, rd->path, rd->line, fmt, ap);
	va_end(ap);
	return -1;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	return s;
}

static int parse_line(struct ds_config_reader *rd, char *line)
{
	char *hash = strchr(line, '#');
	if (hash != NULL)
		*hash = '\0';
	char *s = trim(line);
	if (*s == '\0')
		return 0;
	char *name = s;
	while (*s && !isspace((unsigned char)*s))
		s++;
	if (*s)
		*s++ = '\0';
	char *value = trim(s);

	size_t index;
	const struct ds_config_key *k = ds_config_find_key(name, &index);
	if (k == NULL && strchr(name, '=') != NULL)
		return ds_config_fail(rd, "\"%s\": write \"Key value\" (a "
		    "space, not '=')", name);
	if (k == NULL)
		return ds_config_fail(rd, "unknown key \"%s\"", name);
	const char *key_name = ds_config_key_display_name(k);
	if (*value == '\0')
		return ds_config_fail(rd, "%s needs a value", key_name);
	if (rd->seen_line[index] && !ds_config_key_repeatable(k))
		return ds_config_fail(rd, "%s is already set at line %d",
		    key_name, rd->seen_line[index]);
	rd->seen_line[index] = rd->line;
	return ds_config_apply(rd, k, value);
}

static int line_of(const struct ds_config_reader *rd, const char *name)
{
	size_t index;
	return ds_config_find_key(name, &index) ? rd->seen_line[index] : 0;
}

/* Checks that involve several keys, and loads the partner table. */
static int finish(struct ds_config_reader *rd)
{
	struct ds_config *c = &rd->cfg;
	if (c->crl_connect_timeout_ms > c->crl_timeout_ms) {
		char a[32], b[32];
		ds_config_format_ms(c->crl_connect_timeout_ms, a, sizeof a);
		ds_config_format_ms(c->crl_timeout_ms, b, sizeof b);
		int l1 = line_of(rd, "CRLConnectTimeout"), l2 = line_of(rd, "CRLTimeout");
		rd->line = l1 > l2 ? l1 : l2;
		return ds_config_fail(rd, "CRLConnectTimeout (%s) is longer "
		    "than CRLTimeout (%s)", a, b);
	}
	const char *sockets[] = { "MilterSocket", "PolicySocket", "SocketmapSocket" };
	const char *values[] = { c->milter_socket, c->policy_socket,
	    c->socketmap_socket };
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (values[i] != NULL && values[j] != NULL &&
			    strcasecmp(values[i], values[j]) == 0) {
				rd->line = line_of(rd, sockets[j]);
				return ds_config_fail(rd, "%s: %s is already "
				    "used by %s (line %d)", sockets[j],
				    values[j], sockets[i], line_of(rd,
				    sockets[i]));
			}
	if (c->postfix_header_checks != NULL &&
	    strspn(c->header_name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789-_.") != strlen(c->header_name)) {
		int l1 = line_of(rd, "HeaderName"),
		    l2 = line_of(rd, "PostfixHeaderChecks");
		rd->line = l1 > l2 ? l1 : l2;
		return ds_config_fail(rd, "PostfixHeaderChecks: HeaderName "
		    "\"%s\" has characters other than letters, digits, '-', "
		    "'_' and '.', which Postfix's regexp table could not "
		    "match literally", c->header_name);
	}
	if (c->partner_table != NULL &&
	    ds_partners_load(c->partner_table, &c->partners, rd->err,
	    rd->errlen) != 0)
		return -1;
	return 0;
}

int ds_config_load(const char *path, struct ds_config *out, char *err,
    size_t errlen)
{
	struct ds_config_reader rd = {
		.path = path, .err = err, .errlen = errlen
	};
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	ds_config_defaults(&rd.cfg);
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open configuration: %s", path,
		    strerror(errno));
		ds_config_free(&rd.cfg);
		return -1;
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		rd.line++;
		if ((size_t)n != strlen(line)) {
			rc = ds_config_fail(&rd, "line contains a NUL byte");
			break;
		}
		if ((rc = parse_line(&rd, line)) != 0)
			break;
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(f);
	if (rc == 0)
		rc = finish(&rd);
	if (rc == 0 && (rd.cfg.source_path = strdup(path)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		rc = -1;
	}
	if (rc == 0 && (rd.cfg.crl_cache_dir == NULL || rd.cfg.state_dir == NULL ||
	    rd.cfg.authserv_id == NULL || rd.cfg.header_name == NULL ||
	    rd.cfg.helo_name == NULL || rd.cfg.outbound_transport == NULL)) {
		snprintf(err, errlen, "%s: out of memory", path);
		rc = -1;
	}
	if (rc != 0) {
		ds_config_free(&rd.cfg);
		return -1;
	}
	*out = rd.cfg;
	return 0;
}
