#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 15-cert.sh - domsecctl cert selfsigned|csr: the names of the whitepaper's
# Appendix 1 (CN = server FQDN; SANs = FQDN, accepted domains, wildcards),
# EKU serverAuth + clientAuth, key usage, key created 0600 and reused,
# thumbprints that match openssl's; checked with the openssl command.
# sanitize: yes
set -eu

. "$DOMSEC_TOP/tests/integration/lib-common.sh"
CTL="$DOMSEC_BUILD/domsecctl"
it_init 15-cert
cd "$IT_DIR"

"$CTL" cert selfsigned --name Mail1.Contoso.com --domain contoso.com \
    --domain Contoso.co.uk --domain CONTOSO.COM --wildcard --subject "C=US, O=Contoso Corp" \
    --key rsa.key --out self.pem --days 30 > self.out
text=$(openssl x509 -in self.pem -noout -text)
it_check "self-signed: subject C=US, O=Contoso Corp, CN=mail1.contoso.com" \
    grep -q "Subject: C = US, O = Contoso Corp, CN = mail1.contoso.com" <<<"$text"
san=$(openssl x509 -in self.pem -noout -ext subjectAltName | tail -n +2 | tr -d ' ')
it_check "self-signed: SANs are FQDN, accepted domains and their wildcards, lower case, no duplicates ($san)" \
    test "$san" = "DNS:mail1.contoso.com,DNS:contoso.com,DNS:contoso.co.uk,DNS:*.contoso.com,DNS:*.contoso.co.uk"
it_check "self-signed: EKU serverAuth and clientAuth" \
    grep -q "TLS Web Server Authentication, TLS Web Client Authentication" <<<"$text"
it_check "self-signed: key usage digitalSignature, keyEncipherment (critical)" \
    grep -A1 -q "Key Usage: critical" <<<"$text"
grep -q "Digital Signature, Key Encipherment" <<<"$text" ||
    it_not_ok "key usage bits wrong"
it_check "self-signed: CA:FALSE" grep -q "CA:FALSE" <<<"$text"
it_check "self-signed: RSA 3072 key" grep -q "Public-Key: (3072 bit)" <<<"$text"
it_check "self-signed: verifies against itself for client and server use" \
    bash -c "openssl verify -purpose sslclient -CAfile self.pem self.pem >/dev/null &&
             openssl verify -purpose sslserver -CAfile self.pem self.pem >/dev/null"
days=$(( ($(date -d "$(openssl x509 -in self.pem -noout -enddate | cut -d= -f2)" +%s) - $(date +%s)) / 86400 ))
it_check "self-signed: --days 30 honoured ($days days left)" test "$days" -ge 29 -a "$days" -le 30
mode=$(stat -c %a rsa.key)
it_check "new key written with mode 0600 (got $mode)" test "$mode" = 600

sha1=$(openssl x509 -in self.pem -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :)
sha256=$(openssl x509 -in self.pem -noout -fingerprint -sha256 | cut -d= -f2)
it_check "printed SHA-1 thumbprint equals openssl's ($sha1)" \
    grep -q "thumbprint (SHA-1): *$sha1\$" self.out
it_check "printed SHA-256 fingerprint equals openssl's" \
    grep -q "fingerprint (SHA-256): *$sha256\$" self.out

# --- CSR reusing the same key ---
"$CTL" cert csr --name mail1.contoso.com --domain contoso.com --key rsa.key \
    --out req.pem > csr.out
it_check "csr: existing key reused" grep -q "reusing key rsa.key" csr.out
it_check "csr: self-signature verifies (openssl req -verify)" \
    bash -c "openssl req -in req.pem -noout -verify 2>&1 | grep -q 'verify OK'"
req=$(openssl req -in req.pem -noout -text)
it_check "csr: subject CN=mail1.contoso.com" grep -q "Subject: CN = mail1.contoso.com" <<<"$req"
it_check "csr: requested SANs FQDN and accepted domain" \
    grep -q "DNS:mail1.contoso.com, DNS:contoso.com" <<<"$req"
it_check "csr: requested EKU serverAuth and clientAuth" \
    grep -q "TLS Web Server Authentication, TLS Web Client Authentication" <<<"$req"
k1=$(openssl x509 -in self.pem -noout -pubkey)
k2=$(openssl req -in req.pem -noout -pubkey)
it_check "csr and certificate share the reused key" test "$k1" = "$k2"

# --- EC key ---
"$CTL" cert selfsigned --name mx.fabrikam.com --domain fabrikam.com \
    --key-type ec --key ec.key --out ec.pem > /dev/null
it_check "ec: P-256 key" bash -c "openssl x509 -in ec.pem -noout -text | grep -q 'prime256v1'"
it_check "ec: verifies for client use" \
    bash -c "openssl verify -purpose sslclient -CAfile ec.pem ec.pem >/dev/null"

# --- refusals ---
status() { set +e; "$@" >/dev/null 2>&1; echo $?; set -e; }
it_check "bad --name (not an FQDN) is a usage error" \
    test "$(status "$CTL" cert csr --name mail1 --key x.key --out x.pem)" = 64
it_check "bad --domain is a usage error" \
    test "$(status "$CTL" cert csr --name a.example.com --domain 'bad domain' --key x.key --out x.pem)" = 64
it_check "CN in --subject is refused" \
    test "$(status "$CTL" cert csr --name a.example.com --subject CN=x --key x.key --out x.pem)" = 64
it_check "--key-type that does not match the existing key is refused" \
    test "$(status "$CTL" cert csr --name a.example.com --key ec.key --key-type rsa --out x.pem)" = 1
it_check "missing --out is a usage error" \
    test "$(status "$CTL" cert csr --name a.example.com --key x.key)" = 64
it_check "nothing written on refusal" test ! -e x.pem -a ! -e x.key

it_finish
