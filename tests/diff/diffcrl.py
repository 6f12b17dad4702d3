#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""diffcrl.py - differential test: domsecctl verify against openssl verify.

Usage: python3 tests/diff/diffcrl.py DOMSECCTL REVIEWED_LIST [--n N]
                                     [--seed S] [--verbose]

Generates N small PKIs (fixed seed; the `cryptography` module, EC P-256):
a root, 1-3 intermediates, a leaf; no distribution points, every CRL is
given as a file.  Random variations: a revoked chain member (leaf or any
intermediate); one CRL current, expired, not yet valid, signed by the wrong
key, partitioned (issuingDistributionPoint naming a point the certificate
does not list), missing, or corrected by a delta CRL (that revokes the leaf);
a name constraint on an intermediate (leaf name inside or outside); pathLen
0 on the top intermediate; leaf and intermediate EKU and leaf keyUsage
variants.

Each PKI is verified with `domsecctl verify --domain LEAFNAME` (accept =
secured) and `openssl verify -x509_strict -crl_check_all` (plus
`-use_deltas -extended_crl` when a delta is given).  Every disagreement must
belong to a category listed in REVIEWED_LIST ("CATEGORY  RFC-section
reason"); the category is derived from the variation that caused it.  An
unlisted disagreement fails; prints the agreement figures.
"""

import argparse
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
DAY = dt.timedelta(days=1)


def key():
    return ec.generate_private_key(ec.SECP256R1())


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def cert(subject, skey, issuer, ikey, ca, serial, pathlen=None, san=None,
         eku=None, ku=None, nc=None):
    b = (x509.CertificateBuilder().subject_name(name(subject))
         .issuer_name(name(issuer)).public_key(skey.public_key())
         .serial_number(serial).not_valid_before(NOW - 10 * DAY)
         .not_valid_after(NOW + 300 * DAY)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=pathlen),
                        critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(
             skey.public_key()), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
             ikey.public_key()), critical=False))
    if ca:
        b = b.add_extension(x509.KeyUsage(False, False, False, False, False,
                                          True, True, False, False),
                            critical=True)
    elif ku == "keyenc":
        b = b.add_extension(x509.KeyUsage(False, False, True, False, False,
                                          False, False, False, False),
                            critical=True)
    else:
        b = b.add_extension(x509.KeyUsage(True, False, False, False, False,
                                          False, False, False, False),
                            critical=True)
    if san:
        b = b.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(san)]), critical=False)
    if eku:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    if nc:
        b = b.add_extension(x509.NameConstraints(
            permitted_subtrees=[x509.DNSName(nc)], excluded_subtrees=None),
            critical=True)
    return b.sign(ikey, hashes.SHA256())


def crl(issuer, ikey, revoked, number, last, nxt, idp=None, base=None,
        freshest=None):
    b = (x509.CertificateRevocationListBuilder().issuer_name(name(issuer))
         .last_update(last).next_update(nxt)
         .add_extension(x509.CRLNumber(number), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
             ikey.public_key()), critical=False))
    for s in revoked:
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(s)
            .revocation_date(last).build())
    if idp:
        b = b.add_extension(x509.IssuingDistributionPoint(
            full_name=[x509.UniformResourceIdentifier(idp)],
            relative_name=None, only_contains_user_certs=False,
            only_contains_ca_certs=False, only_some_reasons=None,
            indirect_crl=False, only_contains_attribute_certs=False),
            critical=True)
    if base is not None:
        b = b.add_extension(x509.DeltaCRLIndicator(base), critical=True)
    if freshest:
        b = b.add_extension(x509.FreshestCRL([x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(freshest)],
            relative_name=None, reasons=None, crl_issuer=None)]),
            critical=False)
    return b.sign(ikey, hashes.SHA256())


def pem(objs):
    return b"".join(o.public_bytes(serialization.Encoding.PEM) for o in objs)


def build(rng, d):
    """Writes one PKI under d; returns (files, categories, leafname)."""
    cats = []
    n = rng.randint(1, 3)
    keys = [key() for _ in range(n + 2)]        # root, inters..., leaf
    names = ["Diff Root"] + ["Diff CA %d" % i for i in range(1, n + 1)]
    serials = [rng.randrange(1, 2**62) for _ in range(n + 2)]
    leafname = "mail.partner%d.example" % rng.randrange(10**6)
    nc_on = rng.random() < 0.15
    nc_inside = rng.random() < 0.5
    pathlen0 = n >= 2 and rng.random() < 0.1
    inter_eku = rng.random() < 0.08
    leaf_eku = rng.choice(["both"] * 6 + ["server", "client", "email",
                                          "none"])
    leaf_ku = "keyenc" if rng.random() < 0.06 else "ds"
    if nc_on:
        cats.append("nc:" + ("inside" if nc_inside else "outside"))
    if pathlen0:
        cats.append("pathlen0")
    if inter_eku:
        cats.append("eku:intermediate-email")
    if leaf_eku != "both":
        cats.append("eku:leaf-" + leaf_eku)
    if leaf_ku == "keyenc":
        cats.append("ku:leaf-keyEncipherment-only")
    root = (x509.CertificateBuilder().subject_name(name(names[0]))
            .issuer_name(name(names[0])).public_key(keys[0].public_key())
            .serial_number(serials[0]).not_valid_before(NOW - 100 * DAY)
            .not_valid_after(NOW + 1000 * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False,
                                         True, True, False, False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(
                keys[0].public_key()), critical=False)
            .sign(keys[0], hashes.SHA256()))
    certs = [root]
    for i in range(1, n + 1):
        eku = [x509.oid.ExtendedKeyUsageOID.EMAIL_PROTECTION] \
            if inter_eku and i == n else None
        nc = None
        if nc_on and i == n:
            nc = leafname.split(".", 1)[1] if nc_inside else "elsewhere.example"
        certs.append(cert(names[i], keys[i], names[i - 1], keys[i - 1], True,
                          serials[i], pathlen=0 if pathlen0 and i == 1
                          else None, eku=eku, nc=nc))
    ekus = {"both": [ExtendedKeyUsageOID.SERVER_AUTH,
                     ExtendedKeyUsageOID.CLIENT_AUTH],
            "server": [ExtendedKeyUsageOID.SERVER_AUTH],
            "client": [ExtendedKeyUsageOID.CLIENT_AUTH],
            "email": [ExtendedKeyUsageOID.EMAIL_PROTECTION],
            "none": None}[leaf_eku]
    certs.append(cert(leafname, keys[n + 1], names[n], keys[n], False,
                      serials[n + 1], san=leafname, eku=ekus, ku=leaf_ku))
    # revocations: member index 1..n+1 (not the root)
    revoked_member = None
    if rng.random() < 0.35:
        revoked_member = rng.randint(1, n + 1)
        cats.append("revoked:" + ("leaf" if revoked_member == n + 1
                                  else "intermediate"))
    # CRL of each CA (issuer index 0..n) covers member index+1
    crl_state = rng.choice(["current"] * 5 + ["expired", "notyet",
                                              "wrongkey", "partitioned",
                                              "missing", "delta"])
    crl_at = rng.randint(0, n)                   # whose CRL is varied
    if crl_state == "delta":
        crl_at = n                               # the leaf's issuer
    if crl_state != "current":
        cats.append("crl:" + crl_state)
    crls, deltas = [], []
    for i in range(0, n + 1):
        rev = [serials[i + 1]] if revoked_member == i + 1 else []
        last, nxt, ikey, idp = NOW - DAY, NOW + 7 * DAY, keys[i], None
        fresh = None
        if i == crl_at:
            if crl_state == "missing":
                continue
            if crl_state == "expired":
                last, nxt = NOW - 20 * DAY, NOW - 2 * DAY
            elif crl_state == "notyet":
                last, nxt = NOW + 2 * DAY, NOW + 9 * DAY
            elif crl_state == "wrongkey":
                ikey = key()
            elif crl_state == "partitioned":
                idp = "http://crl.example/part%d.crl" % i
            elif crl_state == "delta":
                # the base names where its deltas are (RFC 5280 6.3.3 (c)
                # uses deltas only then); the delta itself is a file
                fresh = "http://127.0.0.1:9/delta%d.crl" % i
                with_fresh = rng.random() < 0.7
                deltas.append(crl(names[i], keys[i], [serials[i + 1]], 11,
                                  NOW - DAY // 2, NOW + DAY, base=10))
                if not with_fresh:
                    fresh = None
                cats.append("delta:revokes-leaf" + ("" if with_fresh
                                                    else "-no-freshest"))
        crls.append(crl(names[i], ikey, rev, 10, last, nxt, idp=idp,
                        freshest=fresh))
    files = {}
    for nm, data in (("root.pem", pem([root])),
                     ("chain.pem", pem(certs[1:n + 1][::-1])),
                     ("leaf.pem", pem([certs[-1]])),
                     ("crls.pem", pem(crls + deltas))):
        p = os.path.join(d, nm)
        with open(p, "wb") as f:
            f.write(data)
        files[nm] = p
    return files, cats, leafname, bool(deltas)


def run_domsec(ctl, f, leafname, d):
    args = [ctl, "verify", "--json", "--cache-dir", os.path.join(d, "c"),
            "--domain", leafname, "--ca", f["root.pem"], "--chain",
            f["chain.pem"], "--crl", f["crls.pem"], f["leaf.pem"]]
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    return p.returncode == 0, (p.stdout + p.stderr)[:300]


def run_openssl(f, delta):
    args = ["openssl", "verify", "-x509_strict", "-crl_check_all",
            "-CAfile", f["root.pem"], "-untrusted", f["chain.pem"],
            "-CRLfile", f["crls.pem"]]
    if delta:
        args += ["-use_deltas", "-extended_crl"]
    p = subprocess.run(args + [f["leaf.pem"]], capture_output=True,
                       text=True, timeout=60)
    return p.returncode == 0, (p.stdout + p.stderr).strip()[:300]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ctl")
    ap.add_argument("reviewed")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    reviewed = {}
    for line in open(a.reviewed):
        line = line.strip()
        if line and not line.startswith("#"):
            cat, why = (line.split(None, 1) + [""])[:2]
            if not why:
                sys.exit("%s: %s has no reason" % (a.reviewed, cat))
            reviewed[cat] = why
    rng = random.Random(a.seed)
    agree = explained = 0
    unexplained = []
    used = set()
    with tempfile.TemporaryDirectory(prefix="domsec-diff.") as work:
        for i in range(a.n):
            d = os.path.join(work, str(i))
            os.mkdir(d)
            f, cats, leafname, delta = build(rng, d)
            ds_ok, ds_out = run_domsec(a.ctl, f, leafname, d)
            os_ok, os_out = run_openssl(f, delta)
            if ds_ok == os_ok:
                agree += 1
                continue
            hit = [c for c in cats if c in reviewed]
            if hit:
                explained += 1
                used.update(hit)
                if a.verbose:
                    print("difference #%d %s: domsec %s, openssl %s "
                          "(reviewed: %s)" % (i, cats, ds_ok, os_ok,
                                              ", ".join(hit)))
            else:
                unexplained.append("#%d %s: domsec %s, openssl %s\n  "
                                   "domsec: %s\n  openssl: %s" % (
                                       i, cats, ds_ok, os_ok, ds_out,
                                       os_out))
    for u in unexplained:
        print("UNREVIEWED DIFFERENCE " + u)
    print("diff: %d PKIs (seed %d): agree %d, reviewed differences %d, "
          "unreviewed %d; categories seen: %s" % (
              a.n, a.seed, agree, explained, len(unexplained),
              ", ".join(sorted(used)) or "none"))
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
