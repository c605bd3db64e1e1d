// Convolutions: conv1d, conv1d_transpose, depthwise_conv1d, separable_conv1d.
#include "layers/kinds_common.hpp"

namespace c1r {
namespace {

void read_conv(ObjectReader& r, LayerSpec& l) {
    const bool transpose = l.type == LayerType::conv1d_transpose;
    const bool depthwise = l.type == LayerType::depthwise_conv1d;
    const bool separable = l.type == LayerType::separable_conv1d;
    if (!depthwise) l.filters = r.integer("filters", std::nullopt, 1);
    l.kernel_size = r.integer("kernel_size", std::nullopt, 1);
    l.strides = r.integer("strides", 1, 1);
    l.padding = read_padding(r, l.type == LayerType::conv1d || separable, l.type == LayerType::conv1d || transpose);
    if (!transpose) l.padding_mode = read_padding_mode(r);  // PyTorch's ConvTranspose1d takes zeros only
    l.dilation_rate = r.integer("dilation_rate", 1, 1);
    if (l.type == LayerType::conv1d) l.groups = r.integer("groups", 1, 1);
    if (depthwise || separable) l.depth_multiplier = r.integer("depth_multiplier", 1, 1);
    if (transpose) {
        const json* op = r.find("output_padding");
        if (op && !op->is_null()) l.output_padding = r.integer_value(*op, r.at("output_padding"), 0);
        r.record_json("output_padding", l.output_padding ? json(*l.output_padding) : json(nullptr));
    }
    l.use_bias = r.boolean("use_bias", true);
    l.activation = read_activation(r, "activation", Activation::linear);
    read_weight_files(r, l);
    if (l.type == LayerType::conv1d && l.filters % l.groups != 0)
        r.fail(r.at("groups"), "filters (" + std::to_string(l.filters) + ") must be divisible by groups (" +
                                   std::to_string(l.groups) + ")");
    // Keras: output_padding < strides; PyTorch (explicit padding): output_padding < max(strides, dilation_rate).
    const bool pytorch = l.padding.kind == PaddingKind::explicit_pads;
    if (transpose && l.output_padding && *l.output_padding >= (pytorch ? std::max(l.strides, l.dilation_rate) : l.strides))
        r.fail(r.at("output_padding"), "output_padding (" + std::to_string(*l.output_padding) + ") must be less than " +
                                           (pytorch ? "max(strides, dilation_rate) (" +
                                                          std::to_string(std::max(l.strides, l.dilation_rate))
                                                    : "strides (" + std::to_string(l.strides)) +
                                           ")");
}

void plan_conv(LayerPlan& p, const PlanContext&) {
    const LayerSpec& s = p.spec;
    const Shape& in = require_sequence(p);
    const bool grouped_input = s.type == LayerType::depthwise_conv1d || s.type == LayerType::separable_conv1d;
    if (s.type == LayerType::conv1d && in.channels % s.groups != 0)
        throw LayerError{"input channels (" + std::to_string(in.channels) + ") must be divisible by groups (" +
                             std::to_string(s.groups) + ")",
                         "groups"};
    Window w = conv_window(in.length, s.kernel_size, s.strides, s.dilation_rate, s.padding);
    int64_t dk = dilated_kernel(s.kernel_size, s.dilation_rate);
    if (w.output_length < 1) {
        int64_t padded = in.length + w.pad_left + w.pad_right;
        std::string pads = w.pad_left + w.pad_right ? " + padding " + std::to_string(w.pad_left + w.pad_right) : "";
        throw LayerError{"output length would be < 1: input length " + std::to_string(in.length) + pads + " = " +
                         std::to_string(padded) + " is shorter than the dilated kernel " + std::to_string(dk) +
                         " (= " + std::to_string(s.dilation_rate) + "*(" + std::to_string(s.kernel_size) +
                         "-1)+1); an input of length >= " + std::to_string(dk - w.pad_left - w.pad_right) +
                         " or padding \"same\" would work"};
    }
    // Non-zero padding modes: the padded steps hold real values, so every tap reads data.
    const bool filled = s.padding_mode != PaddingMode::zeros;
    if (filled) {
        std::string problem = padding_mode_problem(s.padding_mode, in.length, w.pad_left, w.pad_right);
        if (!problem.empty()) throw LayerError{problem, "padding_mode"};
    }
    const int64_t depth_out = checked_mul(in.channels, s.depth_multiplier);
    const int64_t out_channels = s.type == LayerType::depthwise_conv1d ? depth_out : s.filters;
    p.output_shape = {in.batch, w.output_length, out_channels};
    p.padding = std::pair{w.pad_left, w.pad_right};
    int64_t taps = filled ? checked_mul(w.output_length, s.kernel_size)
                          : conv_taps(in.length, w.output_length, s.kernel_size, s.strides, s.dilation_rate, w.pad_left);
    if (grouped_input) {
        p.flops = checked_mul(checked_mul(2 * in.batch, depth_out), taps);
        if (s.type == LayerType::separable_conv1d)  // the 1x1 pointwise conv after it
            p.flops = checked_add(p.flops, checked_mul(checked_mul(checked_mul(2 * in.batch, w.output_length),
                                                                   depth_out), s.filters));
    } else {
        p.flops = checked_mul(checked_mul(checked_mul(2 * in.batch, s.filters), in.channels / s.groups), taps);
    }
}

void plan_transpose(LayerPlan& p, const PlanContext&) {
    const LayerSpec& s = p.spec;
    const Shape& in = require_sequence(p);
    TransposeWindow w =
        s.padding.kind == PaddingKind::explicit_pads
            ? transpose_window_pads(in.length, s.kernel_size, s.strides, s.dilation_rate, s.padding.left,
                                    s.padding.right, s.output_padding.value_or(0))
            : transpose_window(in.length, s.kernel_size, s.strides, s.dilation_rate, s.padding.kind, s.output_padding);
    if (w.output_length < 1)
        throw LayerError{"output length would be < 1: (" + std::to_string(in.length) + "-1)*" +
                         std::to_string(s.strides) + " + ... = " + std::to_string(w.output_length)};
    p.output_shape = {in.batch, w.output_length, s.filters};
    p.padding = std::pair{w.crop_left, w.crop_right};
    // Taps that land inside the output window: a conv over `out` steps read by `length` outputs.
    int64_t taps = conv_taps(w.output_length, in.length, s.kernel_size, s.strides, s.dilation_rate, w.crop_left);
    p.flops = checked_mul(checked_mul(checked_mul(2 * in.batch, s.filters), in.channels), taps);
}

// Steps of the padded sequence, unclipped, whatever fills the padding (zeros, or with padding_mode the
// mirrored, repeated or wrapped steps: a window over them still spans K' steps of the extended sequence).
Span conv_span(const LayerPlan& p, Span out) {
    const LayerSpec& s = p.spec;
    Wide dk = Wide{s.dilation_rate} * (s.kernel_size - 1) + 1;
    Wide pad_left = p.padding ? p.padding->first : 0;
    return {out.lo * s.strides - pad_left, out.hi * s.strides - pad_left + dk - 1};
}

Span transpose_span(const LayerPlan& p, Span out) {
    const LayerSpec& s = p.spec;
    Wide dk = Wide{s.dilation_rate} * (s.kernel_size - 1) + 1;
    Wide crop_left = p.padding ? p.padding->first : 0;
    Wide lo = ceil_div_wide(out.lo + crop_left - (dk - 1), s.strides);
    Wide hi = floor_div_wide(out.hi + crop_left, s.strides);
    lo = std::max<Wide>(lo, 0);                           // steps before the full result's start read nothing
    hi = std::min<Wide>(hi, p.input_shape.length - 1);  // bias-only steps past its end read nothing
    return {lo, hi};
}

std::vector<Variable> conv_variables(const LayerPlan& p) {
    const LayerSpec& s = p.spec;
    const int64_t k = s.kernel_size, cin = p.input_shape.channels;
    std::vector<Variable> vars;
    switch (s.type) {
        case LayerType::conv1d:  // Keras fans: receptive field times the kernel's last two axes
            vars.push_back(glorot("kernel", {k, cin / s.groups, s.filters}));
            break;
        case LayerType::conv1d_transpose: vars.push_back(glorot("kernel", {k, s.filters, cin})); break;
        case LayerType::depthwise_conv1d:
            vars.push_back(glorot("kernel", {k, cin, s.depth_multiplier}));
            if (s.use_bias) vars.push_back(zeros("bias", {checked_mul(cin, s.depth_multiplier)}));
            return vars;
        case LayerType::separable_conv1d:
            vars.push_back(glorot("depthwise_kernel", {k, cin, s.depth_multiplier}));
            vars.push_back(glorot("pointwise_kernel", {1, checked_mul(cin, s.depth_multiplier), s.filters}));
            break;
        default: break;
    }
    if (s.use_bias) vars.push_back(zeros("bias", {s.filters}));
    return vars;
}

std::string conv_summary(const LayerSpec& l) {
    std::string s;
    if (l.type == LayerType::depthwise_conv1d) s = "x" + std::to_string(l.depth_multiplier);
    else s = std::to_string(l.filters) + " filters";  // not "f32": that reads as the dtype
    s += " k" + std::to_string(l.kernel_size) + " s" + std::to_string(l.strides);
    if (l.dilation_rate > 1) s += " d" + std::to_string(l.dilation_rate);
    if (l.groups > 1) s += " g" + std::to_string(l.groups);
    if (l.type == LayerType::separable_conv1d && l.depth_multiplier > 1) s += " x" + std::to_string(l.depth_multiplier);
    if (l.padding.kind == PaddingKind::explicit_pads)
        s += " pad[" + std::to_string(l.padding.left) + "," + std::to_string(l.padding.right) + "]";
    else s += std::string(" ") + to_string(l.padding.kind);
    if (l.padding_mode != PaddingMode::zeros) s += std::string(" ") + to_string(l.padding_mode);
    if (l.output_padding) s += " op" + std::to_string(*l.output_padding);
    s += activation_suffix(l.activation);
    if (!l.use_bias) s += " nobias";
    return s;
}

}  // namespace

const std::vector<LayerKind> kConvKinds = {
    {LayerType::conv1d, "conv1d", {}, {"Conv1D", "Convolution1D", "AtrousConvolution1D"}, 1, 1, read_conv,
     plan_conv, conv_span, nullptr, conv_variables, conv_summary},
    {LayerType::conv1d_transpose, "conv1d_transpose", {}, {"Conv1DTranspose", "Convolution1DTranspose"}, 1, 1,
     read_conv, plan_transpose, transpose_span, nullptr, conv_variables, conv_summary},
    {LayerType::depthwise_conv1d, "depthwise_conv1d", {}, {"DepthwiseConv1D"}, 1, 1, read_conv, plan_conv,
     conv_span, nullptr, conv_variables, conv_summary},
    {LayerType::separable_conv1d, "separable_conv1d", {}, {"SeparableConv1D", "SeparableConvolution1D"}, 1, 1,
     read_conv, plan_conv, conv_span, nullptr, conv_variables, conv_summary},
};

}  // namespace c1r
