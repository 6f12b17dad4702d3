#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 49-postfix-header-checks.sh - PostfixHeaderChecks against a real Postfix:
# Postfix's own header_checks (the table `domsecctl postfix-config` writes)
# remove forged trust headers, and domsecd leaves mail it will not tag at
# MAIL, before its headers cross the milter connection.
#   - while the table is missing, domsecd says so and removes trust headers
#     itself from every message (fail safe);
#   - postfix-config writes the table, lists it first in header_checks,
#     keeps nested_header_checks off it, and a second run changes nothing;
#     after a reload domsecd trusts it;
#   - non-partner mail with every forged variant (case, comment, trailing
#     dot, quoted-pair, folding) arrives without them, a foreign
#     Authentication-Results stays, and domsecd saw only MAIL;
#   - local submission (sendmail -t) loses them too;
#   - partner mail is tagged once: our own headers survive the table;
#   - in one session, partner mail after mail accepted early is tagged;
#   - the table dropped from header_checks after domsecd audited Postfix:
#     main.cf changed, so the next MAIL audits again, fails, logs it, and
#     nothing is accepted early (the milter removes them);
#   - receive_override_options = no_header_body_checks is refused.
set -eu
. "$DOMSEC_TOP/tests/integration/lib-postfix.sh"

it_mail_setup
it_domsecd_config "woodgrovebank.com mode=enforce"
it_pin exact
pf=$IT_DIR/postfix/etc
echo "PostfixHeaderChecks $pf/domsec_header_checks" >>"$IT_DIR/domsec.conf"
it_domsecd_start
IT_POSTFIX_EXTRA="non_smtpd_milters = inet:127.0.0.1:$IT_MILTER_PORT
local_header_rewrite_clients ="
it_postfix_start
wgb=a@woodgrovebank.com
ctl() { "$DOMSEC_BUILD/domsecctl" postfix-config --config "$IT_DIR/domsec.conf" -c "$pf" "$@"; }

forged=(
	"X-Domain-Secured: mx.contoso.com; domain=woodgrovebank.com; result=secured"
	"x-DOMAIN-secured: mx.contoso.com; domain=woodgrovebank.com"
	"Authentication-Results: mx.contoso.com; x-domainsecurity=pass"
	"Authentication-Results: (relay) MX.Contoso.COM.; x-domainsecurity=pass"
	'Authentication-Results: "mx\.contoso\.com"; x-domainsecurity=pass'
	$'Authentication-Results:\r\n\tmx.contoso.com;\r\n\tx-domainsecurity=pass'
	"Authentication-Results: other.example; spf=pass smtp.mailfrom=example.org"
)
# ours_left FILE: trust headers of ours in the delivered message.
ours_left() {
	it_message_headers "$1" | grep -Eic '^x-domain-secured:|^authentication-results:.*mx.?\\?.contoso' || true
}

# --- 1. no table yet: domsecd says so and removes them itself --------------
it_check "no table: logged as an error at start" \
    grep -q "PostfixHeaderChecks: $pf/domsec_header_checks: missing" "$IT_DOMSECD_LOG"
it_log_mark
it_send_partner untabled someone@example.org - someone@example.org "${forged[@]}"
it_expect_eq "no table: non-partner mail accepted" 250 "$IT_REPLY"
f=$(it_delivered "$IT_ID" || true)
it_check "no table: delivered" test -n "$f"
it_expect_eq "no table: every forged trust header removed by the milter" 0 "$(ours_left "$f")"
it_expect_eq "no table: not accepted early (fail safe)" 0 "$(it_log_count 'accepted at MAIL')"

# --- 2. postfix-config writes the table -------------------------------------
ctl >"$IT_DIR/dry.out" 2>&1 && rc=0 || rc=$?
sed 's/^/# dry: /' "$IT_DIR/dry.out"
it_expect_eq "dry run exits 0" 0 "$rc"
it_check "dry run writes nothing" test ! -e "$pf/domsec_header_checks"
it_check "dry run shows the table" grep -qF "#   /^X[-]Domain[-]Secured[[:space:]]*:/ IGNORE" "$IT_DIR/dry.out"
it_check "dry run puts it first in header_checks" \
    grep -q "^postconf -c '$pf' -e 'header_checks = regexp:$pf/domsec_header_checks'\$" "$IT_DIR/dry.out"
it_check "dry run binds the instance (milter_macro_defaults)" \
    grep -q "^postconf -c '$pf' -e 'milter_macro_defaults = domsec_header_checks=$pf/domsec_header_checks'\$" "$IT_DIR/dry.out"
ctl --apply >"$IT_DIR/apply.out" 2>&1 && rc=0 || rc=$?
it_expect_eq "--apply exits 0" 0 "$rc"
it_check "the table is written" test -s "$pf/domsec_header_checks"
it_expect_eq "header_checks" "regexp:$pf/domsec_header_checks" "$(postconf -c "$pf" -h header_checks)"
it_expect_eq "nested_header_checks no longer follows it" "" "$(postconf -c "$pf" -h nested_header_checks)"
it_check "postfix check is clean" bash -c "! postfix -c '$pf' check 2>&1 | grep -q ."
ctl >"$IT_DIR/again.out" 2>&1 || true
it_check "a second run changes nothing" grep -q "nothing to change" "$IT_DIR/again.out"
it_check "check-config shows the audit passing" \
    bash -c "'$DOMSEC_BUILD/domsecctl' check-config --config '$IT_DIR/domsec.conf' | grep -q 'PostfixHeaderChecks .*audit passed'"
postfix -c "$pf" reload >/dev/null 2>&1
it_log_mark
kill -HUP "$IT_DOMSECD_PID"
it_check "domsecd reloaded" it_log_since "reloaded " 10
it_check "domsecd audited Postfix and trusts the table now" \
    it_log_since "PostfixHeaderChecks: Postfix applies $pf/domsec_header_checks to every message"

# --- 3. non-partner mail: Postfix removes them, domsecd sees only MAIL ------
it_log_mark
it_send_partner tabled someone@example.org - someone@example.org "${forged[@]}"
it_expect_eq "table: non-partner mail accepted" 250 "$IT_REPLY"
f=$(it_delivered "$IT_ID" || true)
it_check "table: delivered" test -n "$f"
it_expect_eq "table: every forged trust header removed by Postfix" 0 "$(ours_left "$f")"
it_check "table: the foreign Authentication-Results is kept" \
    grep -q '^Authentication-Results: other.example; spf=pass' <(it_message_headers "$f")
it_check "table: domsecd accepted at MAIL" it_log_since "<someone@example.org> will not be tagged and Postfix removes trust headers: accepted at MAIL"
it_expect_eq "table: domsecd removed nothing itself" 0 "$(it_log_count 'forged trust header')"
it_send_partner tabled-plain someone@example.org plain someone@example.org "${forged[2]}"
f=$(it_delivered "$IT_ID" || true)
it_expect_eq "table, no TLS: removed" 0 "$(ours_left "$f")"

# --- 4. local submission ---------------------------------------------------
it_log_mark
{
	printf '%s\n' "From: $wgb" "To: b@contoso.com" "Subject: local" "${forged[0]}" \
	    "${forged[2]}" "${forged[3]}" "X-Test-Id: local-table" "" "forged"
} | sendmail -C "$pf" -f "$wgb" -t
postfix -c "$pf" flush >/dev/null 2>&1 || true
f=$(it_delivered local-table 30 || true)
it_check "local submission: delivered" test -n "$f"
it_expect_eq "local submission: forged trust headers removed" 0 "$(ours_left "$f")"
it_check "local submission: accepted at MAIL" it_log_since "accepted at MAIL"

# --- 5. partner mail: our headers survive the table -------------------------
it_log_mark
it_send_partner partner "$wgb" exact "$wgb" "${forged[0]}" "${forged[2]}"
it_expect_eq "partner: accepted" 250 "$IT_REPLY"
f=$(it_delivered "$IT_ID" || true)
it_expect_eq "partner: one X-Domain-Secured, ours" 1 "$(it_count_headers "$f" X-Domain-Secured "fingerprint=$(it_fp exact)")"
it_expect_eq "partner: no other X-Domain-Secured" 1 "$(it_count_headers "$f" X-Domain-Secured '')"
it_expect_eq "partner: one Authentication-Results of ours" 1 "$(it_count_headers "$f" Authentication-Results 'mx.contoso.com; x-domainsecurity=pass')"
it_check "partner: verdict secured" it_log_since "verdict=secured .*domain=woodgrovebank.com"
it_expect_eq "partner: no doubt about the table" 0 "$(it_log_count 'reached the milter')"

# --- 6. one session: accepted early, then partner mail, and again ---------
ids=$(python3 "$DOMSEC_TOP/tests/smtp_session.py" --host 127.0.0.1 --port "$IT_SMTPD_PORT" \
    --cert "$IT_PKI/exact.pem" --key "$IT_PKI/exact.key" \
    someone@example.org "$wgb" someone@example.org "$wgb" 2>"$IT_DIR/session.err") || ids=""
set -- $ids
it_expect_eq "one session: four messages accepted" 4 "$#"
if [ "$#" = 4 ]; then
	n=0
	for id in "$@"; do
		n=$((n + 1))
		f=$(it_delivered "$id" || true)
		want=$(( n % 2 == 0 ? 1 : 0 ))
		it_expect_eq "one session, message $n: tagged $want time(s), no forgery" \
		    "$want" "$(it_count_headers "$f" X-Domain-Secured '')"
		[ "$want" = 1 ] && it_expect_eq "one session, message $n: ours" 1 \
		    "$(it_count_headers "$f" X-Domain-Secured "fingerprint=$(it_fp exact)")"
	done
fi

# --- 7. the table dropped from header_checks: audited again, not trusted ----
postconf -c "$pf" -e "header_checks ="
postfix -c "$pf" reload >/dev/null 2>&1
sleep 1
it_log_mark
it_send_partner unused2 someone@example.org - someone@example.org "${forged[@]}"
it_check "unused table: the audit says so" \
    it_log_since "PostfixHeaderChecks: header_checks in $pf/main.cf \(\) does not list regexp:$pf/domsec_header_checks first"
f=$(it_delivered "$IT_ID" || true)
it_expect_eq "unused table, non-partner mail: removed by the milter" 0 "$(ours_left "$f")"
it_send_partner unused "$wgb" exact "$wgb" "${forged[0]}"
f=$(it_delivered "$IT_ID" || true)
it_expect_eq "unused table, partner: tagged once, forgery removed" 1 "$(it_count_headers "$f" X-Domain-Secured '')"
it_expect_eq "unused table: nothing accepted early after that" 0 "$(it_log_count 'accepted at MAIL')"

# --- 8. header checks turned off for mail from the network: refused ---------
postconf -c "$pf" -e "receive_override_options = no_header_body_checks"
ctl >"$IT_DIR/override.out" 2>&1 && rc=0 || rc=$?
it_expect_eq "no_header_body_checks: postfix-config exits 1" 1 "$rc"
it_check "no_header_body_checks: it says why" grep -q "forged trust headers would survive" "$IT_DIR/override.out"
postconf -c "$pf" -X receive_override_options

it_postfix_stop
it_domsecd_clean
it_finish
