# SPDX-License-Identifier: BSD-2-Clause
# lib-common.sh - the harness every integration script shares: TAP-style
# assertions, a work directory removed on success and kept (with the tails
# of its logs) on failure, waits, PID tracking, free loopback ports, the
# CRL server (tests/crlserver.py) and the test PKI (tests/pki/mkpki.sh).
# lib-postfix.sh (a private Postfix and domsecd), lib-outbound.sh (the
# outbound namespace) and lib-sendmail.sh (real Sendmail) build on it.
#
# This file only defines functions: source it, do not run it.
#
#   . "$DOMSEC_TOP/tests/integration/lib-common.sh"
#   it_init [NAME]            # work dir $IT_DIR (pki in $IT_PKI), EXIT trap
#   it_pki_setup [NAME]       # it_init, it_crl_start and it_pki_build
#   it_crl_start              # CRL server: $IT_CRL_PORT, $IT_CRL_URL
#   it_pki_build              # the test PKI in $IT_PKI, CDPs at the server
#   it_big_crl CA N OUT       # a CRL of CA listing N random serials
#   it_check "what" COMMAND...; it_expect_eq "what" WANT GOT; it_status CMD...
#   it_finish                 # exit 1 when an assertion failed
#
# Hooks: a script or library adds function names to IT_CLEANUP_HOOKS (run
# first at exit, e.g. to stop a Postfix) and file names relative to $IT_DIR
# to IT_LOG_FILES (their last lines are shown when the test fails).

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "# lib-common.sh is the harness sourced by the integration tests"
	exit 0
fi

: "${DOMSEC_TOP:?set DOMSEC_TOP to the source tree}"
: "${DOMSEC_BUILD:?set DOMSEC_BUILD to the build directory}"

IT_FAILURES=0
IT_PIDS=""
IT_CLEANUP_HOOKS=""
IT_LOG_FILES=""

# ---- assertions ----------------------------------------------------------

it_ok() { echo "ok - $*"; }
it_not_ok() {
	echo "not ok - $*"
	IT_FAILURES=$((IT_FAILURES + 1))
}
# it_check DESCRIPTION COMMAND...: ok when COMMAND succeeds.
it_check() {
	local what=$1
	shift
	if "$@"; then it_ok "$what"; else it_not_ok "$what"; fi
}
# it_expect_eq DESCRIPTION EXPECTED ACTUAL
it_expect_eq() {
	if [ "$2" = "$3" ]; then
		it_ok "$1"
	else
		it_not_ok "$1 (expected '$2', got '$3')"
	fi
}
# it_status COMMAND...: prints COMMAND's exit status (its output discarded).
it_status() {
	local rc=0
	"$@" >/dev/null 2>&1 || rc=$?
	echo "$rc"
}
# Exit status for the end of a test script.
it_finish() {
	if [ "$IT_FAILURES" -gt 0 ]; then
		echo "$IT_FAILURES assertion(s) failed; work directory $IT_DIR kept" >&2
		IT_KEEP=1
		exit 1
	fi
	exit 0
}

# ---- work directory and cleanup --------------------------------------------

# it_init [NAME]: the work directory /tmp/domsec-NAME.XXXXXX (mode 0755: the
# Postfix processes, user postfix, walk into it) and the EXIT trap.
it_init() {
	IT_DIR=$(mktemp -d "/tmp/domsec-${1:-it}.XXXXXX")
	chmod 755 "$IT_DIR"
	IT_PKI=$IT_DIR/pki
	IT_KEEP=${IT_KEEP:-0}
	trap it_cleanup EXIT
	trap 'exit 130' INT TERM
}

it_cleanup() {
	local rc=$? hook pid f
	set +e
	for hook in $IT_CLEANUP_HOOKS; do
		"$hook"
	done
	for pid in $IT_PIDS; do
		it_stop_pid "$pid"
	done
	IT_PIDS=""
	if [ "${IT_KEEP:-0}" = 1 ] || [ "$rc" != 0 ] || [ "$IT_FAILURES" != 0 ]; then
		echo "work directory kept: $IT_DIR" >&2
		for f in $IT_LOG_FILES; do
			[ -f "$IT_DIR/$f" ] || continue
			echo "---- last lines of $f" >&2
			tail -n 30 "$IT_DIR/$f" >&2
		done
	elif [ -n "${IT_DIR:-}" ] && [ -d "$IT_DIR" ]; then
		rm -rf "$IT_DIR" || { sleep 1; rm -rf "$IT_DIR"; }
		# shellcheck disable=SC2086
		[ -n "${IT_EXTRA_DIRS:-}" ] && rm -rf $IT_EXTRA_DIRS
	fi
	return "$rc"
}

# it_pki_setup [NAME]: it_init, the CRL server and the PKI: where every
# test with certificates starts.
it_pki_setup() {
	it_init "${1:-it}"
	it_crl_start
	it_pki_build
}

# ---- processes, ports and waits -------------------------------------------

it_track_pid() { IT_PIDS="$IT_PIDS $1"; }

# it_gone PID: the process has exited (a zombie still answers kill -0).
it_gone() {
	[ -d "/proc/$1" ] || return 0
	grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

# it_stop_pid PID: SIGTERM, up to 5 s, then SIGKILL.
it_stop_pid() {
	local pid=$1 i
	kill "$pid" 2>/dev/null || return 0
	for i in $(seq 1 50); do
		it_gone "$pid" && break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# A port on 127.0.0.1 that was free a moment ago.
it_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# it_wait_file FILE [SECONDS]: until FILE exists and is not empty.
it_wait_file() {
	local i
	for i in $(seq 1 $((${2:-10} * 10))); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	echo "timed out waiting for $1" >&2
	return 1
}

# it_wait_addr ADDR PORT [SECONDS]: until something accepts on ADDR:PORT.
it_wait_addr() {
	local i
	for i in $(seq 1 $((${3:-10} * 10))); do
		if python3 -c 'import socket,sys; socket.create_connection((sys.argv[1],int(sys.argv[2])),0.5).close()' \
		    "$1" "$2" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "timed out waiting for $1:$2" >&2
	return 1
}

# it_wait_port PORT [SECONDS]: it_wait_addr on 127.0.0.1.
it_wait_port() { it_wait_addr 127.0.0.1 "$1" "${2:-10}"; }

# it_wait_log FILE REGEX [SECONDS]: until FILE has a line matching REGEX.
it_wait_log() {
	local i
	for i in $(seq 1 $((${3:-10} * 10))); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ---- CRL server and PKI -------------------------------------------------

# it_crl_start [ADDR]: tests/crlserver.py serving $IT_PKI/crl, requests
# logged to $IT_DIR/crl.log; IT_CRL_TRICKLE_S (default 3) is how long its
# trickle mode takes per file.
it_crl_start() {
	mkdir -p "$IT_PKI/crl"
	python3 "$DOMSEC_TOP/tests/crlserver.py" --dir "$IT_PKI/crl" \
	    --port-file "$IT_DIR/crl.port" --log "$IT_DIR/crl.log" \
	    --trickle-seconds "${IT_CRL_TRICKLE_S:-3}" \
	    >"$IT_DIR/crlserver.out" 2>&1 &
	it_track_pid $!
	it_wait_file "$IT_DIR/crl.port" || return 1
	IT_CRL_PORT=$(cat "$IT_DIR/crl.port")
	IT_CRL_URL=http://127.0.0.1:$IT_CRL_PORT
}

# it_crl_mode MODE: ok, 404, 500, garbage, hang, ... for all later requests.
it_crl_mode() {
	python3 -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5).read()' \
	    "$IT_CRL_URL/_mode/$1" >/dev/null
}

# it_crl_requests PATH: how many GET requests for PATH the CRL server saw.
it_crl_requests() {
	grep -c "^GET $1" "$IT_DIR/crl.log" 2>/dev/null || true
}

# it_fp LEAF: the SHA-256 fingerprint of the PKI's LEAF.pem, upper-case hex
# with colons (as Postfix reports it).
it_fp() {
	openssl x509 -in "$IT_PKI/$1.pem" -noout -fingerprint -sha256 | sed 's/.*=//'
}

# it_pki_build: tests/pki/mkpki.sh into $IT_PKI, CDPs at $IT_CRL_URL.
it_pki_build() {
	sh "$DOMSEC_TOP/tests/pki/mkpki.sh" "$IT_PKI" "$IT_CRL_URL" >"$IT_DIR/mkpki.out" 2>&1 || {
		cat "$IT_DIR/mkpki.out" >&2
		return 1
	}
	# Postfix reads its key and CA file as root, but keep them readable.
	chmod 755 "$IT_PKI"
}

# it_big_crl CA ENTRIES OUT: a current CRL (DER) of the PKI's CA (CA.pem,
# CA.key) listing ENTRIES random 16-octet serials (about 35 octets each),
# written by openssl ca -gencrl from a made-up index; nextUpdate in 30 days.
it_big_crl() {
	local ca=$1 n=$2 out=$3 work
	work=$(mktemp -d "$IT_DIR/bigcrl.XXXXXX")
	head -c $((n * 16)) /dev/urandom | od -An -v -tx1 -w16 | tr -d ' ' |
	    awk -v now="$(date -u +%y%m%d%H%M%SZ)" '{
		s = toupper($0); sub(/^[0-8]/, "1", s)     # positive, no 00
		printf "R\t491231235959Z\t%s\t%s\tunknown\t/CN=revoked\n", now, s
	    }' >"$work/index.txt"
	echo 01 >"$work/crlnumber"
	printf '%s\n' "[ ca ]" "default_ca = big" "[ big ]" \
	    "database = $work/index.txt" "crlnumber = $work/crlnumber" \
	    "default_md = sha256" "default_crl_days = 30" "unique_subject = no" \
	    >"$work/ca.cnf"
	openssl ca -batch -config "$work/ca.cnf" -gencrl -keyfile "$IT_PKI/$ca.key" \
	    -cert "$IT_PKI/$ca.pem" -out "$work/crl.pem" 2>"$work/err" &&
	    openssl crl -in "$work/crl.pem" -outform DER -out "$out" || {
		cat "$work/err" >&2
		return 1
	}
	rm -rf "$work"
}
