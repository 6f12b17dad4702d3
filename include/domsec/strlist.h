/*
 * strlist.h - a small growable list of owned strings, used by the
 * configuration for repeatable keys and by reports.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_STRLIST_H
#define DOMSEC_STRLIST_H

#include <stddef.h>

struct ds_strlist {
	char **v;
	size_t n;
	size_t cap;
};

/* Appends a copy of s; returns 0, or -1 on allocation failure. */
int ds_strlist_add(struct ds_strlist *l, const char *s);
/* Appends a copy of every string of src. */
int ds_strlist_extend(struct ds_strlist *l, const struct ds_strlist *src);
void ds_strlist_free(struct ds_strlist *l);

#endif
