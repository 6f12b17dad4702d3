#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 35-probe.sh - the STARTTLS probe through the command line, against
# tests/starttls_server.py on loopback: `domsecctl probe` records the chain
# the server presents (its SHA-256 fingerprint, as openssl computes it) and
# reaches a verdict with a live CRL server; a server without STARTTLS and a
# closed port fail with words and a non-zero status; `domsecctl counters`
# prints a counters file in text and JSON.
# sanitize: yes
set -eu

. "$DOMSEC_TOP/tests/integration/lib-common.sh"
top=$DOMSEC_TOP
ctl=$DOMSEC_BUILD/domsecctl
it_init 35-probe
work=$IT_DIR

# wait_port FILE: prints the port a server wrote to FILE once it is there.
wait_port() { it_wait_file "$1" && cat "$1"; }

# --- CRL server, PKI ---
it_crl_start
it_pki_build
pki=$IT_PKI

# --- a STARTTLS server presenting the "exact" chain ---
python3 "$top/tests/starttls_server.py" --cert "$pki/exact-chain.pem" \
    --key "$pki/exact.key" --bind 127.0.0.1 --port-file "$work/tls.port" \
    --log "$work/tls.log" &
it_track_pid $!
tls_port=$(wait_port "$work/tls.port")
it_ok "servers up: CRL on $IT_CRL_PORT, STARTTLS on $tls_port"

want_fp=$(openssl x509 -in "$pki/exact.pem" -noout -fingerprint -sha256 | sed 's/.*=//')

rc=0
"$ctl" probe --ca "$pki/root.pem" --domain woodgrovebank.com --timeout 5s \
    "127.0.0.1:$tls_port" >"$work/out" 2>"$work/err" || rc=$?
if grep -qi "$want_fp" "$work/out"; then
	it_ok "probe shows the presented leaf's SHA-256 fingerprint"
else
	it_not_ok "probe output lacks fingerprint $want_fp"; cat "$work/out" "$work/err"
fi
if [ "$rc" -eq 0 ]; then
	it_ok "probe of a valid partner certificate exits 0"
else
	it_not_ok "probe exit status $rc, wanted 0"; cat "$work/out" "$work/err"
fi
if grep -q "clear STARTTLS" "$work/tls.log" && grep -q "tls QUIT" "$work/tls.log"; then
	it_ok "the server saw STARTTLS and a QUIT inside TLS"
else
	it_not_ok "server log lacks STARTTLS/QUIT"; cat "$work/tls.log"
fi

# --- no STARTTLS offered ---
python3 "$top/tests/starttls_server.py" --cert "$pki/exact-chain.pem" \
    --key "$pki/exact.key" --bind 127.0.0.1 --port-file "$work/plain.port" \
    --no-starttls &
it_track_pid $!
plain_port=$(wait_port "$work/plain.port")
rc=0
"$ctl" probe --ca "$pki/root.pem" --domain woodgrovebank.com --timeout 5s \
    "127.0.0.1:$plain_port" >"$work/out" 2>&1 || rc=$?
if [ "$rc" -ne 0 ] && grep -q "no STARTTLS offered" "$work/out"; then
	it_ok "a server without STARTTLS fails with 'no STARTTLS offered' (exit $rc)"
else
	it_not_ok "no-STARTTLS server: exit $rc"; cat "$work/out"
fi

# --- a closed port ---
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
rc=0
"$ctl" probe --ca "$pki/root.pem" --domain woodgrovebank.com --timeout 5s \
    "127.0.0.1:$closed" >"$work/out" 2>&1 || rc=$?
if [ "$rc" -eq 75 ] && grep -q "connection refused" "$work/out"; then
	it_ok "a closed port is a temporary failure: 'connection refused', exit 75"
else
	it_not_ok "closed port: exit $rc"; cat "$work/out"
fi

# --- domsecctl counters ---
cat >"$work/counters" <<'EOF'
Domain-Secured Messages Received: 12
Domain-Secured Messages Sent: 3
Domain-Secured Outbound Session Failures: 1
verdict revoked: 2
partner woodgrovebank.com verdict secured: 7
partner woodgrovebank.com verdict revoked: 2
EOF
out=$("$ctl" counters --file "$work/counters")
if echo "$out" | grep -Eq '^Domain-Secured Messages Received +12$' &&
   echo "$out" | grep -Eq '^verdict revoked +2$'; then
	it_ok "counters prints name and value per line"
else
	it_not_ok "counters output: $out"
fi
json=$("$ctl" counters --file "$work/counters" --json)
if echo "$json" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["domain_secured_messages_sent"]==3 and d["verdict_revoked"]==2 and d["partners"]["woodgrovebank.com"]["secured"]==7 and all(" " not in k for k in d)'; then
	it_ok "counters --json is valid JSON with machine keys (no spaces) and per-partner counts"
else
	it_not_ok "counters --json: $json"
fi
# Prometheus text, parsed by the Prometheus project's own Python parser
# (Debian's python3-prometheus-client, for /usr/bin/python3).
prom=$("$ctl" counters --file "$work/counters" --format prometheus)
if echo "$prom" | /usr/bin/python3 -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
v = {}
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        v[(s.name, tuple(sorted(s.labels.items())))] = s.value
assert v[("domsec_domain_secured_messages_received_total", ())] == 12
assert v[("domsec_verdicts_total", (("verdict", "revoked"),))] == 2
assert v[("domsec_partner_verdicts_total", (("partner", "woodgrovebank.com"), ("verdict", "secured")))] == 7
'; then
	it_ok "counters --format prometheus parses (prometheus_client) with the values"
else
	it_not_ok "counters --format prometheus: $prom"
fi
printf 'StateDir %s\n' "$work" >"$work/domsec.conf"
out=$("$ctl" counters --config "$work/domsec.conf")
if echo "$out" | grep -Eq '^Domain-Secured Outbound Session Failures +1$'; then
	it_ok "counters reads StateDir/counters from the configuration"
else
	it_not_ok "counters --config: $out"
fi
rc=0
"$ctl" counters --file "$work/missing" >"$work/out" 2>&1 || rc=$?
if [ "$rc" -eq 1 ] && grep -q "cannot read" "$work/out"; then
	it_ok "a missing counters file is reported (exit 1)"
else
	it_not_ok "missing counters file: exit $rc"; cat "$work/out"
fi

it_finish
