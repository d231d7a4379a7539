#!/usr/bin/env bash
# fuzz.sh [SECONDS] [TARGET...] -- build the libFuzzer targets of tests/fuzz with Clang under
# AddressSanitizer and UndefinedBehaviorSanitizer (in build-fuzz/), replay every stored input,
# then fuzz each target for SECONDS (default 20) from its seed corpus. Exit 0 when nothing
# crashed, leaked, hung (10 s per input) or broke a target's own checks; otherwise the failing
# input is kept in build-fuzz/findings/ and its path printed.
#
#   scripts/fuzz.sh             the smoke run `make test` does (CI): first the unit tests of
#                               common, sim and the broker under the same sanitizers (tests/sanitize;
#                               not the [timing] cases), then every target
#   scripts/fuzz.sh 600 broker_request    ten minutes on the broker's request path (no unit tests)
#
# Targets: broker_request (one HTTP request through Broker::Handle: both APIs, parsers, query
# languages, @context, subscriptions), query (the q parsers), scenario (the scenario loader and
# the World it builds). Seeds: tests/fuzz/corpus/<target>/ (and scenarios/ for the loader);
# inputs that once failed: tests/fuzz/regressions/<target>/, replayed on every run. The libraries
# compile in unity batches of 6 files (FUZZ_UNITY_BATCH) so that both cores work on the broker.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
shift || true
targets=("$@")
unit_tests=()
(( ${#targets[@]} )) || { targets=(broker_request query scenario); unit_tests=(common_tests sim_tests broker_tests); }
dir=${FUZZ_BUILD_DIR:-build-fuzz}

generator=()
[[ -f $dir/CMakeCache.txt ]] || ! command -v ninja >/dev/null || generator=(-G Ninja)
out=$(CXX=${FUZZ_CXX:-clang++} cmake -S . -B "$dir" "${generator[@]}" -DCITYBED_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCITYBED_UNITY_BATCH_SIZE=${FUZZ_UNITY_BATCH:-6} \
        -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" --log-level=WARNING 2>&1) || { echo "$out"; exit 1; }
names=()
for t in "${targets[@]}"; do names+=("fuzz_$t"); done
JOBS=${JOBS:-$(nproc)} scripts/quiet-build.sh "$dir" "${names[@]}" "${unit_tests[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$dir/findings"
fail=0
for t in "${unit_tests[@]}"; do
  log="$dir/findings/$t.log"
  start=$SECONDS
  if "$dir/tests/$t" "~[timing]" >"$log" 2>&1; then
    echo "sanitizers: $t ok — $(grep -oE 'All tests passed \([0-9]+ assertions in [0-9]+ test cases\)' "$log" | head -1) in $((SECONDS - start)) s"
  else
    fail=1
    echo "sanitizers: $t FAILED (log: $log)"
    grep -E 'ERROR|SUMMARY|FAILED|failed' "$log" | head -20 || true
  fi
done
for t in "${targets[@]}"; do
  bin="$dir/bin/fuzz_$t"
  work="$dir/corpus/$t"
  mkdir -p "$work"
  seeds=(tests/fuzz/corpus/"$t")
  [[ $t == scenario ]] && seeds+=(scenarios)
  [[ -d tests/fuzz/regressions/$t ]] && seeds+=(tests/fuzz/regressions/"$t")
  log="$dir/findings/$t.log"
  # Every stored input once, then fuzzing from them (new inputs go to build-fuzz/corpus/).
  if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$dir/findings/$t-" "$work" "${seeds[@]}" >"$log" 2>&1; then
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
    echo "fuzz: $t ok — $runs executions in ${seconds} s, $(ls "$work" | wc -l) inputs in its corpus"
  else
    fail=1
    echo "fuzz: $t FAILED (log: $log)"
    grep -E 'ERROR|SUMMARY|fuzz_[a-z_]+:|Test unit written' "$log" | head -20 || true
  fi
done
exit $fail
