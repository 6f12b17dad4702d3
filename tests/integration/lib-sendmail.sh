# SPDX-License-Identifier: BSD-2-Clause
# lib-sendmail.sh - a real Sendmail for the integration tests, without
# installing it: Debian's sendmail-bin, sendmail-cf and libwrap0 are
# downloaded once (apt-get download, cached in $DOMSEC_BUILD/sendmail-debs)
# and extracted with dpkg -x; Postfix stays installed.  What it takes to make
# that copy run (each found the hard way):
#   - the binary is setgid smmsp: the copy drops it (chmod g-s), else the
#     loader ignores LD_LIBRARY_PATH and libwrap.so.0 is not found;
#   - it sleeps 60 s at start unless its host name resolves, over IPv6 too:
#     it runs in its own UTS and mount namespaces (unshare -um) with its own
#     host name and an /etc/hosts bind-mounted over the real one;
#   - under a group- or world-writable parent directory (/tmp) it silently
#     turns STARTTLS off and refuses its map files: its work directory is
#     under the build directory when no parent of that is writable by
#     others, else under /var/lib/domsec-tests (a clone in /tmp);
#   - it wants /dev/log: inside the namespace /dev is a fresh tmpfs with the
#     device nodes bound in, and /dev/log is a socket of tests/syslog_sink.py
#     (its log becomes $SM_DIR/syslog).
# The .cf is built with m4 from contrib/sendmail.mc (the administrator's
# snippet, paths and ports replaced) plus the test instance's settings.
#
# This file only defines functions: source it after lib-postfix.sh.
#
#   sm_prepare            # debs cached and extracted under $SM_ROOT
#   sm_config NAME=VALUE  # writes $SM_DIR/{sendmail.mc,sendmail.cf,access,...}
#   sm_start / sm_stop    # the daemon in its namespace, pid $SM_PID

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "# lib-sendmail.sh is the harness sourced by 48-sendmail-real.sh"
	exit 0
fi

SM_DEBS=${SM_DEBS:-$DOMSEC_BUILD/sendmail-debs}

# sm_safe_base: a directory no parent of which is group- or world-writable.
sm_safe_base() {
	local d=$DOMSEC_BUILD
	while [ -n "$d" ] && [ "$d" != / ]; do
		if [ -n "$(find "$d" -maxdepth 0 -perm /022)" ]; then
			mkdir -p /var/lib/domsec-tests && chmod 755 /var/lib/domsec-tests
			echo /var/lib/domsec-tests
			return
		fi
		d=$(dirname "$d")
	done
	echo "$DOMSEC_BUILD"
}

# sm_prepare: sets SM_ROOT (extracted packages), SM_DIR (work directory).
# Returns 2 (skip) when the packages can be neither found nor downloaded.
sm_prepare() {
	mkdir -p "$SM_DEBS"
	chmod 755 "$SM_DEBS"
	if ! ls "$SM_DEBS"/sendmail-bin_*.deb "$SM_DEBS"/sendmail-cf_*.deb \
	    "$SM_DEBS"/libwrap0_*.deb >/dev/null 2>&1; then
		(cd "$SM_DEBS" && apt-get download sendmail-bin sendmail-cf libwrap0) \
		    >"$SM_DEBS/download.log" 2>&1 ||
		(apt-get update -q && cd "$SM_DEBS" &&
		    apt-get download sendmail-bin sendmail-cf libwrap0) \
		    >>"$SM_DEBS/download.log" 2>&1 || return 2
	fi
	SM_DIR=$(mktemp -d "$(sm_safe_base)/sendmail-it.XXXXXX")
	chmod 755 "$SM_DIR"
	# removed with the test's work directory (it_cleanup)
	case $SM_DIR in /var/lib/domsec-tests/*) IT_EXTRA_DIRS="${IT_EXTRA_DIRS:-} $SM_DIR" ;; esac
	SM_ROOT=$SM_DIR/root
	mkdir -p "$SM_ROOT"
	local d
	for d in "$SM_DEBS"/*.deb; do
		dpkg -x "$d" "$SM_ROOT" || return 1
	done
	chmod g-s "$SM_ROOT/usr/libexec/sendmail/sendmail"
	SM_BIN=$SM_ROOT/usr/libexec/sendmail/sendmail
	SM_LIBS=$SM_ROOT/lib/x86_64-linux-gnu:$SM_ROOT/usr/lib/x86_64-linux-gnu
	SM_VERSION=$(LD_LIBRARY_PATH=$SM_LIBS "$SM_BIN" -d0.1 -bt </dev/null 2>/dev/null |
	    sed -n 's/^Version \([0-9.]*\).*/\1/p' | head -n 1)
}

# sm_run ARGS...: the Sendmail copy with its libraries.
sm_run() {
	LD_LIBRARY_PATH=$SM_LIBS "$SM_BIN" "$@"
}

# sm_makemap TYPE FILE: FILE.db from FILE, with the packaged makemap.
sm_makemap() {
	LD_LIBRARY_PATH=$SM_LIBS "$SM_ROOT/usr/libexec/sendmail/makemap" \
	    -C "$SM_DIR/sendmail.cf" "$1" "$2" <"$2"
}

# sm_config: needs SM_PORT (SMTP, 127.0.0.1 and ::1), SM_SINK_PORT (the
# relay mailer: mail for contoso.com), SM_OUT_PORT (the esmtp mailer: the
# partner's and a stranger's MX), IT_MILTER_PORT, $IT_PKI.
sm_config() {
	local etc=$SM_DIR/etc
	mkdir -p "$etc/certs" "$SM_DIR/queue" "$SM_DIR/cf"
	chmod 700 "$SM_DIR/queue"
	chmod 755 "$etc" "$etc/certs"
	cat "$IT_PKI/root.pem" "$IT_PKI/inter.pem" >"$etc/certs/partner-cas.pem"
	cp "$IT_PKI/contoso-chain.pem" "$etc/certs/mx-chain.pem"
	cp "$IT_PKI/contoso.key" "$etc/certs/mx.key"
	chmod 600 "$etc/certs/mx.key"
	chmod 644 "$etc/certs/partner-cas.pem" "$etc/certs/mx-chain.pem"
	# contrib/sendmail.mc with this instance's paths and milter port.
	sed -e "s|/etc/mail/certs|$etc/certs|g" \
	    -e "s|S=inet:8895@127.0.0.1|S=inet:$IT_MILTER_PORT@127.0.0.1|" \
	    "$DOMSEC_TOP/contrib/sendmail.mc" >"$SM_DIR/contrib.m4"
	cat >"$SM_DIR/sendmail.mc" <<EOF
divert(-1)
# the private test instance around contrib/sendmail.mc
divert(0)dnl
VERSIONID(\`domsec real-Sendmail test')dnl
OSTYPE(\`linux')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confDOMAIN_NAME', \`mx.contoso.com')dnl
define(\`confLOG_LEVEL', \`14')dnl
define(\`ALIAS_FILE', \`')dnl
define(\`QUEUE_DIR', \`$SM_DIR/queue')dnl
define(\`confPID_FILE', \`$SM_DIR/sendmail.pid')dnl
define(\`STATUS_FILE', \`$SM_DIR/statistics')dnl
define(\`confHOST_STATUS_DIRECTORY', \`')dnl
define(\`confDELIVERY_MODE', \`background')dnl
define(\`confTO_ICONNECT', \`5s')dnl
define(\`confTO_CONNECT', \`5s')dnl
define(\`confDEF_USER_ID', \`mail:mail')dnl
define(\`confPRIVACY_FLAGS', \`authwarnings')dnl
define(\`LOCAL_MAILER_PATH', \`/bin/false')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $SM_SINK_PORT')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $SM_OUT_PORT')dnl
FEATURE(\`access_db', \`hash -T<TMPF> $etc/access')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`mailertable', \`hash $etc/mailertable')dnl
DAEMON_OPTIONS(\`Port=$SM_PORT, Addr=127.0.0.1, Name=MTA')dnl
DAEMON_OPTIONS(\`Port=$SM_PORT, Addr=::1, Family=inet6, Name=MTA6')dnl
include(\`$SM_DIR/contrib.m4')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
	(cd "$SM_DIR" && m4 -D_CF_DIR_="$SM_ROOT/usr/share/sendmail/cf/" \
	    "$SM_ROOT/usr/share/sendmail/cf/m4/cf.m4" sendmail.mc) \
	    >"$SM_DIR/sendmail.cf" 2>"$SM_DIR/m4.err" || {
		cat "$SM_DIR/m4.err" >&2
		return 1
	}
	cat >"$etc/mailertable" <<EOF
contoso.com		relay:[127.0.0.1]
woodgrovebank.com	esmtp:[mx1.woodgrovebank.com]
example.net		esmtp:[mx.example.net]
EOF
	{
		echo "To:contoso.com	RELAY"
		echo "To:woodgrovebank.com	RELAY"
		echo "To:example.net	RELAY"
		# what domsecctl sendmail-access prints for the partner table
		"$DOMSEC_BUILD/domsecctl" sendmail-access --config "$IT_DIR/domsec.conf" \
		    --client-cert "$etc/certs/mx-chain.pem" --client-key "$etc/certs/mx.key" |
		    grep -v '^#'
	} >"$etc/access"
	sm_makemap hash "$etc/mailertable" && sm_makemap hash "$etc/access" || return 1
	: >"$SM_DIR/statistics"
	# the namespace's /etc/hosts: our name resolves over IPv4 and IPv6
	cat >"$SM_DIR/hosts" <<EOF
127.0.0.1	mx.contoso.com localhost
::1		mx.contoso.com localhost ip6-localhost
127.0.0.3	mx1.woodgrovebank.com
127.0.0.4	mx.example.net
EOF
}

# sm_start: the daemon in its own UTS and mount namespaces, in the
# foreground (-bD) of a process we track.
sm_start() {
	cat >"$SM_DIR/ns.sh" <<'EOF'
#!/bin/sh
# Inside unshare -um: host name, /etc/hosts, /dev with /dev/log, Sendmail.
set -eu
d=$1
shift
hostname mx.contoso.com
mount --bind "$d/hosts" /etc/hosts
mkdir -p "$d/hostdev"
mount --rbind /dev "$d/hostdev"
mount -t tmpfs -o mode=755 tmpfs /dev
for n in null zero full random urandom tty; do
	[ -e "$d/hostdev/$n" ] || continue
	touch "/dev/$n"
	mount --bind "$d/hostdev/$n" "/dev/$n"
done
ln -s /proc/self/fd /dev/fd
python3 "$1" --socket /dev/log --out "$d/syslog" --pid-file "$d/syslog.pid" &
i=0
while [ ! -S /dev/log ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
shift
exec "$@"
EOF
	unshare -um sh "$SM_DIR/ns.sh" "$SM_DIR" "$DOMSEC_TOP/tests/syslog_sink.py" \
	    env LD_LIBRARY_PATH="$SM_LIBS" "$SM_BIN" -bD -C "$SM_DIR/sendmail.cf" \
	    >"$SM_DIR/sendmail.out" 2>&1 &
	SM_PID=$!
	it_track_pid "$SM_PID"
	it_wait_file "$SM_DIR/syslog.pid" 10 && it_track_pid "$(cat "$SM_DIR/syslog.pid")"
	it_wait_port "$SM_PORT" 30
}

sm_stop() {
	[ -n "${SM_PID:-}" ] || return 0
	it_stop_pid "$SM_PID"
	[ -f "$SM_DIR/syslog.pid" ] && it_stop_pid "$(cat "$SM_DIR/syslog.pid")"
	SM_PID=
}

# sm_send LABEL [swaks options]: like it_send, to Sendmail.
sm_send() {
	local label=$1
	shift
	local saved=$IT_SMTPD_PORT
	IT_SMTPD_PORT=$SM_PORT
	it_send "$label" "$@"
	IT_SMTPD_PORT=$saved
}

# sm_send_partner LABEL SENDER LEAF|-|plain [FROM [HEADERS...]]
sm_send_partner() {
	local saved=$IT_SMTPD_PORT
	IT_SMTPD_PORT=$SM_PORT
	it_send_partner "$@"
	IT_SMTPD_PORT=$saved
}
