#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Each test's time against its ctest timeout, from one test preset's run.

    .ci/test-times.py BUILD_DIR PRESET...

reads BUILD_DIR/junit-PRESET.xml (every test preset writes one:
CMakePresets.json, "outputJUnitFile") and the tests' TIMEOUT properties
(`ctest --show-only=json-v1`), prints the slowest tests of each run and
fails when a test took more than a third of its timeout: CI hosts differ
several-fold in speed (qemu's SVE at 256 and 512 bits on Intel hosts), and a
test that uses most of its timeout on one host times out on the next.
"""
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

SHARE = 1 / 3          # of its timeout that a test may take
DEFAULT_TIMEOUT = 1500  # ctest's own, for tests without a TIMEOUT property
SHOWN = 5               # slowest tests printed per run


def timeouts(build):
    out = subprocess.run(["ctest", "--test-dir", build, "--show-only=json-v1"],
                         check=True, capture_output=True, text=True).stdout
    result = {}
    for t in json.loads(out)["tests"]:
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        result[t["name"]] = float(props.get("TIMEOUT") or DEFAULT_TIMEOUT)
    return result


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    build, presets = argv[1], argv[2:]
    limit = timeouts(build)
    over = []
    for preset in presets:
        path = os.path.join(build, f"junit-{preset}.xml")
        cases = [(float(c.get("time") or 0), c.get("name"))
                 for c in ET.parse(path).getroot().iter("testcase")]
        cases.sort(reverse=True)
        total = sum(t for t, _ in cases)
        print(f"-- {preset}: {len(cases)} tests, {total:.0f} s of test time; slowest:")
        for seconds, name in cases[:SHOWN]:
            timeout = limit.get(name, DEFAULT_TIMEOUT)
            print(f"--   {name}: {seconds:.1f} s of {timeout:.0f} s ({seconds / timeout:.0%})")
        over += [(preset, name, s, limit.get(name, DEFAULT_TIMEOUT)) for s, name in cases
                 if s > SHARE * limit.get(name, DEFAULT_TIMEOUT)]
    for preset, name, seconds, timeout in over:
        print(f"test-times: {preset}: {name} took {seconds:.0f} s, more than a third of its "
              f"{timeout:.0f} s timeout", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
