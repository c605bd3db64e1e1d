# PyTorch layer settings in native configs (SPEC §8, last sentence), for scripts/make_layer_goldens.py: the
# layers computed with PyTorch's own functions in float64 (F.pad modes, F.conv1d, F.conv_transpose1d,
# F.max_pool1d / F.avg_pool1d, F.interpolate), each cross-checked against a second torch formulation, and the
# golden cases of the four families pytorch_padding, pytorch_transpose, pytorch_pooling, pytorch_upsample.
"""Imported by make_layer_goldens.py; not run on its own. Tensors are (B, L, C) as the tool holds them; torch
wants (B, C, L), hence the permutes. Keras kernel layouts: Conv1D (k, Cin, F), Conv1DTranspose (k, F, Cin)."""
import math

import torch
import torch.nn.functional as F


def ncl(x):
    return x.permute(0, 2, 1)


def pad_steps(x, left, right, mode):
    """(B, L, C) with `left`/`right` steps added as torch.nn.functional.pad fills them (zeros: constant 0)."""
    if mode == "zeros":
        return ncl(F.pad(ncl(x), (left, right)))
    return ncl(F.pad(ncl(x), (left, right), mode=mode))


def check_conv_module(x, kernel, bias, k, s, d, pad, mode, y):
    """torch.nn.Conv1d(padding=pad, padding_mode=mode) with the same weights gives y (symmetric pads only)."""
    cin, filters = kernel.shape[1], kernel.shape[2]
    m = torch.nn.Conv1d(cin, filters, k, stride=s, padding=pad, dilation=d, padding_mode=mode,
                        bias=bias is not None).double()
    with torch.no_grad():
        m.weight.copy_(kernel.permute(2, 1, 0))
        if bias is not None:
            m.bias.copy_(bias)
        ref = ncl(m(ncl(x)))
    assert torch.allclose(ref, y, atol=1e-12), "nn.Conv1d(padding_mode) disagrees"


def conv_transpose(x, kernel, bias, s, d, padding, output_padding):
    """PyTorch ConvTranspose1d with padding p or [left, right] (a crop of the full result) and output_padding."""
    left, right = (padding, padding) if isinstance(padding, int) else padding
    p = min(left, right)  # torch pads symmetrically: crop the rest by hand
    w = kernel.permute(2, 1, 0)  # Keras (k, F, Cin) -> torch (Cin, F, k)
    y = F.conv_transpose1d(ncl(x), w, bias, stride=s, padding=p, output_padding=output_padding, dilation=d)
    y = y[:, :, left - p:y.shape[2] - (right - p)]
    # The same by scattering every input step into the full result (length (L-1)s + K'), then the window.
    b, length, cin = x.shape
    k, filters = kernel.shape[0], kernel.shape[1]
    full = (length - 1) * s + d * (k - 1) + 1
    acc = torch.zeros(b, full + output_padding, filters, dtype=x.dtype)
    for i in range(length):
        for j in range(k):
            acc[:, i * s + j * d, :] += x[:, i, :] @ kernel[j].T
    expected = acc[:, left:full + output_padding - right, :] + (0 if bias is None else bias)
    assert torch.allclose(ncl(y), expected, atol=1e-12), "conv_transpose1d disagrees with the scatter"
    return ncl(y)


def pool(x, layer, kind, pads):
    """PyTorch MaxPool1d / AvgPool1d with pads (left, right), ceil_mode, count_include_pad (default false here,
    as Keras), dilation_rate (max only)."""
    p = layer.get("pool_size", 2)
    s = layer.get("strides", p)
    d = layer.get("dilation_rate", 1)
    ceil = layer.get("ceil_mode", False)
    include = layer.get("count_include_pad", False)
    left, right = pads
    xc = ncl(x)
    if left == right:
        if kind == "max":
            y = F.max_pool1d(xc, p, s, padding=left, dilation=d, ceil_mode=ceil)
        else:
            y = F.avg_pool1d(xc, p, s, padding=left, ceil_mode=ceil, count_include_pad=include)
    else:  # asymmetric pads (TF 'same', [l, r]): pad by hand; torch's ceil rule would then count both pads
        assert not ceil
        if kind == "max":
            y = F.max_pool1d(F.pad(xc, (left, right), value=-math.inf), p, s, dilation=d)
        else:
            summed = F.avg_pool1d(F.pad(xc, (left, right)), p, s) * p
            real = F.avg_pool1d(F.pad(torch.ones_like(xc[:1, :1]), (left, right)), p, s) * p
            y = summed / p if include else summed / real
    # A second formulation: every window by index, written from the PyTorch rule.
    b, length, c = x.shape
    dk = d * (p - 1) + 1
    padded = length + left + right
    if ceil:
        out = -(-(padded - dk) // s) + 1
        if (out - 1) * s >= length + left:
            out -= 1
    else:
        out = (padded - dk) // s + 1
    rows = []
    for o in range(out):
        idx = [o * s - left + j * d for j in range(p)]
        real = [i for i in idx if 0 <= i < length]
        if kind == "max":
            rows.append(x[:, real, :].amax(1))
        else:
            divisor = sum(1 for i in idx if i < length + right) if include else len(real)
            rows.append(x[:, real, :].sum(1) / divisor)
    assert torch.allclose(ncl(y), torch.stack(rows, 1), atol=1e-12), "pooling disagrees with its windows"
    return ncl(y)


def upsample(x, layer):
    size = layer.get("size", 2)
    mode = layer.get("interpolation", "nearest")
    if mode == "nearest":
        return x.repeat_interleave(size, dim=1)
    align = layer.get("align_corners", False)
    y = ncl(F.interpolate(ncl(x), scale_factor=size, mode="linear", align_corners=align))
    m = torch.nn.Upsample(scale_factor=size, mode="linear", align_corners=align)
    assert torch.allclose(ncl(m(ncl(x))), y, atol=1e-12)
    return y


# ---- cases ----

def padding_cases(single, L):
    conv = lambda name, f, k, **keys: L("conv1d", name, filters=f, kernel_size=k, **keys)
    zp = lambda name, **keys: L("zero_padding1d", name, **keys)
    return [
        single("conv_reflect_pad1_k3", [conv("c", 3, 3, padding=1, padding_mode="reflect")], (2, 7, 2)),
        single("conv_replicate_pad2_k5_s2", [conv("c", 2, 5, strides=2, padding=2, padding_mode="replicate")], (2, 9, 3)),
        single("conv_circular_pad2_k3_d2", [conv("c", 3, 3, dilation_rate=2, padding=2, padding_mode="circular")],
               (2, 6, 2)),
        single("conv_reflect_same_k4", [conv("c", 3, 4, padding="same", padding_mode="reflect")], (2, 7, 2)),
        single("conv_replicate_causal_k3_d2", [conv("c", 2, 3, dilation_rate=2, padding="causal",
                                                    padding_mode="replicate")], (2, 6, 3)),
        single("conv_circular_lr_2_1_k4_s2", [conv("c", 3, 4, strides=2, padding=[2, 1], padding_mode="circular")],
               (2, 8, 2)),
        single("conv_reflect_lr_3_0_k2_d3", [conv("c", 2, 2, dilation_rate=3, padding=[3, 0], padding_mode="reflect")],
               (2, 6, 2)),
        single("conv_circular_pad_eq_length", [conv("c", 2, 3, padding=4, padding_mode="circular")], (2, 4, 2)),
        single("conv_reflect_relu_nobias", [conv("c", 4, 3, padding=2, padding_mode="reflect", activation="relu",
                                                 use_bias=False)], (2, 5, 3)),
        single("conv_zeros_explicit_mode", [conv("c", 3, 3, padding=1, padding_mode="zeros")], (2, 6, 2)),
        single("depthwise_reflect_same_k3_m2", [L("depthwise_conv1d", "dw", kernel_size=3, depth_multiplier=2,
                                                  padding="same", padding_mode="reflect")], (2, 7, 3)),
        single("separable_replicate_causal_k3", [L("separable_conv1d", "sep", filters=3, kernel_size=3, padding="causal",
                                                   padding_mode="replicate")], (2, 6, 2)),
        single("pad_reflect_2_3", [zp("p", padding=[2, 3], padding_mode="reflect")], (2, 5, 3)),
        single("pad_replicate_3", [zp("p", padding=3, padding_mode="replicate")], (2, 4, 2)),
        single("pad_circular_1_4", [zp("p", padding=[1, 4], padding_mode="circular")], (2, 5, 2)),
        single("pad_reflect_then_valid_conv", [zp("p", padding=[1, 1], padding_mode="reflect"), conv("c", 3, 3)],
               (2, 6, 2)),
        single("cf_conv_reflect_pad1", [conv("c", 3, 3, padding=1, padding_mode="reflect")], (2, 2, 7),
               data_format="channels_first"),
    ]


def transpose_cases(single, L):
    tc = lambda name, f, k, **keys: L("conv1d_transpose", name, filters=f, kernel_size=k, **keys)
    return [
        single("tconv_pad1_k3_s2", [tc("t", 3, 3, strides=2, padding=1)], (2, 5, 2)),
        single("tconv_pad1_k3_s2_op1", [tc("t", 3, 3, strides=2, padding=1, output_padding=1)], (2, 5, 2)),
        single("tconv_lr_2_0_k4_s2_op1", [tc("t", 2, 4, strides=2, padding=[2, 0], output_padding=1)], (2, 4, 3)),
        single("tconv_lr_0_3_k3_s3_d2_op1", [tc("t", 4, 3, strides=3, dilation_rate=2, padding=[0, 3],
                                                output_padding=1)], (2, 4, 2)),
        single("tconv_pad2_k5_d2_op1_over_stride", [tc("t", 3, 5, dilation_rate=2, padding=2, output_padding=1)],
               (2, 5, 2)),
        single("tconv_pad0_k2_s3_op2_bias_tail", [tc("t", 2, 2, strides=3, padding=0, output_padding=2)], (2, 4, 2)),
        single("tconv_pad1_relu_8f", [tc("t", 8, 3, strides=2, padding=1, activation="relu")], (2, 5, 3)),
        single("tconv_pad2_k4_s2_nobias", [tc("t", 3, 4, strides=2, padding=2, use_bias=False)], (2, 6, 2)),
    ]


def pooling_cases(single, L):
    mp = lambda name, **keys: L("max_pool1d", name, **keys)
    ap = lambda name, **keys: L("avg_pool1d", name, **keys)
    return [
        single("max_pad1_k3_s2", [mp("p", pool_size=3, strides=2, padding=1)], (2, 8, 2)),
        single("max_pad1_k3_s2_ceil", [mp("p", pool_size=3, strides=2, padding=1, ceil_mode=True)], (2, 8, 2)),
        single("max_k2_s2_ceil_overhang", [mp("p", pool_size=2, ceil_mode=True)], (2, 7, 3)),
        single("max_d2_k3_s1_pad1", [mp("p", pool_size=3, strides=1, padding=1, dilation_rate=2)], (2, 7, 2)),
        single("max_d2_k3_s2_pad1_ceil", [mp("p", pool_size=3, strides=2, padding=1, dilation_rate=2, ceil_mode=True)],
               (2, 8, 2)),
        single("max_lr_1_0_k2", [mp("p", pool_size=2, strides=1, padding=[1, 0])], (2, 5, 2)),
        single("avg_pad1_k3_s2_incl", [ap("p", pool_size=3, strides=2, padding=1, count_include_pad=True)], (2, 8, 2)),
        single("avg_pad1_k3_s2_excl", [ap("p", pool_size=3, strides=2, padding=1, count_include_pad=False)], (2, 8, 2)),
        single("avg_pad1_k3_s2_incl_ceil", [ap("p", pool_size=3, strides=2, padding=1, count_include_pad=True,
                                               ceil_mode=True)], (2, 8, 2)),
        single("avg_pad1_k3_s2_excl_ceil", [ap("p", pool_size=3, strides=2, padding=1, ceil_mode=True)], (2, 8, 2)),
        single("avg_k3_s2_incl_ceil_nopad", [ap("p", pool_size=3, strides=2, count_include_pad=True, ceil_mode=True)],
               (2, 8, 2)),
        single("avg_k2_s3_pad1_ceil_last_window_rule", [ap("p", pool_size=2, strides=3, padding=1, ceil_mode=True,
                                                           count_include_pad=True)], (2, 4, 2)),
        single("max_k2_s3_pad1_ceil_last_window_rule", [mp("p", pool_size=2, strides=3, padding=1, ceil_mode=True)],
               (2, 4, 2)),
        single("avg_lr_0_1_k2_incl", [ap("p", pool_size=2, strides=2, padding=[0, 1], count_include_pad=True)],
               (2, 7, 2)),
        single("avg_same_k3_s2_incl", [ap("p", pool_size=3, strides=2, padding="same", count_include_pad=True)],
               (2, 8, 2)),
        single("conv_max_pad1_ceil_cf", [L("conv1d", "c", filters=3, kernel_size=2),
                                         mp("p", pool_size=3, strides=2, padding=1, ceil_mode=True)], (2, 2, 8),
               data_format="channels_first"),
    ]


def upsample_cases(single, L):
    up = lambda name, **keys: L("upsample1d", name, **keys)
    return [
        single("linear_x2", [up("u", size=2, interpolation="linear")], (2, 5, 2)),
        single("linear_x3", [up("u", size=3, interpolation="linear")], (2, 4, 3)),
        single("linear_x2_align", [up("u", size=2, interpolation="linear", align_corners=True)], (2, 5, 2)),
        single("linear_x3_align", [up("u", size=3, interpolation="linear", align_corners=True)], (2, 4, 2)),
        single("linear_x1_align", [up("u", size=1, interpolation="linear", align_corners=True)], (2, 4, 2)),
        single("linear_len1_x4_align", [up("u", size=4, interpolation="linear", align_corners=True)], (2, 1, 3)),
        single("nearest_explicit", [up("u", size=3, interpolation="nearest")], (2, 4, 2)),
        single("conv_linear_conv", [L("conv1d", "c1", filters=4, kernel_size=3, padding="same"),
                                    up("u", size=2, interpolation="linear"),
                                    L("conv1d", "c2", filters=2, kernel_size=3)], (2, 5, 2)),
        single("conv_linear_align_16ch", [L("conv1d", "c1", filters=16, kernel_size=2),
                                          up("u", size=2, interpolation="linear", align_corners=True)], (2, 5, 2)),
    ]
