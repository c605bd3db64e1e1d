// The Keras length arithmetic and everything derived from it: shapes, paddings, params, FLOPs, receptive field.
// No oneDNN and no allocation here; --dry-run, the executor, the reference, the planner and the tests use it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/spec.hpp"

namespace c1r {

// A tensor's logical shape, always (batch, length, channels) inside the tool.
struct Shape {
    int64_t batch = 0, length = 0, channels = 0;
    int64_t elements() const;  // checked: throws on overflow
    bool operator==(const Shape&) const = default;
};

// Converts between the user's data format and the internal (batch, length, channels).
Shape shape_from_dims(const Dims3& dims, DataFormat format);
Dims3 dims_from_shape(const Shape& shape, DataFormat format);

// ---- Length rules (Keras), each a pure function. dilated kernel K' = d*(k-1)+1. ----
int64_t dilated_kernel(int64_t kernel_size, int64_t dilation_rate);

struct Window {
    int64_t output_length = 0;
    int64_t pad_left = 0, pad_right = 0;
};
// Conv1D and pooling: valid / same / causal / explicit pads. output_length may come out < 1 (caller reports it).
Window conv_window(int64_t length, int64_t kernel, int64_t stride, int64_t dilation, const PaddingSpec& padding);

struct TransposeWindow {
    int64_t output_length = 0;
    int64_t full_length = 0;  // (L-1)*s + K'
    int64_t crop_left = 0;    // start of the output window in the full result
    int64_t crop_right = 0;   // negative: that many bias-only steps appended
};
// Conv1DTranspose, valid / same, optional output_padding.
TransposeWindow transpose_window(int64_t length, int64_t kernel, int64_t stride, int64_t dilation,
                                 PaddingKind padding, std::optional<int64_t> output_padding);

struct LayerPlan {
    size_t index = 0;
    LayerSpec spec;
    Shape input_shape, output_shape;
    // [left, right] for windowed layers (conv, pool: zeros added; conv1d_transpose: crop of the full result).
    std::optional<std::pair<int64_t, int64_t>> padding;
    int64_t params = 0;
    int64_t flops = 0;                      // multiply-add = 2; only taps inside the data (as benchdnn)
    std::optional<int64_t> receptive_field;  // for the stack up to here; none once length and channels mix
    std::optional<double> jump;
    std::string summary;  // short settings text, e.g. "k2 s2 valid"
};

struct Plan {
    DataFormat data_format = DataFormat::channels_last;
    Shape input_shape, output_shape;
    std::vector<LayerPlan> layers;
    int64_t total_params = 0;
    int64_t total_flops = 0;
    int64_t memory_bytes = 0;  // estimate: input, weights (twice: user and primitive layout), every output, scratch
};

// Builds the plan of a config for an input of the given shape. Throws Error(config) naming the layer's
// pointer, with the arithmetic, when a layer's output length would be < 1 or settings don't fit the input.
Plan make_plan(const ConfigSpec& config, const Shape& input_shape);

// Shape text in the user's data format, "(1, 20, 32)" and "1x20x32".
std::string shape_text(const Shape& shape, DataFormat format);
std::string shape_text_x(const Shape& shape, DataFormat format);

// oneDNN benchdnn problem descriptor for conv/deconv/pool layers (empty for others), e.g. "mb1ic32iw20oc16ow10kw2sw2pw0".
std::string benchdnn_descriptor(const LayerPlan& layer);

// Checked arithmetic for sizes read from users.
int64_t checked_mul(int64_t a, int64_t b);
int64_t checked_add(int64_t a, int64_t b);

}  // namespace c1r
