#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 45-sendmail-miltertest.sh - Sendmail's vocabulary ({verify}, full-DN
# {cert_subject}/{cert_issuer}, {cert_fp}) through domsecd's milter, driven
# by miltertest (the scripts in tests/miltertest/, which send the macros
# the way real Sendmail does: see tests/miltertest/common.lua and the real
# thing in 48-sendmail-real.sh), with the CRL server and the test PKI.
# No Postfix: it also runs against the sanitizer build.
# sanitize: yes
set -eu
. "$DOMSEC_TOP/tests/integration/lib-postfix.sh"

it_pki_setup
it_ports
it_domsecd_config "woodgrovebank.com mode=enforce"
for leaf in exact untrusted; do
	it_pin "$leaf"
done
# Sendmail has no policy service; no discovery probes of 192.0.2.x.
sed -i -e '/^PolicySocket/d' -e 's/^Discovery .*/Discovery no/' "$IT_DIR/domsec.conf"
# An internal relay whose trust headers are kept (sendmail-trusted-relay.lua).
echo "TrustedRelays 192.0.2.99/32" >>"$IT_DIR/domsec.conf"
# Exchange's organisation headers for sites that hand mail on to Exchange
# (sendmail-verify-ok.lua checks them; 40-inbound.sh checks they are off by
# default).
echo "ExchangeHeaders yes" >>"$IT_DIR/domsec.conf"
it_domsecd_start

export DOMSEC_MILTER="inet:$IT_MILTER_PORT@127.0.0.1"
export FP_EXACT FP_EXACT_PLAIN FP_UNTRUSTED
FP_EXACT=$(it_fp exact)
FP_EXACT_PLAIN=$(it_fp exact | tr -d ':' | tr 'A-F' 'a-f')
FP_UNTRUSTED=$(it_fp untrusted)

for script in "$DOMSEC_TOP"/tests/miltertest/sendmail-*.lua; do
	name=$(basename "$script" .lua)
	it_log_mark
	if out=$(miltertest -s "$script" 2>&1); then
		grep '^ok - ' <<<"$out" | sed "s/^ok - /ok - $name: /"
	else
		echo "$out" | sed 's/^/    /'
		it_not_ok "$name: miltertest failed"
	fi
done

# What domsecd negotiates, read as an MTA sees it (milter/negotiate.h):
# header actions (and the macro lists); replies only where it may refuse
# (connect, MAIL, RCPT, end of message), none for HELO and each header;
# no DATA, end of headers, body or unknown commands; per stage only the
# macros it reads.
neg=$(python3 "$DOMSEC_TOP/tests/milter_negotiate.py" "$DOMSEC_MILTER")
echo "$neg" | sed 's/^/# negotiated: /'
it_expect_eq "negotiation: actions add and change headers, set macro lists" \
    "actions 0x111" "$(grep '^actions' <<<"$neg")"
# NOBODY 0x10, NOEOH 0x40, NR_HDR 0x80, NOUNKNOWN 0x100, NODATA 0x200,
# NR_HELO 0x2000
it_expect_eq "negotiation: no reply for HELO and headers; no DATA, EOH, body, unknown" \
    "protocol 0x23d0" "$(grep '^protocol' <<<"$neg")"
it_expect_eq "negotiation: connect macros (v and the binding: is the MTA the audited Postfix)" \
    "macros.0 {client_addr} {client_port} v {domsec_header_checks}" "$(grep '^macros.0 ' <<<"$neg")"
it_check "negotiation: HELO and MAIL macros are the TLS ones" \
    test "$(grep -c '^macros.[12] {tls_version} {cipher} {cipher_bits} {cert_subject}' <<<"$neg")" = 2
it_expect_eq "negotiation: end-of-message macro is the queue id" \
    "macros.5 i" "$(grep '^macros.5 ' <<<"$neg")"
it_expect_eq "negotiation: an MTA that cannot change headers is refused" \
    closed "$(python3 "$DOMSEC_TOP/tests/milter_negotiate.py" "$DOMSEC_MILTER" 0x1ef)"

# The verdicts behind those replies, from domsecd's log.
it_check "verdict secured logged for {cert_fp}" it_domsecd_logged "verdict=secured .*client=192.0.2.10:40001"
it_check "verdict untrusted logged for {verify}=FAIL" it_domsecd_logged "verdict=untrusted .*client=192.0.2.11:40002"
it_check "verdict no-certificate logged for {verify}=NO" it_domsecd_logged "verdict=no-certificate .*client=192.0.2.12:40003"
it_check "verdict no-tls logged without TLS macros" it_domsecd_logged "verdict=no-tls .*client=192.0.2.20:40010"
it_check "verdict secured logged for the IPv6 client (IPv6:0:0:0:0:0:0:0:1) as [::1]" \
    it_domsecd_logged "verdict=secured .*client=\\[::1\\]:40061"
it_check "verdict unknown-certificate logged without {cert_fp}" it_domsecd_logged "verdict=unknown-certificate .*client=192.0.2.30:40020"
it_check "the refusals carry the verdict's reply codes" \
    it_domsecd_logged "rejected at MAIL for woodgrovebank.com: 550 5.7.1"
it_check "no TLS refused with 530 5.7.0" it_domsecd_logged "rejected at MAIL for woodgrovebank.com: 530 5.7.0"
it_check "unknown certificate deferred with 451 4.7.5" it_domsecd_logged "deferred at RCPT for woodgrovebank.com: 451 4.7.5"
it_check "trusted relay: keeping its headers logged" it_domsecd_logged "192.0.2.99.* trusted relay: keeping its 2 trust header"
it_check "50 forged copies removed, logged in one summary line" \
    it_domsecd_logged "192.0.2.51.*removing 50 forged trust header\(s\): 50 X-Domain-Secured"
it_check "partner bounce refused at end of message" \
    it_domsecd_logged "192.0.2.52.*rejected at end of message for woodgrovebank.com: 530 5.7.0"
it_check "forged headers removal logged" it_domsecd_logged "removing [0-9]+ forged trust header\(s\)"
kill -HUP "$IT_DOMSECD_PID"
it_check "SIGHUP is logged" it_domsecd_logged "SIGHUP: "
it_check "domsecd still running (after SIGHUP too)" kill -0 "$IT_DOMSECD_PID"
it_check "the milter still answers after SIGHUP" it_wait_port "$IT_MILTER_PORT"
it_domsecd_clean
it_finish
