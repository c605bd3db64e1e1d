// The ONNX graph → config mapping, shared by onnx.cpp (values, axes, shape arithmetic, the driver) and
// onnx_ops.cpp (one function per operator family). Only import/onnx*.cpp include this. docs/onnx.md explains
// the axis bookkeeping.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "import/keras_file.hpp"
#include "import/onnx_graph.hpp"

namespace c1r::onnx_import {

using json = nlohmann::json;

// Thrown by an operator's mapping: the node is listed as unsupported with this reason.
struct Unsupported {
    std::string why;
};

// a * b for sizes the file states; Unsupported on overflow (the file's numbers are never trusted).
inline int64_t mul_sizes(int64_t a, int64_t b) {
    int64_t r = 0;
    if (__builtin_mul_overflow(a, b, &r)) throw Unsupported{"a size overflows 64 bits"};
    return r;
}

// What an ONNX value is during the mapping: a constant (folded shape arithmetic, weights), or a tensor of the
// model, which lives in one of our tensors (`ref`). Our tensors are (batch, length, channels) inside, rank 3,
// or (batch, features) rank 2; `roles` names, for each ONNX axis, which of our axes it is:
//   'B' batch, 'C' channels (features), 'L' length, '1' an extra axis of size 1 that is none of ours,
//   'D' the direction axis of a bidirectional RNN output, the outer part of our channels.
// So Transpose, Unsqueeze and most Squeezes only relabel; an op that needs the ONNX order (N, C, L) calls
// canonical(), which adds a permute or reshape layer only where our tensor is not already in that order.
struct Value {
    bool is_const = false;
    std::vector<int64_t> dims;  // the ONNX shape
    std::vector<double> data;   // constants only
    bool integer = false;       // constants only
    std::string ref;            // tensors: our tensor name ("layer", "layer:1" or a model input)
    std::string roles;          // tensors: one letter per ONNX axis
    int rank = 3;               // tensors: our rank (2 or 3)
    int64_t elements() const {
        int64_t n = 1;
        for (int64_t d : dims) n = mul_sizes(n, d);
        return n;
    }
};

class Lowerer {
public:
    Lowerer(const OnnxGraph& graph, std::string source, std::optional<int64_t> batch);
    // The config (data_format channels_first) and the weights in Keras layout. Throws Error(config) listing
    // every node that cannot be mapped.
    std::pair<json, NamedWeights> run();

    // ---- for the operator mappings ----
    const OnnxGraph& graph;
    const std::string source;
    int64_t fold_budget = int64_t{1} << 24;  // values constant folding may still create (onnx_fold.cpp)

    bool has(const OnnxNode& n, size_t k) const { return k < n.inputs.size() && !n.inputs[k].empty(); }
    const Value& in(const OnnxNode& n, size_t k) const;
    const Value& tensor_in(const OnnxNode& n, size_t k) const;  // Unsupported when a constant
    const Value& const_in(const OnnxNode& n, size_t k) const;   // Unsupported when a tensor
    bool used(const OnnxNode& n, size_t k) const;              // output k is read by a node or is a model output
    int readers(const std::string& value) const;
    const OnnxNode* producer(const std::string& value) const;
    // The one node reading `value` (with an output of its own), if there is exactly one.
    const OnnxNode* only_reader(const std::string& value) const;

    int64_t attr_i(const OnnxNode& n, const std::string& name, int64_t fallback) const;
    double attr_f(const OnnxNode& n, const std::string& name, double fallback) const;
    std::string attr_s(const OnnxNode& n, const std::string& name, const std::string& fallback) const;
    std::vector<int64_t> attr_ints(const OnnxNode& n, const std::string& name, std::vector<int64_t> fallback) const;
    // Attributes not in `known` (or a different value for a known one) are the caller's to refuse.
    void only_attrs(const OnnxNode& n, const std::set<std::string>& known) const;

    // The value as (N, C, L) / (N, F) in ONNX order, with our tensor in the same order (adds a permute or a
    // reshape layer when needed). `rank3` requires a sequence.
    Value canonical(const OnnxNode& n, const Value& v, bool rank3 = false);
    // Our tensor with ONNX axis `axis` of a canonical value as our channels: canonical, then a permute when the
    // axis is the length. Returns the value whose roles say where each axis went.
    Value channels_at(const OnnxNode& n, const Value& v, int64_t axis);
    // Adds a layer named after the node (suffix for helper layers), returns its unique name.
    std::string add_layer(const OnnxNode& n, json layer, const std::vector<std::string>& inputs,
                          const std::string& suffix = "");
    void add_weight(const std::string& layer, const std::string& var, std::vector<int64_t> shape,
                    std::vector<float> values);
    void set_tensor(const std::string& name, const std::string& ref, std::vector<int64_t> dims, std::string roles,
                    int rank);
    void set_const(const std::string& name, std::vector<int64_t> dims, std::vector<double> data, bool integer);
    void alias(const std::string& name, const Value& v) { values_[name] = v; }
    void skip(const OnnxNode& n) { skipped_.insert(n.index); }  // consumed by a pattern of another node

    static int64_t norm_axis(int64_t axis, size_t rank);
    // A tensor whose ONNX axes are exactly ours (batch first, no extra axes), in either order.
    static bool direct(const Value& v);
    // A model output's axis order (layers/layout.hpp) when it cannot be written as (N, C, L) / (N, F): its
    // batch axis moved or it has more than 3 axes; empty otherwise (and when no axis order can hold it).
    static std::string output_layout(const Value& v);

private:
    std::optional<int64_t> batch_;
    std::map<std::string, Value> values_;
    std::set<std::string> poisoned_;  // outputs of unsupported nodes: their readers are not listed again
    std::map<std::string, int> readers_;
    std::map<std::string, const OnnxNode*> producers_;
    std::set<std::string> model_outputs_;
    std::set<size_t> skipped_;
    json layers_ = json::array();
    NamedWeights weights_;
    std::set<std::string> names_;

    void add_inputs(json& config);
    void lower(const OnnxNode& n);
    std::string unique(std::string name);
};

// Folds a node whose inputs are all constants (shape arithmetic); false when it cannot.
bool fold_constant(Lowerer& L, const OnnxNode& n);
// Shape-only operators on tensors (onnx.cpp); false when the op is not one of them.
bool lower_shape_op(Lowerer& L, const OnnxNode& n);
// Dropout runs as the identity only in inference: Unsupported when its training_mode is true (or not a
// constant) and its ratio is not 0, which would draw a random mask.
void check_dropout_inference(Lowerer& L, const OnnxNode& n);
// Layers (onnx_ops.cpp, onnx_rnn.cpp); false when the op is not one of them.
bool lower_layer_op(Lowerer& L, const OnnxNode& n);
bool lower_rnn_op(Lowerer& L, const OnnxNode& n);

}  // namespace c1r::onnx_import
