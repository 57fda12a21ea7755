#!/bin/sh
# SPDX-License-Identifier: MIT
# Build the fuzz targets with clang (libFuzzer + ASan + UBSan; the library is
# built from source with the same sanitizers and coverage instrumentation),
# fuzz each for N seconds, then replay its seed corpus and everything found.
#
#   tests/fuzz/run.sh [seconds [target...]]
#
#   seconds  per target, default 60
#   target   fuzz_sigmoid (focal_sigmoid_loss_grad), fuzz_rows (1.1 labels /
#            dense with focal_options), fuzz_family (1.1 softmax, quality
#            focal and varifocal with focal_options); default all three
#
# Environment: FUZZ_BUILD_DIR (default ${TMPDIR:-/tmp}/focal-fuzz), FUZZ_CC
# (default clang), FUZZ_ARGS (extra libFuzzer flags, e.g. -jobs=4).
# The committed seeds (tests/fuzz/corpus/<name>/) are only read; new inputs go
# to $FUZZ_BUILD_DIR/corpus-<name>, failing inputs to $FUZZ_BUILD_DIR/crash-*
# (replay one: $FUZZ_BUILD_DIR/fuzz_<name> <file>).
# Exit status: nonzero on any failed check, sanitizer report or replay.
set -eu

secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-fuzz_sigmoid fuzz_rows fuzz_family}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
B=${FUZZ_BUILD_DIR:-${TMPDIR:-/tmp}/focal-fuzz}
CC=${FUZZ_CC:-clang}

# -shared-libsan: libfocal.so links with --no-undefined, so the sanitizer
# runtime must be a shared library the .so itself can depend on.
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -shared-libsan"
rtdir=$(dirname "$($CC -print-file-name=libclang_rt.asan-$(uname -m).so)")

# clang (14 at least) does not predefine __FP_FAST_FMA under -mfma, so glibc's
# math.h leaves FP_FAST_FMA undefined and src/kernel_scalar.c refuses to build
# (and sleef.h hides its *_purecfma declarations). Defining it is harmless for
# the files built without -mfma: it only unhides declarations.
FMA_WORKAROUND="-DFP_FAST_FMA=1 -DFP_FAST_FMAF=1"

mkdir -p "$B"
echo "== building libfocal with $CC + ASan/UBSan + coverage in $B/lib"
# -O1 -g1 (line tables only): the sanitizers' advice, and a third of the
# compile time of -O2 -g for the kernel files, whose many inlined variants
# make them the bulk of the build.
cmake -S "$root" -B "$B/lib" -DCMAKE_C_COMPILER="$CC" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DCMAKE_C_FLAGS="$SAN -fsanitize=fuzzer-no-link $FMA_WORKAROUND" \
  -DCMAKE_SHARED_LINKER_FLAGS="$SAN" -DCMAKE_EXE_LINKER_FLAGS="$SAN" \
  -DFOCAL_BUILD_TESTS=OFF -DFOCAL_BUILD_BENCH=OFF >"$B/configure.log" 2>&1 ||
  { cat "$B/configure.log"; exit 1; }
cmake --build "$B/lib" --target focal -j"$(nproc)" >"$B/build.log" 2>&1 ||
  { cat "$B/build.log"; exit 1; }

# The entry point descriptors (tests/entry_points.c, with what it is built
# from; no CMocka): fuzz_rows and fuzz_family take their entry points there.
# Sanitized but without coverage: the fuzzers steer by the library's and
# their own decoding's coverage only, as before they took the descriptors
# (the tables and generators there would only add noise).
descriptors=""
for src in entry_points testutil oracle; do
  $CC $SAN -g -O1 -std=gnu11 -Wall -Wextra -I"$root/include" -I"$here/.." \
    -c "$here/../$src.c" -o "$B/descriptor_$src.o"
  descriptors="$descriptors $B/descriptor_$src.o"
done

for t in $targets; do
  echo "== building $t"
  $CC $SAN -fsanitize=fuzzer -g -O1 -std=gnu11 -Wall -Wextra -I"$root/include" \
    -I"$here/.." "$here/$t.c" $descriptors -o "$B/$t" -L"$B/lib/lib" -lfocal \
    -Wl,-rpath,"$B/lib/lib:$rtdir" -lm
done

# libFuzzer pulls in libstdc++ ahead of the shared ASan runtime: preload it
# (for the fuzzers only, not for the tools this script runs).
preload="$rtdir/libclang_rt.asan-$(uname -m).so"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

total=0
for t in $targets; do
  name=${t#fuzz_}
  seeds="$here/corpus/$name"
  work="$B/corpus-$name"
  mkdir -p "$work"
  echo "== $t: fuzzing for at most ${secs}s${FUZZ_ARGS:+ ($FUZZ_ARGS)}"
  # shellcheck disable=SC2086
  LD_PRELOAD="$preload" "$B/$t" -max_total_time="$secs" -print_final_stats=1 -max_len=4096 \
    -artifact_prefix="$B/" ${FUZZ_ARGS:-} "$work" "$seeds" 2>"$B/$t.log" ||
    { tail -n 60 "$B/$t.log"; echo "FUZZING FAILED: $t (inputs: $B/crash-*)"; exit 1; }
  grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)|^Done' "$B/$t.log" || true
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$B/$t.log" | tail -n 1)
  total=$((total + ${runs:-0}))

  echo "== $t: replaying the seeds and the $(ls "$work" | wc -l) inputs in $work"
  LD_PRELOAD="$preload" "$B/$t" -runs=0 "$seeds" "$work" 2>"$B/$t.replay.log" ||
    { tail -n 60 "$B/$t.replay.log"; echo "REPLAY FAILED: $t"; exit 1; }
  grep -E '^Done' "$B/$t.replay.log" | tail -n 1
done
echo "fuzz: OK ($total executions)"
