#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""starttls_server.py - a minimal SMTP server with STARTTLS for the tests.

It presents a given certificate chain and key after STARTTLS, so that the
certificate probe (lib/probe.c), certificate discovery (lib/acquire.c) and the
daemon's discovery scenario can run against a real TLS listener on loopback.

    python3 tests/starttls_server.py --cert CHAIN.pem --key KEY \
        --bind 127.0.0.1 --port-file F [--port N] [--log F] \
        [--no-starttls] [--hang] [--banner-lines N] [--greeting-code 220]

Answers the 220 greeting (multi-line with --banner-lines N > 1), EHLO/HELO
(EHLO offers STARTTLS unless --no-starttls), STARTTLS (220, then a TLS
handshake), and after TLS: EHLO, QUIT, RSET, NOOP; anything else gets 502.
--hang accepts connections and never says anything (timeout tests).
--hang-after-starttls answers "220 ready" to STARTTLS and then never
starts the handshake.  --greeting-code 421 greets with a refusal.

The port (port 0 = a free one, the default) is written to --port-file once
the socket listens (written to a temporary name and renamed, so a reader
never sees a partial file).  Every connection, command and client
certificate fingerprint and the SNI name a client sent ("sni=NAME" or
"sni=none") is appended to --log.  Stops on SIGTERM or SIGINT.
"""
import argparse
import hashlib
import os
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cert", required=True, help="PEM: leaf first, then chain")
    p.add_argument("--key", required=True, help="PEM private key")
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log")
    p.add_argument("--hostname", default="starttls-test.invalid")
    p.add_argument("--no-starttls", action="store_true")
    p.add_argument("--hang", action="store_true")
    p.add_argument("--hang-after-starttls", action="store_true")
    p.add_argument("--banner-lines", type=int, default=2)
    p.add_argument("--greeting-code", default="220")
    p.add_argument("--client-ca", help="request a client certificate and "
                   "accept any (its fingerprint is logged)")
    return p.parse_args()


ARGS = parse_args()
LOG_LOCK = threading.Lock()


def log(msg):
    if not ARGS.log:
        return
    with LOG_LOCK:
        with open(ARGS.log, "a") as f:
            f.write("%s %s\n" % (time.strftime("%H:%M:%S"), msg))


def make_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(ARGS.cert, ARGS.key)
    if ARGS.client_ca:
        ctx.load_verify_locations(ARGS.client_ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL
        # Accept any client certificate: the test only logs it.
        ctx.check_hostname = False

    def sni(sslobj, server_name, context):
        log("sni=%s" % (server_name or "none"))
    ctx.sni_callback = sni
    return ctx


CONTEXT = make_context()


class Session:
    def __init__(self, sock, peer):
        self.sock = sock
        self.peer = peer
        self.tls = False
        self.buf = b""

    def send(self, line):
        self.sock.sendall(line.encode("ascii") + b"\r\n")

    def readline(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                return None
            self.buf += data
            if len(self.buf) > 65536:
                return None
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r").decode("ascii", "replace")

    def ehlo_reply(self, arg):
        lines = ["250-%s greets %s" % (ARGS.hostname, arg or "you"),
                 "250-PIPELINING", "250-8BITMIME"]
        if not self.tls and not ARGS.no_starttls:
            lines.append("250-STARTTLS")
        lines.append("250 SIZE 10240000")
        for l in lines:
            self.send(l)

    def starttls(self):
        self.send("220 2.0.0 Ready to start TLS")
        if ARGS.hang_after_starttls:
            time.sleep(3600)
            return False
        try:
            self.sock = CONTEXT.wrap_socket(self.sock, server_side=True)
        except (ssl.SSLError, OSError) as e:
            log("%s tls handshake failed: %s" % (self.peer, e))
            return False
        self.tls = True
        self.buf = b""
        der = self.sock.getpeercert(binary_form=True)
        fp = hashlib.sha256(der).hexdigest().upper() if der else "none"
        log("%s tls %s %s client-cert=%s" % (self.peer, self.sock.version(),
                                             self.sock.cipher()[0], fp))
        return True

    def run(self):
        log("%s connect" % self.peer)
        if ARGS.hang:
            time.sleep(3600)
            return
        code = ARGS.greeting_code
        n = max(1, ARGS.banner_lines)
        for i in range(n - 1):
            self.send("%s-%s ESMTP test server line %d" % (code, ARGS.hostname, i + 1))
        self.send("%s %s ESMTP starttls_server.py" % (code, ARGS.hostname))
        if code != "220":
            return
        while True:
            line = self.readline()
            if line is None:
                log("%s disconnect" % self.peer)
                return
            log("%s %s %s" % (self.peer, "tls" if self.tls else "clear", line))
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                self.ehlo_reply(arg)
            elif verb == "HELO":
                self.send("250 %s" % ARGS.hostname)
            elif verb == "STARTTLS" and not self.tls and not ARGS.no_starttls:
                if not self.starttls():
                    return
            elif verb == "QUIT":
                self.send("221 2.0.0 Bye")
                log("%s quit" % self.peer)
                return
            elif verb in ("RSET", "NOOP"):
                self.send("250 2.0.0 OK")
            else:
                self.send("502 5.5.2 Command not implemented")


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        peer = "%s:%s" % self.client_address[:2]
        try:
            Session(self.request, peer).run()
        except (OSError, ssl.SSLError) as e:
            log("%s error: %s" % (peer, e))


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    family = socket.AF_INET6 if ":" in ARGS.bind else socket.AF_INET
    Server.address_family = family
    srv = Server((ARGS.bind, ARGS.port), Handler)
    port = srv.server_address[1]
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, ARGS.port_file)
    log("listening on %s port %d" % (ARGS.bind, port))

    def stop(signum, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    srv.serve_forever(poll_interval=0.2)
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
