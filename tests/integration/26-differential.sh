#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 26-differential.sh - the differential oracle of issue 7: a few hundred
# generated PKIs (fixed seed; tests/diff/diffcrl.py explains the variations)
# decided by `domsecctl verify` and by `openssl verify -x509_strict
# -crl_check_all` (plus -use_deltas -extended_crl for deltas).  Every
# disagreement must fall in a category of tests/diff/reviewed.txt, which
# gives the RFC 5280 section that makes domsec right.  Needs the python3
# `cryptography` module (skipped without it).
set -eu

top=${DOMSEC_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
: "${DOMSEC_BUILD:?set DOMSEC_BUILD}"
if ! python3 -c 'import cryptography' 2>/dev/null; then
	echo "ok - python3 cryptography module not installed; skipped"
	exit 0
fi
out=$(python3 "$top/tests/diff/diffcrl.py" "$DOMSEC_BUILD/domsecctl" \
    "$top/tests/diff/reviewed.txt" --n "${DOMSEC_DIFF_N:-300}" --seed 7) &&
    rc=0 || rc=$?
printf '%s\n' "$out" | grep -v '^diff:' | sed 's/^/    /'
summary=$(printf '%s\n' "$out" | grep '^diff:' || echo "diff: no summary")
if [ "$rc" -eq 0 ]; then
	echo "ok - ${summary#diff: }"
else
	echo "not ok - unreviewed differences: ${summary#diff: }"
	exit 1
fi
