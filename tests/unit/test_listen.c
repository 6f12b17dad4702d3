/*
 * test_listen.c - unit tests for lib/listen.c: socket specification syntax,
 * listening on inet and unix sockets, replacing a stale unix socket.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "domsec/config.h"
#include "domsec/listen.h"
#include "domsec/peer.h"

static void test_valid_specs(void **state)
{
	char err[256];
	(void)state;
	assert_int_equal(ds_listen_spec_valid("inet:8891@127.0.0.1", err, sizeof err), 0);
	assert_int_equal(ds_listen_spec_valid("inet:127.0.0.1:8891", err, sizeof err), 0);
	assert_int_equal(ds_listen_spec_valid("inet:8891", err, sizeof err), 0);
	assert_int_equal(ds_listen_spec_valid("inet6:8891@::1", err, sizeof err), 0);
	assert_int_equal(ds_listen_spec_valid("inet6:[::1]:8891", err, sizeof err), 0);
	assert_int_equal(ds_listen_spec_valid("unix:/run/domsec/milter.sock", err, sizeof err), 0);
	assert_int_equal(ds_listen_spec_valid("local:/run/x.sock", err, sizeof err), 0);
}

static void test_invalid_specs(void **state)
{
	char err[512];
	char longpath[200];
	(void)state;
	assert_int_equal(ds_listen_spec_valid("", err, sizeof err), -1);
	assert_int_equal(ds_listen_spec_valid(NULL, err, sizeof err), -1);
	assert_int_equal(ds_listen_spec_valid("tcp:25", err, sizeof err), -1);
	assert_non_null(strstr(err, "unknown socket type"));
	assert_int_equal(ds_listen_spec_valid("inet:99999@127.0.0.1", err, sizeof err), -1);
	assert_non_null(strstr(err, "not a port"));
	assert_int_equal(ds_listen_spec_valid("inet:abc@127.0.0.1", err, sizeof err), -1);
	assert_int_equal(ds_listen_spec_valid("inet:@127.0.0.1", err, sizeof err), -1);
	assert_int_equal(ds_listen_spec_valid("inet6:[::1:25", err, sizeof err), -1);
	assert_int_equal(ds_listen_spec_valid("unix:relative.sock", err, sizeof err), -1);
	memset(longpath, 'a', sizeof longpath - 1);
	longpath[0] = '/';
	longpath[sizeof longpath - 1] = '\0';
	assert_int_equal(ds_listen_spec_valid(longpath, err, sizeof err), -1);
	assert_non_null(strstr(err, "too long"));
}

static int bound_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	return ntohs(sin.sin_port);
}

static void test_listen_inet(void **state)
{
	char err[256], spec[64];
	int fd, fd2, port;
	(void)state;
	fd = ds_listen("inet:0@127.0.0.1", err, sizeof err);
	assert_true(fd >= 0);
	port = bound_port(fd);
	assert_true(port > 0);
	/* The same port again is taken. */
	snprintf(spec, sizeof spec, "inet:127.0.0.1:%d", port);
	fd2 = ds_listen(spec, err, sizeof err);
	assert_int_equal(fd2, -1);
	assert_non_null(strstr(err, spec));
	close(fd);
}

static void test_listen_inet6(void **state)
{
	char err[256];
	int probe, fd;
	(void)state;
	/* Only where the machine has IPv6 on loopback. */
	probe = socket(AF_INET6, SOCK_STREAM, 0);
	if (probe < 0)
		skip();
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	if (bind(probe, (struct sockaddr *)&sin6, sizeof sin6) < 0) {
		close(probe);
		skip();
	}
	close(probe);
	fd = ds_listen("inet6:0@::1", err, sizeof err);
	assert_true(fd >= 0);
	close(fd);
	fd = ds_listen("inet6:[::1]:0", err, sizeof err);
	assert_true(fd >= 0);
	close(fd);
}

static void test_listen_unix_replaces_stale(void **state)
{
	char dir[] = "/tmp/test_listen.XXXXXX";
	char path[128], spec[160], err[256];
	struct stat st;
	int fd;
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/s.sock", dir);
	snprintf(spec, sizeof spec, "unix:%s", path);
	fd = ds_listen(spec, err, sizeof err);
	assert_true(fd >= 0);
	close(fd);   /* the file stays behind: stale */
	fd = ds_listen(spec, err, sizeof err);
	assert_true(fd >= 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	/* owner only until the daemon applies SocketMode */
	assert_int_equal(st.st_mode & 0777, 0600);
	close(fd);
	unlink(path);
	/* A regular file is never replaced. */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(ds_listen(spec, err, sizeof err), -1);
	assert_non_null(strstr(err, "not a socket"));
	unlink(path);
	rmdir(dir);
}

/* SocketOwner/SocketGroup/SocketMode on a unix socket. */
static void test_socket_access(void **state)
{
	char dir[] = "/tmp/test_listen.XXXXXX";
	char path[128], spec[160], err[256], got[128];
	struct ds_config cfg;
	struct stat st;
	int fd;
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/s.sock", dir);
	snprintf(spec, sizeof spec, "unix:%s", path);
	assert_int_equal(ds_listen_unix_path(spec, got, sizeof got), 1);
	assert_string_equal(got, path);
	assert_int_equal(ds_listen_unix_path("inet:25@127.0.0.1", got, sizeof got), 0);
	fd = ds_listen(spec, err, sizeof err);
	assert_true(fd >= 0);
	memset(&cfg, 0, sizeof cfg);
	cfg.socket_mode = 0640;
	cfg.socket_owner = "nobody";
	cfg.socket_group = "root";
	assert_int_equal(ds_socket_set_access(path, &cfg, err, sizeof err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(st.st_gid, 0);
	assert_true(st.st_uid != 0);
	cfg.socket_owner = "no-such-user-here";
	assert_int_equal(ds_socket_set_access(path, &cfg, err, sizeof err), -1);
	assert_non_null(strstr(err, "no-such-user-here"));
	close(fd);
	unlink(path);
	rmdir(dir);
}

/* PeerUsers (SO_PEERCRED) and PeerAddresses. */
static void test_peer_checks(void **state)
{
	struct ds_config cfg;
	struct ds_peer_policy p;
	char err[256], who[128];
	int sv[2];
	(void)state;

	memset(&cfg, 0, sizeof cfg);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* defaults: root (this test) is allowed */
	assert_int_equal(ds_peer_policy_build(&p, &cfg, err, sizeof err), 0);
	assert_int_equal(ds_peer_allowed(&p, sv[0], who, sizeof who), getuid() == 0);
	ds_peer_policy_free(&p);
	/* only "nobody": a root peer is refused and named */
	assert_int_equal(ds_strlist_add(&cfg.peer_users, "nobody"), 0);
	assert_int_equal(ds_peer_policy_build(&p, &cfg, err, sizeof err), 0);
	assert_int_equal(ds_peer_allowed(&p, sv[0], who, sizeof who), 0);
	assert_non_null(strstr(who, "uid "));
	ds_peer_policy_free(&p);
	ds_strlist_free(&cfg.peer_users);
	close(sv[0]);
	close(sv[1]);

	/* inet: loopback by default, refused outside PeerAddresses */
	int lfd = ds_listen("inet:0@127.0.0.1", err, sizeof err), cfd, afd;
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	assert_true(lfd >= 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&sa, len), 0);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	assert_int_equal(ds_peer_policy_build(&p, &cfg, err, sizeof err), 0);
	assert_int_equal(ds_peer_allowed(&p, afd, who, sizeof who), 1);
	ds_peer_policy_free(&p);
	assert_int_equal(ds_strlist_add(&cfg.peer_addresses, "192.0.2.0/24"), 0);
	assert_int_equal(ds_peer_policy_build(&p, &cfg, err, sizeof err), 0);
	assert_int_equal(ds_peer_allowed(&p, afd, who, sizeof who), 0);
	assert_string_equal(who, "127.0.0.1");
	assert_int_equal(ds_peer_admit(&p, afd, "test"), 0);
	ds_peer_policy_free(&p);
	ds_strlist_free(&cfg.peer_addresses);
	close(afd);
	close(cfd);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_specs),
		cmocka_unit_test(test_invalid_specs),
		cmocka_unit_test(test_listen_inet),
		cmocka_unit_test(test_listen_inet6),
		cmocka_unit_test(test_listen_unix_replaces_stale),
		cmocka_unit_test(test_socket_access),
		cmocka_unit_test(test_peer_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
