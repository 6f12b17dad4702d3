#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# contrib/demo.sh - the domsec mail-flow demo (`make demo`, as root).
#
# Starts, on 127.0.0.1 only and on free ports: the CRL server over a test
# PKI made on the spot, an smtp-sink standing for the next hop, a STARTTLS
# listener standing for a partner's MTA (certificate discovery), domsecd
# (milter and Postfix policy service) and a private Postfix instance
# configured from contrib/postfix-main.cf.  Then it sends, with swaks as
# the partner's MTA, one message per scenario, prints a table (scenario,
# SMTP reply, verdict, header added), shows the headers of a delivered
# Domain Secured message, and tears everything down.
set -eu

DOMSEC_TOP=${DOMSEC_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
DOMSEC_BUILD=${DOMSEC_BUILD:-$DOMSEC_TOP/build}
export DOMSEC_TOP DOMSEC_BUILD

if [ "$(id -u)" != 0 ]; then
	echo "demo: run as root (it starts a private Postfix instance)" >&2
	exit 1
fi
if [ ! -x "$DOMSEC_BUILD/domsecd" ]; then
	echo "demo: $DOMSEC_BUILD/domsecd is missing; run make first" >&2
	exit 1
fi

. "$DOMSEC_TOP/tests/integration/lib-postfix.sh"
it_require_tools || exit 1

step() { printf '\n== %s\n' "$*"; }

step "Starting the CRL server, the test PKI, the sink, the partner's MTA"
it_init
it_crl_start
it_pki_build
it_sink_start
it_ports
it_starttls_start "$IT_PKI/onedeep-chain.pem" "$IT_PKI/onedeep.key"
echo "CRL server http://127.0.0.1:$IT_CRL_PORT, sink 127.0.0.1:$IT_SINK_PORT," \
    "partner MTA (discovery) 127.0.0.1:$IT_PROBE_PORT"

step "Starting domsecd (milter 127.0.0.1:$IT_MILTER_PORT, policy 127.0.0.1:$IT_POLICY_PORT)"
it_domsecd_config \
    "woodgrovebank.com mode=enforce" \
    "fabrikam.com mode=enforce ca=$IT_PKI/private-root.pem" \
    "sales.tailspin.com mode=monitor"
sed -i 's/^LogLevel .*/LogLevel info/' "$IT_DIR/domsec.conf"
for leaf in exact revoked suffix untrusted fabrikam; do
	it_pin "$leaf"
done
echo "partners:"
sed 's/^/    /' "$IT_DIR/partners"
echo "pinned certificates: exact revoked suffix untrusted fabrikam" \
    "(onedeep is found by discovery)"
it_domsecd_start

step "Starting a private Postfix on 127.0.0.1:$IT_SMTPD_PORT (contrib/postfix-main.cf)"
it_postfix_start
echo "Postfix $(postconf -d -h mail_version) with its queue under $IT_DIR/postfix"

ROWS=()
SHOW_FILE=""

# short_reply "550 5.7.1 <b@contoso.com>: Recipient address rejected: ..."
# -> "550 5.7.1 ..." without Postfix's recipient prefix.
short_reply() {
	sed -E -e 's/<[^>]*>: Recipient address rejected: //' \
	    -e 's/Domain Security for [^:]*: //' -e 's/ \(.*//' <<<"$1"
}

# run_scenario TITLE LABEL SENDER LEAF [FROM [HEADERS...]]: sends, then
# adds a table row (unless NO_ROW=1; the row is in LAST_ROW either way).
run_scenario() {
	local title=$1 label=$2
	shift 2
	it_log_mark
	it_send_partner "$label" "$@"
	local verdict header="-" f removed reply
	sleep 0.3
	verdict=$(tail -n +"$((IT_LOG_MARK + 1))" "$IT_DOMSECD_LOG" |
	    grep -o 'verdict=[a-z-]*\( mode=monitor\)\?' | tail -n 1 | sed 's/verdict=//')
	[ -n "$verdict" ] || verdict="(not a partner)"
	removed=$(tail -n +"$((IT_LOG_MARK + 1))" "$IT_DOMSECD_LOG" | grep -c 'removed forged header' || true)
	if [ "$IT_REPLY" = 250 ]; then
		f=$(it_delivered "$IT_ID" 10 || true)
		if [ -z "$f" ]; then
			header="(not delivered?)"
		elif [ "$(it_count_headers "$f" X-Domain-Secured)" -gt 0 ]; then
			header="X-Domain-Secured"
			[ -n "$SHOW_FILE" ] || SHOW_FILE=$f
		else
			header="none"
		fi
		[ "$removed" -gt 0 ] && header="$header ($removed forged removed)"
	fi
	reply=$(short_reply "$IT_REPLY_TEXT")
	LAST_ROW="$title|$reply|$verdict|$header"
	[ "${NO_ROW:-0}" = 1 ] || ROWS+=("$LAST_ROW")
	printf '  %-44s %s\n' "$title" "${reply:0:70}"
}

forged=(
	"X-Domain-Secured: mx.contoso.com; domain=woodgrovebank.com; result=secured"
	"Authentication-Results: mx.contoso.com; x-domainsecurity=pass"
	"Authentication-Results: other.example; spf=pass"
)
wgb=a@woodgrovebank.com

step "Sending"
run_scenario "secured, pinned certificate" pinned "$wgb" exact
run_scenario "secured, certificate found by discovery" discovery "$wgb" onedeep
run_scenario "secured, partner's private root (fabrikam)" fabrikam a@fabrikam.com fabrikam
run_scenario "no TLS" no-tls "$wgb" plain
run_scenario "TLS without a client certificate" no-cert "$wgb" -
run_scenario "certificate from an unknown CA" unknown-ca "$wgb" untrusted
run_scenario "certificate for another name" name-mismatch "$wgb" suffix
run_scenario "revoked certificate" revoked "$wgb" revoked
run_scenario "forged trust headers, partner mail" forged-partner "$wgb" exact "$wgb" "${forged[@]}"
run_scenario "forged trust headers, other mail" forged-other a@example.net plain a@example.net "${forged[@]}"
run_scenario "From header of another domain" unaligned "$wgb" exact "someone@evil.example"
run_scenario "monitor-mode partner without TLS" monitor a@sales.tailspin.com plain
run_scenario "bounce (null sender), From partner" bounce '<>' exact "MAILER-DAEMON@woodgrovebank.com"
run_scenario "non-partner mail" stranger a@example.net plain

step "CRL server failing (HTTP 500), for a partner whose CRL is not cached yet"
it_crl_mode 500
rm -f "$IT_DIR"/crlcache/*
# domsecd keeps CRLs in memory too: restart it so the CRL must be fetched.
it_domsecd_stop
it_domsecd_start
run_scenario "CRL server down" crl-down "$wgb" exact
it_crl_mode ok
echo "  CRL server back; the CRL engine retries a failed URL after CRLRetryBackoff (2 s here), the sender retries..."
for attempt in $(seq 1 12); do
	sleep 1
	NO_ROW=1 run_scenario "CRL server back, retry $attempt" "crl-retry-$attempt" "$wgb" exact
	if [ "$IT_REPLY" = 250 ]; then
		ROWS+=("$LAST_ROW")
		break
	fi
done

step "Results"
row_format='%-44s  %-58s  %-22s  %s\n'
# shellcheck disable=SC2059
printf "$row_format" SCENARIO "SMTP REPLY" VERDICT "HEADER ADDED"
for r in "${ROWS[@]}"; do
	IFS='|' read -r s reply v h <<<"$r"
	# shellcheck disable=SC2059
	printf "$row_format" "$s" "${reply:0:58}" "$v" "$h"
done

if [ -n "$SHOW_FILE" ]; then
	step "Headers of a delivered Domain Secured message (as the next hop got it)"
	it_message_headers "$SHOW_FILE" | fold -w 110 -s | sed 's/^/  /'
fi

step "domsecd's verdict line for it"
grep -m 1 'verdict=secured' "$IT_DOMSECD_LOG" | fold -w 110 -s | sed 's/^/  /'

step "Stopping everything"
it_domsecd_stop
echo "done (work directory $IT_DIR is removed)"
