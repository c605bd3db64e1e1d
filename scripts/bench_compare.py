#!/usr/bin/python3
"""Two builds of the tool side by side: the forward time of each bench config, interleaved in rounds.

Usage: scripts/bench_compare.py OLD_BINARY NEW_BINARY [--rounds N] [--threads N] [--configs DIR]

Each round runs every config in configs/bench/ once with each binary, in alternating order (old first in
even rounds, new first in odd ones), with the same --threads (default 1: the least noisy on a shared
machine). Prints per config the median over rounds of timing.forward_ms.median for both, and new/old. With
bench.py's tool/raw ratios measured for one build, new/old near 1.00 means the other's tool/raw is unchanged.
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def forward_ms(binary, config, threads):
    out = subprocess.run([binary, config, "--format", "json", "--threads", str(threads)],
                         check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    if isinstance(report, list):
        report = report[0]
    return report["timing"]["forward_ms"]["median"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--configs", default=os.path.join(ROOT, "configs", "bench"))
    args = parser.parse_args()
    configs = sorted(glob.glob(os.path.join(args.configs, "*.json")))
    if not configs:
        sys.exit(f"bench_compare.py: no configs in {args.configs}")
    times = {c: {"old": [], "new": []} for c in configs}
    for r in range(args.rounds):
        for c in configs:
            order = ["old", "new"] if r % 2 == 0 else ["new", "old"]
            for which in order:
                times[c][which].append(forward_ms(getattr(args, which), c, args.threads))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    print(f"| config | old ms | new ms | new/old |  ({args.rounds} rounds, {args.threads} thread(s))")
    print("|---|---:|---:|---:|")
    for c in configs:
        old, new = statistics.median(times[c]["old"]), statistics.median(times[c]["new"])
        print(f"| {os.path.basename(c)[:-5]} | {old:.3f} | {new:.3f} | {new / old:.2f} |")


if __name__ == "__main__":
    main()
