/*
 * postfix_merge.c - merges domsec's milter, policy service and macros into
 * existing Postfix parameter values, keeping every element already there
 * (OpenDKIM, OpenDMARC, RBLs, access maps).  See postfix_merge.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "domsec/postfix_merge.h"

static int is_sep(char c)
{
	return c == ',' || isspace((unsigned char)c);
}

static int add_n(struct ds_strlist *out, const char *s, size_t n)
{
	char *copy = strndup(s, n);
	int rc;

	if (copy == NULL)
		return -1;
	rc = ds_strlist_add(out, copy);
	free(copy);
	return rc;
}

/* The next element of value from *pos: 1 with [*s, *e), 0 at the end, -1
 * on unbalanced braces. */
static int next_elem(const char *value, size_t *pos, size_t *s, size_t *e)
{
	const char *p = value + *pos;

	while (*p != '\0' && is_sep(*p))
		p++;
	if (*p == '\0')
		return 0;
	*s = (size_t)(p - value);
	if (*p == '{') {
		int depth = 0;
		for (; *p != '\0'; p++) {
			if (*p == '{')
				depth++;
			else if (*p == '}' && --depth == 0)
				break;
		}
		if (*p != '}')
			return -1;
		p++;
	} else {
		while (*p != '\0' && !is_sep(*p) && *p != '{') {
			if (*p == '}')
				return -1;
			p++;
		}
	}
	*e = (size_t)(p - value);
	*pos = *e;
	return 1;
}

int ds_pf_split(const char *value, struct ds_strlist *out)
{
	size_t pos = 0, s, e;
	int rc;

	if (value == NULL)
		return 0;
	while ((rc = next_elem(value, &pos, &s, &e)) == 1)
		if (add_n(out, value + s, e - s) != 0)
			return -1;
	return rc;
}

const char *ds_pf_head(const char *element, char *buf, size_t len)
{
	const char *p = element;
	size_t n = 0;

	if (len == 0)
		return buf;
	if (*p == '{')
		p++;
	while (*p != '\0' && is_sep(*p))
		p++;
	while (p[n] != '\0' && !is_sep(p[n]) && p[n] != '}')
		n++;
	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

static int has_head(const char *element, const char *want)
{
	char buf[1024];
	return strcmp(ds_pf_head(element, buf, sizeof buf), want) == 0;
}

/* before + mid + after, malloc'd. */
static char *splice(const char *before, size_t blen, const char *mid,
    const char *after)
{
	size_t len = blen + strlen(mid) + strlen(after) + 1;
	char *out = malloc(len);

	if (out != NULL)
		snprintf(out, len, "%.*s%s%s", (int)blen, before, mid, after);
	return out;
}

char *ds_pf_merge_milter(const char *value, const char *milter, int *changed)
{
	struct ds_strlist l = { 0 };
	char *out = NULL;
	size_t len;

	*changed = 0;
	if (value == NULL)
		value = "";
	if (ds_pf_split(value, &l) != 0)
		goto done;
	for (size_t i = 0; i < l.n; i++)
		if (has_head(l.v[i], milter)) {
			out = strdup(value);
			goto done;
		}
	*changed = 1;
	len = strlen(value);
	while (len > 0 && is_sep(value[len - 1]))
		len--;
	out = splice(value, len, len > 0 ? ", " : "", milter);
done:
	ds_strlist_free(&l);
	return out;
}

char *ds_pf_merge_map(const char *value, const char *map, int *changed)
{
	struct ds_strlist l = { 0 };
	char *out = NULL;

	*changed = 0;
	if (value == NULL)
		value = "";
	if (ds_pf_split(value, &l) != 0)
		goto done;
	for (size_t i = 0; i < l.n; i++)
		if (has_head(l.v[i], map)) {
			out = strdup(value);
			goto done;
		}
	*changed = 1;
	while (*value != '\0' && is_sep(*value))
		value++;
	out = splice(map, strlen(map), *value != '\0' ? ", " : "", value);
done:
	ds_strlist_free(&l);
	return out;
}

static const char *const anchors[] = {
	"permit_mynetworks", "permit_sasl_authenticated",
	"reject_unauth_destination", "defer_unauth_destination",
};

static int is_anchor(const char *e)
{
	for (size_t i = 0; i < sizeof anchors / sizeof anchors[0]; i++)
		if (strcasecmp(e, anchors[i]) == 0)
			return 1;
	return 0;
}

char *ds_pf_merge_policy(const char *value, const char *server,
    const char *group, int *changed)
{
	struct ds_strlist l = { 0 };
	char *out = NULL, *ours = NULL;
	size_t pos = 0, s, e, at = 0, n = 0, len;
	int rc;

	*changed = 0;
	if (value == NULL)
		value = "";
	if (ds_pf_split(value, &l) != 0)
		goto done;
	for (size_t i = 0; i + 1 < l.n; i++)
		if (strcasecmp(l.v[i], "check_policy_service") == 0 &&
		    has_head(l.v[i + 1], server)) {
			out = strdup(value);
			goto done;
		}
	len = strlen("check_policy_service ") + strlen(group) + 1;
	ours = malloc(len);
	if (ours == NULL)
		goto done;
	snprintf(ours, len, "check_policy_service %s", group);
	*changed = 1;
	if (l.n == 0) {
		out = splice("permit_mynetworks, permit_sasl_authenticated, ",
		    strlen("permit_mynetworks, permit_sasl_authenticated, "), ours, "");
		goto done;
	}
	/* after the last relay-control element, in the original text */
	while ((rc = next_elem(value, &pos, &s, &e)) == 1) {
		if (is_anchor(l.v[n]))
			at = e;
		n++;
	}
	if (at == 0) {
		while (*value != '\0' && is_sep(*value))
			value++;
		out = splice("", 0, ours, "");
		if (out != NULL) {
			char *tmp = splice(out, strlen(out), ", ", value);
			free(out);
			out = tmp;
		}
	} else {
		char *mid = splice(", ", 2, ours, "");
		if (mid != NULL)
			out = splice(value, at, mid, value + at);
		free(mid);
	}
done:
	free(ours);
	ds_strlist_free(&l);
	return out;
}

char *ds_pf_merge_macros(const char *value, const char *want, int *changed)
{
	struct ds_strlist have = { 0 }, add = { 0 };
	char *out = NULL;
	size_t len = 1, off = 0;

	*changed = 0;
	if (ds_pf_split(value, &have) != 0 || ds_pf_split(want, &add) != 0)
		goto done;
	for (size_t i = 0; i < add.n; i++) {
		int found = 0;
		for (size_t j = 0; j < have.n && !found; j++)
			found = strcmp(have.v[j], add.v[i]) == 0;
		if (!found) {
			if (ds_strlist_add(&have, add.v[i]) != 0)
				goto done;
			*changed = 1;
		}
	}
	for (size_t i = 0; i < have.n; i++)
		len += strlen(have.v[i]) + 1;
	out = malloc(len);
	if (out == NULL)
		goto done;
	out[0] = '\0';
	for (size_t i = 0; i < have.n; i++) {
		int n = snprintf(out + off, len - off, "%s%s", i ? " " : "", have.v[i]);
		if (n < 0 || (size_t)n >= len - off) {
			free(out);
			out = NULL;
			goto done;
		}
		off += (size_t)n;
	}
done:
	ds_strlist_free(&have);
	ds_strlist_free(&add);
	return out;
}

static int all_digits(const char *s, size_t n)
{
	if (n == 0 || n > 5)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Writes inet:HOST:PORT (brackets for IPv6) for host h (length hn). */
static int inet_out(char *out, size_t outlen, const char *h, size_t hn,
    const char *port, size_t pn, int v6)
{
	int n;

	if (hn >= 2 && h[0] == '[' && h[hn - 1] == ']') {
		h++;
		hn -= 2;
		v6 = 1;
	}
	if (hn == 0 || (hn == 1 && h[0] == '*')) {
		h = v6 ? "::1" : "127.0.0.1";
		hn = strlen(h);
	}
	if (memchr(h, ':', hn) != NULL)
		v6 = 1;
	if (!all_digits(port, pn))
		return -1;
	n = v6 && memchr(h, ':', hn) != NULL
	    ? snprintf(out, outlen, "inet:[%.*s]:%.*s", (int)hn, h, (int)pn, port)
	    : snprintf(out, outlen, "inet:%.*s:%.*s", (int)hn, h, (int)pn, port);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int ds_pf_client_spec(const char *spec, const char *chroot_dir, char *out,
    size_t outlen)
{
	const char *rest, *at, *colon;
	int v6;

	if (spec == NULL)
		return -1;
	if (strncasecmp(spec, "unix:", 5) == 0 || strncasecmp(spec, "local:", 6) == 0) {
		const char *path = strchr(spec, ':') + 1;
		size_t cl = chroot_dir == NULL ? 0 : strlen(chroot_dir);
		int n;

		while (cl > 1 && chroot_dir[cl - 1] == '/')
			cl--;
		if (path[0] != '/')
			return -1;
		if (cl > 1 && strncmp(path, chroot_dir, cl) == 0 && path[cl] == '/')
			path += cl;
		n = snprintf(out, outlen, "unix:%s", path);
		return n < 0 || (size_t)n >= outlen ? -1 : 0;
	}
	if (strncasecmp(spec, "inet6:", 6) == 0) {
		rest = spec + 6;
		v6 = 1;
	} else if (strncasecmp(spec, "inet:", 5) == 0) {
		rest = spec + 5;
		v6 = 0;
	} else {
		return -1;
	}
	at = strchr(rest, '@');
	if (at != NULL)     /* PORT@HOST */
		return inet_out(out, outlen, at + 1, strlen(at + 1), rest,
		    (size_t)(at - rest), v6);
	colon = strrchr(rest, ':');
	if (colon == NULL)  /* PORT */
		return inet_out(out, outlen, "", 0, rest, strlen(rest), v6);
	return inet_out(out, outlen, rest, (size_t)(colon - rest), colon + 1,
	    strlen(colon + 1), v6);
}
