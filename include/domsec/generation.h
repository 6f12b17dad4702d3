/*
 * generation.h - one loaded configuration of domsecd with everything built
 * from it (engine, session core, outbound policy, peer policy), and the
 * process's current generation.  A reload builds and validates a new
 * generation completely, then publishes it atomically: new connections and
 * requests use it, sessions in progress finish on the generation they
 * started with, which is freed when its last user releases it.  The
 * policy -> milter hand-off table is the process's, shared by every
 * generation, so a session that spans a reload keeps its hand-off.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_GENERATION_H
#define DOMSEC_GENERATION_H

#include <stddef.h>
#include "domsec/config.h"
#include "domsec/engine.h"
#include "domsec/outbound.h"
#include "domsec/peer.h"
#include "domsec/session.h"
#include "domsec/sessions.h"

struct ds_generation {
	struct ds_config cfg;
	struct ds_engine *engine;
	struct ds_core *core;
	struct ds_outbound *ob;        /* NULL without SocketmapSocket */
	struct ds_peer_policy peers;
	unsigned long number;          /* 1 for the first load, then +1 */
	int refs;                      /* users; the current one holds one */
};

/* Flags of ds_generation_load. */
#define DS_GEN_REFRESHER   1   /* start the CRL store's background refresher
                                  (after any fork) */
#define DS_GEN_CHECK_ONLY  2   /* domsecd -n: create nothing on disk (no CRL
                                  cache directory) */

/*
 * Loads path and builds a generation over the shared hand-off table
 * (NULL: the core makes its own).  Returns NULL with err (FILE:LINE for
 * configuration errors).
 */
struct ds_generation *ds_generation_load(const char *path,
    struct ds_sessions *handoff, int flags, char *err, size_t errlen);

/* Makes g the current generation (the previous one is released). */
void ds_generation_publish(struct ds_generation *g);

/* The current generation with a reference (NULL before the first
 * publish); every acquire is paired with a release. */
struct ds_generation *ds_generation_acquire(void);
void ds_generation_release(struct ds_generation *g);

/* ds_peer_admit with the current generation's peer policy (a connection
 * when none is loaded is refused); the admit hook of domsec/server.h. */
int ds_generation_admit(int fd, const char *service);

/* Drops the current generation (at exit). */
void ds_generation_retire(void);

/*
 * Names the settings that differ between old and new but cannot change
 * while domsecd runs (sockets, UserID, PidFile, StateDir, syslog), as
 * "MilterSocket, UserID"; "" when none.
 */
void ds_generation_fixed_changes(const struct ds_config *old,
    const struct ds_config *new, char *out, size_t outlen);

#endif
