// The reference of every kind, by group (reference/ref_<group>.cpp): plain direct loops in double precision,
// written from the Keras definitions (SPEC §3, §7), sharing nothing with network/. Dispatched by
// reference_node() in reference/reference.cpp through the per-kind functions declared at the end.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "io/tensor.hpp"
#include "plan/plan.hpp"

namespace c1r::ref {

using Inputs = std::vector<const Tensor*>;
using Outputs = std::vector<Tensor>;

// Helpers every reference file uses: a zeroed output tensor, the node's output shape k, its one input.
inline Tensor blank(const Shape& shape) { return Tensor{shape, std::vector<float>(static_cast<size_t>(shape.elements()))}; }

inline const Shape& out_shape(const LayerPlan& p, size_t k) {
    if (k < p.output_shapes.size()) return p.output_shapes[k];
    if (k == 0) return p.output_shape;
    throw std::logic_error("reference: layer \"" + p.spec.name + "\" has no output " + std::to_string(k));
}

inline const Tensor& one_input(const LayerPlan& p, const Inputs& in) {
    if (in.empty() || !in[0]) throw std::logic_error("reference: layer \"" + p.spec.name + "\" got no input");
    return *in[0];
}

// The input step a padded position i (-pad_left <= i < length + pad_right) reads under a padding_mode, as
// PyTorch pads (reflect: mirror without the edge step; replicate: the edge step; circular: wrap around);
// -1 where zeros fill it.
inline int64_t source_step(int64_t i, int64_t length, PaddingMode mode) {
    if (i >= 0 && i < length) return i;
    switch (mode) {
        case PaddingMode::zeros: return -1;
        case PaddingMode::reflect: return i < 0 ? -i : 2 * (length - 1) - i;
        case PaddingMode::replicate: return i < 0 ? 0 : length - 1;
        case PaddingMode::circular: return ((i % length) + length) % length;
    }
    return -1;
}

// Every Keras activation on one value (softmax and log_softmax are not per value: see activate()).
double activation(const ActivationSpec& a, double x);
// Applies an activation to a whole tensor: per value, or softmax/log_softmax over channels.
void activate(const ActivationSpec& a, Tensor& t);

Outputs conv(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat f);        // conv1d, conv1d_transpose
Outputs depthwise(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat f);   // depthwise, separable
Outputs pool(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat f);        // max/avg pool
Outputs global_pool(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat f);
Outputs upsample(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat f);
Outputs edges(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat f);       // zero_padding1d, cropping1d
Outputs permute(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat f);
Outputs reshape(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat f);     // reshape, flatten
Outputs identity(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat f);    // dropout family
Outputs repeat(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat f);
Outputs dense(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat f);       // dense, time_distributed
Outputs embedding(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat f);
Outputs norm(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat f);        // batch/layer normalization
Outputs activation_layer(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat f);  // activation, relu, leaky_relu, elu, softmax
Outputs prelu(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat f);
Outputs merge(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat f);       // add ... minimum
Outputs concat(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat f);
Outputs recurrent(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat f);   // lstm, gru, simple_rnn, bidirectional

// One reference per kind, reference_<kind>, generated from C1R_LAYER_KINDS; `C1R_REFERENCE(kind, function)`
// defines it beside the group's function. reference_node() dispatches to them, so a kind without one does not
// link.
#define C1R_DECLARE_REFERENCE(kind) Outputs reference_##kind(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat f);
C1R_LAYER_KINDS(C1R_DECLARE_REFERENCE)
#undef C1R_DECLARE_REFERENCE
#define C1R_REFERENCE(kind, function)                                                                     \
    Outputs reference_##kind(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat f) { \
        return function(p, in, w, f);                                                                      \
    }

}  // namespace c1r::ref
