// Trained Keras model files (.h5, .keras, TensorFlow.js model.json) read into the architecture JSON and named
// weights.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace c1r {

// One variable's values in C order and Keras' own layout (Conv1D kernel (k, in, out), Dense (in, out), ...).
struct WeightArray {
    std::vector<int64_t> shape;
    std::vector<float> values;
};

// weights["<layer name>"]["<variable>"]. A Bidirectional's halves are "<bidir name>/forward_<inner name>" and
// "<bidir name>/backward_<inner name>"; a TimeDistributed keeps its own name; a nested model's layers keep
// their own names. Variables have their short Keras names: kernel, bias, gamma, beta, moving_mean,
// moving_variance, embeddings, depthwise_kernel, pointwise_kernel, recurrent_kernel, alpha
// (docs/keras-files.md lists the rest).
using NamedWeights = std::map<std::string, std::map<std::string, WeightArray>>;

struct KerasModelFile {
    nlohmann::json
        model;  // {"class_name": ..., "config": ...} as model.to_json() gives; null for a weights-only .h5
    std::string keras_version;  // "2.2.4", "3.11.1"; "1" for a Keras 1 .h5; "" when the file does not say
    std::string format;         // "h5", "keras" or "tfjs"
    NamedWeights weights;
};

// True for a file to be read with read_keras_model_file: an .h5/.hdf5/.keras name, an HDF5 or zip signature,
// or a JSON object with "weightsManifest" (TensorFlow.js). Never throws; an unreadable file is false.
bool is_keras_model_file(const std::string& path);

// Reads the model (format chosen by the file's signature, then its name). Every problem with the file is an
// Error(ErrorKind::input) "<path>: <place>: <why>" on one line, the place being an HDF5 object path, a zip
// entry or a manifest index.
KerasModelFile read_keras_model_file(const std::string& path);

}  // namespace c1r
