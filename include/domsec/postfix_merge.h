/*
 * postfix_merge.h - merging domsec into existing Postfix parameter values
 * without dropping what is there: milter lists, restriction lists, macro
 * lists, and the client form of domsec's listening sockets.  Used by
 * `domsecctl postfix-config`; pure string work, no Postfix needed.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_POSTFIX_MERGE_H
#define DOMSEC_POSTFIX_MERGE_H

#include <stddef.h>
#include "domsec/strlist.h"

/* Splits a Postfix list value into elements: separators are white space
 * and commas outside braces; a "{ ... }" group is one element (trimmed,
 * kept verbatim).  0, or -1 on unbalanced braces or allocation failure. */
int ds_pf_split(const char *value, struct ds_strlist *out);

/* The first word of an element: the element itself, or the first word
 * inside a "{ ... }" group.  Writes into buf; returns buf. */
const char *ds_pf_head(const char *element, char *buf, size_t len);

/* The merge functions keep the existing text as it is and splice domsec's
 * part into it.
 *
 * Milter list: *changed = 0 when an element's head is already milter,
 * else appends it.  Returns the (possibly new) value, malloc'd, or NULL. */
char *ds_pf_merge_milter(const char *value, const char *milter, int *changed);

/* Lookup table list (transport_maps, smtp_tls_policy_maps): like a
 * milter list, but map goes first (the first table that answers wins;
 * domsecd answers only for partners). */
char *ds_pf_merge_map(const char *value, const char *map, int *changed);

/* Restriction list: *changed = 0 when check_policy_service names server
 * already (as "check_policy_service SERVER" or "check_policy_service
 * { SERVER, ... }"); otherwise inserts "check_policy_service GROUP" (GROUP
 * is "{ SERVER, ... }") after the last permit_mynetworks,
 * permit_sasl_authenticated, reject_unauth_destination or
 * defer_unauth_destination, or first when there is none (an empty list
 * gets "permit_mynetworks, permit_sasl_authenticated" in front).  Every
 * other element (RBLs, access maps) stays, in order. */
char *ds_pf_merge_policy(const char *value, const char *server,
    const char *group, int *changed);

/* Macro list (milter_*_macros): appends each word of want that is missing.
 * Words are separated by white space or commas; joined by one space. */
char *ds_pf_merge_macros(const char *value, const char *want, int *changed);

/* Client form of a domsec listening socket for Postfix:
 *   inet:PORT@HOST, inet:HOST:PORT  -> inet:HOST:PORT
 *   inet6:PORT@ADDR, inet:[ADDR]:PORT -> inet:[ADDR]:PORT
 *   no HOST or "*"                  -> 127.0.0.1 (inet6: [::1])
 *   unix:/path, local:/path         -> unix:/path, or, when chroot_dir is
 *        set and /path lies below it, unix:/rest (the path the chrooted
 *        service sees).
 * 0, or -1 when spec is not a socket domsecd understands. */
int ds_pf_client_spec(const char *spec, const char *chroot_dir, char *out,
    size_t outlen);

#endif
