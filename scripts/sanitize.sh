#!/usr/bin/env bash
# Builds the AddressSanitizer + UndefinedBehaviorSanitizer configuration (clang, scripts/configure_asan.sh) in
# build-asan, the fuzz targets included, and runs the whole test suite under it; any sanitizer report fails its
# test. Peak-RSS tests are listed as skipped there (RSS counts ASan's shadow and quarantine).
#   scripts/sanitize.sh [extra ctest arguments, e.g. -R bad_input]
# Environment: BUILD_DIR (build-asan), JOBS (2: compile and ctest jobs).
set -euo pipefail

cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build-asan}
jobs=${JOBS:-2}

scripts/configure_asan.sh "$build_dir"
cmake --build "$build_dir" -j "$jobs"

# Why each option (the test binaries and the conv1d-reshape they start inherit them):
# - detect_leaks=1 (ASan's default on Linux, written out): the whole suite runs without a leak report, oneDNN's
#   JIT kernels and the OpenMP runtime's thread pool included (Debian's oneDNN 2.6). Should a newer
#   library report its process-lifetime caches, add a LSAN_OPTIONS=suppressions=... file naming that library
#   rather than turning leak detection off.
# - detect_stack_use_after_return=1: also catches a reference to a dead stack frame (our code only; oneDNN's
#   JIT code is not instrumented and is unaffected).
# - check_initialization_order=1, strict_init_order=1: static initialisers reading another file's globals.
# - UBSan: -fno-sanitize-recover=all (CMakeLists.txt) makes its first report fatal; print the stack.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1}
# Leaks inside other libraries that our code cannot free are named, one by one, in scripts/lsan.supp.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build_dir" -j "$jobs" --output-on-failure "$@"
