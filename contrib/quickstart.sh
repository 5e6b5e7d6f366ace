#!/bin/sh
# Quick start on a fresh Debian or Ubuntu machine.
#
#   contrib/quickstart.sh run    install what is missing, build, and run the
#                                daemon in the foreground on its defaults
#   contrib/quickstart.sh test   install what is missing, build, make check
#
# Run it from the source tree as root, or as a user who may use sudo.
# Extra arguments after "run" are passed to the daemon.
set -eu

mode=${1:-}
case "$mode" in
run|test) shift ;;
*)
	echo "usage: $0 run [daemon flags...] | test" >&2
	exit 2
	;;
esac

cd "$(dirname "$0")/.."

packages="build-essential autoconf automake libtool pkg-config \
libevent-dev libjson-c-dev check"

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	else
		sudo "$@"
	fi
}

missing=
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "Installing:$missing"
	as_root apt-get update -qq
	# shellcheck disable=SC2086
	as_root env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends $missing
fi

[ -x configure ] || autoreconf -fi
mkdir -p build
cd build
[ -f Makefile ] || ../configure
make -j"$(nproc)"

case "$mode" in
run)
	exec ./src/containment_breach "$@"
	;;
test)
	make -j"$(nproc)" check || {
		# Show the log of each failed test program.
		grep -l '^:test-result: \(FAIL\|ERROR\)' tests/*.trs |
		    sed 's/\.trs$/.log/' | xargs cat >&2
		exit 1
	}
	;;
esac
