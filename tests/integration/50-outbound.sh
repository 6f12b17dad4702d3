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

# ---- the verdict table: which MX certificate gets the partner's mail --------
ob_scenarios <<'EOF'
# label    | MX records                        | recipient               | status   | stored | domsecd log
good       | -                                 | user@woodgrovebank.com  | sent     | yes    | -
revoked    | 10 mx-revoked.woodgrovebank.com   | user@woodgrovebank.com  | deferred | no     | mx-revoked.woodgrovebank.com \[127.0.0.3\]:25 not usable for woodgrovebank.com \(definitive\): revoked
EOF
read -r qid id <<<"$(ob_scenario revoked)"
it_check "revoked: domsecd answered an unsatisfiable policy" \
    grep -q "no server presents a valid certificate for woodgrovebank.com" "$DLOG"
ob_flush
sleep 3
it_check "revoked: still not delivered after a flush" ob_partner_lacks "$id"
it_check "revoked: status still deferred" test "$(ob_status "$qid")" = deferred
ob_scenarios <<'EOF'
othername  | 10 mx-other.woodgrovebank.com     | user@woodgrovebank.com  | deferred | no     | mx-other.woodgrovebank.com \[127.0.0.4\]:25 not usable for woodgrovebank.com \(definitive\): name-mismatch
twomx      | 10 mx-revoked.woodgrovebank.com,20 mx-good.woodgrovebank.com | user@woodgrovebank.com | sent | yes | -
nonpartner | -                                 | user@nonpartner.example | sent     | yes    | -
EOF
read -r qid id <<<"$(ob_scenario good)"
it_check "good: our client certificate presented" \
    grep -q 'Client CN "mail.contoso.com"' <<<"$(ob_partner_received "$id")"
read -r qid id <<<"$(ob_scenario twomx)"
it_check "twomx (preferred MX revoked, backup good): through the good MX" \
    grep -Eq "$qid: to=<user@woodgrovebank.com>, relay=mx-good.woodgrovebank.com\[127.0.0.2\]:25.*status=sent" "$SLOG"
it_check "twomx: Postfix refused the revoked certificate first" \
    grep -Eq "server certificate verification failed for mx-revoked.woodgrovebank.com\[127.0.0.3\]:25" "$SLOG"
read -r qid id <<<"$(ob_scenario nonpartner)"
it_check "nonpartner: ordinary smtp transport" \
    grep -Eq "postfix/smtp\[[0-9]+\]: $qid: to=<user@nonpartner.example>.*status=sent" "$SLOG"
it_check "nonpartner: no client certificate presented (log)" \
    grep -Eq "nonpartner/smtpd\[[0-9]+\]: Anonymous TLS connection established from" "$PLOG"
it_check "nonpartner: no client certificate presented (Received)" \
    bash -c "! grep -q 'Client CN' <<<\"\$1\"" _ "$(ob_partner_received "$id")"
it_check "nonpartner: domsecd did not probe it" bash -c "! grep -q 'outbound nonpartner.example' '$DLOG'"

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
