/*
 * fuzz_json.c - libFuzzer harness for the JSON writer's string escaping
 * (lib/json.c), which carries certificate names and CRL issuers chosen by
 * strangers into `domsecctl ... --json`: the text is ASCII-controls-free,
 * every string is closed, and it round-trips through a strict check of
 * the escapes and of UTF-8 (no overlong forms, no surrogates).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "domsec/json.h"

/* Checks one JSON string starting at *p ('"'); advances past it. */
static int check_string(const unsigned char **p)
{
	const unsigned char *s = *p + 1;
	for (;;) {
		unsigned c = *s;
		if (c == '"')
			break;
		if (c < 0x20 || c == 0x7f)
			return -1;
		if (c == '\\') {
			s++;
			if (*s == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", s[i]) || s[i] == 0)
						return -1;
				s += 5;
			} else if (*s && strchr("\"\\/bfnrt", *s)) {
				s++;
			} else {
				return -1;
			}
			continue;
		}
		if (c < 0x80) {
			s++;
			continue;
		}
		size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		unsigned cp = c & (0x7f >> need);
		if (c < 0xc2 || c > 0xf4)
			return -1;
		for (size_t i = 1; i < need; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return -1;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return -1;
		s += need;
	}
	*p = s + 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ds_json j;
	const unsigned char *t;

	ds_json_init(&j);
	ds_json_object_begin(&j);
	ds_json_key(&j, "subject");
	ds_json_string_n(&j, (const char *)data, size);
	ds_json_object_end(&j);
	if (!ds_json_ok(&j))
		abort();
	t = (const unsigned char *)ds_json_text(&j);
	if (strncmp((const char *)t, "{\"subject\":", 11) != 0)
		abort();
	t += 11;
	while (*t == ' ')
		t++;
	if (*t != '"' || check_string(&t) != 0 || *t != '}' || t[1] != '\0')
		abort();
	ds_json_free(&j);
	return 0;
}
