#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""dns_server.py - a tiny authoritative DNS server (UDP) for the tests, so
that MX lookups by domsec and by a private Postfix reach test addresses.
Python 3 standard library only.

    python3 tests/dns_server.py [--bind 127.0.0.1] [--port 0] --port-file F
        [--pid-file F] [--log F] [--zone FILE] [--record "NAME TYPE DATA"]...
        [--servfail NAME]...

Records (from --record, or one per line in --zone, '#' comments):
    woodgrovebank.com     MX    10 mx.woodgrovebank.com
    mx.woodgrovebank.com  A     127.0.0.2
    v6.example            AAAA  ::1
    alias.example         CNAME mx.woodgrovebank.com
    nomail.example        MX    0 .
Names are case-insensitive.  A name with records, but none of the type asked,
answers NOERROR with no answer (NODATA); an unknown name answers NXDOMAIN;
a --servfail NAME answers SERVFAIL (a temporary failure).  The zone file is
read again on SIGHUP.  The port (0 = a free one) is written to --port-file
(atomically) once listening.  Stops on SIGTERM or SIGINT.
"""
import argparse
import ipaddress
import os
import signal
import socket
import struct
import sys

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28}


def encode_name(name):
    out = b""
    name = name.rstrip(".")
    if name:
        for label in name.split("."):
            raw = label.encode("ascii")
            if not raw or len(raw) > 63:
                raise ValueError("bad label in %r" % name)
            out += bytes([len(raw)]) + raw
    return out + b"\x00"


def rdata(rtype, data):
    if rtype == "A":
        return ipaddress.IPv4Address(data).packed
    if rtype == "AAAA":
        return ipaddress.IPv6Address(data).packed
    if rtype == "MX":
        pref, target = data.split(None, 1)
        return struct.pack("!H", int(pref)) + encode_name(target.strip())
    if rtype == "CNAME":
        return encode_name(data.strip())
    if rtype == "TXT":
        raw = data.encode()
        return bytes([len(raw)]) + raw
    raise ValueError("unsupported record type " + rtype)


class Zone:
    def __init__(self, records, zone_file, servfail):
        self.static = records
        self.zone_file = zone_file
        self.servfail = {n.lower().rstrip(".") for n in servfail}
        self.load()

    def load(self):
        lines = list(self.static)
        if self.zone_file:
            with open(self.zone_file) as f:
                lines += [l.split("#", 1)[0] for l in f]
        recs = {}
        for line in lines:
            parts = line.split(None, 2)
            if not parts:
                continue
            if len(parts) != 3:
                raise ValueError("bad record line %r" % line)
            name, rtype, data = parts[0].lower().rstrip("."), parts[1].upper(), parts[2].strip()
            if rtype not in TYPES:
                raise ValueError("unsupported record type %r" % rtype)
            recs.setdefault(name, []).append((rtype, rdata(rtype, data)))
        self.records = recs


def parse_question(msg):
    pos, labels = 12, []
    while True:
        if pos >= len(msg):
            raise ValueError("truncated question")
        n = msg[pos]
        pos += 1
        if n == 0:
            break
        if n & 0xC0:
            raise ValueError("compression in question")
        labels.append(msg[pos:pos + n].decode("ascii", "replace"))
        pos += n
    qtype, qclass = struct.unpack("!HH", msg[pos:pos + 4])
    return ".".join(labels).lower(), qtype, qclass, pos + 4


def answer(zone, msg):
    qid, flags, qd = struct.unpack("!HHH", msg[:6])
    name, qtype, qclass, qend = parse_question(msg)
    question = msg[12:qend]
    rd = flags & 0x0100
    answers = []
    rcode = 0
    if name in zone.servfail:
        rcode = 2
    elif name not in zone.records:
        rcode = 3
    else:
        owner = name
        for _ in range(8):   # follow CNAMEs inside the zone
            recs = zone.records.get(owner, [])
            wanted = [r for r in recs if TYPES[r[0]] == qtype]
            cname = [r for r in recs if r[0] == "CNAME"]
            if wanted or not cname or qtype == TYPES["CNAME"]:
                answers += [(owner, r) for r in wanted]
                break
            answers.append((owner, cname[0]))
            target = []
            raw = cname[0][1]
            p = 0
            while raw[p]:
                target.append(raw[p + 1:p + 1 + raw[p]].decode())
                p += raw[p] + 1
            owner = ".".join(target).lower()
    hdr = struct.pack("!HHHHHH", qid, 0x8000 | 0x0400 | rd | 0x0080 | rcode,
                      1, len(answers), 0, 0)
    body = b""
    for owner, (rtype, rd_bytes) in answers:
        body += encode_name(owner) + struct.pack("!HHIH", TYPES[rtype], 1, 60,
                                                 len(rd_bytes)) + rd_bytes
    return hdr + question + body, name, qtype, rcode


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", required=True)
    p.add_argument("--pid-file")
    p.add_argument("--log")
    p.add_argument("--zone")
    p.add_argument("--record", action="append", default=[])
    p.add_argument("--servfail", action="append", default=[])
    args = p.parse_args()

    zone = Zone(args.record, args.zone, args.servfail)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((args.bind, args.port))
    logf = open(args.log, "a", buffering=1) if args.log else None

    def stop(signum, frame):
        for f in (args.port_file, args.pid_file):
            if f:
                try:
                    os.unlink(f)
                except OSError:
                    pass
        sys.exit(0)

    def reload(signum, frame):
        try:
            zone.load()
        except (OSError, ValueError) as e:
            print("dns_server: reload failed: %s" % e, file=sys.stderr)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, reload)
    for f, v in ((args.pid_file, os.getpid()), (args.port_file, sock.getsockname()[1])):
        if f:
            with open(f + ".tmp", "w") as out:
                out.write("%d\n" % v)
            os.rename(f + ".tmp", f)
    while True:
        try:
            msg, peer = sock.recvfrom(4096)
        except InterruptedError:
            continue
        try:
            reply, name, qtype, rcode = answer(zone, msg)
        except (ValueError, struct.error, IndexError) as e:
            if logf:
                logf.write("malformed query from %s: %s\n" % (peer[0], e))
            continue
        if logf:
            logf.write("%s %d rcode=%d\n" % (name, qtype, rcode))
        sock.sendto(reply, peer)


if __name__ == "__main__":
    main()
