#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# mkpki.sh - builds the test PKI described in tests/pki/README.md with the
# openssl command: roots, intermediates, a cross-certificate, a partner's
# private root, leaves for every name shape of DESIGN.md section 4, expired,
# not-yet-valid and revoked ones, and CRLs current, expired and wrongly signed.
#
# usage: tests/pki/mkpki.sh OUTDIR CRL_BASE_URL
#
# Keys are ECDSA P-256 (fast to generate).  Every CA is valid from
# 2020-01-01 to 2046-01-01 so that --at times in the past still see valid
# issuers.  Prints nothing on success.
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 OUTDIR CRL_BASE_URL" >&2
	exit 64
fi
out=$1
url=${2%/}
mkdir -p "$out" "$out/crl" "$out/cdp-down"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/mkpki.XXXXXX")
trap 'rm -rf "$work"' EXIT

ca_start=20200101000000Z
ca_end=20460101000000Z
leaf_start=$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)
leaf_end=$(date -u -d '+2 years' +%Y%m%d%H%M%SZ)
crl_last=$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)
crl_next=$(date -u -d '+30 days' +%Y%m%d%H%M%SZ)
old_last=$(date -u -d '-60 days' +%Y%m%d%H%M%SZ)
old_next=$(date -u -d '-30 days' +%Y%m%d%H%M%SZ)

run() {
	# Runs openssl quietly; on failure shows what it said.
	if ! openssl "$@" >"$work/openssl.log" 2>&1; then
		echo "mkpki: openssl $1 failed:" >&2
		cat "$work/openssl.log" >&2
		exit 1
	fi
}

newkey() {
	run genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"
	chmod 600 "$1"
}

# One openssl ca database and configuration per CA.  $1 = CA name (file
# prefix under $out), $2 = the CDP URL that certificates it issues carry
# ("" for none).
setup_ca() {
	local name=$1 cdp=$2 d="$work/ca-$1"
	mkdir -p "$d/new"
	: >"$d/index.txt"
	echo "unique_subject = no" >"$d/index.txt.attr"
	echo 01 >"$d/crlnumber"
	echo 1000 >"$d/serial"
	local cdpline=""
	[ -n "$cdp" ] && cdpline="crlDistributionPoints = URI:$cdp"
	cat >"$d/ca.cnf" <<EOF
[ ca ]
default_ca = this_ca

[ this_ca ]
dir = $d
database = $d/index.txt
new_certs_dir = $d/new
certificate = $out/$name.pem
private_key = $out/$name.key
default_md = sha256
default_crl_days = 30
policy = policy_any
email_in_dn = no
copy_extensions = none
string_mask = utf8only
crlnumber = $d/crlnumber
serial = $d/serial
crl_extensions = crl_ext
unique_subject = no

[ policy_any ]
commonName = supplied
organizationName = optional
countryName = optional

[ crl_ext ]
authorityKeyIdentifier = keyid:always

[ ext_root ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ ext_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
$cdpline

[ ext_leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
$cdpline
subjectAltName = \${ENV::LEAF_SAN}

[ ext_leaf_nosan ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
$cdpline

[ ext_leaf_serveronly ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
$cdpline
subjectAltName = \${ENV::LEAF_SAN}

[ ext_leaf_emailonly ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
$cdpline
subjectAltName = \${ENV::LEAF_SAN}

[ ext_ca_permit ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
nameConstraints = critical, permitted;DNS:allowed.example
$cdpline

[ ext_ca_exclude ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
nameConstraints = critical, excluded;DNS:secret.example.com
$cdpline

[ ext_ca_email ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
$cdpline

[ ext_leaf_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, keyCertSign
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
$cdpline
subjectAltName = \${ENV::LEAF_SAN}

[ ext_leaf_keyenc ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
$cdpline
subjectAltName = \${ENV::LEAF_SAN}

[ ext_leaf_cdp ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:\${ENV::LEAF_CDP}
subjectAltName = \${ENV::LEAF_SAN}

[ crl_ext_idp ]
authorityKeyIdentifier = keyid:always
issuingDistributionPoint = critical, @idp_sect

[ idp_sect ]
fullname = URI:\${ENV::CRL_IDP}

[ ext_leaf_nocrl ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:$url/missing/inter.crl
subjectAltName = \${ENV::LEAF_SAN}
EOF
}

# csr KEYFILE SUBJECT OUTFILE
csr() {
	run req -new -utf8 -key "$1" -subj "$2" -out "$3"
}

# sign CA CSR OUT EXTSECTION START END
sign() {
	run ca -batch -utf8 -notext -rand_serial -preserveDN \
	    -config "$work/ca-$1/ca.cnf" -in "$2" -out "$3" -extensions "$4" \
	    -startdate "$5" -enddate "$6"
}

# A self-signed root: NAME "CN" [CDP for what it issues]
make_root() {
	local name=$1 cn=$2 cdp=${3:-}
	newkey "$out/$name.key"
	setup_ca "$name" "$cdp"
	csr "$out/$name.key" "/O=domsec tests/CN=$cn" "$work/$name.csr"
	run ca -batch -utf8 -notext -rand_serial -preserveDN -selfsign \
	    -config "$work/ca-$name/ca.cnf" -keyfile "$out/$name.key" \
	    -in "$work/$name.csr" -out "$out/$name.pem" -extensions ext_root \
	    -startdate "$ca_start" -enddate "$ca_end"
}

# An intermediate CA: NAME "CN" PARENT [CDP for what it issues [EXTSECTION]]
make_inter() {
	local name=$1 cn=$2 parent=$3 cdp=${4:-} ext=${5:-ext_ca}
	newkey "$out/$name.key"
	setup_ca "$name" "$cdp"
	csr "$out/$name.key" "/O=domsec tests/CN=$cn" "$work/$name.csr"
	sign "$parent" "$work/$name.csr" "$out/$name.pem" "$ext" "$ca_start" "$ca_end"
}

# A leaf: NAME ISSUER CN SAN ("" = none) [EXTSECTION START END]
# Writes NAME.pem, NAME.key and NAME-chain.pem (leaf + intermediates).
make_leaf() {
	local name=$1 issuer=$2 cn=$3 san=$4
	local ext=${5:-ext_leaf} start=${6:-$leaf_start} end=${7:-$leaf_end}
	if [ -z "$san" ] && [ "$ext" = ext_leaf ]; then
		ext=ext_leaf_nosan
	fi
	newkey "$out/$name.key"
	csr "$out/$name.key" "/CN=$cn" "$work/$name.csr"
	LEAF_SAN=${san:-DNS:unused} sign "$issuer" "$work/$name.csr" \
	    "$out/$name.pem" "$ext" "$start" "$end"
	case "$issuer" in
	inter)  cat "$out/$name.pem" "$out/inter.pem" >"$out/$name-chain.pem" ;;
	inter2|nc-inter|ncx-inter|eku-inter)
		cat "$out/$name.pem" "$out/$issuer.pem" >"$out/$name-chain.pem" ;;
	*)      cat "$out/$name.pem" >"$out/$name-chain.pem" ;;
	esac
}

# gencrl CA OUTFILE(DER) [LAST NEXT [CRLEXTSECTION]]
gencrl() {
	local ca=$1 der=$2 last=${3:-$crl_last} next=${4:-$crl_next}
	local exts=${5:-crl_ext}
	run ca -batch -config "$work/ca-$ca/ca.cnf" -gencrl -crlexts "$exts" \
	    -crl_lastupdate "$last" -crl_nextupdate "$next" -out "$work/crl.pem"
	run crl -in "$work/crl.pem" -outform DER -out "$der"
}

revoke() {
	run ca -batch -config "$work/ca-$1/ca.cnf" -revoke "$2" -crl_reason keyCompromise
}

export LEAF_SAN=DNS:unused LEAF_CDP=$url/unused.crl CRL_IDP=$url/unused.crl

# --- Certification authorities ---
make_root root "domsec Test Root CA" "$url/root.crl"
make_inter inter "domsec Test Issuing CA" root "$url/inter.crl"
make_inter inter2 "domsec Test Revoked CA" root "$url/inter2.crl"
make_root unknown-root "Unknown Root CA" "$url/unknown-root.crl"
make_root private-root "Fabrikam Private Root" "$url/private-root.crl"
make_inter nc-inter "domsec Constrained CA" root "$url/nc-inter.crl" ext_ca_permit
make_inter ncx-inter "domsec Excluding CA" root "$url/ncx-inter.crl" ext_ca_exclude
make_inter eku-inter "domsec Email-only CA" root "$url/eku-inter.crl" ext_ca_email

# cross.pem: private-root's key and name, certified by root.
sign root "$work/private-root.csr" "$out/cross.pem" ext_ca "$ca_start" "$ca_end"

newkey "$out/wrong.key"

# --- Leaves under inter: the name shapes of DESIGN.md section 4 ---
make_leaf exact inter "woodgrovebank.com" "DNS:woodgrovebank.com"
make_leaf wildcard inter "*.woodgrovebank.com" "DNS:*.woodgrovebank.com"
make_leaf onedeep inter "mail1.woodgrovebank.com" "DNS:mail1.woodgrovebank.com"
make_leaf twodeep inter "mail1.us.woodgrovebank.com" "DNS:mail1.us.woodgrovebank.com"
make_leaf wildus inter "*.us.woodgrovebank.com" "DNS:*.us.woodgrovebank.com"
make_leaf partialwild inter "m*.woodgrovebank.com" "DNS:m*.woodgrovebank.com"
make_leaf midwild inter "mail.*.com" "DNS:mail.*.com"
make_leaf star inter "*" "DNS:*"
make_leaf suffix inter "woodgrovebank.com.evil.example" "DNS:woodgrovebank.com.evil.example"
make_leaf cnonly inter "mail.woodgrovebank.com" ""
make_leaf cnnonascii inter "mïcrosoft.woodgrovebank.com" ""
make_leaf trailingdot inter "woodgrovebank.com." "DNS:woodgrovebank.com."
make_leaf upper inter "MAIL.WoodGroveBank.COM" "DNS:MAIL.WoodGroveBank.COM"
past_start=20210101000000Z
past_end=$(date -u -d '-30 days' +%Y%m%d%H%M%SZ)
make_leaf expired inter "woodgrovebank.com" "DNS:woodgrovebank.com" ext_leaf "$past_start" "$past_end"
future_start=$(date -u -d '+1 year' +%Y%m%d%H%M%SZ)
future_end=$(date -u -d '+3 years' +%Y%m%d%H%M%SZ)
make_leaf notyet inter "woodgrovebank.com" "DNS:woodgrovebank.com" ext_leaf "$future_start" "$future_end"
make_leaf revoked inter "woodgrovebank.com" "DNS:woodgrovebank.com"
make_leaf serveronly inter "woodgrovebank.com" "DNS:woodgrovebank.com" ext_leaf_serveronly
make_leaf emailonly inter "woodgrovebank.com" "DNS:woodgrovebank.com" ext_leaf_emailonly
make_leaf contoso inter "mail.contoso.com" "DNS:mail.contoso.com,DNS:contoso.com"
make_leaf tailspin inter "mail.sales.tailspin.com" "DNS:mail.sales.tailspin.com,DNS:sales.tailspin.com"
make_leaf nocrl inter "woodgrovebank.com" "DNS:woodgrovebank.com" ext_leaf_nocrl
make_leaf caleaf inter "woodgrovebank.com" "DNS:woodgrovebank.com" ext_leaf_ca
make_leaf keyenc inter "woodgrovebank.com" "DNS:woodgrovebank.com" ext_leaf_keyenc

# --- Leaves under constrained or EKU-limited intermediates ---
make_leaf nccn nc-inter "woodgrovebank.com" "DNS:mail.allowed.example"
make_leaf ncwild ncx-inter "*.example.com" "DNS:*.example.com"
make_leaf ekuinter eku-inter "woodgrovebank.com" "DNS:woodgrovebank.com"

# --- Sharded CRLs: inter's certificates partitioned over shard1/shard2 ---
LEAF_CDP=$url/shard1.crl make_leaf shard1 inter "woodgrovebank.com" \
    "DNS:woodgrovebank.com" ext_leaf_cdp
LEAF_CDP=$url/shard2.crl make_leaf shard2 inter "woodgrovebank.com" \
    "DNS:woodgrovebank.com" ext_leaf_cdp
# held: on hold on an older CRL of inter, released on the current one
make_leaf held inter "woodgrovebank.com" "DNS:woodgrovebank.com"

# --- Other leaves ---
make_leaf revokedinter inter2 "woodgrovebank.com" "DNS:woodgrovebank.com"
make_leaf untrusted unknown-root "woodgrovebank.com" "DNS:woodgrovebank.com"
make_leaf fabrikam private-root "mail.fabrikam.com" "DNS:mail.fabrikam.com,DNS:fabrikam.com"

# --- Revocations and CRLs ---
# inter-old.crl: two days old, still current, lists held (certificateHold)
# but not yet revoked; then held is released (its index line made valid).
run ca -batch -config "$work/ca-inter/ca.cnf" -revoke "$out/held.pem" \
    -crl_hold holdInstructionReject
gencrl inter "$out/crl/inter-old.crl" "$(date -u -d '-2 days' +%Y%m%d%H%M%SZ)"
held_serial=$(openssl x509 -in "$out/held.pem" -noout -serial | sed 's/.*=//')
awk -F '\t' -v OFS='\t' -v s="$held_serial" \
    '$1 == "R" && toupper($4) == toupper(s) { $1 = "V"; $3 = "" } { print }' \
    "$work/ca-inter/index.txt" >"$work/index.new"
mv "$work/index.new" "$work/ca-inter/index.txt"
revoke root "$out/inter2.pem"
revoke inter "$out/revoked.pem"
# shard2.crl is the partition of inter's CRLs for shard2.crl (shard1 is not
# listed: it is revoked after); shard1.crl lists shard1.  Each names itself
# in its issuingDistributionPoint.  shard1-shard.crl is shard2's CRL, served
# in place of shard1.crl by the server's shard mode (the on-path swap).
CRL_IDP=$url/shard2.crl gencrl inter "$out/crl/shard2.crl" "$crl_last" \
    "$crl_next" crl_ext_idp
cp "$out/crl/shard2.crl" "$out/crl/shard1-shard.crl"
gencrl root "$out/crl/root.crl"
gencrl inter "$out/crl/inter.crl"
revoke inter "$out/shard1.pem"
CRL_IDP=$url/shard1.crl gencrl inter "$out/crl/shard1.crl" "$crl_last" \
    "$crl_next" crl_ext_idp
gencrl inter "$out/crl/inter-expired.crl" "$old_last" "$old_next"
gencrl inter2 "$out/crl/inter2.crl"
gencrl private-root "$out/crl/private-root.crl"
for c in nc-inter ncx-inter eku-inter; do
	gencrl "$c" "$out/crl/$c.crl"
done
gencrl unknown-root "$out/crl/unknown-root.crl"
# PEM copies (the CRL server's "pem" fault mode serves NAME.pem.crl)
for c in root inter inter2 private-root unknown-root; do
	run crl -inform DER -in "$out/crl/$c.crl" -out "$out/crl/$c.pem.crl"
done

# CA-wrongkey.crl: the CA's issuer name, signed by wrong.key.  openssl ca
# refuses a key that does not match its certificate, so a stand-in
# certificate with the CA's subject and the wrong key signs it.
wrongkey_crl() {
	local ca=$1 cn=$2
	run req -new -x509 -utf8 -key "$out/wrong.key" \
	    -subj "/O=domsec tests/CN=$cn" -days 30 -out "$work/wrong-$ca.pem"
	sed -e "s|^certificate = .*|certificate = $work/wrong-$ca.pem|" \
	    -e "s|^private_key = .*|private_key = $out/wrong.key|" \
	    -e "s|^crl_extensions = .*||" \
	    "$work/ca-$ca/ca.cnf" >"$work/ca-$ca/wrong.cnf"
	run ca -batch -config "$work/ca-$ca/wrong.cnf" -gencrl \
	    -crl_lastupdate "$crl_last" -crl_nextupdate "$crl_next" \
	    -out "$work/crl.pem"
	run crl -in "$work/crl.pem" -outform DER -out "$out/crl/$ca-wrongkey.crl"
}
# Only inter has a wrong-key (and an expired) variant: in the CRL server's
# wrongkey and expired modes the other CRLs answer 404.
wrongkey_crl inter "domsec Test Issuing CA"

exit 0
