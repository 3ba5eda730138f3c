#!/usr/bin/env bash
# valgrind-memcheck.sh -- run the core's tests under valgrind's memcheck and report its errors.
#
#   scripts/valgrind-memcheck.sh             every core test file (tests/test_*.py but the demo's)
#   scripts/valgrind-memcheck.sh --quick     the export/acquire/lifetime/stateful/thread files (~4 min)
#   scripts/valgrind-memcheck.sh FILES...    the given test files or node ids
#
# Needs: valgrind (apt-get install valgrind) and bufferable installed for $PYTHON (default
# python3), e.g. `pip install ".[test]"` from this checkout. Not run: the Mojo tests (Mojo's
# runtime is not ours) and torch (imports are blocked; its tests skip): both are far too slow
# under valgrind. The stateful tests run a tenth of their examples (BUFFERABLE_STATEFUL_FRACTION).
#
# How: PYTHONMALLOC=malloc_debug routes every Python allocation through malloc, so memcheck sees
# each block (invalid reads/writes, use after free, invalid or double frees, overruns), and
# CPython's debug hooks check their guard bytes and API misuse too. Memory bufferable allocates
# itself and stack variables keep full uninitialised-value tracking. scripts/valgrind-python.supp
# suppresses loader/glibc noise only. Output: valgrind's log and a summary by error kind, with
# every error whose stack passes through bufferable's core marked as OURS.
#
# Exit status: 0 = the tests passed and memcheck found zero errors; 1 = memcheck errors;
# 2 = setup problem; 3 = the tests failed (under valgrind) but memcheck found nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
OUT=${VALGRIND_OUT:-${TMPDIR:-/tmp}/bufferable-valgrind}

if ! command -v valgrind >/dev/null; then
  echo "valgrind-memcheck: valgrind is not installed (apt-get install valgrind)" >&2
  exit 2
fi
if ! core=$("$PYTHON" -c "import bufferable._core as c; print(c.__file__)" 2>/dev/null); then
  echo "valgrind-memcheck: '$PYTHON' cannot import bufferable._core: install bufferable first" >&2
  exit 2
fi

QUICK=(tests/test_producer.py tests/test_acquire.py tests/test_bad_descriptors.py
       tests/test_c_api.py tests/test_lifetime.py tests/test_inspect.py tests/test_dlpack.py
       tests/test_arrow.py tests/test_foreign_acquire.py tests/test_stateful.py tests/test_threads.py)
if [[ $# -eq 0 ]]; then
  mapfile -t TESTS < <(ls tests/test_*.py | grep -v raytrace)
elif [[ $1 == --quick ]]; then
  TESTS=("${QUICK[@]}")
else
  TESTS=("$@")
fi

mkdir -p "$OUT/block"
mkdir -p "$OUT/block/torch"
# (ModuleNotFoundError for any import of torch; the tests' torch fixture skips, saying why, as
# BUFFERABLE_TEST_NO_TORCH asks)
echo 'raise ModuleNotFoundError("torch is not run under valgrind (scripts/valgrind-memcheck.sh)", name="torch")' \
  > "$OUT/block/torch/__init__.py"
LOG="$OUT/memcheck.log"

echo "valgrind-memcheck: $(valgrind --version), $("$PYTHON" -VV | head -1)"
echo "valgrind-memcheck: core under test: $core"
echo "valgrind-memcheck: tests: ${TESTS[*]}"
echo "valgrind-memcheck: log: $LOG"

set +e
PYTHONPATH="$OUT/block${PYTHONPATH:+:$PYTHONPATH}" PYTHONMALLOC=malloc_debug \
BUFFERABLE_TEST_NO_TORCH="torch is not run under valgrind (scripts/valgrind-memcheck.sh)" \
BUFFERABLE_STATEFUL_FRACTION=${BUFFERABLE_STATEFUL_FRACTION:-0.1} \
  valgrind --tool=memcheck --error-exitcode=99 --leak-check=no --num-callers=40 \
    --suppressions=scripts/valgrind-python.supp --log-file="$LOG" \
    "$PYTHON" -m pytest -q -p no:cacheprovider -o addopts= "${TESTS[@]}"
status=$?
set -e

echo
"$PYTHON" - "$LOG" <<'PY'
import collections, re, sys
text = open(sys.argv[1]).read()
errors = collections.Counter()
ours = []
for block in re.split(r"==\d+== ?\n", text):
    lines = [re.sub(r"^==\d+== ", "", l) for l in block.splitlines()]
    if not lines or not re.match(r"(Invalid |Conditional jump|Use of uninitialised|Syscall param|"
                                 r"Mismatched free|Source and destination|Argument |"
                                 r"Process terminating)", lines[0]):
        continue
    errors[lines[0]] += 1
    if any("_core" in l or "bufferable" in l for l in lines[1:]):
        ours.append("\n".join(lines))
summary = re.findall(r"ERROR SUMMARY: (\d+) errors from (\d+) contexts \(suppressed: (\d+)", text)
total, contexts, suppressed = summary[-1] if summary else ("?", "?", "?")
print(f"valgrind-memcheck: ERROR SUMMARY {total} errors from {contexts} contexts "
      f"({suppressed} suppressed as loader/glibc noise)")
for kind, n in errors.most_common():
    print(f"  {n:5d} x {kind}")
print(f"valgrind-memcheck: errors whose stack passes through bufferable: {len(ours)}")
for e in ours:
    print("OURS:\n" + e)
PY

if [[ $status -eq 99 ]]; then
  echo "valgrind-memcheck: FAILED: memcheck reported errors (see $LOG)"
  exit 1
elif [[ $status -ne 0 ]]; then
  echo "valgrind-memcheck: the tests failed under valgrind (pytest exit $status); memcheck found no errors"
  exit 3
fi
echo "valgrind-memcheck: OK: the tests passed and memcheck found zero errors"
