#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# run.sh - runs every fuzz harness built by make fuzz-build for SECONDS
# each (default 60), two at a time (the build machine has two cores),
# starting from the seed corpus tests/fuzz/corpus/<name>/.  New inputs go to
# build-fuzz/corpus/<name>/ (not committed); crashes to build-fuzz/crashes/.
#
#   tests/fuzz/run.sh 300                 # every harness, 5 minutes each
#   tests/fuzz/run.sh 60 netstring names  # only these
#   FUZZ_JOBS=1 tests/fuzz/run.sh 60      # one at a time
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${FUZZ_BUILD:-$top/build-fuzz}
seconds=${1:-60}
shift || true
jobs=${FUZZ_JOBS:-2}

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for h in "$top"/tests/fuzz/fuzz_*.c; do
		n=${h##*/fuzz_}
		names+=("${n%.c}")
	done
fi
mkdir -p "$out/crashes" "$out/logs"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

run_one() {
	local n=$1 seeds="$top/tests/fuzz/corpus/$1" work="$out/corpus/$1"
	mkdir -p "$work" "$out/crashes/$n"
	"$out/fuzz_$n" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	    -max_len=65536 -print_final_stats=1 \
	    -artifact_prefix="$out/crashes/$n/" "$work" "$seeds" \
	    >"$out/logs/$n.log" 2>&1
	local rc=$?
	local execs
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/logs/$n.log" |
	    grep -o '[0-9]*$' | tail -n 1)
	if [ $rc -eq 0 ]; then
		echo "ok - fuzz_$n: ${execs:-?} executions in ${seconds}s, no finding"
	else
		echo "FAIL - fuzz_$n (exit $rc): see $out/logs/$n.log and $out/crashes/$n/"
	fi
	return $rc
}

failed=0
pids=()
for n in "${names[@]}"; do
	[ -x "$out/fuzz_$n" ] || { echo "FAIL - fuzz_$n not built (make fuzz-build)"; failed=1; continue; }
	run_one "$n" &
	pids+=($!)
	if [ ${#pids[@]} -ge "$jobs" ]; then
		wait "${pids[0]}" || failed=1
		pids=("${pids[@]:1}")
	fi
done
for p in "${pids[@]}"; do
	wait "$p" || failed=1
done
exit $failed
