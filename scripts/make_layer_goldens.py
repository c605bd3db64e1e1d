#!/usr/bin/python3
# Regenerates tests/fixtures/layers/: expected outputs of the SPEC §7 layer kinds and graphs, computed with Keras
# inference semantics in float64 (PyTorch/numpy), independently of the C++ code.
"""Usage: /usr/bin/python3 scripts/make_layer_goldens.py [FAMILY ...]   (Debian's python3-torch and numpy)

Fixture layout. One JSON file per family in tests/fixtures/layers/<family>.json:
  {"family": ..., "generator": "scripts/make_layer_goldens.py (torch X)", "cases": [case, ...]}   (one case a line)
and each case is
  {"id": str,
   "config":  a config in our own JSON format (SPEC §3, §7): named layers, optional "inputs" per layer,
              "input" (named `input`) or "inputs" {name: {"shape"}}, optional top-level "outputs",
   "inputs":  {input name: {"shape", "dtype": "float32"|"int32", "values": flat C order}},
   "weights": {weights key: {variable: {"shape", "values"}}} in Keras layout; the key is the layer name, or
              "<bidirectional name>/forward_<inner name>" and ".../backward_<inner name>" for the two sides of a
              bidirectional (the test writes DIR/<key>/<variable>.npy and runs with --weights DIR),
   "outputs": {output tensor name: {"shape", "values"}}: `name` for a layer's (first) output, `name:1`, `name:2`
              for the further outputs of an RNN with return_state or a bidirectional with merge_mode null}.
Inputs and weights are drawn from a generator seeded by the case id, rounded to 3 decimals and then to float32
(short, exact text); everything is computed in float64 on those exact values; outputs are stored as float32
(shortest round-trip repr).

How each family is computed (formulas written from the Keras 3 definitions in notes/REAL-MODELS.md §1–2; the
interpreter below walks the config's graph itself: a layer reads the layer before it or its "inputs"):
- core: dense = act(x·kernel + bias) contracting the last axis (rank 2 and 3); flatten = C-order reshape
  of the tensor as the user holds it ((B, C, L) under channels_first, as PyTorch and Keras' default Flatten); dropout-family layers are identity;
  repeat_vector; time_distributed(dense) = dense on every step; embedding = embeddings[ids].
- normalization: batch_normalization with moving statistics on `axis`, (x − mean)·gamma/sqrt(var + eps) + beta
  (checked against torch BatchNorm1d in eval mode); layer_normalization over `axis` with the biased variance
  (checked against torch layer_norm; axis [1, 2] normalises each sample over length and channels, gamma/beta (L, C));
  return_statistics adds the mean and 1/sqrt(var + eps) with the normalised axes kept as 1. Cases after conv1d/dense (the tool may fold there), after an activation or
  a pooling (it may not), before a 'same' conv, and with center/scale off.
- global_pooling, padding_cropping: reductions over the length axis; zero padding and cropping of steps.
- depthwise_separable: explicit windows (TF 'same': left = total // 2) and einsum, output channel c·M + m;
  checked against torch conv1d with groups = Cin (+ a 1×1 conv for separable) and 'same' against torch's own.
- activation_layers: relu (Keras' ReLU.static_call code path: threshold, max_value, negative_slope), leaky_relu,
  prelu (alpha of shape input_shape[1:] with shared axes set to 1), elu, softmax over `axis`.
- activations: every Keras 3 activation name (K3 formulas: gelu exact erf, hard_sigmoid = relu6(x + 3)/6,
  leaky_relu slope 0.2, selu constants) as an `activation` layer and as the `activation` key of conv1d and dense;
  each formula is checked against torch.nn.functional where torch has it.
- merge: add/subtract/multiply/average/maximum/minimum with numpy broadcasting after Keras' rank fix (the lower
  rank input gets axes inserted at 1), concatenate on `axis`.
- graph: residual, inception, gated (WaveNet), squeeze-excitation, several inputs and outputs, shared layers
  ({"type": "shared", "layer": <first>}: the same weights).
- recurrent, bidirectional: outputs from torch nn.LSTM / nn.GRU / nn.RNN after converting the Keras weights —
  LSTM: Keras blocks i,f,c,o = torch i,f,g,o, so weight_ih = kernel.T, weight_hh = recurrent_kernel.T,
  bias_ih = bias, bias_hh = 0; GRU reset_after=True: Keras blocks z,r,h → torch r,z,n (blocks reordered),
  bias_ih = bias[0], bias_hh = bias[1], and torch's n = tanh(W_in x + b_in + r·(W_hn h + b_hn)),
  h' = (1 − z)·n + z·h is Keras' reset_after=True cell; SimpleRNN: nn.RNN tanh/relu. Each torch result is also
  checked against the Keras cell written out by hand in float64; GRU reset_after=False and any non-default
  (recurrent_)activation use that hand recurrence only. go_backwards: run on x reversed in time, sequence left in
  processing order; bidirectional: backward copy with go_backwards flipped, its sequence reversed back before
  the merge; return_state appends h (and c): forward states, then backward ones.
- peephole: lstm with `peepholes` (ONNX LSTM's P): the peephole step written out in numpy float64 (i and f see
  c_{t-1}, o the new c_t; `peephole` rows i, f, o); with zero peepholes it is checked against the plain cell.
- pytorch_padding, pytorch_transpose, pytorch_pooling, pytorch_upsample (scripts/pytorch_settings_goldens.py):
  the PyTorch settings of native configs — padding_mode (F.pad reflect/replicate/circular, checked against
  nn.Conv1d(padding_mode=...)), ConvTranspose1d padding/output_padding (F.conv_transpose1d, checked against a
  scatter), MaxPool1d/AvgPool1d padding, ceil_mode, count_include_pad, dilation (checked against the windows by
  index), Upsample linear with align_corners (F.interpolate and nn.Upsample).
- channels_first: tensors stay (B, C, L) as the user sees them; conv/pool run on the length axis; flatten
  reads (B, C, L) in row-major order; global pooling reduces axis 2;
  batch_normalization axis=1 normalizes the channels.
"""
import json
import math
import os
import sys
import warnings
import zlib

import numpy as np
import torch
import torch.nn.functional as F

import pytorch_settings_goldens as pts

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "layers")
GENERATOR = "scripts/make_layer_goldens.py (torch %s)" % torch.__version__

KERAS_ACTIVATIONS = ["linear", "relu", "tanh", "sigmoid", "gelu", "elu", "swish", "silu", "softmax", "log_softmax",
                     "relu6", "leaky_relu", "selu", "softplus", "softsign", "hard_sigmoid", "hard_silu",
                     "hard_swish", "exponential", "mish"]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


# ---- numbers ----

def f32(values):
    """Rounds to 3 decimals, then to float32: short JSON text that parses to the same float32 in C++."""
    return np.round(np.asarray(values, dtype=np.float64), 3).astype(np.float32)


def to64(array):
    return torch.from_numpy(np.asarray(array, dtype=np.float64).copy())


def json_floats(array32):
    # repr of a float32 is its shortest round-trip text; parsing it back as a Python float keeps that text.
    return [float(repr(np.float32(v))) for v in np.asarray(array32, dtype=np.float32).ravel()]


# ---- Keras activations (K3 backend/numpy/nn.py) ----

def hard_sigmoid(x):
    return torch.clamp(x / 6.0 + 0.5, 0.0, 1.0)  # Keras 3: relu6(x + 3) / 6


def softplus(x):
    return torch.logaddexp(x, torch.zeros_like(x))  # log(1 + e^x) without overflow


def softmax(x, axis=-1):
    e = torch.exp(x - x.amax(dim=axis, keepdim=True))
    return e / e.sum(dim=axis, keepdim=True)


def activate(name, x):
    if name in (None, "linear"):
        return x
    if name == "relu":
        return torch.clamp(x, min=0.0)
    if name == "tanh":
        return torch.tanh(x)
    if name == "sigmoid":
        return 1.0 / (1.0 + torch.exp(-x))
    if name == "gelu":  # keras.activations.gelu(approximate=False)
        return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    if name == "elu":
        return torch.where(x >= 0, x, torch.expm1(x))
    if name in ("swish", "silu"):
        return x / (1.0 + torch.exp(-x))
    if name == "softmax":
        return softmax(x, -1)
    if name == "log_softmax":
        m = x.amax(dim=-1, keepdim=True)
        return x - m - torch.log(torch.exp(x - m).sum(dim=-1, keepdim=True))
    if name == "relu6":
        return torch.clamp(x, 0.0, 6.0)
    if name == "leaky_relu":  # the function's default slope is 0.2 (the LeakyReLU layer's is 0.3)
        return torch.where(x >= 0, x, 0.2 * x)
    if name == "selu":
        return SELU_SCALE * torch.where(x > 0, x, SELU_ALPHA * torch.expm1(x))
    if name == "softplus":
        return softplus(x)
    if name == "softsign":
        return x / (1.0 + torch.abs(x))
    if name == "hard_sigmoid":
        return hard_sigmoid(x)
    if name in ("hard_silu", "hard_swish"):
        return x * hard_sigmoid(x)
    if name == "exponential":
        return torch.exp(x)
    if name == "mish":
        return x * torch.tanh(softplus(x))
    raise ValueError(name)


def check_activations():
    x = torch.linspace(-7, 7, 1001, dtype=torch.float64).reshape(7, 11, 13)
    torch_forms = {
        "relu": F.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "gelu": F.gelu, "elu": F.elu,
        "swish": F.silu, "silu": F.silu, "softmax": lambda v: F.softmax(v, -1),
        "log_softmax": lambda v: F.log_softmax(v, -1), "relu6": F.relu6,
        "leaky_relu": lambda v: F.leaky_relu(v, 0.2), "selu": F.selu, "softplus": lambda v: F.softplus(v),
        "softsign": F.softsign, "hard_sigmoid": F.hardsigmoid, "hard_silu": F.hardswish,
        "hard_swish": F.hardswish, "exponential": torch.exp, "mish": F.mish, "linear": lambda v: v,
    }
    for name in KERAS_ACTIVATIONS:
        assert torch.allclose(activate(name, x), torch_forms[name](x), rtol=1e-12, atol=1e-12), name


# ---- windows (TF/Keras padding rules, SPEC §3) ----

def ceil_div(a, b):
    return -(-a // b)


def conv_pads(length, k, s, d, padding):
    dk = d * (k - 1) + 1
    if padding == "valid":
        return 0, 0, ceil_div(length - dk + 1, s)
    if padding == "same":
        out = ceil_div(length, s)
        total = max((out - 1) * s + dk - length, 0)
        return total // 2, total - total // 2, out  # TF: the odd step goes on the right
    if padding == "causal":
        return dk - 1, 0, ceil_div(length, s)
    left, right = (padding, padding) if isinstance(padding, int) else padding
    return left, right, (length + left + right - dk) // s + 1


def windows(x, k, s, d, padding, fill=0.0):
    """(B, L, C) → (B, Lout, k, C): the k input steps each output step reads, padding filled with `fill`."""
    b, length, c = x.shape
    left, right, out = conv_pads(length, k, s, d, padding)
    xp = torch.cat([torch.full((b, left, c), fill, dtype=x.dtype), x, torch.full((b, right, c), fill, dtype=x.dtype)], 1)
    idx = torch.arange(out)[:, None] * s + torch.arange(k)[None, :] * d
    assert out >= 1 and int(idx.max()) < xp.shape[1]
    return xp[:, idx, :]


def check_same_padding():
    """TF 'same' (left = total // 2) equals torch's padding='same' at stride 1, for odd and even K'."""
    g = torch.Generator().manual_seed(1)
    warnings.filterwarnings("ignore", message="Using padding='same' with even kernel")  # torch copies; harmless
    for k, d in ((2, 1), (3, 1), (4, 1), (2, 3), (4, 2)):
        x = torch.randn(2, 9, 3, generator=g, dtype=torch.float64)
        w = torch.randn(k, 3, 4, generator=g, dtype=torch.float64)
        ours = torch.einsum("bjtc,tcf->bjf", windows(x, k, 1, d, "same"), w)
        ref = F.conv1d(x.permute(0, 2, 1), w.permute(2, 1, 0), padding="same", dilation=d).permute(0, 2, 1)
        assert torch.allclose(ours, ref, atol=1e-12), (k, d)


# ---- the case being built ----

class Case:
    def __init__(self, case_id):
        self.id = case_id
        self.rng = np.random.default_rng(zlib.crc32(case_id.encode()))
        self.weights = {}  # key → {variable: float32 array}; a shared layer finds its first call's arrays here

    def uniform(self, shape, low, high):
        return f32(self.rng.uniform(low, high, size=shape))

    def var(self, key, name, shape, low, high):
        layer = self.weights.setdefault(key, {})
        if name not in layer:
            layer[name] = self.uniform(shape, low, high)
        assert list(layer[name].shape) == list(shape), (key, name, layer[name].shape, shape)
        return to64(layer[name])

    def kernel(self, key, name, shape, fan_in):
        scale = 1.5 / math.sqrt(fan_in)  # keeps outputs O(1) so activations see both signs
        return self.var(key, name, shape, -scale, scale)

    def bias(self, key, shape, name="bias"):
        return self.var(key, name, shape, -0.5, 0.5)


# ---- layers; every tensor held as the user sees it (the config's data format) ----

def cl(x, cf):
    """(B, C, L) → (B, L, C) under channels_first; unchanged otherwise (rank 3 only)."""
    return x.permute(0, 2, 1) if cf and x.dim() == 3 else x


def dense(case, key, x, layer):
    units, use_bias = layer["units"], layer.get("use_bias", True)
    kernel = case.kernel(key, "kernel", (x.shape[-1], units), x.shape[-1])
    y = torch.tensordot(x, kernel, dims=([x.dim() - 1], [0]))
    if use_bias:
        y = y + case.bias(key, (units,))
    return activate(layer.get("activation", "linear"), y)


def mode_windows(x, k, s, d, padding, mode):
    """windows() with the padded steps filled as padding_mode says (PyTorch F.pad reflect/replicate/circular)."""
    if mode == "zeros":
        return windows(x, k, s, d, padding)
    left, right, _ = conv_pads(x.shape[1], k, s, d, padding)
    return windows(pts.pad_steps(x, left, right, mode), k, s, d, "valid")


def conv1d(case, key, x, layer, cf):
    x = cl(x, cf)
    k, s, d = layer["kernel_size"], layer.get("strides", 1), layer.get("dilation_rate", 1)
    filters, cin = layer["filters"], x.shape[2]
    assert layer.get("groups", 1) == 1
    kernel = case.kernel(key, "kernel", (k, cin, filters), k * cin)
    padding, mode = layer.get("padding", "valid"), layer.get("padding_mode", "zeros")
    y = torch.einsum("bjtc,tcf->bjf", mode_windows(x, k, s, d, padding, mode), kernel)
    bias = case.bias(key, (filters,)) if layer.get("use_bias", True) else None
    if bias is not None:
        y = y + bias
    if isinstance(padding, int):  # torch's own module with padding_mode agrees
        pts.check_conv_module(x, kernel, bias, k, s, d, padding, mode, y)
    return cl(activate(layer.get("activation", "linear"), y), cf)


def conv1d_transpose(case, key, x, layer, cf):
    """Only PyTorch-style explicit padding here (the Keras valid/same rules are covered by tests/test_golden)."""
    x = cl(x, cf)
    k, s, d = layer["kernel_size"], layer.get("strides", 1), layer.get("dilation_rate", 1)
    filters, cin = layer["filters"], x.shape[2]
    kernel = case.kernel(key, "kernel", (k, filters, cin), k * cin)
    bias = case.bias(key, (filters,)) if layer.get("use_bias", True) else None
    y = pts.conv_transpose(x, kernel, bias, s, d, layer["padding"], layer.get("output_padding") or 0)
    return cl(activate(layer.get("activation", "linear"), y), cf)


def depthwise(case, key, var, x, layer):
    k, s, d = layer["kernel_size"], layer.get("strides", 1), layer.get("dilation_rate", 1)
    m, cin = layer.get("depth_multiplier", 1), x.shape[2]
    kernel = case.kernel(key, var, (k, cin, m), k)
    padding, mode = layer.get("padding", "valid"), layer.get("padding_mode", "zeros")
    y = torch.einsum("bjtc,tcm->bjcm", mode_windows(x, k, s, d, padding, mode), kernel).reshape(x.shape[0], -1, cin * m)
    # Same thing as a grouped convolution (groups = Cin, weight[c·M + m, 0, t] = kernel[t, c, m]).
    left, right, _ = conv_pads(x.shape[1], k, s, d, padding)
    ref = F.conv1d(pts.pad_steps(x, left, right, mode).permute(0, 2, 1), kernel.permute(1, 2, 0).reshape(cin * m, 1, k),
                   stride=s, dilation=d, groups=cin).permute(0, 2, 1)
    assert torch.allclose(y, ref, atol=1e-12)
    return y


def depthwise_conv1d(case, key, x, layer):
    y = depthwise(case, key, "kernel", x, layer)  # Keras 3 names the variable `kernel`
    if layer.get("use_bias", True):
        y = y + case.bias(key, (y.shape[2],))
    return activate(layer.get("activation", "linear"), y)


def separable_conv1d(case, key, x, layer):
    dw = depthwise(case, key, "depthwise_kernel", x, layer)
    filters = layer["filters"]
    pointwise = case.kernel(key, "pointwise_kernel", (1, dw.shape[2], filters), dw.shape[2])
    y = torch.einsum("bjc,cf->bjf", dw, pointwise[0])
    assert torch.allclose(y, F.conv1d(dw.permute(0, 2, 1), pointwise.permute(2, 1, 0)).permute(0, 2, 1), atol=1e-12)
    if layer.get("use_bias", True):
        y = y + case.bias(key, (filters,))
    return activate(layer.get("activation", "linear"), y)


PYTORCH_POOL_KEYS = ("ceil_mode", "count_include_pad", "dilation_rate")


def pool1d(x, layer, kind, cf):
    x = cl(x, cf)
    p = layer.get("pool_size", 2)
    s = layer.get("strides", p)
    padding = layer.get("padding", "valid")
    if not isinstance(padding, str) or any(key in layer for key in PYTORCH_POOL_KEYS):
        left, right, _ = conv_pads(x.shape[1], p, s, layer.get("dilation_rate", 1), padding)
        return cl(pts.pool(x, layer, kind, (left, right)), cf)
    if kind == "max":
        y = windows(x, p, s, 1, padding, fill=-math.inf).amax(2)
    else:
        real = windows(torch.ones(1, x.shape[1], 1, dtype=x.dtype), p, s, 1, padding).sum(2)
        y = windows(x, p, s, 1, padding).sum(2) / real  # Keras divides by the steps inside the input
    return cl(y, cf)


def channel_axis_vars(x, axis):
    axes = [axis] if isinstance(axis, int) else list(axis)
    axes = sorted(a % x.dim() for a in axes)
    shape = [x.shape[a] for a in axes]
    bshape = [x.shape[a] if a in axes else 1 for a in range(x.dim())]
    return axes, shape, bshape


def batch_normalization(case, key, x, layer):
    axes, shape, bshape = channel_axis_vars(x, layer.get("axis", -1))
    eps = layer.get("epsilon", 1e-3)
    gamma = case.var(key, "gamma", shape, -1.5, 1.5) if layer.get("scale", True) else None
    beta = case.var(key, "beta", shape, -0.8, 0.8) if layer.get("center", True) else None
    mean = case.var(key, "moving_mean", shape, -0.6, 0.6)
    variance = case.var(key, "moving_variance", shape, 0.05, 2.0)
    y = (x - mean.reshape(bshape)) / torch.sqrt(variance.reshape(bshape) + eps)
    if gamma is not None:
        y = y * gamma.reshape(bshape)
    if beta is not None:
        y = y + beta.reshape(bshape)
    if len(axes) == 1 and x.dim() in (2, 3):  # torch BatchNorm1d takes (N, C) or (N, C, L)
        bn = torch.nn.BatchNorm1d(shape[0], eps=eps).double().eval()
        with torch.no_grad():
            bn.running_mean.copy_(mean)
            bn.running_var.copy_(variance)
            bn.weight.copy_(gamma if gamma is not None else torch.ones(shape[0], dtype=torch.float64))
            bn.bias.copy_(beta if beta is not None else torch.zeros(shape[0], dtype=torch.float64))
            moved = x.movedim(axes[0], 1)
            ref = bn(moved).movedim(1, axes[0])
        assert torch.allclose(y, ref, atol=1e-12)
    return y


def layer_normalization(case, key, x, layer):
    axes, shape, bshape = channel_axis_vars(x, layer.get("axis", -1))
    eps = layer.get("epsilon", 1e-3)
    gamma = case.var(key, "gamma", shape, -1.5, 1.5) if layer.get("scale", True) else None
    beta = case.var(key, "beta", shape, -0.8, 0.8) if layer.get("center", True) else None
    mean = x.mean(dim=axes, keepdim=True)
    variance = ((x - mean) ** 2).mean(dim=axes, keepdim=True)  # biased
    y = (x - mean) / torch.sqrt(variance + eps)
    if gamma is not None:
        y = y * gamma.reshape(bshape)
    if beta is not None:
        y = y + beta.reshape(bshape)
    if axes == list(range(x.dim() - len(axes), x.dim())):
        ref = F.layer_norm(x, shape, None if gamma is None else gamma.reshape(shape),
                           None if beta is None else beta.reshape(shape), eps)
        assert torch.allclose(y, ref, atol=1e-12)
    if layer.get("return_statistics", False):
        # ONNX LayerNormalization's Mean and InvStdDev: the input's shape with the normalised axes kept as 1.
        inv = 1.0 / torch.sqrt(variance + eps)
        assert torch.allclose(inv, torch.rsqrt(x.var(dim=axes, unbiased=False, keepdim=True) + eps), atol=1e-12)
        return [y, mean, inv]
    return y


def relu_layer(x, layer):
    """Keras 3 ReLU.static_call, step by step."""
    max_value, slope, threshold = layer.get("max_value"), layer.get("negative_slope", 0.0), layer.get("threshold", 0.0)
    if slope != 0.0 and max_value is None and threshold == 0:
        return torch.where(x >= 0, x, slope * x)
    negative = torch.clamp(threshold - x, min=0.0) if slope != 0.0 else None
    if threshold != 0:
        y = x * (x > threshold).to(x.dtype)
    else:
        y = torch.clamp(x, min=0.0)
    if max_value is not None:
        y = torch.clamp(y, 0.0, max_value)
    if slope != 0.0:
        y = y - slope * negative
    return y


def prelu(case, key, x, layer):
    shape = list(x.shape[1:])
    for a in layer.get("shared_axes") or []:
        shape[a - 1] = 1
    alpha = case.var(key, "alpha", shape, -0.3, 0.8)
    return torch.clamp(x, min=0.0) - alpha * torch.clamp(-x, min=0.0)


def merge(kind, xs, layer):
    if kind == "concatenate":
        return torch.cat(xs, dim=layer.get("axis", -1))
    rank = max(x.dim() for x in xs)
    fixed = []
    for x in xs:
        while x.dim() < rank:
            x = x.unsqueeze(1)  # Keras' base_merge: expand_dims(x, 1) until the ranks agree
        fixed.append(x)
    if kind == "subtract":
        assert len(fixed) == 2
        return fixed[0] - fixed[1]
    y = fixed[0]
    for x in fixed[1:]:
        y = {"add": torch.add, "multiply": torch.mul, "average": torch.add,
             "maximum": torch.maximum, "minimum": torch.minimum}[kind](y, x)
    return y / len(fixed) if kind == "average" else y


# ---- recurrent layers ----

GATES = {"lstm": 4, "gru": 3, "simple_rnn": 1}


def rnn_weights(case, key, layer, kind, features):
    units, g = layer["units"], GATES[kind]
    w = {"kernel": case.var(key, "kernel", (features, g * units), -1.2 / math.sqrt(features), 1.2 / math.sqrt(features)),
         "recurrent_kernel": case.var(key, "recurrent_kernel", (units, g * units),
                                      -1.0 / math.sqrt(units), 1.0 / math.sqrt(units))}
    reset_after = kind == "gru" and layer.get("reset_after", True)
    if layer.get("use_bias", True):
        w["bias"] = case.var(key, "bias", (2, g * units) if reset_after else (g * units,), -0.6, 0.6)
    if kind == "lstm" and layer.get("peepholes", False):
        w["peephole"] = case.var(key, "peephole", (3, units), -0.9, 0.9)  # rows i, f, o
    return w


NP_ACTIVATIONS = {"tanh": np.tanh, "sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)),
                  "hard_sigmoid": lambda v: np.clip(v / 6.0 + 0.5, 0.0, 1.0)}  # Keras 3's hard_sigmoid


def peephole_lstm_run(layer, w, x):
    """The peephole LSTM (ONNX LSTM with P; oneDNN's peephole LSTM) in numpy float64, over x (B, T, I) in
    the order given, Keras gate blocks i, f, c, o and peephole rows i, f, o:
      i = ra(x·Wi + h·Ui + bi + Pi*c_prev), f = ra(x·Wf + h·Uf + bf + Pf*c_prev), c = f*c_prev + i*a(x·Wc + h·Uc + bc),
      o = ra(x·Wo + h·Uo + bo + Po*c)   (o sees the new c),   h = o*a(c).
    Returns the per-step outputs (B, T, H) and the final (h, c) as torch tensors."""
    units = layer["units"]
    act = NP_ACTIVATIONS[layer.get("activation", "tanh")]
    ract = NP_ACTIVATIONS[layer.get("recurrent_activation", "sigmoid")]
    xs = x.numpy().astype(np.float64)
    k, rk = w["kernel"].numpy(), w["recurrent_kernel"].numpy()
    bias = w["bias"].numpy() if "bias" in w else np.zeros(4 * units)
    p_i, p_f, p_o = w["peephole"].numpy()
    b, steps, _ = xs.shape
    h, c = np.zeros((b, units)), np.zeros((b, units))
    outs = []
    for t in range(steps):
        z = xs[:, t] @ k + h @ rk + bias
        zi, zf, zc, zo = (z[:, n * units:(n + 1) * units] for n in range(4))
        i = ract(zi + p_i * c)
        f = ract(zf + p_f * c)
        c = f * c + i * act(zc)
        o = ract(zo + p_o * c)
        h = o * act(c)
        outs.append(h)
    return torch.from_numpy(np.stack(outs, 1)), (torch.from_numpy(h), torch.from_numpy(c))


def keras_cell_run(kind, layer, w, x):
    """The Keras cell written out (K3 lstm.py / gru.py / simple_rnn.py), over x (B, T, I) in the order given.
    Returns the per-step outputs (B, T, H) and the final states."""
    units = layer["units"]
    act = lambda v: activate(layer.get("activation", "tanh"), v)
    ract = lambda v: activate(layer.get("recurrent_activation", "sigmoid"), v)
    b, steps, _ = x.shape
    k, rk = w["kernel"], w["recurrent_kernel"]
    bias = w.get("bias")
    h = torch.zeros(b, units, dtype=torch.float64)
    c = torch.zeros(b, units, dtype=torch.float64)
    outs = []
    for t in range(steps):
        xt = x[:, t]
        if kind == "lstm":
            z = xt @ k + h @ rk + (bias if bias is not None else 0)
            i, f, cc, o = (z[:, n * units:(n + 1) * units] for n in range(4))
            c = ract(f) * c + ract(i) * act(cc)
            h = ract(o) * act(c)
        elif kind == "gru":
            reset_after = layer.get("reset_after", True)
            if bias is None:
                b_in = b_rec = torch.zeros(3 * units, dtype=torch.float64)
            elif reset_after:
                b_in, b_rec = bias[0], bias[1]
            else:
                b_in, b_rec = bias, torch.zeros(3 * units, dtype=torch.float64)
            xz = xt @ k + b_in
            blk = lambda v, n: v[:, n * units:(n + 1) * units]
            rz = h @ rk[:, :2 * units]
            z = ract(blk(xz, 0) + blk(rz, 0) + blk(b_rec[None], 0))
            r = ract(blk(xz, 1) + blk(rz, 1) + blk(b_rec[None], 1))
            if reset_after:
                hh = act(blk(xz, 2) + r * (h @ rk[:, 2 * units:] + b_rec[2 * units:]))
            else:
                hh = act(blk(xz, 2) + (r * h) @ rk[:, 2 * units:])
            h = z * h + (1 - z) * hh
        else:
            h = act(xt @ k + (bias if bias is not None else 0) + h @ rk)
        outs.append(h)
    return torch.stack(outs, 1), (h, c)


def torch_rnn_run(kind, layer, w, x):
    """The same run through torch's nn.LSTM / nn.GRU / nn.RNN with the Keras weights converted; None when torch
    has no such cell (GRU reset_after=False, other activations)."""
    units, features = layer["units"], x.shape[2]
    act, ract = layer.get("activation", "tanh"), layer.get("recurrent_activation", "sigmoid")
    bias = w.get("bias")
    zeros = lambda n: torch.zeros(n, dtype=torch.float64)
    if kind == "lstm":
        if act != "tanh" or ract != "sigmoid":
            return None
        m = torch.nn.LSTM(features, units, batch_first=True).double()
        # Keras column blocks i, f, c, o = torch row blocks i, f, g, o.
        params = (w["kernel"].T, w["recurrent_kernel"].T, bias if bias is not None else zeros(4 * units), zeros(4 * units))
    elif kind == "gru":
        if act != "tanh" or ract != "sigmoid" or not layer.get("reset_after", True):
            return None
        m = torch.nn.GRU(features, units, batch_first=True).double()
        order = lambda v: torch.cat([v[..., units:2 * units], v[..., :units], v[..., 2 * units:]], -1)  # zrh → rzn
        b_in = bias[0] if bias is not None else zeros(3 * units)
        b_rec = bias[1] if bias is not None else zeros(3 * units)
        params = (order(w["kernel"]).T, order(w["recurrent_kernel"]).T, order(b_in), order(b_rec))
    else:
        if act not in ("tanh", "relu"):
            return None
        m = torch.nn.RNN(features, units, nonlinearity=act, batch_first=True).double()
        params = (w["kernel"].T, w["recurrent_kernel"].T, bias if bias is not None else zeros(units), zeros(units))
    with torch.no_grad():
        for p, v in zip((m.weight_ih_l0, m.weight_hh_l0, m.bias_ih_l0, m.bias_hh_l0), params):
            p.copy_(v.contiguous())
        y, state = m(x)
    if kind == "lstm":
        return y, (state[0][0], state[1][0])
    return y, (state[0], None)


def rnn_direction(kind, layer, w, x, backwards):
    """One direction of a Keras RNN: the sequence in processing order and the final states."""
    xs = x.flip(1) if backwards else x
    if kind == "lstm" and layer.get("peepholes", False):
        seq, (h, c) = peephole_lstm_run(layer, w, xs)
        return seq, h, c
    seq, (h, c) = keras_cell_run(kind, layer, w, xs)
    via_torch = torch_rnn_run(kind, layer, w, xs)
    if via_torch is not None:
        tseq, (th, tc) = via_torch
        assert torch.allclose(seq, tseq, atol=1e-12) and torch.allclose(h, th, atol=1e-12)
        if kind == "lstm":
            assert torch.allclose(c, tc, atol=1e-12)
        seq, h, c = tseq, th, (tc if kind == "lstm" else c)
    return seq, h, c


def rnn_layer(case, key, x, layer, kind):
    w = rnn_weights(case, key, layer, kind, x.shape[2])
    seq, h, c = rnn_direction(kind, layer, w, x, layer.get("go_backwards", False))
    out = seq if layer.get("return_sequences", False) else h
    if not layer.get("return_state", False):
        return out
    return [out, h, c] if kind == "lstm" else [out, h]


def bidirectional(case, key, x, layer):
    inner = layer["layer"]
    kind = inner["type"]
    fw_key, bw_key = f"{key}/forward_{inner['name']}", f"{key}/backward_{inner['name']}"
    wf = rnn_weights(case, fw_key, inner, kind, x.shape[2])
    wb = rnn_weights(case, bw_key, inner, kind, x.shape[2])
    backwards = inner.get("go_backwards", False)
    fseq, fh, fc = rnn_direction(kind, inner, wf, x, backwards)
    bseq, bh, bc = rnn_direction(kind, inner, wb, x, not backwards)
    if inner.get("return_sequences", False):
        y, y_rev = fseq, bseq.flip(1)  # the backward sequence back in input order
    else:
        y, y_rev = fh, bh
    mode = layer.get("merge_mode", "concat")
    if mode == "concat":
        outs = [torch.cat([y, y_rev], -1)]
    elif mode == "sum":
        outs = [y + y_rev]
    elif mode == "ave":
        outs = [(y + y_rev) / 2]
    elif mode == "mul":
        outs = [y * y_rev]
    else:
        assert mode is None
        outs = [y, y_rev]
    if inner.get("return_state", False):
        outs += [fh, fc, bh, bc] if kind == "lstm" else [fh, bh]
    return outs[0] if len(outs) == 1 else outs


# ---- the graph walk ----

def run_layer(case, layer, xs, cf, layers_by_name):
    t, key = layer["type"], layer["name"]
    if t == "shared":
        first = layers_by_name[layer["layer"]]
        return run_layer(case, first, xs, cf, layers_by_name)  # the first call's name: its weights
    if t in ("add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate"):
        return merge(t, xs, layer)
    (x,) = xs
    if cf and t not in ("conv1d", "conv1d_transpose", "upsample1d", "max_pool1d", "avg_pool1d", "global_max_pool1d", "global_avg_pool1d", "flatten",
                        "dense", "batch_normalization", "activation"):
        raise ValueError(f"{t} under channels_first is not covered here")
    if t == "dense":
        return dense(case, key, x, layer)
    if t == "conv1d":
        return conv1d(case, key, x, layer, cf)
    if t == "conv1d_transpose":
        return conv1d_transpose(case, key, x, layer, cf)
    if t == "upsample1d":
        return cl(pts.upsample(cl(x, cf), layer), cf)
    if t == "time_distributed":
        assert layer["layer"]["type"] == "dense" and x.dim() == 3
        return dense(case, key, x, layer["layer"])  # weights under the wrapper's name
    if t == "flatten":
        # Flatten() keeps the tensor's own order: (B, C, L) row-major under channels_first, as Keras' default
        # Flatten (data_format channels_last) does on a channels_first model, and as PyTorch's flatten does.
        return x.reshape(x.shape[0], -1) if x.dim() > 2 else x
    if t in ("dropout", "spatial_dropout1d", "gaussian_noise", "gaussian_dropout", "alpha_dropout"):
        return x
    if t == "batch_normalization":
        return batch_normalization(case, key, x, layer)
    if t == "layer_normalization":
        return layer_normalization(case, key, x, layer)
    if t in ("max_pool1d", "avg_pool1d"):
        return pool1d(x, layer, t[:3], cf)
    if t in ("global_max_pool1d", "global_avg_pool1d"):
        axis = 2 if cf else 1
        keep = layer.get("keepdims", False)
        return x.amax(axis, keepdim=keep) if t == "global_max_pool1d" else x.mean(axis, keepdim=keep)
    if t == "zero_padding1d":
        p = layer.get("padding", 1)
        left, right = (p, p) if isinstance(p, int) else p
        return pts.pad_steps(x, left, right, layer.get("padding_mode", "zeros"))
    if t == "cropping1d":
        cr = layer.get("cropping", [1, 1])
        left, right = (cr, cr) if isinstance(cr, int) else cr
        assert left + right < x.shape[1]
        return x[:, left:x.shape[1] - right]
    if t == "depthwise_conv1d":
        return depthwise_conv1d(case, key, x, layer)
    if t == "separable_conv1d":
        return separable_conv1d(case, key, x, layer)
    if t == "embedding":
        table = case.var(key, "embeddings", (layer["input_dim"], layer["output_dim"]), -1.0, 1.0)
        return table[x.long()]
    if t == "repeat_vector":
        assert x.dim() == 2
        return x[:, None, :].repeat(1, layer["n"], 1)
    if t == "activation":
        return activate(layer["activation"], x)
    if t == "relu":
        return relu_layer(x, layer)
    if t == "leaky_relu":
        slope = layer.get("negative_slope", 0.3)
        return torch.where(x >= 0, x, slope * x)
    if t == "prelu":
        return prelu(case, key, x, layer)
    if t == "elu":
        alpha = layer.get("alpha", 1.0)
        return torch.where(x > 0, x, alpha * torch.expm1(x))
    if t == "softmax":
        return softmax(x, layer.get("axis", -1))
    if t in ("lstm", "gru", "simple_rnn"):
        return rnn_layer(case, key, x, layer, t)
    if t == "bidirectional":
        return bidirectional(case, key, x, layer)
    raise ValueError(t)


def make_case(case_id, layers, inputs, outputs=None, data_format="channels_last", low=-1.5, high=1.5):
    """inputs: {name: shape} (float, uniform in [low, high)) or {name: ("int", shape, high)}; a single input
    called `input` uses the config's single-input form."""
    case = Case(case_id)
    cf = data_format == "channels_first"
    values, fixture_inputs = {}, {}
    for name, spec in inputs.items():
        if isinstance(spec, tuple) and spec[0] == "int":
            _, shape, top = spec
            arr = case.rng.integers(0, top, size=shape).astype(np.int32)
            fixture_inputs[name] = {"shape": list(shape), "dtype": "int32", "values": [int(v) for v in arr.ravel()]}
            values[name] = torch.from_numpy(arr.astype(np.int64))
        else:
            arr = case.uniform(spec, low, high)
            fixture_inputs[name] = {"shape": list(spec), "dtype": "float32", "values": json_floats(arr)}
            values[name] = to64(arr)
    layers_by_name = {}
    previous = None if len(inputs) > 1 else next(iter(inputs))
    for layer in layers:
        assert layer["name"] not in values and layer["name"] not in layers_by_name, layer["name"]
        sources = layer.get("inputs", [previous])
        xs = [values[s] for s in sources]
        y = run_layer(case, layer, xs, cf, layers_by_name)
        if isinstance(y, list):
            values[layer["name"]] = y[0]
            for n, extra in enumerate(y[1:], 1):
                values[f"{layer['name']}:{n}"] = extra
        else:
            values[layer["name"]] = y
        layers_by_name[layer["name"]] = layer
        previous = layer["name"]
    out_names = outputs or [layers[-1]["name"]]
    fixture_outputs = {}
    for name in out_names:
        y = values[name].contiguous().numpy().astype(np.float32)
        assert np.all(np.isfinite(y)), (case_id, name)
        fixture_outputs[name] = {"shape": list(y.shape), "values": json_floats(y)}

    config = {"name": case_id}
    if cf:
        config["data_format"] = "channels_first"
    if list(inputs) == ["input"]:
        config["input"] = {"shape": list(fixture_inputs["input"]["shape"])}
    else:
        config["inputs"] = {n: {"shape": list(v["shape"])} for n, v in fixture_inputs.items()}
    config["layers"] = layers
    if outputs:
        config["outputs"] = list(outputs)
    weights = {key: {var: {"shape": list(a.shape), "values": json_floats(a)} for var, a in vs.items()}
               for key, vs in case.weights.items()}
    return {"id": case_id, "config": config, "inputs": fixture_inputs, "weights": weights, "outputs": fixture_outputs}


# ---- layer config helpers ----

def L(type_, name, **keys):
    return {"type": type_, "name": name, **keys}


def conv(name, filters, k, **keys):
    return L("conv1d", name, filters=filters, kernel_size=k, **keys)


def dense_l(name, units, **keys):
    return L("dense", name, units=units, **keys)


def single(case_id, layers, shape, **kw):
    return make_case(case_id, layers, {"input": shape}, **kw)


# ---- families ----

def core_cases():
    return [
        single("dense_rank2_linear", [dense_l("d", 4)], (2, 6)),
        single("dense_rank2_relu_nobias", [dense_l("d", 3, activation="relu", use_bias=False)], (2, 5)),
        single("dense_rank3_relu", [dense_l("d", 3, activation="relu")], (2, 5, 4)),
        single("dense_rank3_tanh_nobias", [dense_l("d", 5, activation="tanh", use_bias=False)], (2, 6, 3)),
        single("dense_rank2_stack_softmax", [dense_l("d1", 5, activation="relu"), dense_l("d2", 4, activation="sigmoid"),
                                             dense_l("d3", 3, activation="softmax")], (2, 6)),
        single("dense_rank3_units1", [dense_l("d", 1)], (2, 7, 3)),
        single("flatten_only", [L("flatten", "f")], (2, 4, 3)),
        single("flatten_dense", [L("flatten", "f"), dense_l("d", 4)], (2, 5, 3)),
        single("conv_flatten_dense", [conv("c", 3, 3, activation="relu"), L("flatten", "f"), dense_l("d", 2)], (2, 7, 2)),
        single("dropouts_identity", [L("dropout", "d1", rate=0.5), L("spatial_dropout1d", "d2", rate=0.3),
                                     L("gaussian_noise", "d3", stddev=0.2), L("gaussian_dropout", "d4", rate=0.4),
                                     L("alpha_dropout", "d5", rate=0.1)], (2, 6, 3)),
        single("conv_dropout_dense", [conv("c", 4, 3, padding="same", activation="relu"), L("dropout", "drop", rate=0.5),
                                      L("flatten", "f"), L("alpha_dropout", "ad", rate=0.2), dense_l("d", 2)], (2, 5, 3)),
        single("dropout_rank2", [L("dropout", "drop", rate=0.25), dense_l("d", 2)], (2, 4)),
        single("repeat_vector", [L("repeat_vector", "rv", n=3)], (2, 4)),
        single("dense_repeat_conv", [dense_l("d", 3, activation="relu"), L("repeat_vector", "rv", n=6),
                                     conv("c", 2, 3, padding="same")], (2, 5)),
        single("time_distributed_dense", [L("time_distributed", "td", layer=dense_l("td_dense", 4, activation="relu"))],
               (2, 5, 3)),
        single("conv_time_distributed_softmax", [conv("c", 4, 2, activation="tanh"),
                                                 L("time_distributed", "td", layer=dense_l("inner", 3, activation="softmax"))],
               (2, 6, 2)),
        make_case("embedding", [L("embedding", "emb", input_dim=10, output_dim=4)], {"input": ("int", (2, 7), 10)}),
        make_case("embedding_conv_gmp_dense", [L("embedding", "emb", input_dim=12, output_dim=3),
                                               conv("c", 4, 3, activation="relu"), L("global_max_pool1d", "gmp"),
                                               dense_l("out", 1, activation="sigmoid")], {"input": ("int", (2, 9), 12)}),
        make_case("embedding_flatten_dense", [L("embedding", "emb", input_dim=6, output_dim=2), L("flatten", "f"),
                                              dense_l("d", 3)], {"input": ("int", (2, 5), 6)}),
    ]


def normalization_cases():
    bn = lambda name, **k: L("batch_normalization", name, **k)
    ln = lambda name, **k: L("layer_normalization", name, **k)
    return [
        single("bn_default", [bn("bn")], (2, 6, 3)),
        single("bn_after_conv", [conv("c", 4, 3), bn("bn")], (2, 7, 3)),
        single("bn_after_conv_nobias_same_s2", [conv("c", 3, 3, strides=2, padding="same", use_bias=False), bn("bn")],
               (2, 9, 2)),
        single("bn_after_conv_relu", [conv("c", 3, 3, activation="relu"), bn("bn")], (2, 7, 2)),
        single("bn_then_relu_after_conv", [conv("c", 4, 2), bn("bn"), L("activation", "a", activation="relu")],
               (2, 6, 3)),
        single("bn_after_dense_rank2", [dense_l("d", 4), bn("bn")], (2, 5)),
        single("bn_after_dense_rank3", [dense_l("d", 4), bn("bn")], (2, 5, 3)),
        single("bn_after_maxpool", [conv("c", 3, 2, activation="relu"), L("max_pool1d", "p", pool_size=2), bn("bn")],
               (2, 9, 2)),
        single("bn_before_conv_same", [bn("bn"), conv("c", 3, 3, padding="same")], (2, 6, 3)),
        single("bn_center_false", [bn("bn", center=False)], (2, 5, 4)),
        single("bn_scale_false", [bn("bn", scale=False)], (2, 5, 4)),
        single("bn_center_scale_false_after_conv", [conv("c", 3, 3), bn("bn", center=False, scale=False)], (2, 6, 2)),
        single("bn_epsilon_0p1", [bn("bn", epsilon=0.1)], (2, 5, 3)),
        single("bn_rank2", [bn("bn")], (2, 6)),
        single("bn_axis2_explicit", [bn("bn", axis=2)], (2, 5, 3)),
        single("bn_two_in_a_row", [conv("c", 3, 3, padding="same"), bn("bn1"), bn("bn2", center=False)], (2, 6, 2)),
        single("ln_default", [ln("ln")], (2, 5, 4)),
        single("ln_center_false", [ln("ln", center=False)], (2, 5, 4)),
        single("ln_scale_false", [ln("ln", scale=False)], (2, 5, 4)),
        single("ln_epsilon_0p1", [ln("ln", epsilon=0.1)], (2, 4, 3)),
        single("ln_after_dense_rank2", [dense_l("d", 5), ln("ln")], (2, 6)),
        single("ln_after_conv_relu", [conv("c", 4, 3, activation="relu"), ln("ln")], (2, 7, 3)),
        # Keras LayerNormalization(axis=[1, 2]): each sample over its length and channels, gamma/beta (L, C).
        single("ln_length_channels", [ln("ln", axis=[1, 2])], (2, 5, 4)),
        single("ln_length_channels_negative", [ln("ln", axis=[-1, -2], center=False, epsilon=0.1)], (3, 4, 3)),
        single("ln_length_channels_scale_false", [ln("ln", axis=[2, 1], scale=False)], (2, 6, 2)),
        single("ln_length_channels_after_conv", [conv("c", 5, 3, padding="same", activation="relu"),
                                                 ln("ln", axis=[1, 2])], (2, 6, 3)),
        single("ln_axis_one_entry_list", [ln("ln", axis=[2])], (2, 4, 5)),
        # return_statistics: outputs 1 and 2 are the mean and 1/sqrt(var + eps) of each normalised group.
        single("ln_statistics", [ln("ln", return_statistics=True, epsilon=0.1)], (2, 5, 4),
               outputs=["ln", "ln:1", "ln:2"]),
        single("ln_length_channels_statistics", [conv("c", 4, 2), ln("ln", axis=[1, 2], return_statistics=True)],
               (2, 7, 3), outputs=["ln", "ln:1", "ln:2"]),
        single("ln_statistics_rank2", [dense_l("d", 6), ln("ln", return_statistics=True, center=False)], (3, 4),
               outputs=["ln:2", "ln:1", "ln"]),
        # axis [0, 1, 2]: the whole tensor, the batch too (F.layer_norm over all of x's shape), gamma/beta
        # (B, L, C); the statistics are (1, 1, 1) inside a batch-B graph, and a conv may read them.
        single("ln_all_axes", [ln("ln", axis=[0, 1, 2])], (3, 5, 4)),
        single("ln_all_axes_statistics", [conv("c", 4, 2), ln("ln", axis=[0, 1, 2], return_statistics=True,
                                                              epsilon=0.1)],
               (2, 6, 3), outputs=["ln", "ln:1", "ln:2"]),
        single("ln_all_axes_negative_scale_false", [ln("ln", axis=[-3, -1, -2], scale=False)], (2, 4, 3)),
        single("ln_all_axes_stat_read", [ln("ln", axis=[0, 1, 2], return_statistics=True, center=False),
                                         conv("c", 2, 1, inputs=["ln:2"])], (2, 5, 3), outputs=["c", "ln"]),
        single("ln_all_axes_stat_broadcast", [ln("ln", axis=[0, 1, 2], return_statistics=True),
                                              L("multiply", "m", inputs=["ln", "ln:2"])], (3, 4, 2), outputs=["m"]),
        single("ln_statistics_read_by_layers", [ln("ln", return_statistics=True),
                                                L("add", "sum", inputs=["ln:1", "ln:2"]),
                                                conv("c", 2, 1, inputs=["ln"])], (2, 5, 3), outputs=["sum", "c"]),
    ]


def global_pooling_cases():
    g = lambda t, name, **k: L(t, name, **k)
    return [
        single("gmp", [g("global_max_pool1d", "g")], (2, 6, 3)),
        single("gap", [g("global_avg_pool1d", "g")], (2, 6, 3)),
        single("gmp_keepdims", [g("global_max_pool1d", "g", keepdims=True)], (2, 5, 4)),
        single("gap_keepdims", [g("global_avg_pool1d", "g", keepdims=True)], (2, 5, 4)),
        single("gap_keepdims_false_explicit", [g("global_avg_pool1d", "g", keepdims=False)], (2, 7, 2)),
        single("conv_gap_dense", [conv("c", 4, 3, activation="relu"), g("global_avg_pool1d", "g"), dense_l("d", 2)],
               (2, 8, 3)),
        single("conv_gmp_dense_softmax", [conv("c", 5, 2, strides=2), g("global_max_pool1d", "g"),
                                          dense_l("d", 3, activation="softmax")], (2, 9, 2)),
        single("gap_keepdims_conv1", [g("global_avg_pool1d", "g", keepdims=True), conv("c", 2, 1)], (2, 6, 3)),
        single("length1_gmp", [g("global_max_pool1d", "g")], (2, 1, 3)),
    ]


def padding_cropping_cases():
    zp = lambda name, **k: L("zero_padding1d", name, **k)
    cr = lambda name, **k: L("cropping1d", name, **k)
    return [
        single("zp_default", [zp("zp")], (2, 5, 3)),
        single("zp_int2", [zp("zp", padding=2)], (2, 5, 2)),
        single("zp_1_3", [zp("zp", padding=[1, 3])], (2, 5, 2)),
        single("zp_0_2", [zp("zp", padding=[0, 2])], (2, 4, 3)),
        single("zp_then_conv_valid", [zp("zp", padding=[2, 0]), conv("c", 3, 3)], (2, 6, 2)),
        single("crop_default", [cr("cr")], (2, 6, 3)),
        single("crop_int2", [cr("cr", cropping=2)], (2, 7, 2)),
        single("crop_0_3", [cr("cr", cropping=[0, 3])], (2, 6, 2)),
        single("crop_2_0", [cr("cr", cropping=[2, 0])], (2, 5, 3)),
        single("conv_same_crop", [conv("c", 3, 3, padding="same"), cr("cr", cropping=[1, 2])], (2, 8, 2)),
        single("zp_crop_roundtrip", [zp("zp", padding=[1, 2]), cr("cr", cropping=[1, 2])], (2, 5, 2)),
    ]


def depthwise_separable_cases():
    dw = lambda name, k, **keys: L("depthwise_conv1d", name, kernel_size=k, **keys)
    sep = lambda name, f, k, **keys: L("separable_conv1d", name, filters=f, kernel_size=k, **keys)
    return [
        single("dw_k3_valid", [dw("dw", 3)], (2, 8, 3)),
        single("dw_k3_same_m2", [dw("dw", 3, padding="same", depth_multiplier=2)], (2, 7, 3)),
        single("dw_k2_same_s2_L9", [dw("dw", 2, strides=2, padding="same")], (2, 9, 2)),
        single("dw_k4_same_s2_m3", [dw("dw", 4, strides=2, padding="same", depth_multiplier=3)], (2, 8, 2)),
        single("dw_k3_d2_valid_m2", [dw("dw", 3, dilation_rate=2, depth_multiplier=2)], (2, 9, 2)),
        single("dw_k2_d3_same", [dw("dw", 2, dilation_rate=3, padding="same")], (2, 8, 3)),
        single("dw_nobias_relu", [dw("dw", 3, use_bias=False, activation="relu")], (2, 7, 4)),
        single("dw_k1_m2_tanh", [dw("dw", 1, depth_multiplier=2, activation="tanh")], (2, 5, 3)),
        single("dw_k3_valid_s3", [dw("dw", 3, strides=3)], (2, 9, 2)),
        single("sep_k3_valid", [sep("sep", 4, 3)], (2, 8, 3)),
        single("sep_k3_same_m2", [sep("sep", 5, 3, padding="same", depth_multiplier=2)], (2, 7, 3)),
        single("sep_k5_same_s2", [sep("sep", 3, 5, strides=2, padding="same")], (2, 9, 2)),
        single("sep_k3_d2_same_relu", [sep("sep", 4, 3, dilation_rate=2, padding="same", activation="relu")], (2, 8, 2)),
        single("sep_nobias", [sep("sep", 3, 2, use_bias=False)], (2, 6, 4)),
        single("sep_k2_same_s3_m2_elu", [sep("sep", 2, 2, strides=3, padding="same", depth_multiplier=2,
                                             activation="elu")], (2, 9, 3)),
        single("sep_then_bn", [sep("sep", 3, 3, padding="same"), L("batch_normalization", "bn")], (2, 6, 2)),
        single("conv_dw_sep_stack", [conv("c", 4, 1), dw("dw", 3, padding="same", activation="relu"),
                                     sep("sep", 2, 3)], (2, 8, 2)),
    ]


def activation_layer_cases():
    r = lambda name, **k: L("relu", name, **k)
    wide = dict(low=-3.0, high=3.0)
    return [
        single("relu_default", [r("r")], (2, 6, 3), **wide),
        single("relu_max6", [r("r", max_value=6.0)], (2, 6, 3), low=-8, high=8),
        single("relu_max1p5", [r("r", max_value=1.5)], (2, 6, 3), **wide),
        single("relu_slope0p1", [r("r", negative_slope=0.1)], (2, 6, 3), **wide),
        single("relu_threshold0p5", [r("r", threshold=0.5)], (2, 6, 3), **wide),
        single("relu_threshold_slope", [r("r", threshold=0.5, negative_slope=0.2)], (2, 6, 3), **wide),
        single("relu_max_slope", [r("r", max_value=2.0, negative_slope=0.25)], (2, 6, 3), **wide),
        single("relu_all_three", [r("r", max_value=2.0, negative_slope=0.2, threshold=0.5)], (2, 6, 3), **wide),
        single("relu_rank2", [dense_l("d", 4), r("r", max_value=1.0)], (2, 5)),
        single("leaky_relu_default", [L("leaky_relu", "lr")], (2, 6, 3), **wide),
        single("leaky_relu_0p05", [L("leaky_relu", "lr", negative_slope=0.05)], (2, 6, 3), **wide),
        single("conv_leaky_relu", [conv("c", 3, 3), L("leaky_relu", "lr")], (2, 7, 2)),
        single("prelu_default", [L("prelu", "p")], (2, 5, 3), **wide),
        single("prelu_shared_axis1", [L("prelu", "p", shared_axes=[1])], (2, 6, 3), **wide),
        single("prelu_shared_axes12", [L("prelu", "p", shared_axes=[1, 2])], (2, 4, 3), **wide),
        single("prelu_rank2", [dense_l("d", 4), L("prelu", "p")], (2, 5)),
        single("conv_prelu_shared", [conv("c", 4, 3, padding="same"), L("prelu", "p", shared_axes=[1])], (2, 7, 2)),
        single("elu_default", [L("elu", "e")], (2, 6, 3), **wide),
        single("elu_alpha0p5", [L("elu", "e", alpha=0.5)], (2, 6, 3), **wide),
        single("softmax_default", [L("softmax", "s")], (2, 5, 4), **wide),
        single("softmax_axis_m1", [L("softmax", "s", axis=-1)], (2, 5, 4), **wide),
        single("softmax_axis1", [L("softmax", "s", axis=1)], (2, 5, 4), **wide),
        single("softmax_rank2", [dense_l("d", 5), L("softmax", "s")], (2, 4)),
        single("conv_softmax_axis1", [conv("c", 3, 2), L("softmax", "s", axis=1)], (2, 6, 2)),
    ]


def activations_cases():
    cases = []
    wide = dict(low=-3.0, high=3.0)
    for act in KERAS_ACTIVATIONS:
        cases.append(single(f"layer_{act}", [L("activation", "a", activation=act)], (2, 5, 4), **wide))
    for act in KERAS_ACTIVATIONS:
        cases.append(single(f"conv1d_{act}", [conv("c", 4, 3, padding="same", activation=act)], (2, 6, 3), **wide))
    for act in KERAS_ACTIVATIONS:
        cases.append(single(f"dense_rank2_{act}", [dense_l("d", 4, activation=act)], (2, 5), **wide))
    for act in ("softmax", "log_softmax", "gelu", "hard_sigmoid", "selu"):
        cases.append(single(f"dense_rank3_{act}", [dense_l("d", 3, activation=act)], (2, 4, 3), **wide))
    cases.append(single("activation_rank2_softmax", [L("activation", "a", activation="softmax")], (2, 6), **wide))
    return cases


def merge_cases():
    two = lambda a, b: {"a": a, "b": b}
    three = lambda a, b, c: {"a": a, "b": b, "c": c}
    m = lambda t, name, ins, **k: L(t, name, inputs=ins, **k)
    s = (2, 5, 3)
    return [
        make_case("add_two", [m("add", "m", ["a", "b"])], two(s, s)),
        make_case("add_three", [m("add", "m", ["a", "b", "c"])], three(s, s, s)),
        make_case("subtract", [m("subtract", "m", ["a", "b"])], two(s, s)),
        make_case("subtract_reversed", [m("subtract", "m", ["b", "a"])], two(s, s)),
        make_case("multiply_two", [m("multiply", "m", ["a", "b"])], two(s, s)),
        make_case("multiply_three", [m("multiply", "m", ["a", "b", "c"])], three(s, s, s)),
        make_case("average_two", [m("average", "m", ["a", "b"])], two(s, s)),
        make_case("average_three", [m("average", "m", ["a", "b", "c"])], three(s, s, s)),
        make_case("maximum_three", [m("maximum", "m", ["a", "b", "c"])], three(s, s, s)),
        make_case("minimum_two", [m("minimum", "m", ["a", "b"])], two(s, s)),
        make_case("add_rank2_features", [m("add", "m", ["a", "b"])], two((2, 4), (2, 4))),
        make_case("concat_last_axis", [m("concatenate", "m", ["a", "b"])], two((2, 5, 3), (2, 5, 2))),
        make_case("concat_axis_m1_explicit_three", [m("concatenate", "m", ["a", "b", "c"], axis=-1)],
                  three((2, 4, 1), (2, 4, 2), (2, 4, 3))),
        make_case("concat_axis1", [m("concatenate", "m", ["a", "b"], axis=1)], two((2, 4, 3), (2, 6, 3))),
        make_case("concat_axis2", [m("concatenate", "m", ["b", "a"], axis=2)], two((2, 4, 2), (2, 4, 3))),
        make_case("concat_rank2", [m("concatenate", "m", ["a", "b"])], two((2, 3), (2, 5))),
        # Keras inserts an axis at 1 into the lower-rank input: (B, C) + (B, L, C) → (B, L, C).
        make_case("add_rank3_rank2_broadcast", [m("add", "m", ["a", "b"])], two((2, 5, 3), (2, 3))),
        make_case("add_rank2_rank3_broadcast", [m("add", "m", ["a", "b"])], two((2, 3), (2, 5, 3))),
        make_case("subtract_rank3_minus_rank2", [m("subtract", "m", ["a", "b"])], two((2, 4, 3), (2, 3))),
        make_case("multiply_rank3_rank2", [m("multiply", "m", ["a", "b"])], two((2, 4, 2), (2, 2))),
        make_case("maximum_length1_broadcast", [m("maximum", "m", ["a", "b"])], two((2, 5, 3), (2, 1, 3))),
        single("multiply_by_gap_keepdims", [L("global_avg_pool1d", "g", keepdims=True),
                                            m("multiply", "m", ["input", "g"])], (2, 6, 3)),
        make_case("conv_branches_average", [conv("ca", 3, 3, padding="same", inputs=["a"]),
                                            conv("cb", 3, 1, inputs=["b"]), m("average", "m", ["ca", "cb"])],
                  two((2, 6, 2), (2, 6, 4))),
    ]


def graph_cases():
    m = lambda t, name, ins, **k: L(t, name, inputs=ins, **k)
    return [
        single("residual_block", [conv("c1", 4, 3, padding="same", activation="relu"), conv("c2", 4, 3, padding="same"),
                                  m("add", "add", ["c2", "input"]), L("activation", "out", activation="relu")],
               (2, 8, 4)),
        single("residual_projection_s2", [conv("c1", 5, 3, strides=2, padding="same", activation="relu"),
                                          conv("c2", 5, 3, padding="same"),
                                          conv("proj", 5, 1, strides=2, inputs=["input"]),
                                          m("add", "add", ["c2", "proj"]), L("global_avg_pool1d", "gap"),
                                          dense_l("head", 2)], (2, 9, 3)),
        single("residual_bn", [conv("c1", 3, 3, padding="same", use_bias=False), L("batch_normalization", "bn1"),
                               L("activation", "a1", activation="relu"), conv("c2", 3, 3, padding="same"),
                               L("batch_normalization", "bn2"), m("add", "add", ["bn2", "input"]),
                               L("activation", "a2", activation="relu")], (2, 7, 3)),
        single("inception_concat", [conv("b1", 2, 1, inputs=["input"]),
                                    conv("b3", 3, 3, padding="same", activation="relu", inputs=["input"]),
                                    conv("b5", 2, 5, padding="same", inputs=["input"]),
                                    L("max_pool1d", "pool", pool_size=3, strides=1, padding="same", inputs=["input"]),
                                    conv("bp", 2, 1, inputs=["pool"]),
                                    m("concatenate", "cat", ["b1", "b3", "b5", "bp"])], (2, 7, 4)),
        single("wavenet_gated", [conv("filt", 4, 2, padding="causal", dilation_rate=2, activation="tanh"),
                                 conv("gate", 4, 2, padding="causal", dilation_rate=2, activation="sigmoid",
                                      inputs=["input"]),
                                 m("multiply", "gated", ["filt", "gate"]), conv("res", 3, 1),
                                 m("add", "out", ["res", "input"]), conv("skip", 2, 1, inputs=["gated"])],
               (2, 9, 3), outputs=["out", "skip"]),
        single("squeeze_excitation", [conv("c", 4, 3, padding="same", activation="relu"),
                                      L("global_avg_pool1d", "sq"), dense_l("e1", 2, activation="relu"),
                                      dense_l("e2", 4, activation="sigmoid"), m("multiply", "scaled", ["c", "e2"])],
               (2, 6, 3)),
        make_case("two_inputs_concat", [conv("ca", 4, 3, padding="same", activation="relu", inputs=["a"]),
                                        conv("cb", 4, 3, padding="same", activation="relu", inputs=["b"]),
                                        m("concatenate", "cat", ["ca", "cb"]), L("global_avg_pool1d", "gap"),
                                        dense_l("head", 2)], {"a": (2, 6, 3), "b": (2, 6, 2)}),
        make_case("sequence_plus_features", [conv("c", 4, 3, activation="relu", inputs=["seq"]),
                                             L("global_max_pool1d", "gmp"), m("concatenate", "cat", ["gmp", "feat"]),
                                             dense_l("head", 3, activation="tanh")],
                  {"seq": (2, 8, 3), "feat": (2, 4)}),
        make_case("shared_conv_two_inputs", [conv("enc", 4, 3, activation="relu", inputs=["a"]),
                                             L("shared", "enc_b", layer="enc", inputs=["b"]),
                                             m("subtract", "diff", ["enc", "enc_b"]), L("global_avg_pool1d", "pool")],
                  {"a": (2, 7, 3), "b": (2, 7, 3)}, outputs=["pool", "enc_b"]),
        make_case("shared_dense_siamese", [dense_l("d", 3, activation="tanh", inputs=["a"]),
                                           L("shared", "d_b", layer="d", inputs=["b"]),
                                           m("multiply", "prod", ["d", "d_b"]), dense_l("head", 1)],
                  {"a": (2, 5), "b": (2, 5)}),
        single("shared_conv_applied_twice", [conv("c", 3, 3, padding="same", activation="tanh"),
                                             L("shared", "c_again", layer="c"), m("add", "sum", ["c", "c_again"])],
               (2, 6, 3)),
        single("multi_output_heads", [conv("c", 4, 3, activation="relu"), L("global_max_pool1d", "head_max"),
                                      L("global_avg_pool1d", "head_avg", inputs=["c"]), dense_l("head_d", 2)],
               (2, 7, 2), outputs=["head_max", "head_d", "c"]),
        make_case("two_inputs_two_outputs_lstm", [L("lstm", "enc", units=3, inputs=["x"]),
                                                  m("concatenate", "cat", ["enc", "meta"]),
                                                  dense_l("y1", 2), dense_l("y2", 1, activation="sigmoid",
                                                                            inputs=["cat"])],
                  {"x": (2, 5, 2), "meta": (2, 3)}, outputs=["y1", "y2"]),
    ]


def recurrent_cases():
    x = (2, 6, 3)
    lstm = lambda name, **k: L("lstm", name, units=4, **k)
    gru = lambda name, **k: L("gru", name, units=4, **k)
    rnn = lambda name, **k: L("simple_rnn", name, units=4, **k)
    cases = []
    for kind, make, extra in (("lstm", lstm, {}), ("gru", gru, {}), ("gru_ra_false", gru, {"reset_after": False}),
                              ("simple_rnn", rnn, {})):
        nm = kind.split("_ra")[0] if kind.startswith("gru") else kind
        cases += [
            single(f"{kind}_last", [make(nm, **extra)], x),
            single(f"{kind}_sequences", [make(nm, return_sequences=True, **extra)], x),
            single(f"{kind}_backwards_sequences", [make(nm, return_sequences=True, go_backwards=True, **extra)], x),
            single(f"{kind}_backwards_last", [make(nm, go_backwards=True, **extra)], x),
            single(f"{kind}_state", [make(nm, return_state=True, **extra)], x,
                   outputs=[nm, f"{nm}:1"] + ([f"{nm}:2"] if nm == "lstm" else [])),
            single(f"{kind}_sequences_state", [make(nm, return_sequences=True, return_state=True, **extra)], x,
                   outputs=[nm, f"{nm}:1"] + ([f"{nm}:2"] if nm == "lstm" else [])),
            single(f"{kind}_nobias", [make(nm, use_bias=False, return_sequences=True, **extra)], (2, 5, 2)),
        ]
    cases += [
        single("gru_reset_after_true_explicit", [gru("gru", reset_after=True)], (2, 5, 2)),
        single("simple_rnn_relu", [rnn("rnn", activation="relu", return_sequences=True)], x),
        single("simple_rnn_sigmoid", [rnn("rnn", activation="sigmoid")], x),
        single("lstm_recurrent_hard_sigmoid", [lstm("lstm", recurrent_activation="hard_sigmoid", return_sequences=True)],
               x, low=-2.5, high=2.5),
        single("gru_ra_false_hard_sigmoid", [gru("gru", reset_after=False, recurrent_activation="hard_sigmoid")], x),
        single("lstm_units1_length1", [L("lstm", "lstm", units=1, return_sequences=True)], (2, 1, 2)),
        single("lstm_stacked_dense", [lstm("l1", return_sequences=True), L("lstm", "l2", units=3),
                                      dense_l("head", 2)], (2, 7, 2)),
        single("conv_pool_lstm", [conv("c", 4, 3, activation="relu"), L("max_pool1d", "p", pool_size=2),
                                  lstm("lstm"), dense_l("head", 1)], (2, 9, 2)),
        make_case("embedding_gru_dense", [L("embedding", "emb", input_dim=8, output_dim=3), gru("gru"),
                                          dense_l("head", 2, activation="softmax")], {"input": ("int", (2, 6), 8)}),
        single("seq2seq_repeat_vector", [L("lstm", "enc", units=3), L("repeat_vector", "rv", n=4),
                                         L("lstm", "dec", units=3, return_sequences=True),
                                         L("time_distributed", "td", layer=dense_l("out", 2))], (2, 5, 2)),
        single("rnn_after_dense_rank3", [dense_l("d", 3, activation="tanh"), rnn("rnn", return_sequences=True),
                                         L("global_avg_pool1d", "gap")], (2, 5, 2)),
    ]
    return cases


def bidirectional_cases():
    def bi(name, inner_type, merge_mode="concat", units=3, **inner):
        layer = {"type": "bidirectional", "name": name, "layer": {"type": inner_type, "name": "l", "units": units, **inner}}
        if merge_mode != "concat":
            layer["merge_mode"] = merge_mode
        return layer
    x = (2, 5, 2)
    return [
        single("bi_lstm_concat_sequences", [bi("bi", "lstm", return_sequences=True)], x),
        single("bi_lstm_concat_last", [bi("bi", "lstm")], x),
        single("bi_lstm_concat_explicit", [{**bi("bi", "lstm"), "merge_mode": "concat"}], x),
        single("bi_lstm_sum_sequences", [bi("bi", "lstm", "sum", return_sequences=True)], x),
        single("bi_lstm_sum_last", [bi("bi", "lstm", "sum")], x),
        single("bi_lstm_mul_sequences", [bi("bi", "lstm", "mul", return_sequences=True)], x),
        single("bi_lstm_mul_last", [bi("bi", "lstm", "mul")], x),
        single("bi_lstm_ave_sequences", [bi("bi", "lstm", "ave", return_sequences=True)], x),
        single("bi_lstm_ave_last", [bi("bi", "lstm", "ave")], x),
        single("bi_lstm_none_sequences", [bi("bi", "lstm", None, return_sequences=True)], x, outputs=["bi", "bi:1"]),
        single("bi_lstm_none_last", [bi("bi", "lstm", None)], x, outputs=["bi", "bi:1"]),
        single("bi_gru_concat_sequences", [bi("bi", "gru", return_sequences=True)], x),
        single("bi_gru_ra_false_sum_last", [bi("bi", "gru", "sum", reset_after=False)], x),
        single("bi_gru_ave_sequences", [bi("bi", "gru", "ave", return_sequences=True)], x),
        single("bi_gru_none_last", [bi("bi", "gru", None)], x, outputs=["bi", "bi:1"]),
        single("bi_simple_rnn_concat_sequences", [bi("bi", "simple_rnn", return_sequences=True)], x),
        single("bi_simple_rnn_mul_last", [bi("bi", "simple_rnn", "mul", units=4)], x),
        single("bi_lstm_nobias_sum", [bi("bi", "lstm", "sum", use_bias=False, return_sequences=True)], x),
        single("bi_gru_concat_state", [bi("bi", "gru", return_state=True)], x, outputs=["bi", "bi:1", "bi:2"]),
        single("bi_lstm_concat_state", [bi("bi", "lstm", return_state=True)], x,
               outputs=["bi", "bi:1", "bi:2", "bi:3", "bi:4"]),
        single("bi_lstm_stacked_dense", [bi("bi1", "lstm", return_sequences=True), bi("bi2", "gru", "ave"),
                                         dense_l("head", 2)], (2, 6, 2)),
        make_case("embedding_bi_lstm_dense", [L("embedding", "emb", input_dim=9, output_dim=3),
                                              bi("bi", "lstm", units=2), dense_l("head", 1, activation="sigmoid")],
                  {"input": ("int", (2, 6), 9)}),
        single("conv_bi_lstm_gmp", [conv("c", 3, 3, padding="same", activation="relu"),
                                    bi("bi", "lstm", return_sequences=True), L("global_max_pool1d", "gmp")], (2, 7, 2)),
    ]


def check_peephole_cell():
    """The numpy peephole step with zero peepholes is the plain Keras cell; with ONNX's own backend test
    (libonnx-testdata test_lstm_with_peepholes, when installed) it gives ONNX's Y_h."""
    rng = np.random.default_rng(7)
    layer = {"units": 3}
    w = {"kernel": torch.from_numpy(rng.uniform(-1, 1, (2, 12))), "recurrent_kernel": torch.from_numpy(rng.uniform(-1, 1, (3, 12))),
         "bias": torch.from_numpy(rng.uniform(-1, 1, 12)), "peephole": torch.zeros(3, 3, dtype=torch.float64)}
    x = torch.from_numpy(rng.uniform(-1, 1, (2, 4, 2)))
    assert torch.allclose(peephole_lstm_run(layer, w, x)[0], keras_cell_run("lstm", layer, w, x)[0], atol=1e-12)
    d = "/usr/share/libonnx-testdata/data/node/test_lstm_with_peepholes/test_data_set_0/"
    if not os.path.isdir(d):
        return
    import onnx
    from onnx import numpy_helper
    t = [numpy_helper.to_array(onnx.load_tensor(d + f"input_{k}.pb")).astype(np.float64) for k in range(8)]
    X, W, R, B, _, _, _, P = t
    want = numpy_helper.to_array(onnx.load_tensor(d + "output_0.pb")).astype(np.float64)
    H = R.shape[2]
    blocks = lambda m: [m[n * H:(n + 1) * H] for n in range(4)]  # ONNX i, o, f, c
    keras = lambda m: np.concatenate([m[0], m[2], m[3], m[1]], 0)  # → i, f, c, o
    w = {"kernel": torch.from_numpy(keras(blocks(W[0])).T.copy()), "recurrent_kernel": torch.from_numpy(keras(blocks(R[0])).T.copy()),
         "bias": torch.from_numpy(keras(blocks(B[0, :4 * H])) + keras(blocks(B[0, 4 * H:]))),
         "peephole": torch.from_numpy(np.stack([P[0, :H], P[0, 2 * H:], P[0, H:2 * H]]))}  # ONNX i, o, f → i, f, o
    _, (h, _) = peephole_lstm_run({"units": H}, w, torch.from_numpy(X.transpose(1, 0, 2).copy()))
    assert np.allclose(h.numpy(), want.reshape(h.shape), atol=1e-6), (h, want)


def peephole_cases():
    """lstm with peepholes (ONNX LSTM's P): our `peephole` (3, units), rows i, f, o."""
    lstm = lambda name, **k: L("lstm", name, units=3, peepholes=True, **k)
    bi = lambda name, mode="concat", **k: {"type": "bidirectional", "name": name, "merge_mode": mode,
                                           "layer": L("lstm", "l", units=3, peepholes=True, **k)}
    x = (2, 5, 3)
    return [
        single("peep_last", [lstm("lstm")], x),
        single("peep_sequences", [lstm("lstm", return_sequences=True)], x),
        single("peep_sequences_state", [lstm("lstm", return_sequences=True, return_state=True)], x,
               outputs=["lstm", "lstm:1", "lstm:2"]),
        single("peep_backwards_sequences", [lstm("lstm", return_sequences=True, go_backwards=True)], x),
        single("peep_nobias", [lstm("lstm", use_bias=False, return_sequences=True)], (2, 4, 2)),
        single("peep_hard_sigmoid_loop", [lstm("lstm", recurrent_activation="hard_sigmoid", return_sequences=True)],
               x, low=-2.5, high=2.5),
        single("peep_units1_length1", [L("lstm", "lstm", units=1, peepholes=True, return_sequences=True)], (2, 1, 2)),
        single("bi_peep_concat_sequences", [bi("bi", return_sequences=True)], x),
        single("bi_peep_sum_last", [bi("bi", "sum")], x),
        single("bi_peep_mul_sequences", [bi("bi", "mul", return_sequences=True)], x),
        single("bi_peep_concat_state", [bi("bi", return_state=True)], x, outputs=["bi", "bi:1", "bi:2", "bi:3", "bi:4"]),
    ]


def channels_first_cases():
    cf = dict(data_format="channels_first")
    return [
        # Shapes are (B, C, L). Flatten follows Keras' Flatten(data_format="channels_first"): (B, L, C) order.
        single("cf_flatten", [L("flatten", "f")], (2, 3, 4), **cf),
        single("cf_flatten_dense", [L("flatten", "f"), dense_l("d", 4)], (2, 3, 5), **cf),
        single("cf_conv_flatten_dense", [conv("c", 4, 3, activation="relu"), L("flatten", "f"), dense_l("d", 3)],
               (2, 2, 7), **cf),
        single("cf_gap", [L("global_avg_pool1d", "g")], (2, 3, 6), **cf),
        single("cf_gmp", [L("global_max_pool1d", "g")], (2, 3, 6), **cf),
        single("cf_gap_keepdims", [L("global_avg_pool1d", "g", keepdims=True)], (2, 4, 5), **cf),
        single("cf_gmp_keepdims", [L("global_max_pool1d", "g", keepdims=True)], (2, 4, 5), **cf),
        single("cf_conv_gap_dense", [conv("c", 4, 3, padding="same", activation="relu"), L("global_avg_pool1d", "g"),
                                     dense_l("d", 2)], (2, 3, 8), **cf),
        single("cf_bn_axis1", [L("batch_normalization", "bn", axis=1)], (2, 3, 6), **cf),
        single("cf_conv_bn_axis1", [conv("c", 3, 3), L("batch_normalization", "bn", axis=1)], (2, 2, 7), **cf),
        single("cf_maxpool_bn_axis1", [L("max_pool1d", "p", pool_size=2), L("batch_normalization", "bn", axis=1,
                                                                             center=False)], (2, 3, 8), **cf),
        single("cf_bn_axis1_rank2_after_gap", [conv("c", 4, 2), L("global_avg_pool1d", "g"),
                                               L("batch_normalization", "bn", axis=1)], (2, 2, 6), **cf),
    ]


FAMILIES = {
    "core": core_cases,
    "normalization": normalization_cases,
    "global_pooling": global_pooling_cases,
    "padding_cropping": padding_cropping_cases,
    "depthwise_separable": depthwise_separable_cases,
    "activation_layers": activation_layer_cases,
    "activations": activations_cases,
    "merge": merge_cases,
    "graph": graph_cases,
    "recurrent": recurrent_cases,
    "bidirectional": bidirectional_cases,
    "peephole": peephole_cases,
    "channels_first": channels_first_cases,
    "pytorch_padding": lambda: pts.padding_cases(single, L),
    "pytorch_transpose": lambda: pts.transpose_cases(single, L),
    "pytorch_pooling": lambda: pts.pooling_cases(single, L),
    "pytorch_upsample": lambda: pts.upsample_cases(single, L),
}


def main():
    torch.set_default_dtype(torch.float64)
    check_activations()
    check_same_padding()
    check_peephole_cell()
    os.makedirs(OUT, exist_ok=True)
    total = 0
    only = sys.argv[1:]  # family names: regenerate those alone
    for family, build in FAMILIES.items():
        if only and family not in only:
            continue
        cases = build()
        ids = [c["id"] for c in cases]
        assert len(ids) == len(set(ids)), f"duplicate ids in {family}"
        path = os.path.join(OUT, family + ".json")
        with open(path, "w") as f:
            # One case per line: small diffs when a case changes, and still valid JSON.
            f.write('{"family": %s, "generator": %s, "cases": [\n' % (json.dumps(family), json.dumps(GENERATOR)))
            f.write(",\n".join(json.dumps(c, separators=(",", ":")) for c in cases))
            f.write("\n]}\n")
        total += len(cases)
        print(f"{family}: {len(cases)} cases, {os.path.getsize(path)} bytes")
    print(f"total: {total} cases")


if __name__ == "__main__":
    main()
