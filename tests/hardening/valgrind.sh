#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every test binary registered with ctest under valgrind memcheck.
# Any memory error, or any definite / indirect / possible leak, fails.
#
#   tests/hardening/valgrind.sh <build-dir> [name-regex]
#
#   build-dir   an ordinary (not sanitized) build with tests enabled, ideally
#               RelWithDebInfo for readable reports
#   name-regex  only the tests whose ctest name matches (Python re.search)
#
# Environment: FOCAL_GUARD_THIN (default 3 here: hardening/test_guard_pages
# runs about one shape in 3 under memcheck, every entry point, reduction,
# gamma path and output selection still covered; the native and sanitizer
# runs sweep every shape), VALGRIND_JOBS (parallel tests, default: nproc),
# VALGRIND_TIMEOUT (seconds per test, default 7200), VALGRIND_EXTRA (more
# valgrind options, e.g. --track-origins=yes to find where an uninitialised
# value came from: about 2x slower).
#
# Why not `ctest -T memcheck`: the suites' TIMEOUT properties (600 s) are
# sized for native runs, valgrind is 20-50x slower, and ctest has no way to
# scale a property. So this reads the test list (`ctest --show-only=json-v1`:
# command, arguments, working directory, environment) and runs each itself.
# Only tests whose program is an ELF file inside the build dir are run: the
# pytest suite and the CMake consumer projects are not our binaries.
#
# Valgrind 3.19 cannot execute AVX-512 and its emulated CPUID does not report
# it, so focal_set_isa("avx512") fails and the per-kernel tests skip avx512
# ("auto" becomes avx2). Native, ASan and guard-page runs cover that kernel.
#
# Logs: <build-dir>/valgrind/<test>.<pid>.log (one per process: fork()ed
# children are followed), <test>.out (the test's own output).
set -eu

if [ $# -lt 1 ] || [ ! -f "$1/CTestTestfile.cmake" ]; then
  echo "usage: $0 <build-dir> [name-regex]" >&2
  exit 2
fi
command -v valgrind >/dev/null || { echo "valgrind not found (apt-get install valgrind)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "python3 not found" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
B=$(cd "$1" && pwd)

ctest --test-dir "$B" --show-only=json-v1 >"$B/ctest-tests.json"
exec python3 - "$B" "$here/valgrind.supp" "${2:-}" <<'PY'
import concurrent.futures, glob, json, os, re, subprocess, sys, time

build, supp, pattern = sys.argv[1], sys.argv[2], sys.argv[3]
jobs = int(os.environ.get("VALGRIND_JOBS") or os.cpu_count() or 1)
timeout = float(os.environ.get("VALGRIND_TIMEOUT") or 7200)
logdir = os.path.join(build, "valgrind")
os.makedirs(logdir, exist_ok=True)
for old in glob.glob(os.path.join(logdir, "*")):
    os.remove(old)

# The guard-page sweep's shapes add little under memcheck that the native
# and ASan sweeps lack, at 20-50x the time: thin them (test_guard_pages.c).
os.environ.setdefault("FOCAL_GUARD_THIN", "3")

ERR = 97  # valgrind's exit status on a memcheck error: tells them from test failures
base = ["valgrind", f"--error-exitcode={ERR}", "--leak-check=full",
        "--show-leak-kinds=definite,indirect,possible",
        "--errors-for-leak-kinds=definite,indirect,possible",
        "--num-callers=30", "--trace-children=yes", f"--suppressions={supp}"]
base += os.environ.get("VALGRIND_EXTRA", "").split()

def is_our_elf(path):
    try:
        real = os.path.realpath(path)
        with open(real, "rb") as f:
            return real.startswith(build + os.sep) and f.read(4) == b"\x7fELF"
    except OSError:
        return False

tests = []
with open(os.path.join(build, "ctest-tests.json")) as f:
    for t in json.load(f)["tests"]:
        cmd = t.get("command") or []
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        if pattern and not re.search(pattern, t["name"]):
            continue
        if props.get("DISABLED"):
            continue
        if not cmd or not is_our_elf(cmd[0]):
            print(f"-- skipped (not a test binary of this build): {t['name']}")
            continue
        tests.append((t["name"], cmd, props.get("WORKING_DIRECTORY") or build,
                      props.get("ENVIRONMENT") or []))

def run(test):
    name, cmd, cwd, env_list = test
    env = dict(os.environ)
    for kv in env_list:
        k, _, v = kv.partition("=")
        env[k] = v
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    log = os.path.join(logdir, f"{safe}.%p.log")
    out = os.path.join(logdir, f"{safe}.out")
    start = time.time()
    with open(out, "w") as o:
        try:
            rc = subprocess.run(base + [f"--log-file={log}"] + cmd, cwd=cwd, env=env,
                                stdout=o, stderr=subprocess.STDOUT, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    errors, leaked = 0, 0
    for lf in glob.glob(os.path.join(logdir, f"{safe}.*.log")):
        text = open(lf, errors="replace").read()
        errors += sum(int(m) for m in re.findall(r"ERROR SUMMARY: (\d+) errors", text))
        leaked += sum(int(m.replace(",", "")) for m in
                      re.findall(r"(?:definitely|indirectly|possibly) lost: ([\d,]+) bytes", text))
    return name, rc, errors, leaked, time.time() - start

print(f"-- {len(tests)} test binaries under valgrind memcheck, {jobs} at a time")
bad = 0
with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
    futures = [pool.submit(run, t) for t in tests]
    for done in concurrent.futures.as_completed(futures):
        name, rc, errors, leaked, secs = done.result()
        ok = rc == 0 and errors == 0 and leaked == 0
        bad += not ok
        why = "" if ok else (" (memcheck errors)" if rc == ERR else
                             f" (exit status {rc})" if rc != 0 else "")
        print(f"{'PASS' if ok else 'FAIL'}  {name:32s} {secs:7.1f} s  "
              f"errors {errors}  leaked {leaked} bytes{why}", flush=True)
        if not ok:
            safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
            for lf in sorted(glob.glob(os.path.join(logdir, f"{safe}.*.log"))):
                text = open(lf, errors="replace").read()
                if "ERROR SUMMARY: 0 errors" not in text or "lost:" in text:
                    print(f"---- {lf}\n{text[-6000:]}")
            print(f"---- {os.path.join(logdir, safe + '.out')} (tail)")
            print("".join(open(os.path.join(logdir, safe + ".out"), errors="replace")
                          .readlines()[-25:]))
print(f"-- valgrind: {len(tests) - bad} of {len(tests)} clean")
sys.exit(1 if bad else 0)
PY
