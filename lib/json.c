/*
 * json.c - a small JSON writer into a growable buffer (see json.h).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "domsec/json.h"

void ds_json_init(struct ds_json *j)
{
	memset(j, 0, sizeof *j);
}

void ds_json_free(struct ds_json *j)
{
	free(j->buf);
	memset(j, 0, sizeof *j);
}

static void put(struct ds_json *j, const char *s, size_t n)
{
	if (j->failed)
		return;
	if (j->len + n + 1 > j->cap) {
		size_t cap = j->cap ? j->cap : 256;
		while (cap < j->len + n + 1)
			cap *= 2;
		char *b = realloc(j->buf, cap);
		if (b == NULL) {
			j->failed = 1;
			return;
		}
		j->buf = b;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void puts_(struct ds_json *j, const char *s)
{
	put(j, s, strlen(s));
}

/* Called before every value: places the comma, checks a key came first
 * inside an object. */
static void before_value(struct ds_json *j)
{
	if (j->depth == 0) {
		if (j->len > 0)
			j->failed = 1;   /* a second top-level value */
		return;
	}
	int level = j->depth - 1;
	if (j->kind[level] == 'o') {
		if (!j->after_key)
			j->failed = 1;
		j->after_key = 0;
		j->count[level]++;
		return;
	}
	if (j->count[level]++ > 0)
		put(j, ",", 1);
}

static void open_container(struct ds_json *j, char kind, const char *text)
{
	before_value(j);
	if (j->depth >= DS_JSON_MAX_DEPTH) {
		j->failed = 1;
		return;
	}
	j->kind[j->depth] = kind;
	j->count[j->depth] = 0;
	j->depth++;
	puts_(j, text);
}

static void close_container(struct ds_json *j, char kind, const char *text)
{
	if (j->depth == 0 || j->kind[j->depth - 1] != kind || j->after_key) {
		j->failed = 1;
		return;
	}
	j->depth--;
	puts_(j, text);
}

void ds_json_object_begin(struct ds_json *j) { open_container(j, 'o', "{"); }
void ds_json_object_end(struct ds_json *j) { close_container(j, 'o', "}"); }
void ds_json_array_begin(struct ds_json *j) { open_container(j, 'a', "["); }
void ds_json_array_end(struct ds_json *j) { close_container(j, 'a', "]"); }

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
	size_t need;
	unsigned int cp;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;   /* overlong, out of range or a surrogate */
	return need;
}

static void write_string(struct ds_json *j, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	put(j, "\"", 1);
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		char esc[8];
		switch (c) {
		case '"': puts_(j, "\\\""); i++; continue;
		case '\\': puts_(j, "\\\\"); i++; continue;
		case '\n': puts_(j, "\\n"); i++; continue;
		case '\r': puts_(j, "\\r"); i++; continue;
		case '\t': puts_(j, "\\t"); i++; continue;
		case '\b': puts_(j, "\\b"); i++; continue;
		case '\f': puts_(j, "\\f"); i++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			puts_(j, esc);
			i++;
			continue;
		}
		size_t len = utf8_sequence(s + i, n - i);
		if (len == 0) {
			puts_(j, "\\ufffd");
			i++;
			continue;
		}
		put(j, (const char *)s + i, len);
		i += len;
	}
	put(j, "\"", 1);
}

void ds_json_key(struct ds_json *j, const char *key)
{
	if (j->depth == 0 || j->kind[j->depth - 1] != 'o' || j->after_key ||
	    key == NULL) {
		j->failed = 1;
		return;
	}
	if (j->count[j->depth - 1] > 0)
		put(j, ",", 1);
	write_string(j, key, strlen(key));
	put(j, ":", 1);
	j->after_key = 1;
}

void ds_json_string_n(struct ds_json *j, const char *s, size_t len)
{
	before_value(j);
	write_string(j, s, len);
}

void ds_json_string(struct ds_json *j, const char *s)
{
	if (s == NULL) {
		ds_json_null(j);
		return;
	}
	ds_json_string_n(j, s, strlen(s));
}

void ds_json_int(struct ds_json *j, long long v)
{
	char num[32];
	before_value(j);
	snprintf(num, sizeof num, "%lld", v);
	puts_(j, num);
}

void ds_json_double(struct ds_json *j, double v)
{
	char num[40];
	if (isnan(v) || isinf(v)) {
		ds_json_null(j);
		return;
	}
	before_value(j);
	snprintf(num, sizeof num, "%.17g", v);
	/* a locale with a decimal comma would break JSON */
	for (char *p = num; *p; p++)
		if (*p == ',')
			*p = '.';
	puts_(j, num);
}

void ds_json_bool(struct ds_json *j, int v)
{
	before_value(j);
	puts_(j, v ? "true" : "false");
}

void ds_json_null(struct ds_json *j)
{
	before_value(j);
	puts_(j, "null");
}

void ds_json_kv_string(struct ds_json *j, const char *key, const char *s)
{
	ds_json_key(j, key);
	ds_json_string(j, s);
}

void ds_json_kv_int(struct ds_json *j, const char *key, long long v)
{
	ds_json_key(j, key);
	ds_json_int(j, v);
}

void ds_json_kv_double(struct ds_json *j, const char *key, double v)
{
	ds_json_key(j, key);
	ds_json_double(j, v);
}

void ds_json_kv_bool(struct ds_json *j, const char *key, int v)
{
	ds_json_key(j, key);
	ds_json_bool(j, v);
}

void ds_json_kv_null(struct ds_json *j, const char *key)
{
	ds_json_key(j, key);
	ds_json_null(j);
}

int ds_json_ok(const struct ds_json *j)
{
	return !j->failed && j->depth == 0 && !j->after_key && j->len > 0;
}

const char *ds_json_text(const struct ds_json *j)
{
	return j->buf ? j->buf : "";
}

int ds_json_print(const struct ds_json *j, FILE *f)
{
	if (!ds_json_ok(j))
		return -1;
	if (fputs(ds_json_text(j), f) == EOF || fputc('\n', f) == EOF)
		return -1;
	return 0;
}
