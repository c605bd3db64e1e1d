// The Keras length rules (SPEC §3), each a pure function: the one place that knows them. Kind rows
// (layers/kinds_*.cpp), the planner and the executor call these.
#include "layers/shape.hpp"

#include <algorithm>
#include <limits>

namespace c1r {
namespace {

// sum_{i=0}^{n-1} floor((a*i + b) / m) for n, a, b >= 0 and m > 0, in O(log) steps (the classic floor_sum).
Wide floor_sum(Wide n, Wide m, Wide a, Wide b) {
    Wide sum = 0;
    while (true) {
        if (a >= m) sum += n * (n - 1) / 2 * (a / m), a %= m;
        if (b >= m) sum += n * (b / m), b %= m;
        Wide y_max = a * n + b;
        if (y_max < m) return sum;
        n = y_max / m, b = y_max % m;
        std::swap(m, a);
    }
}

// sum over o in [0, out) of clamp(ceil((c - o*stride) / dilation), 0, kernel): for each output step o, how many
// taps j satisfy o*stride + j*dilation < c. Closed form, so a kernel or an input of 2^31 steps costs no more
// than a small one.
Wide taps_before(Wide c, Wide out, Wide kernel, Wide stride, Wide dilation) {
    Wide all_taps = std::clamp<Wide>(ceil_div_wide(c - (kernel - 1) * dilation, stride), 0, out);  // f(o) >= kernel
    Wide some = std::clamp<Wide>(ceil_div_wide(c, stride), 0, out);                               // f(o) >= 1
    Wide sum = kernel * all_taps;
    if (some > all_taps) sum += floor_sum(some - all_taps, dilation, stride, c - (some - 1) * stride + dilation - 1);
    return sum;
}

}  // namespace

// Kernel taps that read real data (not padding), summed over output steps: pairs (o, j) with
// 0 <= o*stride - pad_left + j*dilation < length. Taps before position `length` minus taps before position 0.
int64_t conv_taps(int64_t length, int64_t out, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad_left) {
    Wide taps = taps_before(Wide{length} + pad_left, out, kernel, stride, dilation) -
                taps_before(Wide{pad_left}, out, kernel, stride, dilation);
    if (taps > Wide{std::numeric_limits<int64_t>::max()}) throw Error(ErrorKind::config, "size overflow: tap count");
    return static_cast<int64_t>(taps);
}

Shape shape_from_dims(const Dims3& dims, DataFormat format) {
    return format == DataFormat::channels_last ? Shape{dims[0], dims[1], dims[2]} : Shape{dims[0], dims[2], dims[1]};
}

std::vector<int64_t> user_dims(const Shape& shape, DataFormat format) {
    if (shape.rank == 2) return {shape.batch, shape.channels};
    Dims3 d = dims_from_shape(shape, format);
    return {d[0], d[1], d[2]};
}

Dims3 dims_from_shape(const Shape& shape, DataFormat format) {
    return format == DataFormat::channels_last ? Dims3{shape.batch, shape.length, shape.channels}
                                               : Dims3{shape.batch, shape.channels, shape.length};
}

int64_t dilated_kernel(int64_t kernel_size, int64_t dilation_rate) {
    return checked_add(checked_mul(dilation_rate, kernel_size - 1), 1);
}

Window conv_window(int64_t length, int64_t kernel, int64_t stride, int64_t dilation, const PaddingSpec& padding) {
    int64_t dk = dilated_kernel(kernel, dilation);
    Window w;
    switch (padding.kind) {
        case PaddingKind::valid: break;
        case PaddingKind::same: {
            int64_t out = ceil_div(length, stride);
            int64_t total = std::max<int64_t>(checked_add(checked_mul(out - 1, stride), dk) - length, 0);
            w.pad_left = total / 2;  // TensorFlow puts the odd step on the right
            w.pad_right = total - w.pad_left;
            break;
        }
        case PaddingKind::causal: w.pad_left = dk - 1; break;
        case PaddingKind::explicit_pads:
            w.pad_left = padding.left;
            w.pad_right = padding.right;
            break;
    }
    int64_t padded = checked_add(checked_add(length, w.pad_left), w.pad_right);
    w.output_length = padded >= dk ? (padded - dk) / stride + 1 : 0;
    return w;
}

TransposeWindow transpose_window(int64_t length, int64_t kernel, int64_t stride, int64_t dilation,
                                 PaddingKind padding, std::optional<int64_t> output_padding) {
    int64_t dk = dilated_kernel(kernel, dilation);
    TransposeWindow w;
    w.full_length = checked_add(checked_mul(length - 1, stride), dk);
    if (padding == PaddingKind::valid) {
        int64_t extra = output_padding ? *output_padding : std::max(dk, stride) - dk;
        w.output_length = checked_add(w.full_length, extra);
        w.crop_left = 0;
    } else {
        w.output_length = output_padding ? checked_add(checked_mul(length - 1, stride), dk % 2 + *output_padding)
                                         : checked_mul(length, stride);
        w.crop_left = std::max<int64_t>(w.full_length - w.output_length, 0) / 2;
    }
    w.crop_right = w.full_length - w.output_length - w.crop_left;
    return w;
}

Window pool_window(int64_t length, int64_t kernel, int64_t stride, int64_t dilation, const PaddingSpec& padding,
                   bool ceil_mode) {
    Window w = conv_window(length, kernel, stride, dilation, padding);
    if (!ceil_mode) return w;
    const int64_t dk = dilated_kernel(kernel, dilation);
    const int64_t padded = checked_add(checked_add(length, w.pad_left), w.pad_right);
    if (padded < dk) return w;  // output_length 0: the caller reports it
    int64_t out = ceil_div(padded - dk, stride) + 1;
    if ((out - 1) * stride >= length + w.pad_left) --out;  // the last window must start inside the input
    w.output_length = out;
    w.overhang = std::max<int64_t>(checked_add(checked_mul(out - 1, stride), dk) - padded, 0);
    return w;
}

std::string padding_mode_problem(PaddingMode mode, int64_t length, int64_t left, int64_t right) {
    const int64_t pad = std::max(left, right);
    if (mode == PaddingMode::reflect && pad >= length)
        return "padding_mode \"reflect\" needs each pad (" + std::to_string(left) + ", " + std::to_string(right) +
               ") less than the input length " + std::to_string(length);
    if (mode == PaddingMode::circular && pad > length)
        return "padding_mode \"circular\" needs each pad (" + std::to_string(left) + ", " + std::to_string(right) +
               ") at most the input length " + std::to_string(length);
    return {};
}

TransposeWindow transpose_window_pads(int64_t length, int64_t kernel, int64_t stride, int64_t dilation,
                                      int64_t left, int64_t right, int64_t output_padding) {
    TransposeWindow w;
    w.full_length = checked_add(checked_mul(length - 1, stride), dilated_kernel(kernel, dilation));
    w.output_length = checked_add(w.full_length - left - right, output_padding);
    w.crop_left = left;
    w.crop_right = right - output_padding;
    return w;
}

}  // namespace c1r
