#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bench-crl-refresh.sh - make bench, last part: mail-stream latency before,
# during and after a big CRL refresh through a real domsecd (issue 10 item
# 6).  A benchmark, not a test (not part of make check): it prints figures
# and fails only when it cannot run or a message was refused.
#
# Setup (the integration harness, lib-postfix.sh): the test PKI, the CRL
# server (tests/crlserver.py), smtp-sink, a private Postfix wired to a real
# domsecd as contrib/postfix-main.cf says (policy service and milter), the
# partner woodgrovebank.com in enforce mode.  BENCH_CERTS certificates for
# woodgrovebank.com (the PKI's "exact" key, issued by the test issuing CA,
# distribution point inter.crl) are pinned: every message presents a
# different one, so domsecd's verdict cache (keyed by fingerprint) never
# answers and each message is verified, CRL lookup included, as a new
# partner session is.  The big CRL (BENCH_CRL_ENTRIES revoked serials,
# 1M: about 46 MB) is generated with the issuing CA's key by
# bench_crl --write-crl.
#
# Each round (BENCH_ROUNDS, 3) starts domsecd afresh (empty CRL cache)
# with a small CRL of the issuing CA whose nextUpdate makes it due for
# refresh (CRLRefreshBefore 1h) before the refresher's second pass, 60 s
# after start; then tests/bench/crl_refresh_stream.py puts the big CRL in
# its place, served in trickle mode over BENCH_TRICKLE_S (8) seconds, and
# sends BENCH_RATE (10) messages a second, one SMTP session each, from
# BENCH_BEFORE_S (20) seconds before the refresh to BENCH_AFTER_S (15)
# seconds after the new copy is in place.  Per round: p50/p99 per phase
# and the ratio p99 during / p99 before; then the median over the rounds.
# Target: p99 during a refresh <= 2x p99 before.
#
# Needs root (a private Postfix), postfix, smtp-sink, swaks (the harness
# checks it), python3, openssl; skipped (exit 0) without root or Postfix.
# DOMSEC_BENCH_KEEP=1 keeps the work directory.
set -euo pipefail
: "${DOMSEC_TOP:?}"
: "${DOMSEC_BUILD:?}"
if [ "$(id -u)" != 0 ] || ! command -v postfix >/dev/null 2>&1; then
	echo "bench-crl-refresh: skipped (needs root and Postfix)"
	exit 0
fi
ROUNDS=${BENCH_ROUNDS:-3}
ENTRIES=${BENCH_CRL_ENTRIES:-1000000}
RATE=${BENCH_RATE:-10}
BEFORE=${BENCH_BEFORE_S:-20}
AFTER=${BENCH_AFTER_S:-15}
NCERTS=${BENCH_CERTS:-700}
IT_CRL_TRICKLE_S=${BENCH_TRICKLE_S:-8}
IT_KEEP=${DOMSEC_BENCH_KEEP:-0}
. "$DOMSEC_TOP/tests/integration/lib-postfix.sh"

it_mail_setup
echo "bench-crl-refresh: work directory $IT_DIR"
it_domsecd_config "woodgrovebank.com mode=enforce"
sed -i -e 's/^LogLevel .*/LogLevel          info/' "$IT_DIR/domsec.conf"
echo "CRLRefreshBefore  1h" >>"$IT_DIR/domsec.conf"

# the certificates, all pinned
certs=$IT_DIR/certs
mkdir -p "$certs"
openssl req -new -key "$IT_PKI/exact.key" -subj /CN=woodgrovebank.com \
    -out "$IT_DIR/leaf.csr" 2>/dev/null
cat >"$IT_DIR/leaf.ext" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:$IT_CRL_URL/inter.crl
subjectAltName = DNS:woodgrovebank.com
EOF
echo "bench-crl-refresh: $NCERTS partner certificates, a CRL of $ENTRIES entries"
for i in $(seq 0 $((NCERTS - 1))); do
	openssl x509 -req -in "$IT_DIR/leaf.csr" -CA "$IT_PKI/inter.pem" \
	    -CAkey "$IT_PKI/inter.key" -set_serial $((0x5e0000 + i)) -days 2 \
	    -extfile "$IT_DIR/leaf.ext" -out "$certs/leaf-$i.pem" 2>/dev/null
	cp "$certs/leaf-$i.pem" "$IT_DIR/pins/"
done
it_postfix_start

results=$IT_DIR/results.jsonl
: >"$results"
for round in $(seq 1 "$ROUNDS"); do
	[ -n "${IT_DOMSECD_PID:-}" ] && it_domsecd_stop
	sed -i -e "s|^CRLCacheDir .*|CRLCacheDir       $IT_DIR/crlcache-$round|" \
	    "$IT_DIR/domsec.conf"
	mkdir -p "$IT_DIR/crlcache-$round"
	it_crl_mode ok
	rm -f "$IT_PKI"/crl/inter-next.crl*
	# the small CRL: due for refresh (nextUpdate - 1h) 30 s from now
	"$DOMSEC_BUILD/bench/bench_crl" --write-crl 10 "$IT_PKI/crl/inter.crl" \
	    "$IT_PKI/inter.pem" "$IT_PKI/inter.key" $((3600 + 30)) "$round"
	# the big one, issued after it (a copy older than the cached one is
	# refused, whatever its CRLNumber)
	sleep 1
	"$DOMSEC_BUILD/bench/bench_crl" --write-crl "$ENTRIES" \
	    "$IT_PKI/crl/inter-next.crl" "$IT_PKI/inter.pem" "$IT_PKI/inter.key" \
	    $((30 * 86400)) $((1000000 + round))
	[ "$round" = 1 ] && ls -l "$IT_PKI/crl/inter-next.crl" |
	    awk '{ printf "bench-crl-refresh: big CRL %.1f MB\n", $5 / 1048576 }'
	t0=$(date +%s.%N)
	it_domsecd_start
	echo "bench-crl-refresh: round $round of $ROUNDS (about $((60 + IT_CRL_TRICKLE_S + AFTER + 10)) s)"
	python3 "$DOMSEC_TOP/tests/bench/crl_refresh_stream.py" \
	    --port "$IT_SMTPD_PORT" --certs "$certs" --ncerts "$NCERTS" \
	    --key "$IT_PKI/exact.key" --big "$IT_PKI/crl/inter-next.crl" \
	    --served "$IT_PKI/crl/inter.crl" \
	    --mode-url "$IT_CRL_URL/_mode/trickle" --crl-log "$IT_DIR/crl.log" \
	    --cache-dir "$IT_DIR/crlcache-$round" --t0 "$t0" \
	    --before "$BEFORE" --after "$AFTER" --rate "$RATE" | tee -a "$results"
done
it_domsecd_stop

python3 - "$results" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("\nmail stream through Postfix + domsecd, one SMTP session (new TLS "
      "session, new partner\ncertificate) per message; latency of the whole "
      "session in ms; %d rounds" % len(rows))
print("%-8s %14s %14s %14s %12s %10s" % ("round", "before p50/p99",
      "during p50/p99", "after p50/p99", "p99 ratio", "refresh s"))
ratios = []
for i, r in enumerate(rows, 1):
    ratio = r["during"]["p99_ms"] / r["before"]["p99_ms"]
    ratios.append(ratio)
    print("%-8d %6.0f/%-7.0f %6.0f/%-7.0f %6.0f/%-7.0f %11.2fx %10.1f"
          % (i, r["before"]["p50_ms"], r["before"]["p99_ms"],
             r["during"]["p50_ms"], r["during"]["p99_ms"],
             r["after"]["p50_ms"], r["after"]["p99_ms"], ratio,
             r["refresh_s"]))
    print("%-8s n=%-12d n=%-12d n=%-12d" % ("", r["before"]["n"],
          r["during"]["n"], r["after"]["n"]))
med = lambda ph, k: statistics.median(r[ph][k] for r in rows)
ratio = statistics.median(ratios)
print("%-8s %6.0f/%-7.0f %6.0f/%-7.0f %6.0f/%-7.0f %11.2fx" % ("median",
      med("before", "p50_ms"), med("before", "p99_ms"),
      med("during", "p50_ms"), med("during", "p99_ms"),
      med("after", "p50_ms"), med("after", "p99_ms"), ratio))
print("target: p99 during a refresh <= 2x p99 before: %.2fx (%s)"
      % (ratio, "met" if ratio <= 2 else "MISSED"))
EOF
it_finish
