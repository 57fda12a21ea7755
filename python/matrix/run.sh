#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh BUILD_DIR [--wheel LEG] [LEG...]: the Python suite in legs of the
# PyTorch matrix, against BUILD_DIR's libfocal.so.1 (docs/python.md,
# "Supported PyTorch versions").
#
# Every leg (LEG.txt beside this script) by default. --wheel LEG: in LEG's
# environment the suite runs against the wheel instead, built and installed
# into a fresh venv (python/check_wheel.py): the same tests, from outside the
# checkout, on the installed package and its own copy of the library.
# Debian's PyTorch 1.13 is the matrix's first leg; it runs in ctest
# (python.pytest, python.wheel), not here. Prints each leg's time.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:?usage: run.sh BUILD_DIR [--wheel LEG] [LEG...]}
shift
build=$(cd "$build" && pwd)
wheel_leg=""
if [ "${1:-}" = "--wheel" ]; then
    wheel_leg=${2:?--wheel needs a leg}
    shift 2
fi
legs="$*"
[ -n "$legs" ] || legs=$(cd "$here" && ls *.txt | sed 's/\.txt$//' | tr '\n' ' ')
lib="$build/lib/libfocal.so.1"
[ -f "$lib" ] || { echo "run.sh: no $lib (build first: cmake --workflow --preset test)" >&2; exit 2; }

# The environments first, one at a time (pip), then the legs side by side:
# a suite is mostly one Python thread, so two legs on two cores take the
# time of one. Each leg's output goes to its log, printed whole when all
# have ended, in order.
for leg in $legs; do
    sh "$here/env.sh" "$leg" >/dev/null
done

# leg LEG: the suite in LEG's environment (see the top of this file).
leg() {
    py=$(sh "$here/env.sh" "$1")
    echo "== PyTorch matrix, leg $1: $("$py" -c 'import torch; print("torch", torch.__version__)')"
    if [ "$1" = "$wheel_leg" ]; then
        echo "== leg $1: the suite against the wheel, installed"
        # The CMake build of the wheel's library is ctest's python.wheel's
        # (the library does not depend on the interpreter): incremental.
        PYTHONDONTWRITEBYTECODE=1 "$py" "$repo/python/check_wheel.py" \
            --build-dir "$build/python/python-wheel"
    else
        # As ctest runs python.pytest: the source tree's focal, this library.
        (cd "$build" && FOCAL_LIBRARY="$lib" PYTHONPATH="$repo/python" \
            PYTHONDONTWRITEBYTECODE=1 "$py" -m pytest -q -p no:cacheprovider "$repo/python/tests")
    fi
}

logs="$build/python-matrix"
mkdir -p "$logs"
pids=""
for leg in $legs; do
    ( start=$(date +%s); rc=0; leg "$leg" || rc=$?
      echo "== leg $leg: $(( $(date +%s) - start )) s, exit status $rc"; exit $rc
    ) >"$logs/$leg.log" 2>&1 &
    pids="$pids $!"
done
failed=""
set -- $pids
for leg in $legs; do
    wait "$1" || failed="$failed $leg"
    shift
    cat "$logs/$leg.log"
done
if [ -n "$failed" ]; then
    echo "== PyTorch matrix: failed:$failed" >&2
    exit 1
fi
