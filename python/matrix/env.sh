#!/bin/sh
# SPDX-License-Identifier: MIT
# env.sh LEG: make (or reuse) the virtual environment of one leg of the
# PyTorch matrix and print its interpreter's path on stdout.
#
# A leg is a requirements file beside this script, LEG.txt. Environments
# live outside the checkout, in $FOCAL_VENV_CACHE (default
# ${XDG_CACHE_HOME:-~/.cache}/libfocal-venvs), one per leg and content of its
# requirements file: editing the file makes a new one; an existing one is
# reused as it is (a clean clone pays the install once per machine). Progress
# goes to stderr.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
leg=${1:?usage: env.sh LEG (one of: $(cd "$here" && ls *.txt | sed 's/\.txt$//' | tr '\n' ' '))}
req="$here/$leg.txt"
[ -f "$req" ] || { echo "env.sh: no leg '$leg' ($req)" >&2; exit 2; }

cache=${FOCAL_VENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/libfocal-venvs}
# PyTorch's wheels are for one CPython minor version: the venv's interpreter
# is the first python3 on PATH (FOCAL_VENV_PYTHON overrides).
base=${FOCAL_VENV_PYTHON:-python3}
pyver=$("$base" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
key=$(cat "$req" | sha256sum | cut -c1-12)
venv="$cache/$leg-py$pyver-$key"

if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
    echo "env.sh: creating $venv" >&2
    rm -rf "$venv"
    mkdir -p "$cache"
    "$base" -m venv "$venv" >&2
    "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$req" >&2
    touch "$venv/.complete"
fi
echo "$venv/bin/python"
