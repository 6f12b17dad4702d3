#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 43-postfix-milter-only.sh - Postfix with domsecd's milter but without its
# policy service: Postfix hands a milter no certificate fingerprint, so the
# certificate of a partner cannot be bound to the session.  domsecd must say
# so honestly (unknown-certificate, 451 4.7.5, and a log line naming the
# fix), while what the macros do tell (no TLS, forged headers) still works.
set -eu
. "$DOMSEC_TOP/tests/integration/lib-postfix.sh"

it_mail_setup
it_domsecd_config "woodgrovebank.com mode=enforce"
it_pin exact
it_domsecd_start
IT_POSTFIX_EXTRA="smtpd_recipient_restrictions = reject_unauth_destination"
it_postfix_start

it_log_mark
it_send_partner pinned-no-policy a@woodgrovebank.com exact
it_expect_eq "certificate without a fingerprint: deferred" 451 "$IT_REPLY"
it_check "the reply is 4.7.5 ($IT_REPLY_TEXT)" grep -q '^451 4.7.5' <<<"$IT_REPLY_TEXT"
it_check "verdict unknown-certificate logged" it_log_since "verdict=unknown-certificate .*domain=woodgrovebank.com"
it_check "the log names the fix (check_policy_service)" it_log_since "check_policy_service"

it_log_mark
it_send_partner plain-no-policy a@woodgrovebank.com plain
it_expect_eq "no TLS: refused by the milter at MAIL" 530 "$IT_REPLY"
it_check "verdict no-tls logged" it_log_since "verdict=no-tls .*domain=woodgrovebank.com"

it_log_mark
it_send_partner stranger-no-policy a@example.net plain a@example.net \
    "X-Domain-Secured: forged" "Authentication-Results: mx.contoso.com; x-domainsecurity=pass"
it_expect_eq "non-partner: accepted" 250 "$IT_REPLY"
f=$(it_delivered "$IT_ID" || true)
it_check "non-partner: delivered" test -n "$f"
it_expect_eq "non-partner: forged X-Domain-Secured removed" 0 "$(it_count_headers "$f" X-Domain-Secured)"
it_expect_eq "non-partner: forged Authentication-Results removed" 0 "$(it_count_headers "$f" Authentication-Results)"
it_domsecd_clean
it_finish
