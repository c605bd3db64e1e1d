#!/usr/bin/python3
"""Exports small PyTorch models to ONNX for tests/test_onnx.cpp (Debian's python3-torch 1.13, python3-onnx;
offline). Run from the repository root:  /usr/bin/python3 scripts/make_onnx_fixtures.py

For every model it writes to tests/fixtures/onnx/:
  <name>.onnx          torch.onnx.export with the (random, seeded) weights inside
  <name>.in<k>.npy     the inputs (float32)
  <name>.out<k>.npy    PyTorch's outputs in eval mode (float32)
and one manifest.json with, per model, its inputs/outputs, every node's op type and output shape from ONNX shape
inference (onnx.shape_inference.infer_shapes: the graph's own value_info), PyTorch's parameter and buffer counts,
and `needs`: the PyTorch-only native settings (padding_mode, pool padding/ceil_mode/count_include_pad, linear
upsampling, transposed-conv padding) the mapping emits for it.
"""
import json
import os
import sys

import numpy as np
import onnx
import onnx.shape_inference
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "onnx")
MODELS = []


def model(name, shape, opset=14, needs=(), inputs=None):
    def add(factory):
        MODELS.append(dict(name=name, factory=factory, shapes=inputs or [shape], opset=opset, needs=list(needs)))
        return factory
    return add


class Seq(nn.Module):
    def __init__(self, *layers):
        super().__init__()
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return self.body(x)


class Fn(nn.Module):
    """A module from a function and optional submodules."""
    def __init__(self, fn, **mods):
        super().__init__()
        self.fn = fn
        for k, v in mods.items():
            setattr(self, k, v)

    def forward(self, *x):
        return self.fn(self, *x)


def seq(name, shape, layers, **kw):
    model(name, shape, **kw)(lambda: Seq(*layers()))


def fn(name, shape, f, mods=lambda: {}, **kw):
    model(name, shape, **kw)(lambda: Fn(f, **mods()))


S = (2, 3, 16)  # batch 2, 3 channels, 16 steps

# ---- Conv ----
seq("conv_basic", S, lambda: [nn.Conv1d(3, 4, 3)])
seq("conv_nobias", S, lambda: [nn.Conv1d(3, 4, 3, bias=False)])
seq("conv_stride2", S, lambda: [nn.Conv1d(3, 4, 3, stride=2)])
seq("conv_stride3_pad2", S, lambda: [nn.Conv1d(3, 4, 5, stride=3, padding=2)])
seq("conv_dilation2", S, lambda: [nn.Conv1d(3, 4, 3, dilation=2)])
seq("conv_dilation3_pad", S, lambda: [nn.Conv1d(3, 4, 3, dilation=3, padding=3)])
seq("conv_pad1", S, lambda: [nn.Conv1d(3, 4, 3, padding=1)])
seq("conv_k1", S, lambda: [nn.Conv1d(3, 5, 1)])
seq("conv_groups3", (2, 6, 12), lambda: [nn.Conv1d(6, 9, 3, groups=3)])
seq("conv_groups2_stride", (2, 4, 12), lambda: [nn.Conv1d(4, 6, 3, groups=2, stride=2, padding=1)])
seq("conv_depthwise", (2, 4, 12), lambda: [nn.Conv1d(4, 4, 3, groups=4, padding=1)])
seq("conv_depthwise_mult2", (2, 4, 12), lambda: [nn.Conv1d(4, 8, 3, groups=4)])
seq("conv_separable", (2, 4, 12), lambda: [nn.Conv1d(4, 4, 3, groups=4, padding=1), nn.Conv1d(4, 6, 1)])
seq("conv_pad_reflect", S, lambda: [nn.Conv1d(3, 4, 3, padding=2, padding_mode="reflect")], needs=["padding_mode"])
seq("conv_pad_replicate", S, lambda: [nn.Conv1d(3, 4, 3, padding=1, padding_mode="replicate")], needs=["padding_mode"])
seq("conv_batch1", (1, 3, 16), lambda: [nn.Conv1d(3, 4, 3)])
seq("conv_stack", S, lambda: [nn.Conv1d(3, 4, 3), nn.ReLU(), nn.Conv1d(4, 4, 3, stride=2), nn.Tanh()])

# ---- ConvTranspose ----
seq("convt_basic", S, lambda: [nn.ConvTranspose1d(3, 4, 3)])
seq("convt_stride2", S, lambda: [nn.ConvTranspose1d(3, 4, 4, stride=2)])
seq("convt_dilation", S, lambda: [nn.ConvTranspose1d(3, 2, 3, dilation=2)])
seq("convt_outpad", S, lambda: [nn.ConvTranspose1d(3, 4, 3, stride=2, output_padding=1)])
seq("convt_nobias", S, lambda: [nn.ConvTranspose1d(3, 4, 3, stride=2, bias=False)])
seq("convt_pad1", S, lambda: [nn.ConvTranspose1d(3, 4, 3, stride=2, padding=1)], needs=["transpose_padding"])
seq("convt_pad1_outpad", S, lambda: [nn.ConvTranspose1d(3, 4, 4, stride=2, padding=1, output_padding=1)],
    needs=["transpose_padding"])
seq("convt_pad2_stride3", S, lambda: [nn.ConvTranspose1d(3, 2, 5, stride=3, padding=2)], needs=["transpose_padding"])

# ---- Pooling ----
seq("maxpool_k2", S, lambda: [nn.MaxPool1d(2)])
seq("maxpool_k3_s1", S, lambda: [nn.MaxPool1d(3, stride=1)])
seq("maxpool_k3_s2", S, lambda: [nn.MaxPool1d(3, stride=2)])
seq("maxpool_pad1", S, lambda: [nn.MaxPool1d(3, stride=2, padding=1)], needs=["pool_padding"])
seq("maxpool_ceil", (2, 3, 15), lambda: [nn.MaxPool1d(2, ceil_mode=True)], needs=["ceil_mode"])
seq("maxpool_ceil_pad", (2, 3, 15), lambda: [nn.MaxPool1d(4, stride=3, padding=1, ceil_mode=True)],
    needs=["pool_padding", "ceil_mode"])
seq("maxpool_dilation", S, lambda: [nn.MaxPool1d(3, stride=1, dilation=2)], needs=["dilation_rate"])
seq("avgpool_k2", S, lambda: [nn.AvgPool1d(2)])
seq("avgpool_k3_s1", S, lambda: [nn.AvgPool1d(3, stride=1)])
seq("avgpool_pad_incl", S, lambda: [nn.AvgPool1d(3, stride=2, padding=1)], needs=["pool_padding", "count_include_pad"])
seq("avgpool_pad_excl", S, lambda: [nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False)],
    needs=["pool_padding"])
seq("avgpool_ceil", (2, 3, 15), lambda: [nn.AvgPool1d(2, ceil_mode=True)], needs=["ceil_mode"])
seq("avgpool_ceil_pad_incl", (2, 3, 15), lambda: [nn.AvgPool1d(4, stride=3, padding=1, ceil_mode=True)],
    needs=["pool_padding", "ceil_mode", "count_include_pad"])
seq("avgpool_ceil_pad_excl", (2, 3, 15),
    lambda: [nn.AvgPool1d(4, stride=3, padding=1, ceil_mode=True, count_include_pad=False)],
    needs=["pool_padding", "ceil_mode"])
seq("global_avg", S, lambda: [nn.AdaptiveAvgPool1d(1)])
seq("global_max", S, lambda: [nn.AdaptiveMaxPool1d(1)])
fn("mean_over_length", S, lambda m, x: x.mean(dim=2))
fn("mean_keepdim", S, lambda m, x: x.mean(dim=-1, keepdim=True))
fn("max_over_length", S, lambda m, x: torch.amax(x, dim=2))

# ---- Resize / Upsample ----
seq("upsample_nearest2", S, lambda: [nn.Upsample(scale_factor=2, mode="nearest")])
seq("upsample_nearest3", S, lambda: [nn.Upsample(scale_factor=3, mode="nearest")])
seq("upsample_linear2", S, lambda: [nn.Upsample(scale_factor=2, mode="linear", align_corners=False)],
    needs=["interpolation"])
seq("upsample_linear2_ac", S, lambda: [nn.Upsample(scale_factor=2, mode="linear", align_corners=True)],
    needs=["interpolation"])
seq("upsample_linear3", (2, 3, 7), lambda: [nn.Upsample(scale_factor=3, mode="linear")], needs=["interpolation"])

# ---- Pad ----
seq("pad_zero", S, lambda: [nn.ConstantPad1d((2, 1), 0.0)])
seq("pad_reflect", S, lambda: [nn.ReflectionPad1d((2, 3))], needs=["padding_mode"])
seq("pad_replicate", S, lambda: [nn.ReplicationPad1d((1, 2))], needs=["padding_mode"])
# Not circular padding: torch 1.13 exports it as Slice(-left, -right) + Concat, which differs from its own result
# for left != right (the ONNX graph is wrong, so no mapping can match PyTorch).
fn("pad_negative", S, lambda m, x: F.pad(x, (-2, -1)))

# ---- Normalisation ----
seq("batchnorm", S, lambda: [nn.BatchNorm1d(3)])
seq("conv_bn_relu", S, lambda: [nn.Conv1d(3, 4, 3, bias=False), nn.BatchNorm1d(4), nn.ReLU()])
seq("batchnorm_flat", (2, 6), lambda: [nn.Linear(6, 5), nn.BatchNorm1d(5)])
fn("layernorm_channels", S, lambda m, x: m.ln(x.transpose(1, 2)).transpose(1, 2), lambda: {"ln": nn.LayerNorm(3)},
   opset=17)
fn("layernorm_length", S, lambda m, x: m.ln(x), lambda: {"ln": nn.LayerNorm(16)}, opset=17)

# ---- Heads and shapes ----
seq("flatten_linear", S, lambda: [nn.Conv1d(3, 4, 3), nn.Flatten(), nn.Linear(56, 5)])
fn("view_linear", S, lambda m, x: m.fc(m.conv(x).view(x.size(0), -1)),
   lambda: {"conv": nn.Conv1d(3, 2, 3), "fc": nn.Linear(28, 4)})
fn("reshape_linear", S, lambda m, x: m.fc(torch.reshape(x, (x.shape[0], -1))), lambda: {"fc": nn.Linear(48, 3)})
fn("reshape_rank3", S, lambda m, x: x.reshape(x.shape[0], 6, 8))
fn("linear_on_steps", S, lambda m, x: m.fc(x.transpose(1, 2)), lambda: {"fc": nn.Linear(3, 5)})
fn("linear_on_steps_back", S, lambda m, x: m.fc(x.transpose(1, 2)).transpose(1, 2), lambda: {"fc": nn.Linear(3, 5)})
fn("linear_last_axis", S, lambda m, x: m.fc(x), lambda: {"fc": nn.Linear(16, 4)})
fn("linear_nobias_steps", S, lambda m, x: m.fc(x.permute(0, 2, 1)), lambda: {"fc": nn.Linear(3, 2, bias=False)})
seq("mlp_flat", (2, 8), lambda: [nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 3), nn.Softmax(dim=1)])
fn("transpose_only", S, lambda m, x: x.transpose(1, 2))
fn("transpose_twice_conv", S, lambda m, x: m.c(x.transpose(1, 2).transpose(1, 2)), lambda: {"c": nn.Conv1d(3, 2, 3)})
fn("squeeze_unsqueeze", S, lambda m, x: m.pool(x).squeeze(-1).unsqueeze(-1), lambda: {"pool": nn.AdaptiveAvgPool1d(1)})
fn("squeeze_head", S, lambda m, x: m.fc(m.pool(x).squeeze(-1)),
   lambda: {"pool": nn.AdaptiveAvgPool1d(1), "fc": nn.Linear(3, 2)})
fn("concat_channels", S, lambda m, x: torch.cat([m.a(x), m.b(x)], dim=1),
   lambda: {"a": nn.Conv1d(3, 2, 3, padding=1), "b": nn.Conv1d(3, 4, 3, padding=1)})
fn("concat_length", S, lambda m, x: torch.cat([x, m.a(x)], dim=2), lambda: {"a": nn.Conv1d(3, 3, 5)})
fn("slice_length", S, lambda m, x: x[:, :, 2:11])
fn("slice_channels", S, lambda m, x: x[:, 1:3, :])
fn("slice_last_step", S, lambda m, x: x[:, :, -1])
fn("chunk_gate", (2, 4, 10), lambda m, x: torch.tanh(x[:, :2]) * torch.sigmoid(x[:, 2:]))
fn("dropout_identity", S, lambda m, x: m.d(m.c(x)), lambda: {"c": nn.Conv1d(3, 2, 3), "d": nn.Dropout(0.5)})

# ---- Arithmetic ----
fn("add_tensors", S, lambda m, x: m.a(x) + m.b(x), lambda: {"a": nn.Conv1d(3, 2, 3), "b": nn.Conv1d(3, 2, 3)})
fn("sub_tensors", S, lambda m, x: m.a(x) - m.b(x), lambda: {"a": nn.Conv1d(3, 2, 3), "b": nn.Conv1d(3, 2, 3)})
fn("mul_tensors", S, lambda m, x: m.a(x) * m.b(x), lambda: {"a": nn.Conv1d(3, 2, 3), "b": nn.Conv1d(3, 2, 3)})
fn("residual_add", S, lambda m, x: x + m.a(x), lambda: {"a": nn.Conv1d(3, 3, 3, padding=1)})
fn("scale_scalar", S, lambda m, x: x * 0.5 + 1.0)
fn("sub_scalar_rev", S, lambda m, x: 2.0 - x)
fn("div_scalar", S, lambda m, x: x / 4.0)
fn("scale_per_channel", S, lambda m, x: x * m.w + m.b, lambda: {"w": nn.Parameter(torch.randn(3, 1)),
                                                               "b": nn.Parameter(torch.randn(1, 3, 1))})
fn("scale_flat", (2, 5), lambda m, x: x * 3.0 - 1.0)
fn("silu_pattern", S, lambda m, x: x * torch.sigmoid(x))

# ---- Activations ----
for act_name, act in [("relu", nn.ReLU), ("leaky_relu", lambda: nn.LeakyReLU(0.1)), ("elu", lambda: nn.ELU(0.7)),
                      ("selu", nn.SELU), ("sigmoid", nn.Sigmoid), ("tanh", nn.Tanh), ("gelu", nn.GELU),
                      ("hardsigmoid", nn.Hardsigmoid), ("hardswish", nn.Hardswish), ("softplus", nn.Softplus),
                      ("relu6", nn.ReLU6), ("clip_0_2", lambda: nn.Hardtanh(0.0, 2.0)), ("silu", nn.SiLU)]:
    seq("act_" + act_name, S, (lambda a: lambda: [nn.Conv1d(3, 4, 3), a()])(act))
seq("softmax_channels", S, lambda: [nn.Softmax(dim=1)])
seq("softmax_length", S, lambda: [nn.Softmax(dim=2)])
seq("logsoftmax_channels", S, lambda: [nn.LogSoftmax(dim=1)])
seq("logsoftmax_length", S, lambda: [nn.LogSoftmax(dim=-1)])
seq("softmax_opset11", S, lambda: [nn.Softmax(dim=2)], opset=11)
seq("conv_opset11", S, lambda: [nn.Conv1d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(64, 2)], opset=11)
seq("conv_opset17", S, lambda: [nn.Conv1d(3, 4, 3), nn.GELU()], opset=17)

# ---- Recurrent ----
fn("lstm_batch_first", (2, 3, 8), lambda m, x: m.l(x.transpose(1, 2))[0],
   lambda: {"l": nn.LSTM(3, 4, batch_first=True)})
fn("lstm_seq_first", (2, 3, 8), lambda m, x: m.l(x.permute(2, 0, 1))[0].permute(1, 2, 0), lambda: {"l": nn.LSTM(3, 4)})
fn("lstm_last_step", (2, 3, 8), lambda m, x: m.l(x.transpose(1, 2))[0][:, -1, :],
   lambda: {"l": nn.LSTM(3, 4, batch_first=True)})
fn("lstm_hidden", (2, 3, 8), lambda m, x: m.fc(m.l(x.transpose(1, 2))[1][0][-1]),
   lambda: {"l": nn.LSTM(3, 4, batch_first=True), "fc": nn.Linear(4, 2)})
fn("lstm_bidirectional", (2, 3, 8), lambda m, x: m.l(x.transpose(1, 2))[0],
   lambda: {"l": nn.LSTM(3, 4, batch_first=True, bidirectional=True)})
fn("lstm_two_layers", (2, 3, 8), lambda m, x: m.l(x.transpose(1, 2))[0],
   lambda: {"l": nn.LSTM(3, 4, num_layers=2, batch_first=True)})
fn("gru_batch_first", (2, 3, 8), lambda m, x: m.g(x.transpose(1, 2))[0],
   lambda: {"g": nn.GRU(3, 5, batch_first=True)})
fn("gru_bidirectional", (2, 3, 8), lambda m, x: m.g(x.transpose(1, 2))[0],
   lambda: {"g": nn.GRU(3, 4, batch_first=True, bidirectional=True)})
fn("gru_hidden", (2, 3, 8), lambda m, x: m.g(x.transpose(1, 2))[1][-1], lambda: {"g": nn.GRU(3, 4, batch_first=True)})


# ---- Miniature real architectures ----
class TCNBlock(nn.Module):
    """Causal dilated residual block (Bai et al.): left padding then chomp-free conv."""
    def __init__(self, c_in, c_out, k, d):
        super().__init__()
        self.pad = (k - 1) * d
        self.c1 = nn.Conv1d(c_in, c_out, k, dilation=d)
        self.c2 = nn.Conv1d(c_out, c_out, k, dilation=d)
        self.down = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else None

    def forward(self, x):
        y = F.relu(self.c1(F.pad(x, (self.pad, 0))))
        y = F.relu(self.c2(F.pad(y, (self.pad, 0))))
        return F.relu(y + (x if self.down is None else self.down(x)))


model("arch_tcn", (2, 3, 24))(lambda: nn.Sequential(TCNBlock(3, 4, 3, 1), TCNBlock(4, 4, 3, 2), TCNBlock(4, 4, 3, 4)))


class TCNChomp(nn.Module):
    """The original TCN code: symmetric padding then Chomp1d (a slice of the length)."""
    def __init__(self):
        super().__init__()
        self.c = nn.Conv1d(3, 4, 3, padding=4, dilation=2)

    def forward(self, x):
        return torch.relu(self.c(x)[:, :, :-4])


model("arch_tcn_chomp", (2, 3, 20))(TCNChomp)


class WaveNet(nn.Module):
    def __init__(self, c=4, skip=3, layers=3):
        super().__init__()
        self.inp = nn.Conv1d(1, c, 1)
        self.filt = nn.ModuleList(nn.Conv1d(c, c, 2, dilation=2 ** i) for i in range(layers))
        self.gate = nn.ModuleList(nn.Conv1d(c, c, 2, dilation=2 ** i) for i in range(layers))
        self.res = nn.ModuleList(nn.Conv1d(c, c, 1) for _ in range(layers))
        self.skip = nn.ModuleList(nn.Conv1d(c, skip, 1) for _ in range(layers))
        self.out = nn.Conv1d(skip, 2, 1)

    def forward(self, x):
        h = self.inp(x)
        total = None
        for i in range(len(self.filt)):
            p = F.pad(h, (2 ** i, 0))
            z = torch.tanh(self.filt[i](p)) * torch.sigmoid(self.gate[i](p))
            s = self.skip[i](z)
            total = s if total is None else total + s
            h = h + self.res[i](z)
        return self.out(F.relu(total))


model("arch_wavenet", (2, 1, 16))(WaveNet)


class ResBlock(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.c1 = nn.Conv1d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.b1 = nn.BatchNorm1d(c_out)
        self.c2 = nn.Conv1d(c_out, c_out, 3, padding=1, bias=False)
        self.b2 = nn.BatchNorm1d(c_out)
        self.short = None
        if stride != 1 or c_in != c_out:
            self.short = nn.Sequential(nn.Conv1d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm1d(c_out))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return F.relu(y + (x if self.short is None else self.short(x)))


def resnet():
    return nn.Sequential(nn.Conv1d(2, 4, 7, stride=2, padding=3, bias=False), nn.BatchNorm1d(4), nn.ReLU(),
                         nn.MaxPool1d(3, stride=2), ResBlock(4, 4, 1), ResBlock(4, 6, 2),
                         nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(6, 3))


model("arch_resnet1d", (2, 2, 32))(resnet)


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.e1 = nn.Sequential(nn.Conv1d(2, 4, 3, padding=1), nn.ReLU())
        self.e2 = nn.Sequential(nn.Conv1d(4, 6, 3, padding=1), nn.ReLU())
        self.mid = nn.Sequential(nn.Conv1d(6, 6, 3, padding=1), nn.ReLU())
        self.up2 = nn.ConvTranspose1d(6, 6, 2, stride=2)
        self.d2 = nn.Sequential(nn.Conv1d(12, 4, 3, padding=1), nn.ReLU())
        self.up1 = nn.ConvTranspose1d(4, 4, 2, stride=2)
        self.d1 = nn.Conv1d(8, 2, 3, padding=1)

    def forward(self, x):
        a = self.e1(x)
        b = self.e2(F.max_pool1d(a, 2))
        m = self.mid(F.max_pool1d(b, 2))
        y = self.d2(torch.cat([self.up2(m), b], dim=1))
        return self.d1(torch.cat([self.up1(y), a], dim=1))


model("arch_unet1d", (2, 2, 16))(UNet)


def frontend():
    return nn.Sequential(nn.Conv1d(1, 4, 10, stride=5), nn.BatchNorm1d(4), nn.GELU(),
                         nn.Conv1d(4, 6, 3, stride=2), nn.GELU(), nn.Conv1d(6, 6, 2, stride=2), nn.GELU())


model("arch_audio_frontend", (2, 1, 160))(frontend)


class ConvLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(3, 6, 3, padding=1), nn.BatchNorm1d(6), nn.ReLU(), nn.MaxPool1d(2))
        self.lstm = nn.LSTM(6, 5, batch_first=True)
        self.fc = nn.Linear(5, 3)

    def forward(self, x):
        y, _ = self.lstm(self.conv(x).transpose(1, 2))
        return torch.log_softmax(self.fc(y[:, -1, :]), dim=1)


model("arch_conv_lstm", (2, 3, 20))(ConvLSTM)


class SEBlockless(nn.Module):
    """Conv + LayerNorm over channels + GELU + linear head over steps (a tiny conformer-ish stack)."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(3, 4, 3, padding=1)
        self.ln = nn.LayerNorm(4)
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        y = self.ln(self.conv(x).transpose(1, 2))
        return x[:, :1, :] + self.fc(F.gelu(y)).transpose(1, 2)[:, :1, :]


model("arch_conv_ln_head", (2, 3, 12), opset=17)(SEBlockless)


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv1d(3, 4, 3, padding=1)
        self.b = nn.Conv1d(2, 4, 3, padding=1)

    def forward(self, x, y):
        s = self.a(x) + self.b(y)
        return s, torch.relu(s).mean(dim=2)


model("two_inputs_two_outputs", None, inputs=[(2, 3, 10), (2, 2, 10)])(TwoInputs)
# The largest model: the --dry-run / timing measurement in the issue note.
model("arch_resnet1d_large", (4, 2, 256))(lambda: nn.Sequential(
    nn.Conv1d(2, 8, 7, stride=2, padding=3, bias=False), nn.BatchNorm1d(8), nn.ReLU(), nn.MaxPool1d(3, stride=2),
    ResBlock(8, 8, 1), ResBlock(8, 16, 2), ResBlock(16, 16, 1), ResBlock(16, 32, 2),
    nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(32, 10)))
# nn.Hardtanh exports Clip(min, max) with constant bounds: lo + relu(x - lo, max hi - lo) in the mapping.
seq("act_hardtanh", S, lambda: [nn.Conv1d(3, 4, 3), nn.Hardtanh()])
fn("act_hardtanh_m2_3", S, lambda m, x: m.act(m.conv(x) * 4.0),  # scaled so both bounds are reached
   lambda: {"conv": nn.Conv1d(3, 4, 3), "act": nn.Hardtanh(-2.0, 3.0)})


def export(entry, index):
    torch.manual_seed(1000 + index)
    m = entry["factory"]()
    # Non-trivial batch-norm statistics, so folding and statistics are tested.
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm1d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 2.0)
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.5, 0.5)
    m.eval()
    xs = [torch.randn(*s) for s in entry["shapes"]]
    with torch.no_grad():
        ys = m(*xs)
    ys = list(ys) if isinstance(ys, (tuple, list)) else [ys]
    name = entry["name"]
    path = os.path.join(OUT, name + ".onnx")
    in_names = ["x"] if len(xs) == 1 else ["x%d" % i for i in range(len(xs))]
    out_names = ["y"] if len(ys) == 1 else ["y%d" % i for i in range(len(ys))]
    torch.onnx.export(m, tuple(xs), path, opset_version=entry["opset"], input_names=in_names,
                      output_names=out_names, do_constant_folding=True)
    proto = onnx.load(path)
    onnx.checker.check_model(proto)
    inferred = onnx.shape_inference.infer_shapes(proto)
    shapes = {}
    for v in list(inferred.graph.value_info) + list(inferred.graph.output):
        dims = [d.dim_value if d.HasField("dim_value") else -1 for d in v.type.tensor_type.shape.dim]
        shapes[v.name] = dims
    nodes = [{"op": n.op_type} if n.op_type == "Constant" else
             {"name": n.name, "op": n.op_type, "output_shape": shapes.get(n.output[0])} for n in proto.graph.node]
    entry_out = {"name": name, "opset": entry["opset"], "needs": entry["needs"], "nodes": nodes,
                 "torch_params": sum(p.numel() for p in m.parameters()),
                 "torch_buffers": sum(b.numel() for n, b in m.named_buffers() if not n.endswith("num_batches_tracked")),
                 "inputs": [], "outputs": []}
    for k, (n, x) in enumerate(zip(in_names, xs)):
        f = "%s.in%d.npy" % (name, k)
        np.save(os.path.join(OUT, f), x.numpy().astype(np.float32))
        entry_out["inputs"].append({"name": n, "file": f, "shape": list(x.shape)})
    for k, (n, y) in enumerate(zip(out_names, ys)):
        f = "%s.out%d.npy" % (name, k)
        np.save(os.path.join(OUT, f), y.numpy().astype(np.float32))
        entry_out["outputs"].append({"name": n, "file": f, "shape": list(y.shape)})
    return entry_out


# The seed base of make_handwritten: the number of PyTorch models when it was written, fixed so that models
# appended to MODELS leave the handwritten fixtures unchanged.
HANDWRITTEN_SEED_BASE = 127


def make_handwritten(start):
    """Settings torch.onnx.export never writes (auto_pad, ConvTranspose output_shape, Upsample), built with
    onnx.helper; expected outputs from the equivalent PyTorch calls (explicit F.pad, a crop of the full result)."""
    from onnx import TensorProto, helper, numpy_helper
    entries = []

    def build(name, x_shape, node, inits, expected, opset=14, needs=()):
        rng = np.random.default_rng(start + len(entries))
        x = rng.standard_normal(x_shape).astype(np.float32)
        tensors = {k: v(rng) for k, v in inits.items()}
        y = expected(torch.from_numpy(x), {k: torch.from_numpy(v) for k, v in tensors.items()}).numpy()
        g = helper.make_graph([node], name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(y.shape))],
                              initializer=[numpy_helper.from_array(v, k) for k, v in tensors.items()])
        proto = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="handwritten")
        onnx.checker.check_model(proto)
        onnx.save(proto, os.path.join(OUT, name + ".onnx"))
        inferred = onnx.shape_inference.infer_shapes(proto)
        out_dims = [d.dim_value for d in inferred.graph.output[0].type.tensor_type.shape.dim]
        np.save(os.path.join(OUT, name + ".in0.npy"), x)
        np.save(os.path.join(OUT, name + ".out0.npy"), y.astype(np.float32))
        entries.append({"name": name, "opset": opset, "needs": list(needs),
                        "nodes": [{"name": node.name, "op": node.op_type, "output_shape": out_dims or None}],
                        "torch_params": int(sum(v.size for v in tensors.values())), "torch_buffers": 0,
                        "inputs": [{"name": "x", "file": name + ".in0.npy", "shape": list(x_shape)}],
                        "outputs": [{"name": "y", "file": name + ".out0.npy", "shape": list(y.shape)}]})

    w = lambda shape: (lambda rng: rng.standard_normal(shape).astype(np.float32))
    for mode, (l, r) in [("SAME_UPPER", (1, 2)), ("SAME_LOWER", (2, 1))]:
        build("hand_conv_" + mode.lower(), (2, 3, 10),
              helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv", auto_pad=mode, strides=[2]),
              {"w": w((4, 3, 5)), "b": w((4,))},
              lambda x, t, l=l, r=r: F.conv1d(F.pad(x, (l, r)), t["w"], t["b"], stride=2))
    build("hand_conv_valid", (2, 3, 10), helper.make_node("Conv", ["x", "w"], ["y"], name="conv", auto_pad="VALID",
                                                          dilations=[2]),
          {"w": w((4, 3, 3))}, lambda x, t: F.conv1d(x, t["w"], dilation=2))
    build("hand_convt_output_shape", (2, 3, 8),
          helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], name="convt", strides=[2], output_shape=[17]),
          {"w": w((3, 2, 4)), "b": w((2,))},
          lambda x, t: F.conv_transpose1d(x, t["w"], t["b"], stride=2)[:, :, 1:18], needs=["transpose_padding"])
    build("hand_convt_same_upper", (2, 3, 8),
          helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="convt", strides=[2], auto_pad="SAME_UPPER"),
          {"w": w((3, 2, 4))},
          lambda x, t: F.conv_transpose1d(x, t["w"], stride=2)[:, :, 1:17], needs=["transpose_padding"])
    build("hand_upsample_op", (2, 3, 6), helper.make_node("Upsample", ["x", "s"], ["y"], name="up", mode="nearest"),
          {"s": lambda rng: np.array([1, 1, 3], np.float32)},
          lambda x, t: F.interpolate(x, scale_factor=3, mode="nearest"), opset=9)
    build("hand_maxpool_same_upper", (2, 3, 9),
          helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[3], strides=[2], auto_pad="SAME_UPPER"),
          {}, lambda x, t: F.max_pool1d(F.pad(x, (1, 1), value=-np.inf), 3, 2), needs=["pool_padding"])
    build("hand_global_max_pool", (2, 3, 9), helper.make_node("GlobalMaxPool", ["x"], ["y"], name="gmp"), {},
          lambda x, t: torch.amax(x, dim=2, keepdim=True))
    build("hand_identity_dropout", (2, 3, 9), helper.make_node("Dropout", ["x"], ["y"], name="drop"), {},
          lambda x, t: x, opset=13)
    build("hand_softsign", (2, 3, 9), helper.make_node("Softsign", ["x"], ["y"], name="softsign"), {},
          lambda x, t: F.softsign(x))
    build("hand_hardsigmoid_keras2", (2, 3, 9), helper.make_node("HardSigmoid", ["x"], ["y"], name="hsig_keras2",
                                                            alpha=0.2, beta=0.5), {},
          lambda x, t: torch.clamp(0.2 * x + 0.5, 0, 1))
    return entries


def make_hostile():
    """Malformed or unmappable files for the exit-2 tests (tests/test_onnx.cpp); truncated and random bytes are
    made by the test itself from a good file."""
    from onnx import TensorProto, helper
    d = os.path.join(OUT, "hostile")
    os.makedirs(d, exist_ok=True)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)

    def save(name, nodes, inits=(), opset=14, inputs=(x,), outputs=(y,)):
        g = helper.make_graph(nodes, name, list(inputs), list(outputs), initializer=list(inits))
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="hostile")
        with open(os.path.join(d, name + ".onnx"), "wb") as f:
            f.write(m.SerializeToString())

    w = helper.make_tensor("w", TensorProto.FLOAT, [3, 2, 3], np.ones(18, np.float32).tolist())
    conv = helper.make_node("Conv", ["x", "w"], ["y"], name="conv")
    save("good", [conv], [w])
    def tensor(dims, raw=None, floats=None):
        t = TensorProto()
        t.name, t.data_type = "w", TensorProto.FLOAT
        t.dims.extend(dims)
        if raw is not None:
            t.raw_data = raw
        if floats is not None:
            t.float_data.extend(floats)
        return t

    huge = tensor([1 << 40, 2, 3], raw=b"\0" * 8)
    save("dims_beyond_limits", [conv], [huge])
    many = tensor([1 << 20, 1 << 12, 3], raw=b"")
    save("elements_beyond_limits", [conv], [many])
    save("initializer_size_mismatch", [conv], [tensor([3, 2, 3], floats=[1.0] * 17)])
    raw = tensor([3, 2, 3], raw=b"\0" * 70)
    save("raw_size_mismatch", [conv], [raw])
    save("cycle", [helper.make_node("Add", ["x", "b"], ["a"], name="add_a"),
                   helper.make_node("Relu", ["a"], ["b"], name="relu_b"),
                   helper.make_node("Relu", ["a"], ["y"], name="relu_y")])
    save("opset_too_new", [helper.make_node("Relu", ["x"], ["y"], name="relu")], opset=99)
    ext = tensor([3, 2, 3])
    ext.data_location = TensorProto.EXTERNAL
    entry = ext.external_data.add()
    entry.key, entry.value = "location", "weights.bin"
    save("external_data", [conv], [ext])
    save("unsupported_ops", [helper.make_node("Cos", ["x"], ["c"], name="my_cos"),
                             helper.make_node("Relu", ["c"], ["r"], name="after_cos"),
                             helper.make_node("CumSum", ["x", "axis"], ["s"], name="my_cumsum"),
                             helper.make_node("Add", ["r", "s"], ["y"], name="join")],
         [helper.make_tensor("axis", TensorProto.INT64, [], [2])])
    x4 = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8, 8])
    save("rank4_input", [helper.make_node("Relu", ["x"], ["y"], name="relu")], inputs=(x4,))
    xs = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, "length"])
    save("symbolic_length", [helper.make_node("Relu", ["x"], ["y"], name="relu")], inputs=(xs,))
    save("undefined_input", [helper.make_node("Add", ["x", "nowhere"], ["y"], name="add")])
    save("clip_min_above_max", [helper.make_node("Clip", ["x", "lo", "hi"], ["y"], name="clip")],
         [helper.make_tensor("lo", TensorProto.FLOAT, [], [2.0]), helper.make_tensor("hi", TensorProto.FLOAT, [], [1.0])])


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith((".onnx", ".npy")):
            os.remove(os.path.join(OUT, f))
    manifest = []
    for i, entry in enumerate(MODELS):
        manifest.append(export(entry, i))
    manifest += make_handwritten(HANDWRITTEN_SEED_BASE)
    make_hostile()
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"generator": "scripts/make_onnx_fixtures.py", "torch": torch.__version__,
                   "onnx": onnx.__version__, "models": manifest}, f, separators=(",", ":"))
        f.write("\n")
    print("%d models written to %s" % (len(manifest), os.path.normpath(OUT)), file=sys.stderr)


if __name__ == "__main__":
    main()
