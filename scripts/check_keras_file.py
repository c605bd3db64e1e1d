#!/usr/bin/python3
"""Independent forward pass of a trained Keras .h5 Sequential model in NumPy, from weights read with h5py,
compared with conv1d-reshape's output on the same input.

Usage: /usr/bin/python3 scripts/check_keras_file.py BINARY MODEL.h5 [--length N] [--write-expected DIR]
--write-expected also writes DIR/<file stem>.input.npy and DIR/<file stem>.output.npy (NumPy's output, float32)
for tests/test_run_loop.cpp to compare the tool's --save-output with.
Covers Sequential chains, and Functional models that are chains (each layer reads the one before; a nested
Sequential is inlined), of Conv1D (valid/same/causal, strides, dilation), MaxPooling1D, AveragePooling1D,
Dense, Flatten, Dropout, Activation, BatchNormalization, GlobalMax/AveragePooling1D, Reshape, LSTM,
Bidirectional(LSTM), TimeDistributed(Dense); prints the max abs difference and exits 1 when it is over 1e-4
relative to the output's scale (2 when a layer is not covered).
"""
import json, subprocess, sys, tempfile, os
import numpy as np
import h5py

ACT = {None: lambda x: x, "linear": lambda x: x, "relu": lambda x: np.maximum(x, 0), "tanh": np.tanh,
       "sigmoid": lambda x: 1 / (1 + np.exp(-x)), "softmax": lambda x: np.exp(x - x.max(-1, keepdims=True)) /
       np.exp(x - x.max(-1, keepdims=True)).sum(-1, keepdims=True), "elu": lambda x: np.where(x > 0, x, np.expm1(x))}

def one(v):
    return v[0] if isinstance(v, list) else v

def weights(f, name, group=None, part=None):
    """A layer's weights by short name; `group` is the nested model holding it, `part` a path component
    (forward_/backward_ half of a Bidirectional) the weight names must contain."""
    g = f["model_weights"][group or name]
    names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs.get("weight_names", [])]
    if group:
        names = [n for n in names if name in n.split("/")]
    if part:
        names = [n for n in names if part in n.split("/")]
    return {n.split("/")[-1].split(":")[0]: np.array(g[n], dtype=np.float64) for n in names}

def lstm(x, w, c):
    """Keras LSTM, gates i, f, c, o; returns the sequence or the last step."""
    rec = ACT[c.get("recurrent_activation", "sigmoid")] if c.get("recurrent_activation") != "hard_sigmoid" \
        else (lambda v: np.clip(0.2 * v + 0.5, 0, 1))
    act = ACT[c.get("activation", "tanh")]
    u = c["units"]
    if c.get("go_backwards"):
        x = x[:, ::-1]
    h = np.zeros((x.shape[0], u)); cell = np.zeros((x.shape[0], u)); seq = []
    for t in range(x.shape[1]):
        z = x[:, t] @ w["kernel"] + h @ w["recurrent_kernel"] + w.get("bias", 0)
        i, fg, g, o = rec(z[:, :u]), rec(z[:, u:2 * u]), act(z[:, 2 * u:3 * u]), rec(z[:, 3 * u:])
        cell = fg * cell + i * g
        h = o * act(cell)
        seq.append(h)
    return np.stack(seq, 1) if c.get("return_sequences") else h

def flat_layers(model):
    """The layers of a chain model, nested Sequential models inlined as (layer, group) pairs."""
    cfg = model["config"]
    layers = cfg["layers"] if isinstance(cfg, dict) else cfg
    out, prev = [], None
    for l in layers:
        nodes = l.get("inbound_nodes")
        if nodes is not None and model["class_name"] != "Sequential":
            srcs = [n[0] for node in nodes for n in node] if nodes else []
            if (prev is None and srcs) or (prev is not None and srcs != [prev]) or len(nodes) > 1:
                raise ValueError("not a chain")
        if l["class_name"] == "Sequential":
            name = l["config"].get("name", l.get("name"))
            out += [(inner, group or name) for inner, group in flat_layers(l)]
        else:
            out.append((l, None))
        prev = l.get("name", l["config"].get("name"))
    return out

def conv1d(x, w, b, cfg):
    k, s, d = one(cfg["kernel_size"]), one(cfg.get("strides", 1)), one(cfg.get("dilation_rate", 1))
    L, pad = x.shape[1], cfg.get("padding", "valid")
    dk = d * (k - 1) + 1
    if pad == "same":
        out = -(-L // s); total = max((out - 1) * s + dk - L, 0); left = total // 2; right = total - left
    elif pad == "causal":
        left, right = dk - 1, 0
    else:
        left = right = 0
    xp = np.pad(x, ((0, 0), (left, right), (0, 0)))
    out = (xp.shape[1] - dk) // s + 1
    y = np.zeros((x.shape[0], out, w.shape[2]))
    for o in range(out):
        for j in range(k):
            y[:, o] += xp[:, o * s + j * d] @ w[j]
    return y + (b if b is not None else 0)

def pool(x, cfg, kind):
    p = one(cfg.get("pool_size", 2)); s = one(cfg.get("strides") or p); L = x.shape[1]
    if cfg.get("padding", "valid") == "same":
        out = -(-L // s); total = max((out - 1) * s + p - L, 0); left = total // 2
    else:
        out, left = (L - p) // s + 1, 0
    y = np.zeros((x.shape[0], out, x.shape[2]))
    for o in range(out):
        lo, hi = max(o * s - left, 0), min(o * s - left + p, L)
        y[:, o] = x[:, lo:hi].max(1) if kind == "max" else x[:, lo:hi].mean(1)
    return y

def main():
    binary, path = sys.argv[1], sys.argv[2]
    length = int(sys.argv[sys.argv.index("--length") + 1]) if "--length" in sys.argv else None
    f = h5py.File(path, "r")
    model = json.loads(f.attrs["model_config"])
    try:
        layers = flat_layers(model)
    except ValueError:
        print(f"{path}: not a chain of layers; not in this checker")
        return 2
    shape = None
    for l, _ in layers:
        c = l["config"]
        shape = shape or c.get("batch_input_shape") or c.get("batch_shape")
    shape = [2] + [length if d is None else d for d in shape[1:]]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    tmp = tempfile.mkdtemp()
    np.save(os.path.join(tmp, "x.npy"), x)
    out = os.path.join(tmp, "y.npy")
    subprocess.run([binary, path, "--input", os.path.join(tmp, "x.npy"), "--save-output", out, "--repeats", "1",
                    "--warmup", "0", "--quiet"], check=True, stdout=subprocess.DEVNULL)
    got = np.load(out)
    h = x.astype(np.float64)
    for l, group in layers:
        cls, c = l["class_name"], l["config"]
        if cls == "InputLayer" or cls.startswith("Dropout"):
            continue
        w = weights(f, c["name"], group) if (group or c["name"]) in f["model_weights"] else {}
        if cls == "TimeDistributed" and c["layer"]["class_name"] == "Dense":
            cls, c = "Dense", dict(c["layer"]["config"], name=c["name"])
        if cls in ("Conv1D", "Convolution1D"):
            if f["model_weights"].attrs.get("backend") in ("theano", b"theano"):  # Keras' convert_kernel on load
                w = dict(w, kernel=w["kernel"][::-1])
            h = ACT[c.get("activation")](conv1d(h, w["kernel"], w.get("bias"), c))
        elif cls == "Dense":
            h = ACT[c.get("activation")](h @ w["kernel"] + w.get("bias", 0))
        elif cls in ("MaxPooling1D", "MaxPool1D"):
            h = pool(h, c, "max")
        elif cls in ("AveragePooling1D", "AvgPool1D"):
            h = pool(h, c, "avg")
        elif cls == "Flatten":
            h = h.reshape(h.shape[0], -1)
        elif cls == "Activation":
            h = ACT[c["activation"]](h)
        elif cls == "GlobalMaxPooling1D":
            h = h.max(1)
        elif cls == "GlobalAveragePooling1D":
            h = h.mean(1)
        elif cls == "Reshape":
            h = h.reshape([h.shape[0]] + list(c["target_shape"]))
        elif cls == "LSTM":
            h = lstm(h, w, c)
        elif cls == "Bidirectional" and c["layer"]["class_name"] == "LSTM" and c.get("merge_mode") == "concat":
            inner = c["layer"]["config"]
            fwd = lstm(h, weights(f, c["name"], group, "forward_" + inner["name"]), inner)
            bwd = lstm(h, weights(f, c["name"], group, "backward_" + inner["name"]), dict(inner, go_backwards=True))
            h = np.concatenate([fwd, bwd[:, ::-1] if inner.get("return_sequences") else bwd], -1)
        elif cls == "BatchNormalization":
            g, b = w.get("gamma", 1.0), w.get("beta", 0.0)
            h = (h - w["moving_mean"]) / np.sqrt(w["moving_variance"] + c.get("epsilon", 1e-3)) * g + b
        else:
            print(f"{path}: {cls} is not in this checker; skipped")
            return 2
    if "--write-expected" in sys.argv:
        folder = sys.argv[sys.argv.index("--write-expected") + 1]
        stem = os.path.splitext(os.path.basename(path))[0]
        np.save(os.path.join(folder, stem + ".input.npy"), x)
        np.save(os.path.join(folder, stem + ".output.npy"), h.astype(np.float32))
    diff = np.abs(got - h).max()
    scale = max(1.0, np.abs(h).max())
    print(f"{os.path.basename(path)}: output {list(got.shape)}, max |tool - numpy| = {diff:.3g} (scale {scale:.3g})")
    return 0 if diff <= 1e-4 * scale else 1

if __name__ == "__main__":
    sys.exit(main())
