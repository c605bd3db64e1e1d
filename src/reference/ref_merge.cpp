// Reference merges: add, subtract, multiply, average, maximum, minimum with Keras broadcasting, and concatenate.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "reference/kinds.hpp"

namespace c1r::ref {
namespace {



void check_inputs(const LayerPlan& p, const Inputs& in) {
    if (in.size() < 2)
        throw std::logic_error("reference: layer \"" + p.spec.name + "\" needs at least 2 inputs, got " +
                               std::to_string(in.size()));
    for (const Tensor* t : in)
        if (!t) throw std::logic_error("reference: layer \"" + p.spec.name + "\" got a null input");
}

}  // namespace

// Keras merges (REAL-MODELS §1e): a rank-2 input (B, C) is (B, 1, C) — as held here — and every axis of every
// input equals the output's or is 1 (broadcast).
Outputs merge(const LayerPlan& p, const Inputs& in, const LayerWeights&, DataFormat) {
    check_inputs(p, in);
    const LayerType type = p.spec.type;
    if (type == LayerType::subtract && in.size() != 2)
        throw std::logic_error("reference: subtract takes exactly 2 inputs, got " + std::to_string(in.size()));
    Tensor out = blank(out_shape(p, 0));
    const Shape& o = out.shape;
    for (const Tensor* t : in) {
        const Shape& s = t->shape;
        auto fits = [](int64_t a, int64_t b) { return a == b || a == 1; };
        if (!fits(s.batch, o.batch) || !fits(s.length, o.length) || !fits(s.channels, o.channels))
            throw std::logic_error("reference: layer \"" + p.spec.name + "\" input does not broadcast to its output");
    }
    auto value = [](const Tensor& t, int64_t n, int64_t l, int64_t c) {
        const Shape& s = t.shape;
        return static_cast<double>(t.at(s.batch == 1 ? 0 : n, s.length == 1 ? 0 : l, s.channels == 1 ? 0 : c));
    };
    for (int64_t n = 0; n < o.batch; ++n)
        for (int64_t l = 0; l < o.length; ++l)
            for (int64_t c = 0; c < o.channels; ++c) {
                double acc = value(*in[0], n, l, c);
                for (size_t i = 1; i < in.size(); ++i) {
                    const double v = value(*in[i], n, l, c);
                    switch (type) {
                        case LayerType::add:
                        case LayerType::average: acc += v; break;
                        case LayerType::subtract: acc -= v; break;
                        case LayerType::multiply: acc *= v; break;
                        case LayerType::maximum: acc = std::max(acc, v); break;
                        case LayerType::minimum: acc = std::min(acc, v); break;
                        default:
                            throw std::logic_error(std::string("reference: merge does not compute ") + to_string(type));
                    }
                }
                if (type == LayerType::average) acc /= static_cast<double>(in.size());
                out.at(n, l, c) = static_cast<float>(acc);
            }
    return {std::move(out)};
}

// Concatenate(axis): the user's axis in the data format's order — rank 3 channels_last (B, L, C), channels_first
// (B, C, L); rank 2 (B, F) — joins along channels or along length; every other axis is equal.
Outputs concat(const LayerPlan& p, const Inputs& in, const LayerWeights&, DataFormat f) {
    check_inputs(p, in);
    const int rank = in[0]->shape.rank;
    const int64_t axis = p.spec.axis < 0 ? p.spec.axis + rank : p.spec.axis;
    if (axis < 1 || axis >= rank)
        throw std::logic_error("reference: concatenate axis " + std::to_string(p.spec.axis) + " outside rank " +
                               std::to_string(rank));
    const bool channels = rank == 2 || (f == DataFormat::channels_last ? axis == 2 : axis == 1);
    Tensor out = blank(out_shape(p, 0));
    const Shape& o = out.shape;
    int64_t offset = 0;
    for (const Tensor* t : in) {
        const Shape& s = t->shape;
        if (s.batch != o.batch || (channels ? s.length != o.length : s.channels != o.channels))
            throw std::logic_error("reference: concatenate \"" + p.spec.name + "\" inputs do not fit its output");
        for (int64_t n = 0; n < s.batch; ++n)
            for (int64_t l = 0; l < s.length; ++l)
                for (int64_t c = 0; c < s.channels; ++c) {
                    if (channels) out.at(n, l, offset + c) = t->at(n, l, c);
                    else out.at(n, offset + l, c) = t->at(n, l, c);
                }
        offset += channels ? s.channels : s.length;
    }
    if (offset != (channels ? o.channels : o.length))
        throw std::logic_error("reference: concatenate \"" + p.spec.name + "\" inputs do not fill its output");
    return {std::move(out)};
}

// The kinds this file computes (layers/layer.hpp: C1R_LAYER_KINDS).
C1R_REFERENCE(add, merge)
C1R_REFERENCE(subtract, merge)
C1R_REFERENCE(multiply, merge)
C1R_REFERENCE(average, merge)
C1R_REFERENCE(maximum, merge)
C1R_REFERENCE(minimum, merge)
C1R_REFERENCE(concatenate, concat)

}  // namespace c1r::ref
