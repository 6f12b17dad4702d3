/*
 * daemon.c - detaching, pid file and privilege drop for domsecd (see
 * daemon.h).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include "domsec/fileio.h"
#include "domsec/log.h"
#include "daemon.h"

int ds_write_pid_file(const char *path)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return -1;
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

int ds_daemonize(int *ready_fd)
{
	int pfd[2];
	pid_t pid;

	if (pipe(pfd) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		char c;
		int status;
		close(pfd[1]);
		if (read(pfd[0], &c, 1) == 1)
			_exit(0);
		if (waitpid(pid, &status, 0) == pid && WIFEXITED(status))
			_exit(WEXITSTATUS(status) ? WEXITSTATUS(status) : 1);
		_exit(1);
	}
	close(pfd[0]);
	if (setsid() < 0)
		return -1;
	if (chdir("/") < 0)
		return -1;
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	*ready_fd = pfd[1];
	return 0;
}

int ds_drop_privileges(const char *user)
{
	struct passwd *pw = getpwnam(user);

	if (pw == NULL) {
		ds_log(LOG_ERR, "UserID %s: no such user", user);
		return -1;
	}
	/* Already that user (systemd's User=, with UserID set as well): an
	 * unprivileged process cannot call initgroups, and need not. */
	if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid &&
	    getgid() == pw->pw_gid && getegid() == pw->pw_gid)
		return 0;
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0
	    || setuid(pw->pw_uid) < 0) {
		ds_log(LOG_ERR, "UserID %s: cannot switch to it: %s", user, strerror(errno));
		return -1;
	}
	return 0;
}


int ds_prepare_state_dir(const char *dir, const char *user)
{
	struct passwd *pw;

	if (dir == NULL || dir[0] == '\0')
		return 0;
	if (ds_make_dirs(dir) != 0) {
		ds_log(LOG_ERR, "%s: cannot create the directory: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (user == NULL || user[0] == '\0')
		return 0;
	pw = getpwnam(user);
	if (pw != NULL && geteuid() == pw->pw_uid)
		return 0;  /* created by that user already */
	if (pw == NULL || chown(dir, pw->pw_uid, pw->pw_gid) != 0) {
		ds_log(LOG_ERR, "%s: cannot give the directory to user %s: %s", dir,
		    user, pw == NULL ? "no such user" : strerror(errno));
		return -1;
	}
	return 0;
}
