#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 48-sendmail-real.sh - domsecd behind a real Sendmail (Debian's
# sendmail-bin, extracted, never installed: lib-sendmail.sh), its .cf built
# from contrib/sendmail.mc and its access map from `domsecctl
# sendmail-access`.  swaks and a Python client send as the partner's MTA;
# Sendmail relays accepted mail to an smtp-sink; two STARTTLS listeners
# play the partner's and a stranger's MX for outbound mail.
# Inbound: CRL down (451) and back, secured (forged headers replaced), no
# TLS, no certificate, untrusted, name mismatch, revoked, non-partner
# untouched, several messages in one session, an IPv6 client.  Outbound:
# our client certificate goes to the partner's MX only.  Last, domsecd
# stopped: F=T makes STARTTLS 454 and other mail 451.
# Skipped (exit 0, with a message) only when the Sendmail packages can be
# neither found in $DOMSEC_BUILD/sendmail-debs nor downloaded.
set -eu
. "$DOMSEC_TOP/tests/integration/lib-postfix.sh"
. "$DOMSEC_TOP/tests/integration/lib-sendmail.sh"

for tool in swaks python3 openssl m4 unshare smtp-sink; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "missing program: $tool (run contrib/install-deps.sh)" >&2
		exit 1
	}
done
it_init
if sm_prepare; then :; else
	rc=$?
	if [ "$rc" = 2 ]; then
		echo "# SKIP: Debian's sendmail-bin, sendmail-cf and libwrap0 are not in" \
		    "$SM_DEBS and apt-get download failed (see $SM_DEBS/download.log)"
		exit 0
	fi
	exit 1
fi
echo "# Sendmail $SM_VERSION extracted in $SM_DIR"
# The Sendmail work directory lives under the build directory (not /tmp).
sm_cleanup() { sm_stop; [ "${IT_KEEP:-0}" = 1 ] || rm -rf "$SM_DIR"; }
IT_CLEANUP_HOOKS="sm_cleanup $IT_CLEANUP_HOOKS"

it_crl_start
it_pki_build
it_sink_start
it_ports
it_domsecd_config "woodgrovebank.com mode=enforce"
for leaf in exact twodeep revoked untrusted; do
	it_pin "$leaf"
done
# Sendmail has no policy service; no discovery probes.
sed -i -e '/^PolicySocket/d' -e 's/^Discovery .*/Discovery no/' "$IT_DIR/domsec.conf"
it_domsecd_start

# The partner's MX (127.0.0.3) and a stranger's (127.0.0.4), asking for a
# client certificate and logging its fingerprint.
SM_OUT_PORT=$(it_free_port)
cat "$IT_PKI/root.pem" "$IT_PKI/inter.pem" >"$IT_DIR/client-cas.pem"
for mx in 3 4; do
	python3 "$DOMSEC_TOP/tests/starttls_server.py" --cert "$IT_PKI/exact-chain.pem" \
	    --key "$IT_PKI/exact.key" --bind "127.0.0.$mx" --port "$SM_OUT_PORT" \
	    --port-file "$IT_DIR/mx$mx.port" --log "$IT_DIR/mx$mx.log" \
	    --client-ca "$IT_DIR/client-cas.pem" >"$IT_DIR/mx$mx.out" 2>&1 &
	it_track_pid $!
	it_wait_file "$IT_DIR/mx$mx.port"
done

SM_PORT=$(it_free_port)
SM_SINK_PORT=$IT_SINK_PORT
sm_config
it_check "the access map has TLS_Clt_Features for the partner (domsecctl sendmail-access)" \
    grep -q "^TLS_Clt_Features:woodgrovebank.com	CertFile=$SM_DIR/etc/certs/mx-chain.pem; KeyFile=" \
    "$SM_DIR/etc/access"
it_check "the .cf has no global client certificate" \
    bash -c "! grep -Eq '^O Client(Cert|Key)File' '$SM_DIR/sendmail.cf'"
it_check "the .cf asks for SHA-256 fingerprints" \
    grep -q '^O CertFingerprintAlgorithm=sha256' "$SM_DIR/sendmail.cf"
sm_start
it_ok "Sendmail $SM_VERSION listens on 127.0.0.1 and ::1 port $SM_PORT"

# sm_accepted: Sendmail's "250 2.0.0 ... Message accepted for delivery".
sm_fix_reply() {
	if [ "$IT_REPLY" = none ] && grep -Eq '^<[~-]* +250 .*accepted for delivery' \
	    "$IT_DIR/swaks-$1.log"; then
		IT_REPLY=250
	fi
}
send_p() { sm_send_partner "$@"; sm_fix_reply "$1"; }
wgb=a@woodgrovebank.com

# ---- CRL down: 451, then back ---------------------------------------------------
IT_SEND_FN=send_p it_crl_outage

# ---- secured, forged headers replaced ------------------------------------------
it_log_mark
send_p secured "$wgb" exact "$wgb" "X-Domain-Secured: forged; domain=woodgrovebank.com" \
    "Authentication-Results: mx.contoso.com; x-domainsecurity=pass"
it_expect_eq "secured: accepted" 250 "$IT_REPLY"
f=$(it_delivered "$IT_ID" || true)
it_check "secured: delivered" test -n "$f"
if [ -n "$f" ]; then
	it_expect_eq "secured: one X-Domain-Secured (ours)" 1 "$(it_count_headers "$f" X-Domain-Secured)"
	it_expect_eq "secured: it names the domain and the fingerprint" 1 \
	    "$(it_count_headers "$f" X-Domain-Secured "domain=woodgrovebank.com.*$(it_fp exact)")"
	it_expect_eq "secured: the forged X-Domain-Secured is gone" 0 "$(it_count_headers "$f" X-Domain-Secured forged)"
	it_expect_eq "secured: one Authentication-Results (ours)" 1 "$(it_count_headers "$f" Authentication-Results)"
	it_check "secured: Sendmail's Received says verify=OK" grep -q 'verify=OK' "$f"
fi
it_check "secured: verdict logged with the queue id" it_log_since "verdict=secured .*domain=woodgrovebank.com"

# ---- refusals: the verdict table ---------------------------------------------------
IT_SEND_FN=send_p it_scenarios <<'EOF'
# label    sender               cert      from reply verdict        tags
plain      a@woodgrovebank.com  plain     =    530   no-tls         -
nocert     a@woodgrovebank.com  -         =    550   no-certificate -
untrusted  a@woodgrovebank.com  untrusted =    550   untrusted      -
mismatch   a@woodgrovebank.com  twodeep   =    550   name-mismatch  -
revoked    a@woodgrovebank.com  revoked   =    550   revoked        -
EOF

# ---- non-partner untouched ----------------------------------------------------------
send_p stranger a@example.org plain a@example.org "X-Domain-Secured: forged"
it_expect_eq "non-partner: accepted" 250 "$IT_REPLY"
f=$(it_delivered "$IT_ID" || true)
it_check "non-partner: delivered" test -n "$f"
[ -n "$f" ] && it_expect_eq "non-partner: no X-Domain-Secured (forged one removed, none added)" 0 \
    "$(it_count_headers "$f" X-Domain-Secured)"

# ---- several messages in one session ----------------------------------------------------
it_log_mark
ids=$(python3 "$DOMSEC_TOP/tests/smtp_session.py" --host 127.0.0.1 --port "$SM_PORT" \
    --cert "$IT_PKI/exact.pem" --key "$IT_PKI/exact.key" \
    a@woodgrovebank.com a@example.org b@woodgrovebank.com 2>"$IT_DIR/session.err") || ids=""
set -- $ids
it_expect_eq "one session: three messages accepted" 3 "$#"
if [ "$#" = 3 ]; then
	f1=$(it_delivered "$1" || true); f2=$(it_delivered "$2" || true); f3=$(it_delivered "$3" || true)
	it_check "one session: all three delivered" test -n "$f1" -a -n "$f2" -a -n "$f3"
	[ -n "$f1" ] && it_expect_eq "one session: 1st (partner) secured" 1 "$(it_count_headers "$f1" X-Domain-Secured result=secured)"
	[ -n "$f2" ] && it_expect_eq "one session: 2nd (non-partner) untouched, forgery removed" 0 "$(it_count_headers "$f2" X-Domain-Secured)"
	[ -n "$f3" ] && it_expect_eq "one session: 3rd (partner again) secured" 1 "$(it_count_headers "$f3" X-Domain-Secured result=secured)"
	it_expect_eq "one session: two secured verdicts" 2 "$(it_log_count 'verdict=secured .*domain=woodgrovebank.com')"
fi
set --

# ---- IPv6 client ----------------------------------------------------------------------------
it_log_mark
# (swaks needs IO::Socket::INET6 for IPv6; the Python client does not)
id6=$(python3 "$DOMSEC_TOP/tests/smtp_session.py" --host ::1 --port "$SM_PORT" \
    --cert "$IT_PKI/exact.pem" --key "$IT_PKI/exact.key" "$wgb" 2>"$IT_DIR/session6.err") || id6=""
it_check "IPv6 client: accepted" test -n "$id6"
f=$([ -n "$id6" ] && it_delivered "$id6" || true)
it_check "IPv6 client: delivered" test -n "$f"
[ -n "$f" ] && it_expect_eq "IPv6 client: secured" 1 "$(it_count_headers "$f" X-Domain-Secured result=secured)"
it_check "IPv6 client: verdict logged for the IPv6 client" \
    it_log_since "verdict=secured .*client=\\[?(IPv6:)?(::1|0:0:0:0:0:0:0:1)"

# ---- outbound: our client certificate to the partner only -------------------------------
contoso_fp=$(openssl x509 -in "$IT_PKI/contoso.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g')
it_message "$IT_DIR/out-p.eml" a@contoso.com
sm_send out-partner --from a@contoso.com --to x@woodgrovebank.com --data "$IT_DIR/out-p.eml"
sm_fix_reply out-partner
it_expect_eq "outbound to the partner: accepted for delivery" 250 "$IT_REPLY"
it_message "$IT_DIR/out-s.eml" a@contoso.com
sm_send out-stranger --from a@contoso.com --to y@example.net --data "$IT_DIR/out-s.eml"
sm_fix_reply out-stranger
it_expect_eq "outbound to a stranger: accepted for delivery" 250 "$IT_REPLY"
it_check "the partner's MX got our client certificate" \
    it_wait_log "$IT_DIR/mx3.log" "tls .* client-cert=$contoso_fp" 30
it_check "the stranger's MX got STARTTLS" it_wait_log "$IT_DIR/mx4.log" "tls .* client-cert=" 30
it_check "the stranger's MX got no client certificate" \
    bash -c "grep -q 'client-cert=none' '$IT_DIR/mx4.log' && ! grep -q 'client-cert=$contoso_fp' '$IT_DIR/mx4.log'"

# ---- domsecd stopped: F=T ------------------------------------------------------------------
it_domsecd_clean
it_message "$IT_DIR/msg-down.eml" a@example.org
sm_send down-plain --from a@example.org --to b@contoso.com --data "$IT_DIR/msg-down.eml"
it_expect_eq "domsecd stopped: mail is deferred (F=T)" 451 "$IT_REPLY"
sm_send down-tls --tls --from a@example.org --to b@contoso.com --data "$IT_DIR/msg-down.eml"
it_check "domsecd stopped: STARTTLS gets 454" grep -Eq '^<[~-]*\** +454 ' "$IT_DIR/swaks-down-tls.log"
it_finish
