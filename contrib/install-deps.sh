#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Installs the Debian packages domsec needs to build, test and run its demo.
# Sendmail is not installed: tests/integration/48-sendmail-real.sh fetches
# sendmail-bin, sendmail-cf and libwrap0 with `apt-get download` into
# build/sendmail-debs and extracts them (Postfix stays the system's MTA).
# opendkim is the peer milter make bench-mail compares against.
# Non-interactive and idempotent: packages already present are left alone.
set -eu

PACKAGES="build-essential pkg-config libssl-dev libcurl4-openssl-dev
libmilter-dev libcmocka-dev openssl ca-certificates postfix swaks miltertest
python3 iproute2 procps libnet-ssleay-perl libio-socket-ssl-perl
clang libclang-rt-14-dev libpsl-dev publicsuffix psl libmicrohttpd-dev python3-prometheus-client curl debhelper lintian fakeroot dpkg-dev
m4 util-linux cppcheck opendkim"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing (run as root to install)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Postfix asks how to configure itself; domsec's tests run private instances.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
echo "install-deps: installing$missing"
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
