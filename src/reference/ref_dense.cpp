// Reference heads and lookups: dense (rank 2, and every step of rank 3), time_distributed, embedding.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "core/error.hpp"
#include "reference/kinds.hpp"

namespace c1r::ref {
namespace {


void check_size(const LayerPlan& p, const char* name, const std::vector<float>& v, int64_t expected) {
    if (static_cast<int64_t>(v.size()) != expected)
        throw std::logic_error("reference: layer \"" + p.spec.name + "\" variable " + name + " holds " +
                               std::to_string(v.size()) + " values, expected " + std::to_string(expected));
}

// Keras Dense: act(x . kernel + bias) over the last axis, kernel (in, units). The activation (softmax included)
// is applied to the double sums of each step.
Tensor dense_of(const LayerPlan& p, const LayerSpec& s, const Tensor& x, const LayerWeights& w) {
    const int64_t cin = x.shape.channels, units = s.units;
    const std::vector<float>& kernel = w.var("kernel");
    const std::vector<float>& bias = w.var("bias");
    check_size(p, "kernel", kernel, cin * units);
    if (s.use_bias) check_size(p, "bias", bias, units);
    Tensor out = blank(out_shape(p, 0));
    if (out.shape.batch != x.shape.batch || out.shape.length != x.shape.length || out.shape.channels != units)
        throw std::logic_error("reference: dense \"" + p.spec.name + "\" output shape does not match its input");
    const bool soft = s.activation.fn == Activation::softmax || s.activation.fn == Activation::log_softmax;
    std::vector<double> row(static_cast<size_t>(units));
    for (int64_t n = 0; n < x.shape.batch; ++n)
        for (int64_t l = 0; l < x.shape.length; ++l) {
            for (int64_t u = 0; u < units; ++u) {
                double acc = bias.empty() ? 0.0 : static_cast<double>(bias[static_cast<size_t>(u)]);
                for (int64_t c = 0; c < cin; ++c)
                    acc += static_cast<double>(x.at(n, l, c)) * kernel[static_cast<size_t>(c * units + u)];
                row[static_cast<size_t>(u)] = acc;
            }
            if (soft) {
                double m = -INFINITY, sum = 0.0;
                for (double v : row) m = std::max(m, v);
                for (double v : row) sum += std::exp(v - m);
                for (int64_t u = 0; u < units; ++u) {
                    const double shifted = row[static_cast<size_t>(u)] - m;
                    out.at(n, l, u) = static_cast<float>(s.activation.fn == Activation::log_softmax
                                                             ? shifted - std::log(sum)
                                                             : std::exp(shifted) / sum);
                }
            } else {
                for (int64_t u = 0; u < units; ++u)
                    out.at(n, l, u) = static_cast<float>(activation(s.activation, row[static_cast<size_t>(u)]));
            }
        }
    return out;
}

std::string id_text(double v) {
    char buf[64];
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
    else std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

}  // namespace

Outputs dense(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat) {
    const Tensor& x = one_input(p, in);
    if (p.spec.type == LayerType::dense) return {dense_of(p, p.spec, x, w)};
    if (p.spec.type != LayerType::time_distributed || !p.spec.inner)
        throw std::logic_error(std::string("reference: dense does not compute ") + to_string(p.spec.type));
    // TimeDistributed applies the inner layer to every step x[:, t]: for dense, dropout and activation that is
    // the layer itself on rank 3 (the wrapper keeps the inner layer's variables under its own name).
    const LayerSpec& inner = *p.spec.inner;
    switch (inner.type) {
        case LayerType::dense: return {dense_of(p, inner, x, w)};
        case LayerType::dropout: {
            Tensor out = x;
            out.shape = out_shape(p, 0);
            return {std::move(out)};
        }
        case LayerType::activation: {
            Tensor out = x;
            out.shape = out_shape(p, 0);
            activate(inner.activation, out);
            return {std::move(out)};
        }
        default:
            throw std::logic_error(std::string("reference: time_distributed cannot wrap ") + to_string(inner.type));
    }
}

// Keras Embedding: row embeddings[id] for every id of the (batch, steps) input; output (batch, steps, output_dim).
Outputs embedding(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat) {
    const Tensor& x = one_input(p, in);
    const LayerSpec& s = p.spec;
    const std::vector<float>& table = w.var("embeddings");
    check_size(p, "embeddings", table, s.input_dim * s.output_dim);
    const int64_t steps = x.shape.length * x.shape.channels;  // rank 2: length 1, the ids in channels
    Tensor out = blank(out_shape(p, 0));
    if (out.shape.batch != x.shape.batch || out.shape.length != steps || out.shape.channels != s.output_dim)
        throw std::logic_error("reference: embedding \"" + s.name + "\" output shape does not match its input");
    for (int64_t n = 0; n < x.shape.batch; ++n)
        for (int64_t l = 0; l < steps; ++l) {
            const double v = x.data[static_cast<size_t>(n * steps + l)];
            if (!(v >= 0.0 && v < static_cast<double>(s.input_dim)))
                throw Error(ErrorKind::input, "embedding \"" + s.name + "\": input position (" + std::to_string(n) +
                                                  ", " + std::to_string(l) + ") holds id " + id_text(v) +
                                                  ", outside [0, " + std::to_string(s.input_dim) + ")");
            const int64_t id = static_cast<int64_t>(v);  // Keras casts to int32: truncation
            for (int64_t d = 0; d < s.output_dim; ++d)
                out.at(n, l, d) = table[static_cast<size_t>(id * s.output_dim + d)];
        }
    return {std::move(out)};
}

// The kinds this file computes (layers/layer.hpp: C1R_LAYER_KINDS).
C1R_REFERENCE(dense, dense)
C1R_REFERENCE(time_distributed, dense)
C1R_REFERENCE(embedding, embedding)

}  // namespace c1r::ref
