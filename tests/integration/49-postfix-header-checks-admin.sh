#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 49-postfix-header-checks-admin.sh - review 9: PostfixHeaderChecks under
# Postfix configurations an administrator plausibly has, in which Postfix
# does not apply domsec's table to some mail while domsecd accepts that
# mail at MAIL and so never sees (nor removes) its forged trust headers.
# Every case is non-partner mail with a forged X-Domain-Secured and a
# forged Authentication-Results under our authserv-id; both must be gone.
#   A. the SMTP listener is not named smtp/inet (here 127.0.0.1:PORT; in
#      life also submission, smtps, smtpd/pass behind postscreen) and has
#      -o receive_override_options=no_header_body_checks: postfix-config
#      only looks at main.cf and smtp/inet;
#   B. pickup has -o receive_override_options=no_header_body_checks (the
#      FILTER_README / amavisd-new recipe): local submission keeps them;
#   C. the listener uses a cleanup service of its own with its own
#      header_checks (-o cleanup_service_name=, the common
#      submission_header_cleanup recipe, and what domsec.conf(5) suggests
#      for TrustedRelays);
#   D. another table listed before domsec's in header_checks: its first
#      match wins; postfix-config says "nothing to change" although the
#      man page says the table is listed first;
#   F. the table file emptied after domsecd checked it: Postfix reloads a
#      changed regexp table by itself, domsecd checks only at start/reload;
#   G. (passes) a content filter's re-injection listener without milters
#      and header checks is exempt: domsecd sees none of its mail;
#   E. the table dropped from header_checks (configuration drift): the
#      safeguard (a trust header reaching the milter) never fires, because
#      an attacker sends only non-partner mail, which never reaches it.
# These fail on the commit they were written against (72e83ab).
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
ctl() { "$DOMSEC_BUILD/domsecctl" postfix-config --config "$IT_DIR/domsec.conf" -c "$pf" "$@"; }
forged=(
	"X-Domain-Secured: mx.contoso.com; domain=woodgrovebank.com; result=secured"
	"Authentication-Results: mx.contoso.com; x-domainsecurity=pass"
)
ours_left() {
	it_message_headers "$1" | grep -Eic '^x-domain-secured:|^authentication-results:.*mx.?\\?.contoso' || true
}
svc="127.0.0.1:$IT_SMTPD_PORT/inet"
reload_all() {
	postfix -c "$pf" reload >/dev/null 2>&1
	sleep 2
	it_log_mark
	kill -HUP "$IT_DOMSECD_PID"
	it_log_since "reloaded " 10 || true
}
ctl --apply >"$IT_DIR/apply.out" 2>&1
reload_all
it_check "baseline: domsecd audited Postfix and trusts the table" \
    it_log_since "PostfixHeaderChecks: Postfix applies"
it_send_partner base someone@example.org - someone@example.org "${forged[@]}"
f=$(it_delivered "$IT_ID" || true)
it_expect_eq "baseline: forged headers removed" 0 "$(ours_left "$f")"

# --- A. the listener (not named smtp/inet) skips header checks ------------
postconf -c "$pf" -P "$svc/receive_override_options=no_header_body_checks"
ctl >"$IT_DIR/A.out" 2>&1 && rc=0 || rc=$?
cat "$IT_DIR/A.out" | sed 's/^/# A: /'
it_expect_eq "A: postfix-config refuses no_header_body_checks on $svc" 1 "$rc"
reload_all
it_send_partner A someone@example.org - someone@example.org "${forged[@]}"
f=$(it_delivered "$IT_ID" || true)
it_expect_eq "A: forged headers removed (listener override)" 0 "$(ours_left "$f")"
postconf -c "$pf" -PX "$svc/receive_override_options"

# --- B. pickup skips header checks (FILTER_README / amavis pattern) --------
postconf -c "$pf" -P "pickup/unix/receive_override_options=no_header_body_checks"
ctl >"$IT_DIR/B.out" 2>&1 && rc=0 || rc=$?
it_expect_eq "B: postfix-config refuses no_header_body_checks on pickup" 1 "$rc"
reload_all
{
	printf '%s\n' "From: a@woodgrovebank.com" "To: b@contoso.com" "Subject: local" \
	    "${forged[@]}" "X-Test-Id: local-B" "" "forged"
} | sendmail -C "$pf" -f someone@example.org -t
postfix -c "$pf" flush >/dev/null 2>&1 || true
f=$(it_delivered local-B 30 || true)
it_check "B: delivered" test -n "$f"
it_expect_eq "B: forged headers removed (pickup override)" 0 "$(ours_left "$f")"
postconf -c "$pf" -PX "pickup/unix/receive_override_options"

# --- C. a cleanup service of its own with its own header_checks -----------
# (the common submission_header_cleanup recipe)
printf '%s\n' '/^Received:.*with ESMTPSA/ IGNORE' >"$pf/sub_hc"
echo "subcleanup unix n - n - 0 cleanup" >>"$pf/master.cf"
postconf -c "$pf" -P "subcleanup/unix/header_checks=regexp:$pf/sub_hc"
postconf -c "$pf" -P "$svc/cleanup_service_name=subcleanup"
ctl >"$IT_DIR/C.out" 2>&1 && rc=0 || rc=$?
it_expect_eq "C: postfix-config refuses a cleanup service without the table" 1 "$rc"
reload_all
it_send_partner C someone@example.org - someone@example.org "${forged[@]}"
f=$(it_delivered "$IT_ID" || true)
it_expect_eq "C: forged headers removed (own cleanup service)" 0 "$(ours_left "$f")"
postconf -c "$pf" -PX "$svc/cleanup_service_name"

# --- D. another table listed before domsec's (postfix-config: unchanged) --
printf '%s\n' '/^X-/ WARN' '/^Authentication-Results:/ INFO' >"$pf/admin_hc"
postconf -c "$pf" -e "header_checks = regexp:$pf/admin_hc, regexp:$pf/domsec_header_checks"
ctl >"$IT_DIR/D.out" 2>&1 && rc=0 || rc=$?
it_check "D: postfix-config moves domsec's table first" bash -c "! grep -q 'nothing to change' '$IT_DIR/D.out'"
reload_all
it_send_partner D someone@example.org - someone@example.org "${forged[@]}"
f=$(it_delivered "$IT_ID" || true)
it_expect_eq "D: forged headers removed (table listed second)" 0 "$(ours_left "$f")"

postconf -c "$pf" -e "header_checks = regexp:$pf/domsec_header_checks"
reload_all

# --- G. a content filter's re-injection listener (no milters, no header
# checks: FILTER_README) is exempt; early accepts go on ---------------------
reinject=$(it_free_port)
echo "127.0.0.1:$reinject inet n - n - - smtpd -o smtpd_milters= -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters" >>"$pf/master.cf"
ctl >"$IT_DIR/G.out" 2>&1 && rc=0 || rc=$?
it_expect_eq "G: postfix-config accepts a re-injection listener without milters" 0 "$rc"
reload_all
it_send_partner G someone@example.org - someone@example.org "${forged[@]}"
f=$(it_delivered "$IT_ID" || true)
it_expect_eq "G: forged headers removed" 0 "$(ours_left "$f")"
it_check "G: still accepted at MAIL" it_log_since "accepted at MAIL"
postconf -c "$pf" -MX "127.0.0.1:$reinject/inet"
reload_all

# --- F. the table file weakened after domsecd checked it (no reload) -----
cp "$pf/domsec_header_checks" "$IT_DIR/table.good"
printf '# emptied\n' >"$pf/domsec_header_checks"
it_send_partner F1 someone@example.org - someone@example.org "${forged[@]}"
it_send_partner F someone@example.org - someone@example.org "${forged[@]}"
f=$(it_delivered "$IT_ID" || true)
it_expect_eq "F: forged headers removed (table emptied after domsecd's check)" 0 "$(ours_left "$f")"
cp "$IT_DIR/table.good" "$pf/domsec_header_checks"

# --- E. table not in header_checks; the attacker never sends partner mail -
postconf -c "$pf" -e "header_checks ="
reload_all
it_send_partner E someone@example.org - someone@example.org "${forged[@]}"
f=$(it_delivered "$IT_ID" || true)
it_expect_eq "E: forged headers removed (table not in header_checks)" 0 "$(ours_left "$f")"
it_check "E: domsecd noticed (main.cf changed: audited again)" \
    grep -q "PostfixHeaderChecks: header_checks in $pf/main.cf () does not list" "$IT_DOMSECD_LOG"

it_postfix_stop
it_domsecd_clean
it_finish
