#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# milter_negotiate.py - the option negotiation of a milter, read as an MTA
# sees it: connects to SPEC (inet:PORT@HOST or unix:PATH), offers milter
# protocol 6 with every action and every protocol step, and prints what
# the milter asked for, one "key value" a line:
#   actions 0x...      the actions it wants
#   protocol 0x...     the steps it left out or wants no reply for
#   macros.N ...       the macros it asked for at stage N (SMFIM_*)
# or "closed" when it hung up (it refuses the MTA's offer).
# Usage: milter_negotiate.py SPEC [ACTIONS_HEX]
import socket
import struct
import sys


def connect(spec):
    if spec.startswith("unix:") or spec.startswith("local:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(spec.split(":", 1)[1])
        return s
    port, host = spec.split(":", 1)[1].split("@")
    return socket.create_connection((host, int(port)), timeout=10)


def read_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def main():
    spec = sys.argv[1]
    actions = int(sys.argv[2], 16) if len(sys.argv) > 2 else 0x1FF
    s = connect(spec)
    body = b"O" + struct.pack(">III", 6, actions, 0x1FFFFF)
    s.sendall(struct.pack(">I", len(body)) + body)
    head = read_exact(s, 4)
    if head is None:
        print("closed")
        return
    (n,) = struct.unpack(">I", head)
    reply = read_exact(s, n)
    if reply is None or reply[:1] != b"O" or len(reply) < 13:
        print("bad reply %r" % (reply,))
        sys.exit(1)
    version, act, proto = struct.unpack(">III", reply[1:13])
    print("version %d" % version)
    print("actions 0x%x" % act)
    print("protocol 0x%x" % proto)
    rest = reply[13:]
    while len(rest) >= 4:
        (stage,) = struct.unpack(">I", rest[:4])
        end = rest.index(b"\0", 4)
        print("macros.%d %s" % (stage, rest[4:end].decode()))
        rest = rest[end + 1:]
    s.close()


if __name__ == "__main__":
    main()
