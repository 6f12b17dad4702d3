/*
 * peer.h - who may talk to domsecd.  Only the MTA: a unix socket is
 * created with a configured owner, group and mode, and each connecting
 * process's user (SO_PEERCRED) must be in PeerUsers; an inet socket's
 * client address must be in PeerAddresses (loopback by default).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_PEER_H
#define DOMSEC_PEER_H

#include <stddef.h>
#include <sys/types.h>
#include "domsec/cidr.h"
#include "domsec/config.h"

struct ds_peer_policy {
	uid_t uids[64];
	size_t n_uids;
	struct ds_cidr_list addrs;
};

/* From PeerUsers / PeerAddresses or their defaults (root, postfix when it
 * exists, SocketOwner or UserID; 127.0.0.0/8 and ::1).  Returns 0, or -1
 * with err. */
int ds_peer_policy_build(struct ds_peer_policy *p, const struct ds_config *cfg,
    char *err, size_t errlen);
void ds_peer_policy_free(struct ds_peer_policy *p);

/*
 * Checks the peer of a connected socket.  Returns 1 when it may talk to
 * us, 0 when not (who then names it: "uid 1000 (mallory)" or
 * "192.0.2.7"), -1 when the peer cannot be identified (who says why).
 */
int ds_peer_allowed(const struct ds_peer_policy *p, int fd, char *who,
    size_t wholen);

/* ds_peer_allowed, logging a refused peer for service ("policy
 * service", "milter", ...) at most once a minute per peer.  Returns 1 when
 * the peer may talk to us. */
int ds_peer_admit(const struct ds_peer_policy *p, int fd, const char *service);

/* Gives the unix socket at path SocketOwner (else UserID), SocketGroup
 * (else the group "postfix" when it exists) and SocketMode.  Returns 0,
 * or -1 with err. */
int ds_socket_set_access(const char *path, const struct ds_config *cfg,
    char *err, size_t errlen);

/* Creates the directory of the unix socket at path when it is missing
 * (mode 0750, SocketOwner/UserID, SocketGroup/postfix); an existing one is
 * left as it is.  Returns 0, or -1 with err. */
int ds_socket_prepare_dir(const char *path, const struct ds_config *cfg,
    char *err, size_t errlen);

#endif
