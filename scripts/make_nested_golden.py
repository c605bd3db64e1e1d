#!/usr/bin/env python3
"""Writes tests/fixtures/keras/nested_golden.json: a Keras Functional model (hand-written model.to_json() text,
Keras 2 form) holding a nested Sequential model (conv relu -> conv) whose output is added to the model input,
with random weights in Keras layout, an input, and the output computed here with PyTorch in float64,
independently of the C++ code. Run with /usr/bin/python3 (Debian's python3-torch and numpy)."""
import json
import os

import numpy as np
import torch

rng = np.random.default_rng(13)
LENGTH, CHANNELS = 16, 3


def conv_layer(name, activation):
    return {"class_name": "Conv1D", "config": {"name": name, "filters": CHANNELS, "kernel_size": [3], "strides": [1],
            "padding": "same", "dilation_rate": [1], "activation": activation, "use_bias": True}}


model = {"class_name": "Functional", "config": {"name": "outer", "layers": [
    {"class_name": "InputLayer", "config": {"batch_input_shape": [None, LENGTH, CHANNELS], "dtype": "float32",
                                             "name": "x"}, "name": "x", "inbound_nodes": []},
    {"class_name": "Sequential", "config": {"name": "inner", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, LENGTH, CHANNELS], "dtype": "float32",
                                                 "name": "inner_in"}},
        conv_layer("c1", "relu"), conv_layer("c2", "linear")]},
     "name": "inner", "inbound_nodes": [[["x", 0, 0, {}]]]},
    {"class_name": "Add", "config": {"name": "add"}, "name": "add",
     "inbound_nodes": [[["inner", 1, 0, {}], ["x", 0, 0, {}]]]}],
    "input_layers": [["x", 0, 0]], "output_layers": [["add", 0, 0]]}}

x = rng.uniform(-1.5, 1.5, size=(1, LENGTH, CHANNELS)).astype(np.float32)
weights = {}
for name in ("c1", "c2"):
    weights[name] = {"kernel": rng.uniform(-0.8, 0.8, size=(3, CHANNELS, CHANNELS)).astype(np.float32),
                     "bias": rng.uniform(-0.5, 0.5, size=(CHANNELS,)).astype(np.float32)}


def conv_same(h, w):  # h (N, L, C) float64; Keras 'same' with k=3, stride 1: one step of zeros each side
    t = torch.from_numpy(h).permute(0, 2, 1)
    k = torch.from_numpy(w["kernel"].astype(np.float64)).permute(2, 1, 0)  # (out, in, k)
    out = torch.nn.functional.conv1d(t, k, torch.from_numpy(w["bias"].astype(np.float64)), padding=1)
    return out.permute(0, 2, 1).numpy()


x64 = x.astype(np.float64)
y = np.maximum(conv_same(x64, weights["c1"]), 0.0)
y = conv_same(y, weights["c2"]) + x64

fixture = {"generator": "scripts/make_nested_golden.py", "model": model, "input": x.tolist(),
           "weights": {n: {k: v.tolist() for k, v in w.items()} for n, w in weights.items()},
           "output": y.astype(np.float32).tolist()}
path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras", "nested_golden.json")
with open(path, "w") as f:
    json.dump(fixture, f)
print("wrote", os.path.normpath(path))
