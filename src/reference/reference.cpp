// Direct-loop references of the convolutions, pooling, upsampling and permute (SPEC §3), and the dispatch
// of every kind's reference (reference/kinds.hpp). Deliberately shares nothing with the oneDNN executor but
// the plan's shapes and paddings.
#include "reference/reference.hpp"

#include <cmath>
#include <limits>

#include "reference/kinds.hpp"

namespace c1r {
namespace ref {
namespace {

// Per-value activations in the loops; softmax-like ones run over the whole output afterwards.
double value_activation(const ActivationSpec& a, double x) {
    return a.fn == Activation::softmax || a.fn == Activation::log_softmax ? x : activation(a, x);
}


Tensor conv1d(const LayerPlan& p, const Tensor& in, const LayerWeights& w) {
    const LayerSpec& s = p.spec;
    Tensor out{p.output_shape, std::vector<float>(static_cast<size_t>(p.output_shape.elements()))};
    const int64_t cin_g = in.shape.channels / s.groups, cout_g = s.filters / s.groups;
    const int64_t pad_left = p.padding->first;
    for (int64_t n = 0; n < out.shape.batch; ++n)
        for (int64_t o = 0; o < out.shape.length; ++o)
            for (int64_t f = 0; f < s.filters; ++f) {
                const int64_t g = f / cout_g;
                double acc = w.var("bias").empty() ? 0.0 : w.var("bias")[f];
                for (int64_t j = 0; j < s.kernel_size; ++j) {
                    const int64_t i = source_step(o * s.strides - pad_left + j * s.dilation_rate, in.shape.length,
                                                  s.padding_mode);
                    if (i < 0) continue;  // zero padding
                    for (int64_t c = 0; c < cin_g; ++c)
                        acc += static_cast<double>(in.at(n, i, g * cin_g + c)) *
                               w.var("kernel")[(j * cin_g + c) * s.filters + f];  // Keras (k, Cin/g, filters)
                }
                out.at(n, o, f) = static_cast<float>(value_activation(s.activation, acc));
            }
    return out;
}

// Keras Conv1DTranspose: scatter every input step into the full result of length (L-1)*s + K',
// keep the window that starts at crop_left; steps past the full result hold only the bias.
Tensor conv1d_transpose(const LayerPlan& p, const Tensor& in, const LayerWeights& w) {
    const LayerSpec& s = p.spec;
    const int64_t cin = in.shape.channels, lout = p.output_shape.length;
    const int64_t crop_left = p.padding->first;
    std::vector<double> acc(static_cast<size_t>(lout * s.filters));
    Tensor out{p.output_shape, std::vector<float>(static_cast<size_t>(p.output_shape.elements()))};
    for (int64_t n = 0; n < in.shape.batch; ++n) {
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t i = 0; i < in.shape.length; ++i)
            for (int64_t j = 0; j < s.kernel_size; ++j) {
                const int64_t o = i * s.strides + j * s.dilation_rate - crop_left;
                if (o < 0 || o >= lout) continue;
                for (int64_t f = 0; f < s.filters; ++f) {
                    double sum = 0.0;
                    for (int64_t c = 0; c < cin; ++c)
                        sum += static_cast<double>(in.at(n, i, c)) * w.var("kernel")[(j * s.filters + f) * cin + c];
                    acc[o * s.filters + f] += sum;  // Keras (k, filters, Cin)
                }
            }
        for (int64_t o = 0; o < lout; ++o)
            for (int64_t f = 0; f < s.filters; ++f) {
                double v = acc[o * s.filters + f] + (w.var("bias").empty() ? 0.0 : w.var("bias")[f]);
                out.at(n, o, f) = static_cast<float>(value_activation(s.activation, v));
            }
    }
    return out;
}

// Max ignores padding (as -inf). Average divides by the real steps in the window (Keras/TF), or with
// count_include_pad by the window clipped to the padded input (PyTorch: ceil_mode's overhang not counted).
Tensor pool_(const LayerPlan& p, const Tensor& in) {
    const LayerSpec& s = p.spec;
    const bool is_max = s.type == LayerType::max_pool1d;
    const int64_t pad_left = p.padding->first, pad_right = p.padding->second, length = in.shape.length;
    Tensor out{p.output_shape, std::vector<float>(static_cast<size_t>(p.output_shape.elements()))};
    for (int64_t n = 0; n < out.shape.batch; ++n)
        for (int64_t o = 0; o < out.shape.length; ++o)
            for (int64_t c = 0; c < out.shape.channels; ++c) {
                double best = -std::numeric_limits<double>::infinity(), sum = 0.0;
                int64_t count = 0, padded_count = 0;
                for (int64_t j = 0; j < s.pool_size; ++j) {
                    const int64_t i = o * s.strides - pad_left + j * s.dilation_rate;
                    if (i < length + pad_right) ++padded_count;  // i >= -pad_left always
                    if (i < 0 || i >= length) continue;
                    best = std::max(best, static_cast<double>(in.at(n, i, c)));
                    sum += in.at(n, i, c);
                    ++count;
                }
                const double divisor = static_cast<double>(s.count_include_pad ? padded_count : count);
                out.at(n, o, c) = static_cast<float>(is_max ? best : sum / divisor);
            }
    return out;
}

// Nearest repeats each step `size` times (UpSampling1D). Linear interpolates between the two steps around the
// source position (PyTorch Upsample mode='linear'): src = (o + 0.5) / size - 0.5 clamped at 0, or with
// align_corners src = o (L-1) / (Lout-1).
Tensor upsample_(const LayerPlan& p, const Tensor& in) {
    const LayerSpec& s = p.spec;
    Tensor out{p.output_shape, std::vector<float>(static_cast<size_t>(p.output_shape.elements()))};
    const int64_t length = in.shape.length, out_length = out.shape.length;
    for (int64_t n = 0; n < out.shape.batch; ++n)
        for (int64_t o = 0; o < out_length; ++o) {
            if (s.interpolation == Interpolation::nearest) {
                for (int64_t c = 0; c < out.shape.channels; ++c) out.at(n, o, c) = in.at(n, o / s.size, c);
                continue;
            }
            double src = 0.0;
            if (s.align_corners)
                src = out_length > 1 ? static_cast<double>(o) * static_cast<double>(length - 1) /
                                           static_cast<double>(out_length - 1)
                                     : 0.0;
            else
                src = std::max((static_cast<double>(o) + 0.5) / static_cast<double>(s.size) - 0.5, 0.0);
            const int64_t i0 = std::min(static_cast<int64_t>(std::floor(src)), length - 1);
            const int64_t i1 = std::min(i0 + 1, length - 1);
            const double t = src - static_cast<double>(i0);
            for (int64_t c = 0; c < out.shape.channels; ++c)
                out.at(n, o, c) = static_cast<float>((1.0 - t) * in.at(n, i0, c) + t * in.at(n, i1, c));
        }
    return out;
}

Tensor permute_(const LayerPlan& p, const Tensor& in) {
    if (p.spec.dims[0] == 1) return in;
    Tensor out{p.output_shape, std::vector<float>(in.data.size())};
    for (int64_t n = 0; n < in.shape.batch; ++n)
        for (int64_t l = 0; l < in.shape.length; ++l)
            for (int64_t c = 0; c < in.shape.channels; ++c) out.at(n, c, l) = in.at(n, l, c);
    return out;
}


}  // namespace

Outputs conv(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat) {
    Tensor out = p.spec.type == LayerType::conv1d ? conv1d(p, *in[0], w) : conv1d_transpose(p, *in[0], w);
    if (p.spec.activation.fn == Activation::softmax || p.spec.activation.fn == Activation::log_softmax)
        activate(p.spec.activation, out);
    return {std::move(out)};
}
// DepthwiseConv1D: output channel c*M + m reads input channel c with kernel[t][c][m]; SeparableConv1D then
// applies pointwise_kernel (1, Cin*M, filters), the bias and the activation.
Outputs depthwise(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat) {
    const LayerSpec& s = p.spec;
    const Tensor& x = *in[0];
    const bool separable = s.type == LayerType::separable_conv1d;
    const int64_t cin = x.shape.channels, m = s.depth_multiplier, lout = p.output_shape.length;
    const auto& kernel = separable ? w.var("depthwise_kernel") : (w.vars.count("kernel") ? w.var("kernel") : w.var("depthwise_kernel"));
    std::vector<double> mid(static_cast<size_t>(x.shape.batch * lout * cin * m));
    for (int64_t n = 0; n < x.shape.batch; ++n)
        for (int64_t o = 0; o < lout; ++o)
            for (int64_t c = 0; c < cin; ++c)
                for (int64_t mm = 0; mm < m; ++mm) {
                    double acc = 0;
                    for (int64_t j = 0; j < s.kernel_size; ++j) {
                        const int64_t i = source_step(o * s.strides - p.padding->first + j * s.dilation_rate,
                                                      x.shape.length, s.padding_mode);
                        if (i < 0) continue;  // zero padding
                        acc += static_cast<double>(x.at(n, i, c)) * kernel[(j * cin + c) * m + mm];
                    }
                    mid[((n * lout + o) * cin + c) * m + mm] = acc;
                }
    Tensor out{p.output_shape, std::vector<float>(static_cast<size_t>(p.output_shape.elements()))};
    const auto& bias = w.var("bias");
    const int64_t depth = cin * m, f_out = p.output_shape.channels;
    const auto& pw = w.var("pointwise_kernel");
    for (int64_t n = 0; n < x.shape.batch; ++n)
        for (int64_t o = 0; o < lout; ++o)
            for (int64_t f = 0; f < f_out; ++f) {
                double v = 0;
                if (separable)
                    for (int64_t d = 0; d < depth; ++d) v += mid[(n * lout + o) * depth + d] * pw[d * f_out + f];
                else v = mid[(n * lout + o) * depth + f];
                if (!bias.empty()) v += bias[f];
                out.at(n, o, f) = static_cast<float>(value_activation(s.activation, v));
            }
    if (s.activation.fn == Activation::softmax || s.activation.fn == Activation::log_softmax) activate(s.activation, out);
    return {std::move(out)};
}

Outputs pool(const LayerPlan& p, const Inputs& in, const LayerWeights&, DataFormat) { return {ref::pool_(p, *in[0])}; }
Outputs upsample(const LayerPlan& p, const Inputs& in, const LayerWeights&, DataFormat) { return {upsample_(p, *in[0])}; }
Outputs permute(const LayerPlan& p, const Inputs& in, const LayerWeights&, DataFormat) { return {permute_(p, *in[0])}; }

// The kinds this file computes (layers/layer.hpp: C1R_LAYER_KINDS).
C1R_REFERENCE(conv1d, conv)
C1R_REFERENCE(conv1d_transpose, conv)
C1R_REFERENCE(depthwise_conv1d, depthwise)
C1R_REFERENCE(separable_conv1d, depthwise)
C1R_REFERENCE(max_pool1d, pool)
C1R_REFERENCE(avg_pool1d, pool)
C1R_REFERENCE(upsample1d, upsample)
C1R_REFERENCE(permute, permute)

}  // namespace ref

std::vector<Tensor> reference_node(const LayerPlan& p, const std::vector<const Tensor*>& inputs,
                                   const LayerWeights& w, DataFormat f) {
    switch (p.spec.type) {
#define C1R_REFERENCE_CASE(kind) \
    case LayerType::kind: return ref::reference_##kind(p, inputs, w, f);
        C1R_LAYER_KINDS(C1R_REFERENCE_CASE)
#undef C1R_REFERENCE_CASE
        case LayerType::count_: break;
    }
    return {};
}

Tensor reference_layer(const LayerPlan& layer, const Tensor& input, const LayerWeights& weights, DataFormat format) {
    return reference_node(layer, {&input}, weights, format).at(0);
}

}  // namespace c1r
