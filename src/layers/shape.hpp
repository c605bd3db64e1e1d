// Tensor shapes, the Keras length rules, and the per-node plan that the kind table fills in.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/math.hpp"
#include "layers/layer.hpp"

namespace c1r {

// A shape as the user writes it, in the config's data format: (batch, length, channels) or (batch, channels,
// length); rank-2 configs give (batch, features).
using Dims3 = std::array<int64_t, 3>;

// A tensor's logical shape inside the tool: always (batch, length, channels). Rank-2 tensors (batch, features)
// are held with length 1 and features as channels, so every stage treats them as one-step sequences.
struct Shape {
    int64_t batch = 0, length = 0, channels = 0;
    int rank = 3;
    int64_t elements() const { return checked_mul(checked_mul(batch, length), channels); }
    bool operator==(const Shape&) const = default;
    static Shape flat(int64_t batch, int64_t features) { return {batch, 1, features, 2}; }
};

// Converts between the user's data format and the internal (batch, length, channels).
Shape shape_from_dims(const Dims3& dims, DataFormat format);
Dims3 dims_from_shape(const Shape& shape, DataFormat format);
// The shape's dims as the user sees them: 2 or 3 entries in the data format's order.
std::vector<int64_t> user_dims(const Shape& shape, DataFormat format);

// ---- Length rules (Keras), each a pure function. dilated kernel K' = d*(k-1)+1. ----
int64_t dilated_kernel(int64_t kernel_size, int64_t dilation_rate);

struct Window {
    int64_t output_length = 0;
    int64_t pad_left = 0, pad_right = 0;
    int64_t overhang = 0;  // pooling with ceil_mode: steps the last window reaches past the right padding
};
// Conv1D and pooling: valid / same / causal / explicit pads. output_length may come out < 1 (caller reports it).
Window conv_window(int64_t length, int64_t kernel, int64_t stride, int64_t dilation, const PaddingSpec& padding);
// Pooling (PyTorch rule with ceil_mode): out = ceil((L + left + right - K') / s) + 1, less one when the last
// window would start past the input and its left padding; `overhang` says how far that window reaches past
// the right padding. Without ceil_mode: conv_window.
Window pool_window(int64_t length, int64_t kernel, int64_t stride, int64_t dilation, const PaddingSpec& padding,
                   bool ceil_mode);
// Empty when `mode` can fill `left` and `right` padded steps around `length` steps; else why not (PyTorch:
// reflect needs each pad < length, circular each pad <= length).
std::string padding_mode_problem(PaddingMode mode, int64_t length, int64_t left, int64_t right);

struct TransposeWindow {
    int64_t output_length = 0;
    int64_t full_length = 0;  // (L-1)*s + K'
    int64_t crop_left = 0;    // start of the output window in the full result
    int64_t crop_right = 0;   // negative: that many bias-only steps appended
};
// Conv1DTranspose, valid / same, optional output_padding.
TransposeWindow transpose_window(int64_t length, int64_t kernel, int64_t stride, int64_t dilation,
                                 PaddingKind padding, std::optional<int64_t> output_padding);

// PyTorch ConvTranspose1d padding [left, right] (crop of the full result) and output_padding (steps added on
// the right): L_out = (L-1)*s + K' - left - right + output_padding.
TransposeWindow transpose_window_pads(int64_t length, int64_t kernel, int64_t stride, int64_t dilation,
                                      int64_t left, int64_t right, int64_t output_padding);

// Kernel taps that read real data (not padding), summed over output steps (closed form, 128-bit inside).
int64_t conv_taps(int64_t length, int64_t out, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad_left);

// One node of the model as planned: its settings, the shapes it reads and writes, and its figures.
struct LayerPlan {
    size_t index = 0;
    LayerSpec spec;
    Shape input_shape, output_shape;   // the first input and the first output
    std::vector<Shape> input_shapes;   // every input, in order
    std::vector<Shape> output_shapes;  // every output (recurrent layers with return_state give several)
    std::vector<int> input_tensors;    // tensor ids (Plan::tensors) it reads
    std::vector<int> output_tensors;   // tensor ids it writes
    std::vector<std::string> input_names;  // the tensors it reads, by name ("input", "conv1d", "lstm:1")
    // [left, right] for windowed layers (conv, pool: zeros added; conv1d_transpose: crop of the full result).
    std::optional<std::pair<int64_t, int64_t>> padding;
    int64_t params = 0;
    int64_t flops = 0;                      // multiply-add = 2; only taps inside the data (as benchdnn)
    std::optional<int64_t> receptive_field;  // up to here, over every path; none once length and channels mix
    std::optional<double> jump;              // none where paths disagree
    std::string summary;                     // short settings text, e.g. "16f k2 s2 valid"
    std::optional<size_t> folded_into;       // batch_normalization folded into that conv/dense node
};

// A layer_normalization over both the length and the channels of each sample, or over every axis, the batch
// too (a planned node's `axis` has two entries only for the first, three only for the second: plan_norm
// refuses every other list).
inline bool normalises_length(const LayerPlan& p) {
    return p.spec.type == LayerType::layer_normalization && p.spec.norm_axes.size() >= 2;
}
// A layer_normalization over every axis of a rank-3 input, the batch included (axis [0, 1, 2]): one group, and
// gamma/beta shaped like the whole input (batch, length, channels).
inline bool normalises_batch(const LayerPlan& p) {
    return p.spec.type == LayerType::layer_normalization && p.spec.norm_axes.size() == 3;
}

// The input steps (unclipped interval, 128-bit) that output steps [lo, hi] of a node read; empty when lo > hi.
struct Span {
    Wide lo, hi;
};

// A weight variable of a kind, in Keras layout, with the Keras initializer used when no file gives it.
struct Variable {
    enum class Init { glorot_uniform, zeros, ones, uniform_small, orthogonal };
    std::string name;
    std::vector<int64_t> shape;
    Init init = Init::zeros;
    int64_t fan_in = 1, fan_out = 1;  // glorot_uniform's fans
    int64_t elements() const {
        int64_t n = 1;
        for (int64_t d : shape) n = checked_mul(n, d);
        return n;
    }
};

}  // namespace c1r
