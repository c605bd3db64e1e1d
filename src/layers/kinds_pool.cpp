// Windows without weights and edits of the length axis: pooling, global pooling, upsampling, zero padding,
// cropping.
#include "layers/kinds_common.hpp"

namespace c1r {
namespace {

void read_pool(ObjectReader& r, LayerSpec& l) {
    l.pool_size = r.integer("pool_size", 2, 1);
    l.kernel_size = l.pool_size;  // the planner's settings name the window kernel_size
    // Keras writes strides null for "same as pool_size".
    if (const json* strides = r.find("strides"); strides && strides->is_null()) l.strides = r.record("strides", l.pool_size);
    else l.strides = r.integer("strides", l.pool_size, 1);
    l.padding = read_padding(r, false, false);
}

void plan_pool(LayerPlan& p, const PlanContext&) {
    const LayerSpec& s = p.spec;
    const Shape& in = require_sequence(p);
    Window w = conv_window(in.length, s.pool_size, s.strides, 1, s.padding);
    if (w.output_length < 1)
        throw LayerError{"output length would be < 1: input length " + std::to_string(in.length) +
                         " is shorter than pool_size " + std::to_string(s.pool_size) + "; an input of length >= " +
                         std::to_string(s.pool_size) + " or padding \"same\" would work"};
    p.output_shape = {in.batch, w.output_length, in.channels};
    p.padding = std::pair{w.pad_left, w.pad_right};
    int64_t taps = conv_taps(in.length, w.output_length, s.pool_size, s.strides, 1, w.pad_left);
    p.flops = checked_mul(checked_mul(in.batch, in.channels), taps);
}

Span pool_span(const LayerPlan& p, Span out) {
    Wide pad_left = p.padding ? p.padding->first : 0;
    return {out.lo * p.spec.strides - pad_left, out.hi * p.spec.strides - pad_left + p.spec.pool_size - 1};
}

std::string pool_summary(const LayerSpec& l) {
    return "p" + std::to_string(l.pool_size) + " s" + std::to_string(l.strides) + " " + to_string(l.padding.kind);
}

void read_global(ObjectReader& r, LayerSpec& l) { l.keepdims = r.boolean("keepdims", false); }

void plan_global(LayerPlan& p, const PlanContext&) {
    const Shape& in = require_sequence(p);
    p.output_shape = p.spec.keepdims ? Shape{in.batch, 1, in.channels} : Shape::flat(in.batch, in.channels);
    p.flops = in.elements();
}

Span global_span(const LayerPlan& p, Span) { return {0, p.input_shape.length - 1}; }

std::string global_summary(const LayerSpec& l) { return l.keepdims ? "keepdims" : ""; }

void read_upsample(ObjectReader& r, LayerSpec& l) { l.size = r.integer("size", 2, 1); }

void plan_upsample(LayerPlan& p, const PlanContext&) {
    const Shape& in = require_sequence(p);
    p.output_shape = {in.batch, checked_mul(in.length, p.spec.size), in.channels};
}

Span upsample_span(const LayerPlan& p, Span out) {
    return {floor_div_wide(out.lo, p.spec.size), floor_div_wide(out.hi, p.spec.size)};
}

std::string upsample_summary(const LayerSpec& l) { return "x" + std::to_string(l.size); }

// zero_padding1d "padding" and cropping1d "cropping": an integer for both sides or [left, right].
void read_edges(ObjectReader& r, LayerSpec& l) {
    const std::string key = l.type == LayerType::zero_padding1d ? "padding" : "cropping";
    const json* value = r.find(key);
    int64_t fallback = 1;
    if (!value) l.edges = {fallback, fallback};
    else if (value->is_array() && value->size() == 2)
        l.edges = {r.integer_value((*value)[0], r.at(key) + "/0", 0), r.integer_value((*value)[1], r.at(key) + "/1", 0)};
    else {
        int64_t both = r.integer_value(*value, r.at(key), 0);
        l.edges = {both, both};
    }
    r.record_json(key, json::array({l.edges.first, l.edges.second}));
}

void plan_edges(LayerPlan& p, const PlanContext&) {
    const Shape& in = require_sequence(p);
    const auto [left, right] = p.spec.edges;
    int64_t length = 0;
    if (p.spec.type == LayerType::zero_padding1d) {
        length = checked_add(checked_add(in.length, left), right);
    } else {
        length = in.length - left - right;
        if (length < 1)
            throw LayerError{"cropping " + std::to_string(left) + " + " + std::to_string(right) +
                                 " steps leaves nothing of input length " + std::to_string(in.length),
                             "cropping"};
    }
    p.output_shape = {in.batch, length, in.channels};
    p.padding = p.spec.type == LayerType::zero_padding1d ? std::pair{left, right} : std::pair{-left, -right};
}

Span edges_span(const LayerPlan& p, Span out) {
    Wide shift = p.spec.type == LayerType::zero_padding1d ? -p.spec.edges.first : p.spec.edges.first;
    Wide lo = std::max<Wide>(out.lo + shift, 0), hi = std::min<Wide>(out.hi + shift, p.input_shape.length - 1);
    return {lo, hi};
}

std::string edges_summary(const LayerSpec& l) {
    return "[" + std::to_string(l.edges.first) + "," + std::to_string(l.edges.second) + "]";
}

}  // namespace

const std::vector<LayerKind> kPoolKinds = {
    {LayerType::max_pool1d, "max_pool1d", {}, {"MaxPooling1D", "MaxPool1D"}, 1, 1, read_pool, plan_pool, pool_span,
     nullptr, nullptr, pool_summary},
    {LayerType::avg_pool1d, "avg_pool1d", {}, {"AveragePooling1D", "AvgPool1D"}, 1, 1, read_pool, plan_pool,
     pool_span, nullptr, nullptr, pool_summary},
    {LayerType::global_max_pool1d, "global_max_pool1d", {}, {"GlobalMaxPooling1D", "GlobalMaxPool1D"}, 1, 1,
     read_global, plan_global, global_span, nullptr, nullptr, global_summary},
    {LayerType::global_avg_pool1d, "global_avg_pool1d", {}, {"GlobalAveragePooling1D", "GlobalAvgPool1D"}, 1, 1,
     read_global, plan_global, global_span, nullptr, nullptr, global_summary},
    {LayerType::upsample1d, "upsample1d", {}, {"UpSampling1D"}, 1, 1, read_upsample, plan_upsample, upsample_span,
     nullptr, nullptr, upsample_summary},
    {LayerType::zero_padding1d, "zero_padding1d", {}, {"ZeroPadding1D"}, 1, 1, read_edges, plan_edges, edges_span,
     nullptr, nullptr, edges_summary},
    {LayerType::cropping1d, "cropping1d", {}, {"Cropping1D"}, 1, 1, read_edges, plan_edges, edges_span, nullptr,
     nullptr, edges_summary},
};

}  // namespace c1r
