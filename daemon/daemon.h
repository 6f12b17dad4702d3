/*
 * daemon.h - the parts of being a Unix daemon that domsecd needs: detaching
 * with a start-up handshake, the pid file, dropping root.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_DAEMON_DAEMON_H
#define DOMSEC_DAEMON_DAEMON_H

/*
 * Detaches from the terminal (fork, setsid, chdir /, stdio to /dev/null).
 * The parent waits until the child writes a byte to *ready_fd (it is
 * serving) and exits 0, or exits with the child's status when the child
 * dies during start-up.  Returns 0 in the child, -1 on failure.
 */
int ds_daemonize(int *ready_fd);

/* Writes our pid to path (temporary file + rename); 0 or -1 (errno). */
int ds_write_pid_file(const char *path);

/* Creates dir (mkdir -p) and, when user is set, gives it to that user, so
 * that domsecd can still write there after dropping root.  Logs and
 * returns -1 on failure. */
int ds_prepare_state_dir(const char *dir, const char *user);

/* Switches to user (its groups too); 0, or -1 after logging why. */
int ds_drop_privileges(const char *user);

#endif
