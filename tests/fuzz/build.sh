#!/bin/bash
# build.sh - builds every libFuzzer harness tests/fuzz/fuzz_<name>.c into
# build-fuzz/ (or $FUZZ_BUILD): the library sources and the front-end parsers
# are compiled with clang, AddressSanitizer, UBSan and fuzzer-no-link, each
# harness is linked with -fsanitize=fuzzer.  Objects are rebuilt only when
# their source or a header is newer.
#
#   tests/fuzz/build.sh            # all harnesses
#   tests/fuzz/build.sh netstring  # only fuzz_netstring
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${FUZZ_BUILD:-$top/build-fuzz}
CC=${CLANG:-clang}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
CFLAGS="-std=c11 -D_GNU_SOURCE -pthread -g -O1 -fno-omit-frame-pointer -I$top/include -I$top"
LIBS="-lssl -lcrypto -lcurl -lpsl -lresolv -pthread"

command -v "$CC" >/dev/null || { echo "build.sh: $CC not found" >&2; exit 69; }
mkdir -p "$out/obj"
cd "$top"

# Newest header: any change rebuilds every object.
newest_header=$(ls -t include/domsec/*.h policy/*.h milter/*.h | head -n 1)

objs=()
for src in lib/*.c policy/request.c milter/fromhdr.c milter/mtafacts.c; do
	objs+=("$out/obj/$(echo "${src%.c}" | tr / _).o")
done
for src in lib/*.c policy/request.c milter/fromhdr.c milter/mtafacts.c; do
	obj="$out/obj/$(echo "${src%.c}" | tr / _).o"
	if [ ! -e "$obj" ] || [ "$src" -nt "$obj" ] || [ "$newest_header" -nt "$obj" ]; then
		echo "$src $obj"
	fi
done | xargs -r -P 2 -n 2 sh -c \
	"$CC $CFLAGS $SAN -fsanitize=fuzzer-no-link -c -o \"\$1\" \"\$0\" || exit 255"
rm -f "$out/libdomsec-fuzz.a"
ar rcs "$out/libdomsec-fuzz.a" "${objs[@]}"

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for h in tests/fuzz/fuzz_*.c; do
		n=${h#tests/fuzz/fuzz_}
		names+=("${n%.c}")
	done
fi
for n in "${names[@]}"; do
	echo "build.sh: fuzz_$n"
	$CC $CFLAGS $SAN -fsanitize=fuzzer -o "$out/fuzz_$n" \
	    "tests/fuzz/fuzz_$n.c" "$out/libdomsec-fuzz.a" $LIBS
done
