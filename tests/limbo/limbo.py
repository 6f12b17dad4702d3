#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""limbo.py - runs the x509-limbo path-validation cases through
`domsecctl verify` and reports how often domsec agrees with the expected
result.

Usage: python3 tests/limbo/limbo.py DOMSECCTL LIMBO_JSON [--verbose]
                                    [--min-agree N] [--min-crl-agree N]

Per case the trusted certificates become --ca, the untrusted intermediates
--chain, the CRLs --crl, the validation time --at; the peer certificate is
CERTFILE.  Peer names are not compared: limbo follows RFC 6125, domsec the
Exchange rules on purpose.  So the path is first validated for a domain no
certificate can match ("limbo.invalid"): `untrusted` means FAILURE, and
`name-mismatch` (reached only after the chain verified) means SUCCESS.  For
cases with CRLs whose chain verified, the case is run again for a DNS name
of the leaf itself, so that revocation is checked: `secured` is SUCCESS,
`revoked` and `revocation-unavailable` are FAILURE.  Exit status 64/78 of
domsecctl (input it refuses to load) counts as FAILURE and is reported.

When the case names a DNS peer name, the path that verified is run once
more for that domain (with the case's CRLs): domsec's Exchange name rules
and the chain's name constraints then decide ("secured", or
"revocation-unavailable" when the case gives no CRLs, is SUCCESS).

--differences FILE (tests/limbo/differences.txt): the reviewed list of
cases domsec decides differently on purpose, one "ID reason" per line.  Any
disagreement not listed fails, a listed case that agrees fails (the list
must be kept current), and a false accept in cve::*, rfc5280::nc::*,
webpki::san::public-suffix-* or webpki::ee-basicconstraints-ca fails even
when listed.

Skipped: cases with max_chain_depth (domsec has no such setting).
Cases under webpki::san:: and webpki::cn:: test RFC 6125 peer-name rules
only; they are counted, and also reported apart ("path cases" excludes them).
Prints one line per disagreement with --verbose, then the figures:
"agree A of N (skipped S, ...); path cases: agree P of Q; CRL cases:
agree C of M".
Exits 1 when agreement is below --min-agree or --min-crl-agree.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def epoch(iso):
    return int(datetime.fromisoformat(iso).timestamp())


def run(ctl, args):
    p = subprocess.run([ctl, "verify", "--json"] + args, capture_output=True,
                       text=True, timeout=60)
    try:
        j = json.loads(p.stdout) if p.stdout.strip() else None
    except ValueError:
        j = None
    return p.returncode, j, p.stderr.strip()


def leaf_domain(j):
    """A DNS name of the leaf that names itself under Exchange rules."""
    c = j["chain"][0]
    for n in c.get("alt_names", []):
        if n and not n.startswith("*") and "." in n:
            return n.rstrip(".")
    return None


def evaluate(ctl, case, work):
    """Returns (result, detail): result SUCCESS or FAILURE."""
    d = tempfile.mkdtemp(dir=work)
    trusted = os.path.join(d, "trusted.pem")
    write(trusted, "".join(case["trusted_certs"]))
    peer = os.path.join(d, "peer.pem")
    write(peer, case["peer_certificate"])
    args = ["--cache-dir", os.path.join(d, "cache")]
    if case["trusted_certs"]:
        args += ["--ca", trusted]
    else:
        # no anchor at all: an empty CA directory trusts nothing
        os.mkdir(os.path.join(d, "noanchors"))
        write(os.path.join(d, "none.conf"),
              "CAPath %s\n" % os.path.join(d, "noanchors"))
        args += ["--config", os.path.join(d, "none.conf")]
    if case["untrusted_intermediates"]:
        inter = os.path.join(d, "inter.pem")
        write(inter, "".join(case["untrusted_intermediates"]))
        args += ["--chain", inter]
    if case.get("validation_time"):
        args += ["--at", "@%d" % epoch(case["validation_time"])]

    rc, j, err = run(ctl, args + ["--domain", "limbo.invalid", peer])
    if j is None:
        return "FAILURE", "exit %d: %s" % (rc, err[:150])
    if j["verdict"] == "untrusted":
        return "FAILURE", j["reason"]
    if j["verdict"] != "name-mismatch":
        return "FAILURE", "unexpected verdict %s" % j["verdict"]
    crls = case.get("crls") or []
    for i, c in enumerate(crls):
        path = os.path.join(d, "crl%d.pem" % i)
        write(path, c)
        args += ["--crl", path]
    peer_name = case.get("expected_peer_name") or {}
    if peer_name.get("kind") == "DNS":
        # The name step: the Exchange rules plus the chain's name
        # constraints on the name (issue 7).  Without CRLs in the case,
        # revocation-unavailable is reached only after the names passed.
        rc, j, err = run(ctl, args + ["--domain", peer_name["value"], peer])
        if j is None:
            return "FAILURE", "exit %d: %s" % (rc, err[:150])
        v = j["verdict"]
        if v == "secured" or (v == "revocation-unavailable" and not crls):
            return "SUCCESS", "%s for %s: %s" % (v, peer_name["value"],
                                                 j["reason"])
        return "FAILURE", "%s for %s: %s" % (v, peer_name["value"],
                                             j["reason"])
    if not crls:
        return "SUCCESS", "chain verified"
    domain = leaf_domain(j)
    if domain is None:
        return "SUCCESS", "chain verified; leaf has no DNS name, CRL unchecked"
    rc, j, err = run(ctl, args + ["--domain", domain, peer])
    if j is None:
        return "FAILURE", "exit %d: %s" % (rc, err[:150])
    if j["verdict"] == "secured":
        return "SUCCESS", j["reason"]
    return "FAILURE", j["reason"]


# Case families where domsec must never accept what limbo refuses (issue 7):
# a listed difference does not excuse a false accept there.
NO_FALSE_ACCEPT = ("cve::", "rfc5280::nc::", "webpki::san::public-suffix-",
                   "webpki::ee-basicconstraints-ca")


def read_differences(path):
    """ID -> reason from the reviewed list (one "ID reason..." per line)."""
    diffs = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            if len(parts) < 2:
                raise SystemExit("%s:%d: %s has no reason" % (path, n,
                                                            parts[0]))
            if parts[0] in diffs:
                raise SystemExit("%s:%d: %s listed twice" % (path, n,
                                                           parts[0]))
            diffs[parts[0]] = parts[1]
    return diffs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ctl")
    ap.add_argument("limbo")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--min-agree", type=int, default=0)
    ap.add_argument("--min-crl-agree", type=int, default=0)
    ap.add_argument("--differences", help="reviewed list of the cases "
                    "decided differently on purpose; any other "
                    "disagreement, or a listed case that now agrees, fails")
    a = ap.parse_args()
    diffs = read_differences(a.differences) if a.differences else None
    unlisted, stale, false_accepts = [], [], []
    cases = json.load(open(a.limbo))["testcases"]
    agree = total = skipped = crl_total = crl_agree = errors = 0
    path_total = path_agree = 0
    with tempfile.TemporaryDirectory(prefix="domsec-limbo.") as work:
        for case in cases:
            if case.get("max_chain_depth") is not None:
                skipped += 1
                continue
            result, detail = evaluate(a.ctl, case, work)
            if detail.startswith("exit "):
                errors += 1
            total += 1
            ok = result == case["expected_result"]
            agree += ok
            if not case["id"].startswith(("webpki::san::", "webpki::cn::")):
                path_total += 1
                path_agree += ok
            if case.get("crls"):
                crl_total += 1
                crl_agree += ok
            cid = case["id"]
            if a.verbose and not ok:
                print("DISAGREE %s: expected %s, got %s (%s)" % (
                    cid, case["expected_result"], result, detail))
            if not ok and result == "SUCCESS" and \
                    cid.startswith(NO_FALSE_ACCEPT):
                false_accepts.append(cid)
            if diffs is not None:
                if not ok and cid not in diffs:
                    unlisted.append("%s: expected %s, got %s (%s)" % (
                        cid, case["expected_result"], result, detail))
                if ok and cid in diffs:
                    stale.append(cid)
    print("limbo: agree %d of %d (skipped %d, refused input %d); "
          "path cases (without peer-name cases): agree %d of %d; "
          "CRL cases: agree %d of %d" % (agree, total, skipped, errors,
                                         path_agree, path_total,
                                         crl_agree, crl_total))
    rc = 0
    if agree < a.min_agree or crl_agree < a.min_crl_agree:
        print("limbo: below the floor (agree %d, CRL %d)" % (
            a.min_agree, a.min_crl_agree))
        rc = 1
    for cid in false_accepts:
        print("limbo: FALSE ACCEPT in a must-refuse family: %s" % cid)
        rc = 1
    for line in unlisted:
        print("limbo: UNLISTED DISAGREEMENT %s" % line)
        rc = 1
    for cid in stale:
        print("limbo: listed as a difference but now agrees: %s "
              "(remove it from the list)" % cid)
        rc = 1
    if diffs is not None:
        print("limbo: %d deliberate differences listed" % len(diffs))
    return rc


if __name__ == "__main__":
    sys.exit(main())
