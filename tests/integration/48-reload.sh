#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 48-reload.sh - operating domsecd live, against a real Postfix:
#   - while a steady stream of partner mail flows, SIGHUP (and `domsecctl
#     reload`) apply a partner-table change (monitor -> enforce), a new
#     partner and a new pin, without a single deferred message;
#   - a broken configuration is refused with FILE:LINE and the running one
#     stays in force;
#   - a setting that cannot change live (a socket) is named in the log;
#   - SIGTERM with an SMTP session open stops domsecd within seconds and
#     removes its pid file.
set -eu
. "$DOMSEC_TOP/tests/integration/lib-postfix.sh"

it_mail_setup
it_domsecd_config "woodgrovebank.com mode=monitor"
it_pin exact
it_pin revoked
metrics_port=$(it_free_port)
echo "MetricsSocket inet:$metrics_port@127.0.0.1" >>"$IT_DIR/domsec.conf"
it_domsecd_start
it_postfix_start
conf=$IT_DIR/domsec.conf
wgb=a@woodgrovebank.com

# --- before: monitor mode accepts a revoked certificate ----------------------
it_send_partner before-revoked "$wgb" revoked
it_expect_eq "monitor mode: revoked certificate accepted" 250 "$IT_REPLY"
it_send_partner before-fabrikam a@fabrikam.com fabrikam
f=$(it_delivered "$IT_ID" || true)
it_check "fabrikam not yet a partner: delivered untagged" \
    test "$(it_count_headers "$f" X-Domain-Secured '')" = 0

# --- a steady stream while the configuration changes twice ------------------
stream() {
	local i out=$IT_DIR/stream.txt
	: >"$out"
	for i in $(seq 1 30); do
		t0=$(date +%s%N)
		it_send_partner "stream-$i" "$wgb" exact
		echo "$IT_REPLY $IT_ID $t0 $(date +%s%N)" >>"$out"
	done
}
stream &
stream_pid=$!
sleep 2
printf '%s\n' "woodgrovebank.com mode=enforce" \
    "fabrikam.com mode=enforce ca=$IT_PKI/private-root.pem" >"$IT_DIR/partners"
it_pin fabrikam
it_log_mark
kill -HUP "$IT_DOMSECD_PID"
it_check "SIGHUP: reload logged" it_log_since "reloaded .*configuration 2, 2 partners"
sleep 2
it_log_mark
out=$("$DOMSEC_BUILD/domsecctl" reload --config "$conf")
it_check "domsecctl reload signals the running domsecd ($out)" grep -q "pid $IT_DOMSECD_PID" <<<"$out"
it_check "domsecctl reload: reload logged" it_log_since "reloaded .*configuration 3"
wait "$stream_pid"
it_expect_eq "30 stream messages, all accepted across two reloads" 30 \
    "$(grep -c '^250 ' "$IT_DIR/stream.txt")"
last=$(tail -n 1 "$IT_DIR/stream.txt" | cut -d' ' -f2)
f=$(it_delivered "$last" || true)
it_check "the last stream message is tagged" \
    test "$(it_count_headers "$f" X-Domain-Secured 'result=secured')" = 1
it_check "no deferral in Postfix's log during the stream" \
    bash -c "! grep -q 'milter-reject: .* 4[0-9][0-9] \\|status=deferred' '$IT_DIR/postfix/maillog'"

# --- after: enforce mode, the new partner and its pin ----------------------
it_send_partner after-revoked "$wgb" revoked
it_expect_eq "enforce mode after reload: revoked certificate refused" 550 "$IT_REPLY"
it_send_partner after-fabrikam a@fabrikam.com fabrikam
f=$(it_delivered "$IT_ID" || true)
it_check "new partner with a new pin after reload: tagged" \
    test "$(it_count_headers "$f" X-Domain-Secured 'domain=fabrikam.com')" = 1

# --- /metrics: Prometheus text, parsed by the Prometheus project's parser ----
metrics=$(curl -s --noproxy '*' "http://127.0.0.1:$metrics_port/metrics")
if /usr/bin/python3 -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
v = {}
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        v.setdefault(s.name, []).append((s.labels, s.value))
def one(name, **labels):
    return [x for l, x in v[name] if all(l.get(k) == w for k, w in labels.items())]
assert one("domsec_verdicts_total", verdict="secured")[0] >= 30
assert one("domsec_partner_verdicts_total", partner="woodgrovebank.com", verdict="secured")[0] >= 30
assert one("domsec_partner_verdicts_total", partner="fabrikam.com", verdict="secured")[0] == 1
assert 0 < one("domsec_partner_certificate_expiry_days", partner="woodgrovebank.com")[0] < 800
assert all(x > 0 for l, x in v["domsec_crl_next_update_seconds"]) and v["domsec_crl_next_update_seconds"]
assert v["domsec_crl_last_download_timestamp_seconds"]
' <<<"$metrics"; then
	it_ok "/metrics parses, with per-verdict, per-partner, certificate and CRL figures"
else
	it_not_ok "/metrics: $metrics"
fi
it_expect_eq "/metrics: another path is 404" 404 \
    "$(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' "http://127.0.0.1:$metrics_port/other")"

# --- a broken configuration keeps the running one ---------------------------
cp "$conf" "$IT_DIR/domsec.conf.good"
echo "CRLTimeout forever" >>"$conf"
it_log_mark
kill -HUP "$IT_DOMSECD_PID"
it_check "broken reload refused with FILE:LINE" \
    it_log_since "reload refused, the running configuration stays: $conf:[0-9]+: CRLTimeout"
out=$("$DOMSEC_BUILD/domsecctl" reload --config "$conf" 2>&1 || true)
it_check "domsecctl reload refuses to signal for a broken file ($out)" \
    grep -q "not reloading: $conf:[0-9]*: CRLTimeout" <<<"$out"
it_send_partner broken-revoked "$wgb" revoked
it_expect_eq "after the broken reload: still enforce (revoked refused)" 550 "$IT_REPLY"
it_send_partner broken-exact "$wgb" exact
it_expect_eq "after the broken reload: mail still accepted" 250 "$IT_REPLY"

# --- a setting that cannot change live is named ------------------------------
cp "$IT_DIR/domsec.conf.good" "$conf"
sed -i "s|^PolicySocket .*|PolicySocket inet:127.0.0.1:$(it_free_port)|" "$conf"
it_log_mark
kill -HUP "$IT_DOMSECD_PID"
it_check "a changed PolicySocket is named as needing a restart" \
    it_log_since "reload: PolicySocket changed in .*restarted"
cp "$IT_DIR/domsec.conf.good" "$conf"

# --- restart under a steady stream: nothing lost, few deferred ---------------
stream &
stream_pid=$!
sleep 2
start=$(date +%s%N)
it_domsecd_stop
it_domsecd_start
end=$(date +%s%N)
restart_ms=$(( (end - start) / 1000000 ))
wait "$stream_pid"
accepted=$(grep -c '^250 ' "$IT_DIR/stream.txt" || true)
deferred=$(grep -c '^4[0-9][0-9] ' "$IT_DIR/stream.txt" || true)
# A message "overlaps" the restart when its SMTP transaction was under way
# at some moment between SIGTERM and the new listeners accepting.
overlapping=$(awk -v s="$start" -v e="$end" '$3 <= e && $4 >= s' "$IT_DIR/stream.txt" | wc -l)
deferred_outside=$(awk -v s="$start" -v e="$end" '/^4/ && ($3 > e || $4 < s)' \
    "$IT_DIR/stream.txt" | wc -l)
echo "# restart took ${restart_ms} ms; of 30 messages $accepted accepted, $deferred deferred" \
    "(4xx, retried by the sender), $overlapping under way during the restart"
it_expect_eq "restart under a stream: every message accepted or deferred, none lost" 30 \
    $((accepted + deferred))
it_expect_eq "restart under a stream: only messages under way during the restart deferred" 0 \
    "$deferred_outside"
it_check "restart under a stream: some messages flowed while domsecd restarted" \
    test "$overlapping" -ge 1

# --- stop with an SMTP session open ------------------------------------------
python3 - "$IT_SMTPD_PORT" "$IT_DIR/held" <<'EOF' &
import smtplib, sys, time
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=60)
s.ehlo("mail.woodgrovebank.com")
s.mail("a@woodgrovebank.com")
open(sys.argv[2], "w").write("open\n")
time.sleep(20)
EOF
held=$!
it_track_pid "$held"
it_wait_file "$IT_DIR/held"
start=$(date +%s%N)
it_domsecd_stop
ms=$(( ($(date +%s%N) - start) / 1000000 ))
it_check "SIGTERM with an SMTP session open: stopped in ${ms} ms (< 5000)" test "$ms" -lt 5000
it_expect_eq "domsecd exit status" 0 "$IT_DOMSECD_STATUS"
it_check "pid file removed" test ! -e "$IT_DIR/domsecd.pid"
it_finish
