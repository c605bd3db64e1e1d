// The planner's one dispatch from a layer type to the length module (see layer_rules.hpp).
#include "planner/layer_rules.hpp"

namespace c1r::planner_detail {

// Mirrors the length step of each case of make_plan's switch (src/plan/plan.cpp) for the planner's types.
LayerWindow layer_window(LayerType type, int64_t kernel, int64_t dilation, PaddingKind padding, int64_t in,
                         int64_t stride, std::optional<int64_t> output_padding) {
    switch (type) {
        case LayerType::conv1d:
        case LayerType::max_pool1d:
        case LayerType::avg_pool1d: {
            Window w = conv_window(in, kernel, stride, type == LayerType::conv1d ? dilation : 1,
                                   PaddingSpec{padding, 0, 0});
            return {w.output_length, w.pad_left, w.pad_right};
        }
        case LayerType::conv1d_transpose: {
            TransposeWindow w = transpose_window(in, kernel, stride, dilation, padding, output_padding);
            return {w.output_length, w.crop_left, w.crop_right};
        }
        case LayerType::upsample1d:
            return {checked_mul(in, stride), 0, 0};  // UpSampling1D repeats each step `size` times
        default:
            return {};
    }
}

}  // namespace c1r::planner_detail
