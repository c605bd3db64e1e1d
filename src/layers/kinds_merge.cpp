// Merges: add, subtract, multiply, average, maximum, minimum (Keras broadcasting), concatenate (any axis).
#include "layers/kinds_common.hpp"

namespace c1r {
namespace {

std::string shape_words(const Shape& s) {
    return s.rank == 2 ? "(" + std::to_string(s.batch) + ", " + std::to_string(s.channels) + ")"
                       : "(" + std::to_string(s.batch) + ", " + std::to_string(s.length) + ", " +
                             std::to_string(s.channels) + ")";
}

std::string input_name(const LayerPlan& p, size_t i) {
    return i < p.spec.inputs.size() ? "\"" + p.spec.inputs[i] + "\"" : "input " + std::to_string(i);
}

void read_merge(ObjectReader&, LayerSpec&) {}

// Keras: equal batch; a rank-2 input (batch, C) is read as (batch, 1, C); then every axis is equal or 1.
void plan_merge(LayerPlan& p, const PlanContext&) {
    if (p.spec.type == LayerType::subtract && p.input_shapes.size() != 2)
        throw LayerError{"subtract takes exactly 2 inputs, got " + std::to_string(p.input_shapes.size())};
    Shape out = p.input_shapes[0];
    for (size_t i = 1; i < p.input_shapes.size(); ++i) {
        const Shape& s = p.input_shapes[i];
        auto fit = [&](int64_t a, int64_t b) -> int64_t {
            if (a == b || b == 1) return a;
            if (a == 1) return b;
            throw LayerError{"cannot merge " + input_name(p, 0) + " of shape " + shape_words(p.input_shapes[0]) +
                             " with " + input_name(p, i) + " of shape " + shape_words(s) +
                             ": axes differ and neither is 1"};
        };
        out.batch = fit(out.batch, s.batch);
        out.length = fit(out.length, s.length);
        out.channels = fit(out.channels, s.channels);
        out.rank = std::max(out.rank, s.rank);
    }
    p.output_shape = out;
    p.flops = checked_mul(out.elements(), static_cast<int64_t>(p.input_shapes.size() - 1));
}

void read_concat(ObjectReader& r, LayerSpec& l) { l.axis = r.integer("axis", -1, -3, 3); }

// The internal axis a concatenate joins: 'l' (length) or 'c' (channels), from the user's axis.
char concat_axis(const LayerPlan& p, DataFormat format) {
    const int rank = p.input_shapes[0].rank;
    int64_t axis = p.spec.axis < 0 ? p.spec.axis + rank : p.spec.axis;
    if (axis < 1 || axis >= rank)
        throw LayerError{"axis " + std::to_string(p.spec.axis) + " does not exist in rank-" + std::to_string(rank) +
                             " inputs",
                         "axis"};
    if (rank == 2) return 'c';
    bool channels = format == DataFormat::channels_last ? axis == 2 : axis == 1;
    return channels ? 'c' : 'l';
}

void plan_concat(LayerPlan& p, const PlanContext& c) {
    const char axis = concat_axis(p, c.data_format);
    Shape out = p.input_shapes[0];
    for (size_t i = 1; i < p.input_shapes.size(); ++i) {
        const Shape& s = p.input_shapes[i];
        bool ok = s.rank == out.rank && s.batch == out.batch &&
                  (axis == 'c' ? s.length == out.length : s.channels == out.channels);
        if (!ok)
            throw LayerError{"cannot concatenate " + input_name(p, 0) + " of shape " +
                             shape_words(p.input_shapes[0]) + " with " + input_name(p, i) + " of shape " +
                             shape_words(s) + " on axis " + std::to_string(p.spec.axis) +
                             ": the other axes must be equal"};
        if (axis == 'c') out.channels = checked_add(out.channels, s.channels);
        else out.length = checked_add(out.length, s.length);
    }
    p.output_shape = out;
}

bool concat_mixes(const LayerPlan& p) {
    // Joining along the length axis shifts positions: no single receptive field.
    const int rank = p.input_shapes[0].rank;
    return rank == 3 && p.output_shape.length != p.input_shapes[0].length;
}

std::string concat_summary(const LayerSpec& l) { return "axis " + std::to_string(l.axis); }

}  // namespace

const std::vector<LayerKind> kMergeKinds = {
    {LayerType::add, "add", {}, {"Add"}, 2, -1, read_merge, plan_merge, nullptr, nullptr, nullptr, no_summary},
    {LayerType::subtract, "subtract", {}, {"Subtract"}, 2, 2, read_merge, plan_merge, nullptr, nullptr, nullptr,
     no_summary},
    {LayerType::multiply, "multiply", {}, {"Multiply"}, 2, -1, read_merge, plan_merge, nullptr, nullptr, nullptr,
     no_summary},
    {LayerType::average, "average", {}, {"Average"}, 2, -1, read_merge, plan_merge, nullptr, nullptr, nullptr,
     no_summary},
    {LayerType::maximum, "maximum", {}, {"Maximum"}, 2, -1, read_merge, plan_merge, nullptr, nullptr, nullptr,
     no_summary},
    {LayerType::minimum, "minimum", {}, {"Minimum"}, 2, -1, read_merge, plan_merge, nullptr, nullptr, nullptr,
     no_summary},
    {LayerType::concatenate, "concatenate", {}, {"Concatenate"}, 2, -1, read_concat, plan_concat, nullptr,
     concat_mixes, nullptr, concat_summary},
};

}  // namespace c1r
