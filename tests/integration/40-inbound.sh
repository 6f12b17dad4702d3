#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 40-inbound.sh - inbound Domain Security end to end: a private Postfix
# (configured from contrib/postfix-main.cf) with domsecd as milter and
# policy service, swaks as the partner's MTA, the CRL server, a STARTTLS
# listener for certificate discovery and an smtp-sink that keeps every
# delivered message.  Each scenario checks the SMTP reply, the delivered
# headers (for accepted mail) and the verdict domsecd logged.
set -eu
. "$DOMSEC_TOP/tests/integration/lib-postfix.sh"

it_mail_setup
# Certificate discovery target: "the client's MTA" on 127.0.0.1 serves the
# onedeep certificate (mail1.woodgrovebank.com), which is not pinned.
it_starttls_start "$IT_PKI/onedeep-chain.pem" "$IT_PKI/onedeep.key"
it_domsecd_config \
    "woodgrovebank.com mode=enforce" \
    "fabrikam.com mode=enforce ca=$IT_PKI/private-root.pem" \
    "sales.tailspin.com mode=monitor"
for leaf in exact revoked suffix untrusted fabrikam; do
	it_pin "$leaf"
done
it_domsecd_start
it_postfix_start

wgb=a@woodgrovebank.com

# --- CRL server down: 4xx, then back: the retry is delivered and tagged ----
it_crl_outage

# --- secured with a pinned certificate ------------------------------------
it_log_mark
it_send_partner pinned "$wgb" exact
it_expect_eq "pinned: SMTP reply" 250 "$IT_REPLY"
f=$(it_delivered "$IT_ID" || true)
it_check "pinned: delivered" test -n "$f"
hdrs=$(it_message_headers "$f")
it_check "pinned: X-Domain-Secured names the domain" grep -q '^X-Domain-Secured: .*domain=woodgrovebank.com' <<<"$hdrs"
it_check "pinned: X-Domain-Secured carries the fingerprint" grep -q "fingerprint=$(it_fp exact)" <<<"$hdrs"
it_check "pinned: Authentication-Results under our authserv-id" \
    grep -q '^Authentication-Results: mx.contoso.com; x-domainsecurity=pass' <<<"$hdrs"
first_received=$(grep -n '^Received:' <<<"$hdrs" | head -n 1 | cut -d: -f1)
our_line=$(grep -n '^X-Domain-Secured:' <<<"$hdrs" | head -n 1 | cut -d: -f1)
it_check "pinned: X-Domain-Secured above Postfix's Received line ($our_line < $first_received)" \
    test "${our_line:-99}" -lt "${first_received:-0}"
it_check "pinned: no Exchange headers unless ExchangeHeaders is on" bash -c "! grep -qi '^X-MS-Exchange' <<<\"\$1\"" _ "$hdrs"
it_check "pinned: our headers at the very top" grep -Eq '^(X-Domain-Secured|Authentication-Results):' <<<"$(head -n 1 <<<"$hdrs")"
it_check "pinned: verdict secured (source pinned) logged" it_log_since "verdict=secured .*domain=woodgrovebank.com .*source=pinned"
it_expect_eq "pinned: one verdict line for the message" 1 "$(it_log_count 'verdict=')"

# --- secured through discovery --------------------------------------------
it_log_mark
it_send_partner discovery "$wgb" onedeep
it_expect_eq "discovery: SMTP reply" 250 "$IT_REPLY"
f=$(it_delivered "$IT_ID" || true)
it_check "discovery: delivered and tagged" test "$(it_count_headers "$f" X-Domain-Secured "fingerprint=$(it_fp onedeep)")" = 1
it_check "discovery: verdict secured (source discovered) logged" it_log_since "verdict=secured .*source=discover"
it_check "discovery: the STARTTLS listener was probed" grep -qi 'starttls\|connect' "$IT_DIR/probe.log"

# --- the verdict table: refusals, partners, alignment, monitor, strangers ---
it_scenarios <<'EOF'
# label        sender               cert      from                            reply verdict        tags
no-tls         a@woodgrovebank.com  plain     =                               530   no-tls         -
no-cert        a@woodgrovebank.com  -         =                               550   no-certificate -
unknown-ca     a@woodgrovebank.com  untrusted =                               550   untrusted      -
name-mismatch  a@woodgrovebank.com  suffix    =                               550   name-mismatch  -
revoked        a@woodgrovebank.com  revoked   =                               550   revoked        -
fabrikam       a@fabrikam.com       fabrikam  =                               250   secured        1
unaligned      a@woodgrovebank.com  exact     someone@evil.example            250   unaligned      0
monitor        a@sales.tailspin.com plain     =                               250   no-tls         0
stranger       a@example.net        plain     =                               250   none           0
bounce-secured <>                   exact     MAILER-DAEMON@woodgrovebank.com 250   secured        1
bounce-nocert  <>                   -         MAILER-DAEMON@woodgrovebank.com 550   no-certificate -
EOF
it_check "monitor: the verdict line says mode=monitor" \
    it_domsecd_logged "verdict=no-tls mode=monitor .*domain=sales.tailspin.com"
f=$(it_delivered "$(it_scenario_id stranger)" || true)
it_expect_eq "stranger: no Authentication-Results added" 0 "$(it_count_headers "$f" Authentication-Results)"

# --- forged trust headers ---------------------------------------------------
forged=(
	"X-Domain-Secured: mx.contoso.com; domain=woodgrovebank.com; result=secured; forged=1"
	"Authentication-Results: mx.contoso.com; x-domainsecurity=pass forged=2"
	"Authentication-Results: (unterminated comment mx.contoso.com x-domainsecurity=pass"
	"Authentication-Results: other.example; spf=pass smtp.mailfrom=example.net"
	"X-Domain-Secured: garbage that does not parse"
)
it_log_mark
it_send_partner forged-partner "$wgb" exact "$wgb" "${forged[@]}"
it_expect_eq "forged headers on partner mail: SMTP reply" 250 "$IT_REPLY"
f=$(it_delivered "$IT_ID" || true)
it_check "forged headers on partner mail: delivered" test -n "$f"
it_expect_eq "forged headers on partner mail: one X-Domain-Secured (ours)" 1 "$(it_count_headers "$f" X-Domain-Secured)"
it_expect_eq "forged headers on partner mail: no forged X-Domain-Secured left" 0 "$(it_count_headers "$f" X-Domain-Secured 'forged=1\|garbage')"
it_expect_eq "forged headers on partner mail: one Authentication-Results of ours" 1 "$(it_count_headers "$f" Authentication-Results 'mx.contoso.com')"
it_expect_eq "forged headers on partner mail: the other party's Authentication-Results kept" 1 "$(it_count_headers "$f" Authentication-Results 'other.example; spf=pass')"
it_check "forged headers on partner mail: removals logged in one line" \
    test "$(it_log_count 'removing 4 forged trust header')" -eq 1

it_log_mark
it_send_partner forged-stranger a@example.net plain a@example.net "${forged[@]}"
it_expect_eq "forged headers on non-partner mail: SMTP reply" 250 "$IT_REPLY"
f=$(it_delivered "$IT_ID" || true)
it_check "forged headers on non-partner mail: delivered" test -n "$f"
it_expect_eq "forged headers on non-partner mail: no X-Domain-Secured" 0 "$(it_count_headers "$f" X-Domain-Secured)"
it_expect_eq "forged headers on non-partner mail: no Authentication-Results of ours" 0 "$(it_count_headers "$f" Authentication-Results 'mx.contoso.com')"
it_expect_eq "forged headers on non-partner mail: the other party's kept" 1 "$(it_count_headers "$f" Authentication-Results 'other.example')"
it_check "forged headers on non-partner mail: removals logged in one line" \
    test "$(it_log_count 'removing 4 forged trust header')" -eq 1

# --- domsecd stayed up through all of it ---------------------------------------
it_check "domsecd still running" kill -0 "$IT_DOMSECD_PID"
it_domsecd_clean

# --- the counters domsecd saved (domsecctl counters) -------------------------
counters=$("$DOMSEC_BUILD/domsecctl" counters --config "$IT_DIR/domsec.conf" 2>&1 || true)
counter() { awk -v n="$1" 'index($0, n) == 1 { print $NF }' <<<"$counters"; }
it_expect_eq "counters: Domain-Secured Messages Received (6 tagged above)" 6 "$(counter 'Domain-Secured Messages Received')"
it_expect_eq "counters: forged trust headers removed (4 + 4)" 8 "$(counter 'Forged Trust Headers Removed')"
it_expect_eq "counters: verdict revoked" 1 "$(counter 'verdict revoked')"
it_expect_eq "counters: verdict unaligned" 1 "$(counter 'verdict unaligned')"
it_expect_eq "counters: verdict no-tls (enforce and monitor)" 2 "$(counter 'verdict no-tls')"
it_finish
