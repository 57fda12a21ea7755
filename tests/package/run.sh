#!/bin/sh
# SPDX-License-Identifier: MIT
# The Debian packages, end to end, on this machine (root, Debian 12):
#   1. build libfocal1, libfocal-dev and focal-bench from a copy of this
#      source tree: DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b
#      (the suites run in CI anyway), which also checks every exported symbol
#      against debian/libfocal1.symbols (dpkg-gensymbols -c4);
#   2. lintian: no errors (warnings are printed);
#   3. apt-get install ./*.deb into the system;
#   4. build and run tests/consumer's programs against the system install,
#      with nothing telling the tools where it is: pkg-config (shared, and
#      libfocal.a through --static), find_package(focal 1 CONFIG) with
#      focal::focal and focal::focal_static; focal-bench --help (and no
#      RPATH/RUNPATH in it) and focal-bench-plot --help;
#   5. remove the packages again (purge), on failure too.
# Usage: sh tests/package/run.sh [work-dir]   (default: build/package)
# Refuses to run when a libfocal package is already installed (it would be
# removed at the end). Needs: sh cmake/setup-debian.sh package
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-$root/build/package}
packages="libfocal1 libfocal-dev focal-bench"
start=$(date +%s)

fail() { echo "package test: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "run as root (it installs and removes packages)"
for tool in dpkg-buildpackage dh lintian apt-get cmake cc pkg-config readelf; do
    command -v "$tool" >/dev/null 2>&1 ||
        fail "$tool not found: sh cmake/setup-debian.sh package"
done
for pkg in $packages libfocal1-dbgsym focal-bench-dbgsym; do
    if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
        fail "$pkg is already installed; remove it first (this test removes what it installs)"
    fi
done

# dpkg-buildpackage writes its results next to the source directory: build
# from a copy under the work directory, without build trees.
rm -rf "$work"
mkdir -p "$work/source"
tar -C "$root" --exclude=./build --exclude=./.git --exclude='./obj-*' -cf - . |
    tar -C "$work/source" -xf -

header_version=$(sed -n 's/^#define FOCAL_VERSION_\(MAJOR\|MINOR\|PATCH\) *\([0-9]*\).*/\2/p' \
    "$root/include/focal/focal.h" | paste -sd.)
deb_version=$(cd "$work/source" && dpkg-parsechangelog -S Version)
[ "${deb_version%%[-+~]*}" = "$header_version" ] ||
    fail "debian/changelog is at $deb_version, focal.h at $header_version: add a debian/changelog entry (dch -v $header_version-1)"

echo "== package test: dpkg-buildpackage (nocheck), libfocal $deb_version"
(cd "$work/source" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b)
ls -l "$work"/*.deb

echo "== package test: lintian"
lintian --fail-on error "$work"/*.changes || fail "lintian reported errors"

cleanup() {
    status=$?
    echo "== package test: removing the packages"
    installed=""
    for deb in "$work"/*.deb; do
        name=$(dpkg-deb -f "$deb" Package)
        if dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q "ok installed"; then
            installed="$installed $name"
        fi
    done
    [ -z "$installed" ] || DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $installed || status=1
    libdir=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)
    for path in "$libdir"/libfocal* "$libdir/pkgconfig/focal.pc" "$libdir/cmake/focal" \
                /usr/include/focal /usr/bin/focal-bench*; do
        if [ -e "$path" ]; then
            echo "package test: $path left behind after removal" >&2
            status=1
        fi
    done
    echo "== package test: $( [ $status -eq 0 ] && echo passed || echo FAILED ) in $(( $(date +%s) - start )) s"
    exit $status
}
trap cleanup EXIT
trap 'exit 1' INT TERM

echo "== package test: apt-get install ./*.deb"
(cd "$work" && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ./*.deb)

consumer="$root/tests/consumer"
out="$work/consumers"
mkdir -p "$out"
unset PKG_CONFIG_PATH CMAKE_PREFIX_PATH LD_LIBRARY_PATH FOCAL_ISA FOCAL_NUM_THREADS

echo "== package test: pkg-config, shared"
[ "$(pkg-config --modversion focal)" = "$header_version" ] || fail "pkg-config --modversion focal"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -pedantic -Werror "$consumer/consumer.c" \
    $(pkg-config --cflags --libs focal) -o "$out/consumer"
"$out/consumer"
readelf -d "$out/consumer" | grep -q 'NEEDED.*libfocal\.so\.1' || fail "consumer does not need libfocal.so.1"

echo "== package test: pkg-config, static (libfocal.a)"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -pedantic -Werror "$consumer/consumer.c" $(pkg-config --cflags focal) \
    -Wl,-Bstatic -lfocal -Wl,-Bdynamic -Wl,--as-needed $(pkg-config --static --libs focal) \
    -o "$out/consumer_static"
"$out/consumer_static"
if readelf -d "$out/consumer_static" | grep -q 'NEEDED.*libfocal'; then
    fail "consumer_static needs libfocal.so"
fi

for link in shared static; do
    echo "== package test: find_package(focal 1 CONFIG), $link"
    cmake -S "$consumer/project" -B "$out/cmake-$link" -DCMAKE_BUILD_TYPE=Release \
        -DFOCAL_EXPECT_VERSION="$header_version" -DFOCAL_LINK="$link" | tee "$out/cmake-$link.log"
    # project/ prints where find_package found the package.
    grep -q "^-- focal $header_version from /usr/lib/" "$out/cmake-$link.log" ||
        fail "find_package did not find the system's focal package"
    cmake --build "$out/cmake-$link"
    for program in "$out/cmake-$link"/bin/*; do
        if [ $link = static ] && readelf -d "$program" | grep -q 'NEEDED.*libfocal'; then
            fail "$program needs libfocal.so: focal::focal_static is not the archive"
        fi
        "$program"
    done
done

echo "== package test: focal-bench --help, focal-bench-plot --help"
[ "$(command -v focal-bench)" = /usr/bin/focal-bench ] || fail "focal-bench not on PATH"
# The system's loader finds libfocal.so.1: no search path of its own
# (debian/rules sets CMAKE_SKIP_INSTALL_RPATH; a plain cmake --install
# gives focal-bench a relative one, tests/consumer checks that).
if readelf -d /usr/bin/focal-bench | grep -E 'RPATH|RUNPATH'; then
    fail "/usr/bin/focal-bench has an RPATH/RUNPATH"
fi
focal-bench --help > "$out/focal-bench-help.txt" || fail "focal-bench --help failed"
head -5 "$out/focal-bench-help.txt"
[ -s "$out/focal-bench-help.txt" ] || fail "focal-bench --help printed nothing"
focal-bench-plot --help > /dev/null || fail "focal-bench-plot --help failed"
