/*
 * peer.c - the peer checks of domsecd's sockets (see peer.h).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <pthread.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "domsec/log.h"
#include "domsec/peer.h"

static void add_uid(struct ds_peer_policy *p, uid_t uid)
{
	for (size_t i = 0; i < p->n_uids; i++)
		if (p->uids[i] == uid)
			return;
	if (p->n_uids < sizeof p->uids / sizeof p->uids[0])
		p->uids[p->n_uids++] = uid;
}

static void add_user(struct ds_peer_policy *p, const char *name)
{
	const struct passwd *pw = name != NULL ? getpwnam(name) : NULL;

	if (pw != NULL)
		add_uid(p, pw->pw_uid);
}

int ds_peer_policy_build(struct ds_peer_policy *p, const struct ds_config *cfg,
    char *err, size_t errlen)
{
	struct ds_strlist loopback = { 0 };
	const struct ds_strlist *addrs = &cfg->peer_addresses;
	int rc;

	memset(p, 0, sizeof *p);
	if (cfg->peer_users.n > 0) {
		for (size_t i = 0; i < cfg->peer_users.n; i++) {
			const struct passwd *pw = getpwnam(cfg->peer_users.v[i]);
			if (pw == NULL) {
				snprintf(err, errlen, "PeerUsers: no such user \"%s\"",
				    cfg->peer_users.v[i]);
				return -1;
			}
			add_uid(p, pw->pw_uid);
		}
	} else {
		add_uid(p, 0);
		add_user(p, "postfix");
		add_user(p, cfg->socket_owner);
		add_user(p, cfg->user);
	}
	if (addrs->n == 0) {
		if (ds_strlist_add(&loopback, "127.0.0.0/8") != 0 ||
		    ds_strlist_add(&loopback, "::1") != 0) {
			ds_strlist_free(&loopback);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		addrs = &loopback;
	}
	rc = ds_cidr_list_build(&p->addrs, addrs, err, errlen);
	ds_strlist_free(&loopback);
	return rc;
}

void ds_peer_policy_free(struct ds_peer_policy *p)
{
	ds_cidr_list_free(&p->addrs);
	memset(p, 0, sizeof *p);
}

static int unix_peer_allowed(const struct ds_peer_policy *p, int fd,
    char *who, size_t wholen)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	const struct passwd *pw;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		snprintf(who, wholen, "SO_PEERCRED: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < p->n_uids; i++)
		if (p->uids[i] == cred.uid)
			return 1;
	pw = getpwuid(cred.uid);
	snprintf(who, wholen, "uid %lu (%s), pid %ld", (unsigned long)cred.uid,
	    pw != NULL ? pw->pw_name : "no user name", (long)cred.pid);
	return 0;
}

int ds_peer_allowed(const struct ds_peer_policy *p, int fd, char *who,
    size_t wholen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char addr[INET6_ADDRSTRLEN] = "";

	who[0] = '\0';
	if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0) {
		snprintf(who, wholen, "getpeername: %s", strerror(errno));
		return -1;
	}
	if (ss.ss_family == AF_UNIX)
		return unix_peer_allowed(p, fd, who, wholen);
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr,
		    sizeof addr);
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    addr, sizeof addr);
	else {
		snprintf(who, wholen, "socket family %d", (int)ss.ss_family);
		return -1;
	}
	if (ds_cidr_list_match(&p->addrs, addr))
		return 1;
	snprintf(who, wholen, "%s", addr);
	return 0;
}

int ds_peer_admit(const struct ds_peer_policy *p, int fd, const char *service)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static char last[128];
	static time_t last_at;
	char who[128];
	int ok = ds_peer_allowed(p, fd, who, sizeof who);

	if (ok == 1)
		return 1;
	pthread_mutex_lock(&lock);
	if (strcmp(who, last) != 0 || time(NULL) - last_at >= 60) {
		ds_log(LOG_WARNING, "%s: refusing a connection from %s: %s", service,
		    who, ok == 0 ? "not in PeerUsers/PeerAddresses" :
		    "the peer cannot be identified");
		snprintf(last, sizeof last, "%s", who);
		last_at = time(NULL);
	}
	pthread_mutex_unlock(&lock);
	return 0;
}

/* The uid and gid SocketOwner/UserID and SocketGroup/postfix name
 * ((uid_t)-1 and (gid_t)-1 for "leave as is"). */
static int socket_ids(const char *path, const struct ds_config *cfg,
    uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	const char *owner = cfg->socket_owner != NULL ? cfg->socket_owner :
	    cfg->user;
	const char *group = cfg->socket_group != NULL ? cfg->socket_group :
	    "postfix";
	const struct passwd *pw = owner != NULL ? getpwnam(owner) : NULL;
	const struct group *gr = getgrnam(group);

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (owner != NULL && pw == NULL) {
		snprintf(err, errlen, "%s: no such user \"%s\" for the socket",
		    path, owner);
		return -1;
	}
	if (cfg->socket_group != NULL && gr == NULL) {
		snprintf(err, errlen, "%s: no such group \"%s\" for the socket",
		    path, group);
		return -1;
	}
	if (pw != NULL)
		*uid = pw->pw_uid;
	if (gr != NULL)
		*gid = gr->gr_gid;
	return 0;
}

int ds_socket_prepare_dir(const char *path, const struct ds_config *cfg,
    char *err, size_t errlen)
{
	char dir[256];
	char *slash;
	struct stat st;
	uid_t uid;
	gid_t gid;

	snprintf(dir, sizeof dir, "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (stat(dir, &st) == 0)
		return 0;            /* an existing directory is the admin's */
	if (socket_ids(path, cfg, &uid, &gid, err, errlen) < 0)
		return -1;
	if (mkdir(dir, 0750) != 0) {
		snprintf(err, errlen, "%s: cannot create the socket directory: %s",
		    dir, strerror(errno));
		return -1;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(dir, uid, gid) != 0) {
		snprintf(err, errlen, "%s: chown: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int ds_socket_set_access(const char *path, const struct ds_config *cfg,
    char *err, size_t errlen)
{
	uid_t uid;
	gid_t gid;

	if (socket_ids(path, cfg, &uid, &gid, err, errlen) < 0)
		return -1;
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) != 0) {
		snprintf(err, errlen, "%s: chown: %s", path, strerror(errno));
		return -1;
	}
	if (chmod(path, (mode_t)cfg->socket_mode) != 0) {
		snprintf(err, errlen, "%s: chmod: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
