#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs what a libfocal build needs on Debian 12, and nothing that is
# already there. Usage: sh cmake/setup-debian.sh [bench|test|aarch64|ci]...
#   bench    compiler, CMake, SLEEF, CMocka, Google Benchmark
#   test     bench + Python test stack (numpy, torch, torchvision, pytest) and
#            SIMDe (the AVX-512 kernel's tests on CPUs without AVX-512)
#   aarch64  cross compiler, qemu-user and the arm64 SLEEF/CMocka packages
#   ci       all of the above + ABI tools, clang (fuzzing) and valgrind
set -eu

base="gcc g++ cmake pkg-config libsleef-dev libcmocka-dev libbenchmark-dev"
python="python3 python3-numpy python3-torch python3-torchvision python3-pytest python3-matplotlib"
# SIMDe: the AVX-512 kernel's test cases on CPUs without AVX-512 (tests/emu512)
emu="libsimde-dev"
# libc6-dev-arm64-cross is only a recommendation of the cross compiler, and
# --no-install-recommends below would leave it out (no crt files to link).
cross="gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user libsleef-dev:arm64 libcmocka-dev:arm64"
extra="abigail-tools clang libclang-rt-14-dev valgrind"

want="$base"
[ $# -eq 0 ] && set -- test
for what in "$@"; do
    case "$what" in
        bench) ;;
        test) want="$want $python $emu" ;;
        aarch64) want="$want $cross" ;;
        ci) want="$want $python $emu $cross $extra" ;;
        *) echo "setup-debian.sh: unknown set '$what' (bench, test, aarch64, ci)" >&2; exit 2 ;;
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
