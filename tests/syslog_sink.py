#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""syslog_sink.py - a /dev/log for programs that insist on syslog (the real
Sendmail in tests/integration/lib-sendmail.sh): binds a unix datagram
socket and appends every message, one per line, to a file.

    syslog_sink.py --socket /dev/log --out FILE [--pid-file FILE]

Stops on SIGTERM or SIGINT, removing its socket.
"""
import argparse
import os
import signal
import socket
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--pid-file")
    args = ap.parse_args()
    if os.path.exists(args.socket):
        os.unlink(args.socket)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(args.socket)
    os.chmod(args.socket, 0o666)
    if args.pid_file:
        with open(args.pid_file, "w") as f:
            f.write("%d\n" % os.getpid())

    def stop(*_):
        try:
            os.unlink(args.socket)
        except OSError:
            pass
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with open(args.out, "ab", buffering=0) as out:
        while True:
            msg = s.recv(65536)
            out.write(msg.rstrip(b"\0\n") + b"\n")


if __name__ == "__main__":
    main()
