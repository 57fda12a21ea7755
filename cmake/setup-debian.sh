#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs what a libfocal build needs on Debian 12, and nothing that is
# already there. Usage: sh cmake/setup-debian.sh [bench|test|aarch64|ci]...
#   bench    the library's and focal-bench's build dependencies: the
#            Build-Depends of debian/control, and a compiler (build-essential)
#   test     bench + Python test stack (numpy, torch, torchvision, pytest) and
#            SIMDe (the AVX-512 kernel's tests on CPUs without AVX-512)
#   aarch64  cross compiler, qemu-user and the arm64 SLEEF/CMocka packages
#   package  debhelper and lintian: the Debian package build and its test
#   ci       all of the above + ABI tools, clang (fuzzing) and valgrind
#
# debian/control's Build-Depends is the one list of the build's dependencies:
# this script reads it rather than keeping a copy. It parses the field itself
# (alternatives: the first one; versions, architecture lists and build
# profiles dropped, so keep every entry valid for every architecture and
# profile) instead of running `apt-get build-dep ./` or mk-build-deps:
# those need the package lists (an `apt-get update`) even when everything is
# installed, and mk-build-deps needs devscripts and equivs. Here a machine
# that has everything runs no apt at all. debhelper-compat (debhelper's
# compatibility level, not a package of its own) is installed only for the
# package build ("package", "ci").
#
# What only the tests, the cross build and CI use stays in the lists below:
# the Python stack (torch is large; the Debian package build runs the C
# suites only), SIMDe, the cross toolchain with its arm64 libraries, and the
# hardening tools. They are not Build-Depends of the package.
set -eu

here=$(dirname "$0")
control="$here/../debian/control"
[ -r "$control" ] || { echo "setup-debian.sh: $control not found" >&2; exit 1; }

# The Build-Depends field (continuation lines included), one package a line.
build_depends=$(awk '
    /^Build-Depends:/ { on = 1; sub(/^Build-Depends:/, ""); print; next }
    on && /^[ \t]/ { print; next }
    { on = 0 }' "$control" |
    tr ',' '\n' |
    sed -e 's/|.*//' -e 's/([^)]*)//g' -e 's/\[[^]]*\]//g' -e 's/<[^>]*>//g' \
        -e 's/^[ \t]*//' -e 's/[ \t]*$//' |
    grep -v '^$')
debhelper=""
base="build-essential"
for pkg in $build_depends; do
    case "$pkg" in
        debhelper-compat) debhelper="debhelper" ;;
        *) base="$base $pkg" ;;
    esac
done

# setuptools, wheel, build and venv: the pip package and its wheel test (python.wheel)
python="python3 python3-numpy python3-torch python3-torchvision python3-pytest python3-matplotlib
        python3-setuptools python3-wheel python3-build python3-venv"
# SIMDe: the AVX-512 kernel's test cases on CPUs without AVX-512 (tests/emu512)
emu="libsimde-dev"
# libc6-dev-arm64-cross is only a recommendation of the cross compiler, and
# --no-install-recommends below would leave it out (no crt files to link).
cross="gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user libsleef-dev:arm64 libcmocka-dev:arm64"
package="$debhelper lintian"
extra="abigail-tools clang libclang-rt-14-dev valgrind"

want="$base"
[ $# -eq 0 ] && set -- test
for what in "$@"; do
    case "$what" in
        bench) ;;
        test) want="$want $python $emu" ;;
        aarch64) want="$want $cross" ;;
        package) want="$want $package" ;;
        ci) want="$want $python $emu $cross $package $extra" ;;
        *) echo "setup-debian.sh: unknown set '$what' (bench, test, aarch64, package, ci)" >&2; exit 2 ;;
    esac
done

missing=""
for pkg in $want; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done
[ -z "$missing" ] && exit 0

echo "setup-debian.sh: installing$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup-debian.sh: run as root (or install sudo)" >&2; exit 1; }
    SUDO=sudo
fi
case "$missing" in
    *:arm64*)
        dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64 ;;
esac
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
