#!/bin/sh
# SPDX-License-Identifier: MIT
# ABI guard: compare a built libfocal.so.1 with the committed baseline.
#
#   tests/abi/check.sh <path/to/libfocal.so.1>            check (CI)
#   tests/abi/check.sh --update <path/to/libfocal.so.1>   rewrite the baseline
#
# The library must carry DWARF (a RelWithDebInfo build, or -g): without it
# abidiff would see symbol names only, not types.
#
# Passes when the ABI is identical or only grew (new functions or variables);
# fails, printing abidiff's report, on anything else: a removed or re-versioned
# symbol, a changed signature, a changed public type (focal_options' layout
# included), a changed SONAME. abidiff's exit status is a bit mask
# (libabigail's abidiff manual): 1 error, 2 usage error, 4 ABI change,
# 8 incompatible ABI change. It sets 8 only for removed symbols: a changed
# signature or type is 4, as are additions, so "4" is split by re-running
# with the additions left out (--no-added-syms): whatever remains is a change.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
baseline="$here/libfocal.abi"

update=0
if [ "${1:-}" = "--update" ]; then
  update=1
  shift
fi
if [ $# -ne 1 ] || [ ! -f "$1" ]; then
  echo "usage: $0 [--update] path/to/libfocal.so.1" >&2
  exit 2
fi
lib=$1

for tool in abidw abidiff readelf; do
  command -v "$tool" >/dev/null 2>&1 ||
    { echo "abi: $tool not found (Debian: apt-get install abigail-tools binutils)" >&2; exit 2; }
done
if ! readelf -S "$lib" | grep -q '\.debug_info'; then
  echo "abi: $lib has no debug info; build it with -g (CMAKE_BUILD_TYPE=RelWithDebInfo)" >&2
  exit 2
fi

if [ $update -eq 1 ]; then
  # Exported functions and the types they reach, nothing else. Locations and
  # the build machine's paths left out, so the baseline only changes when the
  # ABI does; type ids are content hashes (readable diffs in review).
  # No --headers-dir / --drop-private-types (nor --headers-dir2 below): they
  # decide "public" by the header's path recorded in DWARF, so a library built
  # in another checkout would have its public types silently filtered out.
  abidw --no-corpus-path --no-comp-dir-path --no-show-locs --type-id-style hash \
    --drop-undefined-syms --exported-interfaces-only "$lib" |
    sed "s|path='$root/|path='|" >"$baseline.tmp" &&
    mv "$baseline.tmp" "$baseline" || { rm -f "$baseline.tmp"; exit 1; }
  echo "abi: baseline rewritten: $baseline"
  grep -o "elf-symbol name='[^']*' version='[^']*'" "$baseline" | sed 's/^elf-symbol /  /'
  exit 0
fi

report=$(mktemp)
changes=$(mktemp)
trap 'rm -f "$report" "$changes"' EXIT
DIFF="abidiff --fail-no-debug-info --no-show-locs --exported-interfaces-only --suppressions $here/focal_options.abignore"

$DIFF "$baseline" "$lib" >"$report" 2>&1
rc=$?
if [ $((rc & 3)) -ne 0 ]; then
  cat "$report"
  echo "abi: abidiff failed (exit status $rc)" >&2
  exit 2
fi
if [ $rc -eq 0 ]; then
  echo "abi: OK, identical to the baseline ($(grep -c '<elf-symbol ' "$baseline") symbols)"
  exit 0
fi

$DIFF --no-added-syms "$baseline" "$lib" >"$changes" 2>&1
rc2=$?
if [ $((rc & 8)) -eq 0 ] && [ $rc2 -eq 0 ]; then
  cat "$report"
  echo "abi: OK, additions only (compatible). Once they are released, record them:"
  echo "     $0 --update $lib"
  exit 0
fi

cat "$report"
echo
if [ $((rc & 8)) -ne 0 ]; then why="symbols removed"; else why="functions or types changed"; fi
echo "abi: FAILED: incompatible ABI change ($why; abidiff exit status $rc)." >&2
echo "     A published signature, type or symbol version never changes (docs/DESIGN.md §3)." >&2
exit 1
