#!/usr/bin/python3
"""Writes tests/fixtures/keras_files/: small trained-model files laid out as Keras writes them, and broken ones.

Good files (each with expected/<name>.json: the architecture, keras_version, format and every weight):
  k2_sequential.h5      tf.keras 2.13 Sequential: vlen ASCII root attributes, fixed-length layer/weight names,
                        weightless layers with an empty float64 weight_names, optimizer_weights (ignored)
  k2_functional.h5      Keras 2.3 "Model": model_config as a fixed-length string, layer_names split into
                        layer_names0/1, Bidirectional(LSTM) with TF2 cell names, TimeDistributed(Dense), a nested
                        Sequential, float16 / float64 / big-endian float32 datasets
  k3_legacy.h5          Keras 3.6 legacy .h5: vlen UTF-8 names "sequential/conv1d/kernel", LSTM and GRU cells,
                        top_level_model_weights (ignored)
  k1_sequential.h5      Keras 1 (no keras_version): Embedding, Convolution1D in both Keras 1 kernel layouts,
                        BatchNormalization running_std, LSTM as 12 arrays, GRU as 9, Dense
  k2_theano.h5          Keras 2.0 with backend "theano": the Conv1D kernel is flipped on reading
  weights_only.h5       model.save_weights(): layer_names at the root, no architecture
  k3_functional.keras   Keras 3.11 Functional: per-class layer numbering, use_bias=False, BN without scale,
                        PReLU, SeparableConv1D, DepthwiseConv1D, LayerNormalization, LSTM and Bidirectional(GRU)
                        cells, TimeDistributed, a nested Sequential, optimizer variables (ignored)
  k215_sequential.keras tf.keras 2.15 .keras: _layer_checkpoint_dependencies, stored entries (as Keras writes
                        them; the other archives are deflated to stay small), depthwise_kernel
  tfjs/model.json       TensorFlow.js layers model: two weight groups, a weight split across shards, uint8,
                        uint16 and float16 quantization
Broken files: see BROKEN below (tests/test_keras_file.cpp checks each message).

Values: a weight with seed s holds s - 1 + 0.125 * i (i = flat C-order index); expected/*.json gives the seed, or
the values themselves where reading converts them (Keras 1, theano, quantization).
Run with /usr/bin/python3 (Debian's python3-h5py and numpy); no TensorFlow needed.
"""
import io
import json
import os
import shutil
import struct
import zipfile

import h5py
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "keras_files")
ASCII = h5py.string_dtype("ascii")
UTF8 = h5py.string_dtype("utf-8")


def vals(seed, shape, dtype=np.float32):
    n = int(np.prod(shape)) if len(shape) else 1
    return (seed - 1 + 0.125 * np.arange(n)).reshape(shape).astype(dtype)


class Expected:
    """Collects what a fixture must read as."""

    def __init__(self, model, keras_version, fmt):
        self.doc = {"model": model, "keras_version": keras_version, "format": fmt, "weights": {}}

    def seed(self, layer, var, seed, shape):
        self.doc["weights"].setdefault(layer, {})[var] = {"shape": list(shape), "seed": seed}

    def values(self, layer, var, array):
        array = np.asarray(array, dtype=np.float32)
        self.doc["weights"].setdefault(layer, {})[var] = {
            "shape": list(array.shape), "values": [float(x) for x in array.reshape(-1)]}

    def write(self, name):
        with open(os.path.join(OUT, "expected", name + ".json"), "w") as f:
            json.dump(self.doc, f, indent=1, sort_keys=True)
            f.write("\n")


def fixed(strings):
    data = [s.encode("utf-8") for s in strings]
    return np.array(data, dtype="S%d" % max(1, max((len(s) for s in data), default=1)))


def layer_group(weights_root, name, weight_names):
    g = weights_root.create_group(name)
    if weight_names:
        g.attrs["weight_names"] = fixed(weight_names)
    else:
        g.attrs["weight_names"] = np.array([], dtype=np.float64)  # what Keras 2 writes for a weightless layer
    return g


def k2_layer(name, class_name, config):
    config = dict(config, name=name, trainable=True)
    return {"class_name": class_name, "config": config}


# ---- Keras 2 / tf.keras .h5 ----------------------------------------------------------------------------------

def k2_sequential_model():
    layers = [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 6, 2], "dtype": "float32",
                                                "sparse": False, "ragged": False, "name": "input_1"}},
        k2_layer("conv1d", "Conv1D", {"dtype": "float32", "filters": 4, "kernel_size": [3], "strides": [1],
                                      "padding": "valid", "data_format": "channels_last", "dilation_rate": [1],
                                      "groups": 1, "activation": "relu", "use_bias": True}),
        k2_layer("max_pooling1d", "MaxPooling1D", {"dtype": "float32", "strides": [2], "pool_size": [2],
                                                   "padding": "valid", "data_format": "channels_last"}),
        k2_layer("batch_normalization", "BatchNormalization", {"dtype": "float32", "axis": [2], "momentum": 0.99,
                                                               "epsilon": 0.001, "center": True, "scale": True}),
        k2_layer("flatten", "Flatten", {"dtype": "float32", "data_format": "channels_last"}),
        k2_layer("dense", "Dense", {"dtype": "float32", "units": 3, "activation": "softmax", "use_bias": True}),
    ]
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}


def write_k2_sequential(path, name="k2_sequential", kernel_dtype=np.float32, expected=True):
    model = k2_sequential_model()
    exp = Expected(model, "2.13.1", "h5")
    with h5py.File(path, "w") as f:
        f.attrs.create("backend", "tensorflow", dtype=ASCII)
        f.attrs.create("keras_version", "2.13.1", dtype=ASCII)
        f.attrs.create("model_config", json.dumps(model), dtype=ASCII)
        f.attrs.create("training_config", json.dumps({"loss": "mse"}), dtype=ASCII)
        mw = f.create_group("model_weights")
        mw.attrs.create("backend", "tensorflow", dtype=ASCII)
        mw.attrs.create("keras_version", "2.13.1", dtype=ASCII)
        names = ["conv1d", "max_pooling1d", "batch_normalization", "flatten", "dense"]
        mw.attrs["layer_names"] = fixed(names)
        specs = {
            "conv1d": [("kernel", (3, 2, 4), 1), ("bias", (4,), 2)],
            "batch_normalization": [("gamma", (4,), 3), ("beta", (4,), 4), ("moving_mean", (4,), 5),
                                    ("moving_variance", (4,), 6)],
            "dense": [("kernel", (8, 3), 7), ("bias", (3,), 8)],
        }
        for layer in names:
            weights = specs.get(layer, [])
            g = layer_group(mw, layer, ["%s/%s:0" % (layer, v) for v, _, _ in weights])
            for var, shape, seed in weights:
                dtype = kernel_dtype if (layer, var) == ("dense", "kernel") else np.float32
                g.create_dataset("%s/%s:0" % (layer, var), data=vals(seed, shape, dtype))
                exp.seed(layer, var, seed, shape)
        opt = f.create_group("optimizer_weights")
        opt.attrs["weight_names"] = fixed(["Adam/iter:0"])
        opt.create_dataset("Adam/iter:0", data=np.int64(7))
    if expected:
        exp.write(name)


def write_k2_functional():
    layers = [
        {"name": "seq_in", "class_name": "InputLayer",
         "config": {"batch_input_shape": [None, 10, 3], "dtype": "float32", "sparse": False, "name": "seq_in"},
         "inbound_nodes": []},
        {"name": "conv1d_1", "class_name": "Conv1D",
         "config": {"name": "conv1d_1", "trainable": True, "filters": 4, "kernel_size": [3], "strides": [1],
                    "padding": "same", "data_format": "channels_last", "dilation_rate": [1],
                    "activation": "relu", "use_bias": True},
         "inbound_nodes": [[["seq_in", 0, 0, {}]]]},
        {"name": "bidirectional_1", "class_name": "Bidirectional",
         "config": {"name": "bidirectional_1", "trainable": True, "merge_mode": "concat",
                    "layer": {"class_name": "LSTM",
                              "config": {"name": "lstm_1", "trainable": True, "return_sequences": True,
                                         "units": 2, "activation": "tanh", "recurrent_activation": "sigmoid",
                                         "use_bias": True}}},
         "inbound_nodes": [[["conv1d_1", 0, 0, {}]]]},
        {"name": "time_distributed_1", "class_name": "TimeDistributed",
         "config": {"name": "time_distributed_1", "trainable": True,
                    "layer": {"class_name": "Dense", "config": {"name": "dense_td", "units": 3,
                                                                "activation": "linear", "use_bias": True}}},
         "inbound_nodes": [[["bidirectional_1", 0, 0, {}]]]},
        {"name": "inner", "class_name": "Sequential",
         "config": {"name": "inner", "layers": [
             {"class_name": "Dense", "config": {"name": "dense_a", "units": 2, "activation": "relu",
                                                "use_bias": True, "batch_input_shape": [None, 10, 3]}},
             {"class_name": "Dense", "config": {"name": "dense_b", "units": 1, "activation": "linear",
                                                "use_bias": False}}]},
         "inbound_nodes": [[["time_distributed_1", 0, 0, {}]]]},
    ]
    model = {"class_name": "Model", "config": {"name": "model_1", "layers": layers,
                                               "input_layers": [["seq_in", 0, 0]],
                                               "output_layers": [["inner", 1, 0]]}}
    exp = Expected(model, "2.3.0", "h5")
    with h5py.File(os.path.join(OUT, "k2_functional.h5"), "w") as f:
        f.attrs.create("backend", "tensorflow", dtype=ASCII)
        f.attrs.create("keras_version", "2.3.0", dtype=ASCII)
        f.attrs["model_config"] = np.bytes_(json.dumps(model).encode())  # a fixed-length string
        mw = f.create_group("model_weights")
        mw.attrs.create("backend", "tensorflow", dtype=ASCII)
        mw.attrs.create("keras_version", "2.3.0", dtype=ASCII)
        names = ["seq_in", "conv1d_1", "bidirectional_1", "time_distributed_1", "inner"]
        mw.attrs["layer_names0"] = fixed(names[:2])  # what Keras does when the list outgrows an object header
        mw.attrs["layer_names1"] = fixed(names[2:])
        layer_group(mw, "seq_in", [])
        g = layer_group(mw, "conv1d_1", ["conv1d_1/kernel:0", "conv1d_1/bias:0"])
        g.create_dataset("conv1d_1/kernel:0", data=vals(9, (3, 3, 4), np.float16))
        g.create_dataset("conv1d_1/bias:0", data=vals(10, (4,), np.float64))
        exp.seed("conv1d_1", "kernel", 9, (3, 3, 4))
        exp.seed("conv1d_1", "bias", 10, (4,))
        bidir = []
        seed = 11
        for side, cell in (("forward", "lstm_cell_1"), ("backward", "lstm_cell_2")):
            for var, shape in (("kernel", (4, 8)), ("recurrent_kernel", (2, 8)), ("bias", (8,))):
                bidir.append(("bidirectional_1/%s_lstm_1/%s/%s:0" % (side, cell, var), var, shape, seed, side))
                seed += 1
        g = layer_group(mw, "bidirectional_1", [b[0] for b in bidir])
        for wname, var, shape, s, side in bidir:
            data = vals(s, shape, np.dtype(">f4") if var == "recurrent_kernel" else np.float32)
            g.create_dataset(wname, data=data)
            exp.seed("bidirectional_1/%s_lstm_1" % side, var, s, shape)
        g = layer_group(mw, "time_distributed_1", ["time_distributed_1/kernel:0", "time_distributed_1/bias:0"])
        g.create_dataset("time_distributed_1/kernel:0", data=vals(17, (4, 3)))
        g.create_dataset("time_distributed_1/bias:0", data=vals(18, (3,)))
        exp.seed("time_distributed_1", "kernel", 17, (4, 3))
        exp.seed("time_distributed_1", "bias", 18, (3,))
        g = layer_group(mw, "inner", ["dense_a/kernel:0", "dense_a/bias:0", "dense_b/kernel:0"])
        g.create_dataset("dense_a/kernel:0", data=vals(19, (3, 2)))
        g.create_dataset("dense_a/bias:0", data=vals(20, (2,)))
        g.create_dataset("dense_b/kernel:0", data=vals(21, (2, 1)))
        exp.seed("dense_a", "kernel", 19, (3, 2))
        exp.seed("dense_a", "bias", 20, (2,))
        exp.seed("dense_b", "kernel", 21, (2, 1))
    exp.write("k2_functional")


def write_k3_legacy():
    dtype = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}
    layers = [
        {"module": "keras.layers", "class_name": "InputLayer",
         "config": {"batch_shape": [None, 12, 2], "dtype": "float32", "sparse": False, "name": "input_layer"},
         "registered_name": None},
        {"module": "keras.layers", "class_name": "Conv1D",
         "config": {"name": "conv1d", "trainable": True, "dtype": dtype, "filters": 3, "kernel_size": [2],
                    "strides": [1], "padding": "valid", "data_format": "channels_last", "dilation_rate": [1],
                    "groups": 1, "activation": "relu", "use_bias": True}, "registered_name": None,
         "build_config": {"input_shape": [None, 12, 2]}},
        {"module": "keras.layers", "class_name": "LSTM",
         "config": {"name": "lstm", "trainable": True, "dtype": dtype, "return_sequences": True, "units": 2,
                    "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": True},
         "registered_name": None, "build_config": {"input_shape": [None, 11, 3]}},
        {"module": "keras.layers", "class_name": "GRU",
         "config": {"name": "gru", "trainable": True, "dtype": dtype, "return_sequences": False, "units": 2,
                    "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": True,
                    "reset_after": True}, "registered_name": None, "build_config": {"input_shape": [None, 11, 2]}},
    ]
    model = {"module": "keras", "class_name": "Sequential",
             "config": {"name": "sequential", "trainable": True, "dtype": dtype, "layers": layers},
             "registered_name": None, "build_config": {"input_shape": [None, 12, 2]}}
    exp = Expected(model, "3.6.0", "h5")
    with h5py.File(os.path.join(OUT, "k3_legacy.h5"), "w") as f:
        f.attrs.create("backend", "tensorflow", dtype=UTF8)
        f.attrs.create("keras_version", "3.6.0", dtype=UTF8)
        f.attrs.create("model_config", json.dumps(model), dtype=ASCII)
        mw = f.create_group("model_weights")
        mw.attrs.create("backend", "tensorflow", dtype=ASCII)
        mw.attrs.create("keras_version", "3.6.0", dtype=ASCII)
        mw.attrs.create("layer_names", ["conv1d", "lstm", "gru"], dtype=ASCII)
        specs = {"conv1d": ("sequential/conv1d", [("kernel", (2, 2, 3), 22), ("bias", (3,), 23)]),
                 "lstm": ("sequential/lstm/lstm_cell", [("kernel", (3, 8), 24), ("recurrent_kernel", (2, 8), 25),
                                                        ("bias", (8,), 26)]),
                 "gru": ("sequential/gru/gru_cell", [("kernel", (2, 6), 27), ("recurrent_kernel", (2, 6), 28),
                                                     ("bias", (2, 6), 29)])}
        for layer, (prefix, weights) in specs.items():
            g = mw.create_group(layer)
            g.attrs.create("weight_names", ["%s/%s" % (prefix, v) for v, _, _ in weights], dtype=ASCII)
            for var, shape, seed in weights:
                g.create_dataset("%s/%s" % (prefix, var), data=vals(seed, shape))
                exp.seed(layer, var, seed, shape)
        top = mw.create_group("top_level_model_weights")
        top.attrs["weight_names"] = np.array([], dtype=np.float64)
    exp.write("k3_legacy")


def write_k1_sequential():
    layers = [
        {"class_name": "Embedding", "config": {"name": "embedding_1", "input_dim": 10, "output_dim": 2,
                                               "input_length": 9, "batch_input_shape": [None, 9], "trainable": True}},
        {"class_name": "Convolution1D", "config": {"name": "convolution1d_1", "nb_filter": 4, "filter_length": 3,
                                                   "border_mode": "same", "subsample_length": 1,
                                                   "activation": "relu", "bias": True, "trainable": True}},
        {"class_name": "Convolution1D", "config": {"name": "convolution1d_2", "nb_filter": 4, "filter_length": 2,
                                                   "border_mode": "same", "subsample_length": 1,
                                                   "activation": "linear", "bias": True, "trainable": True}},
        {"class_name": "BatchNormalization", "config": {"name": "batchnormalization_1", "epsilon": 0.001,
                                                        "mode": 0, "axis": -1, "momentum": 0.99}},
        {"class_name": "LSTM", "config": {"name": "lstm_1", "output_dim": 2, "return_sequences": True,
                                          "activation": "tanh", "inner_activation": "hard_sigmoid"}},
        {"class_name": "GRU", "config": {"name": "gru_1", "output_dim": 3, "return_sequences": False,
                                         "activation": "tanh", "inner_activation": "hard_sigmoid"}},
        {"class_name": "Dense", "config": {"name": "dense_1", "output_dim": 1, "activation": "sigmoid",
                                           "bias": True}},
    ]
    model = {"class_name": "Sequential", "config": layers}
    exp = Expected(model, "1", "h5")
    stored = {}  # layer -> [(weight name, array)]
    stored["embedding_1"] = [("embedding_1_W", vals(30, (10, 2)))]
    stored["convolution1d_1"] = [("convolution1d_1_W", vals(31, (3, 1, 2, 4))), ("convolution1d_1_b", vals(32, (4,)))]
    stored["convolution1d_2"] = [("convolution1d_2_W", vals(33, (4, 4, 2, 1))), ("convolution1d_2_b", vals(34, (4,)))]
    stored["batchnormalization_1"] = [("batchnormalization_1_" + v, vals(35 + i, (4,))) for i, v in
                                      enumerate(["gamma", "beta", "running_mean", "running_std"])]
    lstm = []
    seed = 39
    for gate in "icfo":
        for part, shape in (("W", (4, 2)), ("U", (2, 2)), ("b", (2,))):
            lstm.append(("lstm_1_%s_%s" % (part, gate), vals(seed, shape)))
            seed += 1
    stored["lstm_1"] = lstm
    gru = []
    for gate in "zrh":
        for part, shape in (("W", (2, 3)), ("U", (3, 3)), ("b", (3,))):
            gru.append(("gru_1_%s_%s" % (part, gate), vals(seed, shape)))
            seed += 1
    stored["gru_1"] = gru
    stored["dense_1"] = [("dense_1_W", vals(seed, (3, 1))), ("dense_1_b", vals(seed + 1, (1,)))]

    exp.values("embedding_1", "embeddings", stored["embedding_1"][0][1])
    exp.values("convolution1d_1", "kernel", stored["convolution1d_1"][0][1][:, 0])
    exp.values("convolution1d_1", "bias", stored["convolution1d_1"][1][1])
    exp.values("convolution1d_2", "kernel", np.transpose(stored["convolution1d_2"][0][1], (2, 3, 1, 0))[:, 0])
    exp.values("convolution1d_2", "bias", stored["convolution1d_2"][1][1])
    for (_, array), var in zip(stored["batchnormalization_1"], ["gamma", "beta", "moving_mean", "moving_variance"]):
        exp.values("batchnormalization_1", var, array)
    w = [a for _, a in lstm]  # W_i U_i b_i W_c U_c b_c W_f U_f b_f W_o U_o b_o -> gates i, f, c, o
    exp.values("lstm_1", "kernel", np.concatenate([w[0], w[6], w[3], w[9]], axis=-1))
    exp.values("lstm_1", "recurrent_kernel", np.concatenate([w[1], w[7], w[4], w[10]], axis=-1))
    exp.values("lstm_1", "bias", np.concatenate([w[2], w[8], w[5], w[11]], axis=-1))
    w = [a for _, a in gru]
    exp.values("gru_1", "kernel", np.concatenate([w[0], w[3], w[6]], axis=-1))
    exp.values("gru_1", "recurrent_kernel", np.concatenate([w[1], w[4], w[7]], axis=-1))
    exp.values("gru_1", "bias", np.concatenate([w[2], w[5], w[8]], axis=-1))
    exp.values("dense_1", "kernel", stored["dense_1"][0][1])
    exp.values("dense_1", "bias", stored["dense_1"][1][1])

    with h5py.File(os.path.join(OUT, "k1_sequential.h5"), "w") as f:
        f.attrs.create("model_config", json.dumps(model), dtype=ASCII)
        mw = f.create_group("model_weights")
        mw.attrs["layer_names"] = fixed(list(stored))
        for layer, weights in stored.items():
            g = layer_group(mw, layer, [n for n, _ in weights])
            for wname, array in weights:
                g.create_dataset(wname, data=array)
    exp.write("k1_sequential")


def write_k2_theano():
    model = {"class_name": "Sequential", "config": [
        k2_layer("conv1d_1", "Conv1D", {"filters": 2, "kernel_size": [3], "strides": [1], "padding": "valid",
                                        "activation": "linear", "use_bias": True,
                                        "batch_input_shape": [None, 5, 1]})]}
    exp = Expected(model, "2.0.8", "h5")
    kernel = vals(60, (3, 1, 2))
    exp.values("conv1d_1", "kernel", kernel[::-1])  # theano kernels are true convolutions
    exp.seed("conv1d_1", "bias", 61, (2,))
    with h5py.File(os.path.join(OUT, "k2_theano.h5"), "w") as f:
        f.attrs.create("keras_version", "2.0.8", dtype=ASCII)
        f.attrs.create("backend", "theano", dtype=ASCII)
        f.attrs.create("model_config", json.dumps(model), dtype=ASCII)
        mw = f.create_group("model_weights")
        mw.attrs.create("keras_version", "2.0.8", dtype=ASCII)
        mw.attrs.create("backend", "theano", dtype=ASCII)
        mw.attrs["layer_names"] = fixed(["conv1d_1"])
        g = layer_group(mw, "conv1d_1", ["conv1d_1/kernel:0", "conv1d_1/bias:0"])
        g.create_dataset("conv1d_1/kernel:0", data=kernel)
        g.create_dataset("conv1d_1/bias:0", data=vals(61, (2,)))
    exp.write("k2_theano")


def write_weights_only():
    exp = Expected(None, "2.2.4", "h5")
    with h5py.File(os.path.join(OUT, "weights_only.h5"), "w") as f:
        f.attrs.create("backend", "tensorflow", dtype=ASCII)
        f.attrs.create("keras_version", "2.2.4", dtype=ASCII)
        f.attrs["layer_names"] = fixed(["conv1d_1", "bidirectional_1"])
        g = layer_group(f, "conv1d_1", ["conv1d_1/kernel:0", "conv1d_1/bias:0"])
        g.create_dataset("conv1d_1/kernel:0", data=vals(62, (2, 1, 2)))
        g.create_dataset("conv1d_1/bias:0", data=vals(63, (2,)))
        exp.seed("conv1d_1", "kernel", 62, (2, 1, 2))
        exp.seed("conv1d_1", "bias", 63, (2,))
        names = ["bidirectional_1/%s_gru_1/%s:0" % (side, var) for side in ("forward", "backward")
                 for var in ("kernel", "recurrent_kernel", "bias")]
        g = layer_group(f, "bidirectional_1", names)
        for i, wname in enumerate(names):
            var = wname.split("/")[-1][:-2]
            shape = {"kernel": (2, 3), "recurrent_kernel": (1, 3), "bias": (3,)}[var]
            g.create_dataset(wname, data=vals(64 + i, shape))
            exp.seed("bidirectional_1/" + wname.split("/")[1], var, 64 + i, shape)
    exp.write("weights_only")


# ---- Keras 3 .keras -----------------------------------------------------------------------------------------

def k3_layer(class_name, name, config, inbound, module="keras.layers"):
    dtype = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}
    layer = {"module": module, "class_name": class_name,
             "config": dict({"name": name, "trainable": True, "dtype": dtype}, **config),
             "registered_name": None, "name": name}
    if inbound is not None:
        layer["inbound_nodes"] = [{"args": [{"class_name": "__keras_tensor__",
                                             "config": {"shape": [None, 8, 4], "dtype": "float32",
                                                        "keras_history": [inbound, 0, 0]}}], "kwargs": {}}]
    else:
        layer["inbound_nodes"] = []
    return layer


def write_keras_zip(path, config, metadata, weights_bytes, compress=zipfile.ZIP_DEFLATED, extra=()):
    with zipfile.ZipFile(path, "w", compress) as z:
        if metadata is not None:
            z.writestr("metadata.json", json.dumps(metadata))
        if config is not None:
            z.writestr("config.json", json.dumps(config))
        if weights_bytes is not None:
            z.writestr("model.weights.h5", weights_bytes)
        for name, data in extra:
            z.writestr(name, data)


def h5_bytes(build):
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        build(f)
    return buffer.getvalue()


def add_vars(f, path, arrays, name=None):
    g = f.require_group(path)
    if name is not None:
        g.attrs.create("name", name, dtype=UTF8)
    for i, array in enumerate(arrays):
        g.create_dataset(str(i), data=array)


def k3_functional_model():
    chain = []

    def add(class_name, name, config):
        chain.append(k3_layer(class_name, name, config, chain[-1]["name"] if chain else None))

    add("InputLayer", "input_layer", {"batch_shape": [None, 8, 2], "sparse": False, "ragged": False})
    chain[0]["config"].pop("trainable")
    add("Conv1D", "conv_a", {"filters": 4, "kernel_size": [3], "strides": [1], "padding": "same",
                             "data_format": "channels_last", "dilation_rate": [1], "groups": 1,
                             "activation": "linear", "use_bias": False})
    add("BatchNormalization", "bn_a", {"axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": True,
                                       "scale": False})
    add("PReLU", "prelu_a", {"shared_axes": [1]})
    add("SeparableConv1D", "sep_a", {"filters": 3, "kernel_size": [3], "strides": [1], "padding": "same",
                                     "depth_multiplier": 1, "activation": "relu", "use_bias": True})
    add("DepthwiseConv1D", "dw_a", {"kernel_size": [3], "strides": [1], "padding": "same", "depth_multiplier": 2,
                                    "activation": "linear", "use_bias": True})
    add("LayerNormalization", "ln_a", {"axis": [-1], "epsilon": 0.001, "center": True, "scale": True,
                                       "rms_scaling": False})
    add("Conv1D", "conv_b", {"filters": 4, "kernel_size": [1], "strides": [1], "padding": "valid",
                             "data_format": "channels_last", "dilation_rate": [1], "groups": 1,
                             "activation": "relu", "use_bias": True})
    add("LSTM", "lstm_a", {"return_sequences": True, "units": 2, "activation": "tanh",
                           "recurrent_activation": "sigmoid", "use_bias": True})
    gru = {"return_sequences": True, "units": 2, "activation": "tanh", "recurrent_activation": "sigmoid",
           "use_bias": True, "reset_after": True}
    add("Bidirectional", "bidi", {
        "merge_mode": "concat",
        "layer": k3_layer("GRU", "forward_gru_a", dict(gru), None),
        "backward_layer": k3_layer("GRU", "backward_gru_a", dict(gru, go_backwards=True), None)})
    for side in ("layer", "backward_layer"):
        for key in ("inbound_nodes", "name"):
            chain[-1]["config"][side].pop(key)
    add("TimeDistributed", "td", {"layer": {"module": "keras.layers", "class_name": "Dense",
                                            "config": {"name": "td_dense", "units": 3, "activation": "linear",
                                                       "use_bias": True}, "registered_name": None}})
    head_layers = [k3_layer("Dense", "head_dense", {"units": 2, "activation": "relu", "use_bias": True}, None),
                   k3_layer("Dense", "head_out", {"units": 1, "activation": "linear", "use_bias": True}, None)]
    for layer in head_layers:
        layer.pop("inbound_nodes")
        layer.pop("name")
    add("Sequential", "head", {"layers": head_layers})
    chain[-1]["module"] = "keras"
    add("Flatten", "flat", {"data_format": "channels_last"})
    add("Dense", "out", {"units": 1, "activation": "sigmoid", "use_bias": True})
    return {"module": "keras", "class_name": "Functional",
            "config": {"name": "functional", "trainable": True, "layers": chain,
                       "input_layers": [["input_layer", 0, 0]], "output_layers": [["out", 0, 0]]},
            "registered_name": "Functional", "build_config": {"input_shape": None}}


def k3_functional_weights(exp):
    # (vars path, layer name recorded on it, [(key, variable, shape, seed)])
    plan = [
        ("layers/input_layer/vars", "input_layer", []),
        ("layers/conv1d/vars", "conv_a", [("conv_a", "kernel", (3, 2, 4), 70)]),
        ("layers/batch_normalization/vars", "bn_a", [("bn_a", "beta", (4,), 71), ("bn_a", "moving_mean", (4,), 72),
                                                     ("bn_a", "moving_variance", (4,), 73)]),
        ("layers/p_re_lu/vars", "prelu_a", [("prelu_a", "alpha", (1, 4), 74)]),
        ("layers/separable_conv1d/vars", "sep_a", [("sep_a", "depthwise_kernel", (3, 4, 1), 75),
                                                   ("sep_a", "pointwise_kernel", (1, 4, 3), 76),
                                                   ("sep_a", "bias", (3,), 77)]),
        ("layers/depthwise_conv1d/vars", "dw_a", [("dw_a", "kernel", (3, 3, 2), 78), ("dw_a", "bias", (6,), 79)]),
        ("layers/layer_normalization/vars", "ln_a", [("ln_a", "gamma", (6,), 80), ("ln_a", "beta", (6,), 81)]),
        ("layers/conv1d_1/vars", "conv_b", [("conv_b", "kernel", (1, 6, 4), 82), ("conv_b", "bias", (4,), 83)]),
        ("layers/lstm/vars", "lstm_a", []),
        ("layers/lstm/cell/vars", "lstm_cell", [("lstm_a", "kernel", (4, 8), 84),
                                                ("lstm_a", "recurrent_kernel", (2, 8), 85),
                                                ("lstm_a", "bias", (8,), 86)]),
        ("layers/bidirectional/vars", "bidi", []),
        ("layers/bidirectional/forward_layer/vars", "forward_gru_a", []),
        ("layers/bidirectional/forward_layer/cell/vars", "gru_cell",
         [("bidi/forward_gru_a", "kernel", (2, 6), 87), ("bidi/forward_gru_a", "recurrent_kernel", (2, 6), 88),
          ("bidi/forward_gru_a", "bias", (2, 6), 89)]),
        ("layers/bidirectional/backward_layer/vars", "backward_gru_a", []),
        ("layers/bidirectional/backward_layer/cell/vars", "gru_cell",
         [("bidi/backward_gru_a", "kernel", (2, 6), 90), ("bidi/backward_gru_a", "recurrent_kernel", (2, 6), 91),
          ("bidi/backward_gru_a", "bias", (2, 6), 92)]),
        ("layers/time_distributed/vars", "td", []),
        ("layers/time_distributed/layer/vars", "td_dense", [("td", "kernel", (4, 3), 93), ("td", "bias", (3,), 94)]),
        ("layers/sequential/vars", "head", []),
        ("layers/sequential/layers/dense/vars", "head_dense", [("head_dense", "kernel", (3, 2), 95),
                                                               ("head_dense", "bias", (2,), 96)]),
        ("layers/sequential/layers/dense_1/vars", "head_out", [("head_out", "kernel", (2, 1), 97),
                                                               ("head_out", "bias", (1,), 98)]),
        ("layers/flatten/vars", "flat", []),
        ("layers/dense/vars", "out", [("out", "kernel", (8, 1), 99), ("out", "bias", (1,), 100)]),
    ]

    def build(f):
        for path, recorded, weights in plan:
            add_vars(f, path, [vals(seed, shape) for _, _, shape, seed in weights], recorded)
            for key, var, shape, seed in weights:
                exp.seed(key, var, seed, shape)
        f.create_group("vars").attrs.create("name", "functional", dtype=UTF8)
        add_vars(f, "optimizer/vars", [np.int64(3), vals(1, (3, 2, 4))], "adam")
    return h5_bytes(build)


def write_k3_functional():
    model = k3_functional_model()
    exp = Expected(model, "3.11.1", "keras")
    weights = k3_functional_weights(exp)
    write_keras_zip(os.path.join(OUT, "k3_functional.keras"), model,
                    {"keras_version": "3.11.1", "date_saved": "2025-01-01@00:00:00"}, weights,
                    compress=zipfile.ZIP_DEFLATED)  # Keras stores; deflated keeps the fixture small
    exp.write("k3_functional")


def k215_model():
    layers = [
        {"module": "keras.layers", "class_name": "InputLayer",
         "config": {"batch_input_shape": [None, 5, 1], "dtype": "float32", "sparse": False, "ragged": False,
                    "name": "conv1d_input"}, "registered_name": None},
        {"module": "keras.layers", "class_name": "Conv1D",
         "config": {"name": "conv1d", "trainable": True, "dtype": "float32", "batch_input_shape": [None, 5, 1],
                    "filters": 2, "kernel_size": [2], "strides": [1], "padding": "valid",
                    "data_format": "channels_last", "dilation_rate": [1], "groups": 1, "activation": "relu",
                    "use_bias": True}, "registered_name": None, "build_config": {"input_shape": [None, 5, 1]}},
        {"module": "keras.layers", "class_name": "DepthwiseConv1D",
         "config": {"name": "dw", "trainable": True, "dtype": "float32", "kernel_size": [2], "strides": [1],
                    "padding": "valid", "depth_multiplier": 1, "activation": "linear", "use_bias": True},
         "registered_name": None},
        {"module": "keras.layers", "class_name": "GlobalAveragePooling1D",
         "config": {"name": "global_average_pooling1d", "trainable": True, "dtype": "float32",
                    "data_format": "channels_last", "keepdims": False}, "registered_name": None},
        {"module": "keras.layers", "class_name": "Dense",
         "config": {"name": "dense", "trainable": True, "dtype": "float32", "units": 1, "activation": "sigmoid",
                    "use_bias": True}, "registered_name": None},
    ]
    return {"module": "keras", "class_name": "Sequential",
            "config": {"name": "sequential", "layers": layers}, "registered_name": None,
            "build_config": {"input_shape": [None, 5, 1]}}


def write_k215_sequential():
    model = k215_model()
    exp = Expected(model, "2.15.0", "keras")
    plan = [("conv1d", "conv1d", [("kernel", (2, 1, 2), 101), ("bias", (2,), 102)]),
            ("depthwise_conv1d", "dw", [("depthwise_kernel", (2, 2, 1), 103), ("bias", (2,), 104)]),
            ("global_average_pooling1d", "global_average_pooling1d", []),
            ("dense", "dense", [("kernel", (2, 1), 105), ("bias", (1,), 106)])]

    def build(f):
        for group, key, weights in plan:
            add_vars(f, "_layer_checkpoint_dependencies/%s/vars" % group, [vals(s, shape) for _, shape, s in weights])
            for var, shape, seed in weights:
                exp.seed(key, var, seed, shape)
        f.create_group("vars")
    write_keras_zip(os.path.join(OUT, "k215_sequential.keras"), model,
                    {"keras_version": "2.15.0", "date_saved": "2024-01-01@00:00:00"}, h5_bytes(build),
                    compress=zipfile.ZIP_STORED)
    exp.write("k215_sequential")


# ---- TensorFlow.js ------------------------------------------------------------------------------------------

def tfjs_model():
    return {"class_name": "Sequential", "config": {"name": "sequential_1", "layers": [
        {"class_name": "Conv1D", "config": {"name": "conv1d_1", "trainable": True, "batch_input_shape": [None, 6, 2],
                                            "dtype": "float32", "filters": 4, "kernel_size": [3], "strides": [1],
                                            "padding": "valid", "activation": "relu", "use_bias": True}},
        {"class_name": "GlobalMaxPooling1D", "config": {"name": "global_max_pooling1d_1", "trainable": True}},
        {"class_name": "Dense", "config": {"name": "dense_1", "trainable": True, "units": 2,
                                           "activation": "softmax", "use_bias": True}}]}}


def write_tfjs(folder, manifest_override=None, shards_override=None):
    os.makedirs(folder, exist_ok=True)
    model = tfjs_model()
    exp = Expected(model, "2.4.0", "tfjs")
    kernel = vals(110, (3, 2, 4))  # float32, split across two shards
    bias_q = np.array([0, 1, 2, 255], dtype=np.uint8)  # uint8: q * 0.5 - 1
    dense_k = vals(111, (4, 2), np.float16)  # float16 quantization
    dense_b_q = np.array([3, 65535], dtype="<u2")  # uint16: q * 0.25 - 2
    group1 = kernel.astype("<f4").tobytes() + bias_q.tobytes()
    group2 = dense_k.astype("<f2").tobytes() + dense_b_q.tobytes()
    exp.seed("conv1d_1", "kernel", 110, (3, 2, 4))
    exp.values("conv1d_1", "bias", bias_q.astype(np.float64) * 0.5 - 1.0)
    exp.seed("dense_1", "kernel", 111, (4, 2))
    exp.values("dense_1", "bias", dense_b_q.astype(np.float64) * 0.25 - 2.0)
    manifest = [
        {"paths": ["group1-shard1of2.bin", "group1-shard2of2.bin"],
         "weights": [{"name": "conv1d_1/kernel", "shape": [3, 2, 4], "dtype": "float32"},
                     {"name": "conv1d_1/bias", "shape": [4], "dtype": "float32",
                      "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1.0, "original_dtype": "float32"}}]},
        {"paths": ["group2-shard1of1.bin"],
         "weights": [{"name": "dense_1/kernel", "shape": [4, 2], "dtype": "float32",
                      "quantization": {"dtype": "float16", "original_dtype": "float32"}},
                     {"name": "dense_1/bias", "shape": [2], "dtype": "float32",
                      "quantization": {"min": -2.0, "scale": 0.25, "dtype": "uint16"}}]}]
    shards = {"group1-shard1of2.bin": group1[:50], "group1-shard2of2.bin": group1[50:],
              "group2-shard1of1.bin": group2}
    if manifest_override is not None:
        manifest = manifest_override(manifest)
    if shards_override is not None:
        shards = shards_override(shards)
    document = {"format": "layers-model", "generatedBy": "keras v2.4.0", "convertedBy": "TensorFlow.js Converter v3.3.0",
                "modelTopology": {"keras_version": "2.4.0", "backend": "tensorflow", "model_config": model},
                "weightsManifest": manifest}
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump(document, f, indent=1)
    for name, data in shards.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    return exp


# ---- Broken files ---------------------------------------------------------------------------------------------

def patch_zip_size(path, entry, new_size):
    """Sets the declared uncompressed size of `entry` in its local header and the central directory."""
    data = bytearray(open(path, "rb").read())
    name = entry.encode()
    pos = 0
    patched = 0
    while True:
        local = data.find(b"PK\x03\x04", pos)
        if local < 0:
            break
        n = struct.unpack_from("<H", data, local + 26)[0]
        if data[local + 30:local + 30 + n] == name:
            struct.pack_into("<I", data, local + 22, new_size)
            patched += 1
        pos = local + 4
    pos = 0
    while True:
        central = data.find(b"PK\x01\x02", pos)
        if central < 0:
            break
        n = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46:central + 46 + n] == name:
            struct.pack_into("<I", data, central + 24, new_size)
            patched += 1
        pos = central + 4
    assert patched == 2, (path, patched)
    open(path, "wb").write(bytes(data))


def write_tiny_k2(path, kernel_dtype=np.float32):
    """One Dense layer, tf.keras 2 layout: the base of the broken .h5 files."""
    model = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        k2_layer("dense", "Dense", {"units": 7, "use_bias": True, "batch_input_shape": [None, 5]})]}}
    with h5py.File(path, "w") as f:
        f.attrs.create("keras_version", "2.13.1", dtype=ASCII)
        f.attrs.create("model_config", json.dumps(model), dtype=ASCII)
        mw = f.create_group("model_weights")
        mw.attrs.create("keras_version", "2.13.1", dtype=ASCII)
        mw.attrs["layer_names"] = fixed(["dense"])
        g = layer_group(mw, "dense", ["dense/kernel:0", "dense/bias:0"])
        g.create_dataset("dense/kernel:0", data=vals(1, (5, 7), kernel_dtype))
        g.create_dataset("dense/bias:0", data=vals(2, (7,)))


def write_oversize_dataset(path):
    """A contiguous dataset whose dataspace and storage size claim 100 000 times what the file holds."""
    write_tiny_k2(path)
    with h5py.File(path, "r") as f:
        dataset = f["model_weights/dense/dense/kernel:0"]
        offset = dataset.id.get_offset()
        size = dataset.id.get_storage_size()
    data = bytes(open(path, "rb").read())
    dims = struct.pack("<QQ", 5, 7)
    assert data.count(dims) >= 1
    data = data.replace(dims, struct.pack("<QQ", 5, 700000))
    layout = struct.pack("<QQ", offset, size)
    assert data.count(layout) == 1
    data = data.replace(layout, struct.pack("<QQ", offset, size * 100000))
    open(path, "wb").write(data)


def tiny_k3_model():
    return {"module": "keras", "class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"module": "keras.layers", "class_name": "InputLayer",
         "config": {"batch_shape": [None, 4, 1], "dtype": "float32", "name": "input_layer"}},
        {"module": "keras.layers", "class_name": "Conv1D",
         "config": {"name": "conv1d_7", "filters": 2, "kernel_size": [2], "padding": "valid", "use_bias": True}},
        {"module": "keras.layers", "class_name": "Dense",
         "config": {"name": "dense_3", "units": 1, "use_bias": True}}]}}


def tiny_k3_weights(conv_name="conv1d_7", extra_conv_var=False):
    def build(f):
        conv = [vals(1, (2, 1, 2)), vals(2, (2,))] + ([vals(3, (2,))] if extra_conv_var else [])
        add_vars(f, "layers/conv1d/vars", conv, conv_name)
        add_vars(f, "layers/dense/vars", [vals(4, (2, 1)), vals(5, (1,))], "dense_3")
    return h5_bytes(build)


def write_broken():
    write_tiny_k2(os.path.join(OUT, "tiny_k2.h5"))
    data = open(os.path.join(OUT, "tiny_k2.h5"), "rb").read()
    os.remove(os.path.join(OUT, "tiny_k2.h5"))
    open(os.path.join(OUT, "truncated.h5"), "wb").write(data[:len(data) // 2])
    write_oversize_dataset(os.path.join(OUT, "oversize_dataset.h5"))
    write_tiny_k2(os.path.join(OUT, "int32_weights.h5"), kernel_dtype=np.int32)
    open(os.path.join(OUT, "not_hdf5.h5"), "w").write("this is not an HDF5 file\n")

    with h5py.File(os.path.join(OUT, "bad_config.h5"), "w") as f:
        f.attrs.create("keras_version", "2.13.1", dtype=ASCII)
        f.attrs.create("model_config", '{"class_name": "Sequential", "config": ', dtype=ASCII)
        f.create_group("model_weights").attrs.create("keras_version", "2.13.1", dtype=ASCII)

    with h5py.File(os.path.join(OUT, "missing_dataset.h5"), "w") as f:
        model = {"class_name": "Sequential", "config": {"name": "s", "layers": [
            k2_layer("dense", "Dense", {"units": 1, "use_bias": True})]}}
        f.attrs.create("keras_version", "2.13.1", dtype=ASCII)
        f.attrs.create("model_config", json.dumps(model), dtype=ASCII)
        mw = f.create_group("model_weights")
        mw.attrs.create("keras_version", "2.13.1", dtype=ASCII)
        mw.attrs["layer_names"] = fixed(["dense"])
        g = layer_group(mw, "dense", ["dense/kernel:0", "dense/bias:0"])
        g.create_dataset("dense/kernel:0", data=vals(1, (2, 1)))

    with h5py.File(os.path.join(OUT, "external_link.h5"), "w") as f:
        model = {"class_name": "Sequential", "config": {"name": "s", "layers": [
            k2_layer("dense", "Dense", {"units": 1, "use_bias": False})]}}
        f.attrs.create("keras_version", "2.13.1", dtype=ASCII)
        f.attrs.create("model_config", json.dumps(model), dtype=ASCII)
        mw = f.create_group("model_weights")
        mw.attrs.create("keras_version", "2.13.1", dtype=ASCII)
        mw.attrs["layer_names"] = fixed(["dense"])
        g = layer_group(mw, "dense", ["dense/kernel:0"])
        g["dense/kernel:0"] = h5py.ExternalLink("elsewhere.h5", "/kernel")

    model = tiny_k3_model()
    meta = {"keras_version": "3.11.1", "date_saved": "2025-01-01@00:00:00"}
    weights = tiny_k3_weights()
    write_keras_zip(os.path.join(OUT, "no_config.keras"), None, meta, weights)
    write_keras_zip(os.path.join(OUT, "dotdot_entry.keras"), model, meta, weights, extra=[("../x", b"x")])
    write_keras_zip(os.path.join(OUT, "wrong_var_count.keras"), model, meta, tiny_k3_weights(extra_conv_var=True))
    write_keras_zip(os.path.join(OUT, "name_mismatch.keras"), model, meta, tiny_k3_weights(conv_name="dense_3"))
    small = h5_bytes(lambda f: f.create_group("layers"))
    path = os.path.join(OUT, "huge_entry.keras")
    write_keras_zip(path, model, meta, small, compress=zipfile.ZIP_DEFLATED)
    patch_zip_size(path, "model.weights.h5", 3 << 30)
    path = os.path.join(OUT, "ratio_bomb.keras")
    write_keras_zip(path, model, meta, small, compress=zipfile.ZIP_DEFLATED)
    patch_zip_size(path, "model.weights.h5", 100 << 20)
    path = os.path.join(OUT, "truncated.keras")
    write_keras_zip(path, model, meta, weights)
    data = open(path, "rb").read()
    open(path, "wb").write(data[:len(data) // 2])

    def short(shards):
        shards["group2-shard1of1.bin"] = shards["group2-shard1of1.bin"][:-3]
        return shards

    def int32(manifest):
        manifest[1]["weights"][1] = {"name": "dense_1/bias", "shape": [2], "dtype": "int32"}
        return manifest

    def dotdot(manifest):
        manifest[1]["paths"] = ["../group2-shard1of1.bin"]
        return manifest

    write_tfjs(os.path.join(OUT, "tfjs_short"), shards_override=short)
    write_tfjs(os.path.join(OUT, "tfjs_int32"), manifest_override=int32)
    write_tfjs(os.path.join(OUT, "tfjs_dotdot"), manifest_override=dotdot)


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(os.path.join(OUT, "expected"))
    write_k2_sequential(os.path.join(OUT, "k2_sequential.h5"))
    write_k2_functional()
    write_k3_legacy()
    write_k1_sequential()
    write_k2_theano()
    write_weights_only()
    write_k3_functional()
    write_k215_sequential()
    write_tfjs(os.path.join(OUT, "tfjs")).write("tfjs")
    write_broken()
    total = sum(os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(OUT) for name in names)
    print("wrote %s (%d bytes)" % (os.path.normpath(OUT), total))


if __name__ == "__main__":
    main()
