#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 46-constraints-and-shards.sh - issue 7 end to end, through a private
# Postfix with domsecd, swaks as the partner's MTA and the CRL server:
#   - a sub-CA name-constrained to allowed.example issues SAN
#     mail.allowed.example + CN woodgrovebank.com: never secured for
#     woodgrovebank.com (untrusted, the reason names the constraint);
#   - a serverAuth-only certificate (what public CAs issue since 2026) is a
#     valid SMTP client certificate: secured;
#   - the shard swap: a revoked certificate whose distribution point is
#     answered with another current, validly signed partition of the same
#     CA is not secured ("CRL scope mismatch", 451), and once the right
#     partition is served it is revoked (550).
set -eu
. "$DOMSEC_TOP/tests/integration/lib-postfix.sh"

it_mail_setup
it_starttls_start "$IT_PKI/onedeep-chain.pem" "$IT_PKI/onedeep.key"
it_domsecd_config "woodgrovebank.com mode=enforce"
echo "ChainFile         $IT_PKI/nc-inter.pem" >>"$IT_DIR/domsec.conf"
for leaf in nccn serveronly shard1; do
	it_pin "$leaf"
done
it_domsecd_start
it_postfix_start

wgb=a@woodgrovebank.com

# --- the constrained CA's CN --------------------------------------------------
it_log_mark
it_send_partner constrained-cn "$wgb" nccn
it_expect_eq "constrained CA, CN woodgrovebank.com: SMTP reply" 550 "$IT_REPLY"
it_check "constrained CA: reply names the domain ($IT_REPLY_TEXT)" \
    grep -q "woodgrovebank.com" <<<"$IT_REPLY_TEXT"
it_check "constrained CA: verdict untrusted logged" \
    it_log_since "verdict=untrusted .*domain=woodgrovebank.com"
it_check "constrained CA: the reason names the constraint" \
    it_log_since "permitted dNSName constraint allowed.example"
it_check "constrained CA: nothing delivered" test -z "$(it_delivered "$IT_ID" 1 || true)"

# --- a serverAuth-only certificate as client certificate ---------------------
it_log_mark
it_send_partner serveronly "$wgb" serveronly
it_expect_eq "serverAuth-only certificate: SMTP reply" 250 "$IT_REPLY"
f=$(it_delivered "$IT_ID" || true)
it_check "serverAuth-only certificate: delivered" test -n "$f"
it_check "serverAuth-only certificate: tagged secured" \
    test "$(it_count_headers "$f" X-Domain-Secured 'result=secured')" = 1

# --- the shard swap ----------------------------------------------------------
it_crl_mode shard
it_log_mark
it_send_partner shard-swap "$wgb" shard1
it_expect_eq "shard swap: SMTP reply (never secured)" 451 "$IT_REPLY"
it_check "shard swap: verdict revocation-unavailable logged" \
    it_log_since "verdict=revocation-unavailable .*domain=woodgrovebank.com"
it_check "shard swap: the log says CRL scope mismatch" it_log_since "CRL scope mismatch"
it_check "shard swap: nothing delivered" test -z "$(it_delivered "$IT_ID" 1 || true)"
# (a failed download leaves a .meta with its URL and error, but no copy:
# no sha256 line; issue 10, so that `domsecctl crl list` shows it)
it_check "shard swap: the wrong partition was not cached" \
    bash -c "! grep -ls 'shard1.crl' '$IT_DIR/crlcache'/*.meta |
        xargs -r grep -qs '^sha256 '"
it_crl_mode ok
# the failed URL is asked again after CRLRetryBackoff (2 s)
for attempt in $(seq 1 12); do
	it_log_mark
	it_send_partner "shard-right-$attempt" "$wgb" shard1
	[ "$IT_REPLY" = 550 ] && break
	sleep 1
done
it_expect_eq "right partition: SMTP reply" 550 "$IT_REPLY"
it_check "right partition: verdict revoked logged" \
    it_log_since "verdict=revoked .*domain=woodgrovebank.com"

it_check "domsecd still running" kill -0 "$IT_DOMSECD_PID"
it_domsecd_clean
it_finish
