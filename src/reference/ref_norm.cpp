// Reference normalisation: batch_normalization over the channel axis with moving statistics (Keras inference)
// and layer_normalization (per sample and step, or per sample over length and channels; biased variance).
#include <cmath>
#include <stdexcept>
#include <string>

#include "reference/kinds.hpp"

namespace c1r::ref {
namespace {

// A per-channel vector: present with `channels` values, or absent (empty) when `wanted` is false.
const std::vector<float>& channel_var(const LayerPlan& p, const LayerWeights& w, const char* name, bool wanted,
                                      int64_t channels) {
    const std::vector<float>& v = w.var(name);
    const int64_t expected = wanted ? channels : 0;
    if (wanted && static_cast<int64_t>(v.size()) != expected)
        throw std::logic_error("reference: layer \"" + p.spec.name + "\" variable " + name + " holds " +
                               std::to_string(v.size()) + " values, expected " + std::to_string(expected));
    return v;
}

// Keras LayerNormalization, per sample over the channels of each step, or over all its steps and channels
// together (gamma/beta (L, C)), or over the whole tensor, the batch too (one group, gamma/beta (B, L, C)); with
// return_statistics also the mean and 1/sqrt(var + eps) of each group.
Outputs layer_norm(const LayerPlan& p, const Tensor& x, const LayerWeights& w, Tensor out) {
    const LayerSpec& s = p.spec;
    const int64_t N = x.shape.batch, L = x.shape.length, C = x.shape.channels;
    const bool joint = normalises_length(p), whole = normalises_batch(p);
    const int64_t per = whole ? N * L * C : joint ? L * C : C;  // values a gamma/beta holds
    const std::vector<float>& gamma = channel_var(p, w, "gamma", s.scale, per);
    const std::vector<float>& beta = channel_var(p, w, "beta", s.center, per);
    Tensor mean_out, inv_out;
    if (s.return_statistics) {
        mean_out = blank(out_shape(p, 1));
        inv_out = blank(out_shape(p, 2));
    }
    // One group: samples [n0, n1), steps [l0, l1), every channel; its values are (n, l, c) with weight index
    // (n·L + l)·C + c over the whole tensor (n0 = l0 = 0), l·C + c for a joint group (l0 = 0), c otherwise.
    auto group = [&](int64_t n0, int64_t n1, int64_t l0, int64_t l1, size_t stat) {
        const double count = static_cast<double>((n1 - n0) * (l1 - l0) * C);
        double mean = 0.0;
        for (int64_t n = n0; n < n1; ++n)
            for (int64_t l = l0; l < l1; ++l)
                for (int64_t c = 0; c < C; ++c) mean += x.at(n, l, c);
        mean /= count;
        double var = 0.0;
        for (int64_t n = n0; n < n1; ++n)
            for (int64_t l = l0; l < l1; ++l)
                for (int64_t c = 0; c < C; ++c) {
                    const double d = static_cast<double>(x.at(n, l, c)) - mean;
                    var += d * d;
                }
        var /= count;  // biased, as Keras
        const double inv = 1.0 / std::sqrt(var + s.epsilon);
        for (int64_t n = n0; n < n1; ++n)
            for (int64_t l = l0; l < l1; ++l)
                for (int64_t c = 0; c < C; ++c) {
                    const size_t k = static_cast<size_t>(whole ? (n * L + l) * C + c : joint ? l * C + c : c);
                    const double g = s.scale ? static_cast<double>(gamma[k]) : 1.0;
                    const double b = s.center ? static_cast<double>(beta[k]) : 0.0;
                    out.at(n, l, c) = static_cast<float>((static_cast<double>(x.at(n, l, c)) - mean) * inv * g + b);
                }
        if (s.return_statistics) {
            mean_out.data[stat] = static_cast<float>(mean);
            inv_out.data[stat] = static_cast<float>(inv);
        }
    };
    if (whole) group(0, N, 0, L, 0);
    else
        for (int64_t n = 0; n < N; ++n) {
            if (joint) group(n, n + 1, 0, L, static_cast<size_t>(n));
            else
                for (int64_t l = 0; l < L; ++l) group(n, n + 1, l, l + 1, static_cast<size_t>(n * L + l));
        }
    Outputs result;
    result.push_back(std::move(out));
    if (s.return_statistics) {
        result.push_back(std::move(mean_out));
        result.push_back(std::move(inv_out));
    }
    return result;
}

}  // namespace

Outputs norm(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat) {
    if (in.empty() || !in[0]) throw std::logic_error("reference: layer \"" + p.spec.name + "\" got no input");
    const Tensor& x = *in[0];
    const LayerSpec& s = p.spec;
    const int64_t C = x.shape.channels;
    Tensor out = blank(out_shape(p, 0));
    if (out.shape.elements() != x.shape.elements())
        throw std::logic_error("reference: layer \"" + s.name + "\" output shape does not match its input");

    if (s.type == LayerType::batch_normalization) {
        const std::vector<float>& gamma = channel_var(p, w, "gamma", s.scale, C);
        const std::vector<float>& beta = channel_var(p, w, "beta", s.center, C);
        auto g = [&](int64_t c) { return s.scale ? static_cast<double>(gamma[static_cast<size_t>(c)]) : 1.0; };
        auto b = [&](int64_t c) { return s.center ? static_cast<double>(beta[static_cast<size_t>(c)]) : 0.0; };
        const std::vector<float>& mean = channel_var(p, w, "moving_mean", true, C);
        const std::vector<float>& var = channel_var(p, w, "moving_variance", true, C);
        for (int64_t n = 0; n < x.shape.batch; ++n)
            for (int64_t l = 0; l < x.shape.length; ++l)
                for (int64_t c = 0; c < C; ++c) {
                    const double inv = 1.0 / std::sqrt(static_cast<double>(var[static_cast<size_t>(c)]) + s.epsilon);
                    const double v = (static_cast<double>(x.at(n, l, c)) - mean[static_cast<size_t>(c)]) * inv;
                    out.at(n, l, c) = static_cast<float>(v * g(c) + b(c));
                }
        return {std::move(out)};
    }
    if (s.type == LayerType::layer_normalization) return layer_norm(p, x, w, std::move(out));
    throw std::logic_error(std::string("reference: norm does not compute ") + to_string(s.type));
}

// The kinds this file computes (layers/layer.hpp: C1R_LAYER_KINDS).
C1R_REFERENCE(batch_normalization, norm)
C1R_REFERENCE(layer_normalization, norm)

}  // namespace c1r::ref
