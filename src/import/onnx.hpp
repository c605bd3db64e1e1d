// ONNX model files (as torch.onnx.export writes them) read into a config in our format and named weights
// (SPEC §8, docs/onnx.md).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "import/keras_file.hpp"

namespace c1r {

struct OnnxModelFile {
    nlohmann::json config;  // data_format channels_first: tensors keep the model's (N, C, L)
    NamedWeights weights;   // by layer name (the ONNX node names), in Keras layout
};

// True for a name ending in .onnx (any case).
bool is_onnx_model_file(const std::string& path);

// Reads and maps the model. `batch` fills a symbolic batch dimension (default 1). A malformed file is
// Error(input) "<source>: <place>: <why>"; operators that cannot be mapped are one Error(config) listing every
// one of them (node name and op type), one per line.
OnnxModelFile read_onnx_model_file(const std::string& path, const std::string& source,
                                   std::optional<int64_t> batch = std::nullopt);

struct OnnxGraph;
// The mapping alone, for a graph already read (tests move backend-test inputs into initializers first).
OnnxModelFile onnx_graph_to_config(const OnnxGraph& graph, const std::string& source,
                                   std::optional<int64_t> batch = std::nullopt);

}  // namespace c1r
