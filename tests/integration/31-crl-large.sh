#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 31-crl-large.sh - issue 10 end to end: CRLs on slow links never stall
# mail, through a private Postfix with domsecd, swaks as the partner's MTA
# and tests/crlserver.py:
#   - slow link (the server trickles every CRL over 3 s, CRLTimeout 2s):
#     the first message is deferred (451) while the download goes on in the
#     background; a later one is accepted, and each CRL was downloaded
#     once (the background result was cached, not abandoned and retried);
#     inter.crl is a large one (40,000 entries, about 1.4 MB): domsecd logs
#     the start and the end of its download with size and duration, and
#     nothing for the small root.crl;
#   - serve during refresh: domsecd restarted with every cached CRL due for
#     refresh and the server hanging: the refresh is in flight, mail is
#     accepted at once from the cached copies;
#   - domsecctl crl refresh: a download longer than CRLTimeout succeeds
#     (CRLDownloadTimeout); progress on a terminal (script(1) gives a pty),
#     none with --quiet or when stderr is not a terminal;
#   - CRLNoProxy: with CRLProxy pointing at a dead port, the host listed in
#     CRLNoProxy is reached directly; NO_PROXY in the environment is
#     ignored;
#   - an https distribution point whose server certificate comes from a
#     partner's private root (ca= in the partner table): refused without
#     it, accepted with it (the system CA store is kept as well).
set -eu
. "$DOMSEC_TOP/tests/integration/lib-postfix.sh"

it_require_tools
it_init
it_crl_start
it_pki_build
it_sink_start
it_ports
it_domsecd_config "woodgrovebank.com mode=enforce"
sed -i -e 's/^CRLTimeout .*/CRLTimeout        2s/' \
    -e 's/^CRLConnectTimeout .*/CRLConnectTimeout 1s/' "$IT_DIR/domsec.conf"
echo "CRLDownloadTimeout 30s" >>"$IT_DIR/domsec.conf"
it_pin exact
it_domsecd_start
it_postfix_start

wgb=a@woodgrovebank.com
crl_requests() { grep -c "^GET $1" "$IT_DIR/crl.log" || true; }
# over the 1 MiB that domsecd logs as large (lib/engine.c)
it_big_crl inter 40000 "$IT_PKI/crl/inter.crl"
big=$(stat -c %s "$IT_PKI/crl/inter.crl")

# --- slow link: deferred while downloading, then accepted --------------------
it_crl_mode trickle
: >"$IT_DIR/crl.log"
it_send_partner slow-first "$wgb" exact
it_expect_eq "slow link: first message deferred while the CRL downloads" \
    451 "$IT_REPLY"
for attempt in $(seq 1 10); do
	sleep 1.5
	it_send_partner "slow-$attempt" "$wgb" exact
	[ "$IT_REPLY" = 250 ] && break
done
it_expect_eq "slow link: a later message is accepted (CRLTimeout not raised)" \
    250 "$IT_REPLY"
it_expect_eq "slow link: root.crl downloaded once" 1 "$(crl_requests /root.crl)"
it_expect_eq "slow link: inter.crl downloaded once" 1 "$(crl_requests /inter.crl)"
it_check "large download: start logged with its size ($big bytes)" \
    grep -qF "CRL download of $IT_CRL_URL/inter.crl: large ($big bytes), in progress" \
    "$IT_DOMSECD_LOG"
secs=$(sed -n "s|.*CRL download of $IT_CRL_URL/inter.crl: done, $big bytes in \([0-9.]*\) s\$|\1|p" \
    "$IT_DOMSECD_LOG" | head -n 1)
it_check "large download: end logged with size and duration (${secs:-none} s)" \
    awk -v s="${secs:-0}" 'BEGIN { exit !(s >= 2.5 && s < 30) }'
it_check "small download (root.crl): nothing logged" \
    bash -c "! grep -q 'CRL download of .*/root.crl' '$IT_DOMSECD_LOG'"

# --- serve during refresh ----------------------------------------------------
it_domsecd_stop
echo "CRLRefreshBefore 30d" >>"$IT_DIR/domsec.conf"
it_crl_mode hang
: >"$IT_DIR/crl.log"
it_domsecd_start
for _ in $(seq 1 50); do
	grep -q "^GET /.* hang" "$IT_DIR/crl.log" && break
	sleep 0.1
done
it_check "serve during refresh: a refresh is in flight (server hangs)" \
    grep -q "^GET /.* hang" "$IT_DIR/crl.log"
start=$(date +%s%N)
it_send_partner during-refresh "$wgb" exact
took=$(( ($(date +%s%N) - start) / 1000000 ))
it_expect_eq "serve during refresh: accepted from the cache" 250 "$IT_REPLY"
it_check "serve during refresh: did not wait for the download (${took} ms)" \
    test "$took" -lt 1800
it_crl_mode ok
it_domsecd_stop
it_expect_eq "domsecd exited 0 on SIGTERM although a download was in flight" \
    0 "$IT_DOMSECD_STATUS"

# --- domsecctl crl refresh: long download, progress ---------------------------
CTL=$DOMSEC_BUILD/domsecctl
conf=$IT_DIR/ctl.conf
cat >"$conf" <<EOF
CAFile            $IT_PKI/root.pem
ChainFile         $IT_PKI/inter.pem
CRLCacheDir       $IT_DIR/ctlcache
CRLTimeout        2s
CRLConnectTimeout 1s
CRLDownloadTimeout 30s
EOF
it_crl_mode trickle
url=$IT_CRL_URL/inter.crl
script -q -e -c "'$CTL' crl refresh --config '$conf' '$url'" /dev/null \
    >"$IT_DIR/progress-tty.out" 2>&1 || true
it_check "crl refresh: a 3 s download outlives CRLTimeout 2s and succeeds" \
    grep -q "inter.crl: downloaded" "$IT_DIR/progress-tty.out"
it_check "crl refresh on a terminal: progress shown (MB/s)" \
    grep -q "MB/s" "$IT_DIR/progress-tty.out"
# fresh cache directories: full (3 s) downloads again
script -q -e -c "'$CTL' crl refresh --quiet --config '$conf' \
    --cache-dir '$IT_DIR/ctlcache2' '$url'" /dev/null \
    >"$IT_DIR/progress-quiet.out" 2>&1 || true
it_check "crl refresh --quiet on a terminal: downloaded" \
    grep -q "inter.crl: downloaded" "$IT_DIR/progress-quiet.out"
it_check "crl refresh --quiet on a terminal: no progress" \
    bash -c "! grep -q 'MB/s' '$IT_DIR/progress-quiet.out'"
"$CTL" crl refresh --config "$conf" --cache-dir "$IT_DIR/ctlcache3" "$url" \
    >"$IT_DIR/progress-pipe.out" 2>&1 || true
it_check "crl refresh, stderr not a terminal: downloaded" \
    grep -q "inter.crl: downloaded" "$IT_DIR/progress-pipe.out"
it_check "crl refresh, stderr not a terminal: no progress" \
    bash -c "! grep -q 'MB/s' '$IT_DIR/progress-pipe.out'"
it_crl_mode ok

# --- CRLNoProxy ----------------------------------------------------------------
dead=$(it_free_port)
cat >"$IT_DIR/proxy.conf" <<EOF
CRLCacheDir       $IT_DIR/proxycache
CRLProxy          http://user:Pr0xyPw@127.0.0.1:$dead
EOF
set +e
NO_PROXY='*' no_proxy='*' "$CTL" crl refresh --config "$IT_DIR/proxy.conf" "$url" \
    >"$IT_DIR/proxy-env.out" 2>&1
st=$?
set -e
it_expect_eq "NO_PROXY in the environment ignored: the dead proxy is used" 75 "$st"
it_check "proxy password never printed" \
    bash -c "! grep -q Pr0xyPw '$IT_DIR/proxy-env.out'"
echo "CRLNoProxy        127.0.0.1, localhost" >>"$IT_DIR/proxy.conf"
set +e
"$CTL" crl refresh --config "$IT_DIR/proxy.conf" "$url" >"$IT_DIR/proxy-no.out" 2>&1
st=$?
set -e
it_expect_eq "CRLNoProxy 127.0.0.1: reached directly" 0 "$st"

# --- an https distribution point, certificate from a partner's private root --
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$IT_DIR/tls.key" -subj /CN=127.0.0.1 -out "$IT_DIR/tls.csr" \
    2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' \
    >"$IT_DIR/tls.ext"
openssl x509 -req -in "$IT_DIR/tls.csr" -CA "$IT_PKI/private-root.pem" \
    -CAkey "$IT_PKI/private-root.key" -CAcreateserial \
    -CAserial "$IT_DIR/tls.srl" -days 2 -extfile "$IT_DIR/tls.ext" \
    -out "$IT_DIR/tls.pem" 2>/dev/null
python3 "$DOMSEC_TOP/tests/crlserver.py" --dir "$IT_PKI/crl" \
    --port-file "$IT_DIR/tls.port" --log "$IT_DIR/tls.log" \
    --tls-cert "$IT_DIR/tls.pem" --tls-key "$IT_DIR/tls.key" \
    >"$IT_DIR/tlsserver.out" 2>&1 &
it_track_pid $!
it_wait_file "$IT_DIR/tls.port"
https_url=https://127.0.0.1:$(cat "$IT_DIR/tls.port")/inter.crl
printf 'CRLCacheDir %s\n' "$IT_DIR/httpscache" >"$IT_DIR/https.conf"
set +e
"$CTL" crl refresh --config "$IT_DIR/https.conf" "$https_url" \
    >"$IT_DIR/https-none.out" 2>&1
st=$?
set -e
it_expect_eq "https CDP, private root not configured: refused" 75 "$st"
echo "fabrikam.com mode=enforce ca=$IT_PKI/private-root.pem" \
    >"$IT_DIR/https.partners"
echo "PartnerTable $IT_DIR/https.partners" >>"$IT_DIR/https.conf"
set +e
"$CTL" crl refresh --config "$IT_DIR/https.conf" "$https_url" \
    >"$IT_DIR/https-partner.out" 2>&1
st=$?
set -e
it_expect_eq "https CDP verified against the partner's anchor" 0 "$st"

# domsecd was stopped above (exit status checked there)
it_check "no sanitizer report in domsecd's log" \
    bash -c "! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' '$IT_DOMSECD_LOG'"
it_finish
