#!/usr/bin/python3
"""Peak RSS of a residual stack against the tensors it must hold (issue 13's buffer-reuse check).

Usage: scripts/residual_rss.py [--binary build/conv1d-reshape] [--blocks 1,20] [--shape N,L,C] [--threads 1]

The stack is a stem conv, then blocks x [conv (relu), conv, add with the block's input], all k=3 `same` with C
filters: the graph of tests/test_graph.cpp's residual_stack(). Each stack runs once (`--repeats 1 --warmup 0`)
and its report's own `peak_rss_bytes` is set against the tensors that must be alive at the fullest moment:

  input (N*L*C f32) + 2 block tensors (a block's input, which the fused add accumulates into, and its first
  conv's output) + every conv's weights and biases (params * 4 bytes)

and against a one-layer run of the same input (the process's own baseline: libraries, oneDNN's JIT code).
oneDNN's primitives keep memory of their own on top (the README's Memory paragraph: brgconv's tables at
small channel counts), which this prints as the rest.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def conv(name, filters, inputs, activation="linear"):
    return {"type": "conv1d", "name": name, "filters": filters, "kernel_size": 3, "padding": "same",
            "activation": activation, "inputs": inputs}


def stack(n, length, channels, blocks):
    layers = [conv("stem", channels, ["input"])]
    previous = "stem"
    for b in range(blocks):
        p = f"b{b}"
        layers += [conv(p + "_c1", channels, [previous], "relu"), conv(p + "_c2", channels, [p + "_c1"]),
                   {"type": "add", "name": p + "_add", "inputs": [p + "_c2", previous]}]
        previous = p + "_add"
    return {"name": f"residual{blocks}", "input": {"shape": [n, length, channels], "init": {"seed": 3}},
            "layers": layers, "run": {"warmup": 0, "repeats": 1}}


def run(binary, config, threads, folder):
    path = os.path.join(folder, config["name"] + ".json")
    with open(path, "w") as f:
        json.dump(config, f)
    out = subprocess.run([binary, path, "--format", "json", "--threads", str(threads)], check=True,
                         capture_output=True, text=True).stdout
    report = json.loads(out)
    return report[0] if isinstance(report, list) else report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, "build", "conv1d-reshape"))
    parser.add_argument("--blocks", default="1,20")
    parser.add_argument("--shape", default="2,50000,128", help="N,L,C")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    n, length, channels = (int(v) for v in args.shape.split(","))
    mib = 1 << 20
    tensor = n * length * channels * 4
    print(f"| blocks | peak RSS MiB | live set MiB (input + 2 tensors + weights) | peak / live | "
          f"baseline MiB | (peak - baseline) / live | conv impls |  (N, L, C) = ({n}, {length}, {channels}), {args.threads} thread(s)")
    print("|---:|---:|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as folder:
        base = run(args.binary, {"name": "baseline", "input": {"shape": [1, 8, channels], "init": {"seed": 3}},
                                 "layers": [conv("only", channels, ["input"])],
                                 "run": {"warmup": 0, "repeats": 1}}, args.threads, folder)
        for blocks in (int(b) for b in args.blocks.split(",")):
            report = run(args.binary, stack(n, length, channels, blocks), args.threads, folder)
            weights = 4 * sum(layer.get("params", 0) for layer in report["layers"])
            live = tensor + 2 * tensor + weights
            peak = report["peak_rss_bytes"]
            impls = sorted({layer["impl"].split("+")[0] for layer in report["layers"]
                            if layer.get("impl", "").startswith(("brgconv", "jit", "gemm", "ref"))})
            print(f"| {blocks} | {peak / mib:.1f} | {live / mib:.1f} | {peak / live:.2f} | "
                  f"{base['peak_rss_bytes'] / mib:.1f} | {(peak - base['peak_rss_bytes']) / live:.2f} | "
                  f"{', '.join(impls)} |")


if __name__ == "__main__":
    sys.exit(main())
