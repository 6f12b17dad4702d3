/*
 * fileio.h - small file helpers shared by lib/: read a whole file with a
 * size limit, replace a file atomically (temporary file + rename), create a
 * directory with its parents.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_FILEIO_H
#define DOMSEC_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* Reads the regular file path into a malloc'd *buf (*len bytes).  max > 0
 * refuses larger files (errno EFBIG).  Returns 0, or -1 with errno set. */
int ds_file_read(const char *path, unsigned char **buf, size_t *len, long max);

/* Replaces path with len bytes of buf: writes "DIR/.NAME.XXXXXX" in the same
 * directory with the given mode, fsyncs it and renames it over path, so that
 * readers see the old or the new content, never a part.  Returns 0, or -1
 * with errno set (the temporary file is removed). */
int ds_file_write_atomic(const char *path, const void *buf, size_t len,
    mode_t mode);
/* The same, but when run as root the file gets the owner and group of its
 * directory (domsecctl as root writing domsecd's cache keeps it readable
 * for the daemon's UserID). */
int ds_file_write_atomic_dir_owner(const char *path, const void *buf,
    size_t len, mode_t mode);

/* mkdir -p: missing parents are created 0755, dir itself 0700.  Returns 0
 * (also when it exists), or -1 with errno set. */
int ds_make_dirs(const char *dir);

#endif
