#!/usr/bin/python3
"""Independent forward pass of a trained Keras model (.h5, or a Keras 3 .keras zip) in NumPy, from weights read
with h5py, compared with conv1d-reshape's --save-output on the same input.

Usage: /usr/bin/python3 scripts/check_keras_file.py BINARY MODEL.h5|MODEL.keras [--length N] [--input-scale S]
                                                    [--write-expected DIR]
--length: the length for a None length (passed to the tool too); default 64, plus what Cropping1D layers cut.
--input-scale: multiplies the random normal input (default 1), e.g. to keep a saturated sigmoid output informative.
--write-expected also writes DIR/<file stem>.input.npy (.input0.npy, .input1.npy, ... for several inputs, in the
model's input order) and DIR/<file stem>.output.npy (NumPy's output, float32) for tests/test_run_loop.cpp to
compare the tool's --save-output with.
Covers Sequential models and Functional graphs (walked in dependency order from inbound_nodes, Keras 2 and Keras 3
formats; several inputs are fed with --input NAME=FILE; one output; nested models evaluated in place) of Conv1D
(valid/same/causal, strides, dilation), MaxPooling1D, AveragePooling1D, Dense, Flatten, Dropout (and the other
inference no-ops), Activation, BatchNormalization, GlobalMax/AveragePooling1D, Reshape, Cropping1D, Embedding,
LSTM, GRU (reset_after or not), Bidirectional(LSTM) (.h5 only), TimeDistributed(Dense), Add, Subtract, Multiply,
Average, Maximum, Minimum, Concatenate. .keras weights are found by position as Keras 3 saves them:
layers/<snake_case class name>[_N]/vars/<i> (recurrent layers cell/vars), N counted per class in config order.
An input of rank 2 (batch, features) is one sample to the tool, so such models (and models with such an input
among several) get a batch of 1, others a batch of 2; an Embedding's input is random integer ids.
Prints the max abs difference and exits 1 when it is over 1e-4 relative to the output's scale, 2 when a layer or
structure is not covered, 3 when the tool fails on the input.
"""
import io, json, os, re, subprocess, sys, tempfile, zipfile
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

def lstm(x, w, c, keras3=False):
    """Keras LSTM, gates i, f, c, o; returns the sequence or the last step."""
    rec = recurrent_act(c.get("recurrent_activation", "sigmoid"), keras3)
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
    for j in range(k):
        y += xp[:, j * d:j * d + (out - 1) * s + 1:s] @ w[j]
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

def to_snake_case(name):
    """Keras' naming.to_snake_case, which names a layer's group in a .keras weights file."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()

def var_names(cls, c):
    """The variables Keras 3 saves for a layer class, in order (None: the class is not known here)."""
    bias = ["bias"] if c.get("use_bias", True) else []
    if cls in ("Conv1D", "Dense"):
        return ["kernel"] + bias
    if cls == "BatchNormalization":
        return (["gamma"] if c.get("scale", True) else []) + (["beta"] if c.get("center", True) else []) + \
            ["moving_mean", "moving_variance"]
    if cls in ("LSTM", "GRU", "SimpleRNN"):
        return ["kernel", "recurrent_kernel"] + bias
    if cls == "Embedding":
        return ["embeddings"]
    return None

class ZipScope:
    """Weights of one model level of a .keras file: layers/<snake_case class>[_N]/vars/<i>, the counter per
    class in the config's layer order; recurrent layers under cell/vars."""
    def __init__(self, group, layers):
        self.group, self.paths, used = group, {}, {}
        for l in layers:
            n = to_snake_case(l["class_name"])
            if n in used:
                used[n] += 1; n = f"{n}_{used[n]}"
            else:
                used[n] = 0
            self.paths[lname(l)] = n
    def get(self, l, part=None):
        cls, c = l["class_name"], l["config"]
        root = self.group["layers"] if "layers" in self.group else self.group["_layer_checkpoint_dependencies"]
        if self.paths[lname(l)] not in root:
            return {}
        g = root[self.paths[lname(l)]]
        if part:
            g = g[part]
        if "cell" in g:
            g = g["cell"]
        if "vars" not in g:
            return {}
        v = g["vars"]
        if len(v) == 0:
            return {}
        names = var_names(cls, c)
        if names is None or len(names) != len(v):
            raise KeyError(f"{cls} '{lname(l)}': {len(v)} variables, not known here")
        return {n: np.array(v[str(i)], dtype=np.float64) for i, n in enumerate(names)}
    def nested(self, l):
        root = self.group["layers"] if "layers" in self.group else self.group["_layer_checkpoint_dependencies"]
        cfg = l["config"]
        return ZipScope(root[self.paths[lname(l)]], cfg["layers"] if isinstance(cfg, dict) else cfg)

class H5Scope:
    """Weights of a .h5 file by layer name; `group` is the nested model holding them."""
    def __init__(self, f, group=None):
        self.f, self.group = f, group
    def get(self, l, part=None):
        name = l["config"]["name"]
        if (self.group or name) not in self.f["model_weights"]:
            return {}
        w = weights(self.f, name, self.group, part)
        if self.f["model_weights"].attrs.get("backend") in ("theano", b"theano") and \
                l["class_name"] in ("Conv1D", "Convolution1D"):  # Keras' convert_kernel on load
            w = dict(w, kernel=w["kernel"][::-1])
        return w
    def nested(self, l):
        return H5Scope(self.f, self.group or lname(l))

def lname(l):
    return l.get("name") or l["config"]["name"]

def sources(l):
    """The layers a Functional layer reads, as names in order (Keras 2 and Keras 3 inbound_nodes)."""
    nodes = l.get("inbound_nodes") or []
    if len(nodes) > 1:
        raise ValueError(f"layer '{lname(l)}' is called {len(nodes)} times; shared layers are not in this checker")
    if not nodes:
        return []
    node = nodes[0]
    if isinstance(node, dict):  # Keras 3: {"args": [tensor or [tensors]], "kwargs": {}}
        out = []
        def walk(a):
            if isinstance(a, dict) and a.get("class_name") == "__keras_tensor__":
                out.append(a["config"]["keras_history"][0])
            elif isinstance(a, (list, tuple)):
                for b in a:
                    walk(b)
        walk(node.get("args", []))
        return out
    return [n[0] for n in node]

def gru(x, w, c, keras3):
    rec = recurrent_act(c.get("recurrent_activation", "sigmoid"), keras3)
    act = ACT[c.get("activation", "tanh")]
    u = c["units"]
    if c.get("go_backwards"):
        x = x[:, ::-1]
    b = w.get("bias", np.zeros(3 * u))
    after = c.get("reset_after", keras3)
    bx, bh = (b[0], b[1]) if b.ndim == 2 else (b, np.zeros(3 * u))
    h = np.zeros((x.shape[0], u)); seq = []
    k, rk = w["kernel"], w["recurrent_kernel"]
    for t in range(x.shape[1]):
        mx = x[:, t] @ k + bx
        if after:
            mh = h @ rk + bh
            z = rec(mx[:, :u] + mh[:, :u]); r = rec(mx[:, u:2 * u] + mh[:, u:2 * u])
            hh = act(mx[:, 2 * u:] + r * mh[:, 2 * u:])
        else:
            z = rec(mx[:, :u] + h @ rk[:, :u]); r = rec(mx[:, u:2 * u] + h @ rk[:, u:2 * u])
            hh = act(mx[:, 2 * u:] + (r * h) @ rk[:, 2 * u:])
        h = z * h + (1 - z) * hh
        seq.append(h)
    return np.stack(seq, 1) if c.get("return_sequences") else h

def recurrent_act(name, keras3):
    if name == "hard_sigmoid":  # Keras 3: relu6(x + 3) / 6; Keras 2: clip(0.2 x + 0.5)
        return (lambda v: np.clip(v / 6 + 0.5, 0, 1)) if keras3 else (lambda v: np.clip(0.2 * v + 0.5, 0, 1))
    return ACT[name]

MERGE = {"Add": lambda xs: sum(xs), "Subtract": lambda xs: xs[0] - xs[1], "Multiply": lambda xs: np.prod(xs, 0),
         "Average": lambda xs: sum(xs) / len(xs), "Maximum": lambda xs: np.max(xs, 0),
         "Minimum": lambda xs: np.min(xs, 0)}

def layer(l, xs, scope, keras3):
    cls, c = l["class_name"], l["config"]
    if cls in MERGE:
        return MERGE[cls](xs)
    if cls == "Concatenate":
        return np.concatenate(xs, c.get("axis", -1))
    if cls in ("Sequential", "Functional", "Model"):
        return run(l, xs, scope.nested(l), keras3)
    assert len(xs) == 1, f"{cls} '{lname(l)}' reads {len(xs)} tensors"
    h = xs[0]
    if cls == "InputLayer" or cls.startswith("Dropout") or cls.startswith("SpatialDropout") or \
            cls in ("GaussianNoise", "GaussianDropout", "AlphaDropout"):
        return h
    w = scope.get(l)
    if cls == "TimeDistributed" and c["layer"]["class_name"] == "Dense":
        cls, c = "Dense", dict(c["layer"]["config"], name=c["name"])
        if keras3:
            w = scope.get(dict(l, class_name="Dense", config=c), "layer") if not w else w
    if cls in ("Conv1D", "Convolution1D"):
        return ACT[c.get("activation")](conv1d(h, w["kernel"], w.get("bias"), c))
    if cls == "Dense":
        return ACT[c.get("activation")](h @ w["kernel"] + w.get("bias", 0))
    if cls in ("MaxPooling1D", "MaxPool1D"):
        return pool(h, c, "max")
    if cls in ("AveragePooling1D", "AvgPool1D"):
        return pool(h, c, "avg")
    if cls == "Flatten":
        return h.reshape(h.shape[0], -1)
    if cls == "Activation":
        return ACT[c["activation"]](h)
    if cls == "GlobalMaxPooling1D":
        return h.max(1, keepdims=bool(c.get("keepdims")))
    if cls == "GlobalAveragePooling1D":
        return h.mean(1, keepdims=bool(c.get("keepdims")))
    if cls == "Reshape":
        return h.reshape([h.shape[0]] + list(c["target_shape"]))
    if cls == "Cropping1D":
        a, b = c.get("cropping", (1, 1)) if isinstance(c.get("cropping", (1, 1)), (list, tuple)) else (c["cropping"],) * 2
        return h[:, a:h.shape[1] - b]
    if cls == "Embedding":
        return w["embeddings"][h.astype(np.int64)]
    if cls == "LSTM":
        return lstm(h, w, c, keras3)
    if cls == "GRU":
        return gru(h, w, c, keras3)
    if cls == "Bidirectional" and c["layer"]["class_name"] == "LSTM" and c.get("merge_mode") == "concat" \
            and not keras3:
        inner = c["layer"]["config"]
        fwd = lstm(h, scope.get(l, "forward_" + inner["name"]), inner)
        bwd = lstm(h, scope.get(l, "backward_" + inner["name"]), dict(inner, go_backwards=True))
        return np.concatenate([fwd, bwd[:, ::-1] if inner.get("return_sequences") else bwd], -1)
    if cls == "BatchNormalization":
        g, b = w.get("gamma", 1.0), w.get("beta", 0.0)
        return (h - w["moving_mean"]) / np.sqrt(w["moving_variance"] + c.get("epsilon", 1e-3)) * g + b
    raise NotImplementedError(cls)

def model_inputs(model):
    """The model's input layers' names and shapes, in order."""
    cfg = model["config"]
    layers = cfg["layers"] if isinstance(cfg, dict) else cfg
    if model["class_name"] == "Sequential":
        for l in layers:
            shape = l["config"].get("batch_input_shape") or l["config"].get("batch_shape")
            if shape:
                return [(lname(l), shape)]
        if isinstance(cfg, dict) and cfg.get("build_input_shape"):
            return [("input", cfg["build_input_shape"])]
        raise ValueError("no input shape")
    by = {lname(l): l for l in layers}
    names = cfg["input_layers"]
    names = [names] if names and isinstance(names[0], str) else names
    out = []
    for n in names:
        c = by[n[0]]["config"]
        out.append((n[0], c.get("batch_input_shape") or c.get("batch_shape")))
    return out

def run(model, xs, scope, keras3):
    """A model's forward pass: a Sequential in order, a Functional graph in its config's (topological) order."""
    cfg = model["config"]
    layers = cfg["layers"] if isinstance(cfg, dict) else cfg
    if model["class_name"] == "Sequential":
        h = xs[0]
        for l in layers:
            h = layer(l, [h], scope, keras3)
        return h
    names = cfg["input_layers"]
    names = [names] if names and isinstance(names[0], str) else names
    vals = {n[0]: x for n, x in zip(names, xs)}
    pending = [l for l in layers if lname(l) not in vals]
    while pending:
        ready = [l for l in pending if all(s in vals for s in sources(l))]
        if not ready:
            raise ValueError("the graph has a cycle or an unknown source")
        for l in ready:
            vals[lname(l)] = layer(l, [vals[s] for s in sources(l)], scope, keras3)
        pending = [l for l in pending if l not in ready]
    outs = cfg["output_layers"]
    outs = [outs] if outs and isinstance(outs[0], str) else outs
    if len(outs) != 1:
        raise ValueError(f"{len(outs)} outputs; this checker compares one")
    return vals[outs[0][0]]

def main():
    binary, path = sys.argv[1], sys.argv[2]
    length = int(sys.argv[sys.argv.index("--length") + 1]) if "--length" in sys.argv else None
    input_scale = float(sys.argv[sys.argv.index("--input-scale") + 1]) if "--input-scale" in sys.argv else 1.0
    if zipfile.is_zipfile(path):  # Keras 3 .keras
        z = zipfile.ZipFile(path)
        model = json.loads(z.read("config.json"))
        f = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
        cfg = model["config"]
        scope, keras3 = ZipScope(f, cfg["layers"] if isinstance(cfg, dict) else cfg), True
    else:
        f = h5py.File(path, "r")
        model = json.loads(f.attrs["model_config"])
        scope, keras3 = H5Scope(f), False
    inputs = model_inputs(model)
    rng = np.random.default_rng(0)
    cfg = model["config"]
    layers = cfg["layers"] if isinstance(cfg, dict) else cfg
    embedding = {s for l in layers if l["class_name"] == "Embedding" for s in (sources(l) or [None])}
    if length is None and any(d is None for _, shape in inputs for d in shape[1:]):
        # a None length: the tool takes it from --length, given the same below; 64 beyond what Cropping1D cuts
        length = 64 + sum(sum(l["config"]["cropping"]) if isinstance(l["config"]["cropping"], list)
                          else 2 * l["config"]["cropping"] for l in layers if l["class_name"] == "Cropping1D")
    # a (batch, features) input is one sample to the tool; (batch, length, channels) takes a batch of 2
    batch = 1 if any(len(shape) == 2 for _, shape in inputs) else 2
    xs = []
    for name, shape in inputs:
        shape = [batch] + [length if d is None else d for d in shape[1:]]
        first = [l for l in layers if l["class_name"] == "Embedding"]
        if first and (model["class_name"] == "Sequential" or name in embedding):
            x = rng.integers(0, first[0]["config"]["input_dim"], shape).astype(np.float32)
        else:
            x = (rng.standard_normal(shape) * input_scale).astype(np.float32)
        xs.append((name, x))
    tmp = tempfile.mkdtemp()
    args = []
    for i, (name, x) in enumerate(xs):
        np.save(os.path.join(tmp, f"x{i}.npy"), x)
        args += ["--input", (f"{name}=" if len(xs) > 1 else "") + os.path.join(tmp, f"x{i}.npy")]
    out = os.path.join(tmp, "y.npy")
    try:
        h = run(model, [x.astype(np.float64) for _, x in xs], scope, keras3)
    except NotImplementedError as e:
        print(f"{path}: {e} is not in this checker; skipped")
        return 2
    except (ValueError, KeyError) as e:
        print(f"{path}: not in this checker: {e}")
        return 2
    run_ = subprocess.run([binary, path] + args + ["--save-output", out, "--repeats", "1", "--warmup", "0",
                           "--quiet"] + (["--length", str(length)] if length else []),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if run_.returncode != 0:
        print(f"{path}: the tool failed (exit {run_.returncode}): {run_.stderr.strip().splitlines()[-1]}")
        return 3
    got = np.load(out)
    if "--write-expected" in sys.argv:
        folder = sys.argv[sys.argv.index("--write-expected") + 1]
        stem = os.path.splitext(os.path.basename(path))[0]
        for i, (name, x) in enumerate(xs):
            np.save(os.path.join(folder, stem + (f".input{i}" if len(xs) > 1 else ".input") + ".npy"), x)
        np.save(os.path.join(folder, stem + ".output.npy"), h.astype(np.float32))
    if got.shape != h.shape and got.size == h.size:
        got = got.reshape(h.shape)
    diff = np.abs(got - h).max()
    scale = max(1.0, np.abs(h).max())
    print(f"{os.path.basename(path)}: output {list(got.shape)}, max |tool - numpy| = {diff:.3g} (scale {scale:.3g})")
    return 0 if diff <= 1e-4 * scale else 1

if __name__ == "__main__":
    sys.exit(main())
