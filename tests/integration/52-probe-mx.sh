#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 52-probe-mx.sh - `domsecctl probe DOMAIN` through MX records (answered by
# tests/dns_server.py, named with --nameserver) to STARTTLS servers on
# 127.0.0.1 and 127.0.0.2: the whitepaper-style certificate block, the
# verdict per server, the policy domsecd would answer, --json, and the exit
# statuses (0 all verified, 1 a definitive failure, 75 only temporary ones);
# then `domsecctl sendmail-access`.
# sanitize: yes
set -eu
. "$DOMSEC_TOP/tests/integration/lib-postfix.sh"

it_pki_setup
ctl=$DOMSEC_BUILD/domsecctl

# Two STARTTLS servers on one port number: 127.0.0.1 (good certificate) and
# 127.0.0.2 (revoked certificate).
start_tls() { # ADDR LEAF NAME [PORT]
	python3 "$DOMSEC_TOP/tests/starttls_server.py" --cert "$IT_PKI/$2-chain.pem" \
	    --key "$IT_PKI/$2.key" --bind "$1" --port "${4:-0}" \
	    --port-file "$IT_DIR/$3.port" >"$IT_DIR/$3.out" 2>&1 &
	it_track_pid $!
	it_wait_file "$IT_DIR/$3.port"
}
start_tls 127.0.0.1 exact good
PORT=$(cat "$IT_DIR/good.port")
start_tls 127.0.0.2 revoked revoked "$PORT"

python3 "$DOMSEC_TOP/tests/dns_server.py" --port-file "$IT_DIR/dns.port" \
    --record "good.test MX 10 mx1.good.test" \
    --record "mx1.good.test A 127.0.0.1" \
    --record "mixed.test MX 10 mx1.good.test" \
    --record "mixed.test MX 20 mx2.mixed.test" \
    --record "mx2.mixed.test A 127.0.0.2" \
    --record "revoked.test MX 5 mx2.mixed.test" \
    --record "implicit.test A 127.0.0.1" \
    --servfail broken.test >"$IT_DIR/dns.out" 2>&1 &
it_track_pid $!
it_wait_file "$IT_DIR/dns.port"
NS=127.0.0.1:$(cat "$IT_DIR/dns.port")
FP_GOOD=$(openssl x509 -in "$IT_PKI/exact.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
FP_REVOKED=$(openssl x509 -in "$IT_PKI/revoked.pem" -noout -fingerprint -sha256 | sed 's/.*=//')

probe() { # probe ARGS... -> $out, $rc
	rc=0
	out=$("$ctl" probe --ca "$IT_PKI/root.pem" --nameserver "$NS" --port "$PORT" \
	    --timeout 5s "$@" 2>&1) || rc=$?
}

# ---- one good MX --------------------------------------------------------------
probe --domain woodgrovebank.com good.test
it_expect_eq "good MX: exit status" 0 "$rc"
it_check "good MX: the whitepaper's certificate block" \
    grep -q '^  \*Received certificate$' <<<"$out"
it_check "good MX: subject line" grep -q '^  \*CN=woodgrovebank.com, Certificate subject$' <<<"$out"
it_check "good MX: issuer line" \
    grep -q '^  \*CN=domsec Test Issuing CA, O=domsec tests, Certificate issuer name$' <<<"$out"
it_check "good MX: alternate names line" \
    grep -q '^  \*woodgrovebank.com, Certificate alternate names$' <<<"$out"
it_check "good MX: SHA-256 fingerprint as openssl computes it" \
    grep -q "^  \*$FP_GOOD, Certificate SHA-256 fingerprint\$" <<<"$out"
it_check "good MX: MX host and preference shown" \
    grep -q "^mx1.good.test \[127.0.0.1\]:$PORT (MX preference 10)\$" <<<"$out"
it_check "good MX: verdict secured" grep -q '^  verdict: secured for woodgrovebank.com' <<<"$out"
it_check "good MX: CRL consulted" grep -q '^  CRL http://127.0.0.1:[0-9]*/inter.crl (fetched' <<<"$out"
it_check "good MX: the policy domsecd would answer pins it" \
    grep -q "answer (enforce mode): OK fingerprint match=$FP_GOOD\$" <<<"$out"

# ---- the domain's own name as the partner domain: name mismatch ------------------
probe good.test
it_expect_eq "name mismatch: exit status" 1 "$rc"
it_check "name mismatch: verdict named" grep -q '^  verdict: name-mismatch' <<<"$out"
it_check "name mismatch: unsatisfiable policy" \
    grep -q 'answer (enforce mode): OK fingerprint match=00:00:00' <<<"$out"

# ---- two MX hosts, one revoked --------------------------------------------------
probe --domain woodgrovebank.com --json mixed.test
it_expect_eq "one MX revoked: exit status" 1 "$rc"
summary=$(python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["outcome"], d["exit"], len(d["servers"]),
      ",".join("%s:%s" % (s["host"], s["verdict"]) for s in d["servers"]), d["policy"])
' <<<"$out" 2>&1) || summary="invalid JSON: $summary"
it_expect_eq "one MX revoked: JSON summary" \
    "secured 1 2 mx1.good.test:secured,mx2.mixed.test:revoked OK fingerprint match=$FP_GOOD" "$summary"
chain=$(python3 -c '
import json, sys
d = json.load(sys.stdin)
s = d["servers"][0]
print(len(s["chain"]), s["chain"][0]["fingerprint"], s["chain_verified"], s["crls"][0]["outcome"])
' <<<"$out" 2>&1) || true
it_expect_eq "JSON carries the verified chain and CRL outcome" "3 $FP_GOOD True good" "$chain"

# ---- only the revoked MX ----------------------------------------------------------
probe --domain woodgrovebank.com revoked.test
it_expect_eq "revoked MX: exit status" 1 "$rc"
it_check "revoked MX: reason names the serial" grep -q '^  verdict: revoked: certificate for woodgrovebank.com revoked' <<<"$out"
it_check "revoked MX: its fingerprint is not pinned" bash -c "! grep -q 'match=.*$FP_REVOKED' <<<\"\$1\"" _ "$out"
it_check "revoked MX: unsatisfiable policy" \
    grep -q 'answer (enforce mode): OK fingerprint match=00:00:00' <<<"$out"

# ---- implicit MX (address record only) --------------------------------------------
probe --domain woodgrovebank.com implicit.test
it_expect_eq "implicit MX: exit status" 0 "$rc"
it_check "implicit MX: the domain itself was probed" \
    grep -q "^implicit.test \[127.0.0.1\]:$PORT\$" <<<"$out"

# ---- temporary failures -------------------------------------------------------------
probe --domain woodgrovebank.com broken.test
it_expect_eq "DNS SERVFAIL: exit status 75" 75 "$rc"
it_check "DNS SERVFAIL: TEMP answer" grep -q 'answer (enforce mode): TEMP ' <<<"$out"
it_crl_mode 500
probe --domain woodgrovebank.com good.test
it_expect_eq "CRL server failing: exit status 75" 75 "$rc"
it_check "CRL server failing: revocation-unavailable" \
    grep -q '^  verdict: revocation-unavailable' <<<"$out"
it_crl_mode ok
probe --domain woodgrovebank.com nosuch.test
it_expect_eq "NXDOMAIN: exit status 1" 1 "$rc"
it_check "NXDOMAIN: said in words" grep -q 'No server to probe: nosuch.test: no such domain' <<<"$out"

# ---- a HOST:PORT target and usage errors ---------------------------------------------
rc=0
out=$("$ctl" probe --ca "$IT_PKI/root.pem" --domain woodgrovebank.com --json "127.0.0.1:$PORT" 2>&1) || rc=$?
it_expect_eq "HOST:PORT target: exit status" 0 "$rc"
it_check "HOST:PORT target: no MX lookup" \
    python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["mx_lookup"] is False and d["target"]=="[127.0.0.1]:'"$PORT"'" else 1)' <<<"$out"
rc=0; "$ctl" probe >/dev/null 2>&1 || rc=$?
it_expect_eq "probe without a target: usage (64)" 64 "$rc"
rc=0; "$ctl" probe --port 0 good.test >/dev/null 2>&1 || rc=$?
it_expect_eq "probe --port 0: usage (64)" 64 "$rc"
rc=0; "$ctl" probe --nameserver nonsense good.test >/dev/null 2>&1 || rc=$?
it_expect_eq "probe --nameserver nonsense: usage (64)" 64 "$rc"
rc=0; "$ctl" probe 'exa$mple.com' >/dev/null 2>&1 || rc=$?
it_expect_eq "probe of a malformed name: usage (64)" 64 "$rc"

# ---- sendmail-access -------------------------------------------------------------------
cat >"$IT_DIR/sm-partners" <<EOF
woodgrovebank.com direction=both
.tailspin.com direction=send mode=monitor
fabrikam.com direction=receive ca=$IT_PKI/private-root.pem
EOF
rc=0
out=$("$ctl" sendmail-access --partners "$IT_DIR/sm-partners" 2>&1) || rc=$?
it_expect_eq "sendmail-access: exit status" 0 "$rc"
entries=$(grep -v '^#' <<<"$out" | grep -v '^$' | tr '\t' ' ' | paste -sd ';')
it_expect_eq "sendmail-access: entries for enforce partners" \
    "TLS_Rcpt:woodgrovebank.com VERIFY:128;TLS_Srv:woodgrovebank.com VERIFY:128;TLS_Clt:woodgrovebank.com VERIFY:128;TLS_Clt:fabrikam.com VERIFY:128" \
    "$entries"
it_check "sendmail-access: monitor partner shown commented out" \
    grep -q '^# TLS_Rcpt:tailspin.com	VERIFY:128$' <<<"$out"
it_check "sendmail-access: partner anchor mentioned" \
    grep -q "^# partner trust anchor $IT_PKI/private-root.pem: add it to Sendmail's CACertFile" <<<"$out"
out=$("$ctl" sendmail-access --partners "$IT_DIR/sm-partners" --perm --bits 256 2>&1)
it_check "sendmail-access --perm --bits 256" grep -q '^TLS_Rcpt:woodgrovebank.com	PERM+VERIFY:256$' <<<"$out"
it_ports
it_domsecd_config "woodgrovebank.com direction=send"
out=$("$ctl" sendmail-access --config "$IT_DIR/domsec.conf" 2>&1)
it_check "sendmail-access --config reads the partner table" \
    grep -q '^TLS_Srv:woodgrovebank.com	VERIFY:128$' <<<"$out"
echo "bogus.example direction=sideways" >"$IT_DIR/bad-partners"
rc=0; err=$("$ctl" sendmail-access --partners "$IT_DIR/bad-partners" 2>&1) || rc=$?
it_expect_eq "sendmail-access with a bad partner table: exit 78" 78 "$rc"
it_check "sendmail-access: the error names file and line ($err)" grep -q "bad-partners:1" <<<"$err"

it_finish
