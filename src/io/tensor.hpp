// Host tensors in the tool's own layout, random inputs and Keras default weights.
#pragma once

#include <cstdint>
#include <vector>

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

// Layer weights in Keras layout: Conv1D kernel (k, Cin/groups, filters), Conv1DTranspose (k, filters, Cin).
struct LayerWeights {
    std::vector<float> kernel;
    std::vector<float> bias;  // (filters,), empty without bias
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

// glorot_uniform kernel and zero bias for a conv layer (Keras defaults); other layers get nothing.
LayerWeights default_weights(const LayerPlan& layer, uint64_t seed);

// Kernel shape in Keras layout for a conv layer.
std::vector<int64_t> keras_kernel_shape(const LayerPlan& layer);

}  // namespace c1r
