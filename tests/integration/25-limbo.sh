#!/bin/bash
# 25-limbo.sh - holds the chain and CRL logic against the public x509-limbo
# path-validation suite (../shared/ext/x509-limbo/limbo.json, 207 cases, 8
# with CRLs) through `domsecctl verify` (tests/limbo/limbo.py explains how
# cases map to verdicts; peer names are not compared because domsec applies
# the Exchange name rules on purpose).  Prints the agreement figures and
# fails when agreement falls below the floors measured when this test was
# written (132 of 201 overall, 6 of 8 CRL cases; OpenSSL 3.0 with
# X509_STRICT except on the trust anchor, auth level 2, explicit
# EKU/keyUsage rules).
# sanitize: yes
set -eu

top=${DOMSEC_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
: "${DOMSEC_BUILD:?set DOMSEC_BUILD}"
limbo=${DOMSEC_LIMBO:-$top/../shared/ext/x509-limbo/limbo.json}
if [ ! -f "$limbo" ]; then
	limbo=/work/shared/ext/x509-limbo/limbo.json
fi
if [ ! -f "$limbo" ]; then
	echo "ok - x509-limbo not present (set DOMSEC_LIMBO); skipped"
	exit 0
fi

out=$(python3 "$top/tests/limbo/limbo.py" "$DOMSEC_BUILD/domsecctl" "$limbo" \
    --verbose --min-agree 132 --min-crl-agree 6) && rc=0 || rc=$?
printf '%s\n' "$out" | grep -v '^limbo:' | sed 's/^/    /'
summary=$(printf '%s\n' "$out" | grep '^limbo: agree')
if [ "$rc" -eq 0 ]; then
	echo "ok - x509-limbo ${summary#limbo: }"
else
	echo "not ok - x509-limbo below the floor: $summary"
	exit 1
fi
