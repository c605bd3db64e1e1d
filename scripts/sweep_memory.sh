#!/usr/bin/env bash
# Measures resident memory over a long sweep against its largest point run alone (issue 16, "Memory in long
# sweeps"): the sweep's peak should stay within 1.3x of the largest point's.
#
# Usage: scripts/sweep_memory.sh [-b BINARY] [-n LENGTHS] [-k KERNELS] [-- EXTRA-RUN-ARGS...]
#   -b BINARY   the conv1d-reshape to measure (default ./build/conv1d-reshape)
#   -n LENGTHS  input lengths 1000, 1016, 1032, ... (default 1000)
#   -k KERNELS  kernel sizes 1, 2, ... (default 10): LENGTHS x KERNELS points (default 10,000), each a conv1d
#               16 -> 32 channels, padding same, so every point is a new problem for oneDNN (kernel sizes past
#               ~20 make oneDNN's kernel generation slow: ~0.1 s a point)
# Runs, each sampled with /usr/bin/time -v (max RSS) and VmRSS read from /proc/PID/status every 0.5 s:
#   1. the sweep with --dry-run, 2. its largest point alone with --dry-run, 3. the sweep timed (--repeats 1
#   --warmup 0 --threads 1), 4. its largest point alone, timed the same way. Prints one line per run and the
#   ratios of 1 to 2 and 3 to 4.
set -euo pipefail

binary=./build/conv1d-reshape lengths=1000 kernels=10
while getopts ":b:n:k:h" flag; do
    case $flag in
        b) binary=$OPTARG ;;
        n) lengths=$OPTARG ;;
        k) kernels=$OPTARG ;;
        *) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
    esac
done
shift $((OPTIND - 1))
[[ ${1:-} == -- ]] && shift
[[ -x $binary ]] || { echo "sweep_memory.sh: $binary: no such executable" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
length_list=$(seq -s, 1000 16 $((1000 + 16 * (lengths - 1))))
kernel_list=$(seq -s, 1 "$kernels")
largest_length=$((1000 + 16 * (lengths - 1)))
layer='{"type": "conv1d", "filters": 32, "kernel_size": 3, "padding": "same"}'
cat > "$work/sweep.json" <<EOF
{"name": "memory-sweep", "input": {"shape": [1, 1000, 16]}, "layers": [$layer],
 "sweep": {"/input/shape/1": [$length_list], "/layers/0/kernel_size": [$kernel_list]}}
EOF
cat > "$work/largest.json" <<EOF
{"name": "largest-point", "input": {"shape": [1, $largest_length, 16]},
 "layers": [{"type": "conv1d", "filters": 32, "kernel_size": $kernels, "padding": "same"}]}
EOF

# Runs the binary, samples VmRSS every 0.5 s; prints "<label>: runs N, max RSS (time -v) X MiB, sampled peak
# Y MiB, last sample Z MiB, W s" and leaves the max RSS in KiB in $work/<label>.kb.
measure() {
    local label=$1
    shift
    /usr/bin/time -v -o "$work/$label.time" "$binary" "$@" --format jsonl --quiet > "$work/$label.jsonl" &
    local time_pid=$! peak=0 last=0 rss child
    sleep 0.2
    child=$(pgrep -P "$time_pid" || true)
    while kill -0 "$time_pid" 2> /dev/null; do
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$child/status" 2> /dev/null || true)
        if [[ -n $rss ]]; then
            last=$rss
            ((rss > peak)) && peak=$rss
        fi
        sleep 0.5
    done
    wait "$time_pid" || true
    local max_kb seconds runs
    max_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/$label.time")
    seconds=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/$label.time")
    runs=$(wc -l < "$work/$label.jsonl")
    echo "$max_kb" > "$work/$label.kb"
    printf '%s: runs %d, max RSS (time -v) %.1f MiB, sampled peak %.1f MiB, last sample %.1f MiB, wall %s\n' \
        "$label" "$runs" "$(bc -l <<< "$max_kb/1024")" "$(bc -l <<< "$peak/1024")" "$(bc -l <<< "$last/1024")" \
        "$seconds"
}

measure dry-run "$work/sweep.json" --dry-run "$@"
measure dry-run-largest-alone "$work/largest.json" --dry-run "$@"
measure sweep "$work/sweep.json" --repeats 1 --warmup 0 --threads 1 "$@"
measure largest-alone "$work/largest.json" --repeats 1 --warmup 0 --threads 1 "$@"
ratio() { bc -l <<< "$(cat "$work/$1.kb") / $(cat "$work/$2.kb")"; }
printf 'max RSS, sweep / largest point alone: dry-run %.2f, timed %.2f\n' "$(ratio dry-run dry-run-largest-alone)" \
    "$(ratio sweep largest-alone)"
