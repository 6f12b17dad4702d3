#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Runs each cmocka unit-test binary given on the command line and prints a
# closing "N passed, N failed" line (one per binary counted).
passed=0; failed=0; failures=""
for t in "$@"; do
	if "$t"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures="$failures $t"; fi
done
[ -n "$failures" ] && echo "failed unit test programs:$failures"
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
