#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""crl_refresh_stream.py - one round of tests/bench/bench-crl-refresh.sh: a
stream of partner messages through a private Postfix and domsecd while a
big CRL replaces a small one in the background.  A benchmark tool, not a
test: it prints figures (one JSON object) and exits 1 only when it cannot
run or a message was not accepted.

Each message is one SMTP session of its own (connect, STARTTLS with a
client certificate, EHLO, MAIL, RCPT, DATA, QUIT), sent with the next
certificate of --certs: every certificate is a different one for
woodgrovebank.com (same key, different serial, pinned in domsecd), so that
domsecd's verdict cache (keyed by fingerprint) never answers and every
message goes through chain verification and the CRL lookup, as a new
partner certificate does.  Latency = the whole session, measured here.

The round:
  1. the first message (certificate 0) makes domsecd fetch the small CRL
     (its nextUpdate makes it due for refresh before the refresher's next
     pass, 60 s after domsecd started at --t0);
  2. the big CRL is renamed over the served file (--big onto --served)
     and the server set to trickle (--mode-url), so that the refresh
     download takes several seconds;
  3. from --t0 + 60 - --before seconds, a message every 1/--rate seconds
     (or right after the previous one when it took longer);
  4. phases by when a message started: "before" the server saw the GET of
     the new CRL (read from --crl-log), "during" until the new copy is
     written to --cache-dir (a .crl file of over 1 MB: it is saved right
     before it is swapped in), "after" for --after seconds more.
"""

import argparse
import json
import math
import os
import smtplib
import ssl
import sys
import threading
import time
import urllib.request


def percentile(xs, p):
    """Nearest-rank percentile of xs (seconds) in milliseconds."""
    if not xs:
        return None
    s = sorted(xs)
    return round(1000.0 * s[max(0, math.ceil(p * len(s)) - 1)], 1)


class Watcher(threading.Thread):
    """Notes when the server got the GET of the new CRL and when the new
    copy landed in the cache directory (polled every 20 ms)."""

    def __init__(self, crl_log, log_offset, path, cache_dir):
        super().__init__(daemon=True)
        self.crl_log, self.offset, self.path = crl_log, log_offset, path
        self.cache_dir = cache_dir
        self.t_get = self.t_pub = None
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            now = time.time()
            if self.t_get is None:
                with open(self.crl_log) as f:
                    f.seek(self.offset)
                    if any(line.startswith("GET %s 200" % self.path)
                           for line in f):
                        self.t_get = now
            if self.t_get is not None and self.t_pub is None:
                for name in os.listdir(self.cache_dir):
                    p = os.path.join(self.cache_dir, name)
                    try:
                        big = name.endswith(".crl") and \
                            os.path.getsize(p) > (1 << 20)
                    except OSError:
                        big = False
                    if big:
                        self.t_pub = now
                        break
            self.stop.wait(0.02)


def send(port, cert, key, label):
    """One message in a session of its own; returns (seconds, reply)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.load_cert_chain(cert, key)
    msg = ("From: a@woodgrovebank.com\r\nTo: b@contoso.com\r\n"
           "Subject: crl refresh stream %s\r\n"
           "Message-Id: <%s.%f@woodgrovebank.com>\r\n"
           "X-Test-Id: %s\r\n\r\nbody\r\n" % (label, label, time.time(),
                                              label))
    t = time.monotonic()
    try:
        with smtplib.SMTP("127.0.0.1", port, "mail.partner.test",
                          timeout=90) as s:
            s.starttls(context=ctx)
            s.ehlo("mail.partner.test")
            s.sendmail("a@woodgrovebank.com", ["b@contoso.com"], msg)
        reply = 250
    except smtplib.SMTPResponseException as e:
        reply = e.smtp_code
    except smtplib.SMTPRecipientsRefused as e:
        reply = list(e.recipients.values())[0][0]
    except (OSError, smtplib.SMTPException):
        reply = 0
    return time.monotonic() - t, reply


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--certs", required=True, help="dir of leaf-N.pem")
    ap.add_argument("--ncerts", type=int, required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--big", required=True)
    ap.add_argument("--served", required=True)
    ap.add_argument("--mode-url", required=True)
    ap.add_argument("--crl-log", required=True)
    ap.add_argument("--cache-dir", required=True)
    ap.add_argument("--t0", type=float, required=True)
    ap.add_argument("--before", type=float, default=20)
    ap.add_argument("--after", type=float, default=15)
    ap.add_argument("--rate", type=float, default=10)
    ap.add_argument("--timeout", type=float, default=180)
    a = ap.parse_args()

    def cert(i):
        return os.path.join(a.certs, "leaf-%d.pem" % i)

    # 1. the small CRL into domsecd
    for _ in range(40):
        dt, reply = send(a.port, cert(0), a.key, "first")
        if reply == 250:
            break
        time.sleep(0.5)
    if reply != 250:
        print("first message not accepted (%s)" % reply, file=sys.stderr)
        return 1
    # 2. the big CRL, slowly
    offset = os.path.getsize(a.crl_log)
    os.rename(a.big, a.served)
    urllib.request.urlopen(a.mode_url, timeout=5).read()
    w = Watcher(a.crl_log, offset, "/" + os.path.basename(a.served),
                a.cache_dir)
    w.start()
    # 3. the stream
    start = a.t0 + 60 - a.before
    if time.time() < start:
        time.sleep(start - time.time())
    msgs = []               # (start, seconds, reply)
    i, period = 1, 1.0 / a.rate
    deadline = time.time() + a.timeout
    nxt = time.time()
    while time.time() < deadline:
        if w.t_pub is not None and time.time() > w.t_pub + a.after:
            break
        if i >= a.ncerts:
            print("out of certificates after %d messages" % i,
                  file=sys.stderr)
            return 1
        now = time.time()
        if now < nxt:
            time.sleep(nxt - now)
        t = time.time()
        dt, reply = send(a.port, cert(i), a.key, "m%d" % i)
        msgs.append((t, dt, reply))
        i += 1
        nxt = t + period
    w.stop.set()
    if w.t_get is None or w.t_pub is None:
        print("the refresh was not seen (GET %s, written %s)" %
              (w.t_get, w.t_pub), file=sys.stderr)
        return 1
    # 4. phases
    phases = {"before": [], "during": [], "after": []}
    refused = 0
    for t, dt, reply in msgs:
        if reply != 250:
            refused += 1
        if t < w.t_get:
            phases["before"].append(dt)
        elif t <= w.t_pub:
            phases["during"].append(dt)
        else:
            phases["after"].append(dt)
    out = {"refresh_s": round(w.t_pub - w.t_get, 2),
           "refresh_start_after_t0_s": round(w.t_get - a.t0, 1),
           "refused": refused}
    for name, xs in phases.items():
        out[name] = {"n": len(xs), "p50_ms": percentile(xs, 0.50),
                     "p99_ms": percentile(xs, 0.99),
                     "max_ms": percentile(xs, 1.0)}
    print(json.dumps(out))
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
