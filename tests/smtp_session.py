#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""smtp_session.py - one SMTP session with several messages, as a partner's
MTA would send them (the real-Sendmail test; swaks sends one message per
session and needs IO::Socket::INET6 for IPv6).

    smtp_session.py --host 127.0.0.1|::1 --port N [--cert F --key F]
                    SENDER [SENDER...]

STARTTLS (with the client certificate when given), then one message per
SENDER to b@contoso.com, each with an X-Test-Id header and a forged
X-Domain-Secured header.  Prints the test ids, one line, space separated;
exits 1 on any refusal (printing the reply to stderr).
"""
import argparse
import smtplib
import ssl
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("senders", nargs="+")
    args = ap.parse_args()
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if args.cert:
        ctx.load_cert_chain(args.cert, args.key)
    s = smtplib.SMTP(args.host, args.port, local_hostname="mail.partner.test",
                     timeout=60)
    s.starttls(context=ctx)
    s.ehlo("mail.partner.test")
    ids = []
    try:
        for n, sender in enumerate(args.senders):
            tid = "session-%d-%d" % (n, time.time_ns())
            msg = ("From: %s\r\nTo: b@contoso.com\r\nSubject: %s\r\n"
                   "X-Test-Id: %s\r\nX-Domain-Secured: forged\r\n\r\n"
                   "message %d\r\n") % (sender, tid, tid, n)
            s.sendmail(sender, ["b@contoso.com"], msg)
            ids.append(tid)
        s.quit()
    except smtplib.SMTPException as e:
        print("refused: %s" % e, file=sys.stderr)
        return 1
    print(" ".join(ids))
    return 0


if __name__ == "__main__":
    sys.exit(main())
