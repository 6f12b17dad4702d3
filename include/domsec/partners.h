/*
 * partners.h - the partner table: which domains get Domain Security, in which
 * direction, in which mode, with which extra trust anchors, pinned
 * certificates and revocation policy (TLSReceiveDomainSecureList and
 * TLSSendDomainSecureList, per partner).
 *
 * Format: one partner per line, the domain first, then key=value options
 * separated by white space; '#' starts a comment.
 *
 *   woodgrovebank.com  direction=both mode=enforce revocation=require \
 *                      ca=/etc/domsec/woodgrove-root.pem pin=/etc/domsec/pins/wgb.pem
 *   .tailspin.com      mode=monitor
 *
 * A leading dot covers every subdomain (not the apex itself: list it too).
 * Options: direction=receive|send|both (default both), mode=enforce|monitor
 * (default enforce), revocation=require|soft|none (default require; soft
 * accepts when no CRL can be had, logging it; none skips CRL checks),
 * ca=FILE (extra trust anchors for this partner, repeatable),
 * pin=FILE (pinned partner certificate(s), PEM, repeatable).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_PARTNERS_H
#define DOMSEC_PARTNERS_H

#include <stddef.h>
#include "domsec/strlist.h"

enum ds_direction {
	DS_DIR_RECEIVE = 1,
	DS_DIR_SEND = 2,
	DS_DIR_BOTH = 3
};

enum ds_mode {
	DS_MODE_ENFORCE = 0,
	DS_MODE_MONITOR
};

enum ds_revocation {
	DS_REVOCATION_REQUIRE = 0,
	DS_REVOCATION_SOFT,
	DS_REVOCATION_NONE
};

struct ds_partner {
	char *domain;                /* lower case, no leading dot, no trailing dot */
	int subdomains;              /* 1 when the entry was ".domain" */
	enum ds_direction direction;
	enum ds_mode mode;
	enum ds_revocation revocation;
	struct ds_strlist ca_files;  /* extra trust anchors */
	struct ds_strlist pin_files; /* pinned certificates */
	char *source;                /* file */
	int line;                    /* line number in source */
};

struct ds_partner_table {
	struct ds_partner *v;
	size_t n;
};

/* Returns 0, or -1 with err "FILE:LINE: problem" (and *out untouched). */
int ds_partners_load(const char *path, struct ds_partner_table *out, char *err,
    size_t errlen);

/*
 * The entry covering domain (any case, one trailing dot ignored) whose
 * direction includes need, or NULL.  An exact entry wins over a dot entry;
 * the longest dot entry wins among dot entries.
 */
const struct ds_partner *ds_partners_lookup(const struct ds_partner_table *t,
    const char *domain, enum ds_direction need);

/* 1 when domain (e.g. a From header domain) is covered by entry p. */
int ds_partner_covers(const struct ds_partner *p, const char *domain);

void ds_partners_free(struct ds_partner_table *t);

const char *ds_direction_name(enum ds_direction d);
const char *ds_mode_name(enum ds_mode m);
const char *ds_revocation_name(enum ds_revocation r);

#endif
