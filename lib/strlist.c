/*
 * strlist.c - a small growable list of owned strings.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>
#include <string.h>
#include "domsec/strlist.h"

int ds_strlist_add(struct ds_strlist *l, const char *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		char **v = realloc(l->v, cap * sizeof *v);
		if (v == NULL)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	char *copy = strdup(s);
	if (copy == NULL)
		return -1;
	l->v[l->n++] = copy;
	return 0;
}

int ds_strlist_extend(struct ds_strlist *l, const struct ds_strlist *src)
{
	for (size_t i = 0; i < src->n; i++)
		if (ds_strlist_add(l, src->v[i]) != 0)
			return -1;
	return 0;
}

void ds_strlist_free(struct ds_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}
