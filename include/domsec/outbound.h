/*
 * outbound.h - outbound Domain Security (DESIGN.md section 7): the TLS policy
 * that Postfix's smtp_tls_policy_maps asks for, per destination.
 */
#ifndef DOMSEC_OUTBOUND_H
#define DOMSEC_OUTBOUND_H

#include <stddef.h>
#include "domsec/config.h"
#include "domsec/engine.h"

struct ds_outbound;

struct ds_outbound *ds_outbound_new(const struct ds_config *cfg,
    struct ds_engine *engine, char *err, size_t errlen);
void ds_outbound_free(struct ds_outbound *ob);

/*
 * key as Postfix sends it: "example.com", "[host]:port", "host", any case.
 * Writes the socketmap reply payload into reply: "OK <policy>",
 * "NOTFOUND ", "TEMP <reason>".  Returns 0.
 */
int ds_outbound_policy(struct ds_outbound *ob, const char *key, char *reply,
    size_t replylen);

/* The transport_maps answer for a recipient domain: "OK <transport>" for
 * partners in the send direction, "NOTFOUND ". */
int ds_outbound_transport(struct ds_outbound *ob, const char *key, char *reply,
    size_t replylen);

#endif
