#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 44-unix-sockets.sh - domsecd's milter and policy service on unix-domain
# sockets (the form a site uses to keep them off the network), with a
# private Postfix whose smtpd runs without chroot, so it can name the
# sockets by absolute path.  A stale socket file left behind is replaced.
# The sockets get SocketGroup/SocketMode, and only PeerUsers may talk to
# domsecd: a process of another user is refused (SO_PEERCRED) and logged.
set -eu
. "$DOMSEC_TOP/tests/integration/lib-postfix.sh"

it_mail_setup
it_domsecd_config "woodgrovebank.com mode=enforce"
it_pin exact
mkdir -p "$IT_DIR/run"
chmod 755 "$IT_DIR/run"
milter_sock=$IT_DIR/run/milter.sock
policy_sock=$IT_DIR/run/policy.sock
sed -i -e "s|^MilterSocket .*|MilterSocket unix:$milter_sock|" \
    -e "s|^PolicySocket .*|PolicySocket unix:$policy_sock|" "$IT_DIR/domsec.conf"
# A stale socket from an earlier run.
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$policy_sock"
it_check "a stale policy socket file exists before start" test -S "$policy_sock"

it_domsecd_start
for i in $(seq 1 100); do [ -S "$milter_sock" ] && [ -S "$policy_sock" ] && break; sleep 0.1; done
it_check "domsecd started on unix sockets" it_domsecd_logged "started .*milter unix:"
it_check "sockets are mode 0660, group postfix (default SocketMode, SocketGroup)" \
    test "$(stat -c '%a %G' "$milter_sock") $(stat -c '%a %G' "$policy_sock")" = "660 postfix 660 postfix"

# A policy request as user nobody: with mode 0660 the kernel refuses it; with
# the socket opened up, SO_PEERCRED does.
ask_policy() {
	runuser -u "$1" -- python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
    s.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=127.0.0.1\nclient_port=1\nsender=a@woodgrovebank.com\n\n")
    s.settimeout(5)
    print(s.recv(100).decode().strip() or "closed")
except (BrokenPipeError, ConnectionResetError):
    print("closed")
except OSError as e:
    print("refused:", e.errno)
' "$policy_sock"
}
it_expect_eq "user nobody cannot open the 0660 policy socket" "refused: 13" "$(ask_policy nobody)"
chmod 666 "$policy_sock"
it_log_mark
it_expect_eq "user nobody on an open socket: disconnected without an answer" closed "$(ask_policy nobody)"
it_check "the refused peer is logged with its user" \
    it_log_since "policy service: refusing a connection from uid [0-9]+ \(nobody\)"
it_check "root (a PeerUsers default) is answered" \
    grep -q '^action=' <<<"$(ask_policy root)"
chmod 660 "$policy_sock"

IT_POSTFIX_EXTRA="smtpd_milters = unix:$milter_sock
smtpd_recipient_restrictions = check_policy_service { unix:$policy_sock, timeout=30s, default_action=DEFER_IF_PERMIT } reject_unauth_destination"
it_postfix_start

it_log_mark
it_send_partner unix-secured a@woodgrovebank.com exact
it_expect_eq "secured over unix sockets: SMTP reply" 250 "$IT_REPLY"
f=$(it_delivered "$IT_ID" || true)
it_check "secured over unix sockets: tagged" test "$(it_count_headers "$f" X-Domain-Secured 'result=secured')" = 1

it_log_mark
it_send_partner unix-nocert a@woodgrovebank.com -
it_expect_eq "no certificate over unix sockets: refused by the policy service" 550 "$IT_REPLY"
it_check "verdict no-certificate logged" it_log_since "verdict=no-certificate"
it_domsecd_clean
it_finish
