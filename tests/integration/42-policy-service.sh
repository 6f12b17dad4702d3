#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 42-policy-service.sh - domsecd's Postfix policy service spoken to
# directly: answers per SMTPD_POLICY_README (refusals in enforce mode as
# "action=NNN X.Y.Z text", DUNNO otherwise), several requests on one
# connection, and malformed input (over-long lines, too many attributes,
# binary junk, half requests, many connections) never crashes it.
# sanitize: yes
set -eu
. "$DOMSEC_TOP/tests/integration/lib-postfix.sh"

it_pki_setup
it_ports
it_domsecd_config "woodgrovebank.com mode=enforce" "sales.tailspin.com mode=monitor"
it_pin exact
it_pin revoked
sed -i -e '/^MilterSocket/d' -e 's/^Discovery .*/Discovery no/' "$IT_DIR/domsec.conf"
it_domsecd_start

export FP_EXACT FP_REVOKED
FP_EXACT=$(it_fp exact)
FP_REVOKED=$(it_fp revoked)

# policy_client.py: sends the named case, prints what came back.
cat >"$IT_DIR/policy_client.py" <<'PY'
import os, socket, sys, threading

port = int(sys.argv[1])
case = sys.argv[2]

def request(sender, state="RCPT", tls=True, fp="", port_=40000, extra=""):
    lines = ["request=smtpd_access_policy", "protocol_state=" + state,
             "protocol_name=ESMTP", "client_address=192.0.2.1",
             "client_port=%d" % port_, "helo_name=mail.partner.test",
             "sender=" + sender, "recipient=b@contoso.com", "queue_id="]
    if tls:
        lines += ["encryption_protocol=TLSv1.3",
                  "encryption_cipher=TLS_AES_256_GCM_SHA384",
                  "encryption_keysize=256"]
        if fp:
            lines += ["ccert_subject=woodgrovebank.com",
                      "ccert_issuer=domsec+20Test+20Issuing+20CA",
                      "ccert_fingerprint=" + fp]
    else:
        lines += ["encryption_protocol=", "encryption_cipher="]
    return ("\n".join(lines) + "\n" + extra + "\n").encode()

def talk(data, expect_answers=1, timeout=20):
    s = socket.create_connection(("127.0.0.1", port), timeout)
    s.sendall(data)
    buf = b""
    while buf.count(b"\n\n") < expect_answers:
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    s.close()
    return buf.decode(errors="replace")

fp_exact = os.environ["FP_EXACT"]
fp_revoked = os.environ["FP_REVOKED"]
if case == "secured":
    print(talk(request("a@woodgrovebank.com", fp=fp_exact, port_=40001)))
elif case == "revoked":
    print(talk(request("a@woodgrovebank.com", fp=fp_revoked, port_=40002)))
elif case == "no-tls":
    print(talk(request("a@woodgrovebank.com", tls=False, port_=40003)))
elif case == "no-cert":
    print(talk(request("a@woodgrovebank.com", port_=40004)))
elif case == "monitor":
    print(talk(request("a@sales.tailspin.com", tls=False, port_=40005)))
elif case == "stranger":
    print(talk(request("a@example.net", tls=False, port_=40006)))
elif case == "null-sender":
    print(talk(request("", tls=False, port_=40007)))
elif case == "mail-state":
    print(talk(request("a@woodgrovebank.com", state="MAIL", tls=False, port_=40008)))
elif case == "pipelined":
    print(talk(request("a@example.net", tls=False, port_=40009)
               + request("a@woodgrovebank.com", tls=False, port_=40010), 2))
elif case == "long-line":
    print(talk(b"sender=" + b"x" * 100000 + b"\n"
               + request("a@woodgrovebank.com", tls=False, port_=40011)))
elif case == "many-attributes":
    junk = "".join("junk%d=value\n" % i for i in range(5000))
    print(talk(request("a@woodgrovebank.com", tls=False, port_=40012, extra=junk)))
elif case == "binary":
    print(talk(bytes(range(1, 256)) * 40 + b"\n\n"))
elif case == "no-equals":
    print(talk(b"this is not an attribute\nrequest=smtpd_access_policy\n\n"))
elif case == "half":
    s = socket.create_connection(("127.0.0.1", port), 5)
    s.sendall(b"request=smtpd_access_policy\nsender=a@wood")
    s.close()
    print("closed")
elif case == "many":
    results = []
    def one(i):
        try:
            results.append(talk(request("a@example.net", tls=False, port_=41000 + i)))
        except Exception as e:
            results.append("error %s" % e)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(100)]
    for t in threads: t.start()
    for t in threads: t.join()
    print("%d DUNNO of %d" % (sum("action=DUNNO" in r for r in results), len(results)))
PY
ask() { python3 "$IT_DIR/policy_client.py" "$IT_POLICY_PORT" "$1"; }

# The verdict table: case (policy_client.py), then the action expected.
# The null sender gets DUNNO (the milter decides at end of message with
# the From domain); so does the MAIL state (decisions are taken at RCPT).
while read -r -u 3 case want; do
	[ -n "$case" ] || continue
	a=$(ask "$case")
	it_check "$case: action=$want ($a)" grep -Eq "^action=$want" <<<"$a"
done 3<<'EOF'
secured      DUNNO$
revoked      550 5.7.1 .*woodgrovebank.com
no-tls       530 5.7.0 .*woodgrovebank.com
no-cert      550 5.7.1 .*woodgrovebank.com
monitor      DUNNO$
stranger     DUNNO$
null-sender  DUNNO$
mail-state   DUNNO$
EOF
it_check "monitor mode: verdict logged" it_domsecd_logged 'verdict=no-tls mode=monitor'
a=$(ask pipelined)
it_check "two requests on one connection: two answers in order" \
    test "$(grep '^action=' <<<"$a" | tr '\n' ' ')" = "action=DUNNO action=530 5.7.0 $(grep '^action=530' <<<"$a" | cut -d' ' -f3-) "
a=$(ask long-line)
it_check "a 100 kB line: DUNNO, not a crash ($a)" grep -q '^action=DUNNO$' <<<"$a"
it_check "a 100 kB line: logged" it_domsecd_logged 'longer than'
it_check "5000 attributes: DUNNO" grep -q '^action=DUNNO$' <<<"$(ask many-attributes)"
it_check "5000 attributes: logged" it_domsecd_logged 'too many attributes'
it_check "binary junk: DUNNO" grep -q '^action=DUNNO$' <<<"$(ask binary)"
it_check "a line without '=': DUNNO" grep -q '^action=DUNNO$' <<<"$(ask no-equals)"
ask half >/dev/null
it_check "100 connections at once: all answered" grep -q '^100 DUNNO of 100$' <<<"$(ask many)"
it_check "domsecd still running" kill -0 "$IT_DOMSECD_PID"
a=$(ask revoked)
it_check "and still answering ($a)" grep -q '^action=550 5.7.1 ' <<<"$a"
it_domsecd_clean
it_finish
