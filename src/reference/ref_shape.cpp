// Reference kinds that reduce or move values: global pooling, zero padding and cropping, reshape and flatten,
// the dropout family (identity at inference), repeat_vector.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "reference/kinds.hpp"

namespace c1r::ref {
namespace {


[[noreturn]] void mismatch(const LayerPlan& p) {
    throw std::logic_error("reference: layer \"" + p.spec.name + "\" output shape does not fit its input");
}

}  // namespace

// GlobalMax/AveragePooling1D: reduce the length axis; (B, C) or, with keepdims, (B, 1, C) — the same values.
Outputs global_pool(const LayerPlan& p, const Inputs& in, const LayerWeights&, DataFormat) {
    const Tensor& x = one_input(p, in);
    const bool is_max = p.spec.type == LayerType::global_max_pool1d;
    if (!is_max && p.spec.type != LayerType::global_avg_pool1d)
        throw std::logic_error(std::string("reference: global_pool does not compute ") + to_string(p.spec.type));
    Tensor out = blank(out_shape(p, 0));
    if (out.shape.batch != x.shape.batch || out.shape.length != 1 || out.shape.channels != x.shape.channels)
        mismatch(p);
    for (int64_t n = 0; n < x.shape.batch; ++n)
        for (int64_t c = 0; c < x.shape.channels; ++c) {
            double best = -INFINITY, sum = 0.0;
            for (int64_t l = 0; l < x.shape.length; ++l) {
                const double v = x.at(n, l, c);
                best = std::max(best, v);
                sum += v;
            }
            out.at(n, 0, c) = static_cast<float>(is_max ? best : sum / static_cast<double>(x.shape.length));
        }
    return {std::move(out)};
}

// ZeroPadding1D adds spec.edges (left, right) steps, zeros or as its padding_mode fills them; Cropping1D drops
// that many steps from each end.
Outputs edges(const LayerPlan& p, const Inputs& in, const LayerWeights&, DataFormat) {
    const Tensor& x = one_input(p, in);
    const auto [left, right] = p.spec.edges;
    Tensor out = blank(out_shape(p, 0));
    const bool pad = p.spec.type == LayerType::zero_padding1d;
    if (!pad && p.spec.type != LayerType::cropping1d)
        throw std::logic_error(std::string("reference: edges does not compute ") + to_string(p.spec.type));
    const int64_t expected = pad ? x.shape.length + left + right : x.shape.length - left - right;
    if (out.shape.batch != x.shape.batch || out.shape.channels != x.shape.channels || out.shape.length != expected)
        mismatch(p);
    for (int64_t n = 0; n < out.shape.batch; ++n)
        for (int64_t o = 0; o < out.shape.length; ++o) {
            const int64_t i = pad ? source_step(o - left, x.shape.length, p.spec.padding_mode) : o + left;
            if (i < 0 || i >= x.shape.length) continue;  // a zero-padded step: stays zero
            for (int64_t c = 0; c < out.shape.channels; ++c) out.at(n, o, c) = x.at(n, i, c);
        }
    return {std::move(out)};
}

// Reshape and Flatten: the per-sample values in the data format's row-major order (rank 2: (batch, features)),
// written in that order into the output shape.
Outputs reshape(const LayerPlan& p, const Inputs& in, const LayerWeights&, DataFormat f) {
    const Tensor& x = one_input(p, in);
    const Shape& shape = out_shape(p, 0);
    if (shape.elements() != x.shape.elements() || shape.batch != x.shape.batch) mismatch(p);
    const std::vector<float> flat = tensor_to_user_order(x, f);
    Tensor out = tensor_from_user_order(shape, flat.data(), f);
    out.shape = shape;
    return {std::move(out)};
}

// Dropout, SpatialDropout1D, GaussianNoise, GaussianDropout, AlphaDropout at inference.
Outputs identity(const LayerPlan& p, const Inputs& in, const LayerWeights&, DataFormat) {
    const Tensor& x = one_input(p, in);
    Tensor out = x;
    out.shape = out_shape(p, 0);
    if (out.shape.elements() != x.shape.elements()) mismatch(p);
    return {std::move(out)};
}

// RepeatVector(n): (B, C) -> (B, n, C).
Outputs repeat(const LayerPlan& p, const Inputs& in, const LayerWeights&, DataFormat) {
    const Tensor& x = one_input(p, in);
    Tensor out = blank(out_shape(p, 0));
    if (x.shape.length != 1 || out.shape.batch != x.shape.batch || out.shape.channels != x.shape.channels ||
        out.shape.length != p.spec.repeats)
        mismatch(p);
    for (int64_t n = 0; n < out.shape.batch; ++n)
        for (int64_t r = 0; r < out.shape.length; ++r)
            for (int64_t c = 0; c < out.shape.channels; ++c) out.at(n, r, c) = x.at(n, 0, c);
    return {std::move(out)};
}

// The kinds this file computes (layers/layer.hpp: C1R_LAYER_KINDS).
C1R_REFERENCE(global_max_pool1d, global_pool)
C1R_REFERENCE(global_avg_pool1d, global_pool)
C1R_REFERENCE(zero_padding1d, edges)
C1R_REFERENCE(cropping1d, edges)
C1R_REFERENCE(reshape, reshape)
C1R_REFERENCE(flatten, reshape)
C1R_REFERENCE(dropout, identity)
C1R_REFERENCE(repeat_vector, repeat)

}  // namespace c1r::ref
