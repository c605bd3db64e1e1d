// Direct-loop reference of every layer type, written from the Keras definitions (SPEC §3).
#include "reference/reference.hpp"

#include <cmath>
#include <limits>

namespace c1r {

double apply_activation(Activation activation, double x) {
    switch (activation) {
        case Activation::linear: return x;
        case Activation::relu: return x > 0 ? x : 0;
        case Activation::tanh: return std::tanh(x);
        case Activation::sigmoid: return 1.0 / (1.0 + std::exp(-x));
        case Activation::gelu: return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
        case Activation::elu: return x > 0 ? x : std::expm1(x);
        case Activation::swish: return x / (1.0 + std::exp(-x));
    }
    return x;
}

namespace {

Tensor conv1d(const LayerPlan& p, const Tensor& in, const LayerWeights& w) {
    const LayerSpec& s = p.spec;
    Tensor out{p.output_shape, std::vector<float>(static_cast<size_t>(p.output_shape.elements()))};
    const int64_t cin_g = in.shape.channels / s.groups, cout_g = s.filters / s.groups;
    const int64_t pad_left = p.padding->first;
    for (int64_t n = 0; n < out.shape.batch; ++n)
        for (int64_t o = 0; o < out.shape.length; ++o)
            for (int64_t f = 0; f < s.filters; ++f) {
                const int64_t g = f / cout_g;
                double acc = w.bias.empty() ? 0.0 : w.bias[f];
                for (int64_t j = 0; j < s.kernel_size; ++j) {
                    const int64_t i = o * s.strides - pad_left + j * s.dilation_rate;
                    if (i < 0 || i >= in.shape.length) continue;  // zero padding
                    for (int64_t c = 0; c < cin_g; ++c)
                        acc += static_cast<double>(in.at(n, i, g * cin_g + c)) *
                               w.kernel[(j * cin_g + c) * s.filters + f];  // Keras (k, Cin/g, filters)
                }
                out.at(n, o, f) = static_cast<float>(apply_activation(s.activation, acc));
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
                        sum += static_cast<double>(in.at(n, i, c)) * w.kernel[(j * s.filters + f) * cin + c];
                    acc[o * s.filters + f] += sum;  // Keras (k, filters, Cin)
                }
            }
        for (int64_t o = 0; o < lout; ++o)
            for (int64_t f = 0; f < s.filters; ++f) {
                double v = acc[o * s.filters + f] + (w.bias.empty() ? 0.0 : w.bias[f]);
                out.at(n, o, f) = static_cast<float>(apply_activation(s.activation, v));
            }
    }
    return out;
}

// Max ignores padding (as -inf); average divides by the number of real steps in the window (Keras/TF).
Tensor pool(const LayerPlan& p, const Tensor& in) {
    const LayerSpec& s = p.spec;
    const bool is_max = s.type == LayerType::max_pool1d;
    Tensor out{p.output_shape, std::vector<float>(static_cast<size_t>(p.output_shape.elements()))};
    for (int64_t n = 0; n < out.shape.batch; ++n)
        for (int64_t o = 0; o < out.shape.length; ++o)
            for (int64_t c = 0; c < out.shape.channels; ++c) {
                double best = -std::numeric_limits<double>::infinity(), sum = 0.0;
                int64_t count = 0;
                for (int64_t j = 0; j < s.pool_size; ++j) {
                    const int64_t i = o * s.strides - p.padding->first + j;
                    if (i < 0 || i >= in.shape.length) continue;
                    best = std::max(best, static_cast<double>(in.at(n, i, c)));
                    sum += in.at(n, i, c);
                    ++count;
                }
                out.at(n, o, c) = static_cast<float>(is_max ? best : sum / static_cast<double>(count));
            }
    return out;
}

Tensor upsample(const LayerPlan& p, const Tensor& in) {
    Tensor out{p.output_shape, std::vector<float>(static_cast<size_t>(p.output_shape.elements()))};
    for (int64_t n = 0; n < out.shape.batch; ++n)
        for (int64_t o = 0; o < out.shape.length; ++o)
            for (int64_t c = 0; c < out.shape.channels; ++c) out.at(n, o, c) = in.at(n, o / p.spec.size, c);
    return out;
}

Tensor permute(const LayerPlan& p, const Tensor& in) {
    if (p.spec.dims[0] == 1) return in;
    Tensor out{p.output_shape, std::vector<float>(in.data.size())};
    for (int64_t n = 0; n < in.shape.batch; ++n)
        for (int64_t l = 0; l < in.shape.length; ++l)
            for (int64_t c = 0; c < in.shape.channels; ++c) out.at(n, c, l) = in.at(n, l, c);
    return out;
}

// Reshape reads the per-sample values in the data format's row-major order and writes them back in that order.
Tensor reshape(const LayerPlan& p, const Tensor& in, DataFormat format) {
    std::vector<float> flat = tensor_to_user_order(in, format);
    return tensor_from_user_order(p.output_shape, flat.data(), format);
}

}  // namespace

Tensor reference_layer(const LayerPlan& layer, const Tensor& input, const LayerWeights& weights,
                       DataFormat format) {
    switch (layer.spec.type) {
        case LayerType::conv1d: return conv1d(layer, input, weights);
        case LayerType::conv1d_transpose: return conv1d_transpose(layer, input, weights);
        case LayerType::max_pool1d:
        case LayerType::avg_pool1d: return pool(layer, input);
        case LayerType::upsample1d: return upsample(layer, input);
        case LayerType::permute: return permute(layer, input);
        case LayerType::reshape: return reshape(layer, input, format);
        case LayerType::activation: {
            Tensor out = input;
            for (auto& v : out.data) v = static_cast<float>(apply_activation(layer.spec.activation, v));
            return out;
        }
    }
    return input;
}

}  // namespace c1r
