#!/bin/bash
# checksrc.sh - domsec's house rules, checked (`make lint` runs it, and CI
# runs `make lint` before `make check`).  See CONTRIBUTING.md for the rules
# this script cannot check.
#
#   errors (exit 1):
#     - a banned function: strcat, strcpy, sprintf, vsprintf, gets, strtok
#       (use snprintf, memcpy with a length, strtok_r);
#     - a line over 100 columns (tabs count 8);
#     - more lines over 80 columns than tests/lint/long-lines.baseline
#       allows (the count may only go down; lower the baseline when it does);
#     - a private header (*_internal.h) under include/domsec/;
#     - a source file that does not start with its header comment
#       ("/*" then " * NAME - what it is"), or has no SPDX licence line;
#     - verdict or partner-mode logic in a front end (milter/, policy/):
#       DS_VERDICT_*, DS_MODE_*, ->verdict, ->mode, ->refuse;
#   warnings (listed, exit 0):
#     - functions longer than 100 lines.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
errors=0
err() { echo "checksrc: error: $*"; errors=$((errors + 1)); }

files=$(git ls-files '*.c' '*.h' 2>/dev/null || find lib milter policy daemon tools tests include -name '*.[ch]')

# Banned functions (a word followed by "(").
while IFS= read -r hit; do
	[ -n "$hit" ] && err "$hit: banned function (see scripts/checksrc.sh)"
done < <(grep -nE '(^|[^a-z_])(strcat|strcpy|sprintf|vsprintf|gets|strtok)\(' $files)

# Line length.
long80=0
for f in $files; do
	n=$(expand -t8 "$f" | awk 'length > 80' | wc -l)
	long80=$((long80 + n))
	expand -t8 "$f" | awk -v f="$f" 'length > 100 { printf "%s:%d: line of %d columns (at most 100)\n", f, NR, length }' |
	    while IFS= read -r line; do echo "checksrc: error: $line"; done
done
over100=$(for f in $files; do expand -t8 "$f" | awk 'length > 100'; done | wc -l)
[ "$over100" -gt 0 ] && errors=$((errors + over100))
baseline=$(cat tests/lint/long-lines.baseline 2>/dev/null || echo 0)
if [ "$long80" -gt "$baseline" ]; then
	err "$long80 lines over 80 columns, more than the baseline $baseline (tests/lint/long-lines.baseline): wrap the new ones"
elif [ "$long80" -lt "$baseline" ]; then
	echo "checksrc: note: $long80 lines over 80 columns, fewer than the baseline $baseline: lower tests/lint/long-lines.baseline"
fi

# Private headers stay beside their .c files.
for h in include/domsec/*_internal.h; do
	[ -e "$h" ] && err "$h: a module-private header belongs beside its .c file, not under include/"
done

# Header comment.
for f in $files; do
	first=$(head -n 1 "$f")
	second=$(sed -n 2p "$f")
	name=$(basename "$f")
	if [ "$first" != "/*" ] || ! grep -qE "^ \* ${name//./\\.} - " <<<"$second"; then
		err "$f: no header comment (\"/*\" then \" * $name - what it is\")"
	fi
	grep -q 'SPDX-License-Identifier: BSD-2-Clause' "$f" ||
	    err "$f: no SPDX-License-Identifier: BSD-2-Clause line"
done

# Front ends translate; the core decides.
while IFS= read -r hit; do
	[ -n "$hit" ] && err "$hit: verdict or mode logic in a front end (move it to lib/session.c)"
done < <(grep -nE 'DS_VERDICT_|DS_MODE_|->verdict|->mode\b|->refuse' milter/*.c policy/*.c)

# Long functions (warnings): from a line "name(...)" at column 0 followed by
# "{" to the matching "}" at column 0.
for f in $(grep -l . lib/*.c lib/crl/*.c milter/*.c policy/*.c daemon/*.c \
    tools/*.c); do
	awk -v f="$f" '
		/^[a-z_].*\(/ && !/;$/ { name = $0; sub(/\(.*/, "", name); sub(/.* \**/, "", name) }
		/^\{/ { start = NR }
		/^\}/ && start { if (NR - start > 100) printf "checksrc: warning: %s: %s() is %d lines\n", f, name, NR - start; start = 0 }
	' "$f"
done

if [ "$errors" -gt 0 ]; then
	echo "checksrc: $errors error(s)"
	exit 1
fi
echo "checksrc: clean ($long80 lines over 80 columns, baseline $baseline)"
