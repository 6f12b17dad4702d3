#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 51-socketmap.sh - domsecd's socketmap (socketmap_table(5)) spoken to
# directly: pipelined requests answered in order, a request split into
# single bytes, both map names, unknown map names, NUL bytes and requests
# without a key answered PERM on a connection that stays usable, malformed
# and oversized netstrings answered PERM and the connection closed, many
# connections at once; domsecd keeps answering afterwards.
# sanitize: yes
set -eu
. "$DOMSEC_TOP/tests/integration/lib-postfix.sh"

it_pki_setup
it_ports
SM_PORT=$(it_free_port)
it_domsecd_config "woodgrovebank.com direction=send" ".tailspin.com direction=both" \
    "fabrikam.com direction=receive"
sed -i -e '/^MilterSocket/d' -e '/^PolicySocket/d' "$IT_DIR/domsec.conf"
echo "SocketmapSocket inet:$SM_PORT@127.0.0.1" >>"$IT_DIR/domsec.conf"
it_domsecd_start
it_check "domsecd listens on the socketmap port" it_wait_port "$SM_PORT"

cat >"$IT_DIR/sm_client.py" <<'PY'
import socket, sys, threading, time

port = int(sys.argv[1])
case = sys.argv[2]

def ns(s):
    b = s.encode() if isinstance(s, str) else s
    return str(len(b)).encode() + b":" + b + b","

def read_replies(sock, n, timeout=20):
    """Reads n netstring replies; returns (list, closed_after)."""
    sock.settimeout(timeout)
    buf, out = b"", []
    while len(out) < n:
        while True:
            colon = buf.find(b":")
            if colon < 0:
                break
            length = int(buf[:colon])
            if len(buf) < colon + 1 + length + 1:
                break
            assert buf[colon + 1 + length:colon + 2 + length] == b",", buf
            out.append(buf[colon + 1:colon + 1 + length].decode())
            buf = buf[colon + 2 + length:]
        if len(out) >= n:
            break
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
    return out

def closed(sock, timeout=5):
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False

def conn():
    return socket.create_connection(("127.0.0.1", port), 10)

if case == "pipelined":
    s = conn()
    reqs = ["transport woodgrovebank.com", "transport example.org",
            "tlspolicy example.org", "transport user@Sales.Tailspin.COM",
            "transport fabrikam.com", "tlspolicy .woodgrovebank.com"]
    s.sendall(b"".join(ns(r) for r in reqs))
    print("|".join(read_replies(s, len(reqs))))
elif case == "bytewise":
    s = conn()
    for b in ns("transport WoodGroveBank.com."):
        s.send(bytes([b]))
        time.sleep(0.005)
    print("|".join(read_replies(s, 1)))
elif case == "bad-requests":
    s = conn()
    reqs = [ns("nosuchmap example.org"), ns("transport"), ns(""),
            ns(b"transport a\x00b.com"), ns("tlspolicy exa$mple.com"),
            ns("transport woodgrovebank.com")]
    s.sendall(b"".join(reqs))
    print("|".join(read_replies(s, len(reqs))))
elif case in ("malformed", "oversize", "leadingzero"):
    s = conn()
    data = {"malformed": b"abc:def,",
            "oversize": b"5000:" + b"x" * 100,
            "leadingzero": b"03:abc,"}[case]
    s.sendall(data)
    r = read_replies(s, 1)
    print("|".join(r) + ("|closed" if closed(s) else "|open"))
elif case == "concurrent":
    results = []
    lock = threading.Lock()
    def worker(i):
        try:
            s = conn()
            s.sendall(ns("transport woodgrovebank.com") + ns("transport n%d.example" % i))
            r = read_replies(s, 2)
            s.close()
        except Exception as e:
            r = ["error " + str(e)]
        with lock:
            results.append(tuple(r))
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(40)]
    for t in threads: t.start()
    for t in threads: t.join()
    good = sum(1 for r in results if r == ("OK domsec-partner:", "NOTFOUND "))
    print("%d/%d" % (good, len(results)))
elif case == "half-then-close":
    for _ in range(20):
        s = conn()
        s.sendall(b"30:transport wood")
        s.close()
    print("done")
PY
sm() { python3 "$IT_DIR/sm_client.py" "$SM_PORT" "$1"; }

out=$(sm pipelined)
it_expect_eq "pipelined requests answered in order" \
    "OK domsec-partner:|NOTFOUND |NOTFOUND |OK domsec-partner:|NOTFOUND |NOTFOUND " "$out"
out=$(sm bytewise)
it_expect_eq "a request arriving byte by byte" "OK domsec-partner:" "$out"
out=$(sm bad-requests)
IFS='|' read -r r1 r2 r3 r4 r5 r6 <<<"$out"
it_check "unknown map name: PERM ($r1)" grep -q '^PERM unknown map name "nosuchmap"' <<<"$r1"
it_check "request without a key: PERM ($r2)" grep -q '^PERM request is not' <<<"$r2"
it_check "empty request: PERM ($r3)" grep -q '^PERM request is not' <<<"$r3"
it_check "NUL byte in a request: PERM ($r4)" grep -q '^PERM request contains a NUL byte' <<<"$r4"
it_expect_eq "malformed key: PERM" "PERM malformed lookup key" "$r5"
it_expect_eq "the connection still answers after bad requests" "OK domsec-partner:" "$r6"
out=$(sm malformed)
it_expect_eq "malformed netstring: PERM, connection closed" "PERM malformed netstring|closed" "$out"
out=$(sm oversize)
it_expect_eq "oversized request refused from its length, connection closed" \
    "PERM netstring longer than the size limit|closed" "$out"
out=$(sm leadingzero)
it_expect_eq "length with a leading zero: PERM, closed" "PERM malformed netstring|closed" "$out"
out=$(sm half-then-close)
it_expect_eq "half requests and abrupt closes" "done" "$out"
out=$(sm concurrent)
it_expect_eq "40 concurrent connections all answered" "40/40" "$out"
it_check "domsecd is still running" kill -0 "$IT_DOMSECD_PID"
out=$(sm pipelined)
it_expect_eq "and still answers" \
    "OK domsec-partner:|NOTFOUND |NOTFOUND |OK domsec-partner:|NOTFOUND |NOTFOUND " "$out"
it_check "the closed connections were logged" \
    grep -q "socketmap: closing a connection: malformed netstring" "$IT_DOMSECD_LOG"

# A clean stop with connections open.
python3 - "$SM_PORT" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
time.sleep(30)
PY
idle=$!
sleep 0.5
kill "$IT_DOMSECD_PID"
stopped=no
for i in $(seq 1 50); do
	if ! kill -0 "$IT_DOMSECD_PID" 2>/dev/null; then stopped=yes; break; fi
	sleep 0.1
done
it_expect_eq "domsecd stops promptly with an idle socketmap connection open" yes "$stopped"
st=0
wait "$IT_DOMSECD_PID" || st=$?
it_expect_eq "domsecd exit status after SIGTERM" 0 "$st"
kill "$idle" 2>/dev/null || true
wait "$idle" 2>/dev/null || true

it_finish
