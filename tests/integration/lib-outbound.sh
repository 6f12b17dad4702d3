# SPDX-License-Identifier: BSD-2-Clause
# lib-outbound.sh - harness for the outbound Domain Security tests (5x-*.sh),
# built on lib-postfix.sh and lib-common.sh:
# a private network namespace in which everything runs (so port 25, fixed
# ports and a DNS server on 127.0.0.1:53 are ours alone), a tiny DNS server
# (tests/dns_server.py) that /etc/netns/NS/resolv.conf points at, the CRL
# server, the test PKI, domsecd with its socketmap, the sending Postfix
# (contoso.com, configured with contrib/postfix-outbound.cf) and a second
# Postfix playing the partner's MX on 127.0.0.2-127.0.0.5 port 25, one
# listener per test certificate.
#
# This file only defines functions: source it, do not run it.
#
#   . "$DOMSEC_TOP/tests/integration/lib-outbound.sh"
#   ob_enter_netns "$0"        # re-runs the script inside a fresh namespace
#                              # (returns only inside it)
#   it_init ob                 # work dir $IT_DIR, EXIT trap (lib-common.sh)
#   it_crl_start; it_pki_build; ob_dns_start; ob_domsecd_start PARTNER_LINE...
#   ob_partner_start; ob_sender_start
#   ob_send LABEL RCPT         # sets OB_ID (X-Test-Id) and OB_QID (queue id)
#
# Needs root (ip netns), postfix, swaks, python3, openssl.

: "${DOMSEC_TOP:?set DOMSEC_TOP to the source tree}"
: "${DOMSEC_BUILD:?set DOMSEC_BUILD to the build directory}"
. "$DOMSEC_TOP/tests/integration/lib-postfix.sh"

OB_SOCKETMAP_PORT=8896
OB_SENDER_PORT=2525
IT_CLEANUP_HOOKS="$IT_CLEANUP_HOOKS ob_postfix_stop"
IT_LOG_FILES="$IT_LOG_FILES sender/maillog partner/maillog"

# ---- the namespace ---------------------------------------------------------

# ob_enter_netns SCRIPT: outside a namespace, creates one, runs SCRIPT
# inside it, removes it, and exits with SCRIPT's status.  Inside (OB_NETNS
# set), returns.
ob_enter_netns() {
	[ -n "${OB_NETNS:-}" ] && return 0
	if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! command -v postfix >/dev/null; then
		echo "# SKIP: needs root, iproute2 and postfix"
		exit 0
	fi
	local ns=domsec-ob-$$ rc
	if ! ip netns add "$ns" 2>/dev/null; then
		echo "# SKIP: cannot create a network namespace here"
		exit 0
	fi
	OB_NS_NAME=$ns
	trap 'ob_netns_remove' EXIT
	trap 'exit 130' INT TERM
	ip -n "$ns" link set lo up
	# Postfix listens only on addresses assigned to an interface.
	for a in 2 3 4 5; do ip -n "$ns" addr add "127.0.0.$a/8" dev lo; done
	mkdir -p "/etc/netns/$ns"
	printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:2\n' >"/etc/netns/$ns/resolv.conf"
	printf '127.0.0.1 localhost\n127.0.0.1 mx.contoso.com\n' >"/etc/netns/$ns/hosts"
	rc=0
	OB_NETNS=$ns ip netns exec "$ns" bash "$1" || rc=$?
	exit "$rc"
}

ob_netns_remove() {
	local pid
	set +e
	# Whatever still runs in the namespace was started by this test.
	for pid in $(ip netns pids "$OB_NS_NAME" 2>/dev/null); do
		kill "$pid" 2>/dev/null
	done
	sleep 0.5
	for pid in $(ip netns pids "$OB_NS_NAME" 2>/dev/null); do
		kill -9 "$pid" 2>/dev/null
	done
	ip netns del "$OB_NS_NAME" 2>/dev/null
	rm -rf "/etc/netns/$OB_NS_NAME"
	rmdir /etc/netns 2>/dev/null    # only if no other namespace uses it
}

# ---- DNS ----------------------------------------------------

# ob_zone_write "PREF HOST"...: the zone, with woodgrovebank.com's MX records.
ob_zone_write() {
	local mx
	{
		for mx in "$@"; do echo "woodgrovebank.com            MX $mx"; done
		echo "mx-good.woodgrovebank.com    A  127.0.0.2"
		echo "mx-revoked.woodgrovebank.com A  127.0.0.3"
		echo "mx-other.woodgrovebank.com   A  127.0.0.4"
		echo "nonpartner.example           MX 10 mx.nonpartner.example"
		echo "mx.nonpartner.example        A  127.0.0.5"
		echo "contoso.com                  MX 10 mx.contoso.com"
		echo "mx.contoso.com               A  127.0.0.1"
	} >"$IT_DIR/zone.tmp"
	mv "$IT_DIR/zone.tmp" "$IT_DIR/zone"
}

ob_dns_start() {
	ob_zone_write "10 mx-good.woodgrovebank.com"
	python3 "$DOMSEC_TOP/tests/dns_server.py" --bind 127.0.0.1 --port 53 \
	    --zone "$IT_DIR/zone" --port-file "$IT_DIR/dns.port" \
	    --pid-file "$IT_DIR/dns.pid" --log "$IT_DIR/dns.log" \
	    >"$IT_DIR/dns.out" 2>&1 &
	it_track_pid $!
	it_wait_file "$IT_DIR/dns.pid"
}

# ob_set_mx "PREF HOST"...: replaces woodgrovebank.com's MX records.
ob_set_mx() {
	ob_zone_write "$@"
	kill -HUP "$(cat "$IT_DIR/dns.pid")"
	sleep 0.3
}

# ---- domsecd ---------------------------------------------------------------

# ob_domsecd_start PARTNER_LINE...
ob_domsecd_start() {
	local line
	mkdir -p "$IT_DIR/crlcache" "$IT_DIR/state"
	: >"$IT_DIR/partners"
	for line in "$@"; do printf '%s\n' "$line" >>"$IT_DIR/partners"; done
	{
		echo "CAFile            $IT_PKI/root.pem"
		echo "ChainFile         $IT_PKI/inter.pem"
		echo "PartnerTable      $IT_DIR/partners"
		echo "CRLCacheDir       $IT_DIR/crlcache"
		echo "CRLConnectTimeout 2s"
		echo "CRLTimeout        4s"
		echo "CRLRetryBackoff   2s"
		echo "SocketmapSocket   inet:$OB_SOCKETMAP_PORT@127.0.0.1"
		echo "StateDir          $IT_DIR/state"
		echo "Syslog            no"
		echo "LogLevel          debug"
		echo "HeloName          mx.contoso.com"
		echo "ProbeTimeout      5s"
		echo "OutboundCacheTTL  1s"
	} >"$IT_DIR/domsec.conf"
	"${OB_DOMSECD:-$DOMSEC_BUILD/domsecd}" -f -c "$IT_DIR/domsec.conf" \
	    >>"$IT_DIR/domsecd.log" 2>&1 &
	OB_DOMSECD_PID=$!
	it_track_pid "$OB_DOMSECD_PID"
	it_wait_addr 127.0.0.1 "$OB_SOCKETMAP_PORT"
}

# ---- Postfix instances -------------------------------------------------------

# ob_postfix_stop: stops the sender and the partner instance (cleanup hook).
ob_postfix_stop() {
	local pf i
	for pf in "$IT_DIR/sender" "$IT_DIR/partner"; do
		[ -f "$pf/queue/pid/master.pid" ] && postfix -c "$pf/etc" stop >/dev/null 2>&1
	done
	# master exits a moment after "postfix stop"; wait for its pid files.
	for i in $(seq 1 50); do
		[ -f "$IT_DIR/sender/queue/pid/master.pid" ] ||
		    [ -f "$IT_DIR/partner/queue/pid/master.pid" ] || break
		sleep 0.1
	done
	return 0
}

# ob_chain_file LEAF OUT: key, certificate and intermediates in one file, as
# smtp(d)_tls_chain_files wants them.
ob_chain_file() {
	cat "$IT_PKI/$1.key" "$IT_PKI/$1-chain.pem" >"$2"
	chmod 600 "$2"
}

# The partner's MX: one smtpd per certificate, mail stored in $pp/mail/inbox.
ob_partner_start() {
	local pp=$IT_DIR/partner
	mkdir -p "$pp/etc" "$pp/queue" "$pp/data" "$pp/mail"
	chown postfix "$pp/data"
	chown nobody "$pp/mail"
	cat "$IT_PKI/root.pem" "$IT_PKI/inter.pem" >"$pp/etc/ca.pem"
	ob_chain_file exact "$pp/etc/good.pem"
	ob_chain_file revoked "$pp/etc/revoked.pem"
	ob_chain_file twodeep "$pp/etc/other.pem"
	ob_chain_file tailspin "$pp/etc/nonpartner.pem"
	printf '%s\n' \
	    "compatibility_level = 3.7" \
	    "queue_directory = $pp/queue" \
	    "data_directory = $pp/data" \
	    "mail_owner = postfix" \
	    "myhostname = mx.woodgrovebank.com" \
	    "mydomain = woodgrovebank.com" \
	    "mydestination =" \
	    "inet_interfaces = 127.0.0.2, 127.0.0.3, 127.0.0.4, 127.0.0.5" \
	    "inet_protocols = ipv4" \
	    "mynetworks = 127.0.0.0/8" \
	    "maillog_file = $pp/maillog" \
	    "maillog_file_prefixes = $pp" \
	    "alias_maps =" \
	    "alias_database =" \
	    "virtual_mailbox_domains = woodgrovebank.com, nonpartner.example" \
	    "virtual_mailbox_base = $pp/mail" \
	    "virtual_mailbox_maps = static:inbox" \
	    "virtual_uid_maps = static:$(id -u nobody)" \
	    "virtual_gid_maps = static:$(id -g nobody)" \
	    "smtpd_tls_security_level = may" \
	    "smtpd_tls_ask_ccert = yes" \
	    "smtpd_tls_CAfile = $pp/etc/ca.pem" \
	    "smtpd_tls_chain_files = $pp/etc/good.pem" \
	    "smtpd_tls_loglevel = 1" \
	    "smtpd_tls_received_header = yes" \
	    "smtpd_tls_fingerprint_digest = sha256" \
	    "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination" \
	    >"$pp/etc/main.cf"
	{
		echo "127.0.0.2:25 inet n - n - - smtpd -o syslog_name=partner-good -o smtpd_tls_chain_files=$pp/etc/good.pem"
		echo "127.0.0.3:25 inet n - n - - smtpd -o syslog_name=partner-revoked -o smtpd_tls_chain_files=$pp/etc/revoked.pem"
		echo "127.0.0.4:25 inet n - n - - smtpd -o syslog_name=partner-other -o smtpd_tls_chain_files=$pp/etc/other.pem"
		echo "127.0.0.5:25 inet n - n - - smtpd -o syslog_name=nonpartner -o smtpd_tls_chain_files=$pp/etc/nonpartner.pem"
		it_postfix_services
	} >"$pp/etc/master.cf"
	it_postfix_up "$pp" && it_wait_addr 127.0.0.2 25 15 && it_wait_addr 127.0.0.5 25
}

# The sending MTA (contoso.com): the main.cf and master.cf lines of
# contrib/postfix-outbound.cf are used as an administrator would copy them,
# with the socketmap port and our chain file filled in.
ob_sender_start() {
	local ps=$IT_DIR/sender
	mkdir -p "$ps/etc" "$ps/queue" "$ps/data"
	chown postfix "$ps/data"
	ob_chain_file contoso "$ps/etc/domsec-client.pem"
	{
		printf '%s\n' \
		    "compatibility_level = 3.7" \
		    "queue_directory = $ps/queue" \
		    "data_directory = $ps/data" \
		    "mail_owner = postfix" \
		    "myhostname = mx.contoso.com" \
		    "mydomain = contoso.com" \
		    "myorigin = contoso.com" \
		    "mydestination =" \
		    "inet_interfaces = 127.0.0.1" \
		    "inet_protocols = ipv4" \
		    "mynetworks = 127.0.0.0/8" \
		    "maillog_file = $ps/maillog" \
		    "maillog_file_prefixes = $ps" \
		    "alias_maps =" \
		    "alias_database =" \
		    "smtp_tls_security_level = may" \
		    "smtp_tls_loglevel = 1" \
		    "smtp_helo_name = mx.contoso.com"
		echo "# --- contrib/postfix-outbound.cf ---"
		grep -Ev '^[[:space:]]*(#|$)' "$DOMSEC_TOP/contrib/postfix-outbound.cf" |
		    sed "s/:8896:/:$OB_SOCKETMAP_PORT:/"
	} >"$ps/etc/main.cf"
	{
		echo "127.0.0.1:$OB_SENDER_PORT inet n - n - - smtpd"
		it_postfix_services
		sed -n 's/^#master\.cf //p' "$DOMSEC_TOP/contrib/postfix-outbound.cf" |
		    sed -e "s|/etc/postfix/domsec-client.pem|$ps/etc/domsec-client.pem|" \
		        -e "s/:8896:/:$OB_SOCKETMAP_PORT:/"
	} >"$ps/etc/master.cf"
	it_postfix_up "$ps" && it_wait_addr 127.0.0.1 "$OB_SENDER_PORT" 15
}

ob_flush() {
	postqueue -c "$IT_DIR/sender/etc" -f >/dev/null 2>&1 || true
}

# ---- mail --------------------------------------------------------------------

OB_SEQ=0

# ob_send LABEL RCPT: submits a message to the sending Postfix.  Sets OB_ID
# (its X-Test-Id) and OB_QID (the sender's queue id, "" if refused).
ob_send() {
	local label=$1 rcpt=$2 log
	OB_SEQ=$((OB_SEQ + 1))
	OB_ID="ob$$-$OB_SEQ-$label"
	log=$IT_DIR/swaks-$label.log
	swaks --server "127.0.0.1:$OB_SENDER_PORT" --from "sender@contoso.com" \
	    --to "$rcpt" --helo client.contoso.com --header "X-Test-Id: $OB_ID" \
	    --header "Subject: outbound test $label" --timeout 30 >"$log" 2>&1 || true
	OB_QID=$(sed -n 's/.*250 2\.0\.0 Ok: queued as \([0-9A-Za-z]*\).*/\1/p' "$log" | tail -n 1)
}

# ob_scenarios: the outbound verdict table on stdin, one scenario a line,
# fields separated by "|" ("#" lines skipped):
#   LABEL | MX RECORDS | RECIPIENT | STATUS | STORED | DOMSECD LOG REGEX
# MX RECORDS ("PREF HOST", comma-separated; "-": unchanged) replace
# woodgrovebank.com's MX before the message is sent; STATUS is the delivery
# status the sender must reach (sent, deferred); STORED says whether the
# partner MX stored it (yes, no); the regex ("-": none) must appear in
# domsecd's log.  Each message's queue id and X-Test-Id are kept in
# $IT_DIR/ob-scenarios ("LABEL QID ID").
ob_scenarios() {
	local label mx rcpt status stored regex
	while IFS='|' read -r -u 3 label mx rcpt status stored regex; do
		label=$(ob_trim "$label"); mx=$(ob_trim "$mx"); rcpt=$(ob_trim "$rcpt")
		status=$(ob_trim "$status"); stored=$(ob_trim "$stored")
		regex=$(ob_trim "$regex")
		case $label in '' | '#'*) continue ;; esac
		if [ "$mx" != - ]; then
			local records=()
			IFS=, read -r -a records <<<"$mx"
			ob_set_mx "${records[@]}"
			sleep 1.2   # OutboundCacheTTL 1s
		fi
		ob_send "$label" "$rcpt"
		echo "$label $OB_QID $OB_ID" >>"$IT_DIR/ob-scenarios"
		it_check "$label: accepted by the sending Postfix ($OB_QID)" test -n "$OB_QID"
		it_check "$label: delivery $status" ob_wait_status "$OB_QID" "$status" 40
		if [ "$regex" != - ]; then
			it_check "$label: domsecd logged /$regex/" it_wait_log "$IT_DIR/domsecd.log" "$regex" 5
		fi
		if [ "$stored" = yes ]; then
			it_check "$label: stored at the partner" ob_partner_got "$OB_ID"
		else
			it_check "$label: nothing reached the partner" ob_partner_lacks "$OB_ID"
		fi
	done 3<&0
}

ob_trim() { sed -E 's/^[[:space:]]+|[[:space:]]+$//g' <<<"$1"; }

# ob_scenario LABEL: "QID ID" of ob_scenarios' message LABEL.
ob_scenario() {
	awk -v l="$1" '$1 == l { v = $2 " " $3 } END { print v }' "$IT_DIR/ob-scenarios"
}

# ob_status QID: the last delivery status the sender logged for QID
# (sent, deferred, bounced) or "" while there is none.
ob_status() {
	grep -E " $1: to=<" "$IT_DIR/sender/maillog" 2>/dev/null |
	    sed -n 's/.*status=\([a-z]*\).*/\1/p' | tail -n 1
}

# ob_wait_status QID STATUS [SECONDS]
ob_wait_status() {
	local i
	for i in $(seq 1 $((${3:-30} * 10))); do
		[ "$(ob_status "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# ob_partner_got ID: the partner MX stored a message with X-Test-Id ID.
ob_partner_got() {
	grep -q "^X-Test-Id: $1\$" "$IT_DIR/partner/mail/inbox" 2>/dev/null
}

# ob_partner_lacks ID: the partner MX has no message with X-Test-Id ID.
ob_partner_lacks() { ! ob_partner_got "$1"; }

# ob_partner_received ID: the first (topmost) Received header of stored
# message ID, unfolded onto one line.
ob_partner_received() {
	awk -v id="$1" '
		/^From / { cur = ""; first = ""; found = 0; inhdr = 1; next }
		inhdr && /^$/ { inhdr = 0; if (found) { print first; exit } next }
		inhdr && /^[ \t]/ { if (cur == "r") { l = $0; sub(/^[ \t]+/, "", l); first = first " " l } next }
		inhdr {
			cur = ""
			if (first == "" && $0 ~ /^Received:/) { first = $0; cur = "r" }
			if ($0 == "X-Test-Id: " id) found = 1
		}
	' "$IT_DIR/partner/mail/inbox" 2>/dev/null
}
