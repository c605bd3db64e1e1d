#!/usr/bin/env bash
# A Slurm job array over conv1d-reshape's --shard: task I of N writes OUTDIR/shard-I.jsonl; --merge joins them.
#
# Submit (from the repo; every task runs one shard of the same batch):
#   sbatch --array=1-4 scripts/shard_slurm.sh OUTDIR RUN-ARGS...
#   e.g.  sbatch --array=1-4 --cpus-per-task=8 scripts/shard_slurm.sh results/ configs/ --repeats 20
# Merge when every task has ended (in shard order: the unsharded run's list of reports):
#   scripts/shard_slurm.sh --merge OUTDIR > all.jsonl
#   or chained:  jid=$(sbatch --parsable --array=1-4 scripts/shard_slurm.sh results/ configs/)
#                sbatch --dependency=afterany:$jid --wrap "scripts/shard_slurm.sh --merge results/ > all.jsonl"
# Try it without Slurm by setting what Slurm would set:
#   SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_COUNT=4 scripts/shard_slurm.sh results/ configs/
#
# The binary: $C1R_BINARY, else build/conv1d-reshape in the submit folder, else conv1d-reshape on PATH.
# Threads: --threads follows --cpus-per-task unless RUN-ARGS set it. A task's exit code is the binary's (SPEC §5),
# so `sacct` shows which shards held failed runs; their reports are in the shard file all the same.
#SBATCH --job-name=conv1d-reshape
#SBATCH --output=slurm-%A_%a.log
#SBATCH --cpus-per-task=4
set -euo pipefail

fail() {
    echo "shard_slurm.sh: $*" >&2
    exit 2
}

# ---- merge: shard-1 ... shard-N, in order, refusing to merge an incomplete set
if [ "${1:-}" = "--merge" ]; then
    out_dir=${2:?usage: shard_slurm.sh --merge OUTDIR [N]}
    count=${3:-}
    if [ -z "$count" ]; then
        [ -f "$out_dir/shard-count" ] || fail "$out_dir/shard-count is missing: give N (shard_slurm.sh --merge DIR N)"
        count=$(cat "$out_dir/shard-count")
    fi
    [[ "$count" =~ ^[1-9][0-9]*$ ]] || fail "shard count '$count' is not a positive number"
    missing=()
    for ((i = 1; i <= count; i++)); do
        [ -f "$out_dir/shard-$i.jsonl" ] || missing+=("$i")
    done
    if ((${#missing[@]})); then
        fail "shards ${missing[*]} of $count have no $out_dir/shard-I.jsonl (still running, or failed: see slurm-*.log)"
    fi
    for ((i = 1; i <= count; i++)); do cat "$out_dir/shard-$i.jsonl"; done
    exit 0
fi

# ---- one array task
(($# >= 2)) || fail "usage: sbatch --array=1-N shard_slurm.sh OUTDIR RUN-ARGS...  (or --merge OUTDIR [N])"
out_dir=$1
shift
if [ -z "${SLURM_ARRAY_TASK_ID:-}" ] || [ -z "${SLURM_ARRAY_TASK_COUNT:-}" ]; then
    fail "not in a Slurm job array: submit with sbatch --array=1-N (or set SLURM_ARRAY_TASK_ID and _COUNT to try it)"
fi
# Slurm numbers tasks as the --array range says (0-3, 1-4, 1-7:2...); the shard is the task's place in that range.
first=${SLURM_ARRAY_TASK_MIN:-1}
step=${SLURM_ARRAY_TASK_STEP:-1}
count=$SLURM_ARRAY_TASK_COUNT
index=$(((SLURM_ARRAY_TASK_ID - first) / step + 1))
((index >= 1 && index <= count)) || fail "task $SLURM_ARRAY_TASK_ID is outside the array ($first, step $step, $count tasks)"

# sbatch runs a copy of this script from its spool folder: paths are relative to where the job was submitted.
cd "${SLURM_SUBMIT_DIR:-$PWD}"
binary=${C1R_BINARY:-}
if [ -z "$binary" ]; then
    if [ -x build/conv1d-reshape ]; then binary=build/conv1d-reshape
    else binary=$(command -v conv1d-reshape || true); fi
fi
[ -n "$binary" ] || fail "no conv1d-reshape: build it in build/, put it on PATH, or set C1R_BINARY"

run_args=("$@")
for arg in "${run_args[@]}"; do
    case "$arg" in
        --shard | --shard=*) fail "do not pass --shard: the array task picks its shard" ;;
        --format | --format=* | -f | -f?*) fail "do not pass --format: shard files are JSONL, so that they merge" ;;
    esac
done
if [ -n "${SLURM_CPUS_PER_TASK:-}" ] && ! printf '%s\n' "${run_args[@]}" | grep -q -- '^--threads'; then
    run_args+=(--threads "$SLURM_CPUS_PER_TASK")
fi

mkdir -p "$out_dir"
echo "$count" >"$out_dir/shard-count"
part="$out_dir/shard-$index.jsonl.part"
status=0
"$binary" "${run_args[@]}" --format jsonl --shard "$index/$count" >"$part" || status=$?
# A finished batch (0, 1 or 2) is a complete report, failures included; a crash or a kill is not: no shard file,
# so --merge names it instead of merging a truncated list.
if ((status <= 2)); then
    mv "$part" "$out_dir/shard-$index.jsonl"
fi
exit "$status"
