// A layer as a config (or an importer) states it: its kind, its settings with Keras names and defaults, the
// tensors it reads. Plain data; the kind table (layers/kind.hpp) knows what each kind does with it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace c1r {

// Every layer kind, once. A kind is added in four files: a line here, its row in its group's table
// (layers/kinds_*.cpp), `C1R_UNIT(kind, builder)` beside its oneDNN builder (network/units_*.cpp) and
// `C1R_REFERENCE(kind, function)` beside its reference (reference/*.cpp). The enum, the unit dispatch and the
// reference dispatch are generated from this list, so a kind without a unit or a reference does not link, and
// one without a row stops kind.cpp's startup check.
#define C1R_LAYER_KINDS(X)                                                                                      \
    X(conv1d) X(conv1d_transpose) X(max_pool1d) X(avg_pool1d) X(upsample1d) X(permute) X(reshape) X(activation) \
    X(dense) X(flatten) X(dropout) X(batch_normalization) X(layer_normalization) X(global_max_pool1d)          \
    X(global_avg_pool1d) X(zero_padding1d) X(cropping1d) X(depthwise_conv1d) X(separable_conv1d) X(embedding)  \
    X(repeat_vector) X(time_distributed) X(relu) X(leaky_relu) X(prelu) X(elu) X(softmax) X(add) X(subtract)   \
    X(multiply) X(average) X(maximum) X(minimum) X(concatenate) X(lstm) X(gru) X(simple_rnn) X(bidirectional)

enum class LayerType {
#define C1R_KIND_ENUM(kind) kind,
    C1R_LAYER_KINDS(C1R_KIND_ENUM)
#undef C1R_KIND_ENUM
    count_  // not a kind: the number of kinds
};
constexpr size_t kLayerTypeCount = static_cast<size_t>(LayerType::count_);

// Every Keras activation name (SPEC §7). hard_sigmoid follows Keras 3 unless `keras2` says otherwise.
enum class Activation {
    linear, relu, tanh, sigmoid, gelu, elu, swish, softmax, log_softmax, relu6, leaky_relu, selu, softplus,
    softsign, hard_sigmoid, hard_silu, exponential, mish, log_sigmoid, gelu_tanh,
};
enum class PaddingKind { valid, same, causal, explicit_pads };
// What fills padded steps (PyTorch's padding_mode; ONNX Pad constant/reflect/edge): zeros, the mirror image
// without the edge step, copies of the edge step, or the other end of the sequence.
enum class PaddingMode { zeros, reflect, replicate, circular };
enum class Interpolation { nearest, linear };
enum class DataFormat { channels_last, channels_first };
enum class DType { f32, bf16 };
enum class Distribution { normal, uniform };

const char* to_string(LayerType type);
const char* to_string(Activation activation);
const char* to_string(PaddingKind kind);
const char* to_string(PaddingMode mode);
const char* to_string(DType dtype);

struct PaddingSpec {
    PaddingKind kind = PaddingKind::valid;
    int64_t left = 0;  // only for explicit_pads
    int64_t right = 0;
};

// An activation function with the version rule it follows: Keras 2 (and TF.js) hard_sigmoid is
// clip(0.2x + 0.5, 0, 1), Keras 3's is relu6(x + 3) / 6.
struct ActivationSpec {
    Activation fn = Activation::linear;
    bool keras2 = false;
    bool operator==(const ActivationSpec&) const = default;
};

struct LayerSpec {
    LayerType type = LayerType::conv1d;
    std::string pointer;  // JSON pointer of the layer in its config, e.g. "/layers/2"
    std::string name;     // the layer's name: how graphs, weights folders and messages refer to it
    bool auto_named = false;  // the config gave none: Keras' automatic name (messages leave it out)
    std::vector<std::string> inputs;  // tensors it reads (layer or model-input names, "name:k" for output k)
    std::string shared_with;          // a repeated call of another layer: its weights are that layer's
    nlohmann::ordered_json keys;      // every key of the kind with defaults filled in: the writer's output

    // Convolutions and pooling.
    int64_t filters = 0;
    int64_t kernel_size = 1;
    int64_t strides = 1;
    int64_t dilation_rate = 1;
    int64_t groups = 1;
    int64_t depth_multiplier = 1;
    PaddingSpec padding;
    PaddingMode padding_mode = PaddingMode::zeros;  // conv1d, depthwise/separable, zero_padding1d
    std::optional<int64_t> output_padding;
    bool use_bias = true;
    ActivationSpec activation;
    int64_t pool_size = 2;
    bool ceil_mode = false;             // pooling, PyTorch rule
    bool count_include_pad = false;     // avg_pool1d (PyTorch's default is true; Keras excludes padding)
    int64_t size = 2;                   // upsample1d
    Interpolation interpolation = Interpolation::nearest;  // upsample1d
    bool align_corners = false;         // upsample1d linear
    std::vector<int64_t> dims;          // permute, 1-based
    std::vector<int64_t> target_shape;  // reshape, batch excluded, one -1 allowed
    // Heads, normalisation, embeddings, reshaping.
    int64_t units = 0;                  // dense, recurrent layers
    int64_t input_dim = 0, output_dim = 0;  // embedding
    int64_t repeats = 1;                // repeat_vector n
    int64_t axis = -1;                  // normalisation, softmax (0: the batch), concatenate
    std::vector<int64_t> norm_axes{-1};  // normalisation: every axis given (`axis` an int or a list; axis = the first)
    bool return_statistics = false;      // layer_normalization: also output the mean and 1/sqrt(var + eps)
    bool log_softmax = false;           // softmax `log`: log-softmax over the axis (ONNX LogSoftmax)
    double epsilon = 1e-3;
    bool center = true, scale = true;
    bool keepdims = false;
    std::pair<int64_t, int64_t> edges{0, 0};  // zero_padding1d / cropping1d (left, right)
    // Activation layers.
    std::optional<double> max_value;
    double negative_slope = 0.0, threshold = 0.0, alpha = 1.0;
    std::vector<int64_t> shared_axes;  // prelu, 1-based
    // Recurrent layers.
    ActivationSpec recurrent_activation{Activation::sigmoid};
    bool return_sequences = false, return_state = false, go_backwards = false, reset_after = true;
    bool peepholes = false;  // lstm: peephole variable (3, units), rows i, f, o, on the cell state (ONNX LSTM's P)
    std::string merge_mode = "concat";  // bidirectional; "none" gives two outputs
    std::shared_ptr<const LayerSpec> inner;  // time_distributed, bidirectional

    // Weight files by Keras variable name (kernel, bias, gamma, ...), resolved against the config's folder.
    std::map<std::string, std::string> weight_files;
};

}  // namespace c1r
