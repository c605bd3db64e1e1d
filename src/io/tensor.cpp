// Host tensors, deterministic random numbers and Keras' default initialisers.
#include "io/tensor.hpp"

#include "layers/kind.hpp"

#include <cmath>

namespace c1r {
namespace {

uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Random::Random(uint64_t seed) {
    for (auto& s : state_) s = splitmix64(seed);
}

uint64_t Random::next() {  // xoshiro256**
    uint64_t result = rotl(state_[1] * 5, 7) * 9;
    uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
}

double Random::uniform(double low, double high) {
    double unit = static_cast<double>(next() >> 11) * 0x1.0p-53;
    return low + (high - low) * unit;
}

double Random::normal(double mean, double stddev) {
    // Box-Muller; 1 - u keeps the logarithm finite.
    double u1 = 1.0 - uniform(0.0, 1.0);
    double u2 = uniform(0.0, 1.0);
    return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

Tensor tensor_from_user_order(const Shape& shape, const float* values, DataFormat format) {
    Tensor t{shape, std::vector<float>(static_cast<size_t>(shape.elements()))};
    if (format == DataFormat::channels_last) {
        std::copy(values, values + t.data.size(), t.data.begin());
        return t;
    }
    for (int64_t n = 0; n < shape.batch; ++n)
        for (int64_t c = 0; c < shape.channels; ++c)
            for (int64_t l = 0; l < shape.length; ++l)
                t.at(n, l, c) = values[(n * shape.channels + c) * shape.length + l];
    return t;
}

std::vector<float> tensor_to_user_order(const Tensor& t, DataFormat format) {
    if (format == DataFormat::channels_last) return t.data;
    std::vector<float> out(t.data.size());
    const Shape& s = t.shape;
    for (int64_t n = 0; n < s.batch; ++n)
        for (int64_t c = 0; c < s.channels; ++c)
            for (int64_t l = 0; l < s.length; ++l) out[(n * s.channels + c) * s.length + l] = t.at(n, l, c);
    return out;
}

namespace {
// Visits the tensor in the layout's order: f(position in that order, offset in our buffer).
template <typename F>
void walk_layout(const Shape& shape, const std::string& layout, F&& f) {
    const std::vector<int64_t> dims = layout_dims(shape, layout), strides = layout_strides(shape, layout);
    std::vector<int64_t> at(dims.size(), 0);
    const int64_t total = shape.elements();
    int64_t offset = 0;
    for (int64_t i = 0; i < total; ++i) {
        f(static_cast<size_t>(i), static_cast<size_t>(offset));
        for (size_t a = dims.size(); a-- > 0;) {  // odometer: the last axis fastest
            offset += strides[a];
            if (++at[a] < dims[a]) break;
            offset -= strides[a] * dims[a];
            at[a] = 0;
        }
    }
}
}  // namespace

Tensor tensor_from_layout(const Shape& shape, const float* values, const std::string& layout) {
    Tensor t{shape, std::vector<float>(static_cast<size_t>(shape.elements()))};
    walk_layout(shape, layout, [&](size_t i, size_t o) { t.data[o] = values[i]; });
    return t;
}

std::vector<float> tensor_to_layout(const Tensor& t, const std::string& layout) {
    std::vector<float> out(t.data.size());
    walk_layout(t.shape, layout, [&](size_t i, size_t o) { out[i] = t.data[o]; });
    return out;
}

Tensor random_input(const Shape& shape, const InitSpec& init, DataFormat format) {
    std::vector<float> values(static_cast<size_t>(shape.elements()));
    Random random(init.seed);
    for (auto& v : values)
        v = static_cast<float>(init.distribution == Distribution::normal ? random.normal(init.mean, init.stddev)
                                                                         : random.uniform(init.low, init.high));
    return tensor_from_user_order(shape, values.data(), format);
}

LayerWeights default_weights(const LayerPlan& layer, uint64_t seed) {
    LayerWeights w;
    auto variables = kind_of(layer.spec.type).variables;
    if (!variables) return w;
    uint64_t layer_seed = seed ^ (0x51ed270b27a5f3c1ULL * (layer.index + 1));
    Random random(layer_seed);
    for (const Variable& v : variables(layer)) {
        std::vector<float>& values = w.vars[v.name];
        values.resize(static_cast<size_t>(v.elements()));
        switch (v.init) {
            case Variable::Init::glorot_uniform:
            case Variable::Init::orthogonal: {  // orthogonal drawn as glorot: a random start either way
                // Keras fans: receptive field size times the kernel's last two axes.
                double limit = std::sqrt(6.0 / static_cast<double>(v.fan_in + v.fan_out));
                for (auto& x : values) x = static_cast<float>(random.uniform(-limit, limit));
                break;
            }
            case Variable::Init::uniform_small:  // Keras' embeddings: uniform(-0.05, 0.05)
                for (auto& x : values) x = static_cast<float>(random.uniform(-0.05, 0.05));
                break;
            case Variable::Init::ones: std::fill(values.begin(), values.end(), 1.0f); break;
            case Variable::Init::zeros: break;
        }
    }
    return w;
}

}  // namespace c1r
