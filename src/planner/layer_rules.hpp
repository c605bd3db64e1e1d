// The planner's only dispatch over layer types. Lengths and pads come from the length module's public
// functions (conv_window, transpose_window, dilated_kernel, checked_mul); what src/plan/plan.hpp does not
// export is mirrored here, each piece naming its original:
//   layer_window  the per-type length step of make_plan's switch (src/plan/plan.cpp), for one planner layer
//                 given by its fields (no LayerSpec, no Plan: the search takes millions of these)
//   IndexMap      input_span (src/plan/plan.cpp): which input steps an output step reads, as a map the search
//                 walks over whole sets of steps
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>

#include "model/spec.hpp"
#include "plan/plan.hpp"

namespace c1r::planner_detail {

// A layer's output length on an input of length `in`, and its pads [left, right] (for conv1d_transpose: the
// crop of the full result, negative right when bias-only steps are appended; zero for upsample1d, whose
// `stride` is its size). Output lengths below 1 are returned as they are; other layer types give all zero.
struct LayerWindow {
    int64_t output_length = 0;
    int64_t pad_left = 0, pad_right = 0;
};
LayerWindow layer_window(LayerType type, int64_t kernel, int64_t dilation, PaddingKind padding, int64_t in,
                         int64_t stride, std::optional<int64_t> output_padding);

// The clipped input steps lo..hi (empty when lo > hi).
struct InputRange {
    int64_t lo, hi;
};

// How a layer's output steps read its input steps.
//   window:    output o reads input o*stride + offset + j*tap_step, j < taps (conv1d, pools)
//   transpose: input i adds into output i*stride + offset + j*tap_step, j < taps (conv1d_transpose)
//   repeat:    output o reads input o / stride (upsample1d; stride = size)
struct IndexMap {
    enum class Kind { window, transpose, repeat } kind = Kind::window;
    int64_t in = 0, out = 0, stride = 1, taps = 1, tap_step = 1, offset = 0;
    int64_t reach = 0;  // window: dilated_kernel(taps, tap_step) - 1, the last tap's distance from the first

    // The input steps output o reads, clipped to the input (window and repeat kinds): input_span for one step.
    InputRange window(int64_t o) const {
        if (kind == Kind::repeat) return {o / stride, o / stride};
        int64_t start = o * stride + offset;
        return {std::max<int64_t>(0, start), std::min(in - 1, start + reach)};
    }
};

// The map of a planner layer from its fields; pad_left is the crop for conv1d_transpose, and `kernel` is the
// size for upsample1d. Mirrors input_span's switch.
inline IndexMap index_map(LayerType type, int64_t kernel, int64_t dilation, int64_t stride, int64_t pad_left,
                          int64_t in, int64_t out) {
    IndexMap m;
    m.in = in;
    m.out = out;
    switch (type) {
        case LayerType::conv1d_transpose:
            m.kind = IndexMap::Kind::transpose;
            break;
        case LayerType::upsample1d:
            m.kind = IndexMap::Kind::repeat;
            m.stride = kernel;
            return m;
        default:
            break;
    }
    m.offset = -pad_left;
    m.stride = stride;
    m.taps = kernel;
    m.tap_step = type == LayerType::conv1d || type == LayerType::conv1d_transpose ? dilation : 1;
    if (m.kind == IndexMap::Kind::window) m.reach = dilated_kernel(m.taps, m.tap_step) - 1;
    return m;
}

}  // namespace c1r::planner_detail
