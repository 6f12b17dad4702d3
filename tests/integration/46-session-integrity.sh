#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 46-session-integrity.sh - a Domain Secured tag no one can plant, against a
# real Postfix with domsecd as milter (smtpd and non_smtpd) and policy
# service:
#   - a verdict planted through the policy socket, or through the milter
#     socket with a Sendmail-style {cert_fp}, for the address and port of a
#     later clear-text session, is never used: 530, nothing delivered;
#   - a session refused as no-tls that then does STARTTLS with a valid
#     certificate is judged afresh and tagged;
#   - three From shapes that other parsers read a foreign address in are
#     delivered untagged (unaligned, with the reason);
#   - local submission (sendmail -t, pickup) loses its forged trust headers;
#   - forged headers: one summary line per message, and above
#     MaxForgedHeaders the message is refused.
set -eu
. "$DOMSEC_TOP/tests/integration/lib-postfix.sh"

it_mail_setup
it_domsecd_config "woodgrovebank.com mode=enforce"
it_pin exact
echo "MaxForgedHeaders 50" >>"$IT_DIR/domsec.conf"
it_domsecd_start
# Our swaks is local, but a partner is not: Postfix must not canonicalise
# its headers (it rewrites "x@evil.example:a@woodgrovebank.com" into a
# quoted local part for local clients only), or the From tests below would
# not see what a remote partner's mail carries.
IT_POSTFIX_EXTRA="non_smtpd_milters = inet:127.0.0.1:$IT_MILTER_PORT
local_header_rewrite_clients ="
it_postfix_start

wgb=a@woodgrovebank.com
fp=$(openssl x509 -in "$IT_PKI/exact.pem" -noout -fingerprint -sha256 | sed 's/.*=//')

# no_tag_for FILE: the delivered message carries no header of ours.
tagged() { [ -n "$1" ] && [ "$(it_count_headers "$1" X-Domain-Secured '')" != 0 ]; }

# --- 1. planted through the policy socket ----------------------------------
port=$(it_free_port)
python3 - "$IT_POLICY_PORT" "$port" "$fp" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(("request=smtpd_access_policy\nprotocol_state=RCPT\n"
           "client_address=127.0.0.1\nclient_port=%s\n"
           "encryption_protocol=TLSv1.3\nencryption_cipher=TLS_AES_256_GCM_SHA384\n"
           "ccert_fingerprint=%s\nsender=a@woodgrovebank.com\n"
           "recipient=b@contoso.com\n\n" % (sys.argv[2], sys.argv[3])).encode())
print(s.recv(200).decode().strip())
EOF
it_log_mark
it_message "$IT_DIR/msg-plant1.eml" "$wgb"
it_send plant-policy --local-port "$port" --from "$wgb" --to b@contoso.com \
    --data "$IT_DIR/msg-plant1.eml"
it_expect_eq "policy-socket plant, then clear text from that port: refused" 530 "$IT_REPLY"
it_check "policy-socket plant: verdict no-tls logged" it_log_since "verdict=no-tls .*client=127.0.0.1:$port"
it_check "policy-socket plant: nothing delivered" test -z "$(it_delivered "$IT_ID" 1 || true)"

# --- 2. planted through the milter socket ({cert_fp}), held open ----------
port=$(it_free_port)
cat >"$IT_DIR/plant.lua" <<EOF
local conn = mt.connect("inet:$IT_MILTER_PORT@127.0.0.1", 20, 0.25)
mt.macro(conn, SMFIC_CONNECT, "{client_addr}", "127.0.0.1", "{client_port}", "$port")
mt.conninfo(conn, "mail.woodgrovebank.com", "127.0.0.1")
mt.macro(conn, SMFIC_HELO, "{tls_version}", "TLSv1.3", "{cipher}", "TLS_AES_256_GCM_SHA384",
    "{verify}", "OK", "{cert_fp}", "$fp")
mt.helo(conn, "mail.woodgrovebank.com")
mt.mailfrom(conn, "<$wgb>")
mt.rcptto(conn, "<b@contoso.com>")
local f = io.open("$IT_DIR/planted", "w"); f:write("planted\n"); f:close()
os.execute("sleep 6")
mt.disconnect(conn)
EOF
miltertest -s "$IT_DIR/plant.lua" >"$IT_DIR/plant.out" 2>&1 &
it_track_pid $!
it_wait_file "$IT_DIR/planted"
it_log_mark
it_message "$IT_DIR/msg-plant2.eml" "$wgb"
it_send plant-milter --local-port "$port" --from "$wgb" --to b@contoso.com \
    --data "$IT_DIR/msg-plant2.eml"
it_expect_eq "milter-socket plant, then clear text from that port: refused" 530 "$IT_REPLY"
it_check "milter-socket plant: nothing delivered" test -z "$(it_delivered "$IT_ID" 1 || true)"

# --- 3. no-tls refusal, then STARTTLS in the same session -----------------
it_log_mark
out=$(python3 - "$IT_SMTPD_PORT" "$IT_PKI/exact.pem" "$IT_PKI/exact.key" <<'EOF'
import smtplib, ssl, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=60)
s.ehlo("mail.woodgrovebank.com")
code, _ = s.mail("a@woodgrovebank.com")
first = code
s.rset()
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
s.starttls(context=ctx)
s.ehlo("mail.woodgrovebank.com")
msg = ("From: a@woodgrovebank.com\r\nTo: b@contoso.com\r\nSubject: after starttls\r\n"
       "X-Test-Id: starttls-after-refusal\r\n\r\nhello\r\n")
try:
    s.sendmail("a@woodgrovebank.com", ["b@contoso.com"], msg)
    second = 250
except smtplib.SMTPException as e:
    second = getattr(e, "smtp_code", 0) or str(e)
s.quit()
print(first, second)
EOF
)
it_expect_eq "clear text refused, then STARTTLS accepted in one session" "530 250" "$out"
f=$(it_delivered starttls-after-refusal || true)
it_check "after STARTTLS: delivered and tagged" test "$(it_count_headers "$f" X-Domain-Secured 'result=secured')" = 1

# --- 4. From shapes other parsers read a foreign address in ---------------
n=0
for from in 'x@evil.example <a@woodgrovebank.com>' 'x@evil.example:a@woodgrovebank.com' \
    '<a@woodgrovebank.com> <x@evil.example>'; do
	n=$((n + 1))
	it_log_mark
	it_send_partner "from-$n" "$wgb" exact "$from"
	it_expect_eq "From '$from': accepted" 250 "$IT_REPLY"
	f=$(it_delivered "$IT_ID" || true)
	it_check "From '$from': delivered" test -n "$f"
	it_check "From '$from': not tagged" bash -c "! [ \"\$(grep -c '^X-Domain-Secured:' '$f')\" -gt 0 ]"
	it_check "From '$from': verdict unaligned with the reason" \
	    it_log_since "verdict=unaligned .*not a clean RFC 5322 address list"
	it_expect_eq "From '$from': one verdict line" 1 "$(it_log_count 'verdict=')"
done
it_log_mark
it_send_partner from-clean "$wgb" exact '"Doe, Ann" <a@woodgrovebank.com>'
f=$(it_delivered "$IT_ID" || true)
it_check "a clean From with a quoted display name is still tagged" \
    test "$(it_count_headers "$f" X-Domain-Secured 'result=secured')" = 1

# --- 5. local submission: sendmail -t through pickup ----------------------
it_log_mark
pf=$IT_DIR/postfix
printf '%s\n' "From: $wgb" "To: b@contoso.com" "Subject: local" \
    "X-Domain-Secured: mx.contoso.com; domain=woodgrovebank.com; result=secured" \
    "Authentication-Results: mx.contoso.com; x-domainsecurity=pass" \
    "X-Test-Id: local-submission" "" "forged" |
    sendmail -C "$pf/etc" -f "$wgb" -t
postfix -c "$pf/etc" flush >/dev/null 2>&1 || true
f=$(it_delivered local-submission 30 || true)
it_check "local submission: delivered" test -n "$f"
it_check "local submission: forged X-Domain-Secured removed" \
    test "$(it_count_headers "$f" X-Domain-Secured '')" = 0
it_check "local submission: forged Authentication-Results removed" \
    bash -c "! grep -q '^Authentication-Results: mx.contoso.com' '$f'"
it_check "local submission: one summary line" \
    it_log_since "removing 2 forged trust header\\(s\\): 1 X-Domain-Secured, 1 Authentication-Results"
it_check "local submission: not judged (no verdict line)" test "$(it_log_count 'verdict=')" = 0

# --- 6. forged headers: summary line, cap ---------------------------------
it_log_mark
hdrs=()
for i in 1 2 3; do hdrs+=("X-Domain-Secured: forged $i"); done
it_send_partner forged-3 someone@example.org - someone@example.org "${hdrs[@]}"
it_expect_eq "3 forged headers: accepted" 250 "$IT_REPLY"
f=$(it_delivered "$IT_ID" || true)
it_check "3 forged headers: all removed" test "$(it_count_headers "$f" X-Domain-Secured '')" = 0
it_expect_eq "3 forged headers: one log line" 1 "$(it_log_count 'forged trust header')"
hdrs=()
for i in $(seq 1 60); do hdrs+=("X-Domain-Secured: forged $i"); done
it_log_mark
it_send_partner forged-60 someone@example.org - someone@example.org "${hdrs[@]}"
it_expect_eq "60 forged headers (MaxForgedHeaders 50): refused" 550 "$IT_REPLY"
it_check "60 forged headers: nothing delivered" test -z "$(it_delivered "$IT_ID" 1 || true)"
it_check "60 forged headers: refusal logged" it_log_since "more than 50 forged trust headers"

it_domsecd_clean
it_finish
