#!/usr/bin/env bash
# quiet-build.sh BUILD_DIR [TARGET...] -- build with CMake, showing only warnings, errors and one
# progress line (rewritten in place on a terminal, every 25 % otherwise). The full log is kept in
# BUILD_DIR/build.log. Exits with the build's status.
set -uo pipefail
dir=$1
shift
targets=()
for t in "$@"; do targets+=(--target "$t"); done
jobs=${JOBS:-$(nproc)}
start=$(date +%s)
log=$dir/build.log
mkdir -p "$dir"
tty=0
[[ -t 1 ]] && tty=1
set -o pipefail
extra=()
grep -q '^CMAKE_GENERATOR:INTERNAL=Unix Makefiles' "$dir/CMakeCache.txt" 2>/dev/null && extra=(-- --no-print-directory)
# Progress lines: make's "[ 45%] Building ..." and Ninja's "[12/28] Building ...".
cmake --build "$dir" "${targets[@]}" -j "$jobs" "${extra[@]}" 2>&1 | tee "$log" | awk -v tty="$tty" '
  /^\[ *[0-9]+%\]/ || /^\[[0-9]+\/[0-9]+\]/ {
    pct = $0; sub(/^\[ */, "", pct); sub(/\].*/, "", pct)
    if (pct ~ /\//) { split(pct, f, "/"); pct = int(100 * f[1] / f[2]) } else { sub(/%.*/, "", pct) }
    if (tty == 1) { printf "\rbuilding: %3d%%", pct; fflush(); shown = 1 }
    else if (pct + 0 >= next_mark) { printf "building: %d%%\n", pct; next_mark = pct - pct % 25 + 25; fflush() }
    next
  }
  /^(g?make(\[[0-9]+\])?: (Entering|Leaving) directory)/ { next }
  /^ninja: (no work to do|build stopped)/ { next }
  /^-- / { next }
  { if (shown) { printf "\n"; shown = 0 } print; fflush() }
  END { if (shown) printf "\n" }'
rc=$?
if (( rc == 0 )); then echo "build: done in $(( $(date +%s) - start )) s (log: $log)"; else echo "build: FAILED (full log: $log)" >&2; fi
exit $rc
