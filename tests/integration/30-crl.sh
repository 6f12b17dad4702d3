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

. "$DOMSEC_TOP/tests/integration/lib-common.sh"
CTL="$DOMSEC_BUILD/domsecctl"
it_init 30-crl
work=$IT_DIR

# --- the CRL server and the PKI ---
it_crl_start
it_pki_build
base=$IT_CRL_URL

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
		it_not_ok "domsecctl crl $*: exit $status, expected $want: $(cat "$out")"
		return 1
	fi
	return 0
}

# --- empty cache ---
run 0 "$work/out" list --config "$conf" &&
    it_check "list on an empty cache says so" grep -q "no cached CRLs" "$work/out"

# --- first download ---
run 0 "$work/out" refresh --config "$conf" "$base/inter.crl" "$base/root.crl" &&
    it_check "refresh downloads the URLs given" \
    test "$(grep -c ': downloaded, 1 entry' "$work/out")" = 2
it_check "cache directory is private (0700)" test "$(stat -c %a "$cache")" = 700
n_files=$(find "$cache" -type f | wc -l)
n_private=$(find "$cache" -type f -perm 0600 | wc -l)
it_check "cache files are 0600 ($n_private of $n_files)" \
    test "$n_files" = 4 -a "$n_private" = 4
it_check "no temporary files left" \
    test "$(find "$cache" -name '.*' -type f | wc -l)" = 0
inter_file=$(grep -l "^url $base/inter.crl\$" "$cache"/*.meta)
inter_file=${inter_file%.meta}.crl
it_check "the cached inter.crl is the served DER" \
    cmp -s "$inter_file" "$work/pki/crl/inter.crl"
good_sum=$(sha256sum <"$inter_file")

# --- list after a restart: from disk, no network ---
before=$(it_crl_requests /)
run 0 "$work/out" list --config "$conf" || true
it_check "list shows both CRLs from disk" \
    test "$(grep -c '^  origin:     disk' "$work/out")" = 2
it_check "list shows the issuer" grep -q "issuer:     CN=domsec Test Issuing CA" "$work/out"
it_check "list shows thisUpdate and nextUpdate" \
    grep -qE "nextUpdate: [0-9]{4}-[0-9]{2}-[0-9]{2} .* \(in " "$work/out"
it_check "list shows the entries" grep -q "entries:    1" "$work/out"
it_check "list made no request" test "$(it_crl_requests /)" = "$before"

# --- domsecctl as root keeps the daemon's cache readable for the daemon ---
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	owned=$work/owned-cache
	mkdir -p "$owned"
	chown nobody "$owned"
	chmod 755 "$work" "$work/pki"
	sed "s|^CRLCacheDir .*|CRLCacheDir $owned|" "$conf" >"$work/owned.conf"
	chmod 644 "$work/owned.conf"
	run 0 "$work/out" refresh --config "$work/owned.conf" "$base/inter.crl" || true
	it_check "files root writes into nobody's cache belong to nobody" \
	    test "$(find "$owned" -type f ! -user nobody | wc -l)" = 0 -a \
	    "$(find "$owned" -type f | wc -l)" = 2
	set +e
	runuser -u nobody -- "$CTL" crl list --config "$work/owned.conf" >"$work/out" 2>&1
	set -e
	it_check "nobody (the daemon's user) reads them from disk" \
	    grep -q '^  origin:     disk' "$work/out"
	# A file it cannot read is said, not silently refetched.
	chown root "$owned"/*.crl
	set +e
	runuser -u nobody -- "$CTL" crl list --config "$work/owned.conf" >"$work/out" 2>&1
	set -e
	it_check "an unreadable cache file is logged with its path" \
	    grep -q "CRL cache: cannot read $owned/.*Permission denied" "$work/out"
fi

# --- conditional GET ---
run 0 "$work/out" refresh --config "$conf" --force &&
    it_check "forced refresh of an unchanged CRL says not modified" \
    test "$(grep -c 'not modified' "$work/out")" = 2
it_check "the server answered 304 twice" test "$(grep -c ' 304$' "$IT_DIR/crl.log")" = 2
run 0 "$work/out" refresh --config "$conf" &&
    it_check "nothing is due a month before nextUpdate" \
    grep -q "refreshed 0 CRLs" "$work/out"

# --- bad fetches keep the good copy ---
for m in garbage wrongkey 500 expired; do
	it_crl_mode "$m"
	if run 75 "$work/out" refresh --config "$conf" "$base/inter.crl"; then
		it_check "$m: refresh fails and says the cached copy keeps serving" \
		    grep -q "failed: .*cached copy keeps serving" "$work/out"
	fi
	it_check "$m: the good copy is untouched on disk" \
	    test "$(sha256sum <"$inter_file")" = "$good_sum"
done
it_crl_mode garbage
run 75 "$work/out" refresh --config "$conf" "$base/inter.crl" &&
    it_check "garbage is named as such" grep -q "not a CRL (garbage)" "$work/out"
it_crl_mode wrongkey
run 75 "$work/out" refresh --config "$conf" "$base/inter.crl" &&
    it_check "a wrongly signed CRL is named as such" \
    grep -q "signature does not verify" "$work/out"
it_crl_mode hang
start=$(date +%s)
run 75 "$work/out" refresh --config "$conf" "$base/inter.crl" &&
    it_check "a hanging server times out" grep -qi "timed out" "$work/out"
# domsecctl's budget is CRLDownloadTimeout (2 s here), not CRLTimeout
it_check "within the 2 s CRLDownloadTimeout (took $(( $(date +%s) - start )) s)" \
    test $(( $(date +%s) - start )) -le 4
it_crl_mode ok
run 0 "$work/out" list --config "$conf" &&
    it_check "after all that, list still shows the good copy" \
    test "$(grep -c 'status:     good' "$work/out")" = 2

# --- protocol allow-list ---
run 75 "$work/out" refresh --config "$conf" "file:///etc/passwd" &&
    it_check "file:// is refused" grep -q "protocol not allowed" "$work/out"

# --- usage and configuration errors ---
run 64 "$work/out" frobnicate && it_ok "unknown action: usage error"
run 64 "$work/out" list --nonsense && it_ok "unknown option: usage error"
echo "CRLNonsense 1" >"$work/bad.conf"
run 78 "$work/out" list --config "$work/bad.conf" &&
    it_check "bad configuration: exit 78 naming the file" grep -q "bad.conf" "$work/out"

it_finish
