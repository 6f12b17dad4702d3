/*
 * json.h - a small JSON writer for reports (domsecctl ... --json): objects,
 * arrays, strings (escaped; invalid UTF-8 becomes U+FFFD so the output is
 * always valid JSON), integers, booleans and null, built into a growable
 * buffer.  Commas are placed automatically.
 *
 *   struct ds_json j;
 *   ds_json_init(&j);
 *   ds_json_object_begin(&j);
 *   ds_json_kv_string(&j, "verdict", "secured");
 *   ds_json_key(&j, "chain");
 *   ds_json_array_begin(&j);
 *   ...
 *   ds_json_array_end(&j);
 *   ds_json_object_end(&j);
 *   if (ds_json_ok(&j)) puts(ds_json_text(&j));
 *   ds_json_free(&j);
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_JSON_H
#define DOMSEC_JSON_H

#include <stddef.h>
#include <stdio.h>

#define DS_JSON_MAX_DEPTH 32

struct ds_json {
	char *buf;
	size_t len;
	size_t cap;
	int failed;                 /* out of memory, or misuse (too deep,
	                               unbalanced, value without a key) */
	int depth;
	char kind[DS_JSON_MAX_DEPTH];  /* 'o' object, 'a' array, per level */
	int count[DS_JSON_MAX_DEPTH];  /* members written per level */
	int after_key;              /* a key was written; a value must follow */
};

void ds_json_init(struct ds_json *j);
void ds_json_free(struct ds_json *j);

void ds_json_object_begin(struct ds_json *j);
void ds_json_object_end(struct ds_json *j);
void ds_json_array_begin(struct ds_json *j);
void ds_json_array_end(struct ds_json *j);

/* Inside an object: the member name; the next call writes its value. */
void ds_json_key(struct ds_json *j, const char *key);

void ds_json_string(struct ds_json *j, const char *s);  /* NULL writes null */
void ds_json_string_n(struct ds_json *j, const char *s, size_t len);
void ds_json_int(struct ds_json *j, long long v);
void ds_json_double(struct ds_json *j, double v);   /* NaN, inf: null */
void ds_json_bool(struct ds_json *j, int v);
void ds_json_null(struct ds_json *j);

/* key + value in one call. */
void ds_json_kv_string(struct ds_json *j, const char *key, const char *s);
void ds_json_kv_int(struct ds_json *j, const char *key, long long v);
void ds_json_kv_double(struct ds_json *j, const char *key, double v);
void ds_json_kv_bool(struct ds_json *j, const char *key, int v);
void ds_json_kv_null(struct ds_json *j, const char *key);

/* 1 when the document is complete (all containers closed) and no error
 * occurred. */
int ds_json_ok(const struct ds_json *j);

/* The text so far, NUL-terminated (never NULL). */
const char *ds_json_text(const struct ds_json *j);

/* Writes the text and a newline to f; returns 0, or -1 when !ds_json_ok or
 * the write fails. */
int ds_json_print(const struct ds_json *j, FILE *f);

#endif
