#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 41-domsecd-daemon.sh - domsecd as a daemon: -n checks the configuration
# (0 good, 78 bad, with file and line), a bad configuration refuses to
# start (78), a busy port is reported, background mode writes and removes
# its pid file, SIGTERM stops it cleanly, SIGHUP does not kill it.
# sanitize: yes
set -eu
. "$DOMSEC_TOP/tests/integration/lib-postfix.sh"

it_pki_setup
it_ports
it_domsecd_config "woodgrovebank.com mode=enforce"
d=$DOMSEC_BUILD/domsecd
conf=$IT_DIR/domsec.conf

out=$("$d" -n -c "$conf" 2>&1) && rc=0 || rc=$?
it_expect_eq "-n on a good configuration exits 0" 0 "$rc"
it_check "-n says the configuration is valid ($out)" grep -q 'valid' <<<"$out"
# -n creates nothing: no CRL cache, state or socket directory.
printf 'CRLCacheDir %s\nStateDir %s\nMilterSocket unix:%s\n' "$IT_DIR/n/cache" \
    "$IT_DIR/n/state" "$IT_DIR/n/sock/milter" >"$IT_DIR/n.conf"
"$d" -n -c "$IT_DIR/n.conf" >/dev/null 2>&1 && rc=0 || rc=$?
it_expect_eq "-n with directories that do not exist yet: exit 0" 0 "$rc"
it_check "-n created nothing" test ! -e "$IT_DIR/n"

cp "$conf" "$IT_DIR/bad.conf"
echo "NoSuchKey yes" >>"$IT_DIR/bad.conf"
out=$("$d" -n -c "$IT_DIR/bad.conf" 2>&1) && rc=0 || rc=$?
it_expect_eq "-n on an unknown key exits 78" 78 "$rc"
line=$(wc -l <"$IT_DIR/bad.conf")
it_check "the error names file and line ($out)" grep -q "bad.conf:$line" <<<"$out"
out=$("$d" -f -c "$IT_DIR/bad.conf" 2>&1) && rc=0 || rc=$?
it_expect_eq "a bad configuration refuses to start (78)" 78 "$rc"

sed 's/^PartnerTable .*/PartnerTable \/nonexistent\/partners/' "$conf" >"$IT_DIR/bad2.conf"
"$d" -n -c "$IT_DIR/bad2.conf" >/dev/null 2>&1 && rc=0 || rc=$?
it_expect_eq "a missing partner table exits 78" 78 "$rc"

grep -v -e '^MilterSocket' -e '^PolicySocket' "$conf" >"$IT_DIR/nofront.conf"
out=$("$d" -n -c "$IT_DIR/nofront.conf" 2>&1) && rc=0 || rc=$?
it_expect_eq "no front end configured exits 78" 78 "$rc"

sed 's/^PolicySocket .*/PolicySocket tcp:nonsense/' "$conf" >"$IT_DIR/badsock.conf"
out=$("$d" -n -c "$IT_DIR/badsock.conf" 2>&1) && rc=0 || rc=$?
it_expect_eq "a malformed socket exits 78" 78 "$rc"

out=$("$d" -x 2>&1) && rc=0 || rc=$?
it_expect_eq "an unknown option exits 64" 64 "$rc"

# A port in use is reported before detaching.
python3 -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); time.sleep(30)' "$IT_POLICY_PORT" &
blocker=$!
it_track_pid "$blocker"
it_wait_port "$IT_POLICY_PORT"
out=$("$d" -c "$conf" 2>&1) && rc=0 || rc=$?
it_check "a busy policy port is refused (exit $rc)" test "$rc" -ne 0
it_check "the error names the socket ($out)" grep -q "127.0.0.1:$IT_POLICY_PORT" <<<"$out"
it_stop_pid "$blocker"

# Background mode: the parent returns once the daemon serves.
"$d" -c "$conf" && rc=0 || rc=$?
it_expect_eq "background start exits 0" 0 "$rc"
it_check "pid file written" it_wait_file "$IT_DIR/domsecd.pid" 5
pid=$(cat "$IT_DIR/domsecd.pid")
it_track_pid "$pid"
it_check "the daemon runs as pid $pid" kill -0 "$pid"
it_check "milter port open" it_wait_port "$IT_MILTER_PORT"
it_check "policy port open" it_wait_port "$IT_POLICY_PORT"
kill -HUP "$pid"
sleep 0.5
it_check "SIGHUP does not stop it" kill -0 "$pid"
it_check "milter port still open after SIGHUP" it_wait_port "$IT_MILTER_PORT"
it_check "policy port still open after SIGHUP" it_wait_port "$IT_POLICY_PORT"
kill -TERM "$pid"
for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
it_check "SIGTERM stops it" bash -c "! kill -0 $pid 2>/dev/null"
it_check "pid file removed" test ! -e "$IT_DIR/domsecd.pid"
it_check "counters saved in StateDir" test -s "$IT_DIR/state/counters"
it_finish
