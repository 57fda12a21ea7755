#!/bin/sh
# SPDX-License-Identifier: MIT
# ABI guard: compare a built libfocal.so.1 with the committed baselines, one
# per release (libfocal-<major>.<minor>.abi: 1.1, 1.2, 1.3, ...).
#
#   tests/abi/check.sh <path/to/libfocal.so.1>            check (CI)
#   tests/abi/check.sh --update <path/to/libfocal.so.1>   write the baseline of
#                                                        focal.h's release
#
# The library must carry DWARF (a RelWithDebInfo build, or -g): without it
# abidiff would see symbol names only, not types.
#
# Passes when, against every baseline, the ABI is identical or only grew (new
# functions or variables) and every symbol version is kept; fails, printing
# the report, on anything else: a removed or re-versioned symbol, a changed
# signature, a changed public type (focal_options' layout included), a
# changed SONAME, a default symbol version that moved. abidiff's exit status
# is a bit mask (libabigail's abidiff manual): 1 error, 2 usage error, 4 ABI
# change, 8 incompatible ABI change. It sets 8 only for removed symbols: a
# changed signature or type is 4, as are additions, so "4" is split by
# re-running with the additions left out (--no-added-syms): whatever remains
# is a change. abidiff does not compare which version of a symbol is the
# default: versions() does, with the moves default_versions allows.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

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
  # The release in focal.h: its baseline is the only one ever (re)written;
  # those of earlier releases are what programs out there were built against.
  release=$(sed -n 's/^#define FOCAL_VERSION_\(MAJOR\|MINOR\) *\([0-9]*\).*/\2/p' \
    "$root/include/focal/focal.h" | paste -sd.)
  baseline="$here/libfocal-$release.abi"
  # Exported functions and the types they reach, nothing else (and a license
  # line, inside the root element: abidiff refuses a file that does not
  # start with it). Locations and
  # the build machine's paths left out, so the baseline only changes when the
  # ABI does; type ids are content hashes (readable diffs in review).
  # No --headers-dir / --drop-private-types (nor --headers-dir2 below): they
  # decide "public" by the header's path recorded in DWARF, so a library built
  # in another checkout would have its public types silently filtered out.
  abidw --no-corpus-path --no-comp-dir-path --no-show-locs --type-id-style hash \
    --drop-undefined-syms --exported-interfaces-only "$lib" |
    sed -e "s|path='$root/|path='|" \
        -e '1a\
  <!-- SPDX-License-Identifier: MIT -->' >"$baseline.tmp" &&
    mv "$baseline.tmp" "$baseline" || { rm -f "$baseline.tmp"; exit 1; }
  echo "abi: baseline of $release written: $baseline"
  grep -o "elf-symbol name='[^']*' version='[^']*'" "$baseline" | sed 's/^elf-symbol /  /'
  exit 0
fi

report=$(mktemp)
changes=$(mktemp)
exported=$(mktemp)
trap 'rm -f "$report" "$changes" "$exported"' EXIT
DIFF="abidiff --fail-no-debug-info --no-show-locs --exported-interfaces-only --suppressions $here/focal_options.abignore"

# name@@VERSION (default) or name@VERSION, every symbol the library defines.
readelf --dyn-syms -W "$lib" | awk '$7 != "UND" && $8 ~ /@/ { print $8 }' >"$exported"

# Every name@version of baseline $1 still exported, its default still the
# default, unless default_versions moves it (and the library's default is
# where its chain of moves ends). Prints what is wrong; status 1 then.
versions() {
  grep -o "elf-symbol name='[^']*' version='[^']*' is-default-version='[^']*'" "$1" |
    sed "s/elf-symbol name='\([^']*\)' version='\([^']*\)' is-default-version='\([^']*\)'/\1 \2 \3/" |
    awk -v moves="$here/default_versions" -v exported="$exported" '
      BEGIN {
        while ((getline line < moves) > 0) {
          sub(/#.*/, "", line)
          if (split(line, f, " ") >= 3) to[f[1] " " f[2]] = f[3]
        }
        while ((getline line < exported) > 0) {
          have[line] = 1
          if (split(line, f, "@@") == 2) dflt[f[1]] = f[2]
        }
      }
      {
        name = $1; v = $2
        if ($3 == "yes") {
          if ((name "@@" v) in have) next
          end = v
          while ((name " " end) in to) end = to[name " " end]
          if (!((name "@" v) in have))
            print "FAIL " name "@@" v ": not exported any more"
          else if (end == v)
            print "FAIL " name "@@" v ": no longer the default (now " dflt[name] "), and default_versions does not move it"
          else if (dflt[name] != end)
            print "FAIL " name "@@" v ": default_versions moves it to " end ", the library has " dflt[name]
          else
            print "MOVED " name "@" v ": the default moved to " end ", as default_versions allows"
        } else if (!((name "@" v) in have)) {
          print "FAIL " name "@" v ": not exported any more (or made the default)"
        }
      }'
}

# One baseline: 0 identical or additions only, 1 incompatible, 2 abidiff failed.
check() {
  baseline=$1
  name=$(basename "$baseline")
  $DIFF "$baseline" "$lib" >"$report" 2>&1
  rc=$?
  if [ $((rc & 3)) -ne 0 ]; then
    cat "$report"
    echo "abi: $name: abidiff failed (exit status $rc)" >&2
    return 2
  fi
  listed=$(versions "$baseline")
  wrong=$(echo "$listed" | sed -n 's/^FAIL /  /p')
  if [ -n "$wrong" ]; then
    cat "$report"
    echo "abi: $name: FAILED: symbol versions changed:" >&2
    echo "$wrong" >&2
    return 1
  fi
  echo "$listed" | sed -n "s/^MOVED /abi: $name: /p"
  if [ $rc -eq 0 ]; then
    echo "abi: $name: OK, identical ($(grep -c '<elf-symbol ' "$baseline") symbols)"
    return 0
  fi
  $DIFF --no-added-syms "$baseline" "$lib" >"$changes" 2>&1
  rc2=$?
  if [ $((rc & 8)) -eq 0 ] && [ $rc2 -eq 0 ]; then
    cat "$report"
    echo "abi: $name: OK, additions only (compatible)"
    return 0
  fi
  cat "$report"
  echo
  if [ $((rc & 8)) -ne 0 ]; then why="symbols removed"; else why="functions or types changed"; fi
  echo "abi: $name: FAILED: incompatible ABI change ($why; abidiff exit status $rc)." >&2
  echo "     A published signature, type or symbol version never changes (docs/DESIGN.md §3)." >&2
  return 1
}

status=0
found=0
for baseline in "$here"/libfocal-*.abi; do
  [ -f "$baseline" ] || continue
  found=1
  check "$baseline"
  rc=$?
  [ $rc -le $status ] || status=$rc
done
if [ $found -eq 0 ]; then
  echo "abi: no baseline (libfocal-*.abi) in $here" >&2
  exit 2
fi
release=$(sed -n 's/^#define FOCAL_VERSION_\(MAJOR\|MINOR\) *\([0-9]*\).*/\2/p' \
  "$root/include/focal/focal.h" | paste -sd.)
if [ $status -eq 0 ] && [ ! -f "$here/libfocal-$release.abi" ]; then
  echo "abi: no baseline of $release yet: when it is released, record it:"
  echo "     $0 --update $lib"
fi
exit $status
