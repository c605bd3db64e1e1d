// An independent check of a plan against SPEC §3's length rules, in 128-bit arithmetic: a plan that
// make_plan returns must chain its shapes and agree with the formulas, or the length module has a bug.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "plan/plan.hpp"
#include "model/spec.hpp"

namespace c1r::fuzz {

using Wide = __int128;

inline Wide ceil_div_wide(Wide a, Wide b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

[[noreturn]] inline void plan_bug(const LayerPlan* layer, const std::string& what, long long got, long long want) {
    std::fprintf(stderr, "BUG: plan disagrees with SPEC §3: layer %lld (%s): %s: got %lld, expected %lld\n",
                 layer ? static_cast<long long>(layer->index) : -1LL, layer ? to_string(layer->spec.type) : "-",
                 what.c_str(), got, want);
    std::abort();
}

inline void expect_equal(const LayerPlan* layer, const std::string& what, int64_t got, Wide want) {
    if (static_cast<Wide>(got) != want) plan_bug(layer, what, got, static_cast<long long>(want));
}

// The output length and padding that SPEC §3 gives for one windowed layer (conv1d or pooling).
inline void check_window(const LayerPlan& l, Wide length, Wide kernel, Wide stride, Wide dilation) {
    const PaddingSpec& padding = l.spec.padding;
    const Wide dk = dilation * (kernel - 1) + 1;
    Wide out = 0, left = 0, right = 0;
    switch (padding.kind) {
        case PaddingKind::valid: out = ceil_div_wide(length - dk + 1, stride); break;
        case PaddingKind::same: {
            out = ceil_div_wide(length, stride);
            Wide total = (out - 1) * stride + dk - length;
            if (total < 0) total = 0;
            left = total / 2;
            right = total - left;
            break;
        }
        case PaddingKind::causal:
            out = ceil_div_wide(length, stride);
            left = dk - 1;
            break;
        case PaddingKind::explicit_pads:
            left = padding.left;
            right = padding.right;
            out = (length + left + right - dk) / stride + 1;
            break;
    }
    expect_equal(&l, "output length", l.output_shape.length, out);
    if (!l.padding) plan_bug(&l, "padding missing", 0, 1);
    expect_equal(&l, "left padding", l.padding->first, left);
    expect_equal(&l, "right padding", l.padding->second, right);
}

inline void check_transpose(const LayerPlan& l, Wide length) {
    const LayerSpec& s = l.spec;
    const Wide dk = Wide{s.dilation_rate} * (s.kernel_size - 1) + 1;
    const Wide stride = s.strides;
    Wide out = 0;
    if (s.padding.kind == PaddingKind::explicit_pads) {  // PyTorch's crop (SPEC §8)
        out = (length - 1) * stride + dk - s.padding.left - s.padding.right + s.output_padding.value_or(0);
    } else if (!s.output_padding) {
        out = s.padding.kind == PaddingKind::same ? length * stride : length * stride + (dk > stride ? dk - stride : 0);
    } else {
        const Wide p = s.padding.kind == PaddingKind::same ? dk / 2 : 0;
        out = (length - 1) * stride + dk - 2 * p + *s.output_padding;
    }
    expect_equal(&l, "output length", l.output_shape.length, out);
    const Wide full = (length - 1) * stride + dk;
    Wide crop_left = 0;
    if (s.padding.kind == PaddingKind::same) crop_left = (full - out > 0 ? full - out : 0) / 2;
    if (s.padding.kind == PaddingKind::explicit_pads) crop_left = s.padding.left;
    if (!l.padding) plan_bug(&l, "padding missing", 0, 1);
    expect_equal(&l, "crop left", l.padding->first, crop_left);
    expect_equal(&l, "crop right", l.padding->second, full - out - crop_left);
}

inline void check_plan(const ConfigSpec& config, const Shape& input_shape, const Plan& plan) {
    if (plan.layers.size() != config.layers.size()) plan_bug(nullptr, "layer count", static_cast<long long>(plan.layers.size()), static_cast<long long>(config.layers.size()));
    if (!(plan.input_shape == input_shape)) plan_bug(nullptr, "input shape", plan.input_shape.length, input_shape.length);
    // This oracle re-derives the length rules of a chain; graphs (branches, several inputs) are checked by the
    // golden tests instead.
    if (!plan.is_chain()) return;
    Shape shape = input_shape;
    for (const LayerPlan& l : plan.layers) {
        const LayerSpec& s = l.spec;
        if (!(l.input_shape == shape)) plan_bug(&l, "input shape is not the previous output", l.input_shape.length, shape.length);
        const Shape& out = l.output_shape;
        expect_equal(&l, "batch", out.batch, shape.batch);
        if (out.length < 1 || out.channels < 1) plan_bug(&l, "empty output", out.length, 1);
        if (l.params < 0 || l.flops < 0) plan_bug(&l, "negative params or flops", l.params < 0 ? l.params : l.flops, 0);
        const Wide length = shape.length;
        switch (s.type) {
            case LayerType::conv1d:
                check_window(l, length, s.kernel_size, s.strides, s.dilation_rate);
                expect_equal(&l, "channels", out.channels, s.filters);
                expect_equal(&l, "params", l.params,
                             Wide{s.kernel_size} * (shape.channels / s.groups) * s.filters + (s.use_bias ? s.filters : 0));
                break;
            case LayerType::conv1d_transpose:
                check_transpose(l, length);
                expect_equal(&l, "channels", out.channels, s.filters);
                expect_equal(&l, "params", l.params,
                             Wide{s.kernel_size} * shape.channels * s.filters + (s.use_bias ? s.filters : 0));
                break;
            case LayerType::max_pool1d:
            case LayerType::avg_pool1d:
                // PyTorch's ceil_mode and dilated pooling are checked by the PyTorch goldens, not re-derived here.
                if (s.ceil_mode || s.dilation_rate > 1) break;
                check_window(l, length, s.pool_size, s.strides, 1);
                expect_equal(&l, "channels", out.channels, shape.channels);
                break;
            case LayerType::upsample1d:
                expect_equal(&l, "output length", out.length, length * s.size);
                expect_equal(&l, "channels", out.channels, shape.channels);
                break;
            case LayerType::permute: {
                const bool swap = s.dims.size() == 2 && s.dims[0] == 2;
                expect_equal(&l, "output length", out.length, swap ? shape.channels : shape.length);
                expect_equal(&l, "channels", out.channels, swap ? shape.length : shape.channels);
                break;
            }
            case LayerType::reshape:
                if (Wide{out.length} * out.channels != Wide{shape.length} * shape.channels)
                    plan_bug(&l, "values per sample", out.length, shape.length);
                break;
            case LayerType::activation:
                if (!(out == shape)) plan_bug(&l, "activation changed the shape", out.length, shape.length);
                break;
            default: break;  // the kinds after the first eight: covered by tests/test_layer_goldens.cpp
        }
        if (l.receptive_field && *l.receptive_field < 0) plan_bug(&l, "negative receptive field", *l.receptive_field, 0);
        shape = out;
    }
    if (!(plan.output_shape == shape)) plan_bug(nullptr, "output shape", plan.output_shape.length, shape.length);
    // The estimate covers at least the input and the output, as float32.
    const Wide floor_bytes = (Wide{input_shape.batch} * input_shape.length * input_shape.channels +
                              Wide{shape.batch} * shape.length * shape.channels) * 4;
    if (plan.memory_bytes < floor_bytes)
        plan_bug(nullptr, "memory estimate below input + output", plan.memory_bytes, static_cast<long long>(floor_bytes));
}

}  // namespace c1r::fuzz
