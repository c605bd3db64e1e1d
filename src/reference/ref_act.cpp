// Reference activations: every Keras activation on one value, softmax over an axis, and the activation layers
// (activation, relu, leaky_relu, elu, softmax, prelu). Formulas from Keras (REAL-MODELS §1c, §1d).
#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

#include "reference/kinds.hpp"

namespace c1r::ref {
namespace {


double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
// log(1 + e^x) without overflow for large x.
double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
double relu6(double x) { return std::min(std::max(x, 0.0), 6.0); }

constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;

// Softmax or log-softmax over `count` values of `t` that start at `first` and lie `stride` floats apart.
void softmax_line(Tensor& t, size_t first, size_t stride, int64_t count, bool log) {
    double m = -INFINITY;
    for (int64_t i = 0; i < count; ++i) m = std::max(m, static_cast<double>(t.data[first + i * stride]));
    double sum = 0.0;
    for (int64_t i = 0; i < count; ++i) sum += std::exp(static_cast<double>(t.data[first + i * stride]) - m);
    for (int64_t i = 0; i < count; ++i) {
        float& v = t.data[first + i * stride];
        const double shifted = static_cast<double>(v) - m;
        v = static_cast<float>(log ? shifted - std::log(sum) : std::exp(shifted) / sum);
    }
}

enum class SoftmaxAxis { channels, length, batch };

// Softmax over channels, over the length axis, or over the batch (each (step, channel) across the samples).
void softmax_tensor(Tensor& t, SoftmaxAxis over, bool log) {
    const Shape& s = t.shape;
    const size_t C = static_cast<size_t>(s.channels);
    if (over == SoftmaxAxis::batch) {
        const size_t sample = static_cast<size_t>(s.length) * C;
        for (size_t i = 0; i < sample; ++i) softmax_line(t, i, sample, s.batch, log);
        return;
    }
    const bool along_length = over == SoftmaxAxis::length;
    for (int64_t n = 0; n < s.batch; ++n) {
        const size_t base = static_cast<size_t>(n * s.length) * C;
        if (!along_length) {
            for (int64_t l = 0; l < s.length; ++l) softmax_line(t, base + static_cast<size_t>(l) * C, 1, s.channels, log);
        } else {
            for (int64_t c = 0; c < s.channels; ++c) softmax_line(t, base + static_cast<size_t>(c), C, s.length, log);
        }
    }
}

// Keras ReLU layer (K3 ReLU.static_call, K2 backend.relu): the part above the threshold, clipped to
// [0, max_value] when a max is given, minus negative_slope times the part below the threshold.
double relu_layer_value(const LayerSpec& s, double x) {
    if (s.negative_slope != 0.0 && !s.max_value && s.threshold == 0.0) return x >= 0 ? x : s.negative_slope * x;
    double pos = s.threshold != 0.0 ? (x > s.threshold ? x : 0.0) : std::max(x, 0.0);
    if (s.max_value) pos = std::min(std::max(pos, 0.0), *s.max_value);
    if (s.negative_slope != 0.0) pos -= s.negative_slope * std::max(s.threshold - x, 0.0);
    return pos;
}

}  // namespace

double activation(const ActivationSpec& a, double x) {
    switch (a.fn) {
        case Activation::linear: return x;
        case Activation::relu: return x > 0 ? x : 0.0;
        case Activation::tanh: return std::tanh(x);
        case Activation::sigmoid: return sigmoid(x);
        case Activation::gelu: return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
        case Activation::elu: return x >= 0 ? x : std::expm1(x);
        case Activation::swish: return x * sigmoid(x);
        case Activation::softmax:
        case Activation::log_softmax:
            throw std::logic_error(std::string("reference: ") + to_string(a.fn) +
                                   " is not a per-value activation (use activate())");
        case Activation::relu6: return relu6(x);
        case Activation::leaky_relu: return x >= 0 ? x : 0.2 * x;
        case Activation::selu: return kSeluScale * (x >= 0 ? x : kSeluAlpha * std::expm1(x));
        case Activation::softplus: return softplus(x);
        case Activation::softsign: return x / (1.0 + std::fabs(x));
        case Activation::hard_sigmoid:
            return a.keras2 ? std::min(std::max(0.2 * x + 0.5, 0.0), 1.0) : relu6(x + 3.0) / 6.0;
        case Activation::hard_silu: return x * relu6(x + 3.0) / 6.0;
        case Activation::exponential: return std::exp(x);
        case Activation::mish: return x * std::tanh(softplus(x));
        case Activation::log_sigmoid: return -softplus(-x);
        case Activation::gelu_tanh: {
            const double k = std::sqrt(2.0 / std::numbers::pi);
            return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
        }
    }
    throw std::logic_error("reference: unknown activation " + std::to_string(static_cast<int>(a.fn)));
}

void activate(const ActivationSpec& a, Tensor& t) {
    if (a.fn == Activation::softmax || a.fn == Activation::log_softmax) {
        softmax_tensor(t, SoftmaxAxis::channels, a.fn == Activation::log_softmax);
        return;
    }
    if (a.fn == Activation::linear) return;
    for (float& v : t.data) v = static_cast<float>(activation(a, v));
}

Outputs activation_layer(const LayerPlan& p, const Inputs& in, const LayerWeights&, DataFormat f) {
    const Tensor& x = one_input(p, in);
    const LayerSpec& s = p.spec;
    Tensor out = x;
    out.shape = out_shape(p, 0);
    switch (s.type) {
        case LayerType::activation: activate(s.activation, out); break;
        case LayerType::relu:
            for (float& v : out.data) v = static_cast<float>(relu_layer_value(s, v));
            break;
        case LayerType::leaky_relu:
            for (float& v : out.data) v = static_cast<float>(v >= 0 ? static_cast<double>(v) : s.negative_slope * v);
            break;
        case LayerType::elu:
            for (float& v : out.data) v = static_cast<float>(v >= 0 ? static_cast<double>(v) : s.alpha * std::expm1(static_cast<double>(v)));
            break;
        case LayerType::softmax: {
            // The user's axis counts in the data format's order: rank 3 channels_last (B, L, C), channels_first
            // (B, C, L); rank 2 (B, F).
            const int rank = x.shape.rank;
            const int64_t axis = s.axis < 0 ? s.axis + rank : s.axis;
            // rank 2 (B, F). Axis 0 is the batch in every format.
            if (axis < 0 || axis >= rank)
                throw std::logic_error("reference: softmax axis " + std::to_string(s.axis) + " outside rank " +
                                       std::to_string(rank));
            SoftmaxAxis over = SoftmaxAxis::channels;
            if (axis == 0) over = SoftmaxAxis::batch;
            else if (rank == 3 && (f == DataFormat::channels_last ? axis == 1 : axis == 2)) over = SoftmaxAxis::length;
            softmax_tensor(out, over, s.log_softmax);
            break;
        }
        default:
            throw std::logic_error(std::string("reference: activation_layer does not compute ") + to_string(s.type));
    }
    return {std::move(out)};
}

// Keras PReLU: relu(x) - alpha * relu(-x), alpha of shape input_shape[1:] in the user's order with the shared
// axes (1-based) set to 1, broadcast over them.
Outputs prelu(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat f) {
    const Tensor& x = one_input(p, in);
    const Shape& s = x.shape;
    const std::vector<float>& alpha = w.var("alpha");
    // dims[k] is the size of user axis k+1 (alpha's axis k); length_axis/channel_axis say which is which.
    std::vector<int64_t> dims;
    int length_axis = -1, channel_axis = 0;  // indices into dims
    if (s.rank == 2) {
        dims = {s.channels};
    } else if (f == DataFormat::channels_last) {
        dims = {s.length, s.channels};
        length_axis = 0, channel_axis = 1;
    } else {
        dims = {s.channels, s.length};
        length_axis = 1, channel_axis = 0;
    }
    for (int64_t a : p.spec.shared_axes)
        if (a >= 1 && static_cast<size_t>(a) <= dims.size()) dims[static_cast<size_t>(a - 1)] = 1;
    int64_t count = 1;
    for (int64_t d : dims) count *= d;
    if (static_cast<int64_t>(alpha.size()) != count)
        throw std::logic_error("reference: prelu \"" + p.spec.name + "\" alpha holds " + std::to_string(alpha.size()) +
                               " values, expected " + std::to_string(count));
    Tensor out = blank(out_shape(p, 0));
    for (int64_t n = 0; n < s.batch; ++n)
        for (int64_t l = 0; l < s.length; ++l)
            for (int64_t c = 0; c < s.channels; ++c) {
                int64_t idx[2] = {0, 0};
                idx[channel_axis] = dims[static_cast<size_t>(channel_axis)] == 1 ? 0 : c;
                if (length_axis >= 0) idx[length_axis] = dims[static_cast<size_t>(length_axis)] == 1 ? 0 : l;
                const int64_t k = dims.size() == 1 ? idx[0] : idx[0] * dims[1] + idx[1];
                const double v = x.at(n, l, c);
                const double a = alpha[static_cast<size_t>(k)];
                out.at(n, l, c) = static_cast<float>(std::max(v, 0.0) - a * std::max(-v, 0.0));
            }
    return {std::move(out)};
}

// The kinds this file computes (layers/layer.hpp: C1R_LAYER_KINDS).
C1R_REFERENCE(activation, activation_layer)
C1R_REFERENCE(relu, activation_layer)
C1R_REFERENCE(leaky_relu, activation_layer)
C1R_REFERENCE(elu, activation_layer)
C1R_REFERENCE(softmax, activation_layer)
C1R_REFERENCE(prelu, prelu)

}  // namespace c1r::ref
