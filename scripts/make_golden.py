#!/usr/bin/python3
# Regenerates tests/fixtures/golden/: expected outputs of every layer type, computed in PyTorch with Keras semantics.
"""Usage: /usr/bin/python3 scripts/make_golden.py   (needs Debian's python3-torch and numpy)

Writes one JSON file per layer family into tests/fixtures/golden/. Each file is
  {"family": ..., "generator": ..., "cases": [case, ...]}
and each case is
  {"id": str,
   "config": a config in our own JSON format (SPEC §3), "input": {"shape": [...]} in its data format,
   "input": flat input values in the config's data-format order (C order),
   "weights": per layer, {"kernel": flat Keras-layout values, "bias": [...] or null} or null,
   "output_shape": [...] in the config's data format,
   "output": flat expected output in that order}.

The Keras rules are written here from the Keras/TensorFlow definitions (SPEC §3, notes/KERAS.md), not from
the C++ code: TF 'same' pads (left = total // 2), causal left pads, Conv1DTranspose lengths and its window in
the full transposed convolution (checked here against TF's own definition, the gradient of the forward conv),
average pooling that divides by the real steps only, UpSampling1D's repeat. Inputs and weights are rounded
to 3 decimals and then to float32 (so the text is short and exact); the forward pass runs in float64;
outputs are stored as float32 (shortest repr that round-trips).
"""
import json
import math
import os
import zlib

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "golden")
GENERATOR = "scripts/make_golden.py (torch %s, float64 compute)" % torch.__version__

ACTIVATIONS = ["linear", "relu", "tanh", "sigmoid", "gelu", "elu", "swish"]


def activate(name, y):
    return {
        "linear": lambda v: v,
        "relu": torch.relu,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "gelu": lambda v: F.gelu(v),  # exact erf form: Keras gelu(approximate=False) default
        "elu": lambda v: F.elu(v, alpha=1.0),
        "swish": lambda v: v * torch.sigmoid(v),
    }[name](y)


def f32(values):
    """Rounds to 3 decimals, then to float32: short JSON text that parses to the same float32 in C++."""
    return np.round(np.asarray(values, dtype=np.float64), 3).astype(np.float32)


def to64(array32):
    return torch.from_numpy(np.asarray(array32, dtype=np.float64))


def json_floats(array32):
    # repr of a float32 is its shortest round-trip text; parsing it back as a Python float keeps that text.
    return [float(repr(np.float32(v))) for v in np.asarray(array32, dtype=np.float32).ravel()]


# ---- Keras length and padding rules (SPEC §3, KERAS.md §1, §7) ----

def dilated(k, d):
    return d * (k - 1) + 1


def ceil_div(a, b):
    return -(-a // b)


def conv_pads(length, k, s, d, padding):
    """Left and right zero padding of a Conv1D / pooling window, and the Keras output length."""
    dk = dilated(k, d)
    if padding == "valid":
        left, right, out = 0, 0, ceil_div(length - dk + 1, s)
    elif padding == "same":
        out = ceil_div(length, s)
        total = max((out - 1) * s + dk - length, 0)
        left, right = total // 2, total - total // 2  # TF: the odd step goes on the right
    elif padding == "causal":
        left, right, out = dk - 1, 0, ceil_div(length, s)
    else:  # explicit: an int or [left, right]
        left, right = (padding, padding) if isinstance(padding, int) else padding
        out = (length + left + right - dk) // s + 1
    return left, right, out


def transpose_length(length, k, s, d, padding, output_padding):
    dk = dilated(k, d)
    if padding == "valid":
        extra = max(dk, s) - dk if output_padding is None else output_padding
        return (length - 1) * s + dk + extra
    if output_padding is None:
        return length * s
    return (length - 1) * s + dk % 2 + output_padding


# ---- Layers on float64 tensors held as (batch, length, channels) ----

class Weights:
    """Draws each layer's Keras-layout weights from the case's generator, as the forward pass needs them."""

    def __init__(self, rng):
        self.rng = rng
        self.per_layer = []

    def draw(self, kernel_shape, fan_in, filters, use_bias):
        scale = 1.5 / math.sqrt(fan_in)  # keeps outputs O(1) so the activations see both signs
        kernel = f32(self.rng.uniform(-scale, scale, size=kernel_shape))
        bias = f32(self.rng.uniform(-0.5, 0.5, size=filters)) if use_bias else None
        self.per_layer.append({"kernel": json_floats(kernel), "bias": None if bias is None else json_floats(bias)})
        return to64(kernel), None if bias is None else to64(bias)

    def none(self):
        self.per_layer.append(None)


def conv1d(x, layer, weights):
    n, length, cin = x.shape
    k, s = layer["kernel_size"], layer.get("strides", 1)
    d, g = layer.get("dilation_rate", 1), layer.get("groups", 1)
    filters, use_bias = layer["filters"], layer.get("use_bias", True)
    left, right, out = conv_pads(length, k, s, d, layer.get("padding", "valid"))
    kernel, bias = weights.draw((k, cin // g, filters), k * cin // g, filters, use_bias)
    xt = F.pad(x.permute(0, 2, 1), (left, right))  # NCL, zeros
    y = F.conv1d(xt, kernel.permute(2, 1, 0).contiguous(), stride=s, dilation=d, groups=g)
    assert y.shape[2] == out, (y.shape, out)
    if bias is not None:
        y = y + bias[None, :, None]
    return activate(layer.get("activation", "linear"), y).permute(0, 2, 1)


def conv1d_transpose(x, layer, weights):
    n, length, cin = x.shape
    k, s, d = layer["kernel_size"], layer.get("strides", 1), layer.get("dilation_rate", 1)
    filters, use_bias = layer["filters"], layer.get("use_bias", True)
    padding, op = layer.get("padding", "valid"), layer.get("output_padding")
    dk = dilated(k, d)
    lout = transpose_length(length, k, s, d, padding, op)
    full = (length - 1) * s + dk
    crop_left = max(full - lout, 0) // 2 if padding == "same" else 0
    kernel, bias = weights.draw((k, filters, cin), k * cin, filters, use_bias)
    w = kernel.permute(2, 1, 0).contiguous()  # (Cin, filters, k): torch conv_transpose1d weight
    xt = x.permute(0, 2, 1)
    y_full = F.conv_transpose1d(xt, w, stride=s, dilation=d)
    assert y_full.shape[2] == full
    y = torch.zeros(n, filters, lout, dtype=torch.float64)
    kept = min(full - crop_left, lout)
    y[:, :, :kept] = y_full[:, :, crop_left:crop_left + kept]  # steps past the full result: bias only
    check_transpose_against_gradient(xt, w, y, length, lout, k, s, d, padding)
    if bias is not None:
        y = y + bias[None, :, None]
    return activate(layer.get("activation", "linear"), y).permute(0, 2, 1)


def check_transpose_against_gradient(xt, w, y, length, lout, k, s, d, padding):
    """TF's conv_transpose is the gradient of the forward conv (Lout -> L, TF padding) with respect to its
    input; where that forward conv maps Lout back to L, the crop above must give exactly that gradient."""
    left, right, out = conv_pads(lout, k, s, d, padding)
    if out != length:
        return  # e.g. 'same', even K', output_padding 0: no forward conv of this shape; Keras 3's crop rule stands
    z = torch.zeros(xt.shape[0], w.shape[1], lout, dtype=torch.float64, requires_grad=True)
    forward = F.conv1d(F.pad(z, (left, right)), w, stride=s, dilation=d)
    (grad,) = torch.autograd.grad(forward, z, grad_outputs=xt)
    assert torch.allclose(grad, y, atol=1e-12), "transposed-conv window disagrees with TF's gradient definition"


def pool(x, layer, kind):
    n, length, c = x.shape
    p = layer.get("pool_size", 2)
    s = layer.get("strides", p)
    left, right, out = conv_pads(length, p, s, 1, layer.get("padding", "valid"))
    xt = x.permute(0, 2, 1)
    if kind == "max":
        y = F.pad(xt, (left, right), value=-math.inf).unfold(2, p, s).amax(-1)  # padding is never picked
    else:
        sums = F.pad(xt, (left, right)).unfold(2, p, s).sum(-1)
        real = F.pad(torch.ones(length, dtype=torch.float64), (left, right)).unfold(0, p, s).sum(-1)
        y = sums / real  # divide by the steps inside the input only (TF/Keras, not count_include_pad)
    assert y.shape[2] == out
    return y.permute(0, 2, 1)


def forward(x, layers, data_format, weights):
    for layer in layers:
        t = layer["type"]
        if t == "conv1d":
            x = conv1d(x, layer, weights)
        elif t == "conv1d_transpose":
            x = conv1d_transpose(x, layer, weights)
        else:
            weights.none()
            if t in ("max_pool1d", "avg_pool1d"):
                x = pool(x, layer, t[:3])
            elif t == "upsample1d":
                x = x.repeat_interleave(layer.get("size", 2), dim=1)  # [a, b] -> [a, a, b, b]
            elif t == "permute":
                if layer["dims"] == [2, 1]:
                    x = x.permute(0, 2, 1).contiguous()
            elif t == "reshape":
                # Row-major over the per-sample tensor as stored in the data format; target in that format too.
                stored = x if data_format == "channels_last" else x.permute(0, 2, 1)
                stored = stored.reshape(x.shape[0], *layer["target_shape"])
                x = stored if data_format == "channels_last" else stored.permute(0, 2, 1)
            elif t == "activation":
                x = activate(layer["activation"], x)
            else:
                raise ValueError(t)
    return x


# ---- Cases ----

def make_case(case_id, layers, shape, data_format="channels_last", low=-1.5, high=1.5):
    """shape is in the config's data format: (N, L, C) or (N, C, L)."""
    rng = np.random.default_rng(zlib.crc32(case_id.encode()))
    x_user = f32(rng.uniform(low, high, size=shape))
    x = to64(x_user)
    if data_format == "channels_first":
        x = x.permute(0, 2, 1)
    weights = Weights(rng)
    y = forward(x, layers, data_format, weights)
    if data_format == "channels_first":
        y = y.permute(0, 2, 1)
    y_user = y.contiguous().numpy().astype(np.float32)
    assert np.all(np.isfinite(y_user))
    config = {"name": case_id}
    if data_format == "channels_first":
        config["data_format"] = "channels_first"
    config["input"] = {"shape": list(shape)}
    config["layers"] = layers
    return {
        "id": case_id,
        "config": config,
        "input": json_floats(x_user),
        "weights": weights.per_layer,
        "output_shape": list(y_user.shape),
        "output": json_floats(y_user),
    }


def conv(filters, k, **keys):
    return {"type": "conv1d", "filters": filters, "kernel_size": k, **keys}


def convt(filters, k, **keys):
    return {"type": "conv1d_transpose", "filters": filters, "kernel_size": k, **keys}


def conv1d_cases():
    cases = []
    for k in (1, 2, 3, 5):
        for s in (1, 2, 3):
            cases.append(make_case(f"valid_k{k}_s{s}_L13", [conv(3, k, strides=s)], (1, 13, 2)))
    for k, d, s in ((2, 2, 1), (3, 2, 1), (2, 3, 1), (3, 3, 1), (3, 2, 2)):
        cases.append(make_case(f"valid_k{k}_d{d}_s{s}_L14", [conv(2, k, strides=s, dilation_rate=d)], (1, 14, 3)))
    # Strided 'same' over lengths of both parities: the total pad is odd in many of these (extra on the right).
    for length in (8, 9, 10, 11):
        for k, s in ((2, 2), (3, 2), (4, 2), (5, 3), (3, 3), (6, 4)):
            cases.append(make_case(f"same_k{k}_s{s}_L{length}",
                                   [conv(2, k, strides=s, padding="same")], (1, length, 3)))
    for k, d in ((2, 1), (3, 1), (4, 1), (2, 2), (3, 2), (4, 3)):
        cases.append(make_case(f"same_k{k}_d{d}_s1_L9", [conv(3, k, padding="same", dilation_rate=d)], (1, 9, 2)))
    for k, d, s in ((2, 1, 1), (3, 1, 1), (2, 2, 1), (3, 2, 1), (2, 4, 1), (3, 4, 1), (3, 2, 2), (2, 1, 3)):
        cases.append(make_case(f"causal_k{k}_d{d}_s{s}_L12",
                               [conv(2, k, strides=s, dilation_rate=d, padding="causal")], (1, 12, 2)))
    for name, pad, k, s in (("int1", 1, 3, 1), ("int2_s2", 2, 3, 2), ("lr0_2", [0, 2], 3, 1),
                            ("lr3_1_s2", [3, 1], 4, 2), ("lr2_0_d2", [2, 0], 2, 1), ("int0", 0, 2, 1)):
        keys = {"strides": s, "padding": pad}
        if name.endswith("d2"):
            keys["dilation_rate"] = 2
        cases.append(make_case(f"explicit_{name}_k{k}", [conv(3, k, **keys)], (1, 10, 2)))
    for cin, filters, g, keys in ((4, 6, 2, {}), (6, 3, 3, {}), (4, 4, 4, {}), (4, 2, 2, {"padding": "same", "strides": 2}),
                                  (6, 6, 2, {"padding": "causal", "dilation_rate": 2})):
        cases.append(make_case(f"groups{g}_cin{cin}_f{filters}" + ("_" + keys["padding"] if keys else ""),
                               [conv(filters, 3, groups=g, **keys)], (1, 11, cin)))
    for act in ACTIVATIONS:
        cases.append(make_case(f"act_{act}_valid", [conv(3, 3, activation=act)], (1, 9, 3), low=-2.5, high=2.5))
        cases.append(make_case(f"act_{act}_same_s2", [conv(2, 4, strides=2, padding="same", activation=act)],
                               (1, 11, 3), low=-2.5, high=2.5))
    cases.append(make_case("nobias_valid", [conv(3, 3, use_bias=False)], (1, 9, 2)))
    cases.append(make_case("nobias_same_s2", [conv(2, 3, strides=2, padding="same", use_bias=False)], (1, 10, 3)))
    cases.append(make_case("nobias_causal_relu", [conv(2, 2, padding="causal", dilation_rate=3, use_bias=False,
                                                       activation="relu")], (1, 8, 2)))
    cases.append(make_case("batch2_same_s2", [conv(3, 3, strides=2, padding="same")], (2, 9, 2)))
    cases.append(make_case("batch3_valid_d2", [conv(2, 3, dilation_rate=2)], (3, 10, 2)))
    cases.append(make_case("batch2_groups2_causal", [conv(4, 2, groups=2, padding="causal", activation="tanh")],
                           (2, 7, 4)))
    cases.append(make_case("article_reduce_k2_s2", [conv(4, 2, strides=2)], (1, 20, 6)))
    cases.append(make_case("article_keep_k3_same", [conv(4, 3, padding="same")], (1, 15, 6)))
    cases.append(make_case("length1_same_k3", [conv(2, 3, padding="same")], (1, 1, 2)))
    cases.append(make_case("kernel_eq_length_valid", [conv(2, 6)], (1, 6, 2)))
    return cases


def conv1d_transpose_cases():
    cases = []
    for k, s in ((1, 1), (2, 1), (3, 1), (2, 2), (3, 2), (4, 2), (3, 3), (5, 2)):
        cases.append(make_case(f"valid_k{k}_s{s}_L6", [convt(2, k, strides=s)], (1, 6, 3)))
    for k, s, op in ((3, 2, 0), (3, 2, 1), (2, 3, 2), (4, 3, 1), (1, 2, 1), (2, 2, 0)):
        cases.append(make_case(f"valid_k{k}_s{s}_op{op}_L5", [convt(2, k, strides=s, output_padding=op)], (1, 5, 2)))
    for k, s in ((1, 1), (2, 1), (3, 1), (4, 1), (2, 2), (3, 2), (4, 2), (5, 2), (3, 3), (5, 3), (6, 3), (7, 4)):
        cases.append(make_case(f"same_k{k}_s{s}_L5", [convt(2, k, strides=s, padding="same")], (1, 5, 3)))
    # output_padding with 'same': (L-1)*s + K'%2 + op; (k4, s2, op0) is the even-K' case shorter than L*s.
    for k, s, op in ((3, 2, 0), (3, 2, 1), (4, 2, 0), (4, 2, 1), (5, 3, 2), (2, 3, 1), (6, 4, 3), (1, 2, 1)):
        cases.append(make_case(f"same_k{k}_s{s}_op{op}_L4",
                               [convt(3, k, strides=s, padding="same", output_padding=op)], (1, 4, 2)))
    # Dilated kernel shorter than the stride: Keras gives L*s, the last steps hold the bias only.
    for k, s, pad, op in ((1, 2, "valid", None), (1, 3, "same", None), (2, 3, "same", None), (2, 3, "valid", None),
                          (3, 4, "same", None), (2, 4, "same", 3), (1, 4, "valid", 2), (2, 5, "same", None),
                          (1, 3, "valid", None)):
        keys = {"strides": s, "padding": pad}
        if op is not None:
            keys["output_padding"] = op
        cases.append(make_case(f"short_kernel_k{k}_s{s}_{pad}" + ("" if op is None else f"_op{op}"),
                               [convt(2, k, **keys)], (1, 4, 2)))
    for k, s, d, pad, op in ((3, 1, 2, "valid", None), (3, 1, 2, "same", None), (2, 1, 3, "same", None),
                             (3, 2, 2, "same", None), (2, 2, 2, "valid", None), (3, 1, 2, "same", 0),
                             (2, 3, 2, "valid", 1)):
        keys = {"strides": s, "padding": pad, "dilation_rate": d}
        if op is not None:
            keys["output_padding"] = op
        cases.append(make_case(f"dilated_k{k}_s{s}_d{d}_{pad}" + ("" if op is None else f"_op{op}"),
                               [convt(2, k, **keys)], (1, 5, 2)))
    for act in ACTIVATIONS:
        cases.append(make_case(f"act_{act}_same_s2", [convt(2, 3, strides=2, padding="same", activation=act)],
                               (1, 5, 3), low=-2.5, high=2.5))
    cases.append(make_case("nobias_same_s2", [convt(2, 3, strides=2, padding="same", use_bias=False)], (1, 5, 2)))
    cases.append(make_case("nobias_short_kernel_valid", [convt(2, 1, strides=3, use_bias=False)], (1, 4, 2)))
    cases.append(make_case("batch2_same_s2", [convt(3, 4, strides=2, padding="same")], (2, 4, 2)))
    cases.append(make_case("batch3_valid_s3_op1", [convt(2, 2, strides=3, output_padding=1, activation="elu")],
                           (3, 3, 2)))
    cases.append(make_case("article_expand_k3_s2_same", [convt(4, 3, strides=2, padding="same")], (1, 5, 6)))
    cases.append(make_case("length1_same_k3_s2", [convt(2, 3, strides=2, padding="same")], (1, 1, 2)))
    return cases


def pool_cases(kind):
    cases = []
    t = f"{kind}_pool1d"
    settings = ((2, 2), (3, 3), (2, 1), (3, 2), (4, 3), (5, 2), (3, 1), (4, 4))
    for padding in ("valid", "same"):
        for i, (p, s) in enumerate(settings):
            length = 9 + i % 2  # odd and even lengths: 'same' pads differ
            cases.append(make_case(f"{padding}_p{p}_s{s}_L{length}",
                                   [{"type": t, "pool_size": p, "strides": s, "padding": padding}], (1, length, 2)))
    cases.append(make_case("default_strides_p3_L10", [{"type": t, "pool_size": 3}], (1, 10, 2)))
    cases.append(make_case("default_everything_L7", [{"type": t}], (1, 7, 3)))
    cases.append(make_case("same_pool_longer_than_input_p5_L3",
                           [{"type": t, "pool_size": 5, "strides": 1, "padding": "same"}], (1, 3, 2)))
    cases.append(make_case("same_p4_s3_L2", [{"type": t, "pool_size": 4, "strides": 3, "padding": "same"}],
                           (1, 2, 2)))
    cases.append(make_case("batch2_same_p3_s2", [{"type": t, "pool_size": 3, "strides": 2, "padding": "same"}],
                           (2, 8, 3)))
    return cases


def upsample_cases():
    return [make_case(f"size{size or '_default'}_L{length}", [{"type": "upsample1d", **({} if size is None else {"size": size})}],
                      (batch, length, 3))
            for size, length, batch in ((None, 5, 1), (1, 4, 1), (2, 1, 1), (3, 4, 1), (4, 3, 2), (5, 2, 1))]


def permute_cases():
    return [make_case(f"dims{dims[0]}{dims[1]}_{n}x{length}x{c}", [{"type": "permute", "dims": dims}], (n, length, c))
            for dims, n, length, c in (([2, 1], 1, 5, 3), ([2, 1], 1, 1, 4), ([2, 1], 2, 4, 6), ([1, 2], 1, 5, 3),
                                       ([2, 1], 1, 7, 1))]


def reshape_cases():
    return [make_case(f"target_{t[0]}_{t[1]}".replace("-1", "m1") + f"_from_{length}x{c}",
                      [{"type": "reshape", "target_shape": t}], (n, length, c))
            for t, n, length, c in (([-1, 2], 1, 6, 4), ([4, -1], 1, 6, 4), ([8, 3], 1, 6, 4), ([24, 1], 1, 6, 4),
                                    ([3, 8], 2, 6, 4), ([-1, 5], 1, 2, 5), ([1, -1], 1, 3, 3))]


def activation_cases():
    cases = [make_case(f"{act}", [{"type": "activation", "activation": act}], (1, 8, 3), low=-4.0, high=4.0)
             for act in ACTIVATIONS]
    cases.append(make_case("gelu_batch2", [{"type": "activation", "activation": "gelu"}], (2, 5, 2), low=-3, high=3))
    return cases


def stack_cases():
    return [
        make_case("encoder_decoder_L16", [conv(4, 3, strides=2, padding="same", activation="relu"),
                                          conv(6, 3, strides=2, padding="same", activation="relu"),
                                          convt(4, 3, strides=2, padding="same", activation="relu"),
                                          convt(2, 3, strides=2, padding="same")], (1, 16, 2)),
        # 13 -> 7 -> back to 13 needs output_padding 0 ('same', odd K': (7-1)*2 + 1 + 0).
        make_case("encoder_decoder_odd_L13_op0", [conv(3, 3, strides=2, padding="same", activation="tanh"),
                                                  convt(2, 3, strides=2, padding="same", output_padding=0)],
                  (1, 13, 2)),
        make_case("encoder_decoder_valid_L12", [conv(3, 4, strides=2), convt(2, 4, strides=2, activation="elu")],
                  (1, 12, 2)),
        make_case("article_permute_conv_permute", [{"type": "permute", "dims": [2, 1]}, conv(5, 3, padding="same"),
                                                   {"type": "permute", "dims": [2, 1]}], (1, 5, 6)),
        make_case("conv_maxpool_conv_avgpool", [conv(4, 3, activation="relu"),
                                                {"type": "max_pool1d", "pool_size": 2},
                                                conv(3, 2, padding="same", strides=1, activation="swish"),
                                                {"type": "avg_pool1d", "pool_size": 3, "strides": 2, "padding": "same"}],
                  (1, 17, 2)),
        make_case("upsample_conv_decoder", [{"type": "upsample1d", "size": 2}, conv(3, 3, padding="same"),
                                            {"type": "upsample1d", "size": 3},
                                            conv(2, 4, padding="causal", activation="sigmoid")], (1, 4, 2)),
        make_case("conv_activation_reshape_conv", [conv(4, 2), {"type": "activation", "activation": "gelu"},
                                                   {"type": "reshape", "target_shape": [-1, 2]}, conv(2, 3, strides=2)],
                  (1, 9, 3)),
        make_case("tcn_causal_d1_d2_d4", [conv(3, 2, padding="causal", activation="relu"),
                                          conv(3, 2, padding="causal", dilation_rate=2, activation="relu"),
                                          conv(2, 2, padding="causal", dilation_rate=4)], (1, 16, 2)),
        make_case("convt_valid_then_maxpool_same", [convt(3, 3, strides=2),
                                                    {"type": "max_pool1d", "pool_size": 3, "strides": 2,
                                                     "padding": "same"}], (1, 6, 2)),
        make_case("groups_permute_reshape_conv", [conv(4, 3, groups=2, padding="same"),
                                                  {"type": "permute", "dims": [2, 1]},
                                                  {"type": "reshape", "target_shape": [-1, 4]},
                                                  conv(2, 2, padding=[1, 0])], (1, 8, 4)),
        make_case("short_kernel_convt_then_conv", [convt(3, 1, strides=3, activation="relu"), conv(2, 3, strides=3)],
                  (2, 4, 2)),
    ]


def channels_first_cases():
    cf = "channels_first"
    return [
        make_case("conv_valid_k3", [conv(3, 3)], (1, 2, 9), cf),
        make_case("conv_same_k4_s2_L11", [conv(2, 4, strides=2, padding="same", activation="relu")], (1, 3, 11), cf),
        make_case("conv_causal_d2_batch2", [conv(2, 3, padding="causal", dilation_rate=2)], (2, 2, 8), cf),
        make_case("convt_same_k3_s2", [convt(2, 3, strides=2, padding="same")], (1, 3, 5), cf),
        make_case("convt_valid_k1_s3", [convt(2, 1, strides=3)], (1, 2, 4), cf),
        make_case("max_pool_same_p3_s2", [{"type": "max_pool1d", "pool_size": 3, "strides": 2, "padding": "same"}],
                  (1, 3, 10), cf),
        make_case("avg_pool_same_p4_s3", [{"type": "avg_pool1d", "pool_size": 4, "strides": 3, "padding": "same"}],
                  (1, 2, 10), cf),
        make_case("upsample_size3", [{"type": "upsample1d", "size": 3}], (1, 2, 4), cf),
        make_case("permute_21", [{"type": "permute", "dims": [2, 1]}], (1, 3, 5), cf),
        make_case("reshape_m1_6", [{"type": "reshape", "target_shape": [-1, 6]}], (1, 4, 3), cf),
        make_case("activation_swish", [{"type": "activation", "activation": "swish"}], (1, 3, 4), cf, -3, 3),
        make_case("encoder_decoder_L10", [conv(4, 3, strides=2, padding="same", activation="elu"),
                                          convt(3, 3, strides=2, padding="same"),
                                          {"type": "reshape", "target_shape": [5, -1]},
                                          conv(2, 3, padding="same")], (1, 2, 10), cf),
    ]


FAMILIES = {
    "conv1d": conv1d_cases,
    "conv1d_transpose": conv1d_transpose_cases,
    "max_pool1d": lambda: pool_cases("max"),
    "avg_pool1d": lambda: pool_cases("avg"),
    "upsample1d": upsample_cases,
    "permute": permute_cases,
    "reshape": reshape_cases,
    "activation": activation_cases,
    "stack": stack_cases,
    "channels_first": channels_first_cases,
}


def main():
    torch.set_default_dtype(torch.float64)
    os.makedirs(OUT, exist_ok=True)
    total = 0
    for family, build in FAMILIES.items():
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
