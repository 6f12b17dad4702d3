#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 10-config.sh - domsecctl check-config on good and bad configurations and
# partner tables: exit 0 with a summary, or exit 78 with "FILE:LINE:" and
# the problem; the samples in conf/ load and stay in sync with the keys
# domsec accepts and with domsec.conf(5).
# sanitize: yes
set -eu

. "$DOMSEC_TOP/tests/integration/lib-common.sh"
CTL="$DOMSEC_BUILD/domsecctl"
it_init 10-config
work=$IT_DIR

run() {
	local name=$1 want=$2 out status
	shift 2
	set +e
	out=$("$CTL" check-config --config "$work/$name.conf" 2>&1)
	status=$?
	set -e
	last_out=$out
	if [ "$status" != "$want" ]; then
		it_not_ok "$name: exit $status, expected $want; output: $out"
		return
	fi
	for pattern in "$@"; do
		if ! grep -qE -- "$pattern" <<<"$out"; then
			it_not_ok "$name: output lacks /$pattern/: $out"
			return
		fi
	done
	if [ $# -eq 1 ]; then
		it_ok "$name: exit $want, output matches /$1/"
	else
		it_ok "$name: exit $want, output matches all $# patterns"
	fi
}

# Certificates for ca= and pin= (any PEM certificate will do).
mkcert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$work/$1.key" -out "$work/$1.pem" -days 2 -subj "/CN=$2" \
	    2>/dev/null
}
mkcert wgb-root "Woodgrove Root"
mkcert wgb-pin mail.woodgrovebank.com
echo "not a certificate" > "$work/garbage.pem"
mkdir "$work/pins"

cat > "$work/partners" <<'P'
# partners for the test
woodgrovebank.com  direction=both mode=enforce revocation=require \
                   ca=wgb-root.pem pin=wgb-pin.pem
.tailspin.com      mode=monitor revocation=soft
fabrikam.com       direction=send revocation=none
P

cat > "$work/good.conf" <<C
# a good configuration
PartnerTable      partners
CAFile            wgb-root.pem
PinnedCertDir     pins
MilterSocket      inet:8891@127.0.0.1
PolicySocket      unix:$work/policy.sock
socketmapsocket   inet:127.0.0.1:8893   # keys are case-insensitive
CRLTimeout        10s
CRLConnectTimeout 2s
CRLProxy          http://proxy.example:3128
TrustedRelays     127.0.0.1, ::1
C
run good 0 '^configuration OK' \
    'woodgrovebank\.com +direction=both mode=enforce revocation=require' \
    'ca=.*wgb-root\.pem' 'pin=.*wgb-pin\.pem' \
    '\.tailspin\.com +direction=both mode=monitor revocation=soft' \
    'fabrikam\.com +direction=send mode=enforce revocation=none' \
    'MilterSocket +inet:8891@127\.0\.0\.1' 'SocketmapSocket +inet:127\.0\.0\.1:8893' \
    'timeouts +connect 2s, total 10s' 'CRLProxy +http://proxy\.example:3128'

# The new CRL keys, and the proxy password masked in the summary.
cat > "$work/crlkeys.conf" <<C
CRLTimeout          5s
CRLDownloadTimeout  20m
CRLLowSpeedLimit    2k
CRLLowSpeedTime     30s
CRLProxy            http://squid:Secr3tPw@proxy.example:3128
CRLNoProxy          pki.example.com, .corp.example
CRLProxyLDAP        no
C
run crlkeys 0 '^configuration OK' 'CRLDownloadTimeout +20m' \
    'CRLLowSpeedLimit +2048 bytes/s over 30s' \
    'CRLProxy +http://squid:\*\*\*\*@proxy\.example:3128' \
    'CRLNoProxy +pki\.example\.com,\.corp\.example' 'CRLProxyLDAP +no'
if grep -q Secr3tPw <<<"$last_out"; then
	it_not_ok "check-config prints the proxy password"
else
	it_ok "check-config masks the proxy password"
fi
printf 'CRLProxy htp://u:Secr3tPw@proxy\n' > "$work/badproxy.conf"
run badproxy 78 'CRLProxy: .*not a proxy URL'
if grep -q Secr3tPw <<<"$last_out"; then
	it_not_ok "a CRLProxy error prints the password"
else
	it_ok "a CRLProxy error masks the password"
fi

# --- bad main configurations: file and line named ---
printf 'LogLevel info\n\nFrobnicate yes\n' > "$work/unknown-key.conf"
run unknown-key 78 "unknown-key\.conf:3: unknown key \"Frobnicate\""

printf '# timeouts\nCRLTimeout 15 seconds\n' > "$work/bad-duration.conf"
run bad-duration 78 "bad-duration\.conf:2: CRLTimeout: .*not a duration"

printf 'CRLTimeout 5s\nCRLTimeout 6s\n' > "$work/duplicate-key.conf"
run duplicate-key 78 "duplicate-key\.conf:2: CRLTimeout is already set at line 1"

printf 'MilterSocket 8891@127.0.0.1\n' > "$work/bad-socket.conf"
run bad-socket 78 "bad-socket\.conf:1: MilterSocket: .*not a socket"

printf 'Syslog perhaps\n' > "$work/bad-bool.conf"
run bad-bool 78 "bad-bool\.conf:1: Syslog"

printf 'CAFile garbage.pem\n' > "$work/bad-cafile.conf"
run bad-cafile 78 "bad-cafile\.conf:1: CAFile: .*no PEM certificate"

printf 'CRLConnectTimeout 20s\nCRLTimeout 10s\n' > "$work/timeouts.conf"
run timeouts 78 "timeouts\.conf:2: CRLConnectTimeout .* longer than CRLTimeout"

set +e
out=$("$CTL" check-config --config "$work/does-not-exist.conf" 2>&1); status=$?
set -e
if [ $status = 78 ] && grep -q "does-not-exist.conf" <<<"$out"; then
	it_ok "missing configuration file: exit 78, names the file"
else
	it_not_ok "missing configuration file: exit $status: $out"
fi

# --- bad partner tables: the partner file and its line named ---
bad_partners() {
	local name=$1 content=$2 pattern=$3
	printf '%b' "$content" > "$work/$name.partners"
	printf 'LogLevel info\nPartnerTable %s.partners\n' "$name" > "$work/$name.conf"
	run "$name" 78 "$pattern"
}
bad_partners bad-option 'woodgrovebank.com\nfabrikam.com colour=blue\n' \
    "bad-option\.partners:2: unknown partner option \"colour\""
bad_partners bad-mode 'woodgrovebank.com mode=strict\n' \
    "bad-mode\.partners:1: mode=strict: expected enforce or monitor"
bad_partners missing-pin '# pins\nwoodgrovebank.com pin=pins/nothere.pem\n' \
    "missing-pin\.partners:2: pin=pins/nothere\.pem .*No such file"
bad_partners garbage-ca 'woodgrovebank.com \\\n  ca=garbage.pem\n' \
    "garbage-ca\.partners:2: ca=garbage\.pem.*no PEM certificate"
bad_partners duplicate-partner 'woodgrovebank.com\n.tailspin.com\nWoodGroveBank.COM.\n' \
    "duplicate-partner\.partners:3: partner woodgrovebank\.com is listed twice \(first at line 1\)"
bad_partners bad-domain 'woodgrove_bank.com\n' \
    "bad-domain\.partners:1: partner \"woodgrove_bank\.com\" is not a valid domain"

printf 'PartnerTable no-such-partners\n' > "$work/missing-partners.conf"
run missing-partners 78 "missing-partners\.conf:1: PartnerTable: .*no-such-partners"

# --- usage ---
set +e
"$CTL" check-config --bogus >/dev/null 2>&1; status=$?
set -e
[ $status = 64 ] && it_ok "unknown option: exit 64" || it_not_ok "unknown option: exit $status"

# --- the samples ---
set +e
out=$("$CTL" check-config --config "$DOMSEC_TOP/conf/domsec.conf" 2>&1); status=$?
set -e
if [ $status = 0 ] && grep -q '^configuration OK' <<<"$out" &&
    grep -qE 'CRLMaxSize +256M' <<<"$out"; then
	it_ok "conf/domsec.conf as shipped loads and gives the defaults"
else
	it_not_ok "conf/domsec.conf: exit $status: $out"
fi

# Every accepted key is in the sample (as "# Key default") and in the man
# page (".B Key"), and every key the sample shows is accepted.
keys=$("$CTL" check-config --keys)
nkeys=$(wc -l <<<"$keys")
missing=""
for k in $keys; do
	grep -qE "^# $k( |\$)" "$DOMSEC_TOP/conf/domsec.conf" || missing="$missing sample:$k"
	grep -qE "^\.B $k( |\$)" "$DOMSEC_TOP/man/domsec.conf.5" || missing="$missing man:$k"
done
for k in $(sed -nE 's/^# ([A-Z][A-Za-z]+) .*/\1/p' "$DOMSEC_TOP/conf/domsec.conf"); do
	grep -qx "$k" <<<"$keys" || missing="$missing unknown-in-sample:$k"
done
for k in $(sed -nE 's/^\.B ([A-Z][A-Za-z]+) \\fI.*/\1/p' "$DOMSEC_TOP/man/domsec.conf.5"); do
	grep -qx "$k" <<<"$keys" || missing="$missing unknown-in-man:$k"
done
if [ -z "$missing" ] && [ "$nkeys" -ge 30 ]; then
	it_ok "all $nkeys keys documented in conf/domsec.conf and domsec.conf(5), nothing extra"
else
	it_not_ok "sample/man out of sync:$missing"
fi

# Every "# Key value" line of the sample, uncommented, is accepted (files
# that must exist are replaced by ours).
sed -nE 's/^# ([A-Z][A-Za-z]+ .*)/\1/p' "$DOMSEC_TOP/conf/domsec.conf" |
    sed -E "s#^(CAFile|ChainFile) .*#\1 $work/wgb-root.pem#;
            s#^(CAPath|PinnedCertDir) .*#\1 $work/pins#;
            s#^PartnerTable .*#PartnerTable $work/partners#;
            s#^CRLFile .*#CRLFile $work/garbage.pem#;
            s#^UserID .*#UserID root#;
            s#^SocketOwner .*#SocketOwner root#" > "$work/uncommented.conf"
run uncommented 0 '^configuration OK'

# The sample partner table's examples, uncommented, are accepted.
sed -nE '/^# Examples/,$ s/^#([a-z.]| {5,})/\1/p' "$DOMSEC_TOP/conf/partners" |
    sed -E "s#ca=/etc/domsec/[^ ]*#ca=$work/wgb-root.pem#; s#pin=/etc/domsec/[^ ]*#pin=$work/wgb-pin.pem#" \
    > "$work/sample.partners"
printf 'PartnerTable sample.partners\n' > "$work/sample-partners.conf"
run sample-partners 0 '^configuration OK' 'partners: 4 from' \
    'woodgrovebank\.com +direction=both' 'fabrikam\.com +direction=send'

# The tools read the daemon's configuration by default (DOMSEC_CONFIG
# stands in for /etc/domsec/domsec.conf); --no-config gives the defaults.
printf 'CRLTimeout never\n' >"$work/default-broken.conf"
set +e
out=$(DOMSEC_CONFIG="$work/default-broken.conf" "$CTL" crl list 2>&1); st=$?
out2=$(DOMSEC_CONFIG="$work/default-broken.conf" "$CTL" crl list --no-config \
    --cache-dir "$work" 2>&1); st2=$?
set -e
if [ "$st" = 78 ] && grep -q "default-broken.conf:1: CRLTimeout" <<<"$out"; then
	it_ok "crl list reads the default configuration without --config"
else
	it_not_ok "crl list without --config: exit $st: $out"
fi
if [ "$st2" != 78 ]; then
	it_ok "crl list --no-config ignores it (exit $st2)"
else
	it_not_ok "crl list --no-config still read the default configuration: $out2"
fi
for c in verify probe crl counters check-config cert sendmail-access reload \
    postfix-config; do
	set +e
	"$CTL" $c --help >/dev/null 2>&1; st=$?
	set -e
	if [ "$st" = 0 ]; then it_ok "domsecctl $c --help exits 0"; else it_not_ok "domsecctl $c --help exits $st"; fi
done
v1=$("$CTL" --version); v2=$("$DOMSEC_BUILD/domsecd" --version)
if [ "${v1#domsecctl }" = "${v2#domsecd }" ] && grep -q "^domsec (${v1#domsecctl })" "$DOMSEC_TOP/debian/changelog"; then
	it_ok "--version: both programs say ${v1#domsecctl }, as debian/changelog"
else
	it_not_ok "--version: '$v1', '$v2'"
fi

it_finish
