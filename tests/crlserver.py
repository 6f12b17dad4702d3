#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""crlserver.py - a small HTTP/1.1 server for the tests: it serves the CRL
files of one directory and, on demand, refuses, delays or corrupts them.
Python 3 standard library only.

Usage:
    python3 tests/crlserver.py --dir DIR --port-file F [--bind 127.0.0.1]
                               [--port N] [--log F] [--pid-file F]
                               [--tls-cert F --tls-key K]
                               [--trickle-seconds S]

  --dir DIR        files served: GET /a/b.crl returns DIR/a/b.crl
  --port-file F    written (atomically: temp file + rename) with the bound
                   port number and a newline once the server is listening;
                   tests wait for F to appear.  --port 0 (the default) lets
                   the kernel choose a free port.
  --bind ADDR      default 127.0.0.1
  --log F          appends one line per request: "METHOD PATH STATUS"
                   (PATH as requested, including any /fault/ prefix)
  --pid-file F     written with the server's pid once listening
  --tls-cert F --tls-key K
                   serve HTTPS with this certificate (PEM chain) and key
  --trickle-seconds S
                   how long the trickle mode spreads a file over (default 3)

Conditional GET: every file answer carries ETag ("size-mtime_ns" in hex,
quoted) and Last-Modified (the file's mtime); a request whose If-None-Match
matches the ETag, or (without If-None-Match) whose If-Modified-Since is not
older than the mtime, gets 304 Not Modified with no body.

Fault modes, chosen per request by a path prefix /fault/MODE/<path>, or for
all later requests by GET /_mode/MODE (answers 200 "mode MODE"; the per
request prefix wins over the global mode):

  ok        serve the file (404 if it does not exist)
  404       404 Not Found
  500       500 Internal Server Error
  garbage   200 with 4096 random bytes (not a CRL)
  hang      accept the request and never answer, until the client closes
            the connection (or the server stops)
  wrongkey  serve NAME-wrongkey.crl in place of NAME.crl
  expired   serve NAME-expired.crl in place of NAME.crl
  shard     serve NAME-shard.crl in place of NAME.crl (another, validly
            signed partition of the same CA: the on-path shard swap)
  pem       serve NAME.pem.crl in place of NAME.crl
            (for these three, when the variant file does not exist the
            original NAME.crl is served, so a global mode only affects the
            CRLs that have a variant, e.g. inter.crl but not root.crl)
  redirect  302 to the same path without the /fault/redirect prefix (in
            global mode: 302 to /fault/ok/<path>, so it does not loop)
  slow      wait 2 seconds, then serve the file
  trickle   a slow link: the file's bytes spread evenly over 3 seconds
            (--trickle-seconds; 20 pieces; headers, Content-Length
            included, at once), so that any CRL takes longer than a short
            CRLTimeout
  nolength  serve the file without Content-Length (the body ends when the
            connection closes), for clients' streaming size limits
  redirect-file  302 to file:///etc/passwd (clients must refuse to follow)

Proxy requests: a request line with an absolute URL ("GET http://any.host/
inter.crl HTTP/1.1", as sent to a proxy) is served like "/inter.crl" (the
host is ignored) and logged with the absolute URL, so the server doubles as
an HTTP proxy for testing proxy settings.

GET /_mode (no MODE) answers the current global mode.  HEAD is answered like
GET without a body.  SIGTERM or SIGINT stops the server cleanly (exit 0),
removing the pid file and the port file.
"""

import argparse
import email.utils
import os
import select
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("ok", "404", "500", "garbage", "hang", "wrongkey", "expired", "shard", "pem",
         "redirect", "slow", "nolength", "redirect-file", "trickle")

state = {"mode": "ok"}
state_lock = threading.Lock()
log_lock = threading.Lock()
stopping = threading.Event()


def variant_name(path, suffix):
    """NAME.crl -> NAME<suffix>; other names get <suffix> minus its .crl."""
    if path.endswith(".crl"):
        return path[:-4] + suffix
    return path + suffix


class CrlHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "domsec-crlserver/1"

    def log_message(self, fmt, *args):  # silence the default stderr log
        pass

    def log_request_line(self, status):
        logfile = self.server.logfile
        if not logfile:
            return
        with log_lock:
            with open(logfile, "a") as f:
                f.write("%s %s %s\n" % (self.command, self.path, status))

    def send_simple(self, status, body, extra=None):
        data = body if isinstance(body, bytes) else body.encode()
        # logged before answering, so a client that reads the log right
        # after its request completes always finds the line
        self.log_request_line(status)
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path.startswith("http://") or path.startswith("https://"):
            rest = path.split("://", 1)[1]
            path = "/" + rest.partition("/")[2]
        if path == "/_mode" or path.startswith("/_mode/"):
            mode = path[len("/_mode/"):] if path.startswith("/_mode/") else ""
            if mode:
                if mode not in MODES:
                    self.send_simple(400, "unknown mode %s\n" % mode)
                    return
                with state_lock:
                    state["mode"] = mode
            with state_lock:
                cur = state["mode"]
            self.send_simple(200, "mode %s\n" % cur)
            return

        per_request = False
        if path.startswith("/fault/"):
            rest = path[len("/fault/"):]
            mode, sep, tail = rest.partition("/")
            if mode not in MODES:
                self.send_simple(400, "unknown mode %s\n" % mode)
                return
            path = "/" + tail
            per_request = True
        else:
            with state_lock:
                mode = state["mode"]

        if mode == "404":
            self.send_simple(404, "not found (fault mode)\n")
        elif mode == "500":
            self.send_simple(500, "internal error (fault mode)\n")
        elif mode == "garbage":
            self.send_simple(200, os.urandom(4096),
                             {"Content-Type": "application/pkix-crl"})
        elif mode == "hang":
            self.hang()
        elif mode == "redirect":
            target = path if per_request else "/fault/ok" + path
            self.send_simple(302, "moved\n", {"Location": target})
        elif mode == "wrongkey":
            self.serve_variant(path, "-wrongkey.crl")
        elif mode == "expired":
            self.serve_variant(path, "-expired.crl")
        elif mode == "shard":
            self.serve_variant(path, "-shard.crl")
        elif mode == "pem":
            self.serve_variant(path, ".pem.crl")
        elif mode == "slow":
            time.sleep(2)
            self.serve_file(path)
        elif mode == "redirect-file":
            self.send_simple(302, "moved\n", {"Location": "file:///etc/passwd"})
        elif mode == "nolength":
            self.serve_file(path, with_length=False)
        elif mode == "trickle":
            self.serve_file(path, trickle_s=self.server.trickle_s)
        else:
            self.serve_file(path)

    def hang(self):
        """Never answer; return once the client closes or we stop."""
        self.log_request_line("hang")
        self.close_connection = True
        sock = self.connection
        while not stopping.is_set():
            try:
                r, _, _ = select.select([sock], [], [], 0.2)
                if r and not sock.recv(4096):
                    return
            except OSError:
                return

    def serve_variant(self, urlpath, suffix):
        variant = variant_name(urlpath, suffix)
        parts = [p for p in variant.split("/") if p not in ("", ".", "..")]
        if os.path.isfile(os.path.join(self.server.root, *parts)):
            self.serve_file(variant)
        else:
            self.serve_file(urlpath)

    def serve_file(self, urlpath, with_length=True, trickle_s=0.0):
        parts = [p for p in urlpath.split("/") if p not in ("", ".")]
        if any(p == ".." for p in parts):
            self.send_simple(403, "forbidden\n")
            return
        fs = os.path.join(self.server.root, *parts)
        try:
            st = os.stat(fs)
            if not os.path.isfile(fs):
                raise FileNotFoundError(fs)
            with open(fs, "rb") as f:
                data = f.read()
        except OSError:
            self.send_simple(404, "not found\n")
            return
        etag = '"%x-%x"' % (st.st_size, st.st_mtime_ns)
        mtime = int(st.st_mtime)
        last_mod = email.utils.formatdate(mtime, usegmt=True)
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        not_modified = False
        if inm is not None:
            tags = [t.strip() for t in inm.split(",")]
            not_modified = etag in tags or "*" in tags
        elif ims is not None:
            try:
                since = email.utils.parsedate_to_datetime(ims).timestamp()
                not_modified = mtime <= since
            except (TypeError, ValueError, IndexError):
                not_modified = False
        if not_modified:
            self.log_request_line(304)
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", last_mod)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.log_request_line(200)
        self.send_response(200)
        self.send_header("Content-Type", "application/pkix-crl")
        if with_length:
            self.send_header("Content-Length", str(len(data)))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", last_mod)
        self.end_headers()
        if self.command != "HEAD":
            try:
                if trickle_s > 0:
                    pieces = 20
                    step = (len(data) + pieces - 1) // pieces or 1
                    for i in range(0, len(data), step):
                        self.wfile.write(data[i:i + step])
                        self.wfile.flush()
                        if stopping.wait(trickle_s / pieces):
                            return
                else:
                    self.wfile.write(data)
            except OSError:
                pass  # the client gave up (size cap, timeout)


class CrlServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # clients that give up (size cap, timeout) are part of the tests
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def write_atomically(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def main():
    ap = argparse.ArgumentParser(description="CRL test server")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log")
    ap.add_argument("--pid-file")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--trickle-seconds", type=float, default=3.0)
    args = ap.parse_args()

    httpd = CrlServer((args.bind, args.port), CrlHandler)
    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    httpd.root = os.path.abspath(args.dir)
    httpd.logfile = os.path.abspath(args.log) if args.log else None
    httpd.trickle_s = args.trickle_seconds

    def on_signal(signum, frame):
        stopping.set()
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    if args.pid_file:
        write_atomically(args.pid_file, "%d\n" % os.getpid())
    write_atomically(args.port_file, "%d\n" % httpd.server_address[1])
    try:
        httpd.serve_forever(poll_interval=0.2)
    finally:
        stopping.set()
        httpd.server_close()
        for f in (args.pid_file, args.port_file):
            if f:
                try:
                    os.unlink(f)
                except OSError:
                    pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
