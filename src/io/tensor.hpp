// Host tensors in the tool's own layout, random inputs and Keras default weights.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "layers/layout.hpp"
#include "plan/plan.hpp"

namespace c1r {

// A tensor held as (batch, length, channels), row-major: Keras channels_last, oneDNN `nwc`.
struct Tensor {
    Shape shape;
    std::vector<float> data;

    float& at(int64_t n, int64_t l, int64_t c) { return data[(n * shape.length + l) * shape.channels + c]; }
    float at(int64_t n, int64_t l, int64_t c) const { return data[(n * shape.length + l) * shape.channels + c]; }
};

// Values in the user's data format order <-> the tool's (batch, length, channels) order.
Tensor tensor_from_user_order(const Shape& shape, const float* values, DataFormat format);
std::vector<float> tensor_to_user_order(const Tensor& tensor, DataFormat format);
// Values in a model input's or output's axis order (layers/layout.hpp) <-> ours: a plain transpose.
Tensor tensor_from_layout(const Shape& shape, const float* values, const std::string& layout);
std::vector<float> tensor_to_layout(const Tensor& tensor, const std::string& layout);

// A layer's weights by Keras variable name (kernel, bias, gamma, ...), each in Keras layout: Conv1D kernel
// (k, Cin/groups, filters), Conv1DTranspose (k, filters, Cin), Dense (in, units), recurrent kernels (I, gates*H).
struct LayerWeights {
    std::map<std::string, std::vector<float>> vars;
    // The variable's values; an empty vector when the layer has no such variable (e.g. no bias).
    const std::vector<float>& var(const std::string& name) const {
        static const std::vector<float> kNone;
        auto it = vars.find(name);
        return it == vars.end() ? kNone : it->second;
    }
    std::vector<float>& mutable_var(const std::string& name) { return vars[name]; }
};

// Deterministic generator: splitmix64-seeded xoshiro-style stream, with our own normal and uniform draws so a
// seed gives the same values with every standard library.
class Random {
public:
    explicit Random(uint64_t seed);
    uint64_t next();
    double uniform(double low, double high);  // [low, high)
    double normal(double mean, double stddev);

private:
    uint64_t state_[4];
};

// Random input as the config's init section asks, drawn in the user's data format order.
Tensor random_input(const Shape& shape, const InitSpec& init, DataFormat format);

// Every variable of the node's kind with its Keras default initializer, drawn from the seed and the node's
// index (glorot_uniform kernels, zero biases, ones for gamma and moving_variance, ...).
LayerWeights default_weights(const LayerPlan& layer, uint64_t seed);

}  // namespace c1r
