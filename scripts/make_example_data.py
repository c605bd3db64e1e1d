#!/usr/bin/python3
"""Makes the committed example sequence and weights (configs/data/) and the PyTorch-computed expected
output for the end-to-end test (tests/fixtures/e2e/). Run with Debian's /usr/bin/python3 (python3-torch).

The stack in configs/data_example.json, with Keras semantics reproduced in PyTorch:
  conv1d(8, k=5, s=2, same, relu) -> conv1d_transpose(4, k=4, s=2, same)
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DATA = os.path.join(ROOT, "configs", "data")
E2E = os.path.join(ROOT, "tests", "fixtures", "e2e")


def same_pads(length, k, s, d=1):
    # TensorFlow 'SAME': out = ceil(L/s); the odd padding step goes on the right.
    dk = d * (k - 1) + 1
    out = -(-length // s)
    total = max((out - 1) * s + dk - length, 0)
    return total // 2, total - total // 2


def keras_conv1d(x, kernel, bias, s, padding):
    # x (N, L, C) channels_last; kernel Keras (k, Cin, F) -> torch (F, Cin, k).
    k = kernel.shape[0]
    xt = x.permute(0, 2, 1)
    if padding == "same":
        xt = F.pad(xt, same_pads(x.shape[1], k, s))
    y = F.conv1d(xt, kernel.permute(2, 1, 0), bias, stride=s)
    return y.permute(0, 2, 1)


def keras_conv1d_transpose_same(x, kernel, bias, s):
    # Keras Conv1DTranspose 'same': full transposed conv, window of length L*s starting at (full - out)//2.
    k = kernel.shape[0]
    full = F.conv_transpose1d(x.permute(0, 2, 1), kernel.permute(2, 1, 0), None, stride=s)
    out_len = x.shape[1] * s
    left = max(full.shape[2] - out_len, 0) // 2
    window = full[:, :, left:left + out_len]
    if window.shape[2] < out_len:
        window = F.pad(window, (0, out_len - window.shape[2]))
    return (window + bias[None, :, None]).permute(0, 2, 1)


def main():
    os.makedirs(DATA, exist_ok=True)
    os.makedirs(E2E, exist_ok=True)
    rng = np.random.default_rng(2026)
    # A 3-channel "sensor" recording: two sines and noise, 64 steps, saved 2-D (length, channels) as users do.
    t = np.arange(64, dtype=np.float64)
    seq = np.stack([np.sin(t / 5.0), np.cos(t / 3.0), rng.normal(0, 0.3, 64)], axis=1).astype(np.float32)
    k1 = rng.uniform(-0.5, 0.5, (5, 3, 8)).astype(np.float32)   # Conv1D (k, Cin, filters)
    b1 = rng.uniform(-0.1, 0.1, (8,)).astype(np.float32)
    k2 = rng.uniform(-0.5, 0.5, (4, 4, 8)).astype(np.float32)   # Conv1DTranspose (k, filters, Cin)
    b2 = rng.uniform(-0.1, 0.1, (4,)).astype(np.float32)
    for name, array in [("sensor.npy", seq), ("conv_kernel.npy", k1), ("conv_bias.npy", b1),
                        ("deconv_kernel.npy", k2), ("deconv_bias.npy", b2)]:
        np.save(os.path.join(DATA, name), array)

    x = torch.from_numpy(seq.astype(np.float64))[None]
    h = torch.relu(keras_conv1d(x, torch.from_numpy(k1).double(), torch.from_numpy(b1).double(), 2, "same"))
    y = keras_conv1d_transpose_same(h, torch.from_numpy(k2).double(), torch.from_numpy(b2).double(), 2)
    np.save(os.path.join(E2E, "data_example_expected.npy"), y.numpy().astype(np.float32))
    print("expected output shape", tuple(y.shape))


if __name__ == "__main__":
    main()
