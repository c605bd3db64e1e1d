#!/usr/bin/env bash
# Installs the Debian packages the build needs (only those missing), then configures and builds.
# Usage: scripts/setup.sh [--deps-only] [--with-tools]   (BUILD_DIR, BUILD_TYPE, JOBS from the environment)
set -euo pipefail

cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
build_type=${BUILD_TYPE:-Release}
jobs=${JOBS:-2}

# oneDNN's CMake package looks for OpenCL (Debian builds it with the OpenCL GPU runtime): ocl-icd-opencl-dev.
packages=(libdnnl-dev ocl-icd-opencl-dev libcli11-dev nlohmann-json3-dev catch2 cmake g++ make)
deps_only=0
for arg in "$@"; do
  case "$arg" in
    --deps-only) deps_only=1 ;;
    # Optional tools: fixtures (torch, numpy), plots, benchmarks, sharding, fuzzing.
    --with-tools) packages+=(python3-numpy python3-torch python3-matplotlib hyperfine parallel jq clang libclang-rt-14-dev) ;;
    *) echo "setup.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done

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
((deps_only)) && exit 0

cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="$build_type" >&2
cmake --build "$build_dir" -j "$jobs" >&2
