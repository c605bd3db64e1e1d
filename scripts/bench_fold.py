#!/usr/bin/env python3
"""Usage: python3 scripts/bench_fold.py MODEL.json [--build DIR] [--rounds N] [--repeats N] [--threads N]

What folding BatchNormalization into the conv (or dense) before it saves, on a real Keras model.

The tool folds a batch_normalization that directly follows a linear conv1d/dense (SPEC §7). The unfolded
twin of MODEL is the same Sequential model with a Dropout (the identity at inference, a view that moves no
data) between each such pair, which stops the folding and runs the normalisation as oneDNN batch
normalization. Both compute the same function, so the difference is the folding alone. The two run
alternately, side by side, `--rounds` times; the figure is each one's median forward time over all rounds
and their ratio, unfolded / folded. Needs only the built binary and Python's standard library.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

CONV_CLASSES = {"Conv1D", "Convolution1D", "Dense"}


def layers_of(model):
    config = model["config"]
    return config["layers"] if isinstance(config, dict) else config


def is_linear(layer):
    return layer["config"].get("activation", "linear") in ("linear", None)


def unfolded_twin(model):
    """The model with a Dropout(0) between every linear conv/dense and the BatchNormalization after it."""
    if model.get("class_name") != "Sequential":
        sys.exit("bench_fold.py: only Sequential models (the Dropout goes between two list entries)")
    layers = layers_of(model)
    out, inserted = [], 0
    for i, layer in enumerate(layers):
        out.append(layer)
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        if (layer["class_name"] in CONV_CLASSES and is_linear(layer) and nxt
                and nxt["class_name"] == "BatchNormalization"):
            inserted += 1
            out.append({"class_name": "Dropout",
                        "config": {"name": "unfold_%d" % inserted, "rate": 0.0, "trainable": False}})
    twin = json.loads(json.dumps(model))
    if isinstance(twin["config"], dict):
        twin["config"]["layers"] = out
    else:
        twin["config"] = out
    return twin, inserted


def run(binary, path, args):
    command = [binary, path, "--format", "json", "--quiet", "--warmup", "3", "--repeats", str(args.repeats),
               "--threads", str(args.threads)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        sys.exit("bench_fold.py: %s failed (%d): %s" % (" ".join(command), done.returncode, done.stderr.strip()))
    report = json.loads(done.stdout)
    folded = sum("folded into" in layer.get("settings", "") for layer in report["layers"])
    return report["timing"]["forward_ms"]["median"], folded


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[2])
    parser.add_argument("model")
    parser.add_argument("--build", default="build")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    binary = os.path.join(args.build, "conv1d-reshape")
    with open(args.model) as f:
        model = json.load(f)
    twin, inserted = unfolded_twin(model)
    if inserted == 0:
        sys.exit("bench_fold.py: %s has no linear Conv1D/Dense directly followed by BatchNormalization" % args.model)
    with tempfile.TemporaryDirectory() as tmp:
        twin_path = os.path.join(tmp, "unfolded.json")
        with open(twin_path, "w") as f:
            json.dump(twin, f)
        folded_ms, unfolded_ms = [], []
        for _ in range(args.rounds):
            ms, n_folded = run(binary, args.model, args)
            folded_ms.append(ms)
            ms, n_unfolded = run(binary, twin_path, args)
            unfolded_ms.append(ms)
    a, b = statistics.median(folded_ms), statistics.median(unfolded_ms)
    print("model: %s" % args.model)
    print("pairs conv/dense -> BatchNormalization: %d (folded in the model: %d, in its twin: %d)"
          % (inserted, n_folded, n_unfolded))
    print("threads %d, %d rounds x %d repeats, alternating" % (args.threads, args.rounds, args.repeats))
    print("folded    median forward ms: %.4f  (rounds: %s)" % (a, " ".join("%.3f" % v for v in folded_ms)))
    print("unfolded  median forward ms: %.4f  (rounds: %s)" % (b, " ".join("%.3f" % v for v in unfolded_ms)))
    print("ratio unfolded / folded: %.3f" % (b / a))


if __name__ == "__main__":
    main()
