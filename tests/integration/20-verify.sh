#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 20-verify.sh - `domsecctl verify` over the test PKI with a live CRL server
# (tests/crlserver.py) on loopback: every name shape, validity, EKU, trust,
# revocation of a leaf and of an intermediate, the cross-certificate, every
# CRL fault (404, 500, garbage, wrong key, expired, PEM, a server that never
# answers), partner policies, --json, usage and configuration errors.  Each
# case asserts the verdict and the exit status.
# sanitize: yes
set -eu

. "$DOMSEC_TOP/tests/integration/lib-common.sh"
top=$DOMSEC_TOP
ctl=$DOMSEC_BUILD/domsecctl
it_init 20-verify
work=$IT_DIR
it_crl_start
it_pki_build
pki=$IT_PKI
port=$IT_CRL_PORT
base=$IT_CRL_URL
it_ok "PKI built, CRL server on port $port"


set_mode() {
	python3 - "$base/_mode/$1" <<'EOF'
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=5).read()
EOF
}

log_lines() { wc -l <"$work/crl.log" 2>/dev/null || echo 0; }

n_case=0
# run_verify ARGS... : runs domsecctl verify --json with a fresh CRL cache;
# sets $rc and leaves the JSON in $work/out.json, stderr in $work/err.
run_verify() {
	n_case=$((n_case + 1))
	rc=0
	"$ctl" verify --json --cache-dir "$work/cache-$n_case" "$@" \
	    >"$work/out.json" 2>"$work/err" || rc=$?
}

# json_get KEY (a top-level key, or a python expression over j)
json_get() {
	python3 - "$work/out.json" "$1" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
v = eval(sys.argv[2], {"j": j})
print("null" if v is None else v)
EOF
}

# expect WHAT VERDICT EXIT domsecctl-args...
expect() {
	local what=$1 verdict=$2 status=$3
	shift 3
	run_verify "$@"
	local got
	got=$(json_get 'j["verdict"]' 2>/dev/null || echo "(no JSON)")
	if [ "$got" = "$verdict" ] && [ "$rc" = "$status" ]; then
		it_ok "$what: $verdict, exit $status"
	else
		it_not_ok "$what: wanted $verdict/exit $status, got $got/exit $rc"
		sed 's/^/    /' "$work/out.json" "$work/err" | head -20
	fi
}

wgb="--domain woodgrovebank.com --ca $pki/root.pem"

# --- the name table of DESIGN.md section 4 ---
for leaf in exact wildcard onedeep cnonly trailingdot upper; do
	expect "name $leaf" secured 0 $wgb "$pki/$leaf-chain.pem"
done
before=$(log_lines)
for leaf in twodeep wildus partialwild midwild star suffix cnnonascii; do
	expect "name $leaf" name-mismatch 1 $wgb "$pki/$leaf-chain.pem"
done
if [ "$(log_lines)" = "$before" ]; then
	it_ok "no CRL fetched for any name-mismatch certificate"
else
	it_not_ok "CRLs fetched for name-mismatch certificates"
fi

run_verify $wgb "$pki/wildcard-chain.pem"
if [ "$(json_get 'j["matched_name"]')" = "*.woodgrovebank.com" ]; then
	it_ok "matched_name names the wildcard"
else
	it_not_ok "matched_name: $(json_get 'j["matched_name"]')"
fi

# --- trust ---
before=$(log_lines)
for leaf in expired notyet emailonly untrusted; do
	expect "$leaf" untrusted 1 $wgb "$pki/$leaf-chain.pem"
done
if [ "$(log_lines)" = "$before" ]; then
	it_ok "no CRL fetched for any untrusted certificate"
else
	it_not_ok "CRLs fetched for untrusted certificates"
fi
if grep -q 'unknown-root.crl' "$work/crl.log"; then
	it_not_ok "the untrusted certificate's distribution point was fetched"
else
	it_ok "the untrusted certificate's distribution point was never fetched"
fi
run_verify $wgb "$pki/expired-chain.pem"
case "$(json_get 'j["reason"]')" in
*"has expired (notAfter"*) it_ok "expired reason names notAfter" ;;
*) it_not_ok "expired reason: $(json_get 'j["reason"]')" ;;
esac
run_verify $wgb "$pki/untrusted-chain.pem"
case "$(json_get 'j["reason"]')" in
*"CN=Unknown Root CA"*"not a trust anchor"*) it_ok "untrusted reason names the unknown root" ;;
*) it_not_ok "untrusted reason: $(json_get 'j["reason"]')" ;;
esac
if [ "$(json_get 'j["revocation"]["checked"] or len(j["crls"]) > 0 or j["chain_verified"]')" = False ]; then
	it_ok "untrusted: JSON says chain not verified, revocation not checked, no CRLs"
else
	it_not_ok "untrusted: JSON revocation $(json_get 'j["revocation"]')"
fi
expect "serveronly (EKU serverAuth only)" secured 0 $wgb "$pki/serveronly-chain.pem"
expect "leaf without its intermediate" untrusted 1 $wgb "$pki/exact.pem"
expect "intermediate from --chain" secured 0 $wgb --chain "$pki/inter.pem" "$pki/exact.pem"
expect "wrong domain (contoso leaf)" name-mismatch 1 $wgb "$pki/contoso-chain.pem"
expect "contoso.com" secured 0 --domain contoso.com --ca "$pki/root.pem" "$pki/contoso-chain.pem"

# --- revocation ---
expect "revoked leaf" revoked 1 $wgb "$pki/revoked-chain.pem"
expect "revoked intermediate" revoked 1 $wgb "$pki/revokedinter-chain.pem"
run_verify $wgb "$pki/revoked-chain.pem"
if [ "$(json_get 'len(j["crls"]) > 0 and j["crls"][0]["origin"] in ("fetched", "cached", "disk", "file")')" = True ]; then
	it_ok "revoked: the CRL report lists the CRL and its origin"
else
	it_not_ok "revoked: CRL report $(json_get 'j["crls"]')"
fi
expect "CDP answering 404 (nocrl)" revocation-unavailable 75 $wgb "$pki/nocrl-chain.pem"
expect "nocrl with the CRL given by --crl" secured 0 $wgb --crl "$pki/crl/inter.crl" "$pki/nocrl-chain.pem"
expect "revoked with a PEM --crl" revoked 1 $wgb --crl "$pki/crl/inter.pem.crl" "$pki/revoked-chain.pem"

# --- cross-certificate and partner anchors ---
fab="--domain fabrikam.com"
expect "fabrikam under root only" untrusted 1 $fab --ca "$pki/root.pem" "$pki/fabrikam-chain.pem"
expect "fabrikam with private-root as anchor" secured 0 $fab --ca "$pki/root.pem" --ca "$pki/private-root.pem" "$pki/fabrikam-chain.pem"
expect "fabrikam via cross.pem" secured 0 $fab --ca "$pki/root.pem" --chain "$pki/cross.pem" "$pki/fabrikam-chain.pem"
run_verify $fab --ca "$pki/root.pem" --chain "$pki/cross.pem" "$pki/fabrikam-chain.pem"
if [ "$(json_get 'len(j["chain"])')" = 3 ] && [ "$(json_get 'j["chain"][1]["issuer"]')" = "CN=domsec Test Root CA, O=domsec tests" ]; then
	it_ok "the cross path runs leaf -> cross.pem -> root"
else
	it_not_ok "cross path: $(json_get '[c["subject"] + " / " + c["issuer"] for c in j["chain"]]')"
fi

# --- partner table: extra anchors and revocation policy ---
cat >"$work/partners" <<EOF
fabrikam.com revocation=require ca=$pki/private-root.pem
woodgrovebank.com revocation=soft
.tailspin.com revocation=none
EOF
cat >"$work/domsec.conf" <<EOF
CAFile $pki/root.pem
PartnerTable $work/partners
CRLTimeout 3s
CRLConnectTimeout 2s
EOF
conf="--config $work/domsec.conf"
expect "partner anchor from the partner table" secured 0 $conf $fab "$pki/fabrikam-chain.pem"
expect "revocation=soft: CRL unavailable still secured" secured 0 $conf --domain woodgrovebank.com "$pki/nocrl-chain.pem"
case "$(json_get 'j["reason"]')" in
*soft*) it_ok "revocation=soft says so in the reason" ;;
*) it_not_ok "soft reason: $(json_get 'j["reason"]')" ;;
esac
expect "revocation=soft: revoked is still revoked" revoked 1 $conf --domain woodgrovebank.com "$pki/revoked-chain.pem"
before=$(log_lines)
expect "revocation=none: revoked leaf not checked" secured 0 $conf --domain sales.tailspin.com "$pki/tailspin-chain.pem"
[ "$(log_lines)" = "$before" ] && it_ok "revocation=none fetches nothing" || it_not_ok "revocation=none fetched a CRL"
expect "--ca replaces CAFile" untrusted 1 $conf --ca "$pki/unknown-root.pem" --domain woodgrovebank.com "$pki/exact-chain.pem"

# --- CRL faults (global server mode; a fresh cache for each run) ---
fault() {
	local mode=$1 verdict=$2 status=$3 outcome=$4
	set_mode "$mode"
	expect "CRL server $mode" "$verdict" "$status" $wgb "$pki/exact-chain.pem"
	set_mode ok
	if [ -n "$outcome" ]; then
		local o
		o=$(json_get '" | ".join(c["outcome"] for c in j["crls"])')
		if printf '%s' "$o" | grep -Eiq "$outcome"; then
			it_ok "CRL server $mode: outcome says \"$o\""
		else
			it_not_ok "CRL server $mode: outcome \"$o\" does not match /$outcome/"
		fi
	fi
}
fault 404 revocation-unavailable 75 '404'
fault 500 revocation-unavailable 75 '500'
fault garbage revocation-unavailable 75 ''
# (only inter.crl has -wrongkey and -expired variants; root.crl answers 404
# in those modes, so the outcomes are checked with CRL files below)
fault wrongkey revocation-unavailable 75 ''
fault expired revocation-unavailable 75 ''
fault pem secured 0 ''

# the same bad CRLs as configured files, for a leaf whose own CDP is 404
crl_file_fault() {
	local what=$1 file=$2 outcome=$3
	expect "CRL file $what" revocation-unavailable 75 $wgb --crl "$file" "$pki/nocrl-chain.pem"
	local o
	o=$(json_get '" | ".join(c["outcome"] for c in j["crls"])')
	if printf '%s' "$o" | grep -Eiq "$outcome"; then
		it_ok "CRL file $what: outcome says \"$o\""
	else
		it_not_ok "CRL file $what: outcome \"$o\" does not match /$outcome/"
	fi
}
crl_file_fault "signed by the wrong key" "$pki/crl/inter-wrongkey.crl" 'signature'
crl_file_fault "expired" "$pki/crl/inter-expired.crl" 'expired|nextUpdate'
fault redirect secured 0 ''

# --- a server that never answers: bounded by CRLTimeout (3 s) ---
cat >"$work/timeout.conf" <<EOF
CAFile $pki/root.pem
CRLTimeout 3s
CRLConnectTimeout 2s
EOF
set_mode hang
start=$(date +%s.%N)
expect "CRL server hangs" revocation-unavailable 75 --config "$work/timeout.conf" --domain woodgrovebank.com "$pki/exact-chain.pem"
end=$(date +%s.%N)
set_mode ok
elapsed=$(python3 -c "print(round($end - $start, 1))")
# The first CRL that cannot be had decides: one timeout, plus start-up slack.
if python3 -c "import sys; sys.exit(0 if $end - $start < 3 + 2.5 else 1)"; then
	it_ok "hanging CRL server: answer after ${elapsed}s (timeout 3s per fetch)"
else
	it_not_ok "hanging CRL server: took ${elapsed}s"
fi
run_verify $wgb "$pki/exact-chain.pem"
[ "$rc" = 0 ] && it_ok "server back to normal: secured" || it_not_ok "after hang: exit $rc"

# --- --at ---
expect "expired leaf as of 2021-06-01 (before the CRLs existed)" revocation-unavailable 75 $wgb --at 2021-06-01 "$pki/expired-chain.pem"
run_verify $wgb --at 2021-06-01 "$pki/expired-chain.pem"
[ "$(json_get 'j["chain_verified"]')" = True ] && it_ok "--at: the expired chain verifies as of 2021" || it_not_ok "--at: chain not verified"
expect "good leaf as of 2021 (not yet valid)" untrusted 1 $wgb --at 2021-06-01 "$pki/exact-chain.pem"

# --- JSON shape ---
run_verify $wgb "$pki/exact-chain.pem"
if python3 - "$work/out.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
for k in ("verdict", "domain", "reason", "matched_name", "chain", "crls"):
    assert k in j, k
assert j["domain"] == "woodgrovebank.com"
assert j["verdict"] == "secured"
assert isinstance(j["chain"], list) and len(j["chain"]) == 3
c = j["chain"][0]
for k in ("subject", "issuer", "serial", "thumbprint", "fingerprint", "alt_names", "not_before", "not_after"):
    assert k in c, k
assert len(c["thumbprint"]) == 40 and len(c["fingerprint"]) == 95
assert isinstance(j["crls"], list) and len(j["crls"]) >= 1
for r in j["crls"]:
    for k in ("source", "origin", "this_update", "next_update", "outcome"):
        assert k in r, k
EOF
then
	it_ok "--json has verdict, domain, reason, matched_name, chain and crls"
else
	it_not_ok "--json shape"
fi
fp=$(openssl x509 -in "$pki/exact.pem" -noout -fingerprint -sha256 | cut -d= -f2)
[ "$(json_get 'j["chain"][0]["fingerprint"]')" = "$fp" ] && it_ok "JSON fingerprint equals openssl's" || it_not_ok "fingerprint differs"

# --- the report for a person ---
out=$("$ctl" verify $wgb --cache-dir "$work/cache-human" "$pki/revoked-chain.pem" || true)
for want in "Subject:" "Issuer:" "Serial:" "Thumbprint:" "Fingerprint:" "Alt names:" "Valid:" "Name match:" "inter.crl" "Verdict: revoked" "Reason:"; do
	case "$out" in
	*"$want"*) ;;
	*) it_not_ok "human report lacks \"$want\""; continue ;;
	esac
done
it_ok "human report shows the chain, the name, the CRLs and the verdict"

# --- usage and configuration errors ---
usage() {
	local what=$1
	shift
	local st=0
	"$ctl" verify "$@" >/dev/null 2>"$work/err" || st=$?
	[ "$st" = 64 ] && it_ok "usage error ($what): exit 64" || it_not_ok "usage error ($what): exit $st"
}
usage "no arguments"
usage "unknown option" --bogus --domain x "$pki/exact.pem"
usage "missing --domain" "$pki/exact.pem"
usage "missing CERTFILE" --domain woodgrovebank.com
usage "two CERTFILEs" --domain woodgrovebank.com "$pki/exact.pem" "$pki/onedeep.pem"
usage "bad --at" --domain woodgrovebank.com --at yesterday "$pki/exact.pem"
usage "unreadable CERTFILE" --domain woodgrovebank.com "$work/nonexistent.pem"
usage "CERTFILE not a certificate" --domain woodgrovebank.com "$pki/exact.key"
usage "--ca without value" --domain woodgrovebank.com --ca

config_error() {
	local what=$1
	shift
	local st=0
	"$ctl" verify --domain woodgrovebank.com --cache-dir "$work/cache-cfg" "$@" "$pki/exact-chain.pem" >/dev/null 2>"$work/err" || st=$?
	if [ "$st" = 78 ]; then
		it_ok "configuration error ($what): exit 78: $(head -c 120 "$work/err")"
	else
		it_not_ok "configuration error ($what): exit $st"
	fi
}
printf 'CAFile %s\nNoSuchKey yes\n' "$pki/root.pem" >"$work/bad.conf"
config_error "unknown key" --config "$work/bad.conf"
grep -q "bad.conf:2" "$work/err" && it_ok "the error names file and line" || it_not_ok "error text: $(cat "$work/err")"
config_error "missing config file" --config "$work/none.conf"
config_error "unreadable --ca" --ca "$work/none.pem"
# an unusable --crl is reported (file and reason) and skipped, not fatal
expect "--crl that is not a CRL is skipped" secured 0 $wgb --crl "$pki/exact.pem" \
    --crl "$work/no-such.crl" --crl "$pki/crl/inter.crl" "$pki/nocrl-chain.pem"
if grep -q "CRL file skipped: $pki/exact.pem: not a CRL" "$work/err" &&
    grep -q "CRL file skipped: $work/no-such.crl" "$work/err" &&
    [ "$(json_get 'len(j["crl_file_problems"])')" = 2 ]; then
	it_ok "skipped CRL files are reported with file and reason"
else
	it_not_ok "skipped CRL files: $(cat "$work/err")"
fi

it_finish
