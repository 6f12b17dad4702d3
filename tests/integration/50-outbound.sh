#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 50-outbound.sh - outbound Domain Security with real Postfix on both sides.
#
# Inside a private network namespace: the sending Postfix (contoso.com, with
# contrib/postfix-outbound.cf: domsecd's socketmap for smtp_tls_policy_maps
# and transport_maps, the domsec-partner transport presenting our contoso
# certificate) delivers to a second Postfix playing woodgrovebank.com's MX
# (127.0.0.2-4:25, one certificate per address) and a non-partner MX
# (127.0.0.5:25).  A DNS server on 127.0.0.1:53 in the namespace answers the
# MX queries of Postfix and domsecd alike; switching woodgrovebank.com's MX
# record switches the certificate the partner presents.
#
# Scenarios: CRL server down -> deferred, delivered after it comes back and
# the queue is flushed (and the partner MX saw our client certificate);
# good certificate -> delivered over verified TLS; revoked -> deferred, never
# delivered; certificate for another name -> not delivered, reason logged;
# non-partner -> delivered normally, no client certificate presented;
# domsecd down -> everything deferred, nothing lost.
set -eu
. "$DOMSEC_TOP/tests/integration/lib-outbound.sh"
ob_enter_netns "$0"
if [ ! -x "${OB_DOMSECD:-$DOMSEC_BUILD/domsecd}" ]; then
	echo "# SKIP: $DOMSEC_BUILD/domsecd is not built"
	exit 0
fi

it_init ob
it_crl_start
it_pki_build
# The CRL server is "down" (every request fails) before anything was fetched.
it_crl_mode 500
ob_dns_start
ob_domsecd_start "woodgrovebank.com direction=send"
ob_partner_start
ob_sender_start
SM=socketmap:inet:127.0.0.1:$OB_SOCKETMAP_PORT
PLOG=$IT_DIR/partner/maillog
SLOG=$IT_DIR/sender/maillog
DLOG=$IT_DIR/domsecd.log

# ---- Postfix's own socketmap client against domsecd --------------------------
PM="postmap -c $IT_DIR/sender/etc -q"
it_check "transport map routes the partner domain to domsec-partner" \
    test "$($PM woodgrovebank.com "$SM:transport" 2>&1)" = "domsec-partner:"
it_check "transport map routes a partner address (as trivial-rewrite asks)" \
    test "$($PM user@WoodGroveBank.com "$SM:transport" 2>&1)" = "domsec-partner:"
# postmap exits 1 with no output for "not found" (an error prints a reason)
rc=0; out=$($PM user@nonpartner.example "$SM:transport" 2>&1) || rc=$?
it_check "transport map: non-partner not found (exit $rc, '$out')" test "$rc:$out" = "1:"
rc=0; out=$($PM nonpartner.example "$SM:tlspolicy" 2>&1) || rc=$?
it_check "TLS policy map: non-partner not found (exit $rc, '$out')" test "$rc:$out" = "1:"

# ---- CRL server down: deferred --------------------------------------------------
ob_send crl-down user@woodgrovebank.com
QID_CRL=$OB_QID
it_check "message for the partner accepted by the sending Postfix ($QID_CRL)" test -n "$QID_CRL"
it_check "CRL server down: delivery deferred" ob_wait_status "$QID_CRL" deferred 40
it_check "CRL server down: domsecd answered a temporary failure" \
    it_wait_log "$DLOG" "outbound woodgrovebank.com: partner woodgrovebank.com: deferring mail \(temporary\)" 5
it_check "CRL server down: the partner MX got nothing" bash -c "! grep -q '^X-Test-Id: $OB_ID\$' '$IT_DIR/partner/mail/inbox' 2>/dev/null"
it_check "CRL server down: nothing went to the partner in the clear or unverified" \
    bash -c "! grep -E '$QID_CRL: to=.*status=sent' '$SLOG'"

# ---- CRL server back: flush until delivered (domsecd retries the CRL after
# its backoff) ---------------------------------------------------------------------
ID_CRL=$OB_ID
it_crl_mode ok
delivered=no
for i in $(seq 1 18); do
	ob_flush
	if ob_wait_status "$QID_CRL" sent 5; then delivered=yes; break; fi
done
it_check "CRL server back: delivered after a queue flush" test "$delivered" = yes
it_check "CRL server back: the partner MX stored the message" ob_partner_got "$ID_CRL"
it_check "partner delivery went through the domsec-partner transport" \
    grep -Eq "postfix/domsec-partner/smtp\[[0-9]+\]: $QID_CRL: to=<user@woodgrovebank.com>, relay=mx-good.woodgrovebank.com\[127.0.0.2\]:25.*status=sent" "$SLOG"
it_check "the sending Postfix verified the pinned certificate" \
    grep -Eq "Verified TLS connection established to mx-good.woodgrovebank.com\[127.0.0.2\]:25" "$SLOG"
it_check "the partner MX saw and verified our client certificate (log)" \
    grep -Eq "partner-good/smtpd\[[0-9]+\]: Trusted TLS connection established from" "$PLOG"
recv=$(ob_partner_received "$ID_CRL")
it_check "the partner MX saw our client certificate (Received: $recv)" \
    grep -q 'Client CN "mail.contoso.com", Issuer "domsec Test Issuing CA" (verified OK)' <<<"$recv"
it_check "domsecd pinned the partner certificate it verified" \
    grep -Eq "outbound woodgrovebank.com: partner woodgrovebank.com: delivery allowed only to servers presenting [0-9A-F:]{95}" "$DLOG"

# ---- good certificate, CRLs cached: delivered at once -------------------------
ob_send good user@woodgrovebank.com
it_check "good partner certificate: delivered" ob_wait_status "$OB_QID" sent 30
it_check "good partner certificate: stored at the partner" ob_partner_got "$OB_ID"
it_check "good partner certificate: client certificate presented" \
    grep -q 'Client CN "mail.contoso.com"' <<<"$(ob_partner_received "$OB_ID")"

# ---- revoked partner certificate: deferred, never delivered ---------------------
ob_set_mx "10 mx-revoked.woodgrovebank.com"
sleep 1.2   # OutboundCacheTTL 1s
ob_send revoked user@woodgrovebank.com
QID_REV=$OB_QID; ID_REV=$OB_ID
it_check "revoked certificate: delivery deferred" ob_wait_status "$QID_REV" deferred 40
it_check "revoked certificate: domsecd logged why" \
    it_wait_log "$DLOG" "mx-revoked.woodgrovebank.com \[127.0.0.3\]:25 not usable for woodgrovebank.com \(definitive\): revoked" 5
it_check "revoked certificate: domsecd answered an unsatisfiable policy" \
    grep -q "no server presents a valid certificate for woodgrovebank.com" "$DLOG"
ob_flush
sleep 3
it_check "revoked certificate: still not delivered after a flush" bash -c "! grep -q '^X-Test-Id: $ID_REV\$' '$IT_DIR/partner/mail/inbox'"
it_check "revoked certificate: status still deferred" test "$(ob_status "$QID_REV")" = deferred

# ---- certificate for another name: not delivered, reason logged -----------------
ob_set_mx "10 mx-other.woodgrovebank.com"
sleep 1.2
ob_send othername user@woodgrovebank.com
QID_OTHER=$OB_QID; ID_OTHER=$OB_ID
it_check "certificate for another name: delivery deferred" ob_wait_status "$QID_OTHER" deferred 40
it_check "certificate for another name: reason logged (name-mismatch)" \
    it_wait_log "$DLOG" "mx-other.woodgrovebank.com \[127.0.0.4\]:25 not usable for woodgrovebank.com \(definitive\): name-mismatch" 5
it_check "certificate for another name: not delivered" bash -c "! grep -q '^X-Test-Id: $ID_OTHER\$' '$IT_DIR/partner/mail/inbox'"

# ---- two MX hosts, the preferred one revoked: delivered to the good one ----------
ob_set_mx "10 mx-revoked.woodgrovebank.com" "20 mx-good.woodgrovebank.com"
sleep 1.2
ob_send twomx user@woodgrovebank.com
it_check "preferred MX revoked, backup good: delivered" ob_wait_status "$OB_QID" sent 40
it_check "preferred MX revoked, backup good: through the good MX" \
    grep -Eq "$OB_QID: to=<user@woodgrovebank.com>, relay=mx-good.woodgrovebank.com\[127.0.0.2\]:25.*status=sent" "$SLOG"
it_check "preferred MX revoked, backup good: stored at the partner" ob_partner_got "$OB_ID"
it_check "preferred MX revoked: Postfix refused its certificate first" \
    grep -Eq "server certificate verification failed for mx-revoked.woodgrovebank.com\[127.0.0.3\]:25" "$SLOG"

# ---- non-partner: delivered normally, no client certificate ---------------------
ob_send nonpartner user@nonpartner.example
it_check "non-partner: delivered" ob_wait_status "$OB_QID" sent 30
it_check "non-partner: stored at its MX" ob_partner_got "$OB_ID"
it_check "non-partner: ordinary smtp transport" \
    grep -Eq "postfix/smtp\[[0-9]+\]: $OB_QID: to=<user@nonpartner.example>.*status=sent" "$SLOG"
it_check "non-partner: no client certificate presented (log)" \
    grep -Eq "nonpartner/smtpd\[[0-9]+\]: Anonymous TLS connection established from" "$PLOG"
it_check "non-partner: no client certificate presented (Received)" \
    bash -c "! grep -q 'Client CN' <<<\"\$1\"" _ "$(ob_partner_received "$OB_ID")"
it_check "non-partner: domsecd did not probe it" bash -c "! grep -q 'outbound nonpartner.example' '$DLOG'"

# ---- domsecd down: mail to the partner is deferred, never sent unverified -------
it_stop_pid "$OB_DOMSECD_PID"
# Counted through smtp_delivery_status_filter on the partner transport: the
# three partner deliveries above (after the CRL came back, good, two MX).
it_check "Domain-Secured Messages Sent counts the 3 partner deliveries" \
    grep -qx 'Domain-Secured Messages Sent: 3' "$IT_DIR/state/counters"
it_check "the sent count is in the Prometheus text too" \
    grep -qx 'domsec_domain_secured_messages_sent_total 3' "$IT_DIR/state/metrics.prom"
ob_send domsecd-down user@woodgrovebank.com
QID_DOWN=$OB_QID; ID_DOWN=$OB_ID
if [ -n "$QID_DOWN" ]; then
	it_check "domsecd down: partner mail deferred" ob_wait_status "$QID_DOWN" deferred 40
else
	it_check "domsecd down: partner mail refused at submission (temporary)" \
	    grep -Eq '^<\*\* 4[0-9][0-9] ' "$IT_DIR/swaks-domsecd-down.log"
fi
it_check "domsecd down: nothing reached the partner" \
    bash -c "! grep -q '^X-Test-Id: $ID_DOWN\$' '$IT_DIR/partner/mail/inbox'"
# transport_maps is consulted for every recipient: without domsecd, Postfix
# defers all outbound mail ("address resolver failure"), losing nothing.
ob_send domsecd-down-np user@nonpartner.example
it_check "domsecd down: other mail deferred too (address resolver failure)" \
    ob_wait_status "$OB_QID" deferred 40
it_check "domsecd down: Postfix says why" \
    grep -Eq "$OB_QID: to=<user@nonpartner.example>.*dsn=4\.3\.0, status=deferred \(address resolver failure\)" "$SLOG"

it_finish
