#!/usr/bin/env bash
# Runs seam's whole test suite on a fresh Debian 12 machine: sets up (idempotent), builds, runs
# every CTest test (unit, integration, slow), then the libFuzzer targets for a bounded time.
#
#   SEAM_TEST_LABELS   a CTest label regex to run only some tests (default: all)
#   SEAM_FUZZ_SECONDS  seconds per fuzz target (default 30; 0 skips fuzzing)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${SEAM_BUILD:-$repo/build}

"$repo/scripts/setup.sh"

jobs=$(nproc)
labels=(); [ -n "${SEAM_TEST_LABELS:-}" ] && labels=(-L "$SEAM_TEST_LABELS")
(cd "$build" && ctest --output-on-failure --timeout 600 -j "$jobs" -LE fuzz "${labels[@]}")

fuzz_seconds=${SEAM_FUZZ_SECONDS:-30}
if [ "$fuzz_seconds" != 0 ]; then
  if command -v clang++ >/dev/null; then
    fuzz_build="$build-fuzz"
    cmake -S "$repo" -B "$fuzz_build" -DSEAM_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEAM_FUZZ_SECONDS="$fuzz_seconds" >/dev/null
    cmake --build "$fuzz_build" -j "$jobs"
    (cd "$fuzz_build" && ctest --output-on-failure -L fuzz)
  else
    echo "[test] clang++ not found: fuzz targets skipped" >&2
  fi
fi
echo "[test] all tests passed"
