#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bench-mail.sh - make bench-mail: what domsec costs a receiving Postfix,
# measured against Postfix alone.  A benchmark, not a test (not part of
# make check): it prints figures and asserts only that every message was
# accepted.
#
# It starts, on loopback, six private Postfix instances (lib-postfix.sh)
# relaying to one smtp-sink (which stores nothing), all with the same TLS
# settings (smtpd_tls_ask_ccert, the test PKI's CA file, sha256
# fingerprints, TLS Received header):
#   A  Postfix alone;
#   N  Postfix with tests/bench/null_milter (registers the callbacks domsecd
#      registers and negotiates exactly what it negotiates, does nothing);
#   S  Postfix with domsecd as milter and policy service, configured as
#      contrib/postfix-main.cf says (B and C are sent to it);
#   D  Postfix with OpenDKIM from Debian (Mode v: verifying) as milter;
#   E  Postfix with the null milter accepting each message at RCPT
#      (SMFIS_ACCEPT), the floor of a design that lets non-partner mail
#      leave the milter before its headers (Postfix would strip forged
#      headers itself);
#   P  Postfix with a second domsecd configured with PostfixHeaderChecks:
#      `domsecctl postfix-config --apply` wrote its header_checks table,
#      and domsecd accepts non-partner mail at MAIL (case H).
# and sends with tests/bench/mailsend.c (STARTTLS with a client certificate,
# BENCH_CONNS parallel connections, BENCH_K messages per connection, about
# 20 header fields and 3 KB per message) the cases
#   A, N; B: partner mail (woodgrovebank.com, enforce, pinned certificate);
#   C: non-partner mail (example.org, same certificate); D;
#   H: non-partner mail to P (PostfixHeaderChecks).
# Each round runs every case once, in a rotating order (interleaved); each
# case of a round is timed by the sender (messages/s) and charged the CPU
# of the receiving side: the Postfix instance's whole process tree (master
# and its children, reaped ones included: proc_cpu.py) plus the milter
# process, read before the send and after the instance's queue has
# drained (delivery to the sink included).  Ratios are taken per round
# (both cases ran seconds apart) and reported as min and median.  The
# same again with one message per connection.
#
# The milters listen where their shipped configurations put them: on unix
# sockets (domsecd's MilterSocket and PolicySocket, OpenDKIM's Debian
# default); BENCH_SOCKETS=inet puts all of them on loopback TCP instead.
#
# Environment: BENCH_ROUNDS (3), BENCH_CONNS (4), BENCH_K (25 messages per
# connection), BENCH_N (4 connections per sender thread), BENCH_N1 (50
# one-message connections per thread); DOMSEC_BENCH_KEEP=1 keeps the work
# directory.  Needs root (private Postfix instances), postfix, smtp-sink,
# opendkim (Debian package opendkim; D is skipped without it), python3,
# openssl.
set -eu
: "${DOMSEC_TOP:?}"
: "${DOMSEC_BUILD:?}"
. "$DOMSEC_TOP/tests/integration/lib-postfix.sh"

ROUNDS=${BENCH_ROUNDS:-3}
SOCKETS=${BENCH_SOCKETS:-unix}
CONNS=${BENCH_CONNS:-4}
K=${BENCH_K:-25}
NCONN=${BENCH_N:-4}
N1=${BENCH_N1:-50}
SEND=$DOMSEC_BUILD/bench/mailsend
NULLM=$DOMSEC_BUILD/bench/null_milter
CPU="python3 $DOMSEC_TOP/tests/bench/proc_cpu.py"
TCK=$(getconf CLK_TCK)

for tool in postfix postconf smtp-sink python3 openssl; do
	command -v "$tool" >/dev/null || { echo "bench-mail: $tool missing" >&2; exit 1; }
done
[ -x "$SEND" ] && [ -x "$NULLM" ] || { echo "bench-mail: build $SEND and $NULLM" >&2; exit 1; }
HAVE_DKIM=0
command -v opendkim >/dev/null && HAVE_DKIM=1

IT_KEEP=${DOMSEC_BENCH_KEEP:-0}
it_init
BM_DIR=$IT_DIR
BM_INSTANCES=""
bm_cleanup() {
	local rc=$? i
	set +e
	for i in $BM_INSTANCES; do
		postfix -c "$BM_DIR/$i/postfix/etc" stop >/dev/null 2>&1
	done
	sleep 1
	IT_DIR=$BM_DIR
	IT_POSTFIX_UP=0
	(exit $rc)
	it_cleanup
}
trap bm_cleanup EXIT

echo "bench-mail: setting up in $BM_DIR (PKI, CRL server, sink, 6 Postfix instances)"
it_crl_start
it_pki_build
mkdir -p "$BM_DIR/sink"
IT_SINK_PORT=$(it_free_port)
smtp-sink -u postfix "127.0.0.1:$IT_SINK_PORT" 256 >"$BM_DIR/sink.out" 2>&1 &
it_track_pid $!
it_wait_port "$IT_SINK_PORT"

# bm_base NAME [MILTER_SPEC]: main.cf base for an instance without domsec:
# the TLS settings of contrib/postfix-main.cf, and the milter if given.
bm_base() {
	local pf=$BM_DIR/$1/postfix
	{
		echo "smtpd_tls_security_level = may"
		echo "smtpd_tls_ask_ccert = yes"
		echo "smtpd_tls_CAfile = $pf/etc/clientca.pem"
		echo "smtpd_tls_fingerprint_digest = sha256"
		echo "smtpd_tls_loglevel = 1"
		echo "smtpd_tls_received_header = yes"
		if [ -n "${2:-}" ]; then
			echo "smtpd_milters = $2"
			echo "non_smtpd_milters = $2"
			echo "milter_default_action = tempfail"
			echo "milter_protocol = 6"
		fi
	} >"$BM_DIR/$1.base"
}

# bm_postfix NAME: starts the instance under $BM_DIR/NAME (lib-postfix.sh's
# it_postfix_start with IT_DIR pointing there); sets PORT_<NAME>.
bm_postfix() {
	local name=$1
	mkdir -p "$BM_DIR/$name"
	chmod 755 "$BM_DIR/$name"
	IT_DIR=$BM_DIR/$name
	IT_SMTPD_PORT=$(it_free_port)
	it_postfix_start
	IT_DIR=$BM_DIR
	IT_POSTFIX_UP=0
	BM_INSTANCES="$BM_INSTANCES $name"
	eval "PORT_$name=$IT_SMTPD_PORT"
}

master_pid() { cat "$BM_DIR/$1/postfix/queue/pid/master.pid" 2>/dev/null | tr -d ' '; }

it_ports   # domsecd's milter and policy ports (lib-postfix.sh needs them set)
mkdir -p "$BM_DIR/run"
chmod 755 "$BM_DIR/run"

# bm_wait_socket SPEC: until the milter's unix socket or inet port answers.
bm_wait_socket() {
	local i
	case $1 in
	unix:*)
		for i in $(seq 1 100); do [ -S "${1#unix:}" ] && return 0; sleep 0.1; done
		return 1 ;;
	*) it_wait_port "${1##*:}" ;;
	esac
}
# bm_spec NAME: where milter NAME listens, in Postfix's notation.
bm_spec() {
	if [ "$SOCKETS" = unix ]; then
		echo "unix:$BM_DIR/run/$1.sock"
	else
		echo "inet:127.0.0.1:$(it_free_port)"
	fi
}

# A: Postfix alone
bm_base A
IT_POSTFIX_BASE=$BM_DIR/A.base bm_postfix A

# N: the null milter
NULL_SPEC=$(bm_spec null)
case $NULL_SPEC in
unix:*) nm_conn=$NULL_SPEC ;;
*) nm_conn="inet:${NULL_SPEC##*:}@127.0.0.1" ;;
esac
(umask 0; exec "$NULLM" "$nm_conn") >"$BM_DIR/null_milter.log" 2>&1 &
NULL_PID=$!
it_track_pid $NULL_PID
bm_wait_socket "$NULL_SPEC"
bm_base N "$NULL_SPEC"
IT_POSTFIX_BASE=$BM_DIR/N.base bm_postfix N

# E: the null milter accepting at RCPT
NULLA_SPEC=$(bm_spec nulla)
case $NULLA_SPEC in
unix:*) nm_conn=$NULLA_SPEC ;;
*) nm_conn="inet:${NULLA_SPEC##*:}@127.0.0.1" ;;
esac
(umask 0; exec "$NULLM" -a "$nm_conn") >"$BM_DIR/null_milter_a.log" 2>&1 &
NULLA_PID=$!
it_track_pid $NULLA_PID
bm_wait_socket "$NULLA_SPEC"
bm_base E "$NULLA_SPEC"
IT_POSTFIX_BASE=$BM_DIR/E.base bm_postfix E

# S: domsecd (milter and policy service), woodgrovebank.com in enforce mode
# with its certificate pinned; logging at info, as in production.
mkdir -p "$BM_DIR/S"
it_domsecd_config "woodgrovebank.com mode=enforce"
sed -i 's/^LogLevel .*/LogLevel          info/' "$BM_DIR/domsec.conf"
it_pin exact
if [ "$SOCKETS" = unix ]; then
	DS_MILTER=unix:$BM_DIR/run/domsec-milter.sock
	DS_POLICY=unix:$BM_DIR/run/domsec-policy.sock
	sed -i -e "s|^MilterSocket .*|MilterSocket $DS_MILTER|" \
	    -e "s|^PolicySocket .*|PolicySocket $DS_POLICY|" "$BM_DIR/domsec.conf"
	IT_DOMSECD_LOG=$BM_DIR/domsecd.log
	"$DOMSEC_BUILD/domsecd" -f -c "$BM_DIR/domsec.conf" >>"$IT_DOMSECD_LOG" 2>&1 &
	IT_DOMSECD_PID=$!
	it_track_pid "$IT_DOMSECD_PID"
	bm_wait_socket "$DS_MILTER" && bm_wait_socket "$DS_POLICY"
	IT_POSTFIX_EXTRA="smtpd_milters = $DS_MILTER
non_smtpd_milters = $DS_MILTER
smtpd_recipient_restrictions = check_policy_service { $DS_POLICY, timeout=30s, default_action=DEFER_IF_PERMIT } reject_unauth_destination"
else
	it_domsecd_start
fi
unset IT_POSTFIX_BASE
bm_postfix S
IT_POSTFIX_EXTRA=

# P: a second domsecd with PostfixHeaderChecks; postfix-config writes the
# table into P's configuration and lists it in header_checks.
mkdir -p "$BM_DIR/P" "$BM_DIR/state-p"
pf_p=$BM_DIR/P/postfix/etc
if [ "$SOCKETS" = unix ]; then
	DSP_MILTER=unix:$BM_DIR/run/domsec-p-milter.sock
	DSP_POLICY=unix:$BM_DIR/run/domsec-p-policy.sock
	dsp_milter_pf=$DSP_MILTER
	dsp_policy_pf=$DSP_POLICY
else
	p1=$(it_free_port)
	p2=$(it_free_port)
	DSP_MILTER=inet:$p1@127.0.0.1
	DSP_POLICY=inet:127.0.0.1:$p2
	dsp_milter_pf=inet:127.0.0.1:$p1
	dsp_policy_pf=inet:127.0.0.1:$p2
fi
sed -e "s|^MilterSocket .*|MilterSocket $DSP_MILTER|" \
    -e "s|^PolicySocket .*|PolicySocket $DSP_POLICY|" \
    -e "s|^StateDir .*|StateDir $BM_DIR/state-p|" \
    -e "s|^PidFile .*|PidFile $BM_DIR/domsecd-p.pid|" \
    "$BM_DIR/domsec.conf" >"$BM_DIR/domsec-p.conf"
echo "PostfixHeaderChecks $pf_p/domsec_header_checks" >>"$BM_DIR/domsec-p.conf"
IT_POSTFIX_EXTRA="smtpd_milters = $dsp_milter_pf
non_smtpd_milters = $dsp_milter_pf
smtpd_recipient_restrictions = check_policy_service { $dsp_policy_pf, timeout=30s, default_action=DEFER_IF_PERMIT } reject_unauth_destination"
bm_postfix P
IT_POSTFIX_EXTRA=
"$DOMSEC_BUILD/domsecctl" postfix-config --config "$BM_DIR/domsec-p.conf" \
    -c "$pf_p" --apply >"$BM_DIR/postfix-config-p.out" 2>&1
postfix -c "$pf_p" reload >/dev/null 2>&1
DSP_LOG=$BM_DIR/domsecd-p.log
"$DOMSEC_BUILD/domsecd" -f -c "$BM_DIR/domsec-p.conf" >>"$DSP_LOG" 2>&1 &
DSP_PID=$!
it_track_pid "$DSP_PID"
bm_wait_socket "$DSP_MILTER" && bm_wait_socket "$DSP_POLICY"

# D: OpenDKIM, verifying
if [ "$HAVE_DKIM" = 1 ]; then
	DKIM_SPEC=$(bm_spec opendkim)
	case $DKIM_SPEC in
	unix:*) dk_sock=local:${DKIM_SPEC#unix:} ;;
	*) dk_sock="inet:${DKIM_SPEC##*:}@127.0.0.1" ;;
	esac
	cat >"$BM_DIR/opendkim.conf" <<EOF
Mode            v
Socket          $dk_sock
UMask           000
Syslog          no
Background      no
AuthservID      mx.contoso.com
PidFile         $BM_DIR/opendkim.pid
EOF
	opendkim -f -x "$BM_DIR/opendkim.conf" >"$BM_DIR/opendkim.log" 2>&1 &
	DKIM_PID=$!
	it_track_pid $DKIM_PID
	bm_wait_socket "$DKIM_SPEC"
	bm_base D "$DKIM_SPEC"
	IT_POSTFIX_BASE=$BM_DIR/D.base bm_postfix D
fi

# case -> instance, milter pid, sender
inst_of() { case $1 in B|C) echo S ;; H) echo P ;; *) echo "$1" ;; esac; }
milter_of() {
	case $1 in
	N) echo "$NULL_PID" ;;
	E) echo "$NULLA_PID" ;;
	B|C) echo "$IT_DOMSECD_PID" ;;
	H) echo "$DSP_PID" ;;
	D) echo "$DKIM_PID" ;;
	*) echo "" ;;
	esac
}
sender_of() { case $1 in B) echo a@woodgrovebank.com ;; *) echo a@example.org ;; esac; }

# bm_drain NAME: waits (at most 120 s) until the instance's queue is empty.
bm_drain() {
	local q=$BM_DIR/$1/postfix/queue i n
	for i in $(seq 1 1200); do
		n=$(find "$q/incoming" "$q/active" "$q/maildrop" -type f 2>/dev/null | wc -l)
		[ "$n" = 0 ] && return 0
		sleep 0.1
	done
	echo "bench-mail: queue of $1 did not drain ($n left)" >&2
	return 1
}

# bm_run VARIANT CASE ROUND K NCONN: one timed send; appends a line to
# $BM_DIR/results: variant case round sent refused failed seconds
# postfix_ticks milter_ticks
bm_run() {
	local variant=$1 c=$2 round=$3 k=$4 n=$5
	local inst mpid port master before after out
	inst=$(inst_of "$c")
	mpid=$(milter_of "$c")
	port=$(eval echo "\$PORT_$inst")
	master=$(master_pid "$inst")
	bm_drain "$inst"
	before=$($CPU "$master" ${mpid:-0})
	out=$("$SEND" -p "$port" -c "$CONNS" -k "$k" -n "$n" \
	    -C "$IT_PKI/exact.pem" -K "$IT_PKI/exact.key" -f "$(sender_of "$c")" \
	    -r b@contoso.com)
	bm_drain "$inst"
	after=$($CPU "$master" ${mpid:-0})
	# shellcheck disable=SC2086
	set -- $before $after
	local pft=$(($3 - $1)) mt=$(($4 - $2))
	local sent refused failed secs
	sent=$(sed -E 's/.*sent=([0-9]+).*/\1/' <<<"$out")
	refused=$(sed -E 's/.*refused=([0-9]+).*/\1/' <<<"$out")
	failed=$(sed -E 's/.*failed=([0-9]+).*/\1/' <<<"$out")
	secs=$(sed -E 's/.*seconds=([0-9.]+).*/\1/' <<<"$out")
	echo "$variant $c $round $sent $refused $failed $secs $pft $mt" >>"$BM_DIR/results"
	if [ "$refused" != 0 ] || [ "$failed" != 0 ]; then
		echo "bench-mail: case $c ($variant) round $round: $out" >&2
	fi
}

CASES="A N E B C H"
[ "$HAVE_DKIM" = 1 ] && CASES="$CASES D"

# Warm up every path (CRL fetch, certificate, TLS session cache, process
# pools) and check that B is really tagged as secured.
: >"$BM_DIR/results"
for c in $CASES; do
	"$SEND" -p "$(eval echo "\$PORT_$(inst_of "$c")")" -c 2 -k 5 -n 1 \
	    -C "$IT_PKI/exact.pem" -K "$IT_PKI/exact.key" -f "$(sender_of "$c")" \
	    -r b@contoso.com >"$BM_DIR/warmup-$c.out"
	bm_drain "$(inst_of "$c")"
done
if ! grep -q 'verdict=secured .*domain=woodgrovebank.com' "$IT_DOMSECD_LOG"; then
	echo "bench-mail: partner mail was not secured in the warm-up; see $IT_DOMSECD_LOG" >&2
	tail -n 20 "$IT_DOMSECD_LOG" >&2
	exit 1
fi
if ! grep -q 'PostfixHeaderChecks: Postfix applies' "$DSP_LOG" ||
    grep -q 'error: PostfixHeaderChecks' "$DSP_LOG"; then
	echo "bench-mail: the second domsecd does not trust its header_checks table:" >&2
	grep 'PostfixHeaderChecks' "$DSP_LOG" >&2
	exit 1
fi

echo "bench-mail: $ROUNDS rounds; cases:$CASES; milters on $SOCKETS sockets; $CONNS connections;" \
    "reused: $K messages per connection x $NCONN; one-per-connection: $N1"
for round in $(seq 1 "$ROUNDS"); do
	# rotate the order of the cases each round
	set -- $CASES
	order=""
	for i in $(seq 1 $(((round - 1) % $#))); do
		first=$1
		shift
		set -- "$@" "$first"
	done
	order="$*"
	for c in $order; do
		bm_run reuse "$c" "$round" "$K" "$NCONN"
	done
	for c in $order; do
		bm_run single "$c" "$round" 1 "$N1"
	done
	echo "bench-mail: round $round done"
done

python3 - "$BM_DIR/results" "$TCK" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
tck = float(sys.argv[2])
data = {}
for v, c, r, sent, refused, failed, secs, pft, mt in rows:
    sent = int(sent)
    d = data.setdefault(v, {}).setdefault(c, {})
    d[int(r)] = dict(rate=sent / float(secs), sent=sent,
                     bad=int(refused) + int(failed),
                     pf=int(pft) / tck * 1000 / max(sent, 1),
                     mt=int(mt) / tck * 1000 / max(sent, 1))
def mm(xs):
    return "%7.3f %7.3f" % (min(xs), statistics.median(xs))
names = {"A": "Postfix alone", "N": "null milter",
         "E": "null, accept@RCPT", "B": "domsec, partner",
         "C": "domsec, non-partner", "D": "OpenDKIM verifying",
         "H": "domsec, non-p., PHC"}
for v, title in (("reuse", "messages reused per connection"),
                 ("single", "one message per connection")):
    if v not in data:
        continue
    print()
    print("== %s" % title)
    print("%-22s %15s %17s %17s %17s %5s" % ("case", "msgs/s min  med",
          "postfix ms/msg", "milter ms/msg", "total ms/msg", "bad"))
    for c in ("A", "N", "E", "B", "C", "H", "D"):
        if c not in data[v]:
            continue
        rs = data[v][c].values()
        rates = [x["rate"] for x in rs]
        pf = [x["pf"] for x in rs]
        mt = [x["mt"] for x in rs]
        tot = [x["pf"] + x["mt"] for x in rs]
        print("%-22s %7.0f %7.0f %s %s %s %5d" % (
            "%s %s" % (c, names[c]), min(rates), statistics.median(rates),
            mm(pf), mm(mt), mm(tot), sum(x["bad"] for x in rs)))
    print("%-22s %21s %29s" % ("ratio (per round)", "msgs/s min   med",
          "receiving CPU/msg min   med"))
    for a, b, target in (("B", "A", 0.85), ("C", "A", None),
                         ("H", "A", 0.97), ("B", "N", 0.97),
                         ("D", "A", None), ("N", "A", None),
                         ("E", "A", None), ("H", "E", None)):
        if a not in data[v] or b not in data[v]:
            continue
        rounds = sorted(set(data[v][a]) & set(data[v][b]))
        rr = [data[v][a][r]["rate"] / data[v][b][r]["rate"] for r in rounds]
        cr = [(data[v][a][r]["pf"] + data[v][a][r]["mt"]) /
              max(data[v][b][r]["pf"] + data[v][b][r]["mt"], 1e-9)
              for r in rounds]
        t = ("target >= %.2f: %s" % (target, "met" if statistics.median(rr)
             >= target else "missed")) if target else ""
        print("%-22s %10.3f %8.3f %18.3f %8.3f   %s" % (
            "%s/%s" % (a, b), min(rr), statistics.median(rr), min(cr),
            statistics.median(cr), t))
    if "B" in data[v]:
        bm = statistics.median(x["mt"] for x in data[v]["B"].values())
        print("domsecd CPU per partner message (median): %.3f ms "
              "(target <= 0.3 ms: %s)" % (bm, "met" if bm <= 0.3 else "missed"))
EOF
