/*
 * postconf_run.c - fork and exec postconf(1), capturing what it prints.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "domsec/postconf_run.h"

#define MAX_OUTPUT (1024 * 1024)

static void build_argv(const struct pc_target *t, const char *flags,
    const char *arg, const char *argv[6])
{
	int n = 0;

	argv[n++] = t->postconf;
	if (t->config_dir != NULL) {
		argv[n++] = "-c";
		argv[n++] = t->config_dir;
	}
	argv[n++] = flags;
	if (arg != NULL)
		argv[n++] = arg;
	argv[n] = NULL;
}

static pid_t spawn(const char *const argv[], int out_fd, int quiet)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	if (out_fd >= 0)
		dup2(out_fd, 1);
	if (quiet) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 2);
	}
	execvp(argv[0], (char *const *)argv);
	/* (after fork in a threaded daemon: only async-signal-safe calls) */
	if (!quiet) {
		static const char msg[] = "cannot run postconf\n";
		(void)!write(2, msg, sizeof msg - 1);
	}
	_exit(127);
}

static int reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

char *pc_query(const struct pc_target *t, const char *flags, const char *name,
    int quiet)
{
	const char *argv[6];
	int fds[2];
	size_t len = 0, cap = 256;
	char *buf = malloc(cap);
	pid_t pid;
	ssize_t n;

	if (buf == NULL || pipe(fds) != 0) {
		free(buf);
		return NULL;
	}
	build_argv(t, flags, name, argv);
	fflush(stdout);
	pid = spawn(argv, fds[1], quiet);
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		free(buf);
		return NULL;
	}
	for (;;) {
		if (len + 1 >= cap) {
			char *nb = cap >= MAX_OUTPUT ? NULL : realloc(buf, cap * 2);
			if (nb == NULL)
				break;
			buf = nb;
			cap *= 2;
		}
		n = read(fds[0], buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fds[0]);
	buf[len] = '\0';
	if (reap(pid) != 0) {
		free(buf);
		return NULL;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	return buf;
}

int pc_apply(const struct pc_target *t, const char *flag, const char *arg)
{
	const char *argv[6];
	pid_t pid;

	build_argv(t, flag, arg, argv);
	fflush(stdout);
	pid = spawn(argv, -1, 0);
	return pid < 0 ? -1 : reap(pid);
}
