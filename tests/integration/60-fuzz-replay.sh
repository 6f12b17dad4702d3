#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 60-fuzz-replay.sh - deterministic replay of the committed fuzz seed
# corpora: builds every tests/fuzz/fuzz_<name>.c harness (make fuzz-build:
# clang, ASan, UBSan, libFuzzer) and runs it once over each file of tests/fuzz/corpus/<name>/,
# without fuzzing.  Every seed must run clean (no crash, leak, UB or broken
# invariant).  Skipped, with an ok line, when clang is not installed.
# sanitize: yes
set -eu

. "$DOMSEC_TOP/tests/integration/lib-common.sh"
if ! command -v clang >/dev/null 2>&1; then
	it_ok "fuzz replay skipped: clang is not installed (Debian package clang)"
	exit 0
fi
it_init 60-fuzz
out=$IT_DIR

# clang without its sanitizer and libFuzzer runtimes (libclang-rt-14-dev,
# only recommended by clang-14) cannot link a harness: skip, saying so.
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' >"$out/probe.c"
if ! clang -fsanitize=fuzzer,address,undefined -o "$out/probe" "$out/probe.c" >/dev/null 2>&1; then
	it_ok "fuzz replay skipped: clang cannot link -fsanitize=fuzzer (Debian package libclang-rt-14-dev)"
	exit 0
fi

if ! make -C "$DOMSEC_TOP" FUZZ_O="$out" fuzz-build >"$out/build.log" 2>&1; then
	it_not_ok "make fuzz-build failed:"
	tail -n 30 "$out/build.log"
	exit 1
fi

export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
harnesses=0
for src in "$DOMSEC_TOP"/tests/fuzz/fuzz_*.c; do
	n=${src##*/fuzz_}
	n=${n%.c}
	seeds=("$DOMSEC_TOP/tests/fuzz/corpus/$n"/*)
	if [ ! -e "${seeds[0]}" ]; then
		it_not_ok "fuzz_$n: no seed corpus in tests/fuzz/corpus/$n/"
		continue
	fi
	harnesses=$((harnesses + 1))
	if "$out/fuzz_$n" -timeout=20 "${seeds[@]}" >"$out/$n.log" 2>&1; then
		it_ok "fuzz_$n: ${#seeds[@]} seeds replayed clean"
	else
		it_not_ok "fuzz_$n failed on its seed corpus:"
		grep -E 'ERROR|runtime error|SUMMARY|Running:' "$out/$n.log" | tail -n 20
	fi
done
if [ "$harnesses" -lt 10 ]; then
	it_not_ok "only $harnesses harnesses found under tests/fuzz/"
fi
it_finish
