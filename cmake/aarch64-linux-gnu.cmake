# SPDX-License-Identifier: MIT
# Cross build for aarch64 on a Debian/Ubuntu x86-64 host, tests run under
# qemu-user. Needs gcc-aarch64-linux-gnu, qemu-user and, after
# `dpkg --add-architecture arm64`, libsleef-dev:arm64 and libcmocka-dev:arm64.
#
# Debian's cross compiler is configured --with-sysroot=/ and multiarch: it
# already searches /usr/include/aarch64-linux-gnu (where the arm64 sleef.h
# lives) and /usr/lib/aarch64-linux-gnu. So no CMAKE_SYSROOT: the "sysroot" is
# the host's own /, and the arm64 packages sit in their multiarch directories.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Only the arm64 .pc files, and no sysroot prefix on their -I/-L (their paths
# are already the real multiarch ones). pkg-config drops -I/usr/include as a
# system directory; the compiler finds the arm64 headers by itself.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

# find_library/find_path: CMAKE_LIBRARY_ARCHITECTURE makes them look in
# lib/aarch64-linux-gnu and include/aarch64-linux-gnu under each prefix,
# never in the x86-64 multiarch directories. No CMAKE_FIND_ROOT_PATH: with
# sysroot / there is nothing to re-root.

# ctest (and add_test with a target as the command) runs every test through
# this. The arm64 dynamic loader and libc come from libc6:arm64, which the
# arm64 SLEEF/CMocka packages pull in, at their multiarch paths; only when it
# is missing does qemu get -L and the cross toolchain's copy. Prefer the
# former: under qemu 7.2 with -L, a dynamically linked guest's fork() child
# hangs (test_dispatch forks).
#
# Which CPU qemu emulates comes from the environment, not from here: qemu-user
# reads QEMU_CPU as it reads -cpu, and the aarch64 test presets set it per
# run (max,sve=off; max,sve128=on; ...), so one build is tested on each CPU
# and test_dispatch's children, which inherit the environment, get the same.
find_program(FOCAL_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static REQUIRED)
if(EXISTS /lib/ld-linux-aarch64.so.1)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${FOCAL_QEMU_AARCH64}")
else()
  set(CMAKE_CROSSCOMPILING_EMULATOR "${FOCAL_QEMU_AARCH64};-L;/usr/${CMAKE_LIBRARY_ARCHITECTURE}")
endif()
