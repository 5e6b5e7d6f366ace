#!/bin/bash
# The packaging test, run by CI (not by make check, which must not need
# root or touch the system): builds the .deb with contrib/build-deb.sh,
# installs it with dpkg, starts the daemon with the shipped SysV init
# script, checks /healthz, reload and status through the script, stops it,
# checks the systemd unit with systemd-analyze verify when that exists,
# and purges the package.  Needs root and a Debian-like system; it leaves
# the system as it found it (the package purged, its user removed) even
# when it fails, and every wait is bounded.
#
# The build tools and build dependencies contrib/build-deb.sh installs
# when missing stay installed.  A run takes about 30 s (plus make check
# with DEB_BUILD_OPTIONS= ); it gives up after 20 minutes at most.
#
# Usage: tests/packaging.sh      (from anywhere in the source tree)
# CB_PKG_KEEP_DEB=DIR keeps the built .deb files in DIR.
# DEB_BUILD_OPTIONS defaults to nocheck here (CI runs make check itself).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
pkg=containment-breach
# Every package contrib/debian builds, daemon last (it needs the library).
pkgs="libcontainment-breach-dev $pkg libcontainment-breach0"
init=/etc/init.d/containment_breach
unit=/lib/systemd/system/containment_breach.service
admin_port=6970
work=$(mktemp -d "${TMPDIR:-/tmp}/cb-pkgtest.XXXXXX")

log() { echo "packaging.sh: $*"; }
fail() { echo "packaging.sh: FAIL: $*" >&2; exit 1; }

# Stops whatever the package started and purges it; safe to run twice.
cleanup() {
	local rc=$?
	if [ -x "$init" ]; then
		timeout 30 "$init" stop >/dev/null 2>&1 || true
	fi
	purge_all >/dev/null 2>&1 || true
	rm -rf "$work"
	if [ "$rc" -eq 0 ]; then
		log "PASS"
	else
		log "FAIL (status $rc)"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Purges whichever of the packages are known to dpkg.
purge_all() {
	local p known=
	for p in $pkgs; do
		if dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q 'installed\|config-files\|half'; then
			known="$known $p"
		fi
	done
	[ -z "$known" ] && return 0
	# shellcheck disable=SC2086 # a list of package names
	timeout 120 dpkg --purge $known
}

# GET path on the admin port with bash's /dev/tcp; prints status and body.
http_get() {
	local path=$1 line status body=
	exec 3<>"/dev/tcp/127.0.0.1/$admin_port" || return 1
	printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$path" >&3
	IFS= read -r -t 5 line <&3 || { exec 3<&-; return 1; }
	status=$(echo "$line" | cut -d' ' -f2)
	while IFS= read -r -t 5 line <&3; do
		[ "$line" = $'\r' ] && break
	done
	body=$(timeout 5 cat <&3 || true)
	exec 3<&-
	echo "$status $body"
}

# Polls until /healthz answers "200 ok", for at most 10 seconds.
wait_healthy() {
	local tries
	for tries in $(seq 100 -1 1); do
		if [ "$(http_get /healthz 2>/dev/null)" = "200 ok" ]; then
			return 0
		fi
		[ "$tries" -gt 1 ] && sleep 0.1
	done
	return 1
}

# Polls until nothing answers on the admin port, for at most 10 seconds.
wait_down() {
	local tries
	for tries in $(seq 100 -1 1); do
		http_get /healthz >/dev/null 2>&1 || return 0
		[ "$tries" -gt 1 ] && sleep 0.1
	done
	return 1
}

[ "$(id -u)" -eq 0 ] || fail "must run as root (dpkg -i)"
command -v dpkg-buildpackage >/dev/null || command -v apt-get >/dev/null ||
    fail "not a Debian-like system"

# A previous run that died half-way: start clean.
if [ -x "$init" ]; then
	timeout 30 "$init" stop >/dev/null 2>&1 || true
fi
purge_all >/dev/null
if http_get /healthz >/dev/null 2>&1; then
	fail "something already listens on 127.0.0.1:$admin_port"
fi

# CI runs make check on its own, three ways; the package build need not
# run it a fourth time.  DEB_BUILD_OPTIONS= (empty) runs it.
export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS-nocheck}"
log "building the package (DEB_BUILD_OPTIONS=$DEB_BUILD_OPTIONS)"
timeout 1200 "$top/contrib/build-deb.sh" "$work" >"$work/build.log" 2>&1 ||
    { tail -50 "$work/build.log"; fail "contrib/build-deb.sh"; }
deb="$work/${pkg}_$(dpkg-parsechangelog -l "$top/contrib/debian/changelog" \
    -S Version)_$(dpkg --print-architecture).deb"
libdeb=${deb/$pkg/libcontainment-breach0}
{ [ -f "$deb" ] && [ -f "$libdeb" ]; } || fail "no .deb built"
if [ -n "${CB_PKG_KEEP_DEB:-}" ]; then
	mkdir -p "$CB_PKG_KEEP_DEB" && cp "$work"/*.deb "$CB_PKG_KEEP_DEB/"
fi

log "checking the contents of ${deb##*/}"
dpkg-deb -c "$deb" >"$work/contents"
for f in ./usr/bin/containment_breach ./etc/containment_breach.conf \
    ./etc/init.d/containment_breach ./etc/default/containment_breach \
    ./etc/logrotate.d/containment_breach ."$unit" \
    ./usr/share/man/man8/containment_breach.8.gz \
    ./usr/share/man/man5/containment_breach.conf.5.gz; do
	grep -q " $f\$" "$work/contents" || fail "$f is not in the package"
done

log "installing"
timeout 300 dpkg -i "$libdeb" "$deb" >"$work/dpkg.log" 2>&1 ||
    { cat "$work/dpkg.log"; fail "dpkg -i"; }
getent passwd containment_breach >/dev/null ||
    fail "the package did not create its user"
[ -x "$init" ] || fail "no init script"

# The unit names /usr/bin/containment_breach, so it is verified once
# installed.  Warnings about the system's own units are not ours.
if command -v systemd-analyze >/dev/null; then
	log "systemd-analyze verify $unit"
	if ! systemd-analyze verify "$unit" >"$work/verify" 2>&1; then
		cat "$work/verify"
		fail "systemd-analyze verify $unit"
	fi
	if grep containment_breach "$work/verify"; then
		fail "systemd-analyze verify complains about the unit"
	fi
fi

# dpkg -i may have started it already (invoke-rc.d): start must say so.
log "init script: start"
timeout 30 "$init" start || fail "$init start"
wait_healthy || fail "/healthz did not answer 200 ok after start"
pid=$(cat /run/containment_breach.pid) || fail "no pidfile"
kill -0 "$pid" || fail "the pidfile names no process"
[ "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" = \
    "$(id -u containment_breach)" ] ||
    fail "the daemon does not run as containment_breach"
timeout 30 "$init" status || fail "$init status while running"
timeout 30 "$init" start || fail "$init start when already running"

log "init script: reload"
timeout 30 "$init" reload || fail "$init reload"
wait_healthy || fail "/healthz after reload"
[ "$(cat /run/containment_breach.pid)" = "$pid" ] ||
    fail "reload replaced the process"
kill -0 "$pid" || fail "the daemon died on reload"

log "init script: restart"
timeout 60 "$init" restart || fail "$init restart"
wait_healthy || fail "/healthz after restart"
[ "$(cat /run/containment_breach.pid)" != "$pid" ] ||
    fail "restart kept the old process"

log "init script: stop"
timeout 30 "$init" stop || fail "$init stop"
wait_down || fail "the daemon still answers after stop"
rc=0
timeout 30 "$init" status >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 3 ] || fail "$init status after stop: $rc, not 3"
[ ! -e /run/containment_breach.pid ] || fail "pidfile left after stop"

log "purging"
purge_all >"$work/dpkg.log" 2>&1 ||
    { cat "$work/dpkg.log"; fail "dpkg --purge"; }
for p in $pkgs; do
	! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q 'installed\|config-files\|half' ||
	    fail "$p is still on the system"
done
[ ! -e "$init" ] || fail "$init left after purge"
[ ! -e /etc/containment_breach.conf ] || fail "conffile left after purge"
! getent passwd containment_breach >/dev/null ||
    fail "the user is left after purge"
