#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 47-postfix-config.sh - `domsecctl postfix-config` against a private
# Postfix that already runs like a Debian MX: an OpenDKIM and an OpenDMARC
# milter (stand-ins on 127.0.0.1:8891 and :8893, their documented ports,
# or free ports when those are taken; each adds an X-Standin-Milter header),
# an RBL, permit_mynetworks and reject_unauth_destination,
# milter_default_action = accept.  The dry run changes nothing; --apply
# merges domsec in; `postfix check` is clean; mail relayed for mynetworks
# still flows through both other milters; partner mail is secured by domsec
# (policy service and milter) and still passes the other milters; a
# stranger still may not relay; a second run changes nothing.
set -eu
. "$DOMSEC_TOP/tests/integration/lib-postfix.sh"

it_mail_setup
it_domsecd_config "woodgrovebank.com mode=enforce"
echo "OutboundTransport domsec-partner" >>"$IT_DIR/domsec.conf"
# Roots and intermediates in one CAFile: postfix-config hands it to Postfix
# as smtpd_tls_CAfile (swaks presents the leaf only).
cat "$IT_PKI/root.pem" "$IT_PKI/inter.pem" >"$IT_DIR/cas.pem"
sed -i "s|^CAFile .*|CAFile $IT_DIR/cas.pem|" "$IT_DIR/domsec.conf"
it_pin exact
it_domsecd_start

# ---- the stand-ins for OpenDKIM and OpenDMARC -----------------------------
standin() {
	local name=$1 port=$2
	if ! python3 -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.close()' "$port" 2>/dev/null; then
		port=0
	fi
	python3 "$DOMSEC_TOP/tests/milter_standin.py" --name "$name" --port "$port" \
	    --port-file "$IT_DIR/$name.port" >"$IT_DIR/$name.out" 2>&1 &
	it_track_pid $!
	it_wait_file "$IT_DIR/$name.port"
}
standin opendkim 8891
standin opendmarc 8893
DKIM_PORT=$(cat "$IT_DIR/opendkim.port")
DMARC_PORT=$(cat "$IT_DIR/opendmarc.port")
echo "# stand-ins: opendkim on $DKIM_PORT, opendmarc on $DMARC_PORT"

# ---- the host before domsec ----------------------------------------------
cat >"$IT_DIR/host-main.cf" <<EOF
# A Debian MX before domsec: OpenDKIM, OpenDMARC, an RBL.
smtpd_tls_security_level = may
smtpd_milters = inet:127.0.0.1:$DKIM_PORT, inet:127.0.0.1:$DMARC_PORT
non_smtpd_milters = \$smtpd_milters
milter_default_action = accept
smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks,
    permit_sasl_authenticated,
    reject_unauth_destination,
    reject_rbl_client rbl.domsec-test.invalid
EOF
IT_POSTFIX_BASE=$IT_DIR/host-main.cf
# 127.0.0.2 is "our network"; swaks from 127.0.0.1 is a stranger.
IT_POSTFIX_EXTRA="mynetworks = 127.0.0.2/32"
it_postfix_start
pf=$IT_DIR/postfix/etc
ctl() { "$DOMSEC_BUILD/domsecctl" postfix-config --config "$IT_DIR/domsec.conf" -c "$pf" "$@"; }
sums() { md5sum "$pf/main.cf" "$pf/master.cf"; }

# The host works before: relaying for mynetworks, both milters run.
it_message "$IT_DIR/before.eml" a@contoso.com
it_send before --local-interface 127.0.0.2 --from a@contoso.com --to x@example.net \
    --data "$IT_DIR/before.eml"
it_expect_eq "before: mynetworks may relay" 250 "$IT_REPLY"

# ---- dry run ----------------------------------------------------------------
before=$(sums)
ctl >"$IT_DIR/dry.out" 2>&1 && rc=0 || rc=$?
sed 's/^/# dry: /' "$IT_DIR/dry.out"
it_expect_eq "dry run exits 0" 0 "$rc"
it_expect_eq "dry run changes nothing" "$before" "$(sums)"
it_check "dry run prints postconf -e for smtpd_milters" \
    grep -q "^postconf -c '$pf' -e 'smtpd_milters = inet:127.0.0.1:$DKIM_PORT, inet:127.0.0.1:$DMARC_PORT, inet:127.0.0.1:$IT_MILTER_PORT'\$" "$IT_DIR/dry.out"
it_check "dry run prints postconf -M for the partner transport" \
    grep -q "^postconf -c '$pf' -M 'domsec-partner/unix = domsec-partner unix - - n - - smtp'\$" "$IT_DIR/dry.out"

# ---- apply ------------------------------------------------------------------
ctl --apply >"$IT_DIR/apply.out" 2>&1 && rc=0 || rc=$?
it_expect_eq "--apply exits 0" 0 "$rc"
v() { postconf -c "$pf" -h "$1"; }
it_expect_eq "smtpd_milters: OpenDKIM, OpenDMARC kept, domsec added" \
    "inet:127.0.0.1:$DKIM_PORT, inet:127.0.0.1:$DMARC_PORT, inet:127.0.0.1:$IT_MILTER_PORT" \
    "$(v smtpd_milters)"
it_expect_eq "non_smtpd_milters still follows \$smtpd_milters" '$smtpd_milters' "$(v non_smtpd_milters)"
it_expect_eq "smtpd_recipient_restrictions: policy after relay control, RBL kept" \
    "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination, check_policy_service { inet:127.0.0.1:$IT_POLICY_PORT, timeout=30s, default_action=DEFER_IF_PERMIT }, reject_rbl_client rbl.domsec-test.invalid" \
    "$(v smtpd_recipient_restrictions)"
it_expect_eq "smtpd_relay_restrictions untouched" \
    "permit_mynetworks permit_sasl_authenticated defer_unauth_destination" "$(v smtpd_relay_restrictions)"
it_expect_eq "milter_default_action = tempfail" tempfail "$(v milter_default_action)"
it_expect_eq "smtpd_tls_ask_ccert = yes" yes "$(v smtpd_tls_ask_ccert)"
it_expect_eq "smtpd_tls_fingerprint_digest = sha256" sha256 "$(v smtpd_tls_fingerprint_digest)"
it_expect_eq "smtpd_tls_CAfile = domsec's CAFile" "$IT_DIR/cas.pem" "$(v smtpd_tls_CAfile)"
it_expect_eq "smtp_tls_loglevel = 1" 1 "$(v smtp_tls_loglevel)"
it_check "milter_connect_macros has {client_addr} {client_port}" \
    grep -q '{client_addr} {client_port}' <<<"$(v milter_connect_macros)"
it_check "milter_mail_macros has the certificate macros" \
    grep -q '{cert_subject} {cert_issuer}' <<<"$(v milter_mail_macros)"
for p in smtpd_milters smtpd_recipient_restrictions milter_default_action smtpd_tls_ask_ccert; do
	it_expect_eq "main.cf defines $p once" 1 "$(grep -c "^$p *=" "$pf/main.cf")"
done
it_expect_eq "master.cf has the partner transport once" 1 \
    "$(grep -c '^domsec-partner  *unix ' "$pf/master.cf")"
it_expect_eq "master.cf still has one smtpd inet service" 1 \
    "$(grep -Ec '^[^#[:space:]]+ +inet .* smtpd$' "$pf/master.cf")"
postfix -c "$pf" check >"$IT_DIR/check.out" 2>&1 && rc=0 || rc=$?
it_expect_eq "postfix check exits 0" 0 "$rc"
it_check "postfix check prints nothing" test ! -s "$IT_DIR/check.out"
postconf -c "$pf" -n >/dev/null 2>"$IT_DIR/postconf.err" || true
it_check "postconf -n warns about nothing" test ! -s "$IT_DIR/postconf.err"

# ---- run twice: nothing changes ----------------------------------------------
after=$(sums)
ctl >"$IT_DIR/again.out" 2>&1 && rc=0 || rc=$?
it_expect_eq "second dry run exits 0" 0 "$rc"
it_check "second dry run: nothing to change" grep -q '^# nothing to change' "$IT_DIR/again.out"
it_expect_eq "second dry run lists no command" 0 "$(grep -c '^postconf' "$IT_DIR/again.out" || true)"
ctl --apply >/dev/null 2>&1 || true
it_expect_eq "second --apply changes no file" "$after" "$(sums)"

postfix -c "$pf" reload >/dev/null 2>&1
sleep 1
mark=$(wc -l <"$IT_DIR/postfix/maillog")

# ---- mail after the merge -------------------------------------------------------
it_message "$IT_DIR/relay.eml" a@contoso.com
it_send relay --local-interface 127.0.0.2 --from a@contoso.com --to x@example.net \
    --data "$IT_DIR/relay.eml"
it_expect_eq "after: mynetworks still may relay" 250 "$IT_REPLY"
f=$(it_delivered "$IT_ID" || true)
it_check "after: relayed mail delivered" test -n "$f"
if [ -n "$f" ]; then
	it_expect_eq "relayed mail passed the OpenDKIM stand-in" 1 "$(it_count_headers "$f" X-Standin-Milter opendkim)"
	it_expect_eq "relayed mail passed the OpenDMARC stand-in" 1 "$(it_count_headers "$f" X-Standin-Milter opendmarc)"
fi

it_send_partner secured a@woodgrovebank.com exact
it_expect_eq "partner with its certificate: accepted" 250 "$IT_REPLY"
f=$(it_delivered "$IT_ID" || true)
it_check "partner mail delivered" test -n "$f"
if [ -n "$f" ]; then
	it_expect_eq "partner mail: X-Domain-Secured added by domsec" 1 "$(it_count_headers "$f" X-Domain-Secured)"
	it_expect_eq "partner mail: OpenDKIM stand-in ran" 1 "$(it_count_headers "$f" X-Standin-Milter opendkim)"
	it_expect_eq "partner mail: OpenDMARC stand-in ran" 1 "$(it_count_headers "$f" X-Standin-Milter opendmarc)"
	it_check "Received says the client certificate verified (smtpd_tls_CAfile set)" \
	    grep -q 'verified OK' "$f"
fi

it_send_partner nocert a@woodgrovebank.com -
it_expect_eq "partner without a certificate: refused by the policy service" 550 "$IT_REPLY"

it_message "$IT_DIR/stranger.eml" a@example.org
it_send stranger --from a@example.org --to x@example.net --data "$IT_DIR/stranger.eml"
# smtpd_relay_restrictions (Postfix's default defer_unauth_destination) first
it_expect_eq "a stranger still may not relay" 454 "$IT_REPLY"
it_check "... Relay access denied ($IT_REPLY_TEXT)" grep -q 'Relay access denied' <<<"$IT_REPLY_TEXT"

it_check "no milter or policy errors in the maillog" \
    bash -c "! tail -n +$((mark + 1)) '$IT_DIR/postfix/maillog' | grep -Ei 'milter.*(error|fail)|policy.*(error|fail)|overriding earlier'"
it_domsecd_clean
it_finish
