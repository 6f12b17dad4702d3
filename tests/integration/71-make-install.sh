#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 71-make-install.sh - `make install` and `make uninstall` into a DESTDIR:
# binaries, man pages, samples, live configuration only where none exists,
# the systemd unit with PREFIX's sbin directory substituted; uninstall
# removes all of it except the live configuration files.
set -eu
. "$DOMSEC_TOP/tests/integration/lib-postfix.sh"

it_init
dest=$IT_DIR/dest
mk() { make -s -C "$DOMSEC_TOP" O="$DOMSEC_BUILD" DESTDIR="$dest" "$@" >"$IT_DIR/make.out" 2>&1; }

it_check "make install PREFIX=/opt/ds" mk install PREFIX=/opt/ds
unit=$dest/opt/ds/lib/systemd/system/domsecd.service
for f in opt/ds/sbin/domsecd opt/ds/bin/domsecctl opt/ds/share/man/man8/domsecd.8 \
    opt/ds/share/man/man5/domsec.conf.5 etc/domsec/domsec.conf etc/domsec/domsec.conf.sample \
    etc/domsec/partners opt/ds/lib/systemd/system/domsecd.service; do
	it_check "installed $f" test -f "$dest/$f"
done
it_check "the unit starts PREFIX's domsecd" grep -q '^ExecStart=/opt/ds/sbin/domsecd -f -c /etc/domsec/domsec.conf$' "$unit"
it_check "the unit checks the configuration with PREFIX's domsecd" grep -q '^ExecStartPre=/opt/ds/sbin/domsecd -n ' "$unit"
it_check "no /usr/local path is left in the unit" bash -c "! grep -q /usr/local '$unit'"
it_expect_eq "the unit is mode 0644" 644 "$(stat -c %a "$unit")"

echo "# edited" >>"$dest/etc/domsec/domsec.conf"
it_check "make install again" mk install PREFIX=/opt/ds
it_check "a second install keeps the edited configuration" grep -q '^# edited' "$dest/etc/domsec/domsec.conf"

it_check "make uninstall PREFIX=/opt/ds" mk uninstall PREFIX=/opt/ds
left=$(cd "$dest" && find . -type f | sort | tr '\n' ' ')
it_expect_eq "uninstall leaves only the live configuration" \
    "./etc/domsec/domsec.conf ./etc/domsec/partners " "$left"
it_finish
