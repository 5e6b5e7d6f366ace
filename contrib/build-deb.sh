#!/bin/sh
# Builds the Debian package of containment_breach from this source tree:
# copies the tree (as git sees it, uncommitted changes included; or the
# whole directory when it is not a git checkout, such as an unpacked
# release) to a scratch directory, puts contrib/debian there as debian/,
# and runs dpkg-buildpackage -us -uc -b.  The .deb files land in OUTDIR
# (default: the current directory).  Installs the build tools and the
# build dependencies of debian/control it finds missing (needs root for
# that).
#
# Usage: contrib/build-deb.sh [OUTDIR]
# DEB_BUILD_OPTIONS=nocheck skips make check, as for any Debian package.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
outdir=$(mkdir -p "${1:-.}" && cd "${1:-.}" && pwd)

# Installs packages as root, quietly; fails if not root.
install_pkgs() {
	echo "build-deb.sh: installing $*"
	if [ "$(id -u)" -ne 0 ]; then
		echo "build-deb.sh: need root to install $*" >&2
		exit 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

missing=
for pkg in debhelper dpkg-dev fakeroot; do
	dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null |
	    grep -q '^install ok installed$' || missing="$missing $pkg"
done
# shellcheck disable=SC2086 # a list of package names
[ -z "$missing" ] || install_pkgs $missing

scratch=$(mktemp -d "${TMPDIR:-/tmp}/cb-deb.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT TERM
src="$scratch/containment-breach"
mkdir "$src"
if [ -d "$top/.git" ] && command -v git >/dev/null; then
	# Files git knows, less those deleted from the working tree.
	# shellcheck disable=SC2016 # $f is the inner shell's.
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
	    xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
	    tar --null -T - -cf -) | tar -xf - -C "$src"
else
	(cd "$top" && tar --exclude='./build*' --exclude=./debian -cf - .) |
	    tar -xf - -C "$src"
	# Leftovers of an in-tree build would be taken as up to date.
	(cd "$src" && if [ -f Makefile ]; then make distclean >/dev/null; fi)
fi
rm -rf "$src/debian"
cp -R "$src/contrib/debian" "$src/debian"

# The build dependencies are those debian/control names.
if ! (cd "$src" && dpkg-checkbuilddeps) >/dev/null 2>&1; then
	echo "build-deb.sh: installing the build dependencies"
	[ "$(id -u)" -eq 0 ] || { (cd "$src" && dpkg-checkbuilddeps); exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq "$src" >/dev/null
fi
(cd "$src" && dpkg-buildpackage -us -uc -b)
for f in "$scratch"/*.deb "$scratch"/*.buildinfo "$scratch"/*.changes; do
	[ -e "$f" ] || continue
	cp "$f" "$outdir/"
	echo "build-deb.sh: $outdir/${f##*/}"
done
