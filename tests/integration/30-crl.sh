#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 30-crl.sh - `domsecctl crl list` and `domsecctl crl refresh` against the
# real tests/crlserver.py and the test PKI: the on-disk cache (files 0600,
# written atomically, no temporary files left), survives a restart (a new
# process lists it without any request), conditional GET (304), and a bad
# fetch (garbage, wrongly signed, 500, hanging server) never replaces the
# good copy.
# sanitize: yes
set -eu

: "${DOMSEC_BUILD:?}" "${DOMSEC_TOP:?}"
CTL="$DOMSEC_BUILD/domsecctl"
work=$(mktemp -d /tmp/domsec-30-crl.XXXXXX)
srv_pid=
cleanup() {
	if [ -n "$srv_pid" ]; then
		kill "$srv_pid" 2>/dev/null || true
		wait "$srv_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

failures=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; failures=$((failures + 1)); }
check() {   # check DESCRIPTION COMMAND...: ok when the command succeeds
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# --- the CRL server and the PKI ---
mkdir -p "$work/pki/crl"
python3 "$DOMSEC_TOP/tests/crlserver.py" --dir "$work/pki/crl" \
    --port-file "$work/port" --log "$work/log" &
srv_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(cat "$work/port")
base="http://127.0.0.1:$port"
"$DOMSEC_TOP/tests/pki/mkpki.sh" "$work/pki" "$base"
mode() { curl -s --noproxy '*' "$base/_mode/$1" >/dev/null; }
requests() { grep -c "^GET $1" "$work/log" || true; }

cache="$work/cache"
conf="$work/domsec.conf"
cat >"$conf" <<EOF
CAFile $work/pki/root.pem
ChainFile $work/pki/inter.pem
CRLCacheDir $cache
CRLTimeout 2s
CRLDownloadTimeout 2s
CRLConnectTimeout 1s
EOF

# run WANT_STATUS OUTFILE ARGS... : runs domsecctl crl, checks the status
run() {
	local want=$1 out=$2 status
	shift 2
	set +e
	"$CTL" crl "$@" >"$out" 2>&1
	status=$?
	set -e
	if [ "$status" != "$want" ]; then
		not_ok "domsecctl crl $*: exit $status, expected $want: $(cat "$out")"
		return 1
	fi
	return 0
}

# --- empty cache ---
run 0 "$work/out" list --config "$conf" &&
    check "list on an empty cache says so" grep -q "no cached CRLs" "$work/out"

# --- first download ---
run 0 "$work/out" refresh --config "$conf" "$base/inter.crl" "$base/root.crl" &&
    check "refresh downloads the URLs given" \
    test "$(grep -c ': downloaded, 1 entry' "$work/out")" = 2
check "cache directory is private (0700)" test "$(stat -c %a "$cache")" = 700
n_files=$(find "$cache" -type f | wc -l)
n_private=$(find "$cache" -type f -perm 0600 | wc -l)
check "cache files are 0600 ($n_private of $n_files)" \
    test "$n_files" = 4 -a "$n_private" = 4
check "no temporary files left" \
    test "$(find "$cache" -name '.*' -type f | wc -l)" = 0
inter_file=$(grep -l "^url $base/inter.crl\$" "$cache"/*.meta)
inter_file=${inter_file%.meta}.crl
check "the cached inter.crl is the served DER" \
    cmp -s "$inter_file" "$work/pki/crl/inter.crl"
good_sum=$(sha256sum <"$inter_file")

# --- list after a restart: from disk, no network ---
before=$(requests /)
run 0 "$work/out" list --config "$conf" || true
check "list shows both CRLs from disk" \
    test "$(grep -c '^  origin:     disk' "$work/out")" = 2
check "list shows the issuer" grep -q "issuer:     CN=domsec Test Issuing CA" "$work/out"
check "list shows thisUpdate and nextUpdate" \
    grep -qE "nextUpdate: [0-9]{4}-[0-9]{2}-[0-9]{2} .* \(in " "$work/out"
check "list shows the entries" grep -q "entries:    1" "$work/out"
check "list made no request" test "$(requests /)" = "$before"

# --- domsecctl as root keeps the daemon's cache readable for the daemon ---
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	owned=$work/owned-cache
	mkdir -p "$owned"
	chown nobody "$owned"
	chmod 755 "$work" "$work/pki"
	sed "s|^CRLCacheDir .*|CRLCacheDir $owned|" "$conf" >"$work/owned.conf"
	chmod 644 "$work/owned.conf"
	run 0 "$work/out" refresh --config "$work/owned.conf" "$base/inter.crl" || true
	check "files root writes into nobody's cache belong to nobody" \
	    test "$(find "$owned" -type f ! -user nobody | wc -l)" = 0 -a \
	    "$(find "$owned" -type f | wc -l)" = 2
	set +e
	runuser -u nobody -- "$CTL" crl list --config "$work/owned.conf" >"$work/out" 2>&1
	set -e
	check "nobody (the daemon's user) reads them from disk" \
	    grep -q '^  origin:     disk' "$work/out"
	# A file it cannot read is said, not silently refetched.
	chown root "$owned"/*.crl
	set +e
	runuser -u nobody -- "$CTL" crl list --config "$work/owned.conf" >"$work/out" 2>&1
	set -e
	check "an unreadable cache file is logged with its path" \
	    grep -q "CRL cache: cannot read $owned/.*Permission denied" "$work/out"
fi

# --- conditional GET ---
run 0 "$work/out" refresh --config "$conf" --force &&
    check "forced refresh of an unchanged CRL says not modified" \
    test "$(grep -c 'not modified' "$work/out")" = 2
check "the server answered 304 twice" test "$(grep -c ' 304$' "$work/log")" = 2
run 0 "$work/out" refresh --config "$conf" &&
    check "nothing is due a month before nextUpdate" \
    grep -q "refreshed 0 CRLs" "$work/out"

# --- bad fetches keep the good copy ---
for m in garbage wrongkey 500 expired; do
	mode "$m"
	if run 75 "$work/out" refresh --config "$conf" "$base/inter.crl"; then
		check "$m: refresh fails and says the cached copy keeps serving" \
		    grep -q "failed: .*cached copy keeps serving" "$work/out"
	fi
	check "$m: the good copy is untouched on disk" \
	    test "$(sha256sum <"$inter_file")" = "$good_sum"
done
mode garbage
run 75 "$work/out" refresh --config "$conf" "$base/inter.crl" &&
    check "garbage is named as such" grep -q "not a CRL (garbage)" "$work/out"
mode wrongkey
run 75 "$work/out" refresh --config "$conf" "$base/inter.crl" &&
    check "a wrongly signed CRL is named as such" \
    grep -q "signature does not verify" "$work/out"
mode hang
start=$(date +%s)
run 75 "$work/out" refresh --config "$conf" "$base/inter.crl" &&
    check "a hanging server times out" grep -qi "timed out" "$work/out"
# domsecctl's budget is CRLDownloadTimeout (2 s here), not CRLTimeout
check "within the 2 s CRLDownloadTimeout (took $(( $(date +%s) - start )) s)" \
    test $(( $(date +%s) - start )) -le 4
mode ok
run 0 "$work/out" list --config "$conf" &&
    check "after all that, list still shows the good copy" \
    test "$(grep -c 'status:     good' "$work/out")" = 2

# --- protocol allow-list ---
run 75 "$work/out" refresh --config "$conf" "file:///etc/passwd" &&
    check "file:// is refused" grep -q "protocol not allowed" "$work/out"

# --- usage and configuration errors ---
run 64 "$work/out" frobnicate && ok "unknown action: usage error"
run 64 "$work/out" list --nonsense && ok "unknown option: usage error"
echo "CRLNonsense 1" >"$work/bad.conf"
run 78 "$work/out" list --config "$work/bad.conf" &&
    check "bad configuration: exit 78 naming the file" grep -q "bad.conf" "$work/out"

[ "$failures" -eq 0 ]
