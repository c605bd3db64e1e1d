// An ONNX model as plain data: the graph's inputs, outputs, initializers and nodes (topologically sorted),
// read from the protobuf with size limits by onnx_proto.cpp. Nothing outside that file sees protobuf.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace c1r {

// Limits every file is checked against before anything is allocated from its numbers.
constexpr int64_t kOnnxMaxFileBytes = int64_t{1} << 30;  // 1 GiB
constexpr int64_t kOnnxMaxDim = int64_t{1} << 31;        // one dimension
constexpr int64_t kOnnxMaxElements = int64_t{1} << 28;   // one tensor
constexpr int kOnnxMaxRank = 8;
constexpr int kOnnxMaxNodes = 100000;
constexpr int64_t kOnnxMaxOpset = 17;  // the newest default-domain opset this reader knows

// A tensor's values, as doubles (float, double and integer types; integers are exact up to 2^53).
struct OnnxTensor {
    std::vector<int64_t> dims;
    std::vector<double> values;
    bool integer = false;  // INT64/INT32/...: an index or shape tensor
    int64_t elements() const {
        int64_t n = 1;
        for (int64_t d : dims) n *= d;
        return n;
    }
};

struct OnnxAttr {
    enum class Kind { f, i, s, t, floats, ints, strings, other };
    Kind kind = Kind::other;
    double f = 0;
    int64_t i = 0;
    std::string s;
    std::shared_ptr<OnnxTensor> t;
    std::vector<double> floats;
    std::vector<int64_t> ints;
};

struct OnnxNode {
    size_t index = 0;       // position in the file's node list
    std::string name;       // the file's node name, or "<op>_<index>" when it has none
    std::string op;         // op_type
    std::string domain;     // "" or "ai.onnx" for the default domain
    std::vector<std::string> inputs, outputs;  // "" for an omitted optional input
    std::map<std::string, OnnxAttr> attrs;
};

struct OnnxValueInfo {
    std::string name;
    std::vector<int64_t> dims;  // -1: unknown (symbolic or missing)
    bool has_shape = false;
};

struct OnnxGraph {
    std::string name;
    int64_t opset = 0;
    std::vector<OnnxValueInfo> inputs;   // graph inputs that are not initializers
    std::vector<OnnxValueInfo> outputs;
    std::map<std::string, OnnxValueInfo> value_info;
    std::map<std::string, OnnxTensor> initializers;
    std::vector<OnnxNode> nodes;  // topologically sorted (file order where the file is already sorted)
};

// Parses a serialized ModelProto and checks it: sizes, dims, ranks and element counts within the limits above,
// initializers whose data matches their shape, no external data, default-domain opset <= kOnnxMaxOpset, every
// node input produced once, no cycle. Every problem is an Error(input) "<source>: <place>: <why>".
OnnxGraph parse_onnx_model(const std::string& bytes, const std::string& source);

// A serialized TensorProto (the backend tests' input_0.pb), with the same checks as an initializer.
OnnxTensor parse_onnx_tensor(const std::string& bytes, const std::string& source);

// The whole file, refused above kOnnxMaxFileBytes.
std::string read_onnx_bytes(const std::string& path, const std::string& source);

}  // namespace c1r
