#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine: installs the missing Debian packages, builds, then runs
# an example (`setup.sh example`) or every test (`setup.sh test`). Plain `setup.sh` only installs and builds.
# Environment: BUILD_DIR (build), BUILD_TYPE (Release), JOBS (2).
set -euo pipefail

cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
build_type=${BUILD_TYPE:-Release}
jobs=${JOBS:-2}

# oneDNN's CMake package looks for OpenCL (Debian builds it with the OpenCL GPU runtime): ocl-icd-opencl-dev.
packages=(libdnnl-dev ocl-icd-opencl-dev libcli11-dev nlohmann-json3-dev libfmt-dev catch2 cmake g++ make libhdf5-dev libzip-dev libonnx-dev libprotobuf-dev)
mode=build
for arg in "$@"; do
  case "$arg" in
    example|test|build|deps) mode=$arg ;;
    # Optional tools: fixtures (torch, numpy), plots, benchmarks, sharding, fuzzing.
    --with-tools) packages+=(python3-numpy python3-torch python3-onnx python3-matplotlib hyperfine parallel jq clang libclang-rt-14-dev) ;;
    *) echo "setup.sh: unknown argument '$arg' (expected example, test, build, deps or --with-tools)" >&2; exit 2 ;;
  esac
done
# The full test run builds the fuzz targets and runs the plot, GNU Parallel and comma-locale tests.
# libonnx-testdata: ONNX's own backend node tests, run by tests/test_onnx_peer.cpp.
[ "$mode" = test ] && packages+=(clang libclang-rt-14-dev python3-matplotlib python3-numpy parallel locales libonnx-testdata)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup.sh: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# A comma-decimal locale for the test that numbers still print with a dot.
if [ "$mode" = test ] && ! locale -a 2>/dev/null | grep -qix 'de_DE\.utf-\?8'; then
  echo "setup.sh: generating the de_DE.UTF-8 locale" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  if grep -q '^# *de_DE\.UTF-8 UTF-8' /etc/locale.gen; then
    "${sudo_cmd[@]}" sed -i 's/^# *\(de_DE\.UTF-8 UTF-8\)/\1/' /etc/locale.gen
  elif ! grep -q '^de_DE\.UTF-8 UTF-8' /etc/locale.gen; then
    echo 'de_DE.UTF-8 UTF-8' | "${sudo_cmd[@]}" tee -a /etc/locale.gen >/dev/null
  fi
  "${sudo_cmd[@]}" locale-gen
fi
[ "$mode" = deps ] && exit 0

cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="$build_type" >/dev/null
cmake --build "$build_dir" -j "$jobs"

case "$mode" in
  example)
    # The SPEC's reference cases: shrink, keep, the transpose trick, and a real expansion.
    "$build_dir/conv1d-reshape" configs/reduce.json configs/keep.json configs/permute.json configs/expand.json
    ;;
  test)
    ctest --test-dir "$build_dir" -j "$jobs" --output-on-failure
    ;;
esac
