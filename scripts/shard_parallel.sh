#!/usr/bin/env bash
# Spreads one conv1d-reshape batch over shards with GNU Parallel (locally or over --sshlogin); prints the merged JSONL.
#
# Usage: scripts/shard_parallel.sh [-n SHARDS] [-j JOBS] [-S LOGINS] [-o DIR] [-b BINARY] -- RUN-ARGS...
#   RUN-ARGS     what you would give conv1d-reshape: configs, folders, options (not --shard; --format only jsonl)
#   -n SHARDS    how many parts (default: the number of logins with -S, else JOBS)
#   -j JOBS      shards at once per machine (default 1 with -S, else the number of CPUs)
#   -S LOGINS    GNU Parallel --sshlogin list, e.g. "4/alice@gpu1,bob@gpu2,:" (":" is this machine). Every machine
#                needs the binary and the configs at the same paths (a shared filesystem, or the same checkout);
#                the shards run in this folder's path ($PWD) there.
#   -o DIR       also keep each shard's report as DIR/shard-I.jsonl
#   -b BINARY    the conv1d-reshape to run (default: $C1R_BINARY, else ./build/conv1d-reshape, else PATH)
# Standard output: the reports of shard 1, then 2, ... -- the unsharded run's list, in its order.
# Exit code: the worst of the shards (2 over 1, as one batch would), or 2 for a usage error here.
#
# Timings: shards that share a machine share its cores. Give each shard its own cores (e.g. -j 2 with
# --threads 1 on a 2-core machine), or the times measure the contention rather than the layers.
set -euo pipefail

usage() {  # the comment block at the top of this file
    sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
    exit 0
}
fail() {
    echo "shard_parallel.sh: $*" >&2
    exit 2
}

shards="" jobs="" logins="" keep_dir="" binary="${C1R_BINARY:-}"
while getopts ":n:j:S:o:b:h" flag; do
    case "$flag" in
        n) shards=$OPTARG ;;
        j) jobs=$OPTARG ;;
        S) logins=$OPTARG ;;
        o) keep_dir=$OPTARG ;;
        b) binary=$OPTARG ;;
        h) usage ;;
        :) fail "-$OPTARG needs a value (see -h)" ;;
        *) fail "unknown option -$OPTARG (see -h)" ;;
    esac
done
shift $((OPTIND - 1))
if [ "${1:-}" = "--" ]; then shift; fi
(($#)) || fail "nothing to run: give conv1d-reshape's arguments after --, e.g. -- configs/ --repeats 10"

command -v parallel >/dev/null || fail "GNU Parallel is not installed (Debian: apt-get install parallel)"
if [ -z "$binary" ]; then
    if [ -x ./build/conv1d-reshape ]; then binary=./build/conv1d-reshape
    else binary=$(command -v conv1d-reshape || true); fi
fi
[ -n "$binary" ] || fail "no conv1d-reshape found: build it or pass -b BINARY"
# Remote shards run in $PWD on the other machine, so a relative binary path must be made absolute.
if [[ "$binary" == */* && "$binary" != /* ]]; then binary="$PWD/$binary"; fi

# Concatenated shards must be one report list: JSONL only (a CSV header or a JSON array per shard would not merge).
run_args=("$@")
has_format=0
for ((i = 0; i < ${#run_args[@]}; i++)); do
    arg=${run_args[i]}
    case "$arg" in
        --shard | --shard=*) fail "do not pass --shard: this script picks the shards" ;;
        --format=*) value=${arg#--format=} ;;
        -f?*) value=${arg#-f} ;;
        --format | -f) value=${run_args[i + 1]:-} ;;
        *) continue ;;
    esac
    [ "$value" = "jsonl" ] || fail "shards merge as JSONL only; drop --format $value (convert afterwards, e.g. with jq)"
    has_format=1
done
if ((!has_format)); then run_args+=(--format jsonl); fi

parallel_args=()
if [ -n "$logins" ]; then
    parallel_args+=(--sshlogin "$logins" --workdir "$PWD")
    IFS=',' read -r -a hosts <<<"$logins"
    : "${jobs:=1}"
    : "${shards:=${#hosts[@]}}"
else
    : "${jobs:=$(nproc 2>/dev/null || echo 2)}"
    : "${shards:=$jobs}"
fi
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || fail "-n $shards: expected a positive number of shards"
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || fail "-j $jobs: expected a positive number of jobs"
parallel_args+=(--jobs "$jobs")

work=$(mktemp -d "${TMPDIR:-/tmp}/shard_parallel.XXXXXX")
trap 'rm -rf "$work"' EXIT
# --results brings every shard's stdout and stderr back into local files (remote shards too); the merge is then
# a plain concatenation in shard order, whichever shard finished first.
parallel "${parallel_args[@]}" --joblog "$work/joblog" --results "$work/shard-{}" \
    -q "$binary" "${run_args[@]}" --shard "{}/$shards" ::: $(seq 1 "$shards") || true

[ -z "$keep_dir" ] || mkdir -p "$keep_dir"
for ((i = 1; i <= shards; i++)); do
    if [ -f "$work/shard-$i" ]; then
        cat "$work/shard-$i"
        if [ -n "$keep_dir" ]; then cp "$work/shard-$i" "$keep_dir/shard-$i.jsonl"; fi
    fi
    if [ -s "$work/shard-$i.err" ]; then sed "s|^|shard $i/$shards: |" "$work/shard-$i.err" >&2; fi
done

# GNU Parallel's own exit code counts failed jobs; the batch contract is the worst exit code (2 over 1).
worst=0 finished=0
while IFS=$'\t' read -r _seq _host _start _runtime _send _receive exitval signal _command; do
    [ "$_seq" = "Seq" ] && continue
    finished=$((finished + 1))
    code=$exitval
    if ((signal != 0)); then code=$((128 + signal)); fi
    if ((code > worst)); then worst=$code; fi
done <"$work/joblog"
if ((finished != shards)); then
    echo "shard_parallel.sh: only $finished of $shards shards ran" >&2
    if ((worst < 2)); then worst=2; fi
fi
exit "$worst"
