#!/usr/bin/python3
# Benchmark runner (issue 7): the tool against raw oneDNN, PyTorch and the machine's FMA peak, side by side.
"""Usage: /usr/bin/python3 scripts/bench.py [--build DIR] [--quick] [--only NAME[,NAME]] [--jsonl PATH]
                                         [--rounds N] [--configs DIR] [--no-torch]

For every config in configs/bench/ it measures, interleaved in rounds on the same (noisy, shared) machine:
  - the tool: `conv1d-reshape CONFIG --format json`, timing.forward_ms.median and the thread count it chose;
  - raw oneDNN (bench/raw_onednn, a minimal program of our own) on 1 thread and on all threads, so the
    ratio is taken at the tool's thread count and against the best one; a stack's raw time is the sum of
    its layers, each run alone;
  - PyTorch (torch.nn.functional.conv1d / conv_transpose1d, NCL tensors, same thread count) in a worker
    process of /usr/bin/python3, when that interpreter has torch;
and reports medians over rounds, GFLOP/s and % of the FMA peak measured by bench/peak_probe.
Then: bf16 vs f32 on `large` (with --verify), the encoder-decoder stack's reorders and total vs the sum of
its layers run alone, and the peak RSS of `large` against its input + weights + output bytes.
Markdown goes to stdout, JSON lines to --jsonl, progress to stderr.
"""
import argparse
import copy
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
TORCH_PYTHON = "/usr/bin/python3"  # Debian's interpreter, the one with torch 1.13
SPEED_PROBLEMS = ["mid", "large", "wide", "down", "dilated", "deconv_up"]
TINY_PROBLEMS = ["seed1", "seed2"]


STARTED = time.time()


def log(message):
    print(f"[{time.time() - STARTED:5.0f} s] {message}", file=sys.stderr, flush=True)


# ---- Keras geometry (SPEC §3), computed here rather than read from the tool: the baselines must not
# inherit a tool bug. The tool's own layers[].padding is cross-checked against it.

def dilated_kernel(k, d):
    return d * (k - 1) + 1


def ceil_div(a, b):
    return -(-a // b)


def layer_geometry(layer, length):
    """oneDNN-style geometry of one conv1d / conv1d_transpose layer for an input of `length` steps."""
    kind = layer["type"]
    k, s = layer["kernel_size"], layer.get("strides", 1)
    d = layer.get("dilation_rate", 1)
    dk = dilated_kernel(k, d)
    padding = layer.get("padding", "valid")
    if kind == "conv1d":
        if padding == "valid":
            left, right, out = 0, 0, ceil_div(length - dk + 1, s)
        elif padding == "same":
            out = ceil_div(length, s)
            total = max((out - 1) * s + dk - length, 0)
            left, right = total // 2, total - total // 2
        elif padding == "causal":
            left, right, out = dk - 1, 0, ceil_div(length, s)
        else:
            left, right = (padding, padding) if isinstance(padding, int) else padding
            out = (length + left + right - dk) // s + 1
    elif kind == "conv1d_transpose":
        full = (length - 1) * s + dk
        op = layer.get("output_padding")
        if padding == "valid":
            out = full + (op if op is not None else max(dk, s) - dk)
            left = 0
        else:
            out = (length - 1) * s + dk % 2 + op if op is not None else length * s
            left = max(full - out, 0) // 2
        right = full - out - left  # the crop; negative = bias-only steps appended
    else:
        raise ValueError(f"no raw/torch baseline for layer type {kind}")
    return {"kind": kind, "kernel": k, "stride": s, "dilation": d, "pad_left": left, "pad_right": right,
            "in_length": length, "out_length": out, "filters": layer["filters"],
            "groups": layer.get("groups", 1), "bias": layer.get("use_bias", True),
            "activation": layer.get("activation", "linear")}


def stack_geometry(config):
    """[(N, L, Cin) of each layer's input, geometry]; None when a layer has no baseline."""
    n, length, channels = config["input"]["shape"]
    layers = []
    for layer in config["layers"]:
        try:
            g = layer_geometry(layer, length)
        except ValueError:
            return None
        if g["groups"] != 1:
            return None
        g.update(mb=n, cin=channels)
        layers.append(g)
        length, channels = g["out_length"], g["filters"]
    return layers


def check_geometry(name, geometry, report):
    for g, layer in zip(geometry, report["layers"]):
        tool_pad = layer.get("padding")
        if tool_pad and tool_pad != [g["pad_left"], g["pad_right"]]:
            log(f"warning: {name} layer {layer['index']}: tool padding {tool_pad} differs from the baseline's "
                f"[{g['pad_left']}, {g['pad_right']}]")
        if layer["output_shape"][1] != g["out_length"]:
            log(f"warning: {name} layer {layer['index']}: tool output length {layer['output_shape'][1]} differs "
                f"from the baseline's {g['out_length']}")


# ---- processes

def run_json(command, timeout=600):
    """Runs a command that prints JSON on stdout; returns the parsed object, or {"error": text}."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s: {' '.join(command)}"}
    if done.returncode not in (0, 1) or not done.stdout.strip():
        return {"error": f"exit {done.returncode}: {done.stderr.strip()[-400:]}"}
    try:
        result = json.loads(done.stdout)
    except json.JSONDecodeError as e:
        return {"error": f"unreadable output ({e}): {done.stdout[:200]}"}
    if isinstance(result, dict) and done.returncode == 1 and "error" not in result and "verify" not in result:
        result["error"] = done.stderr.strip()[-400:]
    return result


def run_tool(args, config_path, extra=()):
    command = [args.tool, config_path, "--format", "json", "--quiet", *extra]
    if args.quick and "--repeats" not in extra:
        command += ["--warmup", "1", "--repeats", str(args.quick_repeats(config_path))]
    report = run_json(command)
    if "error" in report:
        log(f"  tool failed: {report['error']}")
    return report


def raw_command(args, g, threads, warmup, repeats, dtype="f32", deconv_flags=()):
    command = [args.raw, "--mb", g["mb"], "--length", g["in_length"], "--cin", g["cin"], "--cout", g["filters"],
               "--kernel", g["kernel"], "--stride", g["stride"], "--dilation", g["dilation"],
               "--pad-left", g["pad_left"], "--pad-right", g["pad_right"], "--threads", threads,
               "--warmup", warmup, "--repeats", repeats, "--dtype", dtype, "--activation", g["activation"]]
    if g["kind"] == "conv1d_transpose":
        command += ["--deconv", *deconv_flags]
    if not g["bias"]:
        command.append("--no-bias")
    return [str(c) for c in command]


def run_raw_stack(args, geometry, threads, warmup, repeats, dtype="f32", deconv_flags=()):
    """Raw oneDNN time of a stack: the sum of its layers' medians, each layer a process of its own."""
    total, total_min, impls, create = 0.0, 0.0, [], 0.0
    for g in geometry:
        result = run_json(raw_command(args, g, threads, warmup, repeats, dtype, deconv_flags))
        if "error" in result:
            log(f"  raw_onednn failed: {result['error']}")
            return None
        total += result["median_ms"]
        total_min += result["min_ms"]
        create += result["create_ms"]
        impls.append(result["impl"])
    return {"median_ms": total, "min_ms": total_min, "impl": "+".join(sorted(set(impls))), "create_ms": create}


class TorchWorker:
    """A /usr/bin/python3 process that imports torch once and times problems sent to it as JSON lines."""

    def __init__(self):
        self.process = None
        self.note = None
        try:
            self.process = subprocess.Popen([TORCH_PYTHON, os.path.abspath(__file__), "--torch-worker"],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            hello = json.loads(self.process.stdout.readline() or "{}")
        except (OSError, json.JSONDecodeError) as e:
            hello = {"error": str(e)}
        if "torch" not in hello:
            self.note = f"PyTorch skipped: {TORCH_PYTHON} has no torch ({hello.get('error', 'no answer')})"
            self.close()
        else:
            self.version = hello["torch"]

    def available(self):
        return self.process is not None

    def time(self, request):
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self):
        if self.process:
            self.process.stdin.close()
            self.process.wait(timeout=30)
            self.process = None


def torch_worker_main():
    """The worker side: one request per line (geometry, threads, budget), one JSON answer per line."""
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as e:
        print(json.dumps({"error": str(e)}), flush=True)
        return
    print(json.dumps({"torch": torch.__version__}), flush=True)
    activations = {"linear": None, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
                   "gelu": F.gelu, "elu": F.elu, "swish": F.silu}
    cache = {}
    for line in sys.stdin:
        request = json.loads(line)
        torch.set_num_threads(request["threads"])
        geometry = request["geometry"]
        key = json.dumps(geometry)
        if key not in cache:  # tensors made once per problem, reused across rounds
            torch.manual_seed(0)
            g0 = geometry[0]
            x = torch.randn(g0["mb"], g0["cin"], g0["in_length"])  # PyTorch's own NCL layout
            params = []
            for g in geometry:
                shape = (g["filters"], g["cin"], g["kernel"]) if g["kind"] == "conv1d" else (g["cin"], g["filters"], g["kernel"])
                params.append((torch.randn(*shape) * 0.05, torch.randn(g["filters"]) if g["bias"] else None))
            cache = {key: (x, params)}  # one problem at a time: big tensors are not kept
        x, params = cache[key]

        def forward():
            y = x
            for g, (w, b) in zip(geometry, params):
                if g["kind"] == "conv1d":
                    if g["pad_left"] == g["pad_right"]:
                        y = F.conv1d(y, w, b, g["stride"], g["pad_left"], g["dilation"])
                    else:  # Keras' asymmetric same/causal padding: how a PyTorch user writes it
                        y = F.conv1d(F.pad(y, (g["pad_left"], g["pad_right"])), w, b, g["stride"], 0, g["dilation"])
                else:
                    crop = min(g["pad_left"], max(g["pad_right"], 0))
                    y = F.conv_transpose1d(y, w, b, g["stride"], crop, 0, 1, g["dilation"])
                    start = g["pad_left"] - crop
                    if start > 0 or y.shape[2] > start + g["out_length"]:
                        y = y[:, :, start:start + g["out_length"]]
                    if y.shape[2] < g["out_length"]:  # negative crop: bias-only steps
                        y = F.pad(y, (0, g["out_length"] - y.shape[2]))
                if activations[g["activation"]] is not None:
                    y = activations[g["activation"]](y)
            return y

        with torch.no_grad():
            start = time.perf_counter()
            forward()
            first = time.perf_counter() - start
            # As many repeats as fit the time budget, at least 3, at most the config's.
            repeats = max(3, min(request["repeats"], int(request["budget_s"] / max(first, 1e-6))))
            # The first call already warmed up; slow problems get one more, fast ones the config's count.
            for _ in range(max(1, min(request["warmup"], int(0.2 / max(first, 1e-6))))):
                forward()
            samples = []
            for _ in range(repeats):
                start = time.perf_counter()
                forward()
                samples.append((time.perf_counter() - start) * 1e3)
        print(json.dumps({"median_ms": statistics.median(samples), "min_ms": min(samples), "repeats": repeats}),
              flush=True)


# ---- measurements

def median_of(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(a, b):
    return a / b if a is not None and b else None


def measure_problem(args, name, config_path, config, peak, torch_worker):
    """Rounds of tool, raw (1 and all threads) and torch, interleaved.

    Ratios are taken per round, between runs a few seconds apart, and their median reported: on a shared
    machine the load changes from one minute to the next, and a pair measured together sees the same load.
    """
    geometry = stack_geometry(config)
    has_deconv = bool(geometry) and any(g["kind"] == "conv1d_transpose" for g in geometry)
    warmup, repeats = config["run"]["warmup"], config["run"]["repeats"]
    if args.quick:
        warmup, repeats = 1, args.quick_repeats(config_path)
    all_threads = os.cpu_count() or 1
    thread_counts = sorted({1, all_threads})
    rounds, report = [], None
    for round_index in range(args.rounds):
        log(f"  {name}: round {round_index + 1}/{args.rounds}")
        report = run_tool(args, config_path)
        if "error" in report:
            break
        if round_index == 0 and geometry:
            check_geometry(name, geometry, report)
        this = {"tool": report, "threads": report["threads"], "raw": {}, "torch": None, "epilogue": None}
        tasks = [("raw", t) for t in thread_counts] + [("torch", report["threads"])]
        if has_deconv:  # what oneDNN's deconvolution does with bias and activation applied apart
            tasks.append(("epilogue", report["threads"]))
        shift = round_index % len(tasks)
        for what, t in tasks[shift:] + tasks[:shift]:  # rotated so no baseline always runs right after the tool
            if what == "raw" and geometry:
                this["raw"][t] = run_raw_stack(args, geometry, t, warmup, repeats)
            elif what == "epilogue":
                this["epilogue"] = run_raw_stack(args, geometry, t, warmup, repeats,
                                                 deconv_flags=["--separate-epilogue"])
            elif what == "torch" and geometry and torch_worker.available():
                this["torch"] = torch_worker.time({"geometry": geometry, "threads": t, "warmup": min(warmup, 3),
                                                   "repeats": repeats, "budget_s": 0.3 if args.quick else 1.0})
        rounds.append(this)
    if not rounds:
        return {"name": name, "config": config_path, "error": report.get("error") if report else "no run"}

    def tool_ms(r):
        return r["tool"]["timing"]["forward_ms"]["median"]

    def raw_ms(r, t):
        return (r["raw"].get(t) or {}).get("median_ms")

    def raw_best(r):
        known = [(ms, t) for t in thread_counts if (ms := raw_ms(r, t)) is not None]
        return min(known) if known else (None, None)

    threads_seen = [r["threads"] for r in rounds]
    threads = max(set(threads_seen), key=threads_seen.count)
    flops = rounds[0]["tool"]["flops"]
    tool_median = median_of([tool_ms(r) for r in rounds])
    tool_min = min(r["tool"]["timing"]["forward_ms"]["min"] for r in rounds)
    raw_by_threads = {t: median_of([raw_ms(r, t) for r in rounds]) for t in thread_counts}
    raw_min_by_threads = {t: min((r["raw"][t]["min_ms"] for r in rounds if r["raw"].get(t)), default=None)
                          for t in thread_counts}
    best_seen = [raw_best(r)[1] for r in rounds if raw_best(r)[1] is not None]
    best_threads = max(set(best_seen), key=best_seen.count) if best_seen else None
    torch_ms = median_of([(r["torch"] or {}).get("median_ms") for r in rounds])
    peak_key = "avx512_fma_gflops_1t" if threads == 1 else "avx512_fma_gflops_all"
    gflops = flops / (tool_median * 1e6) if tool_median else None
    raw_impls = sorted({run["impl"] for r in rounds for run in r["raw"].values() if run})
    return {
        "name": name, "config": os.path.relpath(config_path, ROOT), "kind": "stack" if len(config["layers"]) > 1 else "layer",
        "shape": config["input"]["shape"], "layers": len(config["layers"]), "flops": flops, "rounds": len(rounds),
        "warmup": warmup, "repeats": repeats,
        "tool_threads": threads, "tool_threads_seen": threads_seen,
        "tool_ms": tool_median, "tool_ms_rounds": [tool_ms(r) for r in rounds], "tool_min_ms": tool_min,
        "tool_gflops": gflops, "tool_gflops_at_min": flops / (tool_min * 1e6) if tool_min else None,
        "peak_gflops": peak.get(peak_key),
        "pct_peak": 100 * gflops / peak[peak_key] if gflops and peak.get(peak_key) else None,
        "pct_peak_all": 100 * gflops / peak["avx512_fma_gflops_all"] if gflops and peak.get("avx512_fma_gflops_all") else None,
        "tool_create_ms": median_of([r["tool"]["timing"]["create_ms"] for r in rounds]),
        "tool_impl": "+".join(sorted({layer.get("impl") or "-" for layer in rounds[0]["tool"]["layers"]})),
        "tool_reorders": [layer.get("reorder", False) for layer in rounds[0]["tool"]["layers"]],
        "raw_ms_by_threads": {str(t): ms for t, ms in raw_by_threads.items()},
        "raw_ms_rounds": {str(t): [raw_ms(r, t) for r in rounds] for t in thread_counts},
        "raw_min_ms_by_threads": {str(t): ms for t, ms in raw_min_by_threads.items()},
        "raw_same_ms": raw_by_threads.get(threads), "raw_best_ms": raw_by_threads.get(best_threads),
        "raw_best_threads": best_threads,
        "raw_impl": "+".join(raw_impls), "raw_is_layer_sum": len(config["layers"]) > 1,
        "raw_create_ms": median_of([run["create_ms"] for r in rounds for run in r["raw"].values() if run]),
        "torch_ms": torch_ms, "torch_threads": threads if torch_ms is not None else None,
        # Raw oneDNN with the deconvolutions' bias and activation as a separate in-place primitive.
        "raw_separate_epilogue_ms": median_of([(r["epilogue"] or {}).get("median_ms") for r in rounds]),
        "raw_separate_epilogue_impl": next((r["epilogue"]["impl"] for r in rounds if r["epilogue"]), None),
        "tool_over_raw_separate_epilogue": median_of([ratio(tool_ms(r), (r["epilogue"] or {}).get("median_ms"))
                                                      for r in rounds]),
        # Medians of per-round ratios (pairs measured together), not ratios of medians.
        "tool_over_raw": median_of([ratio(tool_ms(r), raw_ms(r, r["threads"])) for r in rounds]),
        "tool_over_best_raw": median_of([ratio(tool_ms(r), raw_best(r)[0]) for r in rounds]),
        "torch_over_tool": median_of([ratio((r["torch"] or {}).get("median_ms"), tool_ms(r)) for r in rounds]),
        "tool_over_raw_min": ratio(tool_min, raw_min_by_threads.get(threads)),
        # What the library's kernel reaches on one thread, where a busy neighbour core cannot stall it.
        "raw_1t_gflops": flops / (raw_by_threads[1] * 1e6) if raw_by_threads.get(1) else None,
        "peak_rss_bytes": max((r["tool"].get("peak_rss_bytes") or 0) for r in rounds),
        "geometry": geometry,
    }


def measure_bf16(args, config_path, config):
    """`large` in f32 and bf16 through the tool, interleaved, plus raw oneDNN bf16; one bf16 run with --verify."""
    repeats = ["--warmup", "1", "--repeats", "3" if args.quick else "4"]
    f32, bf16, raw_bf16, raw_f32 = [], [], [], []
    geometry = stack_geometry(config)
    verify = run_tool(args, config_path, ["--dtype", "bf16", "--verify", "--warmup", "0", "--repeats", "1"])
    bf16_rounds = min(args.rounds, 3)  # the ratio is far from its target either way on CPUs without bf16
    for round_index in range(bf16_rounds):
        log(f"  bf16: round {round_index + 1}/{bf16_rounds}")
        a = run_json([args.tool, config_path, "--format", "json", "--quiet", *repeats])
        b = run_json([args.tool, config_path, "--format", "json", "--quiet", "--dtype", "bf16", *repeats])
        if "error" in a or "error" in b:
            log(f"  bf16 run failed: {a.get('error') or b.get('error')}")
            break
        f32.append(a)
        bf16.append(b)
        raw_bf16.append(run_raw_stack(args, geometry, b["threads"], 1, int(repeats[-1]), "bf16"))
        raw_f32.append(run_raw_stack(args, geometry, a["threads"], 1, int(repeats[-1]), "f32"))
    if not bf16:
        return {"name": "bf16_large", "error": verify.get("error", "bf16 runs failed")}
    f32_ms = median_of([r["timing"]["forward_ms"]["median"] for r in f32])
    bf16_ms = median_of([r["timing"]["forward_ms"]["median"] for r in bf16])
    return {"name": "bf16_large", "tool_f32_ms": f32_ms, "tool_bf16_ms": bf16_ms,
            "speedup": median_of([ratio(a["timing"]["forward_ms"]["median"], b["timing"]["forward_ms"]["median"])
                                  for a, b in zip(f32, bf16)]),
            "raw_f32_ms": median_of([r["median_ms"] for r in raw_f32 if r]),
            "raw_bf16_ms": median_of([r["median_ms"] for r in raw_bf16 if r]),
            "bf16_impl": bf16[0]["layers"][0].get("impl"), "cpu_isa": bf16[0].get("cpu_isa"),
            "threads": bf16[0]["threads"],
            "verify": verify.get("verify"), "verify_error": verify.get("error")}


def measure_encdec_split(args, config_path, config, threads):
    """The stack's forward time against the sum of its layers run alone (single-layer configs in /tmp)."""
    report = run_tool(args, config_path, ["--threads", str(threads), "--warmup", "3", "--repeats", "20"])
    if "error" in report:
        return {"name": "encdec_split", "error": report["error"]}
    tmp = tempfile.mkdtemp(prefix="c1r-bench-")
    paths = []
    for i, layer in enumerate(config["layers"]):
        single = copy.deepcopy(config)
        single["name"] = f"{config['name']}_layer{i}"
        single["layers"] = [layer]
        n, length, channels = config["input"]["shape"] if i == 0 else report["layers"][i]["input_shape"]
        single["input"] = {"shape": [n, length, channels], "init": {"distribution": "normal", "seed": 1}}
        path = os.path.join(tmp, f"layer{i}.json")
        with open(path, "w") as f:
            json.dump(single, f)
        paths.append(path)
    # At the stack's own thread count and, when that is not 1, also on one thread: a single thread is not
    # thrown off by a busy neighbour core, so it checks the same property on a loaded machine.
    thread_counts = [threads] + ([1] if threads != 1 else [])
    runs = {t: ([], []) for t in thread_counts}
    for round_index in range(args.rounds):
        log(f"  encdec split: round {round_index + 1}/{args.rounds}")
        for t in thread_counts:
            pinned = ["--threads", str(t), "--warmup", "3", "--repeats", "20"]
            stack = run_tool(args, config_path, pinned)
            layers = [run_tool(args, p, pinned) for p in paths]
            if "error" in stack or any("error" in r for r in layers):
                continue
            runs[t][0].append(stack["timing"]["forward_ms"]["median"])
            runs[t][1].append([r["timing"]["forward_ms"]["median"] for r in layers])
    for p in paths:
        os.remove(p)
    os.rmdir(tmp)
    if not runs[threads][0]:
        return {"name": "encdec_split", "error": "runs failed"}

    def summary(t):
        stack_runs, layer_runs = runs[t]
        if not stack_runs:
            return None
        per_layer = [median_of([run[i] for run in layer_runs]) for i in range(len(paths))]
        return {"threads": t, "stack_ms": median_of(stack_runs), "layers_alone_ms": per_layer,
                "sum_layers_ms": sum(per_layer),
                "stack_over_sum": median_of([ratio(a, sum(b)) for a, b in zip(stack_runs, layer_runs)])}

    result = {"name": "encdec_split", **summary(threads),
              "reorders": [{"index": layer["index"], "reorder": layer.get("reorder", False),
                            "reorder_ms": layer.get("reorder_ms"), "layout": layer.get("layout"),
                            "impl": layer.get("impl"), "time_ms": layer["time_ms"]["median"]}
                           for layer in report["layers"]]}
    if threads != 1:
        result["one_thread"] = summary(1)
    return result


def machine_info(args, peak):
    model, flags = platform.processor(), ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and not model.strip():
                    model = line.split(":", 1)[1].strip()
                if line.startswith("flags"):
                    flags = line.split(":", 1)[1].split()
        model = model or "?"
    except OSError:
        pass
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("Model name:"):
            model = line.split(":", 1)[1].strip()
    isa = [f for f in ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16") if f in flags]
    dry = run_json([args.tool, os.path.join(args.configs, "seed1.json"), "--format", "json", "--quiet",
                    "--warmup", "0", "--repeats", "1"])
    return {"name": "machine", "cpu": model, "cores": os.cpu_count(), "isa_flags": isa,
            "onednn": dry.get("onednn"), "onednn_isa": dry.get("cpu_isa"), "peak": peak,
            "load_average": os.getloadavg(), "date": time.strftime("%Y-%m-%d %H:%M")}


def run_peak(args):
    command = [args.peak] + (["--quick"] if args.quick else [])
    return run_json(command)


# ---- report

def fmt_ms(ms):
    if ms is None:
        return "–"
    if ms < 0.01:
        return f"{ms * 1000:.2f} µs"
    if ms < 1:
        return f"{ms * 1000:.0f} µs"
    return f"{ms:.2f} ms" if ms < 100 else f"{ms:.0f} ms"


def fmt(value, digits=2, suffix=""):
    return "–" if value is None else f"{value:.{digits}f}{suffix}"


def verdict(ok):
    return "met" if ok else "NOT met"


def print_report(machine, results, bf16, split, command):
    peak = machine["peak"]
    print(f"Command: `{command}`  ")
    print(f"Machine: {machine['cpu']}, {machine['cores']} cores, ISA {' '.join(machine['isa_flags'])}; oneDNN "
          f"{machine['onednn']} (dispatch {machine['onednn_isa']}); PyTorch {machine.get('torch', 'skipped')}; load "
          f"average (1/5/15 min) {' '.join(f'{x:.1f}' for x in machine['load_average'])} at start, "
          f"{' '.join(f'{x:.1f}' for x in machine.get('load_average_end', ()))} at end; {machine['date']}  ")
    print(f"FMA peak (peak_probe): AVX-512 {fmt(peak.get('avx512_fma_gflops_1t'), 0)} GFLOP/s on 1 thread, "
          f"{fmt(peak.get('avx512_fma_gflops_all'), 0)} on {peak.get('threads')}; AVX2 "
          f"{fmt(peak.get('avx2_fma_gflops_1t'), 0)} / {fmt(peak.get('avx2_fma_gflops_all'), 0)}; bf16 dot "
          + ("not on this CPU" if peak.get("bf16_dot_gflops_all") is None
             else f"{fmt(peak['bf16_dot_gflops_1t'], 0)} / {fmt(peak['bf16_dot_gflops_all'], 0)}"))
    load = max(machine["load_average"][0], *machine.get("load_average_end", (0,))[:1])
    if load > machine["cores"]:
        print(f"**Loaded machine** (load up to {load:.1f} on {machine['cores']} cores): multi-thread "
              "times are dominated by the scheduler's time slices; ratios are side by side, but absolute times and "
              "% of peak are not the machine's.  ")
    print()
    print("| problem | input (N, L, C) | layers | thr | tool | GFLOP/s | % peak | raw same thr | raw best (thr) "
          "| tool/raw | tool/best | PyTorch | torch/tool | impl |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        if "error" in r:
            print(f"| {r['name']} | failed: {r['error'][:80]} |" + " |" * 12)
            continue
        raw_note = " Σ" if r["raw_is_layer_sum"] else ""
        print(f"| {r['name']} | {tuple(r['shape'])} | {r['layers']} | {r['tool_threads']} | {fmt_ms(r['tool_ms'])} "
              f"| {fmt(r['tool_gflops'], 1)} | {fmt(r['pct_peak'], 0, '%')} | {fmt_ms(r['raw_same_ms'])}{raw_note} "
              f"| {fmt_ms(r['raw_best_ms'])} ({r['raw_best_threads']}) | {fmt(r['tool_over_raw'])} "
              f"| {fmt(r['tool_over_best_raw'])} | {fmt_ms(r['torch_ms'])} | {fmt(r['torch_over_tool'], 1)} "
              f"| {r['tool_impl']} |")
    print()
    print("Medians over rounds of each run's median; tool, raw and PyTorch runs interleaved. raw Σ = the sum of the "
          "stack's layers, each alone through raw_onednn. % peak is against the AVX-512 FMA peak at the tool's "
          "thread count.")
    print()
    print("Targets (issue 7):")
    by_name = {r["name"]: r for r in results if "error" not in r}
    for name in SPEED_PROBLEMS:
        r = by_name.get(name)
        if not r:
            continue
        ok_raw = r["tool_over_raw"] is not None and r["tool_over_raw"] <= 1.05
        ok_peak = r["pct_peak_all"] is not None and r["pct_peak_all"] >= 80
        print(f"- {name}: tool/raw at {r['tool_threads']} thr = {fmt(r['tool_over_raw'])} (≤ 1.05: "
              f"{verdict(ok_raw)}); {fmt(r['pct_peak_all'], 0, '%')} of the {peak.get('threads')}-thread FMA peak "
              f"(≥ 80%: {verdict(ok_peak)}; {fmt(r.get('pct_peak_all_at_min'), 0, '%')} at the fastest iteration; raw "
              f"oneDNN on 1 thread {fmt(r.get('pct_peak_1t_raw'), 0, '%')} of the 1-thread peak); impl {r['tool_impl']}")
    for r in by_name.values():
        if r.get("raw_separate_epilogue_ms"):
            print(f"- {r['name']} (has conv1d_transpose): raw oneDNN with the deconvolution's bias and activation "
                  f"in a separate in-place primitive: {fmt_ms(r['raw_separate_epilogue_ms'])} vs "
                  f"{fmt_ms(r['raw_same_ms'])} fused; tool / that = {fmt(r['tool_over_raw_separate_epilogue'])}")
    for name in TINY_PROBLEMS:
        r = by_name.get(name)
        if r:
            ok = r["tool_over_best_raw"] is not None and r["tool_over_best_raw"] <= 1.2
            print(f"- {name}: tool {fmt_ms(r['tool_ms'])} on {r['tool_threads']} thr vs best raw "
                  f"{fmt_ms(r['raw_best_ms'])} on {r['raw_best_threads']}: {fmt(r['tool_over_best_raw'])} "
                  f"(≤ 1.2: {verdict(ok)})")
    slower = [r["name"] for r in by_name.values() if r["torch_over_tool"] is not None and r["torch_over_tool"] <= 1]
    timed = [r for r in by_name.values() if r["torch_over_tool"] is not None]
    if timed:
        print(f"- faster than PyTorch: {len(timed) - len(slower)}/{len(timed)} problems"
              + (f" (not: {', '.join(slower)})" if slower else "") + f" ({verdict(not slower)}); smallest "
              f"torch/tool {min(r['torch_over_tool'] for r in timed):.1f}")
    if bf16 and "error" not in bf16:
        v = bf16.get("verify") or {}
        ok = (bf16["speedup"] or 0) >= 1.8 and v.get("passed")
        print(f"- bf16 on large: f32 {fmt_ms(bf16['tool_f32_ms'])} vs bf16 {fmt_ms(bf16['tool_bf16_ms'])} = "
              f"{fmt(bf16['speedup'])}× (≥ 1.8×: {verdict(ok)}); verify {'passed' if v.get('passed') else 'FAILED'} "
              f"(max rel error {fmt(v.get('max_rel_error'), 4)}, tolerance {v.get('tolerance')}); impl "
              f"{bf16['bf16_impl']}, ISA {bf16['cpu_isa']}; raw oneDNN f32 {fmt_ms(bf16['raw_f32_ms'])}, bf16 "
              f"{fmt_ms(bf16['raw_bf16_ms'])}")
    elif bf16:
        print(f"- bf16 on large: failed: {bf16['error']}")
    if split and "error" not in split:
        inner = [x for x in split["reorders"][1:] if x["reorder"]]
        ok = not inner and split["stack_over_sum"] is not None and split["stack_over_sum"] <= 1.1
        print(f"- encdec: reorders between layers: {len(inner)}"
              + (f" (before layer {', '.join(str(x['index']) for x in inner)})" if inner else "")
              + f"; stack {fmt_ms(split['stack_ms'])} vs layers alone Σ {fmt_ms(split['sum_layers_ms'])} "
              f"({' + '.join(fmt_ms(x) for x in split['layers_alone_ms'])}) = {fmt(split['stack_over_sum'])} "
              f"(≤ 1.1, no reorder: {verdict(ok)}) on {split['threads']} thr; layouts "
              f"{', '.join(str(x['layout']) for x in split['reorders'])}")
        one = split.get("one_thread")
        if one:
            print(f"  - on 1 thread: stack {fmt_ms(one['stack_ms'])} vs layers alone Σ {fmt_ms(one['sum_layers_ms'])} "
                  f"= {fmt(one['stack_over_sum'])}")
    elif split:
        print(f"- encdec: failed: {split['error']}")
    large = by_name.get("large")
    if large and large.get("peak_rss_bytes"):
        n, length, c = large["shape"]
        g = large["geometry"][0]
        data = 4 * (n * length * c + g["kernel"] * c * g["filters"] + g["filters"] + n * g["out_length"] * g["filters"])
        rss_ratio = large["peak_rss_bytes"] / data
        print(f"- peak RSS of large: {large['peak_rss_bytes'] / 2**20:.0f} MiB vs input+weights+output "
              f"{data / 2**20:.0f} MiB = {rss_ratio:.2f}× (≤ 1.3×: {verdict(rss_ratio <= 1.3)})")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--torch-worker":
        torch_worker_main()
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(ROOT, "build-bench"),
                        help="build folder with conv1d-reshape and bench/{raw_onednn,peak_probe}")
    parser.add_argument("--configs", default=os.path.join(ROOT, "configs", "bench"))
    parser.add_argument("--quick", action="store_true", help="one round, few repeats (CI smoke)")
    parser.add_argument("--only", action="append", default=[], help="problem name(s), comma-separated")
    parser.add_argument("--jsonl", help="write one JSON object per result to this file")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per problem (default 5, --quick 1)")
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args()
    args.rounds = args.rounds or (1 if args.quick else 5)
    args.tool = os.path.join(args.build, "conv1d-reshape")
    args.raw = os.path.join(args.build, "bench", "raw_onednn")
    args.peak = os.path.join(args.build, "bench", "peak_probe")
    for path in (args.tool, args.raw, args.peak):
        if not os.access(path, os.X_OK):
            sys.exit(f"bench.py: {path} not found; build with: cmake --build {args.build} --target "
                     "conv1d-reshape raw_onednn peak_probe")
    only = {n for item in args.only for n in item.split(",") if n}

    def quick_repeats(config_path):
        # A tenth of the config's repeats, at least 3: a smoke run that still gives a median.
        with open(config_path) as f:
            return max(3, json.load(f)["run"]["repeats"] // 10)
    args.quick_repeats = quick_repeats

    names = sorted(f[:-5] for f in os.listdir(args.configs) if f.endswith(".json"))
    order = TINY_PROBLEMS + SPEED_PROBLEMS
    names = [n for n in order if n in names] + [n for n in names if n not in order]
    if only:
        unknown = only - set(names)
        if unknown:
            sys.exit(f"bench.py: no config named {', '.join(sorted(unknown))} in {args.configs}")
        names = [n for n in names if n in only]

    started = time.time()
    log("peak probe ...")
    peak = run_peak(args)
    machine = machine_info(args, peak)
    torch_worker = TorchWorker() if not args.no_torch else None
    if torch_worker is None or not torch_worker.available():
        note = torch_worker.note if torch_worker else "PyTorch skipped (--no-torch)"
        log(note)
        torch_worker = torch_worker or type("NoTorch", (), {"available": lambda self: False})()
    else:
        machine["torch"] = torch_worker.version

    results, configs = [], {}
    for name in names:
        path = os.path.join(args.configs, name + ".json")
        with open(path) as f:
            configs[name] = json.load(f)
        log(f"{name} ...")
        results.append(measure_problem(args, name, path, configs[name], peak, torch_worker))
    if getattr(torch_worker, "close", None):
        torch_worker.close()

    bf16 = split = None
    if "large" in configs:
        log("bf16 on large ...")
        bf16 = measure_bf16(args, os.path.join(args.configs, "large.json"), configs["large"])
    if "encdec" in configs:
        encdec = next((r for r in results if r["name"] == "encdec" and "error" not in r), None)
        if encdec:
            log("encdec: stack vs layers alone ...")
            split = measure_encdec_split(args, os.path.join(args.configs, "encdec.json"), configs["encdec"],
                                         encdec["tool_threads"])
    # A second probe at the end: the peak is the best the machine showed during the run.
    later = run_peak(args)
    for key, value in later.items():
        if isinstance(value, float) and (peak.get(key) is None or value > peak[key]):
            peak[key] = value
    for r in results:  # % of peak against the final (best) probe figures
        if "error" not in r and r["tool_gflops"]:
            key = "avx512_fma_gflops_1t" if r["tool_threads"] == 1 else "avx512_fma_gflops_all"
            r["peak_gflops"] = peak.get(key)
            r["pct_peak"] = 100 * r["tool_gflops"] / peak[key] if peak.get(key) else None
            r["pct_peak_all"] = 100 * r["tool_gflops"] / peak["avx512_fma_gflops_all"] if peak.get("avx512_fma_gflops_all") else None
            r["pct_peak_all_at_min"] = (100 * r["tool_gflops_at_min"] / peak["avx512_fma_gflops_all"]
                                        if peak.get("avx512_fma_gflops_all") else None)
            r["pct_peak_1t_raw"] = (100 * r["raw_1t_gflops"] / peak["avx512_fma_gflops_1t"]
                                    if r.get("raw_1t_gflops") and peak.get("avx512_fma_gflops_1t") else None)

    machine["load_average_end"] = os.getloadavg()
    # Paths inside the repository print relative to it, so the command can be pasted as is.
    command = "/usr/bin/python3 scripts/bench.py " + " ".join(
        os.path.relpath(a, ROOT) if a.startswith(ROOT + os.sep) else a for a in sys.argv[1:])
    print_report(machine, results, bf16, split, command.strip())
    log(f"done in {time.time() - started:.0f} s")
    if args.jsonl:
        with open(args.jsonl, "w") as f:
            for record in [machine] + results + [x for x in (bf16, split) if x]:
                f.write(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
