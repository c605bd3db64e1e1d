// The Keras length rules and the per-layer figures derived from them (see SPEC §3).
#include "plan/plan.hpp"

#include <algorithm>
#include <limits>
#include <sstream>

#include "core/error.hpp"

namespace c1r {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

[[noreturn]] void fail_layer(const ConfigSpec& config, const LayerSpec& layer, size_t index, const std::string& why,
                             const std::string& key = {}) {
    std::string pointer = layer.pointer + (key.empty() ? "" : "/" + key);
    throw Error(ErrorKind::config,
                config.source + ": " + pointer + ": layer " + std::to_string(index) +
                    (layer.name.empty() ? "" : " '" + layer.name + "'") + " (" + to_string(layer.type) + "): " + why,
                pointer);
}

__extension__ using Wide = __int128;  // tap counts of 2^31-step inputs and kernels multiply past 64 bits

Wide ceil_div_wide(Wide a, Wide b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

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

// Kernel taps that read real data (not padding), summed over output steps: pairs (o, j) with
// 0 <= o*stride - pad_left + j*dilation < length. Taps before position `length` minus taps before position 0.
int64_t conv_taps(int64_t length, int64_t out, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad_left) {
    Wide taps = taps_before(Wide{length} + pad_left, out, kernel, stride, dilation) -
                taps_before(Wide{pad_left}, out, kernel, stride, dilation);
    if (taps > Wide{std::numeric_limits<int64_t>::max()}) throw Error(ErrorKind::config, "size overflow: tap count");
    return static_cast<int64_t>(taps);
}

// Taps of a transposed conv that land inside the output window: pairs (i, j) with
// 0 <= i*stride + j*dilation - crop_left < out, the same count as a conv over `out` steps read by `length` outputs.
int64_t transpose_taps(int64_t length, int64_t out, int64_t kernel, int64_t stride, int64_t dilation,
                       int64_t crop_left) {
    return conv_taps(out, length, kernel, stride, dilation, crop_left);
}

std::string settings_summary(const LayerSpec& l) {
    std::ostringstream s;
    switch (l.type) {
        case LayerType::conv1d:
        case LayerType::conv1d_transpose:
            s << "f" << l.filters << " k" << l.kernel_size << " s" << l.strides;
            if (l.dilation_rate > 1) s << " d" << l.dilation_rate;
            if (l.groups > 1) s << " g" << l.groups;
            if (l.padding.kind == PaddingKind::explicit_pads) s << " pad[" << l.padding.left << "," << l.padding.right << "]";
            else s << " " << to_string(l.padding.kind);
            if (l.output_padding) s << " op" << *l.output_padding;
            if (l.activation != Activation::linear) s << " " << to_string(l.activation);
            if (!l.use_bias) s << " nobias";
            break;
        case LayerType::max_pool1d:
        case LayerType::avg_pool1d:
            s << "p" << l.pool_size << " s" << l.strides << " " << to_string(l.padding.kind);
            break;
        case LayerType::upsample1d: s << "x" << l.size; break;
        case LayerType::permute: s << "[" << l.dims[0] << "," << l.dims[1] << "]"; break;
        case LayerType::reshape: s << "[" << l.target_shape[0] << "," << l.target_shape[1] << "]"; break;
        case LayerType::activation: s << to_string(l.activation); break;
    }
    return s.str();
}

// The input steps (unclipped interval) that output steps [lo, hi] of a layer read; empty when lo > hi.
struct Span {
    int64_t lo, hi;
};
Span input_span(const LayerPlan& layer, Span out) {
    const LayerSpec& s = layer.spec;
    switch (s.type) {
        case LayerType::conv1d:
        case LayerType::max_pool1d:
        case LayerType::avg_pool1d: {
            int64_t dk = dilated_kernel(s.kernel_size, s.type == LayerType::conv1d ? s.dilation_rate : 1);
            int64_t pad_left = layer.padding ? layer.padding->first : 0;
            return {out.lo * s.strides - pad_left, out.hi * s.strides - pad_left + dk - 1};
        }
        case LayerType::conv1d_transpose: {
            int64_t dk = dilated_kernel(s.kernel_size, s.dilation_rate);
            int64_t crop_left = layer.padding ? layer.padding->first : 0;
            int64_t lo = ceil_div(out.lo + crop_left - (dk - 1), s.strides);
            int64_t hi = floor_div(out.hi + crop_left, s.strides);
            lo = std::max<int64_t>(lo, 0);  // steps before the full result's start read nothing
            hi = std::min<int64_t>(hi, layer.input_shape.length - 1);  // bias-only steps past its end read nothing
            return {lo, hi};
        }
        case LayerType::upsample1d: return {floor_div(out.lo, s.size), floor_div(out.hi, s.size)};
        default: return out;
    }
}

bool mixes_length_and_channels(const LayerPlan& layer) {
    if (layer.spec.type == LayerType::permute) return layer.spec.dims[0] == 2;
    if (layer.spec.type == LayerType::reshape) return !(layer.input_shape == layer.output_shape);
    return false;
}

// Largest number of stack-input steps one output step of layer `last` depends on, sampled over output positions
// at the start and the middle (the pattern repeats with the product of the growing layers' factors).
int64_t receptive_field(const std::vector<LayerPlan>& layers, size_t last) {
    constexpr int64_t kSamples = 256;
    int64_t length = layers[last].output_shape.length;
    int64_t best = 0;
    auto measure = [&](int64_t o) {
        Span span{o, o};
        for (size_t i = last + 1; i-- > 0;) {
            span = input_span(layers[i], span);
            if (span.lo > span.hi) return;
        }
        best = std::max(best, span.hi - span.lo + 1);
    };
    for (int64_t o = 0; o < std::min(length, kSamples); ++o) measure(o);
    for (int64_t o = length / 2; o < std::min(length, length / 2 + kSamples); ++o) measure(o);
    return best;
}

// Bytes oneDNN may take as scratch for a conv that falls back to GEMM (im2col), an upper bound per thread.
int64_t scratch_estimate(const LayerPlan& layer) {
    if (layer.spec.type != LayerType::conv1d && layer.spec.type != LayerType::conv1d_transpose) return 0;
    const Shape& big = layer.spec.type == LayerType::conv1d ? layer.output_shape : layer.input_shape;
    int64_t cin = layer.spec.type == LayerType::conv1d ? layer.input_shape.channels / layer.spec.groups
                                                        : layer.output_shape.channels;
    return checked_mul(checked_mul(checked_mul(big.length, cin), layer.spec.kernel_size), 4);
}

int64_t round_up(int64_t value, int64_t multiple) { return checked_mul(ceil_div(value, multiple), multiple); }

}  // namespace

int64_t checked_mul(int64_t a, int64_t b) {
    int64_t out;
    if (__builtin_mul_overflow(a, b, &out)) throw Error(ErrorKind::config, "size overflow: " + std::to_string(a) + " * " + std::to_string(b) + " does not fit in 64 bits");
    return out;
}

int64_t checked_add(int64_t a, int64_t b) {
    int64_t out;
    if (__builtin_add_overflow(a, b, &out)) throw Error(ErrorKind::config, "size overflow: " + std::to_string(a) + " + " + std::to_string(b) + " does not fit in 64 bits");
    return out;
}

int64_t Shape::elements() const { return checked_mul(checked_mul(batch, length), channels); }

Shape shape_from_dims(const Dims3& dims, DataFormat format) {
    return format == DataFormat::channels_last ? Shape{dims[0], dims[1], dims[2]} : Shape{dims[0], dims[2], dims[1]};
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

Plan make_plan(const ConfigSpec& config, const Shape& input_shape) {
    Plan plan;
    plan.data_format = config.data_format;
    plan.input_shape = input_shape;
    Shape shape = input_shape;
    double jump = 1.0;
    bool rf_defined = true;
    int64_t bytes = checked_mul(input_shape.elements(), 2 * 4);  // user and primitive copies
    int64_t scratch = 0;
    for (size_t i = 0; i < config.layers.size(); ++i) {
        const LayerSpec& s = config.layers[i];
        LayerPlan layer;
        layer.index = i;
        layer.spec = s;
        layer.input_shape = shape;
        layer.summary = settings_summary(s);
        Shape out = shape;
        try {  // a size overflow inside a layer is reported as that layer's
        switch (s.type) {
            case LayerType::conv1d: {
                if (shape.channels % s.groups != 0)
                    fail_layer(config, s, i,
                               "input channels (" + std::to_string(shape.channels) + ") must be divisible by groups (" +
                                   std::to_string(s.groups) + ")",
                               "groups");
                Window w = conv_window(shape.length, s.kernel_size, s.strides, s.dilation_rate, s.padding);
                int64_t dk = dilated_kernel(s.kernel_size, s.dilation_rate);
                if (w.output_length < 1) {
                    int64_t padded = shape.length + w.pad_left + w.pad_right;
                    std::string pads = w.pad_left + w.pad_right ? " + padding " + std::to_string(w.pad_left + w.pad_right) : "";
                    fail_layer(config, s, i,
                               "output length would be < 1: input length " + std::to_string(shape.length) + pads +
                                   " = " + std::to_string(padded) + " is shorter than the dilated kernel " +
                                   std::to_string(dk) + " (= " + std::to_string(s.dilation_rate) + "*(" +
                                   std::to_string(s.kernel_size) + "-1)+1); an input of length >= " +
                                   std::to_string(dk - w.pad_left - w.pad_right) + " or padding \"same\" would work");
                }
                out = {shape.batch, w.output_length, s.filters};
                layer.padding = std::pair{w.pad_left, w.pad_right};
                int64_t cin_per_group = shape.channels / s.groups;
                layer.params = checked_add(checked_mul(checked_mul(s.kernel_size, cin_per_group), s.filters),
                                           s.use_bias ? s.filters : 0);
                int64_t taps = conv_taps(shape.length, w.output_length, s.kernel_size, s.strides, s.dilation_rate,
                                         w.pad_left);
                layer.flops = checked_mul(checked_mul(checked_mul(2 * shape.batch, s.filters), cin_per_group), taps);
                jump *= static_cast<double>(s.strides);
                break;
            }
            case LayerType::conv1d_transpose: {
                TransposeWindow w = transpose_window(shape.length, s.kernel_size, s.strides, s.dilation_rate,
                                                     s.padding.kind, s.output_padding);
                if (w.output_length < 1)
                    fail_layer(config, s, i,
                               "output length would be < 1: (" + std::to_string(shape.length) + "-1)*" +
                                   std::to_string(s.strides) + " + ... = " + std::to_string(w.output_length));
                out = {shape.batch, w.output_length, s.filters};
                layer.padding = std::pair{w.crop_left, w.crop_right};
                layer.params = checked_add(checked_mul(checked_mul(s.kernel_size, shape.channels), s.filters),
                                           s.use_bias ? s.filters : 0);
                int64_t taps = transpose_taps(shape.length, w.output_length, s.kernel_size, s.strides,
                                              s.dilation_rate, w.crop_left);
                layer.flops = checked_mul(checked_mul(checked_mul(2 * shape.batch, s.filters), shape.channels), taps);
                jump /= static_cast<double>(s.strides);
                break;
            }
            case LayerType::max_pool1d:
            case LayerType::avg_pool1d: {
                Window w = conv_window(shape.length, s.pool_size, s.strides, 1, s.padding);
                if (w.output_length < 1)
                    fail_layer(config, s, i,
                               "output length would be < 1: input length " + std::to_string(shape.length) +
                                   " is shorter than pool_size " + std::to_string(s.pool_size) +
                                   "; an input of length >= " + std::to_string(s.pool_size) +
                                   " or padding \"same\" would work");
                out = {shape.batch, w.output_length, shape.channels};
                layer.padding = std::pair{w.pad_left, w.pad_right};
                int64_t taps = conv_taps(shape.length, w.output_length, s.pool_size, s.strides, 1, w.pad_left);
                layer.flops = checked_mul(checked_mul(shape.batch, shape.channels), taps);
                jump *= static_cast<double>(s.strides);
                break;
            }
            case LayerType::upsample1d:
                out = {shape.batch, checked_mul(shape.length, s.size), shape.channels};
                jump /= static_cast<double>(s.size);
                break;
            case LayerType::permute:
                if (s.dims[0] == 2) out = {shape.batch, shape.channels, shape.length};
                break;
            case LayerType::reshape: {
                // target_shape is in the config's data format, over the per-sample tensor in that format's order.
                Dims3 in = dims_from_shape(shape, config.data_format);
                int64_t total = checked_mul(in[1], in[2]);
                int64_t known = 1;
                for (int64_t t : s.target_shape)
                    if (t != -1) known = checked_mul(known, t);
                Dims3 target{shape.batch, s.target_shape[0], s.target_shape[1]};
                for (size_t k = 1; k < 3; ++k) {
                    if (target[k] == -1) {
                        if (total % known != 0)
                            fail_layer(config, s, i,
                                       "cannot reshape " + std::to_string(in[1]) + "x" + std::to_string(in[2]) + " = " +
                                           std::to_string(total) + " values per sample: not divisible by " +
                                           std::to_string(known),
                                       "target_shape");
                        target[k] = total / known;
                        known = total;
                    }
                }
                if (known != total)
                    fail_layer(config, s, i,
                               "cannot reshape " + std::to_string(in[1]) + "x" + std::to_string(in[2]) + " = " +
                                   std::to_string(total) + " values per sample into " + std::to_string(target[1]) +
                                   "x" + std::to_string(target[2]) + " = " + std::to_string(known),
                               "target_shape");
                out = shape_from_dims(target, config.data_format);
                break;
            }
            case LayerType::activation: break;
        }
        layer.output_shape = out;
        bytes = checked_add(bytes, checked_mul(checked_mul(round_up(out.channels, 16), out.batch),
                                               checked_mul(out.length, 4)));
        bytes = checked_add(bytes, checked_mul(layer.params, 2 * 4));
        scratch = std::max(scratch, scratch_estimate(layer));
        plan.total_params = checked_add(plan.total_params, layer.params);
        plan.total_flops = checked_add(plan.total_flops, layer.flops);
        } catch (const Error& e) {
            if (!e.pointer().empty()) throw;  // already names its layer
            fail_layer(config, s, i, e.what());
        }
        plan.layers.push_back(std::move(layer));
        if (mixes_length_and_channels(plan.layers.back())) rf_defined = false;
        if (rf_defined) {
            plan.layers.back().receptive_field = receptive_field(plan.layers, i);
            plan.layers.back().jump = jump;
        }
        shape = out;
    }
    plan.output_shape = shape;
    bytes = checked_add(bytes, checked_mul(shape.elements(), 4));  // the user-layout copy of the output
    plan.memory_bytes = checked_add(bytes, scratch);
    return plan;
}

std::string shape_text(const Shape& shape, DataFormat format) {
    Dims3 d = dims_from_shape(shape, format);
    return "(" + std::to_string(d[0]) + ", " + std::to_string(d[1]) + ", " + std::to_string(d[2]) + ")";
}

std::string shape_text_x(const Shape& shape, DataFormat format) {
    Dims3 d = dims_from_shape(shape, format);
    return std::to_string(d[0]) + "x" + std::to_string(d[1]) + "x" + std::to_string(d[2]);
}

std::string benchdnn_descriptor(const LayerPlan& layer) {
    const LayerSpec& s = layer.spec;
    const Shape& in = layer.input_shape;
    const Shape& out = layer.output_shape;
    std::ostringstream d;
    switch (s.type) {
        case LayerType::conv1d:
        case LayerType::conv1d_transpose:
            if (s.groups > 1) d << "g" << s.groups;
            d << "mb" << in.batch << "ic" << in.channels << "iw" << in.length << "oc" << out.channels << "ow"
              << out.length << "kw" << s.kernel_size << "sw" << s.strides;
            if (s.dilation_rate > 1) d << "dw" << s.dilation_rate - 1;
            d << "pw" << layer.padding->first;
            break;
        case LayerType::max_pool1d:
        case LayerType::avg_pool1d:
            d << "mb" << in.batch << "ic" << in.channels << "iw" << in.length << "ow" << out.length << "kw"
              << s.pool_size << "sw" << s.strides << "pw" << layer.padding->first;
            break;
        default: break;
    }
    return d.str();
}

}  // namespace c1r
