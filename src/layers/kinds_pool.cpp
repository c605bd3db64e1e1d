// Windows without weights and edits of the length axis: pooling, global pooling, upsampling, zero padding,
// cropping.
#include "layers/kinds_common.hpp"

namespace c1r {
namespace {

// Keras keys, plus PyTorch's explicit pads, ceil_mode, count_include_pad (avg) and dilation_rate (max).
void read_pool(ObjectReader& r, LayerSpec& l) {
    const bool is_max = l.type == LayerType::max_pool1d;
    l.pool_size = r.integer("pool_size", 2, 1);
    l.kernel_size = l.pool_size;  // the planner's settings name the window kernel_size
    // Keras writes strides null for "same as pool_size".
    if (const json* strides = r.find("strides"); strides && strides->is_null()) l.strides = r.record("strides", l.pool_size);
    else l.strides = r.integer("strides", l.pool_size, 1);
    l.padding = read_padding(r, false, true);
    if (is_max) l.dilation_rate = r.integer("dilation_rate", 1, 1);
    l.ceil_mode = r.boolean("ceil_mode", false);
    if (!is_max) l.count_include_pad = r.boolean("count_include_pad", false);
    // PyTorch's rule: every window keeps a real step, so no max over padding alone, no average of nothing.
    if (l.padding.kind == PaddingKind::explicit_pads && std::max(l.padding.left, l.padding.right) > l.pool_size / 2)
        r.fail(r.at("padding"), "each pad (" + std::to_string(l.padding.left) + ", " + std::to_string(l.padding.right) +
                                    ") must be at most half of pool_size (" + std::to_string(l.pool_size) + ")");
}

void plan_pool(LayerPlan& p, const PlanContext&) {
    const LayerSpec& s = p.spec;
    const Shape& in = require_sequence(p);
    Window w = pool_window(in.length, s.pool_size, s.strides, s.dilation_rate, s.padding, s.ceil_mode);
    const int64_t dk = dilated_kernel(s.pool_size, s.dilation_rate);
    if (w.output_length < 1)
        throw LayerError{"output length would be < 1: input length " + std::to_string(in.length) +
                         (w.pad_left + w.pad_right ? " + padding " + std::to_string(w.pad_left + w.pad_right) : "") +
                         " is shorter than the window " + std::to_string(dk) + "; an input of length >= " +
                         std::to_string(dk - w.pad_left - w.pad_right) + " or padding \"same\" would work"};
    p.output_shape = {in.batch, w.output_length, in.channels};
    p.padding = std::pair{w.pad_left, w.pad_right};
    int64_t taps = conv_taps(in.length, w.output_length, s.pool_size, s.strides, s.dilation_rate, w.pad_left);
    p.flops = checked_mul(checked_mul(in.batch, in.channels), taps);
}

// Unclipped, as conv windows: ceil_mode only adds a last window (reaching past the right padding).
Span pool_span(const LayerPlan& p, Span out) {
    const LayerSpec& s = p.spec;
    Wide pad_left = p.padding ? p.padding->first : 0;
    Wide dk = Wide{s.dilation_rate} * (s.pool_size - 1) + 1;
    return {out.lo * s.strides - pad_left, out.hi * s.strides - pad_left + dk - 1};
}

std::string pool_summary(const LayerSpec& l) {
    std::string s = "p" + std::to_string(l.pool_size) + " s" + std::to_string(l.strides);
    if (l.dilation_rate > 1) s += " d" + std::to_string(l.dilation_rate);
    if (l.padding.kind == PaddingKind::explicit_pads)
        s += " pad[" + std::to_string(l.padding.left) + "," + std::to_string(l.padding.right) + "]";
    else s += std::string(" ") + to_string(l.padding.kind);
    if (l.ceil_mode) s += " ceil";
    if (l.count_include_pad) s += " incl_pad";
    return s;
}

void read_global(ObjectReader& r, LayerSpec& l) { l.keepdims = r.boolean("keepdims", false); }

void plan_global(LayerPlan& p, const PlanContext&) {
    const Shape& in = require_sequence(p);
    p.output_shape = p.spec.keepdims ? Shape{in.batch, 1, in.channels} : Shape::flat(in.batch, in.channels);
    p.flops = in.elements();
}

Span global_span(const LayerPlan& p, Span) { return {0, p.input_shape.length - 1}; }

std::string global_summary(const LayerSpec& l) { return l.keepdims ? "keepdims" : ""; }

void read_upsample(ObjectReader& r, LayerSpec& l) {
    l.size = r.integer("size", 2, 1);
    l.interpolation = r.choice("interpolation", Interpolation::nearest,
                               {{"nearest", Interpolation::nearest}, {"linear", Interpolation::linear}});
    r.record_json("interpolation", l.interpolation == Interpolation::linear ? "linear" : "nearest");
    l.align_corners = r.boolean("align_corners", false);
    if (l.align_corners && l.interpolation != Interpolation::linear)
        r.fail(r.at("align_corners"), "align_corners needs interpolation \"linear\" (as PyTorch)");
}

void plan_upsample(LayerPlan& p, const PlanContext&) {
    const Shape& in = require_sequence(p);
    p.output_shape = {in.batch, checked_mul(in.length, p.spec.size), in.channels};
}

// Nearest: output step o reads step o / size. Linear reads the two steps around its source position, with
// weight > 0 (PyTorch: src = (o + 0.5) / size - 0.5 clamped at 0; align_corners: src = o (L-1) / (Lout-1)).
Span upsample_span(const LayerPlan& p, Span out) {
    const LayerSpec& s = p.spec;
    if (s.interpolation == Interpolation::nearest) return {floor_div_wide(out.lo, s.size), floor_div_wide(out.hi, s.size)};
    const Wide length = p.input_shape.length, out_length = length * s.size;
    Wide lo = 0, hi = 0;
    if (s.align_corners) {
        const Wide den = std::max<Wide>(out_length - 1, 1);  // a single output step reads step 0
        lo = floor_div_wide(out.lo * (length - 1), den);
        hi = ceil_div_wide(out.hi * (length - 1), den);
    } else {  // src = (2o + 1 - size) / (2 size)
        lo = floor_div_wide(2 * out.lo + 1 - s.size, 2 * Wide{s.size});
        hi = ceil_div_wide(2 * out.hi + 1 - s.size, 2 * Wide{s.size});
    }
    if (out.lo >= 0) lo = std::max<Wide>(lo, 0);                     // PyTorch clamps the source at 0
    if (out.hi < out_length) hi = std::min<Wide>(hi, length - 1);  // and the upper neighbour at L-1
    return {lo, hi};
}

std::string upsample_summary(const LayerSpec& l) {
    std::string s = "x" + std::to_string(l.size);
    if (l.interpolation == Interpolation::linear) s += l.align_corners ? " linear align_corners" : " linear";
    return s;
}

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
    if (l.type == LayerType::zero_padding1d) l.padding_mode = read_padding_mode(r);
}

void plan_edges(LayerPlan& p, const PlanContext&) {
    const Shape& in = require_sequence(p);
    const auto [left, right] = p.spec.edges;
    int64_t length = 0;
    if (p.spec.type == LayerType::zero_padding1d) {
        length = checked_add(checked_add(in.length, left), right);
        std::string problem = padding_mode_problem(p.spec.padding_mode, in.length, left, right);
        if (!problem.empty()) throw LayerError{problem, "padding_mode"};
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

// Zero padding reads nothing for its added steps. With another padding_mode they hold real steps: the span
// stays unclipped, as a conv's with that padding_mode (so pad + valid conv and the padded conv agree).
Span edges_span(const LayerPlan& p, Span out) {
    Wide shift = p.spec.type == LayerType::zero_padding1d ? -p.spec.edges.first : p.spec.edges.first;
    if (p.spec.type == LayerType::zero_padding1d && p.spec.padding_mode != PaddingMode::zeros)
        return {out.lo + shift, out.hi + shift};
    Wide lo = std::max<Wide>(out.lo + shift, 0), hi = std::min<Wide>(out.hi + shift, p.input_shape.length - 1);
    return {lo, hi};
}

std::string edges_summary(const LayerSpec& l) {
    return "[" + std::to_string(l.edges.first) + "," + std::to_string(l.edges.second) + "]" +
           (l.padding_mode != PaddingMode::zeros ? std::string(" ") + to_string(l.padding_mode) : "");
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
