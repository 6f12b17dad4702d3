# SPDX-License-Identifier: BSD-2-Clause
# lib-postfix.sh - the Postfix harness, built on lib-common.sh, for the
# inbound integration tests and the demo: a private Postfix instance (its
# own configuration, queue and log under a temporary directory, smtpd on a
# free loopback port), an smtp-sink that stores every delivered message, a
# STARTTLS listener for certificate discovery and domsecd.  Everything
# listens on 127.0.0.1 on ports the kernel chose; it_cleanup (installed as
# an EXIT trap by it_init) stops whatever was started.
#
# This file only defines functions: source it, do not run it.
#
#   . "$DOMSEC_TOP/tests/integration/lib-postfix.sh"
#   it_mail_setup            # all of these five:
#     it_init                # work dir $IT_DIR, trap
#     it_crl_start           # CRL server on $IT_CRL_PORT serving $IT_PKI/crl
#     it_pki_build           # test PKI in $IT_PKI, CDPs point at the CRL server
#     it_sink_start          # smtp-sink on $IT_SINK_PORT, dumps in $IT_SINK_DIR
#     it_ports               # picks $IT_SMTPD_PORT $IT_MILTER_PORT $IT_POLICY_PORT
#   it_domsecd_config PARTNER_LINES...   # $IT_DIR/domsec.conf (+ partners)
#   it_domsecd_start         # domsecd -f, log in $IT_DOMSECD_LOG
#   it_postfix_start         # main.cf from contrib/postfix-main.cf + test values
#   it_send NAME [swaks options...]     # sets IT_REPLY (3-digit code) and IT_ID
#   it_delivered ID          # prints the sink file holding message ID
#
# Needs: DOMSEC_TOP, DOMSEC_BUILD (domsecd), postfix, smtp-sink, swaks,
# python3, openssl.

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	# tests/run-integration.sh runs every *.sh here; this one only defines
	# functions.
	echo "# lib-postfix.sh is the harness sourced by the 4x tests and contrib/demo.sh"
	exit 0
fi

. "$DOMSEC_TOP/tests/integration/lib-common.sh"

IT_POSTFIX_UP=0
IT_CLEANUP_HOOKS="$IT_CLEANUP_HOOKS it_postfix_stop"
IT_LOG_FILES="$IT_LOG_FILES domsecd.log postfix/maillog"

# it_require_tools: every program the Postfix scenarios need, and swaks
# with TLS (it needs the Perl modules Net::SSLeay and IO::Socket::SSL,
# Debian packages libnet-ssleay-perl and libio-socket-ssl-perl).
it_require_tools() {
	local tool missing=""
	for tool in postfix postconf smtp-sink swaks python3 openssl; do
		command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
	done
	if [ -n "$missing" ]; then
		echo "missing programs:$missing (run contrib/install-deps.sh)" >&2
		return 1
	fi
	if ! swaks --support 2>&1 | grep -q '^=== TLS supported'; then
		echo "swaks cannot do TLS: install libnet-ssleay-perl and" \
		    "libio-socket-ssl-perl" >&2
		return 1
	fi
}

# it_mail_setup: what every mail-flow test starts from: the tools checked,
# the work directory, the CRL server, the PKI, the sink and free ports.
it_mail_setup() {
	it_require_tools
	it_pki_setup
	it_sink_start
	it_ports
}

# ---- the sink ------------------------------------------------------------

it_sink_start() {
	IT_SINK_DIR=$IT_DIR/sink
	mkdir -p "$IT_SINK_DIR"
	chown postfix "$IT_SINK_DIR"
	IT_SINK_PORT=$(it_free_port)
	# -d: one file per message, named from the template plus a random suffix.
	smtp-sink -u postfix -d "$IT_SINK_DIR/%M." "127.0.0.1:$IT_SINK_PORT" 32 \
	    >"$IT_DIR/sink.out" 2>&1 &
	it_track_pid $!
	it_wait_port "$IT_SINK_PORT"
}

# it_delivered ID [SECONDS]: prints the sink file holding "X-Test-Id: ID".
it_delivered() {
	local i f
	for i in $(seq 1 $((${2:-15} * 10))); do
		f=$(grep -l -- "^X-Test-Id: $1\$" "$IT_SINK_DIR"/* 2>/dev/null | head -n 1 || true)
		if [ -n "$f" ]; then
			echo "$f"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# it_message_headers FILE: the message's header section, one unfolded
# header per line, without what smtp-sink put in front of it (its
# X-Client-Addr ... X-Rcpt-Args lines and its own Received header).
it_message_headers() {
	tr -d '\r' <"$1" | awk '
		function flush() {
			if (h != "" && !(h ~ /^Received: .*by smtp-sink/ && !seen) \
			    && !(h ~ /^X-(Client-Addr|Client-Proto|Helo-Args|Mail-Args|Rcpt-Args):/ && !seen)) {
				print h
				seen = 1
			}
			h = ""
		}
		/^$/ { flush(); exit }
		/^[ \t]/ { sub(/^[ \t]+/, " "); h = h $0; next }
		{ flush(); h = $0 }
		END { flush() }'
}

# ---- ports, domsecd and Postfix -----------------------------------------

it_ports() {
	IT_SMTPD_PORT=$(it_free_port)
	IT_MILTER_PORT=$(it_free_port)
	IT_POLICY_PORT=$(it_free_port)
	while [ "$IT_POLICY_PORT" = "$IT_MILTER_PORT" ] || [ "$IT_SMTPD_PORT" = "$IT_MILTER_PORT" ] \
	    || [ "$IT_SMTPD_PORT" = "$IT_POLICY_PORT" ]; do
		IT_POLICY_PORT=$(it_free_port)
	done
}

# it_starttls_start CHAIN KEY: the discovery target (the "client's MTA"
# answering STARTTLS on 127.0.0.1:$IT_PROBE_PORT).
it_starttls_start() {
	python3 "$DOMSEC_TOP/tests/starttls_server.py" --cert "$1" --key "$2" \
	    --bind 127.0.0.1 --port-file "$IT_DIR/probe.port" \
	    --log "$IT_DIR/probe.log" >"$IT_DIR/starttls.out" 2>&1 &
	it_track_pid $!
	it_wait_file "$IT_DIR/probe.port" || return 1
	IT_PROBE_PORT=$(cat "$IT_DIR/probe.port")
}

# it_domsecd_config [PARTNER_LINE...]: writes $IT_DIR/domsec.conf and
# $IT_DIR/partners.  Extra configuration lines can be appended to
# $IT_DIR/domsec.conf before it_domsecd_start.  Pins: every PEM file in
# $IT_DIR/pins (fill it with it_pin LEAF).
it_domsecd_config() {
	mkdir -p "$IT_DIR/pins" "$IT_DIR/crlcache" "$IT_DIR/state"
	: >"$IT_DIR/partners"
	for line in "$@"; do
		printf '%s\n' "$line" >>"$IT_DIR/partners"
	done
	cat >"$IT_DIR/domsec.conf" <<EOF
# domsecd configuration written by lib-postfix.sh
CAFile            $IT_PKI/root.pem
ChainFile         $IT_PKI/inter.pem
ChainFile         $IT_PKI/inter2.pem
PartnerTable      $IT_DIR/partners
PinnedCertDir     $IT_DIR/pins
CRLCacheDir       $IT_DIR/crlcache
CRLConnectTimeout 2s
CRLTimeout        4s
CRLRetryBackoff   2s
MilterSocket      inet:$IT_MILTER_PORT@127.0.0.1
PolicySocket      inet:127.0.0.1:$IT_POLICY_PORT
StateDir          $IT_DIR/state
PidFile           $IT_DIR/domsecd.pid
Syslog            no
LogLevel          debug
AuthservID        mx.contoso.com
HeloName          mx.contoso.com
Discovery         yes
ProbePort         ${IT_PROBE_PORT:-25}
ProbeTimeout      5s
EOF
}

# it_pin LEAF: pin the test PKI's certificate LEAF (LEAF.pem).
it_pin() {
	cp "$IT_PKI/$1.pem" "$IT_DIR/pins/$1.pem"
}

it_domsecd_start() {
	IT_DOMSECD_LOG=$IT_DIR/domsecd.log
	"$DOMSEC_BUILD/domsecd" -f -c "$IT_DIR/domsec.conf" >>"$IT_DOMSECD_LOG" 2>&1 &
	IT_DOMSECD_PID=$!
	it_track_pid "$IT_DOMSECD_PID"
	# until every inet listener the configuration names accepts
	local conf=$IT_DIR/domsec.conf
	if grep -q "^MilterSocket *inet:$IT_MILTER_PORT@" "$conf"; then
		it_wait_port "$IT_MILTER_PORT" || return 1
	fi
	if grep -q "^PolicySocket *inet:127.0.0.1:$IT_POLICY_PORT" "$conf"; then
		it_wait_port "$IT_POLICY_PORT" || return 1
	fi
}

# it_domsecd_stop: SIGTERM, then wait; IT_DOMSECD_STATUS is its exit status.
it_domsecd_stop() {
	IT_DOMSECD_STATUS=none
	[ -n "${IT_DOMSECD_PID:-}" ] || return 0
	local pid=$IT_DOMSECD_PID i
	kill -TERM "$pid" 2>/dev/null || true
	# until it has exited (a zombie still answers kill -0), at most 40 s
	for i in $(seq 1 400); do
		it_gone "$pid" && break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	IT_DOMSECD_STATUS=0
	wait "$pid" 2>/dev/null || IT_DOMSECD_STATUS=$?
	IT_DOMSECD_PID=""
}

# it_domsecd_clean: stops domsecd and asserts a clean exit with no
# AddressSanitizer, LeakSanitizer or UBSan report in its log.
it_domsecd_clean() {
	it_domsecd_stop
	it_expect_eq "domsecd exited 0 on SIGTERM" 0 "$IT_DOMSECD_STATUS"
	it_check "no sanitizer report in domsecd's log" \
	    bash -c "! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' '$IT_DOMSECD_LOG'"
}

# it_postfix_services: the master.cf services every private instance needs
# (chroot off; the smtpd listeners are the caller's).
it_postfix_services() {
	printf '%s\n' \
	    "pickup    unix  n  -  n  60     1  pickup" \
	    "cleanup   unix  n  -  n  -      0  cleanup" \
	    "qmgr      unix  n  -  n  300    1  qmgr" \
	    "tlsmgr    unix  -  -  n  1000?  1  tlsmgr" \
	    "rewrite   unix  -  -  n  -      -  trivial-rewrite" \
	    "bounce    unix  -  -  n  -      0  bounce" \
	    "defer     unix  -  -  n  -      0  bounce" \
	    "trace     unix  -  -  n  -      0  bounce" \
	    "verify    unix  -  -  n  -      1  verify" \
	    "flush     unix  n  -  n  1000?  0  flush" \
	    "proxymap  unix  -  -  n  -      -  proxymap" \
	    "proxywrite unix -  -  n  -      1  proxymap" \
	    "smtp      unix  -  -  n  -      -  smtp" \
	    "relay     unix  -  -  n  -      -  smtp" \
	    "showq     unix  n  -  n  -      -  showq" \
	    "error     unix  -  -  n  -      -  error" \
	    "retry     unix  -  -  n  -      -  error" \
	    "discard   unix  -  -  n  -      -  discard" \
	    "virtual   unix  -  n  n  -      -  virtual" \
	    "anvil     unix  -  -  n  -      1  anvil" \
	    "scache    unix  -  -  n  -      1  scache" \
	    "postlog   unix-dgram n - n -    1  postlogd"
}

# it_postfix_up DIR: checks DIR/etc's configuration (postconf -n shows a
# syntax error) and starts the instance; on failure prints why.
it_postfix_up() {
	if ! postconf -c "$1/etc" -n >"$1/postconf.out" 2>&1; then
		cat "$1/postconf.out" >&2
		return 1
	fi
	if ! postfix -c "$1/etc" start >"$1/start.out" 2>&1; then
		# postfix prints its reasons only to a terminal: give it one.
		script -qc "postfix -c $1/etc check" /dev/null >&2 || true
		cat "$1/start.out" >&2
		[ -f "$1/maillog" ] && tail -n 20 "$1/maillog" >&2
		return 1
	fi
}

# it_postfix_start: the private instance.  main.cf is contrib/postfix-main.cf
# (the administrator's snippet, used as it is; or $IT_POSTFIX_BASE and no
# domsec settings) plus the settings that place
# this instance under $IT_DIR/postfix and on loopback ports, plus
# $IT_POSTFIX_EXTRA (lines "name = value") for a test's own variations.
it_postfix_start() {
	local pf=$IT_DIR/postfix
	mkdir -p "$pf/etc" "$pf/queue" "$pf/data"
	chown postfix "$pf/data"
	cat "$IT_PKI/root.pem" "$IT_PKI/inter.pem" >"$pf/etc/clientca.pem"
	cat "$IT_PKI/contoso-chain.pem" >"$pf/etc/server-chain.pem"
	cp "$IT_PKI/contoso.key" "$pf/etc/server.key"
	chmod 600 "$pf/etc/server.key"
	# IT_POSTFIX_BASE: a main.cf to start from instead of the snippet,
	# without domsec's settings (a host before domsec is wired in).
	local domsec_settings="
smtpd_tls_CAfile = $pf/etc/clientca.pem
smtpd_milters = inet:127.0.0.1:$IT_MILTER_PORT
non_smtpd_milters = inet:127.0.0.1:$IT_MILTER_PORT
smtpd_recipient_restrictions = check_policy_service { inet:127.0.0.1:$IT_POLICY_PORT, timeout=30s, default_action=DEFER_IF_PERMIT } reject_unauth_destination
smtpd_relay_restrictions = reject_unauth_destination"
	if [ -n "${IT_POSTFIX_BASE:-}" ]; then
		domsec_settings=
		{
			echo "# --- $IT_POSTFIX_BASE ---"
			cat "$IT_POSTFIX_BASE"
			echo "# --- private test instance ---"
		} >"$pf/etc/main.cf"
	else
		{
			echo "# --- contrib/postfix-main.cf ---"
			cat "$DOMSEC_TOP/contrib/postfix-main.cf"
			echo "# --- private test instance ---"
		} >"$pf/etc/main.cf"
	fi
	local settings="
compatibility_level = 3.7
queue_directory = $pf/queue
data_directory = $pf/data
mail_owner = postfix
myhostname = mx.contoso.com
mydomain = contoso.com
myorigin = contoso.com
mydestination =
relay_domains = contoso.com
relayhost = [127.0.0.1]:$IT_SINK_PORT
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtp_tls_security_level = none
maillog_file = $pf/maillog
maillog_file_prefixes = $pf
alias_maps =
alias_database =
smtpd_tls_cert_file = $pf/etc/server-chain.pem
smtpd_tls_key_file = $pf/etc/server.key
$domsec_settings
milter_command_timeout = 60s
milter_content_timeout = 60s
smtpd_policy_service_timeout = 60s
${IT_POSTFIX_EXTRA:-}
"
	# postconf -e replaces a parameter in place (no "overriding" warnings).
	local line
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		postconf -c "$pf/etc" -e "$line" || return 1
	done <<EOF
$settings
EOF
	{
		echo "127.0.0.1:$IT_SMTPD_PORT inet n - n - - smtpd"
		it_postfix_services
	} >"$pf/etc/master.cf"
	it_postfix_up "$pf" || return 1
	IT_POSTFIX_UP=1
	it_wait_port "$IT_SMTPD_PORT" 15
}

it_postfix_stop() {
	[ "${IT_POSTFIX_UP:-0}" = 1 ] || return 0
	postfix -c "$IT_DIR/postfix/etc" stop >/dev/null 2>&1 || true
	# master exits a moment later; wait for its pid file to go.
	local i
	for i in $(seq 1 50); do
		[ -f "$IT_DIR/postfix/queue/pid/master.pid" ] || break
		sleep 0.1
	done
	IT_POSTFIX_UP=0
}

# it_postfix_flush: ask Postfix to retry deferred mail now.
it_postfix_flush() {
	postqueue -c "$IT_DIR/postfix/etc" -f >/dev/null 2>&1 || true
}

# ---- sending -------------------------------------------------------------

IT_SEQ=0

# it_message FILE FROM_HEADER [EXTRA_HEADER_LINE...]: writes a message (with
# an X-Test-Id header; IT_ID holds the id) to FILE.
it_message() {
	local file=$1 from=$2
	shift 2
	IT_SEQ=$((IT_SEQ + 1))
	IT_ID="t$$-$IT_SEQ-$(date +%s%N)"
	{
		for h in "$@"; do printf '%s\r\n' "$h"; done
		printf 'From: %s\r\n' "$from"
		printf 'To: b@contoso.com\r\n'
		printf 'Subject: domsec test %s\r\n' "$IT_ID"
		printf 'X-Test-Id: %s\r\n' "$IT_ID"
		printf 'Message-Id: <%s@test.invalid>\r\n' "$IT_ID"
		printf '\r\n'
		printf 'Test message %s.\r\n' "$IT_ID"
	} >"$file"
}

# it_send LABEL [swaks options]: sends through the private Postfix.  Sets
# IT_REPLY (the first refusing reply code, or 250 when the message was
# accepted) and IT_REPLY_TEXT; the transcript is $IT_DIR/swaks-LABEL.log.
it_send() {
	local label=$1
	shift
	local log=$IT_DIR/swaks-$label.log
	swaks --server "127.0.0.1:$IT_SMTPD_PORT" --helo mail.partner.test \
	    --timeout 90 "$@" >"$log" 2>&1 || true
	# swaks marks error replies with "*": "<** 550 ..." or "<~* 550 ...".
	IT_REPLY_TEXT=$(grep -E '^<[~-]?\*+ [0-9]{3}' "$log" | head -n 1 | sed -E 's/^<[~-]?\*+ //')
	if [ -n "$IT_REPLY_TEXT" ]; then
		IT_REPLY=${IT_REPLY_TEXT%% *}
	elif grep -Eq '^<[~-]* +250 .*queued' "$log"; then
		IT_REPLY=250
		IT_REPLY_TEXT=$(grep -E '^<[~-]* +250 .*queued' "$log" | tail -n 1 | sed -E 's/^<[~-]* +//')
	else
		IT_REPLY=none
		IT_REPLY_TEXT="no reply (see $log)"
	fi
}

# it_send_partner LABEL SENDER CERT_LEAF_OR_- [FROM_HEADER [EXTRA HEADERS...]]:
# TLS with LEAF's certificate (or "-" for TLS without a certificate, or
# "plain" for no TLS), envelope sender SENDER, message from it_message.
it_send_partner() {
	local label=$1 sender=$2 leaf=$3
	shift 3
	local from=${1:-$sender}
	[ $# -gt 0 ] && shift
	local data=$IT_DIR/msg-$label.eml
	it_message "$data" "$from" "$@"
	local tls=()
	case $leaf in
	plain) tls=() ;;
	-) tls=(--tls) ;;
	*) tls=(--tls --tls-cert "$IT_PKI/$leaf.pem" --tls-key "$IT_PKI/$leaf.key") ;;
	esac
	it_send "$label" "${tls[@]}" --from "$sender" --to b@contoso.com --data "$data"
}

# it_scenarios: runs the verdict scenarios of a table read on stdin, one a
# line (blank lines and "#" comments skipped), the way curl's tests/data
# describes a case as data:
#   LABEL  SENDER  CERT  FROM  REPLY  VERDICT  TAGS
# SENDER "<>" is the null sender.  CERT is a leaf of the test PKI, "-" (TLS
# without a certificate) or "plain" (no TLS).  FROM is the From header
# ("=": the sender).  REPLY is the SMTP reply code expected.  VERDICT is the
# verdict domsecd must log, exactly once, for the partner domain (the
# sender's, or the From header's for the null sender); "none": no verdict
# line at all.  TAGS is the number of X-Domain-Secured headers the delivered
# message carries ("-" for refused mail: the reply must name the domain and
# nothing may be delivered).  it_scenario_id LABEL gives a message's id.
# IT_SEND_FN names the function that sends (default it_send_partner; it
# takes LABEL SENDER CERT FROM and sets IT_REPLY, IT_REPLY_TEXT and IT_ID).
it_scenarios() {
	local label sender cert from reply verdict tags domain f want
	# fd 3: the commands below must not eat the table from stdin
	while read -r -u 3 label sender cert from reply verdict tags; do
		case $label in '' | '#'*) continue ;; esac
		[ "$from" = = ] && from=$sender
		domain=${sender##*@}
		[ "$sender" = "<>" ] && domain=${from##*@}
		it_log_mark
		"${IT_SEND_FN:-it_send_partner}" "$label" "$sender" "$cert" "$from"
		echo "$label $IT_ID" >>"$IT_DIR/scenario-ids"
		it_expect_eq "$label: SMTP reply" "$reply" "$IT_REPLY"
		if [ "$verdict" = none ]; then
			it_expect_eq "$label: no verdict logged" 0 "$(it_log_count 'verdict=')"
		else
			it_check "$label: verdict $verdict logged" \
			    it_log_since "verdict=$verdict .*domain=$domain"
			it_expect_eq "$label: one verdict line" 1 "$(it_log_count 'verdict=')"
		fi
		if [ "$tags" = - ]; then
			it_check "$label: the reply names $domain ($IT_REPLY_TEXT)" \
			    grep -q "$domain" <<<"$IT_REPLY_TEXT"
			it_check "$label: nothing delivered" test -z "$(it_delivered "$IT_ID" 1 || true)"
		else
			f=$(it_delivered "$IT_ID" || true)
			it_check "$label: delivered" test -n "$f"
			want=
			[ "$tags" = 0 ] || want="domain=$domain"
			it_expect_eq "$label: X-Domain-Secured headers" "$tags" \
			    "$(it_count_headers "$f" X-Domain-Secured "$want")"
		fi
	done 3<&0
}
# it_scenario_id LABEL: the X-Test-Id of it_scenarios' message LABEL.
it_scenario_id() {
	awk -v l="$1" '$1 == l { id = $2 } END { print id }' "$IT_DIR/scenario-ids"
}

# it_crl_outage: with the CRL server failing, woodgrovebank.com's message
# (leaf "exact") is deferred with 451 4.7.5 and revocation-unavailable;
# once the server is back, the sender's retries are accepted within the CRL
# engine's backoff (CRLRetryBackoff) and the last one is delivered tagged.
# Sends through IT_SEND_FN like it_scenarios.
it_crl_outage() {
	local send=${IT_SEND_FN:-it_send_partner} attempt f
	it_crl_mode 500
	it_log_mark
	"$send" crl-down a@woodgrovebank.com exact
	it_expect_eq "CRL server down: SMTP reply" 451 "$IT_REPLY"
	it_check "CRL server down: reply is 4.7.5 ($IT_REPLY_TEXT)" grep -q '^451 4.7.5' <<<"$IT_REPLY_TEXT"
	it_check "CRL server down: verdict revocation-unavailable logged" \
	    it_log_since "verdict=revocation-unavailable .*domain=woodgrovebank.com"
	it_crl_mode ok
	for attempt in $(seq 1 12); do
		it_log_mark
		"$send" "crl-back-$attempt" a@woodgrovebank.com exact
		[ "$IT_REPLY" = 250 ] && break
		sleep 1
	done
	it_expect_eq "CRL server back: retry accepted" 250 "$IT_REPLY"
	f=$(it_delivered "$IT_ID" || true)
	it_check "CRL server back: retry delivered" test -n "$f"
	it_check "CRL server back: retry tagged" \
	    test "$(it_count_headers "$f" X-Domain-Secured 'result=secured')" = 1
	it_check "CRL server back: verdict secured logged" \
	    it_log_since "verdict=secured .*domain=woodgrovebank.com"
}

# it_domsecd_logged REGEX [SECONDS]: domsecd's log mentions REGEX.
it_domsecd_logged() {
	it_wait_log "$IT_DOMSECD_LOG" "$1" "${2:-5}"
}

# it_log_mark: remembers how long domsecd's log is; it_log_since REGEX
# then looks only at what was logged after the mark (waiting briefly).
it_log_mark() {
	IT_LOG_MARK=$(wc -l <"$IT_DOMSECD_LOG")
}
it_log_since() {
	local i
	for i in $(seq 1 $((${2:-5} * 10))); do
		tail -n +"$((IT_LOG_MARK + 1))" "$IT_DOMSECD_LOG" | grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	return 1
}
# it_count_headers FILE NAME [REGEX]: how many NAME headers (matching REGEX).
it_count_headers() {
	it_message_headers "$1" | grep -ic -- "^$2:${3:+.*$3}" || true
}
# it_log_count REGEX: how many lines logged since it_log_mark match.
it_log_count() {
	tail -n +"$((IT_LOG_MARK + 1))" "$IT_DOMSECD_LOG" | grep -Ec -- "$1" || true
}
