/*
 * outbound_status.c - counting what Postfix delivered on the partner
 * transport.  Postfix's smtp_delivery_status_filter, set with -o on that
 * transport only, looks up each recipient's final outcome as
 * "D.D.D text" ("2.0.0 250 2.0.0 Ok: queued as 4Xyz", "4.4.1 ...",
 * "5.7.1 ..."); the partner transport delivers only to servers presenting a
 * certificate domsec verified (smtp_tls_policy_maps), so every 2.x.x there
 * is a Domain-Secured message sent and every 4.x.x or 5.x.x a
 * Domain-Secured outbound session failure.  The answer is always
 * NOTFOUND: Postfix keeps its own status, and records the delivery even
 * when the map cannot be asked.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <ctype.h>
#include <stdio.h>
#include "domsec/counters.h"
#include "domsec/outbound.h"

void ds_outbound_delivery_status(const char *key, char *reply, size_t replylen)
{
	if (key != NULL && isdigit((unsigned char)key[0]) && key[1] == '.') {
		if (key[0] == '2')
			ds_counter_add(DS_COUNT_SECURED_SENT, 1);
		else if (key[0] == '4' || key[0] == '5')
			ds_counter_add(DS_COUNT_OUTBOUND_FAILURES, 1);
	}
	snprintf(reply, replylen, "NOTFOUND ");
}
