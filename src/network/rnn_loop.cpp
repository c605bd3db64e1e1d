// The plain-loop recurrent cell (network/rnn_loop.hpp), double accumulation.
#include "network/rnn_loop.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace c1r {
namespace {

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

// Keras' activations on one value (softmax and log_softmax work on a whole gate vector: activate()). Written
// apart from reference/ref_act.cpp on purpose: --verify compares this loop with the reference, and one shared
// formula would agree with itself.
double activation_value(const ActivationSpec& a, double x) {
    switch (a.fn) {
        case Activation::linear: return x;
        case Activation::relu: return x > 0 ? x : 0.0;
        case Activation::tanh: return std::tanh(x);
        case Activation::sigmoid: return sigmoid(x);
        case Activation::gelu: return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
        case Activation::gelu_tanh:
            return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / std::numbers::pi) * (x + 0.044715 * x * x * x)));
        case Activation::elu: return x > 0 ? x : std::expm1(x);
        case Activation::swish: return x * sigmoid(x);
        case Activation::relu6: return std::clamp(x, 0.0, 6.0);
        case Activation::leaky_relu: return x >= 0 ? x : 0.2 * x;
        case Activation::selu:
            return 1.0507009873554804934193349852946 * (x > 0 ? x : 1.6732632423543772848170429916717 * std::expm1(x));
        case Activation::softplus: return softplus(x);
        case Activation::softsign: return x / (1.0 + std::fabs(x));
        case Activation::hard_sigmoid: return a.keras2 ? std::clamp(0.2 * x + 0.5, 0.0, 1.0) : std::clamp(x / 6.0 + 0.5, 0.0, 1.0);
        case Activation::hard_silu: return x * std::clamp(x / 6.0 + 0.5, 0.0, 1.0);
        case Activation::exponential: return std::exp(x);
        case Activation::mish: return x * std::tanh(softplus(x));
        case Activation::log_sigmoid: return -softplus(-x);
        case Activation::softmax:
        case Activation::log_softmax: break;  // not per value
    }
    return x;
}

// Applies an activation to one gate's H values in place (softmax over the H units, as Keras' last axis).
void activate(const ActivationSpec& a, double* v, int64_t n) {
    if (a.fn == Activation::softmax || a.fn == Activation::log_softmax) {
        double m = *std::max_element(v, v + n), sum = 0;
        for (int64_t j = 0; j < n; ++j) sum += std::exp(v[j] - m);
        for (int64_t j = 0; j < n; ++j)
            v[j] = a.fn == Activation::softmax ? std::exp(v[j] - m) / sum : v[j] - m - std::log(sum);
        return;
    }
    for (int64_t j = 0; j < n; ++j) v[j] = activation_value(a, v[j]);
}

}  // namespace

void LoopLayer::run() const {
    const float* x_all = static_cast<const float*>(src.get_data_handle());
    for (const LoopSide& side : sides) {
        float* seq = side.seq ? static_cast<float*>(side.seq.get_data_handle()) : nullptr;
        float* h_out = static_cast<float*>(side.h.get_data_handle());
        float* c_out = side.c ? static_cast<float*>(side.c.get_data_handle()) : nullptr;
#pragma omp parallel for if (N > 1)
        for (int64_t n = 0; n < N; ++n) run_sample(side, x_all + n * T * I, seq ? seq + n * T * H : nullptr,
                                                  h_out + n * H, c_out ? c_out + n * H : nullptr);
    }
}

void LoopLayer::run_sample(const LoopSide& side, const float* x_seq, float* seq, float* h_out, float* c_out) const {
    const int64_t G = gate_count(type), GH = G * H;
    const bool lbr = type == LayerType::gru && reset_after;
    std::vector<double> h(H, 0.0), cs(H, 0.0), xz(GH), hz(GH), rh(H);
    for (int64_t s = 0; s < T; ++s) {
        const int64_t t = side.backwards ? T - 1 - s : s;
        const float* x = x_seq + t * I;
        // x·kernel + bias (the input bias, row 0, for reset_after)
        for (int64_t j = 0; j < GH; ++j) xz[j] = side.bias.empty() ? 0.0 : side.bias[j];
        for (int64_t i = 0; i < I; ++i) {
            const double xi = x[i];
            const float* k = side.kernel.data() + i * GH;
            for (int64_t j = 0; j < GH; ++j) xz[j] += xi * k[j];
        }
        // h·recurrent_kernel (+ recurrent bias, row 1, for reset_after)
        for (int64_t j = 0; j < GH; ++j) hz[j] = lbr && !side.bias.empty() ? side.bias[GH + j] : 0.0;
        const int64_t rec_cols = type == LayerType::gru && !reset_after ? 2 * H : GH;  // h gate needs r·h first
        for (int64_t k = 0; k < H; ++k) {
            const double hk = h[k];
            const float* r = side.recurrent.data() + k * GH;
            for (int64_t j = 0; j < rec_cols; ++j) hz[j] += hk * r[j];
        }
        if (type == LayerType::lstm) {
            for (int64_t j = 0; j < GH; ++j) xz[j] += hz[j];
            const float* p = side.peephole.empty() ? nullptr : side.peephole.data();  // rows i, f, o
            if (p)  // i and f see the previous cell state
                for (int64_t j = 0; j < H; ++j) {
                    xz[j] += p[j] * cs[j];
                    xz[H + j] += p[H + j] * cs[j];
                }
            activate(recurrent_activation, xz.data(), H);          // i
            activate(recurrent_activation, xz.data() + H, H);      // f
            activate(activation, xz.data() + 2 * H, H);            // c~
            for (int64_t j = 0; j < H; ++j) cs[j] = xz[H + j] * cs[j] + xz[j] * xz[2 * H + j];
            if (p)  // o sees the new one
                for (int64_t j = 0; j < H; ++j) xz[3 * H + j] += p[2 * H + j] * cs[j];
            activate(recurrent_activation, xz.data() + 3 * H, H);  // o
            std::vector<double> ac(cs);
            activate(activation, ac.data(), H);
            for (int64_t j = 0; j < H; ++j) h[j] = xz[3 * H + j] * ac[j];
        } else if (type == LayerType::gru) {
            for (int64_t j = 0; j < 2 * H; ++j) xz[j] += hz[j];
            activate(recurrent_activation, xz.data(), H);      // z
            activate(recurrent_activation, xz.data() + H, H);  // r
            double* hh = xz.data() + 2 * H;
            if (reset_after) {
                for (int64_t j = 0; j < H; ++j) hh[j] += xz[H + j] * hz[2 * H + j];
            } else {
                for (int64_t k = 0; k < H; ++k) rh[k] = xz[H + k] * h[k];
                for (int64_t k = 0; k < H; ++k) {
                    const double v = rh[k];
                    const float* r = side.recurrent.data() + k * GH + 2 * H;
                    for (int64_t j = 0; j < H; ++j) hh[j] += v * r[j];
                }
            }
            activate(activation, hh, H);
            for (int64_t j = 0; j < H; ++j) h[j] = xz[j] * h[j] + (1.0 - xz[j]) * hh[j];
        } else {
            for (int64_t j = 0; j < H; ++j) xz[j] += hz[j];
            activate(activation, xz.data(), H);
            for (int64_t j = 0; j < H; ++j) h[j] = xz[j];
        }
        if (seq) {
            const int64_t pos = side.flip ? T - 1 - t : t;
            for (int64_t j = 0; j < H; ++j) seq[pos * H + j] = static_cast<float>(h[j]);
        }
    }
    for (int64_t j = 0; j < H; ++j) h_out[j] = static_cast<float>(h[j]);
    if (c_out)
        for (int64_t j = 0; j < H; ++j) c_out[j] = static_cast<float>(cs[j]);
}

}  // namespace c1r
