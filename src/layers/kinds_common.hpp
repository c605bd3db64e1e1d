// Small helpers the kind rows share (only layers/kinds_*.cpp include this).
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "layers/kind.hpp"

namespace c1r {

// The node's first input, which must be a sequence (batch, steps, channels).
inline const Shape& require_sequence(const LayerPlan& p) {
    if (p.input_shape.rank != 3)
        throw LayerError{"expects a sequence (batch, steps, channels) but its input has rank " +
                         std::to_string(p.input_shape.rank) + " (batch, features)"};
    return p.input_shape;
}

// Keras glorot_uniform with Keras' fans: receptive field (all axes but the last two) times each of those two.
inline Variable glorot(std::string name, std::vector<int64_t> shape) {
    int64_t receptive = 1;
    for (size_t i = 0; i + 2 < shape.size(); ++i) receptive = checked_mul(receptive, shape[i]);
    int64_t in = shape.size() >= 2 ? shape[shape.size() - 2] : shape[0];
    int64_t out = shape.back();
    Variable v{std::move(name), std::move(shape), Variable::Init::glorot_uniform};
    v.fan_in = checked_mul(receptive, in);
    v.fan_out = checked_mul(receptive, out);
    return v;
}
inline Variable zeros(std::string name, std::vector<int64_t> shape) {
    return {std::move(name), std::move(shape), Variable::Init::zeros};
}
inline Variable ones(std::string name, std::vector<int64_t> shape) {
    return {std::move(name), std::move(shape), Variable::Init::ones};
}

inline std::string activation_suffix(const ActivationSpec& a) {
    return a.fn == Activation::linear ? "" : std::string(" ") + to_string(a.fn);
}

// Identity index map for kinds that keep each step where it is.
inline Span same_span(const LayerPlan&, Span out) { return out; }
inline bool always_mixes(const LayerPlan&) { return true; }
inline std::string no_summary(const LayerSpec&) { return ""; }

}  // namespace c1r
