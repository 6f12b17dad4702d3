#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Runs every tests/integration/*.sh script with DOMSEC_BUILD pointing at the
# build directory.  Each script starts (and stops) the real servers it needs
# and exits non-zero on the first failed assertion.  With DOMSEC_SANITIZED=1
# only scripts marked "# sanitize: yes" run (those that exercise our binaries
# without a full Postfix round trip).
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${DOMSEC_BUILD:?set DOMSEC_BUILD}"
export DOMSEC_BUILD DOMSEC_TOP=$(cd "$here/.." && pwd)
# domsecctl reads /etc/domsec/domsec.conf by default: not in tests.
export DOMSEC_CONFIG=
passed=0; failed=0; failures=""; failed_lines=""
for t in "$here"/integration/[0-9]*.sh; do
	[ -e "$t" ] || continue
	if [ "${DOMSEC_SANITIZED:-0}" = 1 ] && ! grep -q '^# sanitize: yes' "$t"; then
		continue
	fi
	name=$(basename "$t")
	log=$(mktemp /tmp/domsec-it.XXXXXX)
	echo "== $name"
	if bash "$t" >"$log" 2>&1; then
		passed=$((passed + 1)); tail -n 40 "$log" | grep -E '^(ok|PASS)' | sed 's/^/   /'
	else
		failed=$((failed + 1)); failures="$failures $name"
		echo "-- $name FAILED, last output:"; tail -n 60 "$log" | sed 's/^/   /'
		# CI shows only the end of the output: repeat what failed there.
		failed_lines="$failed_lines$( (grep -E '^(not ok|FAIL)|timed out' "$log" | head -n 20
		    echo "(last lines)"; tail -n 3 "$log") | sed "s|^|   $name: |")
"
	fi
	rm -f "$log"
done
if [ -n "$failures" ]; then
	printf '%s' "$failed_lines"
	echo "failed integration tests:$failures"
fi
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
