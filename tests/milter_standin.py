#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""milter_standin.py - a minimal milter standing in for OpenDKIM or
OpenDMARC in the Postfix merge test: it speaks the milter protocol (version
6), continues at every stage and adds one header "X-Standin-Milter: NAME"
at end of message, so a delivered message shows that the milter ran.

    milter_standin.py --name opendkim --port 8891 [--port-file F]

Listens on 127.0.0.1 only; one thread per connection; stops on SIGTERM.
"""
import argparse
import signal
import socket
import struct
import sys
import threading

SMFIF_ADDHDRS = 0x01


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def send(conn, cmd, data=b""):
    conn.sendall(struct.pack("!I", len(data) + 1) + cmd + data)


def serve(conn, name):
    with conn:
        while True:
            head = recv_exact(conn, 4)
            if head is None:
                return
            (size,) = struct.unpack("!I", head)
            if size == 0 or size > 1 << 20:
                return
            packet = recv_exact(conn, size)
            if packet is None:
                return
            cmd, data = packet[:1], packet[1:]
            if cmd == b"O":
                send(conn, b"O", struct.pack("!III", 6, SMFIF_ADDHDRS, 0))
            elif cmd in (b"D", b"A"):
                continue  # macros and abort: no reply
            elif cmd in (b"Q", b"K"):
                return
            elif cmd == b"E":
                send(conn, b"h", b"X-Standin-Milter\0" + name.encode() + b"\0")
                send(conn, b"c")
            else:
                send(conn, b"c")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    args = ap.parse_args()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.port))
    srv.listen(16)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % srv.getsockname()[1])
        import os
        os.rename(args.port_file + ".tmp", args.port_file)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, args.name), daemon=True).start()


if __name__ == "__main__":
    main()
