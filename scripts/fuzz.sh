#!/usr/bin/env bash
# Builds the libFuzzer targets (the clang ASan+UBSan build that scripts/sanitize.sh shares, build-asan) and runs
# each for SECONDS, one after another on one core:
#   scripts/fuzz.sh [SECONDS=60] [TARGET...]        e.g. scripts/fuzz.sh 60, scripts/fuzz.sh 300 fuzz_plan
# First replays every reproducer in fuzz/regressions/<target>/ (a fixed bug must stay fixed), then fuzzes from
# the committed seeds (fuzz/corpus/<target>, read only) into build-asan/corpus/<target>. Prints per target
# the executions, corpus size and crashes (from libFuzzer's -print_final_stats); crash, timeout, OOM and leak
# inputs go to build-asan/artifacts/. Exits 1 when any reproducer or fuzz run crashed, 2 on bad usage.
# Environment: BUILD_DIR (build-asan), JOBS (1: compile jobs), FUZZ_TIMEOUT (10: seconds per input counted
# as a hang), FUZZ_RSS_MB (2048), C1R_FUZZ_ALLOW / C1R_FUZZ_MAX_SETTING (see fuzz/fuzz_common.hpp, fuzz_plan.cpp:
# only for exploring past known bugs; leave unset in CI). Past a known UBSan report, explore in a build of its
# own: scripts/configure_asan.sh build-fuzz-explore, then cmake -B build-fuzz-explore
# -DC1R_FUZZ_EXTRA_FLAGS=-fno-sanitize=<check>, then BUILD_DIR=build-fuzz-explore scripts/fuzz.sh.
set -euo pipefail

cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "fuzz.sh: SECONDS must be a positive integer, got '$seconds'" >&2
  exit 2
fi
build_dir=${BUILD_DIR:-build-asan}
jobs=${JOBS:-1}
per_input_timeout=${FUZZ_TIMEOUT:-10}
rss_mb=${FUZZ_RSS_MB:-2048}
all_targets=(fuzz_config fuzz_config_struct fuzz_keras fuzz_npy fuzz_csv fuzz_plan fuzz_sweep fuzz_keras_h5 fuzz_keras_zip fuzz_onnx)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target '$t' (known: ${all_targets[*]})" >&2; exit 2; }
done

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }
[ -f "$build_dir/CMakeCache.txt" ] || scripts/configure_asan.sh "$build_dir"
cmake --build "$build_dir" -j "$jobs" --target fuzzers >/dev/null

# libhdf5 (not instrumented) allocates what a hostile header claims before it checks it against the file's end:
# a 22 KB file made it malloc 4 GiB, untouched, and the tool then exits 2 ("addr overflow", 21 MB max RSS;
# fuzz/regressions/keras_h5/). libFuzzer's malloc limit (the RSS limit by default) would call that an OOM, so
# this target's is 8 GiB; the RSS limit still catches memory really used.
limits_of() {
  case "$1" in
    fuzz_keras_h5 | fuzz_keras_zip) echo "-malloc_limit_mb=8192" ;;
    *) echo "" ;;
  esac
}

dict_of() {
  case "$1" in
    fuzz_config | fuzz_config_struct | fuzz_sweep) echo fuzz/dict/json.dict ;;
    fuzz_keras) echo fuzz/dict/keras.dict ;;
    fuzz_npy) echo fuzz/dict/npy.dict ;;
    fuzz_csv) echo fuzz/dict/csv.dict ;;
    *) echo "" ;;
  esac
}

bin_dir="$build_dir/fuzz"
artifacts="$build_dir/artifacts"
logs="$build_dir/fuzz-logs"
mkdir -p "$artifacts" "$logs"
failed=0
summary=()

# 1. Reproducers of bugs found before: each must now run clean. Skipped when known bug classes are tolerated.
exploratory=""
if [ -n "${C1R_FUZZ_ALLOW:-}" ] || [ -n "${C1R_FUZZ_MAX_SETTING:-}" ]; then
  exploratory="exploratory run (C1R_FUZZ_ALLOW='${C1R_FUZZ_ALLOW:-}' C1R_FUZZ_MAX_SETTING='${C1R_FUZZ_MAX_SETTING:-}'): known bug classes tolerated, reproducers not replayed"
  echo "fuzz.sh: $exploratory" >&2
fi
for t in "${targets[@]}"; do
  [ -n "$exploratory" ] && break
  name=${t#fuzz_}
  dir="fuzz/regressions/$name"
  [ -d "$dir" ] || continue
  for input in "$dir"/*; do
    [ -f "$input" ] || continue
    case "$input" in *.md) continue ;; esac
    log="$logs/regression-$name-$(basename "$input").log"
    if timeout $((per_input_timeout * 3)) "$bin_dir/$t" -timeout="$per_input_timeout" -rss_limit_mb="$rss_mb" \
         $(limits_of "$t") "$input" >"$log" 2>&1; then
      echo "regression  $t  $(basename "$input")  ok"
    else
      echo "regression  $t  $(basename "$input")  FAILED: $(grep -m1 -E 'BUG:|ERROR:|runtime error:' "$log" | cut -c1-160 || echo "killed after $((per_input_timeout * 3))s")"
      failed=1
    fi
  done
done

# 2. Fuzzing, one target after another.
for t in "${targets[@]}"; do
  name=${t#fuzz_}
  seeds="fuzz/corpus/$name"
  work="$build_dir/corpus/$name"
  mkdir -p "$work"
  dict=$(dict_of "$t")
  # In-process (no -jobs/-fork): one process, one core; -jobs=1 would only move the run into a child with its own log.
  args=(-max_total_time="$seconds" -timeout="$per_input_timeout" -rss_limit_mb="$rss_mb" -print_final_stats=1
        -artifact_prefix="$artifacts/$t-")
  [ -n "$dict" ] && args+=(-dict="$dict")
  limits=$(limits_of "$t")
  [ -n "$limits" ] && args+=("$limits")
  log="$logs/$t.log"
  echo "fuzzing     $t  ${seconds}s ..." >&2
  status=0
  "$bin_dir/$t" "${args[@]}" "$work" $([ -d "$seeds" ] && echo "$seeds") >"$log" 2>&1 || status=$?
  execs=$(grep -m1 '^stat::number_of_executed_units:' "$log" | awk '{print $2}')
  rate=$(grep -m1 '^stat::average_exec_per_sec:' "$log" | awk '{print $2}')
  corpus=$(find "$work" -type f | wc -l)
  # The last unit written is the crash, timeout or OOM (a slow-unit note may come before it).
  artifact=$(grep -o 'Test unit written to .*' "$log" | tail -1 | sed 's/Test unit written to //' || true)
  crashes=0
  if [ "$status" -ne 0 ] || [[ "$artifact" == *-crash-* || "$artifact" == *-timeout-* || "$artifact" == *-oom-* || "$artifact" == *-leak-* ]]; then
    crashes=1
    failed=1
    reason=$(grep -m1 -E '^BUG:|ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error:' "$log" | cut -c1-160 || true)
    summary+=("$(printf '%-20s execs %-10s exec/s %-7s corpus %-6s crashes %s  %s\n      %s' "$t" "${execs:-?}" "${rate:-?}" "$corpus" "$crashes" "${artifact:-exit $status}" "$reason")")
  else
    summary+=("$(printf '%-20s execs %-10s exec/s %-7s corpus %-6s crashes %s' "$t" "${execs:-?}" "${rate:-?}" "$corpus" "$crashes")")
  fi
done

echo "== fuzz.sh: ${seconds}s per target; logs in $logs/, artifacts in $artifacts/"
[ -n "$exploratory" ] && echo "== $exploratory"
printf '%s\n' "${summary[@]}"
[ "$failed" -eq 0 ] && echo "== no crashes" || echo "== CRASHES: reproduce with $bin_dir/<target> <artifact or reproducer>"
exit "$failed"
