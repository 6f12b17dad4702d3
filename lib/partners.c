/*
 * partners.c - the partner table (format in include/domsec/partners.h):
 * loading with line-precise errors, lookup by domain and direction, and the
 * From-alignment test.
 *
 * A line ending with a backslash continues on the next line.  Relative file
 * names in ca= and pin= are taken relative to the directory of the table.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include "domsec/fmt.h"
#include "domsec/config.h"
#include "domsec/names.h"
#include "domsec/partners.h"

#define DOMAIN_MAX 253

const char *ds_direction_name(enum ds_direction d)
{
	switch (d) {
	case DS_DIR_RECEIVE: return "receive";
	case DS_DIR_SEND: return "send";
	case DS_DIR_BOTH: return "both";
	}
	return "unknown";
}

const char *ds_mode_name(enum ds_mode m)
{
	switch (m) {
	case DS_MODE_ENFORCE: return "enforce";
	case DS_MODE_MONITOR: return "monitor";
	}
	return "unknown";
}

const char *ds_revocation_name(enum ds_revocation r)
{
	switch (r) {
	case DS_REVOCATION_REQUIRE: return "require";
	case DS_REVOCATION_SOFT: return "soft";
	case DS_REVOCATION_NONE: return "none";
	}
	return "unknown";
}

static void partner_free(struct ds_partner *p)
{
	free(p->domain);
	free(p->source);
	ds_strlist_free(&p->ca_files);
	ds_strlist_free(&p->pin_files);
	memset(p, 0, sizeof *p);
}

void ds_partners_free(struct ds_partner_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		partner_free(&t->v[i]);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

/* Lower-cases domain without one trailing dot into buf; -1 if it does not fit. */
static int normalize_domain(const char *domain, char *buf, size_t buflen)
{
	size_t len = strlen(domain);
	if (len > 0 && domain[len - 1] == '.')
		len--;
	if (len == 0 || len >= buflen)
		return -1;
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)tolower((unsigned char)domain[i]);
	buf[len] = '\0';
	return 0;
}

/* 1 when sub is a proper subdomain of base (both normalized). */
static int is_proper_subdomain(const char *sub, const char *base)
{
	size_t ls = strlen(sub), lb = strlen(base);
	return ls > lb + 1 && sub[ls - lb - 1] == '.' &&
	    strcmp(sub + ls - lb, base) == 0;
}

const struct ds_partner *ds_partners_lookup(const struct ds_partner_table *t,
    const char *domain, enum ds_direction need)
{
	char d[DOMAIN_MAX + 2];
	const struct ds_partner *best = NULL;
	size_t best_len = 0;

	if (t == NULL || domain == NULL ||
	    normalize_domain(domain, d, sizeof d) != 0)
		return NULL;
	for (size_t i = 0; i < t->n; i++) {
		const struct ds_partner *p = &t->v[i];
		if (((int)p->direction & (int)need) != (int)need)
			continue;
		if (!p->subdomains) {
			if (strcmp(p->domain, d) == 0)
				return p;   /* exact always wins */
			continue;
		}
		size_t len = strlen(p->domain);
		if (is_proper_subdomain(d, p->domain) && len > best_len) {
			best = p;
			best_len = len;
		}
	}
	return best;
}

int ds_partner_covers(const struct ds_partner *p, const char *domain)
{
	char d[DOMAIN_MAX + 2];

	if (p == NULL || domain == NULL ||
	    normalize_domain(domain, d, sizeof d) != 0)
		return 0;
	if (p->subdomains)
		return is_proper_subdomain(d, p->domain);
	return strcmp(p->domain, d) == 0;
}

/* ---- loading ---- */

struct loader {
	const char *path;
	int line;
	char *err;
	size_t errlen;
	struct ds_partner_table table;
	struct ds_partner *cur;    /* entry being continued, or NULL */
	int seen_direction, seen_mode, seen_revocation;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct loader *ld, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ds_format_located(ld->err, ld->errlen, ld->path, ld->line, fmt, ap);
	va_end(ap);
	return -1;
}

static int add_file_option(struct loader *ld, const char *key,
    const char *value, struct ds_strlist *list)
{
	char why[256];
	char *full = ds_config_resolve_path(ld->path, value);
	if (full == NULL)
		return fail(ld, "out of memory");
	if (ds_config_check_cert_file(full, why, sizeof why) != 0) {
		int rc = strcmp(value, full) == 0 ?
		    fail(ld, "%s=%s: %s", key, value, why) :
		    fail(ld, "%s=%s (%s): %s", key, value, full, why);
		free(full);
		return rc;
	}
	int rc = ds_strlist_add(list, full);
	free(full);
	if (rc != 0)
		return fail(ld, "out of memory");
	return 0;
}

static int set_option(struct loader *ld, char *tok)
{
	struct ds_partner *p = ld->cur;
	char *eq = strchr(tok, '=');
	if (eq == NULL)
		return fail(ld, "partner %s%s: option \"%s\" is not key=value",
		    p->subdomains ? "." : "", p->domain, tok);
	*eq = '\0';
	const char *key = tok, *value = eq + 1;
	if (*value == '\0')
		return fail(ld, "partner option %s has no value", key);

	if (strcasecmp(key, "direction") == 0) {
		if (ld->seen_direction++)
			return fail(ld, "direction given twice for this partner");
		if (strcasecmp(value, "receive") == 0)
			p->direction = DS_DIR_RECEIVE;
		else if (strcasecmp(value, "send") == 0)
			p->direction = DS_DIR_SEND;
		else if (strcasecmp(value, "both") == 0)
			p->direction = DS_DIR_BOTH;
		else
			return fail(ld, "direction=%s: expected receive, send or both",
			    value);
	} else if (strcasecmp(key, "mode") == 0) {
		if (ld->seen_mode++)
			return fail(ld, "mode given twice for this partner");
		if (strcasecmp(value, "enforce") == 0)
			p->mode = DS_MODE_ENFORCE;
		else if (strcasecmp(value, "monitor") == 0)
			p->mode = DS_MODE_MONITOR;
		else
			return fail(ld, "mode=%s: expected enforce or monitor", value);
	} else if (strcasecmp(key, "revocation") == 0) {
		if (ld->seen_revocation++)
			return fail(ld, "revocation given twice for this partner");
		if (strcasecmp(value, "require") == 0)
			p->revocation = DS_REVOCATION_REQUIRE;
		else if (strcasecmp(value, "soft") == 0)
			p->revocation = DS_REVOCATION_SOFT;
		else if (strcasecmp(value, "none") == 0)
			p->revocation = DS_REVOCATION_NONE;
		else
			return fail(ld, "revocation=%s: expected require, soft or none",
			    value);
	} else if (strcasecmp(key, "ca") == 0) {
		return add_file_option(ld, "ca", value, &p->ca_files);
	} else if (strcasecmp(key, "pin") == 0) {
		return add_file_option(ld, "pin", value, &p->pin_files);
	} else {
		return fail(ld, "unknown partner option \"%s\" (known: direction, "
		    "mode, revocation, ca, pin)", key);
	}
	return 0;
}

static int start_entry(struct loader *ld, const char *tok)
{
	int subdomains = 0;
	char d[DOMAIN_MAX + 2];

	if (tok[0] == '.') {
		subdomains = 1;
		tok++;
	}
	if (tok[0] == '*')
		return fail(ld, "partner \"%s\": write .domain to cover subdomains, "
		    "not a wildcard", tok);
	if (strchr(tok, '=') != NULL)
		return fail(ld, "\"%s\": a partner line starts with its domain", tok);
	if (!ds_hostname_valid(tok, 0) || normalize_domain(tok, d, sizeof d) != 0)
		return fail(ld, "partner \"%s%s\" is not a valid domain name",
		    subdomains ? "." : "", tok);
	if (strchr(d, '.') == NULL)
		return fail(ld, "partner \"%s%s\" is a top-level domain; "
		    "list the partner's own domain", subdomains ? "." : "", d);
	int ps = ds_is_public_suffix(d);
	if (ps != 0)
		return fail(ld, ps > 0 ? "partner \"%s%s\" is a public suffix "
		    "(Public Suffix List), shared by unrelated owners; list the "
		    "partner's own domain" : "partner \"%s%s\": the Public "
		    "Suffix List cannot be loaded to check it",
		    subdomains ? "." : "", d);
	for (size_t i = 0; i < ld->table.n; i++) {
		const struct ds_partner *o = &ld->table.v[i];
		if (o->subdomains == subdomains && strcmp(o->domain, d) == 0)
			return fail(ld, "partner %s%s is listed twice (first at line %d)",
			    subdomains ? "." : "", d, o->line);
	}

	struct ds_partner *v = realloc(ld->table.v,
	    (ld->table.n + 1) * sizeof *v);
	if (v == NULL)
		return fail(ld, "out of memory");
	ld->table.v = v;
	struct ds_partner *p = &v[ld->table.n];
	memset(p, 0, sizeof *p);
	p->domain = strdup(d);
	p->source = strdup(ld->path);
	if (p->domain == NULL || p->source == NULL) {
		partner_free(p);
		return fail(ld, "out of memory");
	}
	ld->table.n++;
	p->subdomains = subdomains;
	p->direction = DS_DIR_BOTH;
	p->mode = DS_MODE_ENFORCE;
	p->revocation = DS_REVOCATION_REQUIRE;
	p->line = ld->line;
	ld->cur = p;
	ld->seen_direction = ld->seen_mode = ld->seen_revocation = 0;
	return 0;
}

/* Handles one physical line; sets *continues when it ends with '\'. */
static int parse_line(struct loader *ld, char *line, int *continues)
{
	char *hash = strchr(line, '#');
	if (hash != NULL)
		*hash = '\0';
	size_t len = strlen(line);
	while (len > 0 && isspace((unsigned char)line[len - 1]))
		line[--len] = '\0';
	int was_continued = *continues;
	*continues = 0;
	if (len > 0 && line[len - 1] == '\\') {
		line[--len] = '\0';
		*continues = 1;
	}
	if (!was_continued)
		ld->cur = NULL;

	char *save = NULL;
	for (char *tok = strtok_r(line, " \t\r\f\v", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t\r\f\v", &save)) {
		int rc = ld->cur == NULL ? start_entry(ld, tok) : set_option(ld, tok);
		if (rc != 0)
			return rc;
	}
	if (*continues && ld->cur == NULL)
		return fail(ld, "a continued line must start with a partner domain");
	return 0;
}

int ds_partners_load(const char *path, struct ds_partner_table *out, char *err,
    size_t errlen)
{
	struct loader ld = { .path = path, .err = err, .errlen = errlen };
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int continues = 0, rc = 0;

	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open partner table: %s", path,
		    strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		ld.line++;
		if ((size_t)n != strlen(line)) {
			rc = fail(&ld, "line contains a NUL byte");
			break;
		}
		if ((rc = parse_line(&ld, line, &continues)) != 0)
			break;
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
		rc = -1;
	}
	if (rc == 0 && continues)
		rc = fail(&ld, "the last line ends with a backslash");
	free(line);
	fclose(f);
	if (rc != 0) {
		ds_partners_free(&ld.table);
		return -1;
	}
	*out = ld.table;
	return 0;
}
