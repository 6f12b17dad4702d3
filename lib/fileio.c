/*
 * fileio.c - small file helpers shared by lib/ (see include/domsec/fileio.h):
 * bounded whole-file read, atomic replace, mkdir -p.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "domsec/fileio.h"

int ds_file_read(const char *path, unsigned char **buf, size_t *len, long max)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	unsigned char *b;

	if (f == NULL)
		return -1;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
	    (max > 0 && st.st_size > max)) {
		fclose(f);
		errno = EFBIG;
		return -1;
	}
	b = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (b == NULL || fread(b, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(b);
		fclose(f);
		return -1;
	}
	fclose(f);
	*buf = b;
	*len = (size_t)st.st_size;
	return 0;
}

static int write_atomic(const char *path, const void *buf, size_t len,
    mode_t mode, int adopt_dir_owner);

int ds_file_write_atomic(const char *path, const void *buf, size_t len,
    mode_t mode)
{
	return write_atomic(path, buf, len, mode, 0);
}

int ds_file_write_atomic_dir_owner(const char *path, const void *buf,
    size_t len, mode_t mode)
{
	return write_atomic(path, buf, len, mode, 1);
}

/* As root, gives the open file the owner and group of the directory it is
 * written to. */
static void adopt_owner(int fd, const char *tmp)
{
	char dir[4096];
	const char *slash = strrchr(tmp, '/');
	struct stat st;

	if (geteuid() != 0)
		return;
	snprintf(dir, sizeof dir, "%.*s", slash != NULL ? (int)(slash - tmp) : 1,
	    slash != NULL ? tmp : ".");
	if (stat(dir[0] != '\0' ? dir : "/", &st) == 0 &&
	    (st.st_uid != 0 || st.st_gid != 0) &&
	    fchown(fd, st.st_uid, st.st_gid) != 0) {
		/* the file stays root's; the daemon then says it cannot read it */
	}
}

static int write_atomic(const char *path, const void *buf, size_t len,
    mode_t mode, int adopt_dir_owner)
{
	const char *slash = strrchr(path, '/');
	const unsigned char *p = buf;
	char tmp[4096];
	int fd, saved, n;

	if (slash != NULL)
		n = snprintf(tmp, sizeof tmp, "%.*s/.%s.XXXXXX",
		    (int)(slash - path), path, slash + 1);
	else
		n = snprintf(tmp, sizeof tmp, ".%s.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkstemp(tmp);
	if (fd < 0)
		return -1;
	fchmod(fd, mode);
	if (adopt_dir_owner)
		adopt_owner(fd, tmp);
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			saved = errno;
			close(fd);
			unlink(tmp);
			errno = saved;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	return 0;
}

int ds_make_dirs(const char *dir)
{
	char *copy = strdup(dir), *p;
	int rc = 0;

	if (copy == NULL)
		return -1;
	for (p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) != 0 && errno != EEXIST)
			rc = -1;
		*p = '/';
		if (rc)
			break;
	}
	if (rc == 0 && mkdir(copy, 0700) != 0 && errno != EEXIST)
		rc = -1;
	free(copy);
	return rc;
}
