/*
 * listen.c - listening sockets from the socket specifications Postfix and
 * OpenDKIM users know:
 *
 *   unix:/path  local:/path  /path     a unix-domain socket (a stale socket
 *                                      file is replaced; created 0600, the
 *                                      daemon then applies SocketOwner,
 *                                      SocketGroup and SocketMode)
 *   inet:PORT@HOST  inet:PORT          IPv4 (HOST may be a name or address;
 *   inet:HOST:PORT                     no HOST means every address)
 *   inet6:PORT@HOST  inet6:[HOST]:PORT IPv6
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include "domsec/listen.h"

enum spec_kind { SPEC_UNIX, SPEC_INET, SPEC_INET6 };

struct parsed_spec {
	enum spec_kind kind;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char host[256];   /* "" = any address */
	char port[16];
};

static int valid_port(const char *p)
{
	char *end;
	long v;

	if (*p == '\0' || strlen(p) > 5)
		return 0;
	for (const char *c = p; *c; c++)
		if (*c < '0' || *c > '9')
			return 0;
	v = strtol(p, &end, 10);
	return v >= 0 && v <= 65535;
}

static int copy_part(char *dst, size_t dstlen, const char *src, size_t n)
{
	if (n >= dstlen)
		return -1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

static int parse_spec(const char *spec, struct parsed_spec *ps, char *err,
    size_t errlen)
{
	const char *rest;
	const char *at;

	memset(ps, 0, sizeof *ps);
	if (spec == NULL || *spec == '\0') {
		snprintf(err, errlen, "empty socket specification");
		return -1;
	}
	if (strncasecmp(spec, "unix:", 5) == 0 || strncasecmp(spec, "local:", 6) == 0
	    || spec[0] == '/') {
		rest = spec[0] == '/' ? spec : strchr(spec, ':') + 1;
		ps->kind = SPEC_UNIX;
		if (rest[0] != '/') {
			snprintf(err, errlen, "%s: a unix socket needs an absolute path", spec);
			return -1;
		}
		if (copy_part(ps->path, sizeof ps->path, rest, strlen(rest)) < 0) {
			snprintf(err, errlen, "%s: socket path too long (at most %zu characters)",
			    spec, sizeof ps->path - 1);
			return -1;
		}
		return 0;
	}
	if (strncasecmp(spec, "inet6:", 6) == 0) {
		ps->kind = SPEC_INET6;
		rest = spec + 6;
	} else if (strncasecmp(spec, "inet:", 5) == 0) {
		ps->kind = SPEC_INET;
		rest = spec + 5;
	} else {
		snprintf(err, errlen, "%s: unknown socket type (use unix:/path, "
		    "inet:PORT@HOST or inet6:PORT@HOST)", spec);
		return -1;
	}
	at = strchr(rest, '@');
	if (at != NULL) {
		/* PORT@HOST */
		if (copy_part(ps->port, sizeof ps->port, rest, (size_t)(at - rest)) < 0
		    || copy_part(ps->host, sizeof ps->host, at + 1, strlen(at + 1)) < 0) {
			snprintf(err, errlen, "%s: port or host too long", spec);
			return -1;
		}
	} else if (rest[0] == '[') {
		/* [HOST]:PORT */
		const char *close = strchr(rest, ']');
		if (close == NULL || close[1] != ':'
		    || copy_part(ps->host, sizeof ps->host, rest + 1,
		    (size_t)(close - rest - 1)) < 0
		    || copy_part(ps->port, sizeof ps->port, close + 2, strlen(close + 2)) < 0) {
			snprintf(err, errlen, "%s: expected [HOST]:PORT", spec);
			return -1;
		}
	} else {
		const char *colon = strrchr(rest, ':');
		if (colon == NULL) {
			/* PORT alone */
			if (copy_part(ps->port, sizeof ps->port, rest, strlen(rest)) < 0) {
				snprintf(err, errlen, "%s: port too long", spec);
				return -1;
			}
		} else if (copy_part(ps->host, sizeof ps->host, rest, (size_t)(colon - rest)) < 0
		    || copy_part(ps->port, sizeof ps->port, colon + 1, strlen(colon + 1)) < 0) {
			snprintf(err, errlen, "%s: port or host too long", spec);
			return -1;
		}
	}
	if (!valid_port(ps->port)) {
		snprintf(err, errlen, "%s: \"%s\" is not a port number (0-65535)",
		    spec, ps->port);
		return -1;
	}
	if (strcmp(ps->host, "*") == 0)
		ps->host[0] = '\0';
	return 0;
}

int ds_listen_spec_valid(const char *spec, char *err, size_t errlen)
{
	struct parsed_spec ps;

	return parse_spec(spec, &ps, err, errlen);
}

static int listen_unix(const char *spec, const struct parsed_spec *ps,
    char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	if (lstat(ps->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s: %s exists and is not a socket; "
			    "refusing to replace it", spec, ps->path);
			return -1;
		}
		/* A socket file left by a previous run: replace it. */
		if (unlink(ps->path) < 0) {
			snprintf(err, errlen, "%s: cannot remove stale socket %s: %s",
			    spec, ps->path, strerror(errno));
			return -1;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", spec, strerror(errno));
		return -1;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, ps->path, strlen(ps->path) + 1);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		snprintf(err, errlen, "%s: bind: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	/* Owner only until domsecd applies SocketOwner, SocketGroup and
	 * SocketMode (ds_socket_set_access); peers are checked anyway. */
	if (chmod(ps->path, 0600) < 0) {
		snprintf(err, errlen, "%s: chmod: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, 128) < 0) {
		snprintf(err, errlen, "%s: listen: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int listen_inet(const char *spec, const struct parsed_spec *ps,
    char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, rc, one = 1, last_errno = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = ps->kind == SPEC_INET6 ? AF_INET6 : AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(ps->host[0] ? ps->host : NULL, ps->port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s: cannot resolve \"%s\": %s", spec,
		    ps->host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 128) == 0)
			break;
		last_errno = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "%s: cannot listen: %s", spec,
		    strerror(last_errno ? last_errno : EADDRNOTAVAIL));
	return fd;
}

int ds_listen_unix_path(const char *spec, char *path, size_t pathlen)
{
	struct parsed_spec ps;
	char err[256];

	if (parse_spec(spec, &ps, err, sizeof err) < 0 || ps.kind != SPEC_UNIX)
		return 0;
	snprintf(path, pathlen, "%s", ps.path);
	return 1;
}

int ds_listen(const char *spec, char *err, size_t errlen)
{
	struct parsed_spec ps;

	if (parse_spec(spec, &ps, err, errlen) < 0)
		return -1;
	if (ps.kind == SPEC_UNIX)
		return listen_unix(spec, &ps, err, errlen);
	return listen_inet(spec, &ps, err, errlen);
}
