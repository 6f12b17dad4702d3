#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 70-debian-package.sh - the Debian package: builds it with
# `dpkg-buildpackage -us -uc -b` from a copy of the tree (under the build
# directory, so the .debs never land beside the source tree), runs lintian
# (any error fails), checks the contents and the hardening of the binaries,
# then install -> start -> reload -> stop -> purge in a throwaway root: an
# overlay of / on a tmpfs in private mount and network namespaces, entered
# with chroot.  Nothing of it reaches the host (no user, no files), and the
# daemon's ports live in the namespace's own loopback.
# systemd is not PID 1 here, so "start" runs the unit's ExecStartPre and
# ExecStart lines as the unit's User= with the directories the unit asks
# systemd for; the unit's hardening is rated with systemd-analyze.
# Skipped (exit 0, with a message) only when dpkg-buildpackage is missing.
set -eu
. "$DOMSEC_TOP/tests/integration/lib-postfix.sh"

if ! command -v dpkg-buildpackage >/dev/null 2>&1; then
	echo "# SKIP: dpkg-buildpackage missing (contrib/install-deps.sh installs dpkg-dev, debhelper, lintian, fakeroot)"
	exit 0
fi
for tool in lintian dh fakeroot unshare chroot systemd-analyze; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "missing program: $tool (run contrib/install-deps.sh)" >&2
		exit 1
	}
done

it_init
deb=$DOMSEC_BUILD/deb
rm -rf "$deb"
mkdir -p "$deb/src"

# ---- build ---------------------------------------------------------------
# The tree as it is (committed or not), without build output.
if git -C "$DOMSEC_TOP" rev-parse >/dev/null 2>&1; then
	(cd "$DOMSEC_TOP" && git ls-files -co --exclude-standard -z |
	    xargs -0 tar -cf - --no-recursion) | tar -xf - -C "$deb/src"
else
	tar -C "$DOMSEC_TOP" --exclude='./build*' -cf - . | tar -xf - -C "$deb/src"
fi
start=$(date +%s)
# nocheck: make check runs the unit tests itself (the package build runs
# them too without it).
if (cd "$deb/src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b) \
    >"$IT_DIR/build.log" 2>&1; then
	it_ok "dpkg-buildpackage -us -uc -b ($(($(date +%s) - start)) s)"
else
	tail -n 40 "$IT_DIR/build.log"
	it_not_ok "dpkg-buildpackage -us -uc -b"
	it_finish
fi
pkg=$(ls "$deb"/domsec_*_*.deb | head -n 1)
it_check "the package file exists" test -s "$pkg"

# ---- lintian ---------------------------------------------------------------
changes=$(ls "$deb"/domsec_*.changes | head -n 1)
lintian --fail-on error "$changes" >"$IT_DIR/lintian.out" 2>&1 && lrc=0 || lrc=$?
sed 's/^/# lintian: /' "$IT_DIR/lintian.out"
it_expect_eq "lintian exits 0 (no errors)" 0 "$lrc"
it_check "lintian reports no E: tag" bash -c "! grep -q '^E:' '$IT_DIR/lintian.out'"

# ---- contents --------------------------------------------------------------
dpkg-deb -c "$pkg" | awk '{print $6}' | sed 's|^\./|/|' >"$IT_DIR/contents"
for f in /usr/sbin/domsecd /usr/bin/domsecctl /lib/systemd/system/domsecd.service \
    /etc/domsec/domsec.conf /etc/domsec/partners \
    /usr/share/man/man8/domsecd.8.gz /usr/share/man/man8/domsecctl.8.gz \
    /usr/share/man/man5/domsec.conf.5.gz /usr/share/man/man5/domsec-partners.5.gz \
    /usr/share/doc/domsec/copyright /usr/share/doc/domsec/examples/postfix-main.cf; do
	it_check "package holds $f" grep -qx -- "$f" "$IT_DIR/contents"
done
dpkg-deb -e "$pkg" "$IT_DIR/control"
it_check "domsec.conf is a conffile" grep -qx /etc/domsec/domsec.conf "$IT_DIR/control/conffiles"
it_check "the partner table is a conffile" grep -qx /etc/domsec/partners "$IT_DIR/control/conffiles"
it_check "no *.sample among the conffiles" bash -c "! grep -q sample '$IT_DIR/control/conffiles'"
it_check "postinst creates the domsec user" grep -q 'adduser --system' "$IT_DIR/control/postinst"

dpkg-deb -x "$pkg" "$IT_DIR/x"
unit=$IT_DIR/x/lib/systemd/system/domsecd.service
it_check "the unit starts /usr/sbin/domsecd" grep -q '^ExecStart=/usr/sbin/domsecd ' "$unit"
it_check "the unit runs as User=domsec" grep -qx 'User=domsec' "$unit"
it_check "the unit has ExecReload" grep -q '^ExecReload=' "$unit"
score=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null |
    sed -n 's/.*Overall exposure level for domsecd.service: \([0-9.]*\).*/\1/p')
echo "# systemd-analyze security: exposure $score"
it_check "systemd-analyze security exposure <= 3.0 (got '$score')" \
    awk -v s="$score" 'BEGIN { exit !(s != "" && s + 0 <= 3.0) }'
for b in usr/sbin/domsecd usr/bin/domsecctl; do
	it_check "$b is PIE" bash -c "readelf -h '$IT_DIR/x/$b' | grep -q 'DYN'"
	it_check "$b has full RELRO" bash -c "readelf -d '$IT_DIR/x/$b' | grep -q 'BIND_NOW\|FLAGS.*NOW'"
	it_check "$b has a stack protector" bash -c "readelf -s --wide '$IT_DIR/x/$b' | grep -q __stack_chk_fail"
	it_check "$b has fortified functions" bash -c "readelf -s --wide '$IT_DIR/x/$b' | grep -q '__[a-z]*_chk@'"
done

# ---- install -> start -> reload -> stop -> purge in a throwaway root ----------
cp "$pkg" "$IT_DIR/domsec.deb"
cat >"$IT_DIR/inroot.sh" <<'EOF'
#!/bin/sh
# Runs inside the throwaway root (chroot into the overlay).
set -u
ok() { echo "ok - $*"; }
fail() { echo "not ok - $*"; failures=$((failures + 1)); }
check() { what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
failures=0
export DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin
# A host that has the package or the user already: start this root without.
dpkg -s domsec >/dev/null 2>&1 && dpkg --purge domsec >/dev/null 2>&1
getent passwd domsec >/dev/null && userdel domsec
dpkg -i /domsec.deb >/dpkg-install.log 2>&1; rc=$?
[ $rc = 0 ] || cat /dpkg-install.log
check "dpkg -i" [ $rc = 0 ]
check "the domsec system user was created" sh -c 'getent passwd domsec >/dev/null'
uid=$(id -u domsec)
check "domsec is a system user (uid $uid < 1000)" [ "$uid" -lt 1000 ]
check "its home /var/lib/domsec belongs to it" [ "$(stat -c %U /var/lib/domsec)" = domsec ]
check "postinst put domsec in group postfix (its sockets' group)" \
    sh -c 'id -nG domsec | grep -qw postfix'
check "postinst created the socket directory /var/spool/postfix/domsec (domsec:postfix 0750)" \
    [ "$(stat -c '%U:%G %a' /var/spool/postfix/domsec)" = "domsec:postfix 750" ]
check "domsecctl check-config accepts the installed configuration" \
    sh -c 'domsecctl check-config --config /etc/domsec/domsec.conf >/dev/null'
# What systemd would do for the unit: its directories, its user, its
# ExecStartPre and ExecStart lines.
unit=/lib/systemd/system/domsecd.service
user=$(sed -n 's/^User=//p' $unit)
for d in /run/domsec /var/lib/domsec /var/cache/domsec; do
	mkdir -p $d && chown "$user:$user" $d
done
pre=$(sed -n 's/^ExecStartPre=//p' $unit)
cmd=$(sed -n 's/^ExecStart=//p' $unit)
check "ExecStartPre ($pre) passes as $user" runuser -u "$user" -- $pre
runuser -u "$user" -- $cmd >/domsecd.log 2>&1 &
pid=$!
up=0
for i in $(seq 1 100); do
	if [ -S /var/spool/postfix/domsec/milter ] && [ -S /var/spool/postfix/domsec/policy ]; then
		up=1; break
	fi
	sleep 0.1
done
check "domsecd listens on the sample unix sockets under /var/spool/postfix/domsec" [ $up = 1 ]
check "the sockets are domsec:postfix 0660 (SocketGroup, SocketMode defaults)" \
    [ "$(stat -c '%U:%G %a' /var/spool/postfix/domsec/milter /var/spool/postfix/domsec/policy | sort -u)" = "domsec:postfix 660" ]
dpid=$(pgrep -P "$pid" -x domsecd | head -n 1)
[ -n "$dpid" ] && [ "$(stat -c %U /proc/$dpid)" = "$user" ] || dpid=
check "domsecd runs as $user" [ -n "$dpid" ]
# ExecReload
reload=$(sed -n 's/^ExecReload=//p' $unit | sed "s/\$MAINPID/$dpid/")
check "ExecReload ($reload) succeeds" $reload
sleep 0.5
check "domsecd still runs after the reload signal" kill -0 "$dpid"
kill -TERM "$dpid"
for i in $(seq 1 100); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
wait $pid; src=$?
check "domsecd stops on SIGTERM with status 0 (got $src)" [ $src = 0 ]
grep -q . /domsecd.log && sed 's/^/# domsecd: /' /domsecd.log | tail -n 5
dpkg --purge domsec >/dpkg-purge.log 2>&1; rc=$?
[ $rc = 0 ] || cat /dpkg-purge.log
check "dpkg --purge" [ $rc = 0 ]
for f in /usr/sbin/domsecd /usr/bin/domsecctl /etc/domsec /lib/systemd/system/domsecd.service \
    /var/lib/domsec /var/cache/domsec /var/spool/postfix/domsec; do
	check "purge removed $f" [ ! -e "$f" ]
done
check "dpkg forgot the package" sh -c '! dpkg -s domsec >/dev/null 2>&1'
exit $failures
EOF
cat >"$IT_DIR/root.sh" <<'EOF'
#!/bin/sh
# In fresh mount and network namespaces: / overlaid on a tmpfs, then chroot.
set -eu
d=$1
mount -t tmpfs tmpfs "$d/rw"
mkdir -p "$d/rw/upper" "$d/rw/work"
mount -t overlay overlay -o "lowerdir=/,upperdir=$d/rw/upper,workdir=$d/rw/work" "$d/root"
mount -t proc proc "$d/root/proc"
mount --rbind /dev "$d/root/dev"
mount -t tmpfs tmpfs "$d/root/run"
mount -t tmpfs tmpfs "$d/root/tmp"
ip link set lo up
cp "$d/domsec.deb" "$d/inroot.sh" "$d/root/"
exec chroot "$d/root" /bin/sh /inroot.sh
EOF
mkdir -p "$IT_DIR/rw" "$IT_DIR/root"
host_user=$(getent passwd domsec || true)
host_pkg=$(dpkg-query -W -f='${Status}' domsec 2>/dev/null || true)
if unshare --mount --net --fork sh "$IT_DIR/root.sh" "$IT_DIR" >"$IT_DIR/root.out" 2>&1; then
	rrc=0
else
	rrc=$?
fi
cat "$IT_DIR/root.out"
it_expect_eq "install -> start -> reload -> stop -> purge in the throwaway root" 0 "$rrc"
it_expect_eq "the host's users are untouched" "$host_user" "$(getent passwd domsec || true)"
it_expect_eq "the host's package state is untouched" "$host_pkg" \
    "$(dpkg-query -W -f='${Status}' domsec 2>/dev/null || true)"
it_finish
